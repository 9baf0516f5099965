/* host_qemu_answers.c - what the host's QEMU binary says to -version, -machine help and
 * -cpu help, which a migration's preflight checks on every receive: asked once per binary
 * (all three at once), then kept in ROOT/var/lib/kxl/qemu-answers/answers.json (root's,
 * 0600 in a 0700 directory, rewritten atomically), keyed by the binary's path, device,
 * inode, size, mtime and ctime, so an upgraded or replaced QEMU is asked afresh. Asking
 * costs 0.2 s on an idle host (three QEMU starts), seconds on a busy one, while the sender
 * waits. */
#include "lib/host_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

#define ANSWER_MAX (1 << 20)   /* -cpu help is about 10 KiB */

/* The binary's identity: changes whenever the file does. NULL when it cannot be stat'ed. */
static char *binary_key(const char *qemu)
{
    struct stat st;
    if (stat(qemu, &st) < 0)
        return NULL;
    return kx_asprintf("%s:%llu:%llu:%lld:%lld.%09ld:%lld.%09ld", qemu,
                       (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                       (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                       (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

/* In the child kx_fork_piped starts: argv with its standard output on out_fd, stdin and
 * stderr on /dev/null. Async-signal-safe calls only (kxld's relocation listener asks from a
 * thread); a QEMU that cannot run says nothing: its empty answer is what the caller sees. */
static void exec_quiet(void *arg, int in_fd, int out_fd)
{
    char *const *argv = arg;
    int null = open("/dev/null", O_RDWR);
    (void)in_fd;
    dup2(null, 0);
    dup2(out_fd, 1);
    dup2(null, 2);
    execvp(argv[0], argv);
    _exit(127);
}

/* Starts argv (exec_quiet); its output's pipe, non-blocking, or -1 when it cannot. */
static int start_asking(char *const argv[], pid_t *pid_r)
{
    int to, from;
    *pid_r = 0;
    if (kx_fork_piped(exec_quiet, (void *)argv, "QEMU", pid_r, &to, &from) < 0) {
        kx_err_clear();
        return -1;
    }
    close(to);
    fcntl(from, F_SETFL, O_NONBLOCK);
    return from;
}

/* Runs the three at once and reads their outputs into out[] until all have ended. */
static void ask_all(const char *qemu, kx_buf out[3])
{
    const char *opts[3][2] = {{"-version", NULL}, {"-machine", "help"}, {"-cpu", "help"}};
    struct pollfd fds[3];
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        char *argv[] = {(char *)qemu, (char *)opts[i][0], (char *)opts[i][1], NULL};
        fds[i] = (struct pollfd){.fd = start_asking(argv, &pids[i]), .events = POLLIN};
    }
    for (int left = 3; left > 0;) {
        int n = poll(fds, 3, 30000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* a QEMU that hangs: what it said so far */
        left = 0;
        for (int i = 0; i < 3; i++) {
            char chunk[8192];
            ssize_t got =
                fds[i].revents && fds[i].fd >= 0 ? read(fds[i].fd, chunk, sizeof(chunk)) : -1;
            if (got > 0 && out[i].len < ANSWER_MAX)
                kx_buf_addn(&out[i], chunk, (size_t)got);
            if (fds[i].fd >= 0 && fds[i].revents &&
                (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))) {
                close(fds[i].fd);
                fds[i].fd = -1;
            }
            left += fds[i].fd >= 0;
        }
    }
    for (int i = 0; i < 3; i++) {
        if (fds[i].fd >= 0) {
            close(fds[i].fd);
            kill(pids[i], SIGKILL);
        }
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
    }
}

static void ask(const char *qemu, host_qemu_answers *a)
{
    kx_buf out[3] = {KX_BUF_INIT, KX_BUF_INIT, KX_BUF_INIT};
    ask_all(qemu, out);
    a->version = host_qemu_version_of(kx_buf_str(&out[0]));
    a->machines = kx_strdup(kx_buf_str(&out[1]));
    a->cpus = kx_strdup(kx_buf_str(&out[2]));
    for (int i = 0; i < 3; i++)
        kx_buf_dispose(&out[i]);
}

/* The cached answers when they are for this key: 0, else -1 (nothing set). */
static int recall(const char *file, const char *key, host_qemu_answers *a)
{
    AUTOFREE char *text = kx_read_file(file, NULL);
    AUTOPTR(json_object) o = text ? json_tokener_parse(text) : NULL;
    kx_err_clear();
    if (!o || !kx_streq(kx_json_str(o, "key", ""), key) || !kx_json_str(o, "version", NULL) ||
        !kx_json_str(o, "machine_help", NULL) || !kx_json_str(o, "cpu_help", NULL))
        return -1;
    a->version = kx_strdup(kx_json_str(o, "version", NULL));
    a->machines = kx_strdup(kx_json_str(o, "machine_help", NULL));
    a->cpus = kx_strdup(kx_json_str(o, "cpu_help", NULL));
    return 0;
}

static void remember(const char *dir, const char *file, const char *key, const host_qemu_answers *a)
{
    AUTOPTR(json_object) o = json_object_new_object();
    json_object_object_add(o, "key", json_object_new_string(key));
    json_object_object_add(o, "version", json_object_new_string(a->version));
    json_object_object_add(o, "machine_help", json_object_new_string(a->machines));
    json_object_object_add(o, "cpu_help", json_object_new_string(a->cpus));
    const char *text = kx_json_text(o);
    if (kx_mkdir_p(dir, 0700) < 0 || chmod(dir, 0700) < 0 ||
        kx_write_file_atomic(file, text, strlen(text), 0600) < 0)
        kx_err_clear();   /* asked again next time */
}

void host_qemu_answers_get(const kxl_paths *p, const char *qemu, host_qemu_answers *a_r)
{
    *a_r = (host_qemu_answers){0};
    AUTOFREE char *key = binary_key(qemu);
    AUTOFREE char *dir = kx_path_join(p->lib_dir, "qemu-answers");
    AUTOFREE char *file = kx_path_join(dir, "answers.json");
    if (key && recall(file, key, a_r) == 0)
        return;
    ask(qemu, a_r);
    /* a QEMU that did not answer is not remembered: it may answer next time */
    if (key && *a_r->machines && *a_r->cpus && !kx_streq(a_r->version, "unknown"))
        remember(dir, file, key, a_r);
}

void host_qemu_answers_dispose(host_qemu_answers *a)
{
    free(a->version);
    free(a->machines);
    free(a->cpus);
    *a = (host_qemu_answers){0};
}
