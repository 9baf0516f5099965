/* migrate.h - what kxl restore and kxl migrate-receive share: a saved or received domain's
 * config made ready to start here, and the receiver's preflight. */
#pragma once

#include "kxl/kxl.h"
#include "migrate/mig_header.h"
#include "util/buf.h"

/* Tap names the old domain's id made ("vif5.0") are made afresh from the new id. */
void restore_forget_tap_names(kxl_domcfg *cfg);

/* Everything this host lacks to run the domain of header h (config cfg, as received): the
 * name free, its bridges or networks, its disks (the same paths: shared storage), free memory,
 * a QEMU as new as the sender's with its machine type and CPU model, the accelerator. Each
 * problem is one sentence appended to *missing; 0 when there is none, else -1 (no kx_err:
 * the list is the answer). */
int migrate_preflight(const kxl_paths *p, const mig_header *h, const kxl_domcfg *cfg,
                      kx_strv *missing);
