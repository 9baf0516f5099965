/* spawn.c - process helpers: pidfds, liveness, child subreaping. A child forked here may run
 * in a threaded process (kxld's jobs call the library): until it execs it calls only
 * async-signal-safe functions, since an allocation or stdio there can wait forever on a lock
 * another thread held at the fork (ASan's allocator takes no care of fork). */
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "err.h"
#include "fileio.h"

int kx_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int kx_pidfd_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

bool kx_pidfd_wait(int pidfd, int timeout_ms)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    return r > 0;
}

/* Returns the text of /proc/PID/stat after the command name, or NULL. */
static char *stat_fields(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    AUTOFREE char *s = kx_read_file(path, NULL);
    if (!s) {
        kx_err_clear();
        return NULL;
    }
    char *p = strrchr(s, ')');
    return p && p[1] ? kx_strdup(p + 2) : NULL;
}

bool kx_pid_alive(pid_t pid)
{
    if (pid <= 0)
        return false;
    AUTOFREE char *f = stat_fields(pid);
    return f && f[0] != 'Z' && f[0] != 'X';
}

bool kx_pid_stopped(pid_t pid)
{
    AUTOFREE char *f = pid > 0 ? stat_fields(pid) : NULL;
    return f && (f[0] == 'T' || f[0] == 't');
}

unsigned long long kx_pid_starttime(pid_t pid)
{
    AUTOFREE char *f = stat_fields(pid);
    if (!f || f[0] == 'Z' || f[0] == 'X')
        return 0;
    /* f starts at field 3 (state); starttime is field 22 */
    char *p = f;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

void kx_child_fail(int fd, const char *prefix)
{
    const char *why = strerrordesc_np(errno);   /* strerror's text, without its locale */
    if (!why)
        why = "unknown error";
    if (write(fd, prefix, strlen(prefix)) < 0 || write(fd, why, strlen(why)) < 0 ||
        write(fd, "\n", 1) < 0) {
        /* nobody to tell: the parent sees the exit status */
    }
    _exit(127);
}

void kx_child_reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
}

int kx_become_subreaper(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot become a child subreaper");
        return -1;
    }
    return 0;
}

static void describe_failure(char *const argv[], int status, const char *out)
{
    kx_buf cmd = KX_BUF_INIT;
    for (int i = 0; argv[i]; i++)
        kx_buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
    AUTOFREE char *first = kx_strndup(out, strcspn(out, "\n"));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        kx_err(KXL_ERR_INTERNAL, "'%s' could not run: %s", argv[0], *first ? first : "not found");
    else
        kx_err(KXL_ERR_INTERNAL, "'%s' failed: %s", kx_buf_str(&cmd),
               *first ? first : "no message");
    kx_buf_dispose(&cmd);
}

/* stdout_fd: where the command's standard output goes; -1 is /dev/null. */
static int run(char *const argv[], int stdout_fd)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a pipe");
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        kx_child_reset_signals();
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(stdout_fd >= 0 ? stdout_fd : null, 1);
        dup2(pipefd[1], 2);
        execvp(argv[0], argv);
        kx_child_fail(2, "");
    }
    close(pipefd[1]);
    kx_buf out = KX_BUF_INIT;
    kx_read_all(pipefd[0], &out, SIZE_MAX);
    close(pipefd[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int r = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
    if (r < 0)
        describe_failure(argv, pid > 0 ? status : 127 << 8, kx_buf_str(&out));
    kx_buf_dispose(&out);
    return r;
}

int kx_run(char *const argv[])
{
    return run(argv, -1);
}

char *kx_run_capture(char *const argv[])
{
    AUTOCLOSE int fd = memfd_create("kx_run_capture", MFD_CLOEXEC);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a memfd");
        return NULL;
    }
    kx_buf out = KX_BUF_INIT;
    if (run(argv, fd) < 0)
        return NULL;
    if (lseek(fd, 0, SEEK_SET) < 0 || kx_read_all(fd, &out, SIZE_MAX) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot read what '%s' printed", argv[0]);
        kx_buf_dispose(&out);
        return NULL;
    }
    return kx_buf_steal(&out);
}

/* The child: it never returns. */
static void relay_child(kx_piped_fn fn, void *arg, int in_fd, int out_fd)
{
    kx_child_reset_signals();
    signal(SIGPIPE, SIG_IGN);
    fn(arg, in_fd, out_fd);
    _exit(127);
}

int kx_fork_piped(kx_piped_fn fn, void *arg, const char *what, pid_t *pid_r, int *to_r,
                  int *from_r)
{
    int to[2], from[2];
    pid_t pid;
    if (pipe2(to, O_CLOEXEC) < 0)
        goto undo_nothing;
    if (pipe2(from, O_CLOEXEC) < 0)
        goto undo_to;
    pid = fork();
    if (pid == 0) {
        close(to[1]);
        close(from[0]);
        relay_child(fn, arg, to[0], from[1]);
    }
    close(to[0]);
    close(from[1]);
    if (pid < 0) {
        close(to[1]);
        close(from[0]);
        goto undo_nothing;
    }
    *pid_r = pid;
    *to_r = to[1];
    *from_r = from[0];
    return 0;
undo_to:
    close(to[0]);
    close(to[1]);
undo_nothing:
    kx_err_errno(KXL_ERR_INTERNAL, "cannot start %s", what);
    return -1;
}
