/* sv_qemu.c - the supervisor's side of QEMU: start it paused, connect its monitor and watch
 * its exit, handing its events and its end to the lifecycle policy (sv_policy.c). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/vif.h"
#include "boot/bootloader.h"
#include "cfg/cfg_root.h"
#include "lib/host_probe.h"
#include "qemu/qemu_argv.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

/* In the child: stdio, then the taps as fds 3, 4, ... (QEMU_TAP_FD), the disks' descriptors
 * right after them (sv_disks.c), and nothing else of ours leaks into the guest's process. */
static void exec_qemu(char **argv, int log_fd, const int *taps, size_t n_taps,
                      const sv_boot_disks *disks, bool jailed, const kx_cgroup *cg)
{
    if (cgroup_enter(cg) < 0) {
        dprintf(log_fd, "kxl-supervisor: cannot put QEMU in its cgroup: %s\n", strerror(errno));
        _exit(127);
    }
    /* a mount namespace of its own: what QEMU's chroot and any mount it could make touch
     * only its own view, and the host's mounts do not propagate into it */
    if (jailed && (unshare(CLONE_NEWNS) < 0 ||
                   mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)) {
        dprintf(log_fd, "kxl-supervisor: cannot give QEMU a mount namespace of its own: %s\n",
                strerror(errno));
        _exit(127);
    }
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    size_t n = n_taps + disks->n_fds;
    int high[64 + 192];
    /* first out of the way of 3 .. 3 + n (at most 259), below the usual limit of 1024 */
    for (size_t i = 0; i < n && i < KX_ARRAY_SIZE(high); i++)
        high[i] = fcntl(i < n_taps ? taps[i] : disks->fds[i - n_taps], F_DUPFD, 300);
    for (size_t i = 0; i < n && i < KX_ARRAY_SIZE(high); i++)
        dup2(high[i], QEMU_TAP_FD((int)i));
    for (int fd = QEMU_TAP_FD((int)n); fd < 1024; fd++)
        close(fd);
    execv(argv[0], argv);
    dprintf(2, "kxl-supervisor: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Opens and connects every vif's tap; on failure closes them (so they are
 * gone) and reports why. */
static int open_taps(sv *s, int *taps, size_t *n_r)
{
    if (s->cfg->n_vifs > 64) {
        kx_err(KXL_ERR_CONFIG, "domain '%s' has more than 64 vifs", s->name);
        return -1;
    }
    *n_r = 0;
    for (size_t i = 0; i < s->cfg->n_vifs; i++) {
        if (s->cfg->vifs[i].unplugged)
            continue;
        taps[*n_r] = vif_setup(&s->paths, s->cfg, i);
        if (taps[*n_r] < 0) {
            for (size_t k = 0; k < *n_r; k++)
                close(taps[k]);
            vif_ovs_disconnect_all(s->cfg);   /* the ones before; --if-exists for the rest */
            return -1;
        }
        (*n_r)++;
    }
    return 0;
}

/* pygrub's job, at every start so that a kernel update inside the guest
 * takes effect: the default entry of the first disk's grub.cfg (or its newest
 * kernel) is copied into the runtime directory and booted directly, its
 * command line followed by the config's own (extra=). */
static int run_bootloader(sv *s, uid_t uid)
{
    kxl_domcfg *cfg = s->cfg;
    const kxl_disk *disk = NULL;
    for (size_t i = 0; i < cfg->n_disks && !disk; i++)
        if (!cfg->disks[i].cdrom && cfg->disks[i].target && !cfg->disks[i].unplugged)
            disk = &cfg->disks[i];
    if (!disk) {
        kx_err(KXL_ERR_CONFIG, "domain '%s': pygrub has no disk to read", s->name);
        return -1;
    }
    /* xl's kernel = and ramdisk = with a bootloader: those files of the guest's, no menu */
    kx_bootentry e = {
        .kernel = cfg->bootloader_kernel ? kx_strdup(cfg->bootloader_kernel) : NULL,
        .initrd = cfg->bootloader_ramdisk ? kx_strdup(cfg->bootloader_ramdisk) : NULL};
    if (!uid)
        sv_event(s, "pygrub reads the disk as root");
    if (bootloader_extract_as(uid, uid, disk->target, kxl_disk_format_to_string(disk->format), s->dir,
                              &e) < 0) {
        kx_bootentry_dispose(&e);
        return -1;
    }
    sv_event(s, "pygrub: booting '%s' (%s) from '%s'", e.title ? e.title : "?", e.kernel,
             disk->target);
    free(cfg->kernel);
    free(cfg->ramdisk);
    free(cfg->cmdline);
    cfg->kernel = kx_path_join(s->dir, "vmlinuz");
    cfg->ramdisk = e.initrd ? kx_path_join(s->dir, "initrd.img") : NULL;
    cfg->cmdline = s->extra ? kx_asprintf("%s %s", e.cmdline ? e.cmdline : "", s->extra)
                            : kx_strdup(e.cmdline ? e.cmdline : "");
    kx_bootentry_dispose(&e);
    return 0;
}

/* A pv or pvh domain boots as Xen boots a PVH guest: QEMU loads the kernel's ELF at its PVH
 * entry point, so the guest does not decompress its own kernel at every boot (boot/pvh.h).
 * Returns the ELF to load, or NULL to boot the kernel as it is (said in the event log). */
static char *pvh_kernel(sv *s)
{
    char *elf = NULL;
    AUTOFREE char *why = NULL;
    int rc = host_pvh_kernel(&s->paths, s->cfg, &elf, &why);
    if (rc == 1)
        sv_event(s, "pvh: booting '%s' at its PVH entry point (%s)", s->cfg->kernel, elf);
    else if (rc < 0 || why)
        sv_event(s, "pvh: booting '%s' as it is: %s", s->cfg->kernel,
                 rc == 0 ? why : kx_err_msg());
    return elf;
}

/* QEMU's own cgroup, made at its first start and kept across restarts. A host that has
 * none to give (no cgroup file system, or no right to it, in a container) runs QEMU in the
 * supervisor's, and the event log says why. */
static void make_cgroup(sv *s)
{
    if (s->cgroup.dirs.n)
        return;
    cgroup_locate(s->name, &s->cgroup);
    if (s->cgroup.version == KX_CGROUP_NONE) {
        sv_event(s, "QEMU shares its supervisor's cgroup: the host has no cgroup file system");
    } else if (cgroup_create(&s->cgroup) < 0 || cgroup_save(&s->cgroup, s->dir) < 0) {
        sv_event(s, "QEMU shares its supervisor's cgroup: %s", kx_err_msg());
        cgroup_remove(&s->cgroup, 0);   /* what was made of them; nothing is in them yet */
        kx_err_clear();
        cgroup_dispose(&s->cgroup);
    } else if (cgroup_set_cpu(&s->cgroup, s->cfg->cpu_weight, s->cfg->cap) < 0 &&
               (s->cfg->cpu_weight != KXL_CPU_WEIGHT_DEFAULT || s->cfg->cap)) {
        /* only a weight or cap that was asked for is worth a word */
        sv_event(s, "cpu_weight and cap are not applied: %s", kx_err_msg());
    }
}

/* A partition-style root disk (xen-tools' xvda2): the guest's udev learns the Xen names its
 * own files use (boot_xennames.c). Not fatal: without the rule the guest still boots, and
 * only what its fstab names by those names is missing. */
static void teach_xen_names(sv *s, uid_t uid)
{
    int i = cfg_root_partition_disk(s->cfg);
    if (i < 0 || s->restore)
        return;
    const kxl_disk *d = &s->cfg->disks[i];
    int r = d->format == KXL_DISK_FMT_RAW && !d->readonly
                ? bootloader_xen_names_as(uid, uid, d->target)
                : (kx_err(KXL_ERR_INVALID, "only a writable raw image can be written"), -1);
    if (r > 0)
        sv_event(s, "wrote %s into root disk '%s' (%s): the guest's udev links the Xen names "
                 "of its disks (/dev/%s) to them", BOOTLOADER_XEN_NAMES_PATH, d->target,
                 d->vdev, d->vdev);
    else if (r < 0)
        sv_event(s, "the guest's disks keep their KVM names only (no %s): %s",
                 BOOTLOADER_XEN_NAMES_PATH, kx_err_msg());
    kx_err_clear();
}

/* Starts QEMU with what the host gives it (facts). */
static int start_qemu(sv *s, const kxl_host_facts *facts)
{
    if (!facts->qemu_user)
        sv_event(s, "QEMU runs as root: %s", facts->why_root);
    /* the bootloader reads the guest's disk as the uid its QEMU becomes (the domain's own) */
    if (s->cfg->bootloader &&
        run_bootloader(s, facts->qemu_user ? kxl_qemu_jail_uid(s->st.domid) : 0) < 0)
        return -1;
    teach_xen_names(s, facts->qemu_user ? kxl_qemu_jail_uid(s->st.domid) : 0);
    sv_console_choose(s);
    AUTOFREE char *elf = pvh_kernel(s);
    kx_host host;
    host_facts_to_qemu(facts, s->dir, &host);
    AUTOFREE char *jail = host_jail_root(&s->paths, true);
    if (!jail)
        return -1;
    make_cgroup(s);
    host_jail_qemu(&host, s->st.domid, jail);
    AUTOFREE char *ovmf_code = NULL;
    AUTOFREE char *ovmf_vars = NULL;
    if (host_ovmf(&s->paths, s->cfg, true, &ovmf_code, &ovmf_vars) < 0)
        return -1;
    host.ovmf_code = ovmf_code;
    host.ovmf_vars = ovmf_vars;
    host.pvh_kernel = elf;
    host.machine = s->machine;
    host.incoming = s->restore != NULL;
    size_t n_vifs = 0;
    for (size_t i = 0; i < s->cfg->n_vifs; i++)
        n_vifs += !s->cfg->vifs[i].unplugged;
    AUTOFREE char *tpm_socket = NULL;
    if (sv_tpm_start(s, facts->qemu_user ? kxl_qemu_jail_uid(s->st.domid) : 0, &tpm_socket) < 0)
        return -1;
    host.tpm_socket = tpm_socket;
    sv_boot_disks disks;
    if (sv_boot_disks_open(s->cfg, QEMU_TAP_FD((int)n_vifs), &disks) < 0) {
        sv_tpm_stop(s);
        return -1;
    }
    host.disk_sources = disks.sources;
    host.add_fds = &disks.add_fds;
    kx_strv argv = KX_STRV_INIT;
    if (qemu_build_argv(s->cfg, &host, &argv) < 0) {
        kx_strv_dispose(&argv);
        sv_boot_disks_dispose(&disks);
        sv_tpm_stop(s);
        return -1;
    }
    AUTOFREE char *log = kx_asprintf("%s/%s.qemu.log", s->paths.log_dir, s->name);
    AUTOCLOSE int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    int taps[64];
    size_t n_taps = 0;
    if (log_fd < 0 || open_taps(s, taps, &n_taps) < 0) {
        if (log_fd < 0)
            kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s'", log);
        kx_strv_dispose(&argv);
        sv_boot_disks_dispose(&disks);
        sv_tpm_stop(s);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0)
        exec_qemu(argv.v, log_fd, taps, n_taps, &disks, host.jail_root != NULL, &s->cgroup);
    kx_strv_dispose(&argv);
    sv_boot_disks_dispose(&disks);   /* QEMU has its own copies */
    /* QEMU holds the taps now: they vanish with it, on every path */
    for (size_t i = 0; i < n_taps; i++)
        close(taps[i]);
    if (pid < 0) {
        sv_tpm_stop(s);
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork");
        return -1;
    }
    s->qemu_pid = pid;
    s->qemu_pidfd = kx_pidfd_open(pid);
    s->adopted = false;
    s->st.qemu_pid = pid;
    s->st.qemu_start = kx_pid_starttime(pid);
    sv_event(s, "QEMU started, pid %d", (int)pid);
    return status_write(s->dir, &s->st);
}

int sv_qemu_start(sv *s)
{
    sv_vcpus_fresh_qemu(s);
    kxl_host_facts facts;
    if (kxl_host_probe(s->accel, &facts) < 0)
        return -1;
    int r = start_qemu(s, &facts);
    kxl_host_facts_dispose(&facts);
    return r;
}

char *sv_qemu_version(sv *s)
{
    AUTOPTR(json_object) v = NULL;
    if (qmp_execute(s->qmp, "query-version", NULL, &v, 5000) < 0)
        return NULL;
    json_object *q = NULL;
    json_object_object_get_ex(v, "qemu", &q);
    return kx_asprintf("%lld.%lld.%lld", (long long)kx_json_int(q, "major", 0),
                       (long long)kx_json_int(q, "minor", 0),
                       (long long)kx_json_int(q, "micro", 0));
}

char *sv_qemu_words(sv *s, int lines)
{
    AUTOFREE char *log = kx_asprintf("%s/%s.qemu.log", s->paths.log_dir, s->name);
    AUTOFREE char *text = kx_read_file(log, NULL);
    if (!text || !*text)
        return kx_strdup("no message");
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n')
        text[--n] = '\0';
    char *first = text + n;
    for (int i = 0; i < lines && first > text; i++) {
        do
            first--;
        while (first > text && first[-1] != '\n');
    }
    /* without QEMU's "2026-...: qemu-system-x86_64: " prefix on each line */
    kx_buf b = KX_BUF_INIT;
    for (char *line = strtok(first, "\n"); line; line = strtok(NULL, "\n")) {
        char *msg = strstr(line, "qemu-system-x86_64: ");
        kx_buf_printf(&b, "%s%s", b.len ? "; " : "",
                      msg ? msg + strlen("qemu-system-x86_64: ") : line);
    }
    return kx_buf_steal(&b);
}

/* Forgets the QEMU that is gone: its monitor connection and pidfd. */
static void qemu_forget(sv *s)
{
    sv_stats_flush(s);
    sv_tpm_stop(s);   /* it served this QEMU only */
    vif_ovs_disconnect_all(s->cfg);   /* the taps went with QEMU; OVS keeps their ports */
    s->balloon_bytes = 0;
    if (s->qmp) {
        kx_loop_del(s->loop, qmp_fd(s->qmp));
        qmp_close(s->qmp);
        s->qmp = NULL;
    }
    if (s->qemu_pidfd >= 0) {
        kx_loop_del(s->loop, s->qemu_pidfd);
        close(s->qemu_pidfd);
        s->qemu_pidfd = -1;
    }
    s->st.n_vcpu_tids = 0;
    s->qemu_pid = 0;
    s->st.qemu_pid = 0;
    s->st.qemu_start = 0;
}

/* The affinity cpus (else cpus_soft) gives vCPU idx, or NULL: it runs anywhere. */
static const kxl_cpuset *vcpu_affinity(const kxl_domcfg *cfg, size_t idx)
{
    const kxl_cpuset *sets = cfg->n_cpus ? cfg->cpus : cfg->cpus_soft;
    size_t n = cfg->n_cpus ? cfg->n_cpus : cfg->n_cpus_soft;
    if (n == 0 || (n > 1 && idx >= n))
        return NULL;
    return &sets[n == 1 ? 0 : idx];
}

/* The vCPU threads go into the status file (list reads just them) and are
 * pinned as cpus= (or cpus_soft=) asks. Again after a vCPU hot-plug: the new thread too. */
void sv_vcpus_record_and_pin(sv *s)
{
    AUTOPTR(json_object) cpus = NULL;
    if (qmp_execute(s->qmp, "query-cpus-fast", NULL, &cpus, 5000) < 0) {
        sv_event(s, "cannot query the vCPUs: %s", kx_err_msg());
        return;
    }
    s->st.n_vcpu_tids = 0;
    for (size_t i = 0; i < json_object_array_length(cpus) && i < KX_STATUS_MAX_VCPUS; i++)
        s->st.vcpu_tids[s->st.n_vcpu_tids++] =
            (pid_t)kx_json_int(json_object_array_get_idx(cpus, i), "thread-id", 0);
    status_write(s->dir, &s->st);
    for (size_t i = 0; i < json_object_array_length(cpus); i++) {
        json_object *c = json_object_array_get_idx(cpus, i);
        size_t idx = (size_t)kx_json_int(c, "cpu-index", 0);
        const kxl_cpuset *set = vcpu_affinity(s->cfg, idx);
        if (!set)
            continue;
        cpu_set_t mask;
        CPU_ZERO(&mask);
        for (unsigned cpu = 0; cpu < CPU_SETSIZE && cpu < KXL_MAX_HOST_CPUS; cpu++)
            if (kxl_cpuset_test(set, cpu))
                CPU_SET(cpu, &mask);
        pid_t tid = (pid_t)kx_json_int(c, "thread-id", 0);
        if (sched_setaffinity(tid, sizeof(mask), &mask) < 0)
            sv_event(s, "cannot pin vCPU %zu: %s", idx, strerror(errno));
    }
}

static void on_qemu_exit(int fd, uint32_t events, void *opaque)
{
    (void)fd;
    (void)events;
    sv *s = opaque;
    int status = 0;
    if (!s->adopted)
        while (waitpid(s->qemu_pid, &status, 0) < 0 && errno == EINTR)
            ;
    qemu_forget(s);
    AUTOFREE char *how = NULL;
    if (!s->adopted)
        how = kx_asprintf("%s %d", WIFSIGNALED(status) ? "signal" : "exit status",
                          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    sv_qemu_exited(s, how);
}

/* A fresh QEMU for the same domain, once the old one is gone (restarting). */
int sv_qemu_start_again(sv *s)
{
    s->adopted = false;
    if (sv_qemu_start(s) < 0 || sv_qemu_attach(s, true) < 0 || sv_console_reconnect(s) < 0)
        return -1;
    sv_qemu_configure(s);
    return qmp_execute(s->qmp, "cont", NULL, NULL, 10000);
}

static void on_qmp_event(const char *event, json_object *data, void *opaque)
{
    sv_qmp_event(opaque, event, data);
}

static void on_qmp_readable(int fd, uint32_t events, void *opaque)
{
    (void)fd;
    (void)events;
    sv *s = opaque;
    if (qmp_dispatch(s->qmp) < 0) {
        sv_event(s, "monitor connection lost: %s", kx_err_msg());
        kx_loop_del(s->loop, qmp_fd(s->qmp));
    }
}

int sv_qemu_attach(sv *s, bool report_start)
{
    AUTOFREE char *sock = kx_path_join(s->dir, "qmp.sock");
    for (int i = 0; i < 1000 && !kx_path_exists(sock) && kx_pid_alive(s->qemu_pid); i++)
        usleep(5000);
    s->qmp = kx_path_exists(sock) ? qmp_connect(sock, 2000) : NULL;
    if (!s->qmp && report_start) {
        AUTOFREE char *why = sv_qemu_words(s, 1);
        kx_err(KXL_ERR_QEMU, "QEMU failed to start domain '%s': %s", s->name, why);
    }
    if (!s->qmp)
        return -1;
    qmp_set_event_handler(s->qmp, on_qmp_event, s);
    if (kx_loop_add(s->loop, qmp_fd(s->qmp), EPOLLIN, on_qmp_readable, s) < 0 ||
        kx_loop_add(s->loop, s->qemu_pidfd, EPOLLIN, on_qemu_exit, s) < 0)
        return -1;
    return 0;
}

void sv_qemu_configure(sv *s)
{
    sv_vcpus_record_and_pin(s);
    sv_display_configure(s);
    if (s->cfg->maxmem_mib > s->cfg->memory_mib) {
        json_object *args = json_object_new_object();
        json_object_object_add(args, "value",
                               json_object_new_int64((int64_t)(s->cfg->memory_mib << 20)));
        if (qmp_execute(s->qmp, "balloon", args, NULL, 5000) < 0)
            sv_event(s, "cannot set the balloon target: %s", kx_err_msg());
    }
}
