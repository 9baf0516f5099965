/* image_child.c - image_create: create-image's whole run in a child process, so that the
 * caller's mount namespace and signal handling stay as they are and a daemon can run it. The
 * child takes a private mount namespace (the overlay over the template vanishes with it) and
 * catches SIGINT, SIGTERM and SIGHUP to undo the run; it sends its progress, log lines and
 * outcome over a SOCK_SEQPACKET pair, and the parent hands them to the caller's callbacks and
 * passes on the signals read from o->cancel_fd. The forked child execs the caller's program
 * again (IMAGE_CHILD_ARG) and gets the options as the pair's first message: in a threaded
 * caller (kxld's job workers) it may call nothing that allocates until it execs, as another
 * thread may have held the allocator's lock at the fork. */
#include "image/image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"
#include "util/spawn.h"

#define MSG_MAX (64 << 10)   /* one message: a progress line, a log line or the outcome */
#define LOG_MAX 4096         /* longer log lines are cut */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- in the child ---- */

/* Sends one message; with ack, waits until the parent has handled it, so that what the caller
 * prints keeps its order with what the tools print. A parent that is gone is no error here:
 * PR_SET_PDEATHSIG ends the run. */
static void send_msg(int sock, json_object *m, bool ack)
{
    char *text = (char *)kx_json_text(m);
    size_t len = strlen(text);
    ssize_t n = len < MSG_MAX ? send(sock, text, len, MSG_NOSIGNAL) : -1;
    explicit_bzero(text, len);   /* the outcome may hold the generated password */
    char c;
    while (n >= 0 && ack && recv(sock, &c, 1, 0) < 0 && errno == EINTR)
        ;
}

static void child_progress(int step, int total, const char *what, void *opaque)
{
    AUTOPTR(json_object) m = json_object_new_object();
    json_object_object_add(m, "progress", json_object_new_string(what));
    json_object_object_add(m, "step", json_object_new_int(step));
    json_object_object_add(m, "total", json_object_new_int(total));
    send_msg(*(int *)opaque, m, true);
}

static void child_log(kx_loglevel level, const char *msg, void *opaque)
{
    AUTOPTR(json_object) m = json_object_new_object();
    size_t len = strnlen(msg, LOG_MAX);
    json_object_object_add(m, "log", json_object_new_string_len(msg, (int)len));
    json_object_object_add(m, "level", json_object_new_int(level));
    send_msg(*(int *)opaque, m, true);
}

static void add_str(json_object *m, const char *key, const char *value)
{
    if (value)
        json_object_object_add(m, key, json_object_new_string(value));
}

/* The last message: the error, or what the run made. */
static void send_outcome(int sock, int rc, const image_result *r)
{
    AUTOPTR(json_object) m = json_object_new_object();
    if (rc < 0) {
        add_str(m, "error", kx_err_msg());
        json_object_object_add(m, "code", json_object_new_int(kx_err_code()));
        send_msg(sock, m, false);
        return;
    }
    const char *strs[] = {"cfg_path", r->cfg_path, "disk", r->disk, "swap", r->swap,
                          "mac", r->mac, "kernel", r->kernel, "password", r->password};
    for (size_t i = 0; i < KX_ARRAY_SIZE(strs); i += 2)
        add_str(m, strs[i], strs[i + 1]);
    json_object *fps = json_object_new_array();
    for (size_t i = 0; i < r->fingerprints.n; i++)
        json_object_array_add(fps, json_object_new_string(r->fingerprints.v[i]));
    json_object_object_add(m, "fingerprints", fps);
    json_object_object_add(m, "from_cache", json_object_new_boolean(r->from_cache));
    json_object_object_add(m, "template_seconds", json_object_new_double(r->template_seconds));
    send_msg(sock, m, false);
}

/* A mount namespace of its own whose mounts do not propagate to the host's; false (and the
 * host's namespace) when that cannot be had, e.g. without CAP_SYS_ADMIN. */
static bool enter_private_mounts(void)
{
    AUTOCLOSE int host = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (host < 0 || unshare(CLONE_NEWNS) < 0)
        return false;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
        return true;
    if (setns(host, CLONE_NEWNS) < 0)
        kx_warn("warning: cannot return to the host's mount namespace: %s", strerror(errno));
    return false;
}

/* The child: a process group of its own (the terminal's signals reach the caller, which passes
 * them on once), the run's signal handling from a clean mask, then the run. Never returns. */
static _Noreturn void child_main(const image_opts *o, int sock, pid_t parent)
{
    sigset_t none;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    image_signals_catch();
    signal(SIGCHLD, SIG_DFL);   /* the tools are waited for, whatever the caller chose */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (getppid() != parent)
        raise(SIGTERM);         /* the caller died before PR_SET_PDEATHSIG */
    if (o->cancel_fd >= 0)
        close(o->cancel_fd);    /* the caller's; the tools must not inherit it */
    kx_log_set_sink(child_log, &sock);
    image_opts co = *o;
    co.progress = o->progress ? child_progress : NULL;
    co.progress_opaque = &sock;
    image_result r;
    int rc = image_job_run(&co, enter_private_mounts(), &r);
    send_outcome(sock, rc, &r);
    _exit(0);
}

/* The exec'd child: argv is {prog, IMAGE_CHILD_ARG, caller's pid, log level}; the socket pair's
 * end is fd CHILD_SOCK, the options its first message. */
#define CHILD_SOCK 3

void image_child_main(int argc, char **argv)
{
    pid_t parent = argc == 4 ? (pid_t)atoi(argv[2]) : 0;
    if (argc == 4)
        kx_log_set_level((kx_loglevel)atoi(argv[3]));
    AUTOFREE char *buf = kx_malloc0(MSG_MAX + 1);
    ssize_t n = parent > 0 ? recv(CHILD_SOCK, buf, MSG_MAX, 0) : -1;
    AUTOPTR(json_object) j = n > 0 ? kx_json_parse(buf, "create-image's options") : NULL;
    if (!j) {
        fprintf(stderr, "kxl: %s is for kxl's own use (create-image's process)\n",
                IMAGE_CHILD_ARG);
        _exit(1);
    }
    explicit_bzero(buf, MSG_MAX);   /* the options may hold the password */
    image_opts o;
    image_opts_of_json(j, &o);
    o.progress = kx_json_bool(j, "progress", false) ? child_progress : NULL;
    child_main(&o, CHILD_SOCK, parent);
}

typedef struct {
    char *const *argv;
    int sock, cancel_fd;
} child_exec;

/* The forked child: async-signal-safe calls only, until the exec. */
static void exec_child(const child_exec *x)
{
    setpgid(0, 0);   /* out of the terminal's group at once, as the parent also makes it */
    if (x->cancel_fd >= 0 && x->cancel_fd != CHILD_SOCK)
        fcntl(x->cancel_fd, F_SETFD, FD_CLOEXEC);   /* the caller's; the tools must not have it */
    if (x->sock == CHILD_SOCK)
        fcntl(CHILD_SOCK, F_SETFD, 0);
    else if (dup2(x->sock, CHILD_SOCK) < 0)
        _exit(127);
    execv("/proc/self/exe", x->argv);
    kx_child_fail(2, "kxl: cannot run create-image's process: ");
}

/* The lowest level the caller logs, for the child to log as it does. */
static kx_loglevel log_level(void)
{
    kx_loglevel l = KX_LOG_DEBUG;
    while (l < KX_LOG_ERROR && !kx_log_enabled(l))
        l++;
    return l;
}

/* The options as the child's first message; -1 with kx_err. */
static int send_opts(int sock, const image_opts *o)
{
    AUTOPTR(json_object) j = image_opts_to_json(o);
    char *text = (char *)kx_json_text(j);
    size_t len = strlen(text);
    ssize_t n = len < MSG_MAX ? send(sock, text, len, MSG_NOSIGNAL) : -1;
    explicit_bzero(text, len);
    if (n == (ssize_t)len)
        return 0;
    kx_err(KXL_ERR_INTERNAL, "cannot hand the options to create-image's process");
    return -1;
}

/* ---- in the caller ---- */

static char *dup_str(json_object *m, const char *key)
{
    const char *s = kx_json_str(m, key, NULL);
    return s ? kx_strdup(s) : NULL;
}

/* The child's outcome into *r: 0, or -1 with the child's error. */
static int take_outcome(json_object *m, image_result *r)
{
    if (kx_json_str(m, "error", NULL)) {
        kx_err((kxl_errcode)kx_json_int(m, "code", KXL_ERR_INTERNAL), "%s",
               kx_json_str(m, "error", ""));
        return -1;
    }
    r->cfg_path = dup_str(m, "cfg_path");
    r->disk = dup_str(m, "disk");
    r->swap = dup_str(m, "swap");
    r->mac = dup_str(m, "mac");
    r->kernel = dup_str(m, "kernel");
    r->password = dup_str(m, "password");
    json_object *fps = NULL, *t = NULL;
    json_object_object_get_ex(m, "fingerprints", &fps);
    for (size_t i = 0; fps && i < json_object_array_length(fps); i++)
        kx_strv_push(&r->fingerprints, json_object_get_string(json_object_array_get_idx(fps, i)));
    r->from_cache = kx_json_bool(m, "from_cache", false);
    if (json_object_object_get_ex(m, "template_seconds", &t))
        r->template_seconds = json_object_get_double(t);
    return 0;
}

/* One message from the child: progress and log lines go to the caller's callbacks, the
 * outcome sets *rc; every message is answered (the child waits for that after a line). */
static void handle_msg(const image_opts *o, int sock, const char *text, image_result *r, int *rc)
{
    AUTOPTR(json_object) m = kx_json_parse(text, "create-image's message");
    const char *progress = m ? kx_json_str(m, "progress", NULL) : NULL;
    const char *log = m ? kx_json_str(m, "log", NULL) : NULL;
    if (!m)
        kx_err_clear();
    else if (progress && o->progress)
        o->progress((int)kx_json_int(m, "step", 0), (int)kx_json_int(m, "total", 0), progress,
                    o->progress_opaque);
    else if (log)
        kx_log((kx_loglevel)kx_json_int(m, "level", KX_LOG_WARN), "%s", log);
    else if (!progress)
        *rc = take_outcome(m, r);
    send(sock, "", 1, MSG_NOSIGNAL);
}

/* Passes one signal read from the caller's cancel_fd on to the child; false when the fd
 * gave none (closed, or not a source of signalfd_siginfo records): stop watching it. */
static bool pass_signal(int cancel_fd, pid_t pid)
{
    struct signalfd_siginfo si;
    ssize_t n = read(cancel_fd, &si, sizeof(si));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n != (ssize_t)sizeof(si))
        return false;
    if (si.ssi_signo > 0)
        kill(pid, (int)si.ssi_signo);
    return true;
}

/* Relays until the child closes its end. Returns the outcome: 0, -1 with kx_err, or -2 when
 * the child gave none. */
static int relay(const image_opts *o, pid_t pid, int sock, image_result *r)
{
    AUTOFREE char *buf = kx_malloc0(MSG_MAX + 1);
    struct pollfd p[2] = {{.fd = sock, .events = POLLIN},
                          {.fd = o->cancel_fd, .events = POLLIN}};
    int rc = -2;
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            kx_err_errno(KXL_ERR_INTERNAL, "cannot wait for create-image's process");
            kill(pid, SIGTERM);
            return -1;
        }
        if (p[1].revents && !pass_signal(o->cancel_fd, pid))
            p[1].fd = -1;
        if (!p[0].revents)
            continue;
        ssize_t n = recv(sock, buf, MSG_MAX, MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        buf[n < MSG_MAX ? n : 0] = '\0';   /* a message cut short is dropped */
        handle_msg(o, sock, buf, r, &rc);
        explicit_bzero(buf, MSG_MAX);
    }
    return rc;
}

/* Reaps the child; when it gave no outcome, says how it ended. */
static int reap(pid_t pid, int rc)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc != -2)
        return rc;
    if (WIFSIGNALED(status))
        kx_err(KXL_ERR_INTERNAL, "create-image's process was killed by SIG%s",
               sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    else
        kx_err(KXL_ERR_INTERNAL, "create-image's process ended without an answer");
    return -1;
}

int image_create(const image_opts *o, image_result *r)
{
    int sp[2];
    sigset_t caught, old;
    memset(r, 0, sizeof(*r));
    double start = now();
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a socket pair");
        return -1;
    }
    /* blocked across fork: a signal passed on to the child waits for its handlers */
    sigemptyset(&caught);
    sigaddset(&caught, SIGINT);
    sigaddset(&caught, SIGTERM);
    sigaddset(&caught, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &caught, &old);
    AUTOFREE char *parent = kx_asprintf("%d", (int)getpid());
    AUTOFREE char *level = kx_asprintf("%d", (int)log_level());
    char *argv[] = {"kxl", IMAGE_CHILD_ARG, parent, level, NULL};
    child_exec x = {argv, sp[1], o->cancel_fd};
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_child(&x);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(sp[1]);
    int rc = -1;
    if (pid < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork");
        close(sp[0]);
    } else {
        setpgid(pid, pid);   /* also here: out of the terminal's group as soon as can be */
        rc = send_opts(sp[0], o) < 0 ? -1 : relay(o, pid, sp[0], r);
        close(sp[0]);        /* a child still waiting for an answer goes on without one */
        rc = reap(pid, rc);
    }
    r->seconds = now() - start;
    if (rc < 0)
        image_result_dispose(r);
    return rc;
}
