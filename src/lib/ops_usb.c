/* ops_usb.c - usb-list: the domain's USB controllers and the emulated devices on their ports,
 * as xl lays them out. */
#include <stdlib.h>

#include "cfg/cfg_usb.h"
#include "kxl/ops.h"
#include "util/buf.h"
#include "util/cleanup.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

/* A controller's ports when usbctrl does not say: UHCI's 2, EHCI's 6, xHCI's 4. */
static int default_ports(int version)
{
    return version == 1 ? 2 : version == 2 ? 6 : 4;
}

static char *usb_text(const kxl_domcfg *cfg)
{
    kx_buf b = KX_BUF_INIT;
    if (cfg->usb.n_ctrls)
        kx_buf_add(&b, "Devid  Type         BE  state usb-ver ports\n");
    for (size_t i = 0; i < cfg->usb.n_ctrls; i++) {
        const kxl_usbctrl *c = &cfg->usb.ctrls[i];
        int ports = c->ports ? c->ports : default_ports(c->version);
        /* the devices are all on the first controller, in order */
        kx_buf_printf(&b, "%-6zu %-12s %-3d %-5d %-7d %d\n", i, "devicemodel", 0, 1,
                      c->version, ports);
        for (int port = 1; port <= ports; port++) {
            size_t dev = (size_t)port - 1;
            kx_buf_printf(&b, "  Port %d:%s%s\n", port, i == 0 && dev < cfg->usb.n_devs ? " " : "",
                          i == 0 && dev < cfg->usb.n_devs
                              ? cfg_usb_device_name(cfg->usb.devs[dev]) : "");
        }
    }
    return kx_buf_steal(&b);
}

int kxl_domain_usb_list(const kxl_paths *p, const char *dom, char **text_r)
{
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (kxl_domain_config(p, dom, &cfg) < 0)
        return -1;
    *text_r = usb_text(cfg);
    return 0;
}
