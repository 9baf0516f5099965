/* supervisor.c - starting a domain's supervisor (kxl-supervisor) and waiting
 * for its verdict, for a new domain or to adopt a running QEMU whose
 * supervisor died. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/helpers.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

/* kxl-supervisor: explicit option, $KXL_SUPERVISOR, next to this program, or libexec. */
static char *supervisor_path(const char *explicit_path)
{
    if (explicit_path)
        return kx_strdup(explicit_path);
    return kxl_helper_path("kxl-supervisor", "supervisor", "KXL_SUPERVISOR");
}

/* The verdict pipe's number in the supervisor: right after stdin, stdout and stderr. */
#define SUPERVISOR_NOTIFY_FD 3
#define SUPERVISOR_NOTIFY_ARG "3"

/* Double fork: the supervisor must outlive this command, in its own session. The caller may
 * be threaded (kxld's jobs, kxl's autostart): the children call only async-signal-safe
 * functions, the grandchild's fork is _Fork (no atfork handlers), and the exec failure's
 * message is made before the fork. */
static int spawn_supervisor(const kxl_paths *p, const char *name, const char *sv, int notify_fd,
                            bool adopt, int incoming_fd)
{
    AUTOFREE char *cannot = kx_asprintf("ERR cannot run the supervisor '%s': ", sv);
    pid_t pid = fork();
    if (pid < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork");
        return -1;
    }
    if (pid == 0) {
        setsid();
        kx_child_reset_signals();
        if (_Fork() != 0)
            _exit(0);
        /* a migration's stream (it may be stdin) and the verdict pipe out of the way first */
        int in = incoming_fd >= 0 ? fcntl(incoming_fd, F_DUPFD_CLOEXEC, 10) : -1;
        if (in >= 0)
            notify_fd = fcntl(notify_fd, F_DUPFD_CLOEXEC, 10);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        /* The supervisor lives as long as the domain: it keeps nothing of the caller's but
         * stderr (until the guest runs: early failures reach the caller) and the verdict's
         * pipe, moved to fd 3. Anything else held open (a pipe the caller's caller reads to
         * its end, a lock) would be held for the domain's lifetime. The write end survives
         * exec here only: cleared in the parent, any other thread's child forked meanwhile
         * (kxld) would hold it and the verdict's EOF never come. */
        if (in >= 0)
            dup2(in, KXL_SUPERVISOR_INCOMING_FD);
        if (notify_fd != SUPERVISOR_NOTIFY_FD)
            dup2(notify_fd, SUPERVISOR_NOTIFY_FD);
        fcntl(SUPERVISOR_NOTIFY_FD, F_SETFD, 0);
        close_range(in >= 0 ? KXL_SUPERVISOR_INCOMING_FD + 1 : SUPERVISOR_NOTIFY_FD + 1,
                    ~0U, 0);
        /* "--": the name is never read as an option */
        execl(sv, "kxl-supervisor", "--root", p->root, "--notify-fd", SUPERVISOR_NOTIFY_ARG,
              adopt ? "--adopt" : "--create", "--", name, (char *)NULL);
        kx_child_fail(SUPERVISOR_NOTIFY_FD, cannot);
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

/* Reads the supervisor's verdict: "OK ..." or "ERR message" (0 / -1), or -2
 * when it ended without one and so did not clean up. The verdict is one line: an incoming
 * migration's supervisor keeps the pipe open after it (its lifeline). */
static int wait_for_supervisor(int fd, const char *name)
{
    kx_buf b = KX_BUF_INIT;
    char chunk[512];
    ssize_t n;
    while (!(b.s && memchr(b.s, '\n', b.len)) && (n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        kx_buf_addn(&b, chunk, (size_t)n);
    }
    /* an empty pipe (a supervisor killed, or refusing its arguments) is no verdict */
    AUTOFREE char *msg = b.s ? kx_buf_steal(&b) : kx_strdup("");
    msg[strcspn(msg, "\n")] = '\0';
    int r = 0;
    if (kx_startswith(msg, "ERR ")) {
        kx_err(KXL_ERR_QEMU, "%s", msg + 4);
        r = -1;
    } else if (!kx_startswith(msg, "OK")) {
        kx_err(KXL_ERR_INTERNAL, "the supervisor of '%s' ended before the guest started", name);
        r = -2;
    }
    return r;
}

int runtime_start_supervisor(const kxl_paths *p, const char *name, const char *sv_path, bool adopt,
                             int incoming_fd, int *lifeline_r)
{
    AUTOFREE char *sv = supervisor_path(sv_path);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a pipe");
        return -1;
    }
    AUTOCLOSE int rd = fds[0];
    AUTOCLOSE int wr = fds[1];
    int r = spawn_supervisor(p, name, sv, wr, adopt, incoming_fd);
    close(TAKE_FD(wr));
    if (r < 0)
        return -1;
    r = wait_for_supervisor(rd, name);
    if (r == 0 && lifeline_r)
        *lifeline_r = TAKE_FD(rd);
    return r;
}


int runtime_ensure_supervisor(const kxl_paths *p, const char *name)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    kx_status st;
    if (status_read(dir, &st) < 0 || status_sv_alive(&st))
        return 0;
    AUTOCLOSE int lock = runtime_lock(p);
    /* another command may have adopted it while we waited for the lock */
    if (lock < 0 || status_read(dir, &st) < 0 || status_sv_alive(&st))
        return lock < 0 ? -1 : 0;
    kx_info("domain '%s' has no supervisor: adopting it", name);
    return runtime_start_supervisor(p, name, NULL, true, -1, NULL) < 0 ? -1 : 0;
}
