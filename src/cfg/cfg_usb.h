/* cfg_usb.h - xl's USB keys: usb, usbversion, usbdevice, usbctrl (and usbdev, refused). Pure. */
#pragma once

#include "kxl/domcfg.h"

/* usb = 0|1 */
int cfg_usb_enable(kxl_domcfg *cfg, const char *value, const char *where);
/* usbversion = 1|2|3: the controller usb = 1 gives */
int cfg_usb_version(kxl_domcfg *cfg, const char *value, const char *where);
/* One usbdevice entry: tablet, mouse or keyboard. */
int cfg_usb_device(kxl_domcfg *cfg, const char *value, const char *where);
/* One usbctrl entry: "version=N,ports=M[,type=...]". */
int cfg_usb_controller(kxl_domcfg *cfg, const char *spec, const char *where);
/* A device by its name, from domain JSON: -1 with kx_err for an unknown one. */
int cfg_usb_device_from_json(kxl_usb *u, const char *name);
/* After all keys: usb = 1 or a device without a controller gets one. */
void cfg_usb_finish(kxl_domcfg *cfg);

/* QEMU's device for a controller of version 1, 2 or 3, and for a device kind. */
const char *cfg_usb_controller_device(int version);
const char *cfg_usb_device_name(kxl_usbdev kind);
