/* cfg_hvm.c - hvm_devices = "emulated": the devices Xen shows an HVM guest that has no PV
 * drivers (a Windows guest, an installer): IDE disks and CD-ROMs, and Xen's emulated NIC
 * (rtl8139), instead of virtio, which such a guest cannot see. */
#include "cfg/cfg_hvm.h"

#include <string.h>

#include "util/buf.h"
#include "util/err.h"

#define IDE_PLACES 4   /* hda..hdd: two channels of two */

/* Disks named xvdX or sdX move to the IDE bus at the same index; hdX are there already,
 * vdX ask for virtio by name, and partition-style disks (xvda2) are virtio's always. */
static bool moves_to_ide(const kxl_disk *d)
{
    return d->bus != KXL_DISK_BUS_IDE && d->vdev && !d->partition &&
           (kx_startswith(d->vdev, "xvd") || kx_startswith(d->vdev, "sd"));
}

static int disks_to_ide(kxl_domcfg *cfg, const char *where)
{
    const kxl_disk *at[IDE_PLACES] = {NULL};
    for (size_t i = 0; i < cfg->n_disks; i++) {
        kxl_disk *d = &cfg->disks[i];
        if (moves_to_ide(d)) {
            if (d->index >= IDE_PLACES) {
                kx_err(KXL_ERR_CONFIG, "%s: disk '%s': with emulated devices disks are on "
                       "the IDE bus, which has four places (xvda..xvdd, hda..hdd); name it "
                       "vdX to keep it on virtio", where, d->vdev);
                return -1;
            }
            d->bus = KXL_DISK_BUS_IDE;
        }
        if (d->bus != KXL_DISK_BUS_IDE)
            continue;
        if (at[d->index]) {
            kx_err(KXL_ERR_CONFIG, "%s: disks '%s' and '%s' would both be IDE disk %d with "
                   "emulated devices", where, at[d->index]->vdev, d->vdev, d->index);
            return -1;
        }
        at[d->index] = d;
    }
    return 0;
}

int cfg_hvm_emulate(kxl_domcfg *cfg, const char *where)
{
    if (disks_to_ide(cfg, where) < 0)
        return -1;
    for (size_t i = 0; i < cfg->n_vifs; i++)
        if (!cfg->vifs[i].model)
            cfg->vifs[i].model = kx_strdup(CFG_HVM_EMULATED_NIC);
    return 0;
}

void cfg_hvm_ioemu_vifs(kxl_domcfg *cfg)
{
    for (size_t i = 0; i < cfg->n_vifs; i++) {
        kxl_vif *v = &cfg->vifs[i];
        if (!v->model && v->type && strcmp(v->type, "ioemu") == 0)
            v->model = kx_strdup(CFG_HVM_EMULATED_NIC);
    }
}
