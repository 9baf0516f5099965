/* ops_pci.c - pci-attach and pci-detach: a host PCI device given to a running domain and
 * taken back. The host side (IOMMU group, vfio-pci binding) is checked as at create. */
#include <stdio.h>
#include <string.h>

#include "cfg/cfg_pci.h"
#include "lib/ops_call.h"
#include "lib/pci.h"
#include "util/err.h"

int kxl_domain_pci_attach(const kxl_paths *p, const char *dom, const char *spec)
{
    kxl_pcidev d;
    kxl_dominfo info;
    if (kxl_domain_lookup(p, dom, &info) < 0 || cfg_pci_parse(spec, "pci-attach", &d) < 0)
        return -1;
    kxl_domcfg one = {.name = (char *)dom, .pci = &d, .n_pci = 1};
    if (host_pci_check(p, &one) < 0)
        return -1;
    json_object *args = op_args("bdf", d.bdf, NULL);
    json_object_object_add(args, "vslot", json_object_new_int(d.vslot));
    return op_call(p, KXL_OP_PCI_ATTACH, dom, args, NULL);
}

int kxl_domain_pci_detach(const kxl_paths *p, const char *dom, const char *bdf)
{
    char norm[13];
    if (!cfg_pci_bdf(bdf, strlen(bdf), norm)) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a PCI address ([DDDD:]BB:DD.F)", bdf);
        return -1;
    }
    return op_call(p, KXL_OP_PCI_DETACH, dom, op_args("bdf", norm, NULL), NULL);
}
