/* cfg_spec.h - parsers for the string mini-languages inside xl.cfg values:
 * disk specs, vif specs and cpus pinning specs. Pure: no I/O. */
#pragma once

#include <stdint.h>

#include "kxl/domcfg.h"

/* Parses one xl disk spec (xl-disk-configuration(5)) into *disk_r (which the
 * caller disposes with kxl_disk_dispose, also on failure).
 * `where` prefixes messages, e.g. "guest.cfg:12". Returns 0 or -1 with kx_err set. */
int cfg_disk_parse(const char *spec, const char *where, kxl_disk *disk_r);

/* Maps a virtual device name (xvda, xvdaa, hdc, sdb, vdb, "d0p1" forms not needed)
 * to its bus and index, and a partition name (xvda2, as xen-tools writes) also to its
 * partition (0 for a whole disk) and the virtio bus. Returns 0 or -1 with kx_err set. */
int cfg_vdev_parse(const char *vdev, const char *where, kxl_disk_bus *bus_r, int *index_r,
                   int *partition_r);

/* Parses one xl vif spec (xl-network-configuration(5)) into *vif_r. */
int cfg_vif_parse(const char *spec, const char *where, kxl_vif *vif_r);

/* Xen's vif-openvswitch reads bridge= as BRIDGE[.VLAN][:TRUNK[:TRUNK...]]: the Open vSwitch
 * bridge, the access VLAN (tag, 1-4094) and the VLANs trunked to the guest. bridge_r gets the
 * name, *tag_r the VLAN or 0, trunks_r "10,20" or "". False when spec is not of that form. */
bool cfg_vif_ovs_bridge(const char *spec, char bridge_r[16], int *tag_r, char trunks_r[128]);

/* xl's vif rate "RATE/s[@INTERVAL]": bytes per second and the credit
 * interval (default 50 ms). Returns 0, -1 for bad syntax, -2 out of range;
 * reports nothing (cfg_vif_parse has already validated configs). */
int cfg_vif_rate_parse(const char *rate, uint64_t *bytes_per_sec_r, uint64_t *interval_us_r);

/* The MAC of vif index when the config gives none: Xen's 00:16:3e prefix and
 * three bytes derived from the domain's uuid and the index, so it is stable
 * across restarts of the domain and differs between its vifs. */
void cfg_vif_default_mac(const char *uuid, int index, char mac_r[18]);

/* Parses a cpus spec: "all", "3", "0-3,5,^1" (a '^' entry removes), into *set_r.
 * host_cpus bounds the numbers accepted (a CPU >= host_cpus is an error that
 * names it). Returns 0 or -1 with kx_err set. */
int cfg_cpus_parse(const char *spec, const char *where, unsigned host_cpus, kxl_cpuset *set_r);

/* Formats a cpuset as a canonical range list ("0-3,5"), "" when empty; caller frees. */
char *cfg_cpus_format(const kxl_cpuset *set);

/* startup = "order=N,up=SECONDS,down=SECONDS" (each part optional, in any order). */
#define CFG_STARTUP_ORDER_MAX 99999
typedef struct {
    int order;        /* -1: none */
    unsigned up;      /* 0: none */
    unsigned down;    /* 0: not given */
} cfg_startup;
/* Parses spec into *out_r; 0 or -1 with kx_err("WHERE: startup: ..."). */
int cfg_startup_parse(const char *spec, const char *where, cfg_startup *out_r);
/* Whether regex is a POSIX extended regular expression that matches something;
 * 0 or -1 with kx_err("WHERE: ..."). */
int cfg_ready_regex_check(const char *regex, const char *where);
