/* cfg_root.c - a Xen config names its disks as the guest saw them under Xen (xvda, and
 * xen-tools' xvda2 for an image that held one partition); on KVM the guest sees virtio disks,
 * vda, vdb, ... The kernel's root= is rewritten to that name; the names in the guest's own
 * files (fstab) are another matter (boot_xennames.c). */
#include "cfg/cfg_root.h"

#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"

bool cfg_disk_is_virtio_blk(const kxl_disk *d)
{
    return d->bus == KXL_DISK_BUS_VIRTIO && !d->cdrom && !d->unplugged;
}

/* vda for 0, vdz for 25, vdaa for 26: the kernel's sd-style letters. */
static char *virtio_name(size_t n)
{
    char letters[8];
    size_t len = 0;
    for (size_t v = n + 1; v > 0 && len < sizeof(letters); v = (v - 1) / 26)
        letters[len++] = (char)('a' + (v - 1) % 26);
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "vd");
    while (len > 0)
        kx_buf_addc(&b, letters[--len]);
    return kx_buf_steal(&b);
}

char *cfg_guest_disk_name(const kxl_domcfg *cfg, size_t i)
{
    if (i >= cfg->n_disks || !cfg_disk_is_virtio_blk(&cfg->disks[i]))
        return NULL;
    size_t before = 0;
    for (size_t k = 0; k < i; k++)
        before += cfg_disk_is_virtio_blk(&cfg->disks[k]);
    return virtio_name(before);
}

static bool xen_name(const char *vdev)
{
    return kx_startswith(vdev, "xvd") || kx_startswith(vdev, "hd") || kx_startswith(vdev, "sd");
}

/* The disk NAME (n bytes) stands for, and the partition suffix left over: "xvda2" is the
 * partition-style disk xvda2 (suffix ""), or partition 2 of a whole disk xvda ("2"). */
static int disk_named(const kxl_domcfg *cfg, const char *name, size_t n, size_t *suffix_r)
{
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const char *vdev = cfg->disks[i].vdev;
        size_t len = vdev ? strlen(vdev) : 0;
        if (!len || len > n || strncmp(vdev, name, len) != 0 || !xen_name(vdev))
            continue;
        bool exact = len == n;
        bool partition_of_whole = !cfg->disks[i].partition &&
                                  strspn(name + len, "0123456789") == n - len;
        if (exact || partition_of_whole) {
            *suffix_r = len;
            return (int)i;
        }
    }
    return -1;
}

int cfg_root_for_kvm(kxl_domcfg *cfg, char **old_r, char **new_r)
{
    const char *cmd = cfg->cmdline;
    for (const char *w = cmd; w && *w;) {
        w += strspn(w, " \t");
        size_t len = strcspn(w, " \t");
        const char *name = w + strlen("root=/dev/");
        size_t n = len > strlen("root=/dev/") ? len - strlen("root=/dev/") : 0;
        size_t suffix = 0;
        int i = n && strncmp(w, "root=/dev/", strlen("root=/dev/")) == 0
                    ? disk_named(cfg, name, n, &suffix)
                    : -1;
        AUTOFREE char *guest = i >= 0 ? cfg_guest_disk_name(cfg, (size_t)i) : NULL;
        if (guest) {
            *old_r = kx_strndup(name, n);
            *new_r = kx_asprintf("%s%.*s", guest, (int)(n - suffix), name + suffix);
            char *line = kx_asprintf("%.*sroot=/dev/%s%s", (int)(w - cmd), cmd, *new_r,
                                     w + len);
            free(cfg->cmdline);
            cfg->cmdline = line;
            return i;
        }
        w += len;
    }
    return -1;
}

int cfg_root_partition_disk(const kxl_domcfg *cfg)
{
    const char *root = cfg->cmdline ? strstr(cfg->cmdline, "root=/dev/") : NULL;
    if (!root || (root != cfg->cmdline && root[-1] != ' ' && root[-1] != '\t'))
        return -1;
    root += strlen("root=/dev/");
    size_t n = strcspn(root, " \t");
    for (size_t i = 0; i < cfg->n_disks; i++) {
        AUTOFREE char *guest = cfg->disks[i].partition ? cfg_guest_disk_name(cfg, i) : NULL;
        if (guest && strlen(guest) == n && strncmp(guest, root, n) == 0)
            return (int)i;
    }
    return -1;
}
