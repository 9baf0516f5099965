/* sv_pci.c - pci-attach and pci-detach: a host device (already checked and bound to vfio-pci
 * by the caller, lib/pci.c) hot-plugged as vfio-pci, and unplugged as the other devices are
 * (sv_unplug.c: the guest lets go, then it is gone). Its QEMU id comes from its address, so
 * ids stay unique whatever was detached before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_pci.h"
#include "qemu/qemu_argv.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

static size_t pci_index(const sv *s, const char *bdf)
{
    for (size_t i = 0; i < s->cfg->n_pci; i++)
        if (strcmp(s->cfg->pci[i].bdf, bdf) == 0)
            return i;
    return s->cfg->n_pci;
}

static int bdf_arg(json_object *args, char bdf_r[13])
{
    const char *text = kx_json_str(args, "bdf", "");
    if (!cfg_pci_bdf(text, strlen(text), bdf_r)) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a PCI address ([DDDD:]BB:DD.F)", text);
        return -1;
    }
    return 0;
}

json_object *sv_pci_attach(sv *s, json_object *args)
{
    char bdf[13], id[32];
    if (bdf_arg(args, bdf) < 0)
        return NULL;
    if (pci_index(s, bdf) < s->cfg->n_pci) {
        kx_err(KXL_ERR_EXISTS, "PCI device %s is already domain '%s''s", bdf, s->name);
        return NULL;
    }
    int vslot = (int)kx_json_int(args, "vslot", -1);
    qemu_pci_id(bdf, id);
    json_object *dev = json_object_new_object();
    json_object_object_add(dev, "driver", json_object_new_string("vfio-pci"));
    json_object_object_add(dev, "host", json_object_new_string(bdf));
    json_object_object_add(dev, "id", json_object_new_string(id));
    if (vslot >= 0) {
        char addr[16];
        snprintf(addr, sizeof(addr), "0x%x", vslot);
        json_object_object_add(dev, "addr", json_object_new_string(addr));
    }
    if (qmp_execute(s->qmp, "device_add", dev, NULL, 30000) < 0)
        return NULL;
    s->cfg->pci = kx_realloc(s->cfg->pci, (s->cfg->n_pci + 1) * sizeof(*s->cfg->pci));
    s->cfg->pci[s->cfg->n_pci++] = (kxl_pcidev){.vslot = vslot};
    memcpy(s->cfg->pci[s->cfg->n_pci - 1].bdf, bdf, sizeof(bdf));
    sv_save_config_list(s, "pci");
    sv_event(s, "PCI device %s attached", bdf);
    return json_object_new_object();
}

static void pci_unplugged(sv *s, size_t i)
{
    sv_event(s, "PCI device %s detached (it stays bound to vfio-pci: pci-assignable-remove "
             "gives it back to the host)", s->cfg->pci[i].bdf);
    memmove(&s->cfg->pci[i], &s->cfg->pci[i + 1],
            (s->cfg->n_pci - i - 1) * sizeof(*s->cfg->pci));
    s->cfg->n_pci--;
    sv_save_config_list(s, "pci");
}

json_object *sv_pci_detach(sv *s, json_object *args)
{
    char bdf[13], id[32], what[40];
    if (bdf_arg(args, bdf) < 0)
        return NULL;
    size_t i = pci_index(s, bdf);
    if (i == s->cfg->n_pci) {
        kx_err(KXL_ERR_NOT_FOUND, "domain '%s' has no PCI device %s", s->name, bdf);
        return NULL;
    }
    qemu_pci_id(bdf, id);
    snprintf(what, sizeof(what), "PCI device %s", bdf);
    return sv_unplug_start(s, id, what, i, pci_unplugged) < 0 ? NULL : SV_DEFERRED;
}
