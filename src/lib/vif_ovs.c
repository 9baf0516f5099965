/* vif_ovs.c - Xen's vif-openvswitch, built in: the tap becomes a port of an Open vSwitch
 * bridge (with bridge=BRIDGE.VLAN:TRUNK..., its access VLAN and trunks), through ovs-vsctl.
 * Unlike a Linux bridge port, the port's record outlives the tap in OVS's database, so it is
 * removed when the vif goes. */
#include <stdio.h>

#include "cfg/cfg_spec.h"
#include "lib/vif.h"
#include "net/nl.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/spawn.h"

/* "-- set interface IF external-ids:KEY=VALUE": what Xen's script records for controllers
 * (which VM and MAC a port is). */
static void add_external_id(kx_strv *argv, const char *ifname, const char *key,
                            const char *value)
{
    kx_strv_push(argv, "--");
    kx_strv_push(argv, "set");
    kx_strv_push(argv, "interface");
    kx_strv_push(argv, ifname);
    kx_strv_pushf(argv, "external-ids:%s=\"%s\"", key, value);
}

int vif_ovs_connect(const kxl_domcfg *cfg, const kxl_vif *v, const char *ifname)
{
    char bridge[16], trunks[128];
    int tag;
    const char *spec = v->bridge ? v->bridge : "xenbr0";
    if (!cfg_vif_ovs_bridge(spec, bridge, &tag, trunks)) {
        kx_err(KXL_ERR_CONFIG, "vif '%s': bad Open vSwitch bridge '%s'", ifname, spec);
        return -1;
    }
    /* one transaction: a record left by an earlier tap of the same name is replaced */
    kx_strv argv = KX_STRV_INIT;
    const char *head[] = {"ovs-vsctl", "--timeout=10", "--", "--if-exists", "del-port",
                          ifname, "--", "add-port", bridge, ifname};
    for (size_t i = 0; i < KX_ARRAY_SIZE(head); i++)
        kx_strv_push(&argv, head[i]);
    if (tag)
        kx_strv_pushf(&argv, "tag=%d", tag);
    if (trunks[0])
        kx_strv_pushf(&argv, "trunks=%s", trunks);
    add_external_id(&argv, ifname, "xen-vm-name", cfg->name);
    add_external_id(&argv, ifname, "xen-vm-uuid", cfg->uuid);
    if (v->mac)
        add_external_id(&argv, ifname, "attached-mac", v->mac);
    int r = kx_run(argv.v);
    kx_strv_dispose(&argv);
    if (r < 0) {
        kx_err(KXL_ERR_HOST, "vif '%s': cannot add it to Open vSwitch bridge '%s' (is "
               "ovs-vswitchd running, and the bridge made with ovs-vsctl add-br?): %s",
               ifname, bridge, kx_err_msg());
        return -1;
    }
    return nl_link_set_up(ifname, true);
}

void vif_ovs_disconnect(const char *ifname)
{
    char *argv[] = {"ovs-vsctl", "--timeout=10", "--if-exists", "del-port", (char *)ifname,
                    NULL};
    if (kx_run(argv) < 0) {
        kx_warn("vif '%s': cannot remove its Open vSwitch port: %s", ifname, kx_err_msg());
        kx_err_clear();
    }
}

void vif_ovs_disconnect_all(const kxl_domcfg *cfg)
{
    for (size_t i = 0; i < cfg->n_vifs; i++)
        if (!cfg->vifs[i].unplugged && kx_streq(cfg->vifs[i].script, "vif-openvswitch") &&
            cfg->vifs[i].vifname)
            vif_ovs_disconnect(cfg->vifs[i].vifname);
}
