/* boot_ext.c - reading a guest's ext2/3/4 file system through libext2fs, without mounting it:
 * opened read-only on the disk's descriptor at a partition's offset, paths looked up with
 * symlinks followed inside the file system, files streamed out or read as bounded text. */
#include "boot/boot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <et/com_err.h>

#include "util/err.h"

#define COPY_CHUNK (256 << 10)

void bl_ext_close(bl_extfs *fs)
{
    ext2_filsys f = fs;
    if (f)
        ext2fs_close_free(&f);
}

/* The ext2/3/4 file system at byte offset off of the disk, read-only; NULL (quietly) if none.
 * It is read through the open fd (unixfd_io_manager), so a deprivileged reader needs no access
 * to the image's path. */
bl_extfs *bl_ext_open(const bl_disk *d, uint64_t off)
{
    AUTOFREE char *opts = kx_asprintf("offset=%llu", (unsigned long long)off);
    /* the I/O channel closes its descriptor with the file system: give it a copy */
    int fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
    AUTOFREE char *name = kx_asprintf("%d", fd);
    ext2_filsys fs = NULL;
    errcode_t err = fd < 0 ? errno : ext2fs_open2(name, opts, EXT2_FLAG_64BITS, 0, 0,
                                                  unixfd_io_manager, &fs);
    if (err && fd >= 0 && fcntl(fd, F_GETFD) >= 0)
        close(fd);   /* failed before a channel owned it */
    if (err) {
        kx_debug("'%s' at offset %llu: no ext2/3/4: %s", d->image, (unsigned long long)off,
                 error_message(err));
        return NULL;
    }
    return fs;
}

/* The inode of absolute path in fs, following symlinks within fs; 0 when missing. */
static ext2_ino_t extfs_lookup(ext2_filsys fs, const char *path)
{
    ext2_ino_t ino = 0;
    if (ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino) != 0)
        return 0;
    return ino;
}

/* Whether path (after symlinks) is a regular file; its inode in *ino_r if not NULL. */
bool bl_ext_is_file(ext2_filsys fs, const char *path, ext2_ino_t *ino_r)
{
    struct ext2_inode inode;
    ext2_ino_t ino = extfs_lookup(fs, path);
    if (!ino || ext2fs_read_inode(fs, ino, &inode) != 0 || !LINUX_S_ISREG(inode.i_mode))
        return false;
    if (ino_r)
        *ino_r = ino;
    return true;
}

bool bl_ext_file_in_dir(ext2_filsys fs, const char *dir, const char *name)
{
    AUTOFREE char *path = kx_asprintf("%s/%s", dir, name);
    return bl_ext_is_file(fs, path, NULL);
}

/* 0, or the errno of a failed write. */
static errcode_t write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno != EINTR)
            return errno;
        p += w > 0 ? w : 0;
        n -= w > 0 ? (size_t)w : 0;
    }
    return 0;
}

/* Streams a file to out_fd if >= 0, else into *text (up to max bytes). An errcode_t, which
 * for a failed write is the errno (com_err's error_message gives strerror for those). */
errcode_t bl_ext_read(ext2_filsys fs, ext2_ino_t ino, int out_fd, kx_buf *text, size_t max)
{
    ext2_file_t f = NULL;
    errcode_t err = ext2fs_file_open(fs, ino, 0, &f);
    AUTOFREE char *buf = err ? NULL : kx_malloc0(COPY_CHUNK);
    while (!err) {
        unsigned int got = 0;
        err = ext2fs_file_read(f, buf, COPY_CHUNK, &got);
        if (err || got == 0)
            break;
        if (out_fd < 0 && text->len + got > max)
            err = EFBIG;
        else if (out_fd < 0)
            kx_buf_addn(text, buf, got);
        else
            err = write_all(out_fd, buf, got);
    }
    if (f)
        ext2fs_file_close(f);
    return err;
}

/* A small text file (grub.cfg, grubenv) as a string; NULL when it is missing or unreadable. */
char *bl_ext_read_text(ext2_filsys fs, const char *path)
{
    ext2_ino_t ino;
    kx_buf text = KX_BUF_INIT;
    if (!bl_ext_is_file(fs, path, &ino))
        return NULL;
    errcode_t err = bl_ext_read(fs, ino, -1, &text, BL_TEXT_MAX);
    if (err) {
        kx_warn("cannot read '%s' in the guest file system: %s", path, error_message(err));
        kx_buf_dispose(&text);
        return NULL;
    }
    return kx_buf_steal(&text);
}

typedef struct {
    const char *prefix;
    kx_strv *names;
} list_ctx;

static int list_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
                   int blocksize, char *buf, void *priv)
{
    list_ctx *c = priv;
    size_t len = (size_t)ext2fs_dirent_name_len(de), plen = strlen(c->prefix);
    (void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
    if (len > plen && strncmp(de->name, c->prefix, plen) == 0)
        kx_strv_take(c->names, kx_strndup(de->name, len));
    return 0;
}

/* The names in directory dir ("" for the root) that start with prefix. */
void bl_ext_list(ext2_filsys fs, const char *dir, const char *prefix, kx_strv *names_r)
{
    list_ctx c = {prefix, names_r};
    ext2_ino_t ino = *dir ? extfs_lookup(fs, dir) : EXT2_ROOT_INO;
    if (ino && ext2fs_check_directory(fs, ino) == 0)
        ext2fs_dir_iterate2(fs, ino, 0, NULL, list_cb, &c);
}

uint64_t bl_ext_size(ext2_filsys fs, ext2_ino_t ino)
{
    struct ext2_inode inode;
    return ext2fs_read_inode(fs, ino, &inode) == 0 ? EXT2_I_SIZE(&inode) : 0;
}
