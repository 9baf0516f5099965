/* nl.h - host networking over rtnetlink (libnl-route-3): bridges, veth pairs, link settings,
 * addresses, routes and link counters, each one small call.
 *
 * Every call opens its own netlink socket and closes it before returning: no module state, no
 * nl_close() to remember (and libnl already owns that name). A socket costs a few microseconds
 * against the milliseconds the kernel spends on a link change, and calls stay independent of
 * each other and of the network namespace the thread was in when an earlier call ran.
 * Not thread-safe beyond what kx_err is (the last error is per thread).
 *
 * Actions return 0, or -1 after one kx_err line that names the interface and says what failed,
 * e.g. "cannot add 'vif3.0' to bridge 'xenbr0': 'xenbr0' does not exist". Kernel refusals end
 * with the errno text and, where the kernel gives one, its own explanation in parentheses.
 * Predicates return bool and report nothing. Interface names are checked as by nl_ifname_check()
 * before anything is sent, so a too-long name is never silently truncated by the kernel. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

/* Checks an interface name the way the kernel does: 1..15 bytes, not "." or "..", no '/', ':'
 * or whitespace. Returns 0, or -1 with kx_err "invalid interface name 'NAME': WHY". */
int nl_ifname_check(const char *name);

/* Creates bridge NAME (down). Fails if any interface of that name exists. */
int nl_bridge_create(const char *name);

/* Creates veth pair A <-> B, both down. B_NETNS NULL keeps B here; otherwise B is created in the
 * named network namespace (/run/netns/B_NETNS, as made by `ip netns add`). */
int nl_veth_create(const char *a, const char *b, const char *b_netns);

/* Deletes link NAME (and, for a veth, its peer). A missing link is an error; callers that
 * tolerate it ask nl_link_exists() first. */
int nl_link_delete(const char *name);

bool nl_link_exists(const char *name);
/* True if NAME exists and is a Linux bridge. */
bool nl_link_is_bridge(const char *name);

/* Sets or clears IFF_UP. */
int nl_link_set_up(const char *name, bool up);
/* Enslaves NAME to bridge MASTER (which must exist and be a bridge); MASTER NULL releases NAME
 * from whatever master it has (no error if it has none). */
int nl_link_set_master(const char *name, const char *master);
/* Copies the name of NAME's master into master_r, or "" if it has none. */
int nl_link_get_master(const char *name, char master_r[IFNAMSIZ]);
int nl_link_set_mtu(const char *name, unsigned mtu);
/* MAC as "xx:xx:xx:xx:xx:xx" (hex digits in either case). */
int nl_link_set_mac(const char *name, const char *mac);

/* CIDR is "10.0.0.1/24" or "fd00::1/64"; without "/N" the full length (/32, /128) is meant.
 * Adding an address the interface already has is an error. */
int nl_addr_add(const char *dev, const char *cidr);
int nl_addr_del(const char *dev, const char *cidr);
/* Appends DEV's addresses as "ADDR/N" strings, in the kernel's order (IPv4 before IPv6). IPv6
 * link-local addresses (fe80::, which the kernel gives every link that comes up) are left out:
 * they belong to the link, and moving one to another link would clash with that link's own. */
int nl_addr_list(const char *dev, kx_strv *cidrs_r);

/* Adds a route to DST_CIDR ("10.1.0.0/24", "fd01::/64", or "default", whose family follows VIA
 * or SRC and is IPv4 if neither is given) in the main table, protocol static. DEV may be NULL
 * when VIA is given (the kernel picks the device); VIA NULL makes a link-scope route on DEV;
 * SRC (NULL: none) is the preferred source address. VIA or SRC "" means none, as NULL does.
 * An existing identical route is an error. */
int nl_route_add(const char *dst_cidr, const char *dev, const char *via, const char *src);
/* Deletes the main-table route to DST_CIDR, matching DEV and VIA where they are not NULL and
 * any protocol and scope, like `ip route del`. */
int nl_route_del(const char *dst_cidr, const char *dev, const char *via);
/* The default route is the main table's unicast route to 0.0.0.0/0 with the lowest metric, or,
 * if there is no IPv4 one, to ::/0. */
bool nl_default_route_exists(void);
/* Copies the default route's device and gateway ("" if it has none) into dev_r and via_r.
 * Returns -1 with kx_err "no default route" (KXL_ERR_NOT_FOUND) if there is none. */
int nl_default_route_get(char dev_r[IFNAMSIZ], char via_r[64]);

typedef struct {
    uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
} nl_stats;

/* Reads NAME's 64-bit interface counters. */
int nl_link_stats(const char *name, nl_stats *st_r);
