/* ops_devices.c - a running domain's devices: disks and CD-ROM media, vifs; hot-plugged by its
 * supervisor, listed from the config the supervisor keeps. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ops_call.h"
#include "lib/runtime.h"
#include "lib/vif.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

int kxl_block_attach(const kxl_paths *p, const char *dom, const char *spec)
{
    return op_call(p, KXL_OP_BLOCK_ATTACH, dom, op_args("spec", spec, NULL), NULL);
}

int kxl_block_detach(const kxl_paths *p, const char *dom, const char *vdev)
{
    return op_call(p, KXL_OP_BLOCK_DETACH, dom, op_args("vdev", vdev, NULL), NULL);
}

int kxl_cd_insert(const kxl_paths *p, const char *dom, const char *vdev, const char *file)
{
    char real[PATH_MAX];
    /* the supervisor's working directory is not the caller's; a missing file it reports */
    const char *target = realpath(file, real) ? real : file;
    return op_call(p, KXL_OP_CD_INSERT, dom, op_args("vdev", vdev, "target", target, NULL),
                   NULL);
}

int kxl_cd_eject(const kxl_paths *p, const char *dom, const char *vdev)
{
    return op_call(p, KXL_OP_CD_EJECT, dom, op_args("vdev", vdev, NULL), NULL);
}

int kxl_block_list(const kxl_paths *p, const char *dom, kxl_disk **disks_r, size_t *n_r)
{
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (kxl_domain_config(p, dom, &cfg) < 0)
        return -1;
    /* the plugged disks move out of the config; unplugged ones stay to be freed with it */
    kxl_disk *out = kx_malloc0((cfg->n_disks + 1) * sizeof(*out));
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_disks; i++) {
        if (cfg->disks[i].unplugged)
            continue;
        out[n++] = cfg->disks[i];
        cfg->disks[i] = (kxl_disk){0};
    }
    *disks_r = out;
    *n_r = n;
    return 0;
}

void kxl_disks_free(kxl_disk *disks, size_t n)
{
    for (size_t i = 0; disks && i < n; i++)
        kxl_disk_dispose(&disks[i]);
    free(disks);
}

json_object *kxl_disk_to_json(const kxl_disk *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "vdev", json_object_new_string(d->vdev ? d->vdev : ""));
    json_object_object_add(o, "type", json_object_new_string(d->cdrom ? "cdrom" : "disk"));
    json_object_object_add(o, "bus", json_object_new_string(kxl_disk_bus_to_string(d->bus)));
    json_object_object_add(o, "format",
                           json_object_new_string(kxl_disk_format_to_string(d->format)));
    /* CD-ROMs are read-only whatever the config says */
    json_object_object_add(o, "mode", json_object_new_string(d->readonly || d->cdrom ? "r"
                                                                                     : "w"));
    json_object_object_add(o, "target", d->target ? json_object_new_string(d->target) : NULL);
    json_object_object_add(o, "discard", json_object_new_boolean(d->discard));
    return o;
}

int kxl_network_attach(const kxl_paths *p, const char *dom, const char *spec, char **devid_r)
{
    AUTOPTR(json_object) ret = NULL;
    if (op_call(p, KXL_OP_NETWORK_ATTACH, dom, op_args("spec", spec, NULL), &ret) < 0)
        return -1;
    const char *devid = kx_json_str(ret, "devid", NULL);
    if (devid_r)
        *devid_r = devid ? kx_strdup(devid) : NULL;
    return 0;
}

int kxl_network_detach(const kxl_paths *p, const char *dom, const char *vif)
{
    return op_call(p, KXL_OP_NETWORK_DETACH, dom, op_args("vif", vif, NULL), NULL);
}

int kxl_vif_list(const kxl_paths *p, const char *dom, kxl_vif_info **vifs_r, size_t *n_r)
{
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (kxl_domain_config(p, dom, &cfg) < 0)
        return -1;
    ops_vifs_take(cfg, vifs_r, n_r);
    return 0;
}

void ops_vifs_take(kxl_domcfg *cfg, kxl_vif_info **vifs_r, size_t *n_r)
{
    kxl_vif_info *out = kx_malloc0((cfg->n_vifs + 1) * sizeof(*out));
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_vifs; i++) {
        if (cfg->vifs[i].unplugged)
            continue;
        kxl_vif_info *v = &out[n++];
        v->devid = (unsigned)i;
        v->vif = cfg->vifs[i];
        cfg->vifs[i] = (kxl_vif){0};
        vif_counters c;
        vif_read_counters(v->vif.vifname ? v->vif.vifname : "", &c);
        v->rx_bytes = c.rx_bytes;
        v->rx_packets = c.rx_packets;
        v->tx_bytes = c.tx_bytes;
        v->tx_packets = c.tx_packets;
    }
    *vifs_r = out;
    *n_r = n;
}

json_object *kxl_vif_counters_to_json(const kxl_vif_info *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "devid", json_object_new_int64(v->devid));
    json_object_object_add(o, "vifname", json_object_new_string(v->vif.vifname ? v->vif.vifname
                                                                               : ""));
    json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)v->rx_bytes));
    json_object_object_add(o, "rx_packets", json_object_new_int64((int64_t)v->rx_packets));
    json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)v->tx_bytes));
    json_object_object_add(o, "tx_packets", json_object_new_int64((int64_t)v->tx_packets));
    return o;
}

void kxl_vif_infos_free(kxl_vif_info *vifs, size_t n)
{
    for (size_t i = 0; vifs && i < n; i++)
        kxl_vif_dispose(&vifs[i].vif);
    free(vifs);
}
