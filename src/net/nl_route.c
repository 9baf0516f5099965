/* nl_route.c - routes in the main table over rtnetlink: add, delete, and the default route. */
#include "nl.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "nl_internal.h"
#include "util/err.h"

/* "DST [via VIA] [dev DEV] [src SRC]", as `ip route` writes a route; caller frees. */
static char *route_spec(const char *dst, const char *dev, const char *via, const char *src)
{
    kx_buf b = KX_BUF_INIT;

    kx_buf_add(&b, dst);
    if (via)
        kx_buf_printf(&b, " via %s", via);
    if (dev)
        kx_buf_printf(&b, " dev %s", dev);
    if (src)
        kx_buf_printf(&b, " src %s", src);
    return kx_buf_steal(&b);
}

/* Parses the addresses of a route. Returns NULL or a reason; *dst_r etc. are set on success. */
static const char *route_parse(const char *dst, const char *via, const char *src, ip_obj **dst_r,
                               ip_obj **via_r, ip_obj **src_r)
{
    static const unsigned char zero[16];
    const char *why = NULL;
    int family;

    if (via && (why = nl_ip_parse(via, false, via_r)))
        return "the gateway is not an IPv4 or IPv6 address";
    if (src && (why = nl_ip_parse(src, false, src_r)))
        return "the source is not an IPv4 or IPv6 address";
    if (kx_streq(dst, "default")) {
        family = *via_r ? nl_addr_get_family(*via_r) : *src_r ? nl_addr_get_family(*src_r)
                                                             : AF_INET;
        *dst_r = must(nl_addr_build(family, zero, family == AF_INET ? 4 : 16));
        nl_addr_set_prefixlen(*dst_r, 0);
    } else if ((why = nl_ip_parse(dst, true, dst_r))) {
        return why;
    }
    family = nl_addr_get_family(*dst_r);
    if ((*via_r && nl_addr_get_family(*via_r) != family) ||
        (*src_r && nl_addr_get_family(*src_r) != family))
        return "it mixes IPv4 and IPv6 addresses";
    return NULL;
}

/* Builds a main-table unicast route for nl_route_add (ADD) or nl_route_del.
 * Returns NULL with kx_err "WHAT: WHY". */
static route_obj *route_build(nl_ctx *c, bool add, const char *what, const char *dst,
                              const char *dev, const char *via, const char *src)
{
    AUTOPTR(ip_obj) dst_ip = NULL;
    AUTOPTR(ip_obj) via_ip = NULL;
    AUTOPTR(ip_obj) src_ip = NULL;
    AUTOPTR(link_obj) link = NULL;
    AUTOPTR(route_obj) rt = NULL;
    AUTOPTR(nh_obj) nh = NULL;
    const char *why = route_parse(dst, via, src, &dst_ip, &via_ip, &src_ip);
    int r;

    if (!why && add && !dev && !via)
        why = "it needs a device or a gateway";
    if (why) {
        kx_err(KXL_ERR_INVALID, "%s: %s", what, why);
        return NULL;
    }
    if (dev && (r = nl_ctx_get_link(c, dev, &link)) < 0) {
        nl_ctx_fail(c, r, "%s", what);
        return NULL;
    }
    rt = must(rtnl_route_alloc());
    rtnl_route_set_family(rt, (uint8_t)nl_addr_get_family(dst_ip));
    rtnl_route_set_table(rt, RT_TABLE_MAIN);
    rtnl_route_set_type(rt, RTN_UNICAST);
    rtnl_route_set_dst(rt, dst_ip);
    /* deletion matches any protocol (0) and any scope (NOWHERE), as `ip route del` does */
    rtnl_route_set_protocol(rt, add ? RTPROT_STATIC : 0);
    rtnl_route_set_scope(rt, !add ? RT_SCOPE_NOWHERE : via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    if (src_ip)
        rtnl_route_set_pref_src(rt, src_ip);
    if (link || via_ip) {
        nh = must(rtnl_route_nh_alloc());
        if (link)
            rtnl_route_nh_set_ifindex(nh, rtnl_link_get_ifindex(link));
        if (via_ip)
            rtnl_route_nh_set_gateway(nh, via_ip);
        rtnl_route_add_nexthop(rt, TAKE_PTR(nh)); /* the route owns it now */
    }
    return TAKE_PTR(rt);
}

int nl_route_add(const char *dst_cidr, const char *dev, const char *via, const char *src)
{
    AUTOFREE char *spec = NULL;
    AUTOFREE char *what = NULL;
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(route_obj) rt = NULL;
    int r;

    via = via && *via ? via : NULL; /* "" is what nl_default_route_get gives for none */
    src = src && *src ? src : NULL;
    if ((dev && nl_ifname_check(dev) < 0) || !(c = nl_ctx_new()))
        return -1;
    spec = route_spec(dst_cidr, dev, via, src);
    what = kx_asprintf("cannot add route '%s'", spec);
    if (!(rt = route_build(c, true, what, dst_cidr, dev, via, src)))
        return -1;
    kx_debug("netlink: add route %s", spec);
    r = rtnl_route_add(c->sk, rt, NLM_F_EXCL);
    return nl_ctx_result(c, r, EEXIST, KXL_ERR_EXISTS, what, "it already exists");
}

int nl_route_del(const char *dst_cidr, const char *dev, const char *via)
{
    AUTOFREE char *spec = NULL;
    AUTOFREE char *what = NULL;
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(route_obj) rt = NULL;
    int r;

    via = via && *via ? via : NULL;
    if ((dev && nl_ifname_check(dev) < 0) || !(c = nl_ctx_new()))
        return -1;
    spec = route_spec(dst_cidr, dev, via, NULL);
    what = kx_asprintf("cannot delete route '%s'", spec);
    if (!(rt = route_build(c, false, what, dst_cidr, dev, via, NULL)))
        return -1;
    kx_debug("netlink: delete route %s", spec);
    r = rtnl_route_delete(c->sk, rt, 0);
    return nl_ctx_result(c, r, ESRCH, KXL_ERR_NOT_FOUND, what, "no such route");
}

static bool route_is_default(route_obj *rt)
{
    ip_obj *dst = rtnl_route_get_dst(rt);

    return rtnl_route_get_table(rt) == RT_TABLE_MAIN && rtnl_route_get_type(rt) == RTN_UNICAST &&
           (!dst || nl_addr_get_prefixlen(dst) == 0);
}

/* Copies device and gateway of the best default route of FAMILY. Returns 1 if there is one,
 * 0 if not, -1 on failure (with kx_err if REPORT). */
static int default_route_find(nl_ctx *c, bool report, int family, char dev_r[IFNAMSIZ],
                              char via_r[64])
{
    AUTOPTR(cache_obj) cache = NULL;
    AUTOPTR(link_obj) link = NULL;
    route_obj *best = NULL;
    nh_obj *nh;
    int r = rtnl_route_alloc_cache(c->sk, family, 0, &cache);

    if (r < 0) {
        if (report)
            nl_ctx_fail(c, r, "cannot read the routing table");
        return -1;
    }
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        route_obj *rt = (route_obj *)o;
        if (route_is_default(rt) &&
            (!best || rtnl_route_get_priority(rt) < rtnl_route_get_priority(best)))
            best = rt;
    }
    if (!best)
        return 0;
    dev_r[0] = via_r[0] = '\0';
    if (!(nh = rtnl_route_nexthop_n(best, 0)))
        return 1;
    if (rtnl_route_nh_get_gateway(nh))
        nl_ip_format(rtnl_route_nh_get_gateway(nh), via_r, 64);
    r = rtnl_link_get_kernel(c->sk, rtnl_route_nh_get_ifindex(nh), NULL, &link);
    if (r < 0) {
        if (report)
            nl_ctx_fail(c, r, "cannot read the device of the default route");
        return -1;
    }
    snprintf(dev_r, IFNAMSIZ, "%s", rtnl_link_get_name(link));
    return 1;
}

static int default_route_lookup(bool report, char dev_r[IFNAMSIZ], char via_r[64])
{
    AUTOPTR(nl_ctx) c = nl_ctx_open(report);
    int r;

    if (!c)
        return -1;
    r = default_route_find(c, report, AF_INET, dev_r, via_r);
    if (r == 0)
        r = default_route_find(c, report, AF_INET6, dev_r, via_r);
    return r;
}

bool nl_default_route_exists(void)
{
    char dev[IFNAMSIZ], via[64];

    return default_route_lookup(false, dev, via) > 0;
}

int nl_default_route_get(char dev_r[IFNAMSIZ], char via_r[64])
{
    int r = default_route_lookup(true, dev_r, via_r);

    if (r == 0)
        kx_err(KXL_ERR_NOT_FOUND, "no default route");
    return r > 0 ? 0 : -1;
}
