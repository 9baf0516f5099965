/* boot_choose.c - which kernel the built-in pygrub boots: the first file system with kernels
 * (whole disk, then each partition), grub.cfg's default entry there, else the newest vmlinuz-*
 * with its initrd; and the kernel arguments when grub.cfg gives none. */
#include "boot/boot_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static const char *const grub_cfgs[] = {"grub/grub.cfg", "grub2/grub.cfg", NULL};
/* initrd names for a kernel vmlinuz-VERSION (prefix VERSION suffix), in the order tried: as
 * Debian, Fedora and others name them */
static const struct {
    const char *prefix, *suffix;
} initrd_names[] = {
    {"initrd.img-", ""}, {"initramfs-", ".img"}, {"initrd-", ".img"}, {"initrd-", ""},
};

static int cmp_version_desc(const void *a, const void *b)
{
    return strverscmp(*(char *const *)b, *(char *const *)a);
}

/* The newest kernel in dir: the highest version of vmlinuz-*, else a vmlinuz (symlink).
 * NULL if none. Caller frees. */
static char *newest_kernel(ext2_filsys fs, const char *dir)
{
    kx_strv names = KX_STRV_INIT;
    char *best = NULL;
    bl_ext_list(fs, dir, "vmlinuz-", &names);
    if (names.n)
        qsort(names.v, names.n, sizeof(*names.v), cmp_version_desc);
    for (size_t i = 0; i < names.n && !best; i++)
        if (bl_ext_file_in_dir(fs, dir, names.v[i]))
            best = kx_strdup(names.v[i]);
    kx_strv_dispose(&names);
    if (!best && bl_ext_file_in_dir(fs, dir, "vmlinuz"))
        best = kx_strdup("vmlinuz");
    return best;
}

static bool has_grub_cfg(ext2_filsys fs, const char *dir)
{
    for (size_t i = 0; grub_cfgs[i]; i++)
        if (bl_ext_file_in_dir(fs, dir, grub_cfgs[i]))
            return true;
    return false;
}

/* Where fs keeps kernels: "/boot" on a root file system, "" on a separate /boot; NULL if
 * it has none. */
static const char *kernel_dir(ext2_filsys fs)
{
    static const char *const dirs[] = {"/boot", ""};
    for (size_t i = 0; i < KX_ARRAY_SIZE(dirs); i++) {
        AUTOFREE char *k = NULL;
        if (has_grub_cfg(fs, dirs[i]) || (k = newest_kernel(fs, dirs[i])))
            return dirs[i];
    }
    return NULL;
}

char *bl_where_str(unsigned part)
{
    return part ? kx_asprintf("partition %u", part) : kx_strdup("the whole-disk file system");
}

/* Opens the first file system with kernels: the whole disk, then each partition in order. */
bl_extfs *bl_find_fs(const bl_disk *d, bl_where *w_r)
{
    for (size_t i = 0; i <= d->nparts; i++) {
        unsigned num = i ? d->parts[i - 1].num : 0;
        bl_extfs *fs = bl_ext_open(d, i ? d->parts[i - 1].offset : 0);
        const char *dir = fs ? kernel_dir(fs) : NULL;
        if (dir) {
            AUTOFREE char *where = bl_where_str(num);
            *w_r = (bl_where){num, dir};
            kx_debug("disk '%s': kernels in '%s/' of %s", d->image, dir, where);
            return fs;
        }
        bl_ext_close(fs);
    }
    kx_err(KXL_ERR_NOT_FOUND, "disk '%s': no ext2/3/4 file system with a kernel in /boot "
           "(looked at the whole disk and %zu partition%s)", d->image, d->nparts,
           d->nparts == 1 ? "" : "s");
    return NULL;
}

/* The default entry of grub.cfg in dir (with grubenv's saved_entry): 0; 1 when there is no
 * grub.cfg, or (*why_r says why, "PATH: ...") it has no usable entry. */
int bl_grub_entry(ext2_filsys fs, const char *dir, kx_bootentry *e, char **why_r)
{
    for (size_t i = 0; grub_cfgs[i]; i++) {
        AUTOFREE char *path = kx_asprintf("%s/%s", dir, grub_cfgs[i]);
        AUTOFREE char *text = bl_ext_read_text(fs, path);
        if (!text)
            continue;
        AUTOFREE char *env_path = kx_asprintf("%s/%.*s/grubenv", dir,
                                              (int)strcspn(grub_cfgs[i], "/"), grub_cfgs[i]);
        AUTOFREE char *env = bl_ext_read_text(fs, env_path);
        if (grubcfg_default_entry_env(text, env, e) == 0)
            return 0;
        /* "grub.cfg:4: ..." names the file it was read from */
        const char *msg = kx_err_msg();
        *why_r = kx_asprintf("%s%s", path, msg + (kx_startswith(msg, "grub.cfg") ? 8 : 0));
        kx_err_clear();
        return 1;
    }
    return 1;
}

/* Without (usable) grub.cfg: the newest kernel in dir and its initrd; cmdline stays NULL.
 * -1 (quietly) when dir has no kernel. */
int bl_newest_entry(ext2_filsys fs, const char *dir, kx_bootentry *e)
{
    AUTOFREE char *name = newest_kernel(fs, dir);
    if (!name)
        return -1;
    const char *version = kx_startswith(name, "vmlinuz-") ? name + strlen("vmlinuz-") : NULL;
    e->kernel = kx_asprintf("%s/%s", dir, name);
    e->title = kx_strdup(name);
    for (size_t i = 0; !e->initrd && i < KX_ARRAY_SIZE(initrd_names); i++) {
        AUTOFREE char *iname = version ? kx_asprintf("%s%s%s", initrd_names[i].prefix, version,
                                                     initrd_names[i].suffix)
                                       : kx_strdup("initrd.img");
        if (bl_ext_file_in_dir(fs, dir, iname))
            e->initrd = kx_asprintf("%s/%s", dir, iname);
    }
    return 0;
}

/* The cmdline when grub.cfg gave none: the root file system's partition as the guest's
 * first virtio disk sees it; for a separate /boot, the first other one with /etc/fstab. */
char *bl_default_cmdline(const bl_disk *d, const bl_where *w)
{
    if (*w->dir && w->part)
        return kx_asprintf("root=/dev/vda%u ro", w->part);
    if (*w->dir)
        return kx_strdup("root=/dev/vda ro");
    for (size_t i = 0; i < d->nparts; i++) {
        if (d->parts[i].num == w->part)
            continue;
        AUTOPTR(bl_extfs) fs = bl_ext_open(d, d->parts[i].offset);
        if (fs && bl_ext_is_file(fs, "/etc/fstab", NULL))
            return kx_asprintf("root=/dev/vda%u ro", d->parts[i].num);
    }
    return kx_strdup("ro");
}

