/* pci.c - host PCI devices for guests (pci = [ ... ]) through vfio: whether a device can be
 * given (it exists, the host has an IOMMU, its IOMMU group holds nothing a host driver still
 * uses), and making it assignable (bound to vfio-pci) and giving it back, as xl's
 * pci-assignable-add/-remove do with pciback. The driver a device had is kept under
 * var/lib/kxl/pci/ for its return. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg_pci.h"
#include "kxl/ops.h"
#include "lib/pci.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
#define VFIO "vfio-pci"

/* The name of the driver bound to the device, or NULL when none. */
static char *driver_of(const char *bdf)
{
    AUTOFREE char *link = kx_asprintf(PCI_DEVICES "/%s/driver", bdf);
    char target[PATH_MAX];
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return NULL;
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    return kx_strdup(base ? base + 1 : target);
}

static int write_sys(const char *path, const char *value)
{
    AUTOCLOSE int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, strlen(value)) < 0) {
        kx_err_errno(KXL_ERR_HOST, "cannot write '%s' to %s", value, path);
        return -1;
    }
    return 0;
}

/* The device's IOMMU group directory, or NULL with the reason. */
static char *iommu_group(const char *bdf)
{
    AUTOFREE char *dev = kx_asprintf(PCI_DEVICES "/%s", bdf);
    if (!kx_path_exists(dev)) {
        kx_err(KXL_ERR_NOT_FOUND, "there is no PCI device %s on this host (lspci -D lists "
               "them)", bdf);
        return NULL;
    }
    AUTOFREE char *link = kx_asprintf("%s/iommu_group", dev);
    char *group = realpath(link, NULL);
    if (!group)
        kx_err(KXL_ERR_HOST, "PCI device %s has no IOMMU group: this host has no IOMMU "
               "enabled (VT-d / AMD-Vi in the firmware, and intel_iommu=on or amd_iommu=on on "
               "the kernel's command line), so no device can be given to a guest", bdf);
    return group;
}

/* Every device of the group must be free of host drivers (vfio-pci, or none; bridges stay). */
static int group_is_free(const char *bdf, const char *group)
{
    AUTOFREE char *dir = kx_asprintf("%s/devices", group);
    DIR *d = opendir(dir);
    int r = 0;
    for (struct dirent *e; d && r == 0 && (e = readdir(d));) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, bdf) == 0)
            continue;
        AUTOFREE char *drv = driver_of(e->d_name);
        if (drv && strcmp(drv, VFIO) != 0 && strcmp(drv, "pcieport") != 0) {
            kx_err(KXL_ERR_STATE, "PCI device %s shares its IOMMU group with %s, which %s "
                   "drives: give that one up too (kxl pci-assignable-add %s)", bdf,
                   e->d_name, drv, e->d_name);
            r = -1;
        }
    }
    if (d)
        closedir(d);
    return r;
}

static char *saved_driver_file(const kxl_paths *p, const char *bdf)
{
    return kx_asprintf("%s/pci/%s.driver", p->lib_dir, bdf);
}

int kxl_pci_assignable_add(const kxl_paths *p, const char *device)
{
    char bdf[13];
    if (!cfg_pci_bdf(device, strlen(device), bdf)) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a PCI address ([DDDD:]BB:DD.F)", device);
        return -1;
    }
    AUTOFREE char *group = iommu_group(bdf);
    if (!group)
        return -1;
    AUTOFREE char *drv = driver_of(bdf);
    if (drv && strcmp(drv, VFIO) == 0)
        return 0;
    AUTOFREE char *saved = saved_driver_file(p, bdf);
    AUTOFREE char *dir = kx_asprintf("%s/pci", p->lib_dir);
    if (kx_mkdir_p(dir, 0700) < 0 ||
        kx_write_file_atomic(saved, drv ? drv : "", drv ? strlen(drv) : 0, 0600) < 0)
        return -1;
    AUTOFREE char *override = kx_asprintf(PCI_DEVICES "/%s/driver_override", bdf);
    AUTOFREE char *unbind = kx_asprintf(PCI_DEVICES "/%s/driver/unbind", bdf);
    if (write_sys(override, VFIO) < 0 || (drv && write_sys(unbind, bdf) < 0) ||
        write_sys("/sys/bus/pci/drivers_probe", bdf) < 0)
        return -1;
    AUTOFREE char *now = driver_of(bdf);
    if (!now || strcmp(now, VFIO) != 0) {
        kx_err(KXL_ERR_HOST, "PCI device %s did not bind to vfio-pci (is the vfio-pci module "
               "loaded? modprobe vfio-pci)", bdf);
        return -1;
    }
    return 0;
}

int kxl_pci_assignable_remove(const kxl_paths *p, const char *device, bool rebind)
{
    char bdf[13];
    if (!cfg_pci_bdf(device, strlen(device), bdf)) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a PCI address ([DDDD:]BB:DD.F)", device);
        return -1;
    }
    AUTOFREE char *drv = driver_of(bdf);
    if (!drv || strcmp(drv, VFIO) != 0) {
        kx_err(KXL_ERR_STATE, "PCI device %s is not assignable (not bound to vfio-pci)", bdf);
        return -1;
    }
    AUTOFREE char *override = kx_asprintf(PCI_DEVICES "/%s/driver_override", bdf);
    AUTOFREE char *unbind = kx_asprintf(PCI_DEVICES "/%s/driver/unbind", bdf);
    if (write_sys(unbind, bdf) < 0 || write_sys(override, "\n") < 0)
        return -1;
    AUTOFREE char *saved = saved_driver_file(p, bdf);
    unlink(saved);
    /* -r: its old driver takes it again (the kernel's match, as at boot) */
    return rebind ? write_sys("/sys/bus/pci/drivers_probe", bdf) : 0;
}

int kxl_pci_assignable_list(char ***bdfs_r)
{
    kx_strv out = KX_STRV_INIT;
    DIR *d = opendir(PCI_DEVICES);
    for (struct dirent *e; d && (e = readdir(d));) {
        AUTOFREE char *drv = e->d_name[0] != '.' ? driver_of(e->d_name) : NULL;
        if (drv && strcmp(drv, VFIO) == 0)
            kx_strv_push(&out, e->d_name);
    }
    if (d)
        closedir(d);
    if (!out.v)
        kx_strv_push(&out, "");   /* an empty vector still ends in NULL */
    if (out.n == 1 && !out.v[0][0]) {
        free(out.v[0]);
        out.v[0] = NULL;
        out.n = 0;
    }
    *bdfs_r = out.v;
    return 0;
}

int host_pci_check(const kxl_paths *p, const kxl_domcfg *cfg)
{
    for (size_t i = 0; i < cfg->n_pci; i++) {
        const kxl_pcidev *dev = &cfg->pci[i];
        AUTOFREE char *group = iommu_group(dev->bdf);
        if (!group || group_is_free(dev->bdf, group) < 0)
            return -1;
        AUTOFREE char *drv = driver_of(dev->bdf);
        if (drv && strcmp(drv, VFIO) == 0)
            continue;
        if (dev->seize) {
            if (kxl_pci_assignable_add(p, dev->bdf) < 0)
                return -1;
            continue;
        }
        kx_err(KXL_ERR_STATE, "PCI device %s is %s%s: make it assignable first (kxl "
               "pci-assignable-add %s), or say seize=1 in its pci entry", dev->bdf,
               drv ? "driven by " : "not bound to vfio-pci", drv ? drv : "", dev->bdf);
        return -1;
    }
    return 0;
}
