/* cfg_root.h - the disk names a guest sees on KVM, and root= rewritten to them. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kxl/domcfg.h"

/* Whether disk d is a virtio-blk device (not a CD-ROM, not IDE or SCSI, plugged). */
bool cfg_disk_is_virtio_blk(const kxl_disk *d);

/* The name the guest's kernel gives disk i: virtio-blk disks are vda, vdb, ... in the order
 * of disk = (QEMU gets them in that order, and Linux names them as it finds them). NULL for
 * a disk that is not virtio-blk. Caller frees. */
char *cfg_guest_disk_name(const kxl_domcfg *cfg, size_t i);

/* A root=/dev/NAME in cfg->cmdline that names a disk of cfg by its Xen name (xvda2 for a
 * partition-style disk, or xvda1, a partition of a whole disk xvda) becomes the name the
 * guest sees (vdb, vda1). Returns the index of that disk (and, through *old_r and *new_r,
 * the names before and after; caller frees), or -1 when nothing changed. */
int cfg_root_for_kvm(kxl_domcfg *cfg, char **old_r, char **new_r);

/* The partition-style disk (xvda2) the kernel's root= names by the name the guest sees
 * (root=/dev/vda after cfg_root_for_kvm), or -1. */
int cfg_root_partition_disk(const kxl_domcfg *cfg);
