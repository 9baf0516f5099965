/* bootloader.c - pygrub's job for kxl (bootloader.h): find the ext2/3/4 file system holding
 * the kernel on a guest's disk image, choose the kernel, and copy kernel and initrd out,
 * without mounting anything; the steps live in boot_*.c (boot_internal.h). */
#include "boot/boot_internal.h"

#include <errno.h>
#include <fcntl.h>

#include <et/com_err.h>

#include "util/err.h"
#include "util/fileio.h"

/* The whole job on a raw view of the disk, open as fd. */
int bl_extract(const char *image, int fd, const char *out_dir, kx_bootentry *e)
{
    bl_disk d = {.image = image, .fd = fd, .out_dir = out_dir};
    AUTOFREE char *why = NULL;
    bl_where w;
    bl_parts_read(&d);
    AUTOPTR(bl_extfs) fs = bl_find_fs(&d, &w);
    if (!fs)
        return -1;
    if (e->kernel) {
        /* the config named them (xl's bootloader with kernel and ramdisk): no menu */
        free(e->cmdline);
        e->cmdline = NULL;
    } else if (bl_grub_entry(fs, w.dir, e, &why) != 0 && bl_newest_entry(fs, w.dir, e) < 0) {
        kx_err(KXL_ERR_CONFIG, "disk '%s': %s", image, why ? why : "grub.cfg is unreadable");
        return -1;
    }
    if (why)
        kx_warn("disk '%s': %s; booting the newest kernel instead", image, why);
    if (bl_copy_files(&d, fs, &w, e) < 0)
        return -1;
    if (!e->cmdline)
        e->cmdline = bl_default_cmdline(&d, &w);
    return 0;
}

int bootloader_extract_as(uid_t uid, gid_t gid, const char *image, const char *format,
                          const char *out_dir, kx_bootentry *e_r)
{
    bl_raw raw = {.pid = -1};
    int r = -1;
    /* a kernel (and initrd) named on entry stay: the ones to copy */
    AUTOFREE char *kernel = e_r->kernel ? kx_strdup(e_r->kernel) : NULL;
    AUTOFREE char *initrd = e_r->kernel && e_r->initrd ? kx_strdup(e_r->initrd) : NULL;
    kx_bootentry_dispose(e_r);
    e_r->kernel = TAKE_PTR(kernel);
    e_r->initrd = TAKE_PTR(initrd);
    initialize_ext2_error_table();
    if (kx_mkdir_p(out_dir, 0755) == 0 && bl_raw_open(&raw, image, format, out_dir) == 0) {
        AUTOCLOSE int fd = open(raw.path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                         "disk '%s': cannot open it", image);
        else
            r = uid ? bl_extract_as(uid, gid, image, fd, out_dir, e_r)
                     : bl_extract(image, fd, out_dir, e_r);
    }
    bl_raw_close(&raw);
    if (r < 0)
        kx_bootentry_dispose(e_r);
    return r;
}

int bootloader_extract(const char *image, const char *format, const char *out_dir,
                       kx_bootentry *e_r)
{
    return bootloader_extract_as(0, 0, image, format, out_dir, e_r);
}
