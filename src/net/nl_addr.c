/* nl_addr.c - IP addresses of links over rtnetlink: add, remove, list. */
#include "nl.h"

#include <arpa/inet.h>
#include <errno.h>

#include <linux/rtnetlink.h>

#include "nl_internal.h"
#include "util/err.h"

/* Builds the address object for nl_addr_add/del. Returns NULL with kx_err "WHAT: WHY". */
static addr_obj *addr_build(nl_ctx *c, const char *dev, const char *cidr, const char *what)
{
    AUTOPTR(link_obj) link = NULL;
    AUTOPTR(ip_obj) ip = NULL;
    addr_obj *a;
    const char *why = nl_ip_parse(cidr, true, &ip);
    int r;

    if (why) {
        kx_err(KXL_ERR_INVALID, "%s: %s", what, why);
        return NULL;
    }
    r = nl_ctx_get_link(c, dev, &link);
    if (r < 0) {
        nl_ctx_fail(c, r, "%s", what);
        return NULL;
    }
    a = must(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(a, rtnl_link_get_ifindex(link));
    rtnl_addr_set_family(a, nl_addr_get_family(ip));
    rtnl_addr_set_local(a, ip);
    return a;
}

/* nl_addr_add (ADD) or nl_addr_del: the two differ only in the request and their words. */
static int addr_change(const char *dev, const char *cidr, bool add)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(addr_obj) a = NULL;

    if (nl_ifname_check(dev) < 0 || !(c = nl_ctx_new()))
        return -1;
    AUTOFREE char *what = add ? kx_asprintf("cannot add address '%s' to '%s'", cidr, dev)
                              : kx_asprintf("cannot remove address '%s' from '%s'", cidr, dev);
    AUTOFREE char *known = kx_asprintf(add ? "'%s' already has it" : "'%s' does not have it",
                                       dev);
    if (!(a = addr_build(c, dev, cidr, what)))
        return -1;
    kx_debug("netlink: %s address %s %s '%s'", add ? "add" : "remove", cidr, add ? "to" : "from",
             dev);
    int r = add ? rtnl_addr_add(c->sk, a, NLM_F_EXCL) : rtnl_addr_delete(c->sk, a, 0);
    return nl_ctx_result(c, r, add ? EEXIST : EADDRNOTAVAIL,
                         add ? KXL_ERR_EXISTS : KXL_ERR_NOT_FOUND, what, known);
}

int nl_addr_add(const char *dev, const char *cidr)
{
    return addr_change(dev, cidr, true);
}

int nl_addr_del(const char *dev, const char *cidr)
{
    return addr_change(dev, cidr, false);
}

int nl_addr_list(const char *dev, kx_strv *cidrs_r)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;
    AUTOPTR(cache_obj) cache = NULL;
    char text[INET6_ADDRSTRLEN];
    int r, idx;

    if (nl_ifname_check(dev) < 0 || !(c = nl_ctx_new()))
        return -1;
    r = nl_ctx_get_link(c, dev, &link);
    if (r >= 0)
        r = rtnl_addr_alloc_cache(c->sk, &cache);
    if (r < 0) {
        nl_ctx_fail(c, r, "cannot list the addresses of '%s'", dev);
        return -1;
    }
    idx = rtnl_link_get_ifindex(link);
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        addr_obj *a = (addr_obj *)o;
        ip_obj *local = rtnl_addr_get_local(a);
        if (rtnl_addr_get_ifindex(a) != idx || !local)
            continue;
        if (rtnl_addr_get_family(a) == AF_INET6 && rtnl_addr_get_scope(a) == RT_SCOPE_LINK)
            continue; /* fe80::, the kernel's own for every link: nothing to move or compare */
        nl_ip_format(local, text, sizeof(text));
        kx_strv_pushf(cidrs_r, "%s/%d", text, rtnl_addr_get_prefixlen(a));
    }
    return 0;
}
