/* boot_copy.c - copying the chosen kernel and initrds out of the guest's file system into the
 * domain's directory, with grub.cfg's paths resolved against a separate /boot, and the sizes
 * bounded: the guest owns these files, and a huge one must not fill the host's disk. */
#include "boot/boot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <et/com_err.h>

#include "util/err.h"
#include "util/fileio.h"

#define KERNEL_MAX_MIB 256
#define INITRD_MAX_MIB 2048   /* all initrds of an entry together */

/* Finds a grub.cfg path in fs: as written (relative to GRUB's root device), else with the
 * root file system's /boot added, or a /boot file system's "/boot" taken off. */
static char *resolve(ext2_filsys fs, const bl_where *w, const char *path, ext2_ino_t *ino_r)
{
    if (bl_ext_is_file(fs, path, ino_r))
        return kx_strdup(path);
    AUTOFREE char *alt = NULL;
    if (*w->dir && !kx_startswith(path, "/boot/"))
        alt = kx_asprintf("%s%s", w->dir, path);
    else if (!*w->dir && kx_startswith(path, "/boot/"))
        alt = kx_strdup(path + strlen("/boot"));
    if (alt && bl_ext_is_file(fs, alt, ino_r))
        return TAKE_PTR(alt);
    return NULL;
}

/* One output file being written: the kernel, or the initrds one after another. */
typedef struct {
    const char *what;   /* "kernel" or "initrd", for messages */
    const char *title;  /* the entry's, for messages */
    const char *dest;
    unsigned max_mib;   /* for all its files together */
    int fd;
    uint64_t total;
} bl_copy;

/* Appends the file at path (a grub.cfg path, see resolve) to c->fd; returns the path it has
 * in fs, or NULL with kx_err. Caller frees. */
static char *copy_one(const bl_disk *d, ext2_filsys fs, const bl_where *w, bl_copy *c,
                      const char *path)
{
    ext2_ino_t ino = 0;
    AUTOFREE char *where = bl_where_str(w->part);
    AUTOFREE char *real = resolve(fs, w, path, &ino);
    if (!real) {
        kx_err(KXL_ERR_NOT_FOUND, "disk '%s': %s '%s' of entry '%s' is not on %s", d->image,
               c->what, path, c->title, where);
        return NULL;
    }
    c->total += bl_ext_size(fs, ino);
    if (c->total > (uint64_t)c->max_mib << 20) {
        kx_err(KXL_ERR_INVALID, "disk '%s': %s '%s' on %s is larger than %u MiB", d->image,
               c->what, real, where, c->max_mib);
        return NULL;
    }
    errcode_t err = bl_ext_read(fs, ino, c->fd, NULL, 0);
    if (err) {
        kx_err(KXL_ERR_INTERNAL, "disk '%s': cannot copy '%s' from %s to '%s': %s", d->image,
               real, where, c->dest, error_message(err));
        return NULL;
    }
    return TAKE_PTR(real);
}

/* Copies the files named in *paths (separated by spaces) into c->dest and replaces *paths
 * with the paths found. On failure, c->dest is removed. */
static int copy_out(const bl_disk *d, ext2_filsys fs, const bl_where *w, bl_copy *c,
                    char **paths)
{
    AUTOCLOSE int fd = open(c->dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    kx_buf found = KX_BUF_INIT;
    int r = 0;
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "disk '%s': cannot write '%s'", d->image, c->dest);
        return -1;
    }
    c->fd = fd;
    for (const char *p = *paths; r == 0 && *p;) {
        size_t len = strcspn(p, " ");
        AUTOFREE char *one = kx_strndup(p, len);
        AUTOFREE char *real = copy_one(d, fs, w, c, one);
        if (real)
            kx_buf_printf(&found, "%s%s", found.len ? " " : "", real);
        r = real ? 0 : -1;
        p += len + strspn(p + len, " ");
    }
    if (r < 0) {
        unlink(c->dest);
        kx_buf_dispose(&found);
        return -1;
    }
    free(*paths);
    *paths = kx_buf_steal(&found);
    return 0;
}

int bl_copy_files(const bl_disk *d, ext2_filsys fs, const bl_where *w, kx_bootentry *e)
{
    AUTOFREE char *kdest = kx_path_join(d->out_dir, "vmlinuz");
    AUTOFREE char *idest = kx_path_join(d->out_dir, "initrd.img");
    bl_copy kernel = {"kernel", e->title, kdest, KERNEL_MAX_MIB, -1, 0};
    bl_copy initrd = {"initrd", e->title, idest, INITRD_MAX_MIB, -1, 0};
    if (copy_out(d, fs, w, &kernel, &e->kernel) < 0)
        return -1;
    if (e->initrd)
        return copy_out(d, fs, w, &initrd, &e->initrd);
    if (unlink(idest) < 0 && errno != ENOENT) {
        kx_err_errno(KXL_ERR_INTERNAL, "disk '%s': cannot remove the old '%s'", d->image, idest);
        return -1;
    }
    return 0;
}
