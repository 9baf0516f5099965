/* cfg_usb.c - xl's USB keys. Xen's usb = 1 is a USB 1.1 (UHCI) controller, usbversion picks
 * 2 (EHCI) or 3 (xHCI), usbctrl adds controllers by version, and usbdevice puts a tablet,
 * mouse or keyboard on the first. Host devices (usbdevice = "host:...", usbdev) need
 * passthrough, which kxl does not do: refused, saying so. */
#include "cfg/cfg_usb.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define USB_MAX_CTRLS 8
#define USB_MAX_DEVS 16
#define USB_MAX_PORTS 15

static const char *const controller_devices[] = {NULL, "piix3-usb-uhci", "usb-ehci",
                                                 "qemu-xhci"};
static const char *const device_names[] = {
    [KXL_USBDEV_TABLET] = "tablet",
    [KXL_USBDEV_MOUSE] = "mouse",
    [KXL_USBDEV_KEYBOARD] = "keyboard",
};

const char *cfg_usb_controller_device(int version)
{
    return version >= 1 && version <= 3 ? controller_devices[version] : NULL;
}

const char *cfg_usb_device_name(kxl_usbdev kind)
{
    return (unsigned)kind < KX_ARRAY_SIZE(device_names) ? device_names[kind] : NULL;
}

static void add_device(kxl_usb *u, kxl_usbdev kind)
{
    u->devs = kx_realloc(u->devs, sizeof(*u->devs) * (u->n_devs + 1));
    u->devs[u->n_devs++] = kind;
}

static int number(const char *key, const char *value, int lo, int hi, const char *where,
                  int *n_r)
{
    char *end;
    long v = strtol(value, &end, 10);
    if (end == value || *end || v < lo || v > hi) {
        kx_err(KXL_ERR_CONFIG, "%s: '%s' must be %d to %d, not '%s'", where, key, lo, hi,
               value);
        return -1;
    }
    *n_r = (int)v;
    return 0;
}

int cfg_usb_enable(kxl_domcfg *cfg, const char *value, const char *where)
{
    int on;
    if (number("usb", value, 0, 1, where, &on) < 0)
        return -1;
    cfg->usb.enabled = on;
    return 0;
}

int cfg_usb_version(kxl_domcfg *cfg, const char *value, const char *where)
{
    return number("usbversion", value, 1, 3, where, &cfg->usb.version);
}

int cfg_usb_device(kxl_domcfg *cfg, const char *value, const char *where)
{
    int kind = -1;
    for (size_t i = 0; i < KX_ARRAY_SIZE(device_names); i++)
        if (strcmp(value, device_names[i]) == 0)
            kind = (int)i;
    if (kind < 0 && kx_startswith(value, "host:")) {
        kx_err(KXL_ERR_CONFIG, "%s: usbdevice '%s': kxl does not pass host USB devices to "
               "guests", where, value);
        return -1;
    }
    if (kind < 0) {
        kx_err(KXL_ERR_CONFIG, "%s: usbdevice '%s': use tablet, mouse or keyboard", where,
               value);
        return -1;
    }
    if (cfg->usb.n_devs == USB_MAX_DEVS) {
        kx_err(KXL_ERR_CONFIG, "%s: more than %d USB devices", where, USB_MAX_DEVS);
        return -1;
    }
    add_device(&cfg->usb, (kxl_usbdev)kind);
    return 0;
}

static int controller_item(kxl_usbctrl *c, const char *item, size_t n, const char *where)
{
    AUTOFREE char *text = kx_strndup(item, n);
    char *eq = strchr(text, '=');
    if (eq)
        *eq = '\0';
    if (eq && strcmp(text, "version") == 0)
        return number("usbctrl version", eq + 1, 1, 3, where, &c->version);
    if (eq && strcmp(text, "ports") == 0)
        return number("usbctrl ports", eq + 1, 1, USB_MAX_PORTS, where, &c->ports);
    /* xl's controller types: all are QEMU's emulated controller here */
    if (eq && (strcmp(text, "type") == 0 || strcmp(text, "devid") == 0))
        return 0;
    kx_err(KXL_ERR_CONFIG, "%s: usbctrl '%s': use version=1|2|3 and ports=N", where, item);
    return -1;
}

int cfg_usb_controller(kxl_domcfg *cfg, const char *spec, const char *where)
{
    kxl_usbctrl c = {.version = 2};   /* xl's usbctrl default */
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ",");
        if (n && controller_item(&c, p, n, where) < 0)
            return -1;
        p += n + (p[n] == ',');
    }
    if (cfg->usb.n_ctrls == USB_MAX_CTRLS) {
        kx_err(KXL_ERR_CONFIG, "%s: more than %d USB controllers", where, USB_MAX_CTRLS);
        return -1;
    }
    cfg->usb.ctrls = kx_realloc(cfg->usb.ctrls,
                                sizeof(*cfg->usb.ctrls) * (cfg->usb.n_ctrls + 1));
    cfg->usb.ctrls[cfg->usb.n_ctrls++] = c;
    return 0;
}

int cfg_usb_device_from_json(kxl_usb *u, const char *name)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(device_names); i++) {
        if (strcmp(name, device_names[i]) == 0 && u->n_devs < USB_MAX_DEVS) {
            add_device(u, (kxl_usbdev)i);
            return 0;
        }
    }
    kx_err(KXL_ERR_INVALID, "domain JSON: unknown USB device '%s'", name);
    return -1;
}

void cfg_usb_finish(kxl_domcfg *cfg)
{
    kxl_usb *u = &cfg->usb;
    if (u->n_ctrls || (!u->enabled && !u->n_devs))
        return;
    u->ctrls = kx_malloc0(sizeof(*u->ctrls));
    u->ctrls[0].version = u->version ? u->version : 1;
    u->n_ctrls = 1;
}
