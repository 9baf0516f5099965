/* disks.h - which domain holds a disk image: one writable disk is never
 * opened by two domains (QEMU's image locking stays on as well; this check
 * names the domain that holds it). */
#pragma once

#include "kxl/kxl.h"

/* 0 when no running domain other than self (may be NULL) has disk's target
 * open (writable on either side); otherwise -1 with
 * "disk '/p' is in use by domain 'NAME'". */
int disks_check_free(const kxl_paths *p, const kxl_disk *disk, const char *self);
/* The same for every disk of cfg. */
int disks_check_config(const kxl_paths *p, const kxl_domcfg *cfg);
