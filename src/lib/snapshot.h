/* snapshot.h - what the snapshot operations (ops_snapshot.c) share with their listing
 * (snapshot_list.c). */
#pragma once

#include <json-c/json.h>

#include "kxl/ops.h"

/* The snapshots of disks, [{"vdev", "snapshots": [QEMU's SnapshotInfo]}] in the order the
 * snapshots go to them (the supervisor's answer, or qemu-img info's of a config's disks),
 * merged by name as kxl_snapshot_list returns them. -1 with kx_err for a malformed entry. */
int snapshot_list_merge(json_object *disks, kxl_snapshot **snaps_r, size_t *n_r);
