/* cfg_spec.h - parsers for the string mini-languages inside xl.cfg values:
 * disk specs, vif specs and cpus pinning specs. Pure: no I/O. */
#pragma once

#include "kxl/domcfg.h"

/* Parses one xl disk spec (xl-disk-configuration(5)) into *disk_r (which the
 * caller disposes with kxl_disk_dispose, also on failure).
 * `where` prefixes messages, e.g. "guest.cfg:12". Returns 0 or -1 with kx_err set. */
int cfg_disk_parse(const char *spec, const char *where, kxl_disk *disk_r);

/* Maps a virtual device name (xvda, xvdaa, hdc, sdb, vdb, "d0p1" forms not needed)
 * to its bus and index. Returns 0 or -1 with kx_err set. */
int cfg_vdev_parse(const char *vdev, const char *where, kxl_disk_bus *bus_r, int *index_r);

/* Parses one xl vif spec (xl-network-configuration(5)) into *vif_r. */
int cfg_vif_parse(const char *spec, const char *where, kxl_vif *vif_r);

/* Parses a cpus spec: "all", "3", "0-3,5,^1" (a '^' entry removes), into *set_r.
 * host_cpus bounds the numbers accepted (a CPU >= host_cpus is an error that
 * names it). Returns 0 or -1 with kx_err set. */
int cfg_cpus_parse(const char *spec, const char *where, unsigned host_cpus, kxl_cpuset *set_r);

/* Formats a cpuset as a canonical range list ("0-3,5"), "" when empty; caller frees. */
char *cfg_cpus_format(const kxl_cpuset *set);
