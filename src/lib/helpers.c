/* helpers.c - finding kxl's helper programs, and running kxl-tls (helpers.h). */
#include "lib/helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

/* how long a one-shot kxl-tls may take (a key is made in well under a second) */
#define TLS_RUN_MS 60000

char *kxl_helper_path(const char *name, const char *build_dir, const char *env_var)
{
    const char *env = getenv(env_var);
    if (env && *env)
        return kx_strdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        AUTOFREE char *in_build = kx_asprintf("../%s/%s", build_dir, name);
        AUTOFREE char *in_libexec = kx_asprintf("../libexec/kxl/%s", name);
        const char *tries[] = {name, in_build, in_libexec};
        for (size_t i = 0; i < KX_ARRAY_SIZE(tries); i++) {
            char *path = kx_path_join(exe, tries[i]);
            if (access(path, X_OK) == 0)
                return path;
            free(path);
        }
    }
    return kx_asprintf("/usr/libexec/kxl/%s", name);
}

typedef struct {
    const char *path;
    char *const *argv;
} helper_exec;

/* kx_fork_piped's child: kxl-tls with in_fd as its stdin, out_fd as its stdout; its argv is
 * built before the fork (spawn.h: the caller, kxld, is threaded). */
static void exec_helper(void *arg, int in_fd, int out_fd)
{
    const helper_exec *h = arg;
    kx_child_reset_signals();   /* SIGPIPE back to its default: an exec keeps an ignored one */
    if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
        _exit(127);
    execv(h->path, h->argv);
    kx_child_fail(STDOUT_FILENO, "ERROR internal cannot run kxl's TLS helper (kxl-tls): ");
}

int tls_helper_start(const char *const *args, pid_t *pid_r, int *to_r, int *from_r)
{
    AUTOFREE char *path = kxl_helper_path("kxl-tls", "tls", "KXL_TLS_HELPER");
    kx_strv argv = KX_STRV_INIT;
    kx_strv_push(&argv, "kxl-tls");
    if (!kx_log_enabled(KX_LOG_NOTICE))
        kx_strv_push(&argv, "--quiet");
    for (const char *const *a = args; *a; a++)
        kx_strv_push(&argv, *a);
    helper_exec h = {path, argv.v};
    int r = kx_fork_piped(exec_helper, &h, "kxl's TLS helper", pid_r, to_r, from_r);
    kx_strv_dispose(&argv);
    return r;
}

/* One line from fd (without its newline) within timeout_ms, or NULL. Read a byte at a time:
 * what follows the line (a relay's stream) is not this reader's. */
static char *read_line(int fd, int timeout_ms)
{
    kx_buf b = KX_BUF_INIT;
    char c;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || read(fd, &c, 1) != 1 || b.len > 4096) {
            kx_buf_dispose(&b);
            return NULL;
        }
        if (c == '\n')
            return kx_buf_steal(&b);
        kx_buf_addc(&b, c);
    }
}

int tls_helper_answer(int from_fd, int timeout_ms, char **rest_r)
{
    AUTOFREE char *line = read_line(from_fd, timeout_ms);
    if (line && (kx_streq(line, "OK") || kx_startswith(line, "OK "))) {
        if (rest_r)
            *rest_r = kx_strdup(line[2] ? line + 3 : "");
        return 0;
    }
    if (line && kx_startswith(line, "ERROR ")) {
        char *code = line + 6;
        char *msg = strchr(code, ' ');
        if (msg)
            *msg++ = '\0';
        kx_err(kxl_errcode_from_name(code), "%s", msg ? msg : "kxl-tls failed");
        return -1;
    }
    kx_err(KXL_ERR_INTERNAL, "kxl's TLS helper (kxl-tls) %s", line ? "spoke out of turn"
                                                                : "gave no answer");
    return -1;
}

int tls_helper_run(const char *const *args)
{
    pid_t pid;
    int to, from;
    if (tls_helper_start(args, &pid, &to, &from) < 0)
        return -1;
    close(to);
    int r = tls_helper_answer(from, TLS_RUN_MS, NULL);
    close(from);
    if (r < 0)
        kill(pid, SIGKILL);   /* it may hang: no answer in time */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return r;
}
