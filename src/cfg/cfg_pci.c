/* cfg_pci.c - xl's PCI passthrough entries. The address is normalized (domain 0000 when
 * left out, lower-case hex) so that it names the same sysfs directory however it was
 * written; xl's options that have no meaning with vfio are accepted with a warning. */
#include "cfg/cfg_pci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

static bool hex_field(const char *s, size_t n, unsigned max, unsigned *v)
{
    if (n == 0 || n > 4 || strspn(s, "0123456789abcdefABCDEF") < n)
        return false;
    char tmp[5];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *v = (unsigned)strtoul(tmp, NULL, 16);
    return *v <= max;
}

bool cfg_pci_bdf(const char *text, size_t n, char bdf[13])
{
    unsigned dom = 0, bus, dev, fn;
    const char *p = text, *end = text + n;
    const char *c1 = memchr(p, ':', n);
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
    if (c2) {   /* DDDD:BB:DD.F */
        if (!hex_field(p, (size_t)(c1 - p), 0xffff, &dom))
            return false;
        p = c1 + 1;
        c1 = c2;
    }
    const char *dot = c1 ? memchr(c1, '.', (size_t)(end - c1)) : NULL;
    if (!c1 || !dot || !hex_field(p, (size_t)(c1 - p), 0xff, &bus) ||
        !hex_field(c1 + 1, (size_t)(dot - c1 - 1), 0x1f, &dev) ||
        !hex_field(dot + 1, (size_t)(end - dot - 1), 7, &fn))
        return false;
    snprintf(bdf, 13, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
    return true;
}

/* xl's per-device options: vfio has no use for them (they steer Xen's pciback). */
static int option(const char *item, const char *where, kxl_pcidev *d)
{
    static const char *const ignored[] = {"permissive", "msitranslate", "power_mgmt",
                                          "rdm_policy", "name"};
    const char *eq = strchr(item, '=');
    size_t n = eq ? (size_t)(eq - item) : strlen(item);
    if (n == 5 && strncmp(item, "seize", 5) == 0) {
        d->seize = !eq || strcmp(eq + 1, "0") != 0;
        return 0;
    }
    for (size_t i = 0; i < KX_ARRAY_SIZE(ignored); i++) {
        if (strlen(ignored[i]) == n && strncmp(item, ignored[i], n) == 0) {
            kx_warn("%s: warning: pci option '%.*s' is Xen's pciback's: ignored with vfio",
                    where, (int)n, item);
            return 0;
        }
    }
    kx_err(KXL_ERR_CONFIG, "%s: pci option '%s' is not known (seize, permissive, "
           "msitranslate, power_mgmt, rdm_policy)", where, item);
    return -1;
}

int cfg_pci_parse(const char *spec, const char *where, kxl_pcidev *d)
{
    *d = (kxl_pcidev){.vslot = -1};
    size_t addr_len = strcspn(spec, ",@");
    if (!cfg_pci_bdf(spec, addr_len, d->bdf)) {
        kx_err(KXL_ERR_CONFIG, "%s: pci '%s': not a PCI address ([DDDD:]BB:DD.F, as lspci -D "
               "shows it)", where, spec);
        return -1;
    }
    const char *p = spec + addr_len;
    if (*p == '@') {
        char *end;
        long slot = strtol(p + 1, &end, 16);
        if (end == p + 1 || slot < 1 || slot > 0x1f || (*end && *end != ',')) {
            kx_err(KXL_ERR_CONFIG, "%s: pci '%s': the guest slot after @ is 1 to 1f (hex)",
                   where, spec);
            return -1;
        }
        d->vslot = (int)slot;
        p = end;
    }
    AUTOFREE char *opts = kx_strdup(*p == ',' ? p + 1 : "");
    char *save = NULL;
    for (char *item = strtok_r(opts, ",", &save); item; item = strtok_r(NULL, ",", &save))
        if (option(item, where, d) < 0)
            return -1;
    return 0;
}
