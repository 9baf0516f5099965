/* sv_net.c - hot-plugging vifs: the supervisor opens and connects the tap,
 * passes it to QEMU over the monitor (getfd), adds the netdev and the NIC,
 * and records the vif in the domain's resolved config. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_spec.h"
#include "lib/network.h"
#include "lib/vif.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

static int plug(sv *s, size_t i, int fd)
{
    const kxl_vif *v = &s->cfg->vifs[i];
    char fdname[32], netdev[32], nic[32];
    snprintf(fdname, sizeof(fdname), "tap%zu", i);
    snprintf(netdev, sizeof(netdev), "net%zu", i);
    snprintf(nic, sizeof(nic), "nic%zu", i);
    if (qmp_execute_fd(s->qmp, "getfd", sv_obj2("fdname", fdname, NULL, NULL), fd, NULL, 5000) < 0)
        return -1;
    json_object *nd = sv_obj2("type", "tap", "id", netdev);
    json_object_object_add(nd, "fd", json_object_new_string(fdname));
    if (qmp_execute(s->qmp, "netdev_add", nd, NULL, 5000) < 0) {
        qmp_execute(s->qmp, "closefd", sv_obj2("fdname", fdname, NULL, NULL), NULL, 5000);
        return -1;
    }
    json_object *dev = sv_obj2("driver", !v->model || strcmp(v->model, "virtio") == 0
                                          ? "virtio-net-pci" : v->model,
                            "netdev", netdev);
    json_object_object_add(dev, "id", json_object_new_string(nic));
    json_object_object_add(dev, "mac", json_object_new_string(v->mac));
    /* no boot ROM: QEMU would read it from /usr/share/qemu, which its chroot hides, and a NIC
     * added to a running guest is not booted from */
    json_object_object_add(dev, "romfile", json_object_new_string(""));
    if (qmp_execute(s->qmp, "device_add", dev, NULL, 5000) < 0) {
        qmp_execute(s->qmp, "netdev_del", sv_obj2("id", netdev, NULL, NULL), NULL, 5000);
        return -1;
    }
    return 0;
}

json_object *sv_net_attach(sv *s, json_object *args)
{
    const char *spec = kx_json_str(args, "spec", "");
    kxl_vif v = {0};
    if (cfg_vif_parse(spec, "network-attach", &v) < 0) {
        kxl_vif_dispose(&v);
        return NULL;
    }
    size_t i = s->cfg->n_vifs;
    s->cfg->vifs = kx_realloc(s->cfg->vifs, (i + 1) * sizeof(kxl_vif));
    s->cfg->vifs[i] = v;
    s->cfg->n_vifs = i + 1;
    vif_resolve(s->cfg, s->st.domid);
    AUTOCLOSE int fd = vif_setup(&s->paths, s->cfg, i);
    if (fd < 0 || plug(s, i, fd) < 0) {
        kxl_vif_dispose(&s->cfg->vifs[i]);
        s->cfg->n_vifs = i;
        return NULL;
    }
    sv_save_config_list(s, "vifs");
    sv_event(s, "vif %zu (%s) attached", i, s->cfg->vifs[i].vifname);
    char devid[24];
    snprintf(devid, sizeof(devid), "%zu", i);
    return sv_obj2("devid", devid, NULL, NULL);
}

/* The NIC is gone from the guest: its netdev goes, and the saved config says so. */
static void vif_unplugged(sv *s, size_t i)
{
    char netdev[32];
    snprintf(netdev, sizeof(netdev), "net%zu", i);
    qmp_execute(s->qmp, "netdev_del", sv_obj2("id", netdev, NULL, NULL), NULL, 5000);
    sv_event(s, "vif %zu (%s) detached", i, s->cfg->vifs[i].vifname);
    if (kx_streq(s->cfg->vifs[i].script, "vif-openvswitch"))
        vif_ovs_disconnect(s->cfg->vifs[i].vifname);
    /* the slot stays while this QEMU runs: indexes are its device ids */
    s->cfg->vifs[i].unplugged = true;
    sv_save_config_list(s, "vifs");
    /* the saved config no longer has the vif: forwarding goes back if nothing needs it */
    if (kx_streq(s->cfg->vifs[i].script, "vif-route"))
        network_forwarding_release(&s->paths, NULL);
}

json_object *sv_net_detach(sv *s, json_object *args)
{
    const char *which = kx_json_str(args, "vif", "");
    size_t i = s->cfg->n_vifs;
    for (size_t k = 0; k < s->cfg->n_vifs; k++) {
        char devid[24];
        snprintf(devid, sizeof(devid), "%zu", k);
        if (strcmp(which, devid) == 0 ||
            (s->cfg->vifs[k].mac && strcasecmp(which, s->cfg->vifs[k].mac) == 0))
            i = k;
    }
    if (i == s->cfg->n_vifs || s->cfg->vifs[i].unplugged) {
        kx_err(KXL_ERR_NOT_FOUND, "domain '%s' has no vif '%s'", s->name, which);
        return NULL;
    }
    char nic[32], what[32];
    snprintf(nic, sizeof(nic), "nic%zu", i);
    snprintf(what, sizeof(what), "vif %zu", i);
    return sv_unplug_start(s, nic, what, i, vif_unplugged) < 0 ? NULL : SV_DEFERRED;
}
