/* create.c - starting a domain: reserve its name and id, write its resolved
 * config into the runtime directory, start its supervisor and wait for its
 * word that the guest runs. Nothing is left behind when any step fails. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "kxl/kxl.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

static int generate_uuid(kxl_domcfg *cfg)
{
    if (cfg->uuid[0])
        return 0;
    AUTOFREE char *u = kx_read_file("/proc/sys/kernel/random/uuid", NULL);
    if (!u || strlen(u) < 36)
        return -1;
    memcpy(cfg->uuid, u, 36);
    cfg->uuid[36] = '\0';
    return 0;
}

static int write_domain_json(const kxl_paths *p, const kxl_domcfg *cfg, unsigned domid,
                             bool paused, kxl_accel accel)
{
    AUTOPTR(json_object) o = cfg_domcfg_to_json(cfg);
    json_object_object_add(o, "domid", json_object_new_int64(domid));
    json_object_object_add(o, "accel_resolved", json_object_new_string(kxl_accel_to_string(accel)));
    json_object_object_add(o, "start_paused", json_object_new_boolean(paused));
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
    AUTOFREE char *path = kxl_domain_file(p, cfg->name, "domain.json");
    return kx_write_file_atomic(path, text, strlen(text), 0600);
}

/* kxl-supervisor: explicit option, $KXL_SUPERVISOR, next to this program, or libexec. */
static char *supervisor_path(const kxl_create_opts *o)
{
    if (o && o->supervisor)
        return kx_strdup(o->supervisor);
    const char *env = getenv("KXL_SUPERVISOR");
    if (env && *env)
        return kx_strdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        *slash = '\0';
        const char *tries[] = {"kxl-supervisor", "../supervisor/kxl-supervisor",
                               "../libexec/kxl/kxl-supervisor"};
        for (size_t i = 0; i < KX_ARRAY_SIZE(tries); i++) {
            char *path = kx_path_join(exe, tries[i]);
            if (access(path, X_OK) == 0)
                return path;
            free(path);
        }
    }
    return kx_strdup("/usr/libexec/kxl/kxl-supervisor");
}

/* Double fork: the supervisor must outlive this command, in its own session. */
static int spawn_supervisor(const kxl_paths *p, const char *name, const char *sv, int notify_fd)
{
    pid_t pid = fork();
    if (pid < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork");
        return -1;
    }
    if (pid == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        char fdarg[16];
        snprintf(fdarg, sizeof(fdarg), "%d", notify_fd);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        /* stderr stays until the supervisor opens its log: early failures reach the caller */
        execl(sv, "kxl-supervisor", "--root", p->root, "--notify-fd", fdarg, name, (char *)NULL);
        dprintf(notify_fd, "ERR cannot run the supervisor '%s': %s\n", sv, strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

/* Reads the supervisor's verdict: "OK ..." or "ERR message" (0 / -1), or -2
 * when it ended without one and so did not clean up. */
static int wait_for_supervisor(int fd, const char *name)
{
    kx_buf b = KX_BUF_INIT;
    char chunk[512];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        kx_buf_addn(&b, chunk, (size_t)n);
    }
    char *msg = b.s ? b.s : "";
    msg[strcspn(msg, "\n")] = '\0';
    int r = 0;
    if (kx_startswith(msg, "ERR ")) {
        kx_err(KXL_ERR_QEMU, "%s", msg + 4);
        r = -1;
    } else if (!kx_startswith(msg, "OK")) {
        kx_err(KXL_ERR_INTERNAL, "the supervisor of '%s' ended before the guest started", name);
        r = -2;
    }
    kx_buf_dispose(&b);
    return r;
}

static int start_supervisor(const kxl_paths *p, const kxl_domcfg *cfg, const kxl_create_opts *o)
{
    AUTOFREE char *sv = supervisor_path(o);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a pipe");
        return -1;
    }
    AUTOCLOSE int rd = fds[0];
    AUTOCLOSE int wr = fds[1];
    /* the write end must survive exec in the supervisor only */
    int flags = fcntl(wr, F_GETFD);
    fcntl(wr, F_SETFD, flags & ~FD_CLOEXEC);
    int r = spawn_supervisor(p, cfg->name, sv, wr);
    close(TAKE_FD(wr));
    if (r < 0)
        return -1;
    return wait_for_supervisor(rd, cfg->name);
}

/* A supervisor that died without a word left its QEMU and directory behind. */
static void remove_abandoned(const kxl_paths *p, const char *name)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    kx_status st;
    if (status_read(dir, &st) == 0) {
        if (status_qemu_alive(&st))
            kill(st.qemu_pid, SIGKILL);
        if (st.sv_pid != getpid() && status_sv_alive(&st))
            kill(st.sv_pid, SIGKILL);
    }
    runtime_remove(p, name);
}

int kxl_domain_create(const kxl_paths *p, kxl_domcfg *cfg, const kxl_create_opts *o,
                      unsigned *domid_r)
{
    unsigned domid;
    kxl_accel accel;
    AUTOFREE char *notice = NULL;
    if (kxl_accel_resolve(cfg->accel, &accel, &notice) < 0)
        return -1;
    AUTOCLOSE int lock = runtime_lock(p);
    if (lock < 0 || runtime_reserve_name(p, cfg->name) < 0)
        return -1;
    if (runtime_next_domid(p, &domid) < 0 || generate_uuid(cfg) < 0 ||
        write_domain_json(p, cfg, domid, o && o->paused, accel) < 0) {
        runtime_remove(p, cfg->name);
        return -1;
    }
    close(TAKE_FD(lock));
    int r = start_supervisor(p, cfg, o);
    if (r == -2)
        remove_abandoned(p, cfg->name);
    if (r < 0)
        return -1;
    if (notice)
        kx_notice("%s", notice);
    if (domid_r)
        *domid_r = domid;
    return 0;
}
