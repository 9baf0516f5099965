/* sv_tpm.c - vtpm: the domain's swtpm, started before each QEMU and stopped when that QEMU
 * is gone. It parses what the guest sends its TPM, so it runs as the uid QEMU becomes and
 * reaches only what it is handed: its state directory (var/lib/kxl/tpm/UUID, owned by that
 * uid) as a descriptor, and the control socket QEMU connects to, bound here in the root-only
 * runtime directory. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/tpm.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

#define TPM_STATE_FD 3
#define TPM_CTRL_FD 4
#define TPM_LOG_FD 5

/* The state directory, made if new, given to uid with what is in it (a new domid is a new
 * uid), and opened. */
static int open_state_dir(sv *s, uid_t uid)
{
    AUTOFREE char *dir = host_vtpm_dir(&s->paths, s->cfg);
    AUTOFREE char *parent = kx_path_join(s->paths.lib_dir, "tpm");
    if (!dir || (kx_mkdir_p(parent, 0700) < 0) ||
        (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
        kx_err_errno(KXL_ERR_HOST, "cannot create the TPM state directory '%s'",
                     dir ? dir : parent);
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fchown(fd, uid, uid) < 0) {
        kx_err_errno(KXL_ERR_HOST, "cannot open '%s' for the TPM", dir);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    static const char *const files[] = {"tpm2-00.permall", "tpm2-00.volatilestate",
                                        ".lock"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(files); i++)
        if (fchownat(fd, files[i], uid, uid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
            sv_event(s, "cannot give the TPM's %s to uid %u: %s", files[i], (unsigned)uid,
                     strerror(errno));
    return fd;
}

/* The control socket, listening, for swtpm to accept QEMU's connection on. */
static int listen_ctrl(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        kx_err(KXL_ERR_INVALID, "socket path '%s' is too long", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot listen on '%s'", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void exec_swtpm(int state_fd, int ctrl_fd, int log_fd, uid_t uid)
{
    kx_child_reset_signals();
    int null = open("/dev/null", O_RDWR);
    int fds[] = {state_fd, ctrl_fd, log_fd};
    int high[3];
    for (int i = 0; i < 3; i++)
        high[i] = fcntl(fds[i], F_DUPFD, 100);
    dup2(null, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    for (int i = 0; i < 3; i++)
        dup2(high[i], TPM_STATE_FD + i);
    for (int fd = TPM_LOG_FD + 1; fd < 1024; fd++)
        close(fd);
    if (uid && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)) {
        dprintf(2, "kxl-supervisor: cannot become uid %u for swtpm: %s\n", (unsigned)uid,
                strerror(errno));
        _exit(127);
    }
    char state[64], ctrl[64], log[64];
    snprintf(state, sizeof(state), "dir=/proc/self/fd/%d,mode=0600", TPM_STATE_FD);
    snprintf(ctrl, sizeof(ctrl), "type=unixio,fd=%d", TPM_CTRL_FD);
    snprintf(log, sizeof(log), "fd=%d,level=1", TPM_LOG_FD);
    char *argv[] = {"swtpm", "socket", "--tpm2", "--tpmstate", state, "--ctrl", ctrl,
                    "--log", log, "--terminate", NULL};
    execvp(argv[0], argv);
    dprintf(2, "kxl-supervisor: cannot run swtpm: %s\n", strerror(errno));
    _exit(127);
}

void sv_tpm_stop(sv *s)
{
    if (s->tpm_pid <= 0)
        return;
    kill(s->tpm_pid, SIGTERM);
    while (waitpid(s->tpm_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    s->tpm_pid = 0;
}

int sv_tpm_start(sv *s, uid_t uid, char **socket_r)
{
    *socket_r = NULL;
    if (!s->cfg->vtpm)
        return 0;
    sv_tpm_stop(s);
    AUTOFREE char *sock = kx_path_join(s->dir, "swtpm.sock");
    AUTOFREE char *log = kx_asprintf("%s/%s.swtpm.log", s->paths.log_dir, s->name);
    AUTOCLOSE int state_fd = open_state_dir(s, uid);
    AUTOCLOSE int ctrl_fd = state_fd < 0 ? -1 : listen_ctrl(sock);
    AUTOCLOSE int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (state_fd < 0 || ctrl_fd < 0)
        return -1;
    if (log_fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s'", log);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0)
        exec_swtpm(state_fd, ctrl_fd, log_fd, uid);
    if (pid < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork");
        return -1;
    }
    s->tpm_pid = pid;
    sv_event(s, "swtpm started, pid %d", (int)pid);
    *socket_r = TAKE_PTR(sock);
    return 0;
}
