/* tap.h - tap devices for guest NICs, held open by a file descriptor. */
#pragma once

#include <net/if.h>
#include <stdbool.h>

/* Creates tap device NAME through /dev/net/tun with IFF_TAP | IFF_NO_PI, plus IFF_VNET_HDR if
 * VNET_HDR (QEMU then sets the header size itself); single queue. It never attaches to an
 * existing interface (IFF_TUN_EXCL), not even a persistent tap of that name.
 * NAME NULL or "" lets the kernel pick "tapN"; a "%d" in NAME is filled in by the kernel.
 * The real name is copied to name_r (if not NULL).
 *
 * The tap is NOT persistent: it exists exactly as long as a descriptor for it is open, so the
 * kernel removes it when the last holder (normally QEMU, which inherits it) exits, however it
 * exits. Nothing has to clean taps up after a crash, a stale tap cannot outlive its guest, and
 * the kernel takes the vanished tap off its bridge too.
 * Callers that want it on a bridge do nl_link_set_master() and nl_link_set_up() while they
 * hold the fd.
 *
 * Returns the fd (O_CLOEXEC: clear it, or dup2 it, in the child that should inherit it), or -1
 * with kx_err, e.g. "cannot create tap 'vif1.0': 'vif1.0' already exists". */
int tap_open(const char *name, bool vnet_hdr, char name_r[IFNAMSIZ]);
