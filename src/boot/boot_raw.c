/* boot_raw.c - a raw view of a guest's disk for the built-in pygrub: a raw image as it is, a
 * qcow2 one through a read-only FUSE export by qemu-storage-daemon (only the blocks read are
 * touched), or, when that cannot run, a sparse raw copy made with qemu-img convert. */
#include "boot/boot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

#define EXPORT_WAIT_MS 10000

static bool in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (kx_streq(w, *list))
            return true;
    return false;
}

static const char *const export_formats[] = {"qcow2", NULL};

/* Stops the daemon (SIGTERM, SIGKILL after 5 s) and removes what bl_raw_open made. */
void bl_raw_close(bl_raw *r)
{
    for (int i = 0; r->pid > 0; i++) {
        if (i == 0 || i == 500)
            kill(r->pid, i ? SIGKILL : SIGTERM);
        pid_t w = waitpid(r->pid, NULL, WNOHANG);
        if (w == r->pid || (w < 0 && errno != EINTR))
            r->pid = -1;
        else
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    if (r->mnt) {
        umount2(r->mnt, MNT_DETACH); /* only if the daemon died without unmounting */
        unlink(r->mnt);
    }
    if (r->copy)
        unlink(r->copy);
    free(r->path);
    free(r->mnt);
    free(r->copy);
    *r = (bl_raw){.pid = -1};
}

/* The --blockdev and --export arguments, as JSON so that no path needs escaping. */
static void daemon_args(const char *image, const char *format, const char *mnt, kx_strv *argv)
{
    AUTOPTR(json_object) file = json_object_new_object();
    AUTOPTR(json_object) dev = json_object_new_object();
    AUTOPTR(json_object) exp = json_object_new_object();
    json_object_object_add(file, "driver", json_object_new_string("file"));
    json_object_object_add(file, "filename", json_object_new_string(image));
    json_object_object_add(dev, "driver", json_object_new_string(format));
    json_object_object_add(dev, "node-name", json_object_new_string("disk"));
    json_object_object_add(dev, "read-only", json_object_new_boolean(1));
    json_object_object_add(dev, "file", json_object_get(file));
    json_object_object_add(exp, "type", json_object_new_string("fuse"));
    json_object_object_add(exp, "id", json_object_new_string("disk"));
    json_object_object_add(exp, "node-name", json_object_new_string("disk"));
    json_object_object_add(exp, "mountpoint", json_object_new_string(mnt));
    json_object_object_add(exp, "writable", json_object_new_boolean(0));
    kx_strv_push(argv, "qemu-storage-daemon");
    kx_strv_push(argv, "--blockdev");
    kx_strv_push(argv, kx_json_text(dev));
    kx_strv_push(argv, "--export");
    kx_strv_push(argv, kx_json_text(exp));
}

/* Starts argv with stdout and stderr into log_fd; it gets SIGTERM if we die. */
static pid_t spawn_daemon(char *const argv[], int log_fd)
{
    pid_t pid = fork();
    if (pid < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork");
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(null, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        execvp(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Waits until the export is mounted on r->mnt (its st_dev changes from dev). */
static int wait_mounted(bl_raw *r, dev_t dev, int log_fd)
{
    for (int ms = 0; ms < EXPORT_WAIT_MS; ms += 10) {
        struct stat st;
        pid_t w = waitpid(r->pid, NULL, WNOHANG);
        if (w == r->pid || (w < 0 && errno == ECHILD)) { /* ECHILD: reaped by SIG_IGN */
            char msg[512] = "";
            ssize_t n = pread(log_fd, msg, sizeof(msg) - 1, 0);
            msg[n > 0 ? n : 0] = '\0';
            msg[strcspn(msg, "\n")] = '\0';
            r->pid = -1;
            kx_err(KXL_ERR_INTERNAL, "qemu-storage-daemon cannot export it: %s",
                   *msg ? msg : "no message");
            return -1;
        }
        if (stat(r->mnt, &st) == 0 && st.st_dev != dev)
            return 0;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    kx_err(KXL_ERR_INTERNAL, "qemu-storage-daemon did not export it within %d s",
           EXPORT_WAIT_MS / 1000);
    return -1;
}

/* A read-only FUSE export of the image as a raw file, out_dir/.bootloader-disk. */
static int raw_fuse(bl_raw *r, const char *image, const char *format, const char *out_dir)
{
    AUTOCLOSE int log_fd = memfd_create("qemu-storage-daemon", MFD_CLOEXEC);
    AUTOCLOSE int mfd = -1;
    kx_strv argv = KX_STRV_INIT;
    struct stat st;

    if (log_fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a memfd");
        return -1;
    }
    r->mnt = kx_path_join(out_dir, ".bootloader-disk");
    umount2(r->mnt, MNT_DETACH); /* left over by a daemon that was killed */
    mfd = open(r->mnt, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (mfd < 0 || fstat(mfd, &st) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot make the mountpoint '%s'", r->mnt);
        return -1;
    }
    daemon_args(image, format, r->mnt, &argv);
    r->pid = spawn_daemon(argv.v, log_fd);
    kx_strv_dispose(&argv);
    if (r->pid < 0 || wait_mounted(r, st.st_dev, log_fd) < 0)
        return -1;
    kx_debug("disk '%s': exported read-only as raw at '%s'", image, r->mnt);
    r->path = kx_strdup(r->mnt);
    return 0;
}

/* A sparse raw copy, out_dir/.bootloader-disk.raw: reads the whole image, writes its data. */
static int raw_convert(bl_raw *r, const char *image, const char *format, const char *out_dir)
{
    /* qemu-img takes "name:..." for a protocol; a path with a '/' in it is always a file */
    AUTOFREE char *src = strchr(image, '/') ? kx_strdup(image) : kx_asprintf("./%s", image);
    r->copy = kx_path_join(out_dir, ".bootloader-disk.raw");
    AUTOFREE char *dst = strchr(r->copy, '/') ? kx_strdup(r->copy)
                                              : kx_asprintf("./%s", r->copy);
    char *argv[] = {"qemu-img", "convert", "-q", "-f", (char *)format, "-O", "raw", src, dst,
                    NULL};
    if (kx_run(argv) < 0)
        return -1;
    r->path = kx_strdup(r->copy);
    return 0;
}

int bl_raw_open(bl_raw *r, const char *image, const char *format, const char *out_dir)
{
    if (!format || kx_streq(format, "raw")) {
        r->path = kx_strdup(image);
        return 0;
    }
    if (!in_list(format, export_formats)) {
        kx_err(KXL_ERR_INVALID, "disk '%s': the bootloader cannot read format '%s' (only raw "
               "and qcow2)", image, format);
        return -1;
    }
    if (access(image, R_OK) < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                     "disk '%s': cannot open it", image);
        return -1;
    }
    if (raw_fuse(r, image, format, out_dir) == 0)
        return 0;
    kx_info("disk '%s': %s; making a raw copy of it instead", image, kx_err_msg());
    kx_err_clear();
    bl_raw_close(r);
    return raw_convert(r, image, format, out_dir);
}
