/* sv_main.c - kxl-supervisor: started by `kxl create` for one domain, it
 * starts QEMU paused, wires up the console and control sockets, lets the
 * guest run, reports "OK" or "ERR message" on the notify fd, and then serves
 * until the domain ends, removing its runtime directory as its last act.
 *
 * usage: kxl-supervisor --root ROOT --notify-fd FD NAME */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "lib/network.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/sock.h"
#include "util/spawn.h"

void sv_event(sv *s, const char *fmt, ...)
{
    if (!s->event_log)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(s->event_log, "%s.%03ld %s: ", stamp, ts.tv_nsec / 1000000, s->name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->event_log, fmt, ap);
    va_end(ap);
    fputc('\n', s->event_log);
    fflush(s->event_log);
}

/* Library log lines (debug QMP traffic when KXL_DEBUG is set) go to the event log. */
static void log_sink(kx_loglevel level, const char *msg, void *opaque)
{
    (void)level;
    sv_event(opaque, "%s", msg);
}

json_object *sv_obj2(const char *k1, const char *v1, const char *k2, const char *v2)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, k1, json_object_new_string(v1));
    if (k2)
        json_object_object_add(o, k2, json_object_new_string(v2));
    return o;
}

void sv_status_devices(sv *s)
{
    s->st.devices_known = true;
    s->st.n_disks = s->st.n_vifs = 0;
    for (size_t i = 0; i < s->cfg->n_disks; i++)
        s->st.n_disks += !s->cfg->disks[i].unplugged;
    for (size_t i = 0; i < s->cfg->n_vifs; i++)
        s->st.n_vifs += !s->cfg->vifs[i].unplugged;
    s->st.balloon = kxl_domcfg_has_balloon(s->cfg);
}

int sv_save_config_list(sv *s, const char *key)
{
    const char *keys[] = {key, NULL};
    return sv_save_config_keys(s, keys);
}

int sv_save_config_keys(sv *s, const char *const *keys)
{
    /* a hot-plug changes what top asks the supervisor about */
    sv_status_devices(s);
    if (status_write(s->dir, &s->st) < 0)
        sv_event(s, "cannot update the status file: %s", kx_err_msg());
    AUTOFREE char *path = kx_path_join(s->dir, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    if (!o)
        return -1;
    AUTOPTR(json_object) fresh = cfg_domcfg_to_json(s->cfg);
    for (const char *const *k = keys; *k; k++) {
        json_object *v;
        if (json_object_object_get_ex(fresh, *k, &v))
            json_object_object_add(o, *k, json_object_get(v));
        else
            json_object_object_del(o, *k);     /* a member shown only when set */
    }
    const char *out = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
    return kx_write_file_atomic(path, out, strlen(out), 0600);
}

int sv_listen(sv *s, const char *name)
{
    AUTOFREE char *path = kx_path_join(s->dir, name);
    int fd = kx_unix_listen(path, 16);
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);   /* the event loop's */
    return fd;
}

static int load_domain(sv *s)
{
    AUTOFREE char *path = kx_path_join(s->dir, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    if (!o)
        return -1;
    s->cfg = cfg_domcfg_from_json(o);
    if (!s->cfg)
        return -1;
    s->start_paused = kx_json_bool(o, "start_paused", false);
    const char *machine = kx_json_str(o, "machine", NULL);
    s->machine = machine ? kx_strdup(machine) : NULL;
    json_object *restore = NULL;
    if (json_object_object_get_ex(o, "restore", &restore))
        s->restore = json_object_get(restore);
    s->incoming = kx_json_bool(restore, "incoming", false);
    if (s->incoming)
        sv_incoming_note_made(s, restore);
    if (s->cfg->bootloader && s->cfg->cmdline)
        s->extra = kx_strdup(s->cfg->cmdline);
    s->accel = kx_streq(kx_json_str(o, "accel_resolved", "tcg"), "kvm") ? KXL_ACCEL_KVM
                                                                       : KXL_ACCEL_TCG;
    s->st.domid = (unsigned)kx_json_int(o, "domid", 0);
    memcpy(s->st.uuid, s->cfg->uuid, sizeof(s->st.uuid));
    s->st.memory_mib = s->cfg->memory_mib;
    s->st.vcpus = s->cfg->vcpus;
    sv_status_devices(s);
    s->st.sv_pid = getpid();
    s->st.sv_start = kx_pid_starttime(s->st.sv_pid);
    s->st.started = (double)time(NULL);
    return 0;
}

static void on_signal(int fd, uint32_t events, void *opaque)
{
    (void)events;
    sv *s = opaque;
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof(si)) != sizeof(si))
        return;
    /* TERM/INT: the domain is destroyed; the guest does not outlive an
     * orderly stop of its supervisor unless it is killed outright */
    sv_destroy(s, si.ssi_signo == SIGTERM ? "supervisor got SIGTERM" : "supervisor got SIGINT");
}

static int watch_signals(sv *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a signalfd");
        return -1;
    }
    return kx_loop_add(s->loop, fd, EPOLLIN, on_signal, s);
}

/* Everything up to the guest running; on failure the caller undoes it all. */
static int start_domain(sv *s)
{
    if (load_domain(s) < 0 || status_write(s->dir, &s->st) < 0)
        return -1;
    if (watch_signals(s) < 0 || sv_qemu_start(s) < 0 || sv_qemu_attach(s, true) < 0)
        return -1;
    if (s->restore) {
        if (sv_restore(s) < 0)
            return -1;
        /* loaded: a later fresh QEMU (a reboot) boots */
        json_object_put(s->restore);
        s->restore = NULL;
    }
    if (!s->incoming)
        sv_qemu_configure(s);
    if (sv_console_init(s, true) < 0 || sv_control_init(s) < 0)
        return -1;
    /* An incoming migration's guest is here: its receiver hears it now, and the sender's go
     * crosses the network while the rest is done (vCPU pinning, the status file written and
     * synced: 10 ms and more on a busy host, while the guest runs nowhere); the go's
     * incoming-commit waits in the control socket's backlog until the loop serves it. */
    if (s->incoming) {
        sv_incoming_started(s);
        sv_qemu_configure(s);
    }
    if (!s->start_paused && qmp_execute(s->qmp, "cont", NULL, NULL, 10000) < 0)
        return -1;
    sv_transition(s, s->start_paused ? SV_LC_RUN_PAUSED : SV_LC_RUN);
    json_object *data = json_object_new_object();
    json_object_object_add(data, "paused", json_object_new_boolean(s->start_paused));
    json_object_object_add(data, "domid", json_object_new_int64(s->st.domid));
    sv_notify(s, "started", data, true);
    sv_event(s, "domain %u running", s->st.domid);
    return 0;
}

/* The state QEMU reports, for a supervisor that takes over a running QEMU. A guest that
 * crashed or shut down while no supervisor watched left QEMU stopped (-action ...=pause) and
 * its event unheard: the action it calls for is applied now. QEMU keeps no record of whether
 * a shut-down guest powered off or rebooted (both stop it as "shutdown"), so on_poweroff
 * applies, and the event log says so. Without an answer from QEMU, the recorded state holds. */
static void sync_state(sv *s, kxl_state recorded)
{
    AUTOPTR(json_object) st = NULL;
    const char *status = recorded == KXL_STATE_RUNNING ? "running" : "";
    if (qmp_execute(s->qmp, "query-status", NULL, &st, 5000) < 0)
        sv_event(s, "adopting: cannot ask QEMU for its state: %s", kx_err_msg());
    else
        status = kx_json_str(st, "status", "");
    bool was_live = recorded == KXL_STATE_RUNNING || recorded == KXL_STATE_PAUSED;
    if (strcmp(status, "running") == 0) {
        sv_transition(s, SV_LC_RUN);
    } else if (strcmp(status, "guest-panicked") == 0) {
        sv_transition(s, SV_LC_CRASH);
        if (recorded != KXL_STATE_CRASHED)
            sv_apply_action(s, s->cfg->on_crash, "the guest crashed while no supervisor watched");
    } else if (strcmp(status, "shutdown") == 0 && was_live) {
        sv_apply_action(s, s->cfg->on_poweroff,
                        "the guest shut down (powered off or rebooted: QEMU does not say which) "
                        "while no supervisor watched");
    } else if (recorded == KXL_STATE_SHUTDOWN || recorded == KXL_STATE_CRASHED) {
        /* preserved: QEMU only knows it is stopped */
        sv_transition(s, recorded == KXL_STATE_SHUTDOWN ? SV_LC_PRESERVE : SV_LC_CRASH);
    } else {
        sv_transition(s, SV_LC_RUN_PAUSED);
    }
}

/* Takes over the domain of a supervisor that died (kill -9): QEMU keeps
 * running; this process connects to its monitor and console sockets. If QEMU
 * died too, on_crash applies. Returns 0, or -1 without touching QEMU. */
static int adopt_domain(sv *s)
{
    kx_status old;
    if (status_read(s->dir, &old) < 0 || load_domain(s) < 0)
        return -1;
    json_object_put(s->restore);   /* its QEMU loaded it long ago */
    s->restore = NULL;
    /* only the supervisor that received the domain can get its go (the lifeline is its
     * own): the disks an adopted one finds are the domain's, never removed at its end */
    kx_strv_dispose(&s->incoming_made);
    s->st.domid = old.domid;
    s->st.started = old.started;
    s->st.state = old.state;
    memcpy(s->st.vcpu_tids, old.vcpu_tids, sizeof(old.vcpu_tids));
    s->st.n_vcpu_tids = old.n_vcpu_tids;
    s->adopted = true;
    if (cgroup_load(s->dir, &s->cgroup) < 0)
        kx_err_clear();        /* a domain from before cgroups, or on a host without them */
    if (watch_signals(s) < 0 || sv_control_init(s) < 0)
        return -1;
    if (!status_qemu_alive(&old)) {
        sv_event(s, "adopting: QEMU (pid %d) is gone", (int)old.qemu_pid);
        status_write(s->dir, &s->st);
        sv_qemu_died(s);
        return 0;
    }
    s->qemu_pid = old.qemu_pid;
    s->st.qemu_pid = old.qemu_pid;
    s->st.qemu_start = old.qemu_start;
    s->qemu_pidfd = kx_pidfd_open(old.qemu_pid);
    sv_console_recall(s);
    if (s->qemu_pidfd < 0 || status_write(s->dir, &s->st) < 0 || sv_qemu_attach(s, false) < 0 ||
        sv_console_init(s, false) < 0)
        return -1;
    sv_save_recover(s, old.state == KXL_STATE_RUNNING);
    sync_state(s, old.state);
    json_object *data = json_object_new_object();
    json_object_object_add(data, "state", json_object_new_string(sv_lc_state_name(s->lc)));
    sv_notify(s, "adopted", data, true);
    sv_event(s, "adopted QEMU pid %d", (int)s->qemu_pid);
    return 0;
}

/* How long an adopted QEMU may take to finish exiting after SIGKILL (a large guest's memory
 * torn down on a busy host), as destroy without a supervisor waits (destroy.c). */
#define SV_QEMU_EXIT_MS 10000

/* Kills the QEMU that is still there and waits until its exit is complete, every thread
 * gone, which is when it has left its cgroup: waitpid for our own child, its pidfd for an
 * adopted one (another process reaps it). A QEMU whose leader is already a zombie while its
 * other threads still exit is waited for too. */
static void end_qemu(sv *s)
{
    if (s->qemu_pid <= 0)
        return;
    /* through the pidfd: an adopted QEMU's pid may be another process's once it is reaped */
    if (s->qemu_pidfd >= 0)
        kx_pidfd_signal(s->qemu_pidfd, SIGKILL);
    else
        kill(s->qemu_pid, SIGKILL);
    if (!s->adopted) {
        while (waitpid(s->qemu_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    } else if (s->qemu_pidfd >= 0 && !kx_pidfd_wait(s->qemu_pidfd, SV_QEMU_EXIT_MS)) {
        sv_event(s, "QEMU (pid %d) has not finished exiting %d s after SIGKILL",
                 (int)s->qemu_pid, SV_QEMU_EXIT_MS / 1000);
    }
}

static void teardown(sv *s)
{
    end_qemu(s);
    sv_console_dispose(s);
    sv_stats_flush(s);   /* their replies would never come */
    qmp_close(s->qmp);
    s->qmp = NULL;
    /* QEMU took the taps with it: forwarding goes back if no other vif or network needs it,
     * before the directory goes, which is what `kxl destroy` waits for. The saved config says
     * first that the vifs are gone, so that a domain ending at the same time does not count
     * them either. */
    bool had_vifs = false;
    for (size_t i = 0; s->cfg && i < s->cfg->n_vifs; i++) {
        had_vifs |= !s->cfg->vifs[i].unplugged;
        s->cfg->vifs[i].unplugged = true;
    }
    if (had_vifs)
        sv_save_config_list(s, "vifs");
    network_forwarding_release(&s->paths, s->name);
    sv_incoming_unmake(s);   /* before the directory, which the receiving command waits for */
    /* QEMU's exit is complete (end_qemu, or its pidfd), so its groups are empty: they go
     * before the directory, so that whoever sees the domain gone (`kxl destroy`, a create of
     * the same name) sees its groups gone too. A group another process is in (the same name
     * under another KXL_ROOT) stays, for that domain to remove, and is not waited for: the
     * "destroyed" event has gone out, and a client that reads the list on it must not find
     * the directory still there (a wait here kept it 250 ms, and the web UI's card stayed) */
    if (cgroup_remove(&s->cgroup, 0) < 0)
        sv_event(s, "%s", kx_err_msg());
    kx_err_clear();
    kx_rm_dir_flat(s->dir);
    sv_event(s, "domain %u gone", s->st.domid);
}

/* Frees what the supervisor owns; the process is about to exit, but a clean
 * exit keeps LeakSanitizer's reports about real leaks. */
static void sv_dispose(sv *s)
{
    sv_job_abort(s, "its supervisor ends");
    sv_watch_dispose(s);
    sv_stats_flush(s);
    sv_control_dispose(s);
    if (s->kill_timer_fd >= 0)
        close(s->kill_timer_fd);
    if (s->lifeline_fd >= 0)
        close(s->lifeline_fd);
    kx_loop_free(s->loop);
    if (s->qemu_pidfd >= 0)
        close(s->qemu_pidfd);
    kxl_domcfg_free(s->cfg);
    cgroup_dispose(&s->cgroup);
    free(s->dir);
    free(s->name);
    free(s->extra);
    free(s->machine);
    json_object_put(s->restore);
    kx_strv_dispose(&s->incoming_made);
    if (s->event_log)
        fclose(s->event_log);
    kxl_paths_dispose(&s->paths);
}

static int parse_args(int argc, char **argv, char **root_r, int *notify_r, char **name_r,
                      bool *adopt_r)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"notify-fd", required_argument, NULL, 'n'},
        {"create", no_argument, NULL, 'c'},
        {"adopt", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'r')
            *root_r = optarg;
        else if (c == 'n')
            *notify_r = atoi(optarg);
        else if (c == 'a' || c == 'c')
            *adopt_r = c == 'a';
        else
            return -1;
    }
    if (optind != argc - 1 || !kxl_name_is_valid(argv[optind]))
        return -1;
    *name_r = argv[optind];
    return 0;
}

static void notify(int fd, const char *msg)
{
    if (fd >= 0) {
        dprintf(fd, "%s\n", msg);
        close(fd);
    }
}

int main(int argc, char **argv)
{
    char *root = NULL, *name = NULL;
    int notify_fd = -1;
    bool adopt = false;
    if (parse_args(argc, argv, &root, &notify_fd, &name, &adopt) < 0) {
        fprintf(stderr, "usage: kxl-supervisor --root ROOT --notify-fd FD --create|--adopt NAME\n");
        return 2;
    }
    umask(077);
    sv s = {.name = kx_strdup(name), .qemu_pidfd = -1, .control_listen_fd = -1, .serial_fd = -1,
            .console_listen_fd = -1, .kill_timer_fd = -1, .lifeline_fd = -1};
    for (int i = 0; i < SV_MAX_CLIENTS; i++)
        s.console_fds[i] = -1;
    if (kxl_paths_init(&s.paths, root) < 0) {
        notify(notify_fd, kx_err_msg());
        return 1;
    }
    s.dir = kxl_domain_dir(&s.paths, name);
    char *log = kx_asprintf("%s/%s.log", s.paths.log_dir, name);
    s.event_log = fopen(log, "ae");
    free(log);
    kx_log_set_sink(log_sink, &s);
    if (getenv("KXL_DEBUG"))
        kx_log_set_level(KX_LOG_DEBUG);
    kx_become_subreaper();
    s.loop = kx_loop_new();
    if (s.loop && adopt && adopt_domain(&s) < 0) {
        /* the guest keeps running: a later command tries again */
        AUTOFREE char *msg = kx_asprintf("ERR cannot adopt '%s': %s", name, kx_err_msg());
        sv_event(&s, "%s", msg + 4);
        sv_control_dispose(&s);
        sv_console_dispose(&s);
        qmp_close(s.qmp);
        notify(notify_fd, msg);
        kx_log_set_sink(NULL, NULL);
        sv_dispose(&s);
        return 1;
    }
    if (!adopt)
        s.lifeline_fd = notify_fd;
    if (!s.loop || (!adopt && start_domain(&s) < 0)) {
        AUTOFREE char *msg = kx_asprintf("ERR %s", kx_err_msg());
        sv_event(&s, "start failed: %s", kx_err_msg());
        sv_transition(&s, SV_LC_END);
        teardown(&s);
        s.lifeline_fd = -1;   /* notify closes it */
        notify(notify_fd, msg);
        kx_log_set_sink(NULL, NULL);
        sv_dispose(&s);
        return 1;
    }
    /* from here on, nothing goes to the creating command's terminal */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(null, 2);
    if (adopt)
        notify(notify_fd, "OK");
    else if (!s.incoming)   /* an incoming one heard it in start_domain */
        sv_incoming_started(&s);
    kx_loop_run(s.loop);
    teardown(&s);
    kx_log_set_sink(NULL, NULL);
    sv_dispose(&s);
    return 0;
}
