/* vif.h - a domain's vifs on the host: each is a tap that the supervisor
 * opens and hands to QEMU, connected the way xl's vif-bridge / vif-route
 * scripts connect it (built in, in C), or to a kxl network. */
#pragma once

#include <stddef.h>

#include "kxl/kxl.h"

#define VIF_IFNAMSIZ 16

/* Fills in what the config left to defaults: the tap name vif<domid>.<i>
 * (Xen's naming) and the MAC derived from the uuid. */
void vif_resolve(kxl_domcfg *cfg, unsigned domid);

/* Creates the tap of vif i, connects it and brings it up. Returns its fd
 * (the tap exists as long as an fd to it is open: closing the last one,
 * or QEMU's exit, removes it with its routes), or -1 with kx_err set and
 * nothing left behind. */
int vif_setup(const kxl_paths *p, const kxl_domcfg *cfg, size_t i);

/* vif_ovs.c: script=vif-openvswitch. The tap as a port of the Open vSwitch bridge that the
 * vif's bridge= names (BRIDGE[.VLAN][:TRUNK...]), with the VM's name and uuid and the MAC as
 * external ids, as Xen's script records them, up; and the port's removal when the tap goes
 * (OVS keeps its record otherwise), for one vif or each plugged one of cfg. */
int vif_ovs_connect(const kxl_domcfg *cfg, const kxl_vif *v, const char *ifname);
void vif_ovs_disconnect(const char *ifname);
void vif_ovs_disconnect_all(const kxl_domcfg *cfg);

/* Byte and packet counters of a vif's tap (zero when it is gone). */
typedef struct {
    unsigned long long rx_bytes, rx_packets, tx_bytes, tx_packets;
} vif_counters;
void vif_read_counters(const char *ifname, vif_counters *c_r);
