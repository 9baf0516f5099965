/* boot_xennames.c - a guest moved from Xen names its disks /dev/xvda2 in its own files
 * (fstab, above all xen-tools' swap on /dev/xvda1). On KVM its disks are virtio's, vda, vdb,
 * and each carries its Xen name as its serial (qemu_argv.c); a udev rule in the guest turns
 * the serials into the old names. kxl writes that rule into the guest's root file system,
 * through libext2fs in a child that has become the domain's user: the file system is the
 * guest's, and libext2fs is not built to resist a malicious one. */
#include "boot/boot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <et/com_err.h>

#include "util/err.h"
#include "util/fileio.h"

const char bootloader_xen_names_rule[] =
    "# Written by kxl (kxl.cfg(5), \"Partition-style disks\"): kxl gives each disk of this\n"
    "# guest its Xen name (xvda2) as its serial; these links make the names this guest's\n"
    "# files use (/dev/xvda2, /dev/xvda1) exist on KVM, where the disks are vda, vdb, ...\n"
    "SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"disk\", KERNEL==\"vd*\", "
    "ATTR{serial}==\"xvd*|hd*|sd*\", SYMLINK+=\"$attr{serial}\"\n"
    "SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"partition\", KERNEL==\"vd*\", "
    "ATTRS{serial}==\"xvd*|hd*|sd*\", SYMLINK+=\"$attr{serial}%n\"\n";

enum { XN_WROTE = 0, XN_PRESENT = 10, XN_FAILED = 1 };

static int fs_err(errcode_t err, const char *image, const char *what)
{
    kx_err(KXL_ERR_INTERNAL, "disk '%s': %s: %s", image, what, error_message(err));
    return -1;
}

/* The directory name in dir, made when missing; a symlink or a file there is refused: the
 * rule is written where the guest's udev reads it, never through a link. */
static int ensure_dir(ext2_filsys fs, ext2_ino_t dir, const char *name, bool make,
                      const char *image, ext2_ino_t *ino_r)
{
    errcode_t err = ext2fs_lookup(fs, dir, name, (int)strlen(name), NULL, ino_r);
    if (err == EXT2_ET_FILE_NOT_FOUND && make) {
        err = ext2fs_mkdir(fs, dir, 0, name);
        if (err == EXT2_ET_DIR_NO_SPACE && !(err = ext2fs_expand_dir(fs, dir)))
            err = ext2fs_mkdir(fs, dir, 0, name);
        if (!err)
            err = ext2fs_lookup(fs, dir, name, (int)strlen(name), NULL, ino_r);
    }
    if (err == EXT2_ET_FILE_NOT_FOUND) {
        kx_err(KXL_ERR_NOT_FOUND, "disk '%s' has no /etc/%s: the guest has no udev", image,
               name);
        return -1;
    }
    if (err)
        return fs_err(err, image, name);
    struct ext2_inode inode;
    if ((err = ext2fs_read_inode(fs, *ino_r, &inode)))
        return fs_err(err, image, name);
    if (!LINUX_S_ISDIR(inode.i_mode)) {
        kx_err(KXL_ERR_INVALID, "disk '%s': '%s' is not a directory (a symlink?): not written "
               "through", image, name);
        return -1;
    }
    return 0;
}

/* A new empty regular file name in dir, as root's, mode 0644. */
static errcode_t new_file(ext2_filsys fs, ext2_ino_t dir, const char *name, ext2_ino_t *ino_r)
{
    errcode_t err = ext2fs_new_inode(fs, dir, LINUX_S_IFREG | 0644, NULL, ino_r);
    if (err)
        return err;
    err = ext2fs_link(fs, dir, name, *ino_r, EXT2_FT_REG_FILE);
    if (err == EXT2_ET_DIR_NO_SPACE && !(err = ext2fs_expand_dir(fs, dir)))
        err = ext2fs_link(fs, dir, name, *ino_r, EXT2_FT_REG_FILE);
    if (err)
        return err;
    ext2fs_inode_alloc_stats2(fs, *ino_r, +1, 0);
    struct ext2_inode inode = {0};
    inode.i_mode = LINUX_S_IFREG | 0644;
    inode.i_links_count = 1;
    inode.i_atime = inode.i_ctime = inode.i_mtime = (__u32)time(NULL);
    if (ext2fs_has_feature_extents(fs->super)) {
        /* an empty extent tree in the inode, as the kernel makes for a new file */
        ext2_extent_handle_t handle;
        if ((err = ext2fs_extent_open2(fs, *ino_r, &inode, &handle)))
            return err;
        ext2fs_extent_free(handle);
    }
    return ext2fs_write_new_inode(fs, *ino_r, &inode);
}

static errcode_t write_text(ext2_filsys fs, ext2_ino_t ino, const char *text)
{
    ext2_file_t file;
    unsigned int done = 0;
    errcode_t err = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &file);
    if (err)
        return err;
    err = ext2fs_file_set_size2(file, 0);
    if (!err)
        err = ext2fs_file_write(file, text, (unsigned int)strlen(text), &done);
    if (!err && done != strlen(text))
        err = EXT2_ET_SHORT_READ;
    errcode_t cerr = ext2fs_file_close(file);
    return err ? err : cerr;
}

/* Writes the rule unless the same is there: XN_WROTE or XN_PRESENT, or -1 with kx_err. */
static int put_rule(ext2_filsys fs, const char *image)
{
    static const char *const dirs[] = {"etc", "udev", "rules.d"};
    const char *name = strrchr(BOOTLOADER_XEN_NAMES_PATH, '/') + 1;
    ext2_ino_t dir = EXT2_ROOT_INO, ino;
    for (size_t i = 0; i < KX_ARRAY_SIZE(dirs); i++)
        if (ensure_dir(fs, dir, dirs[i], i == 2, image, &dir) < 0)
            return -1;
    errcode_t err = ext2fs_lookup(fs, dir, name, (int)strlen(name), NULL, &ino);
    if (!err) {
        AUTOFREE char *old = bl_ext_read_text(fs, BOOTLOADER_XEN_NAMES_PATH);
        if (old && strcmp(old, bootloader_xen_names_rule) == 0)
            return XN_PRESENT;
        if (!bl_ext_is_file(fs, BOOTLOADER_XEN_NAMES_PATH, NULL)) {
            kx_err(KXL_ERR_INVALID, "disk '%s': %s is not a regular file: not replaced", image,
                   BOOTLOADER_XEN_NAMES_PATH);
            return -1;
        }
    } else if (err != EXT2_ET_FILE_NOT_FOUND || (err = new_file(fs, dir, name, &ino))) {
        return fs_err(err, image, "cannot make the rule's file");
    }
    if ((err = write_text(fs, ino, bootloader_xen_names_rule)))
        return fs_err(err, image, "cannot write the rule");
    return XN_WROTE;
}

/* Opens the file system that fills the image for writing; NULL with kx_err when it is not
 * one kxl may write: not ext2/3/4, or not clean (its journal is the guest's to replay). */
static ext2_filsys open_rw(int fd, const char *image)
{
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    AUTOFREE char *name = kx_asprintf("%d", dup);
    ext2_filsys fs = NULL;
    errcode_t err = dup < 0 ? errno : ext2fs_open2(name, NULL, EXT2_FLAG_RW | EXT2_FLAG_64BITS,
                                                   0, 0, unixfd_io_manager, &fs);
    if (err) {
        if (dup >= 0 && fcntl(dup, F_GETFD) >= 0)
            close(dup);
        kx_err(KXL_ERR_INVALID, "disk '%s' holds no ext2/3/4 file system (%s)", image,
               error_message(err));
        return NULL;
    }
    const char *why = ext2fs_has_feature_journal_needs_recovery(fs->super)
                          ? "its journal needs replaying"
                      : !(fs->super->s_state & EXT2_VALID_FS) ? "it was not cleanly unmounted"
                      : ext2fs_has_feature_inline_data(fs->super) ? "it has inline data"
                                                                  : NULL;
    if (!why && !(err = ext2fs_read_bitmaps(fs)))
        return fs;
    kx_err(KXL_ERR_STATE, "disk '%s': not written: %s", image,
           why ? why : error_message(err));
    ext2fs_close_free(&fs);
    return NULL;
}

static int write_rule(int fd, const char *image)
{
    ext2_filsys fs = open_rw(fd, image);
    if (!fs)
        return -1;
    int r = put_rule(fs, image);
    errcode_t err = ext2fs_close_free(&fs);
    if (err && r >= 0)
        return fs_err(err, image, "cannot write the file system back");
    return r;
}

/* In the child: becomes uid/gid for good, writes the rule, and says how it went: the exit
 * status, and the error's text on out_fd. Never returns. */
static void rule_child(uid_t uid, gid_t gid, int fd, const char *image, int out_fd)
{
    int r = -1;
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        kx_err_errno(KXL_ERR_INTERNAL, "cannot drop privileges to write disk '%s'", image);
    else
        r = write_rule(fd, image);
    if (r < 0)
        kx_write_all(out_fd, kx_err_msg(), strlen(kx_err_msg()));
    _exit(r < 0 ? XN_FAILED : r);
}

static int run_child(uid_t uid, gid_t gid, int fd, const char *image)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return kx_err_errno(KXL_ERR_INTERNAL, "cannot make a pipe"), -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        rule_child(uid, gid, fd, image, pipefd[1]);
    }
    close(pipefd[1]);
    kx_buf msg = KX_BUF_INIT;
    kx_read_all(pipefd[0], &msg, 4096);
    close(pipefd[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : XN_FAILED;
    if (code == XN_FAILED)
        kx_err(KXL_ERR_INVALID, "%s", msg.len ? kx_buf_str(&msg)
                                              : "the writer of the guest's disk failed");
    kx_buf_dispose(&msg);
    return code == XN_FAILED ? -1 : code == XN_WROTE ? 1 : 0;
}

int bootloader_xen_names_as(uid_t uid, gid_t gid, const char *image)
{
    initialize_ext2_error_table();
    AUTOCLOSE int fd = open(image, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                     "disk '%s': cannot open it for writing", image);
        return -1;
    }
    if (uid)
        return run_child(uid, gid, fd, image);
    int r = write_rule(fd, image);
    return r < 0 ? -1 : r == XN_WROTE ? 1 : 0;
}
