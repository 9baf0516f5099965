/* pci.h - host PCI devices for guests: the check before a start. */
#pragma once

#include "kxl/kxl.h"

/* Each pci = device of cfg can be given now: it exists, the host has an IOMMU, nothing else
 * in its IOMMU group is driven by a host driver, and it is bound to vfio-pci (made so here
 * with seize=1). -1 with kx_err saying what to do. */
int host_pci_check(const kxl_paths *p, const kxl_domcfg *cfg);
