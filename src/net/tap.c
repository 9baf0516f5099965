/* tap.c - opening non-persistent tap devices through /dev/net/tun. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/if_tun.h>

#include "net/nl.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define TUN_DEV "/dev/net/tun"

/* Reports a failed TUNSETIFF on NAME with the errno in E. IFF_TUN_EXCL makes an existing
 * interface of that name EBUSY. */
static void tap_create_err(const char *name, int e)
{
    if (e == EBUSY && *name && nl_link_exists(name)) {
        kx_err(KXL_ERR_EXISTS, "cannot create tap '%s': '%s' already exists", name, name);
        return;
    }
    errno = e;
    kx_err_errno(KXL_ERR_INTERNAL, "cannot create tap '%s'", name);
}

int tap_open(const char *name, bool vnet_hdr, char name_r[IFNAMSIZ])
{
    AUTOCLOSE int fd = -1;
    struct ifreq ifr;

    if (!name)
        name = "";
    if (*name && nl_ifname_check(name) < 0)
        return -1;
    fd = open(TUN_DEV, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create tap '%s': cannot open %s", name, TUN_DEV);
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    /* IFF_TUN_EXCL: always a new device, never an existing (perhaps persistent) one */
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL | (vnet_hdr ? IFF_VNET_HDR : 0);
    memcpy(ifr.ifr_name, name, strlen(name)); /* fits: checked above, and ifr is zeroed */
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        tap_create_err(name, errno);
        return -1;
    }
    kx_debug("tap '%s' open as fd %d%s", ifr.ifr_name, fd, vnet_hdr ? " (vnet_hdr)" : "");
    if (name_r)
        snprintf(name_r, IFNAMSIZ, "%.*s", IFNAMSIZ - 1, ifr.ifr_name);
    return TAKE_FD(fd);
}
