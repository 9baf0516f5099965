/* image_run.c - create-image's command runner: each tool runs in its own process group and
 * mount namespace, SIGINT/SIGTERM/SIGHUP are passed on to it, its error output is kept for
 * the one-line error; and the removal of work trees that never crosses into a mount. */
#include "image/image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static volatile sig_atomic_t caught_signal;
static volatile sig_atomic_t caught_count;
static volatile pid_t child_pgid;
static const int caught_signals[3] = {SIGINT, SIGTERM, SIGHUP};

static void on_signal(int sig)
{
    caught_signal = sig;
    caught_count++;
    pid_t pg = child_pgid;
    if (pg > 0)
        kill(-pg, caught_count > 1 ? SIGKILL : SIGTERM);
}

void image_signals_catch(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    caught_signal = 0;
    caught_count = 0;
    for (size_t i = 0; i < KX_ARRAY_SIZE(caught_signals); i++)
        sigaction(caught_signals[i], &sa, NULL);
    /* a tool that exits before reading its stdin must not kill us mid-run */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);
}

bool image_interrupted(void)
{
    if (!caught_signal)
        return false;
    kx_err(KXL_ERR_STATE, "interrupted by SIG%s; nothing was left behind",
           sigabbrev_np(caught_signal) ? sigabbrev_np(caught_signal) : "?");
    return true;
}

/* In the child: own process group, private mounts, the root to run in, stdio. */
static void child_setup(const image_cmd *c, int in_fd, int out_fd, int err_fd)
{
    setpgid(0, 0);
    for (size_t i = 0; i < KX_ARRAY_SIZE(caught_signals); i++)
        signal(caught_signals[i], SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (unshare(CLONE_NEWNS) == 0)
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (c->chroot && (chroot(c->chroot) < 0 || chdir("/") < 0)) {
        dprintf(err_fd, "cannot enter '%s': %s\n", c->chroot, strerror(errno));
        _exit(126);
    }
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    setenv("LC_ALL", "C", 1);
    if (c->chroot) {
        setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    } else {
        /* root's tools live in sbin, which a user's PATH may lack */
        const char *path = getenv("PATH");
        char *p = kx_asprintf("%s:/usr/local/sbin:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
        setenv("PATH", p, 1);
        free(p);
    }
    for (char *const *e = c->env; e && *e; e++)
        putenv(*e);
    execvp(c->argv[0], c->argv);
    dprintf(2, "%s\n", strerror(errno));
    _exit(127);
}

/* Feeds stdin_data, collects stdout into out and stderr into err, until both close. */
static void pump(const image_cmd *c, int in_w, int out_r, int err_r, kx_buf *out, kx_buf *err)
{
    const char *in = c->stdin_data;
    size_t in_left = in ? strlen(in) : 0;
    struct pollfd p[3] = {{.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN},
                          {.fd = in_w, .events = POLLOUT}};
    if (in_left == 0 && in_w >= 0) {
        close(in_w);
        p[2].fd = -1;
    }
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        if (poll(p, 3, -1) < 0)
            continue;   /* EINTR: the handler has already passed the signal on */
        if (p[2].fd >= 0 && p[2].revents) {
            ssize_t n = write(p[2].fd, in, in_left);
            if (n > 0) {
                in += n;
                in_left -= (size_t)n;
            }
            if (n < 0 || in_left == 0) {
                close(p[2].fd);
                p[2].fd = -1;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            char buf[4096];
            ssize_t n = read(p[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                continue;
            }
            kx_buf_addn(i == 0 && c->out_r ? out : err, buf, (size_t)n);
            if (c->verbose && !(i == 0 && c->out_r))
                fwrite(buf, 1, (size_t)n, stderr);
        }
    }
    if (p[2].fd >= 0)
        close(p[2].fd);
}

/* The line of a tool's error output that says why: debootstrap's "E: ..." line, else the
 * last non-empty line. Caller frees. */
static char *why_line(const char *text)
{
    const char *e = strstr(text, "E: ");
    if (e && (e == text || e[-1] == '\n'))
        return kx_strndup(e + 3, strcspn(e + 3, "\n"));
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r'))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    return kx_strndup(start, (size_t)(end - start));
}

static void describe_failure(const image_cmd *c, int status, const char *err)
{
    kx_buf cmd = KX_BUF_INIT;
    if (c->what) {
        kx_buf_add(&cmd, c->what);
    } else {
        if (c->chroot)
            kx_buf_printf(&cmd, "chroot %s ", c->chroot);
        for (int i = 0; c->argv[i]; i++)
            kx_buf_printf(&cmd, "%s%s", i ? " " : "", c->argv[i]);
    }
    AUTOFREE char *why = why_line(err);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        kx_err(KXL_ERR_INTERNAL, "'%s' could not run: %s", c->argv[0], *why ? why : "not found");
    else if (WIFSIGNALED(status))
        kx_err(KXL_ERR_INTERNAL, "'%s' was killed by %s", kx_buf_str(&cmd),
               sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "a signal");
    else
        kx_err(KXL_ERR_INTERNAL, "'%s' failed: %s", kx_buf_str(&cmd),
               *why ? why : "no message (run with -v to see its output)");
    kx_buf_dispose(&cmd);
}

int image_run(const image_cmd *c)
{
    if (!c->cleanup && image_interrupted())
        return -1;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    bool piped_in = c->stdin_data != NULL;
    if ((piped_in && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
        pipe2(err, O_CLOEXEC) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a pipe");
        return -1;
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_setup(c, piped_in ? in[0] : null, c->passthrough ? 2 : out[1],
                    c->passthrough ? 2 : err[1]);
    if (pid > 0) {
        setpgid(pid, pid);   /* also here, so the handler never signals a wrong group */
        child_pgid = pid;
        if (caught_signal)
            kill(-pid, SIGTERM);   /* caught between fork and here */
    }
    close(null);
    close(out[1]);
    close(err[1]);
    if (piped_in)
        close(in[0]);
    kx_buf o = KX_BUF_INIT, e = KX_BUF_INIT;
    pump(c, piped_in ? in[1] : -1, out[0], err[0], c->out_r ? c->out_r : &o, &e);
    int status = 127 << 8;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    child_pgid = 0;
    int r = 0;
    if (!c->cleanup && image_interrupted())
        r = -1;
    else if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        describe_failure(c, status, kx_buf_str(&e));
        r = -1;
    }
    kx_buf_dispose(&o);
    kx_buf_dispose(&e);
    return r;
}

int image_runl(const image_opts *o, const char *arg0, ...)
{
    kx_strv argv = KX_STRV_INIT;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a; a = va_arg(ap, const char *))
        kx_strv_push(&argv, a);
    va_end(ap);
    image_cmd c = {.argv = argv.v, .verbose = o->verbose};
    int r = image_run(&c);
    kx_strv_dispose(&argv);
    return r;
}

/* ---- removing work trees ---- */

/* Unmounts whatever is mounted at or below path (deepest first), lazily. */
static void unmount_below(const char *path)
{
    AUTOFREE char *info = kx_read_file("/proc/self/mountinfo", NULL);
    if (!info) {
        kx_err_clear();
        return;
    }
    size_t n = strlen(path);
    kx_strv found = KX_STRV_INIT;
    for (char *save = NULL, *line = strtok_r(info, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char mnt[4096];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
            continue;
        if (strncmp(mnt, path, n) == 0 && (mnt[n] == '/' || mnt[n] == '\0'))
            kx_strv_push(&found, mnt);
    }
    for (size_t i = found.n; i-- > 0;)
        umount2(found.v[i], MNT_DETACH);
    kx_strv_dispose(&found);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

int image_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    unmount_below(path);
    nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (kx_path_exists(path)) {
        kx_err(KXL_ERR_INTERNAL, "cannot remove '%s' completely", path);
        return -1;
    }
    return 0;
}

static uint64_t tree_bytes;

static int count_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)type;
    (void)ftw;
    tree_bytes += (uint64_t)st->st_blocks * 512;
    return 0;
}

uint64_t image_tree_bytes(const char *path)
{
    tree_bytes = 0;
    nftw(path, count_one, 32, FTW_PHYS | FTW_MOUNT);
    return tree_bytes;
}
