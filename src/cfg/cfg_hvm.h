/* cfg_hvm.h - the emulated devices of an HVM guest without PV drivers. Pure: no I/O. */
#pragma once

#include "kxl/domcfg.h"

/* Xen's default emulated NIC, which an HVM guest moved from Xen already has a driver for. */
#define CFG_HVM_EMULATED_NIC "rtl8139"

/* hvm_devices = "emulated": disks named xvdX and sdX on the IDE bus (at most four IDE
 * places in all), vifs without a model on CFG_HVM_EMULATED_NIC. where ("FILE:LINE" of the
 * key) places the errors. */
int cfg_hvm_emulate(kxl_domcfg *cfg, const char *where);

/* vif type=ioemu means "emulated only" on Xen: such vifs without a model get
 * CFG_HVM_EMULATED_NIC, whatever hvm_devices says. */
void cfg_hvm_ioemu_vifs(kxl_domcfg *cfg);
