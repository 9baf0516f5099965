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

int vif_ovs_connect(const char *ifname, const char *bridge_spec)
{
    char bridge[16], trunks[128];
    int tag;
    if (!cfg_vif_ovs_bridge(bridge_spec, bridge, &tag, trunks)) {
        kx_err(KXL_ERR_CONFIG, "vif '%s': bad Open vSwitch bridge '%s'", ifname, bridge_spec);
        return -1;
    }
    char tag_s[16], trunks_s[140];
    snprintf(tag_s, sizeof(tag_s), "tag=%d", tag);
    snprintf(trunks_s, sizeof(trunks_s), "trunks=%s", trunks);
    /* one transaction: a record left by an earlier tap of the same name is replaced */
    char *argv[16] = {"ovs-vsctl", "--timeout=10", "--", "--if-exists", "del-port",
                      (char *)ifname, "--", "add-port", bridge, (char *)ifname};
    size_t n = 10;
    if (tag)
        argv[n++] = tag_s;
    if (trunks[0])
        argv[n++] = trunks_s;
    argv[n] = NULL;
    if (kx_run(argv) < 0) {
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
