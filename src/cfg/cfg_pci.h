/* cfg_pci.h - xl's pci = [ '[DDDD:]BB:DD.F[@VSLOT][,KEY=VALUE...]' ]: host PCI devices given
 * to the guest (vfio-pci). Pure: no I/O. */
#pragma once

#include "kxl/domcfg.h"

/* Reads one entry into *d ("0000:01:00.0" normalized); where ("FILE:LINE") places errors. */
int cfg_pci_parse(const char *spec, const char *where, kxl_pcidev *d);
/* Whether text is a PCI address ([DDDD:]BB:DD.F); fills bdf (13 bytes) normalized. */
bool cfg_pci_bdf(const char *text, size_t n, char bdf[13]);
