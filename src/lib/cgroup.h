/* cgroup.h - each domain's QEMU in a cgroup of its own, on cgroup v2 (a unified hierarchy,
 * as real bookworm hosts have) or v1 (a hierarchy per controller):
 *   v2: ROOT/kxl.slice/kxl-NAME.scope, with the cpu, memory, io and pids controllers that the
 *       root offers enabled for kxl.slice's children;
 *   v1: ROOT/CONTROLLER/OWN/kxl/NAME for cpu, cpuacct, memory, blkio and pids, where OWN is
 *       the supervisor's own group in that hierarchy (so a host's limits on kxl still hold).
 * ROOT is /sys/fs/cgroup, or $KXL_CGROUP_ROOT (a fake tree, for tests). The directories a
 * domain got are kept in its runtime directory (file "cgroup"), so whoever ends the domain
 * removes exactly those. */
#pragma once

#include "kxl/kxl.h"
#include "util/buf.h"

typedef enum { KX_CGROUP_NONE, KX_CGROUP_V1, KX_CGROUP_V2 } kx_cgroup_version;

typedef struct {
    kx_cgroup_version version;
    kx_strv dirs;             /* the domain's group in each hierarchy used */
} kx_cgroup;

/* Where domain name's groups go on this host; version NONE (and 0) when the host has no
 * usable cgroup file system. Nothing is created. */
int cgroup_locate(const char *name, kx_cgroup *cg_r);
/* Makes the groups (and on v2 kxl.slice, with its controllers); -1 with kx_err. */
int cgroup_create(const kx_cgroup *cg);
/* Moves the calling process into the groups: for QEMU's child before exec. 0, or -1 with
 * errno (no kx_err: no allocation after fork). */
int cgroup_enter(const kx_cgroup *cg);
/* Records the groups in the domain's runtime directory dir; reads them back. */
int cgroup_save(const kx_cgroup *cg, const char *dir);
int cgroup_load(const char *dir, kx_cgroup *cg_r);
/* Removes the groups. The caller has seen its QEMU's exit complete (waitpid, or its pidfd
 * readable: every thread gone, so it has left the groups), so they are empty unless another
 * process is in them; those still in use are tried again for up to wait_ms in all (one
 * deadline, not one per directory). Returns 0 when none is left (or none was made), -1 with
 * kx_err (KXL_ERR_BUSY: naming a group left and the processes in it) otherwise. */
int cgroup_remove(const kx_cgroup *cg, int wait_ms);
/* wait_ms for cgroup_remove: after QEMU's exit was seen to complete, a moment's grace; for
 * groups whose QEMU nobody watched end (a stale runtime directory), a little longer. */
enum { CGROUP_REMOVE_MS = 250, CGROUP_REMOVE_STALE_MS = 2000 };
/* Renames the groups for the domain's new name; the runtime directory dir's record follows. */
int cgroup_rename(kx_cgroup *cg, const char *new_name, const char *dir);
/* cgroup_remove of the groups recorded in runtime directory dir; 0 when none is recorded. */
int cgroup_remove_recorded(const char *dir, int wait_ms);
void cgroup_dispose(kx_cgroup *cg);

/* xl's credit weight (1..65535, default 256) in the CPU controller's terms, in proportion
 * around the defaults: v2 cpu.weight (1..10000, default 100; weights past 25600 all reach
 * 10000), v1 cpu.shares (2..262144, default 1024: four times xl's). Pure. */
unsigned cgroup_weight_v2(unsigned xl_weight);
unsigned cgroup_shares_v1(unsigned xl_weight);
/* The CFS period kxl's caps use, in microseconds; a cap of N percent of one CPU is a quota of
 * N% of it (so 200 is two CPUs). */
#define CGROUP_CAP_PERIOD_US 100000
/* Gives the domain's group weight (xl's) and cap (percent of one CPU, 0: none): v2 cpu.weight
 * and cpu.max, v1 cpu.shares, cpu.cfs_period_us and cpu.cfs_quota_us. -1 with kx_err when the
 * group has no CPU controller or a file refuses the value. */
int cgroup_set_cpu(const kx_cgroup *cg, unsigned weight, unsigned cap);
