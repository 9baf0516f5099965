/* nl_internal.h - what the rtnetlink files (nl_sock.c, nl_link.c, nl_addr.c, nl_route.c) share:
 * the per-call socket that keeps the kernel's own error text, libnl object types that drop their
 * reference when they leave scope, and IP addresses as text. Not part of the API; that is nl.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "util/cleanup.h"
#include "util/err.h"

typedef struct {
    struct nl_sock *sk;
    int kerr;       /* errno of the kernel's latest refusal, 0 if none yet */
    char why[160];  /* the kernel's extended-ack text for it, "" if none */
} nl_ctx;

/* libnl objects, put (reference dropped) when they leave scope */
typedef struct rtnl_link link_obj;
typedef struct rtnl_addr addr_obj;
typedef struct rtnl_route route_obj;
typedef struct rtnl_nexthop nh_obj;
typedef struct nl_addr ip_obj;
typedef struct nl_cache cache_obj;

#define NL_AUTOPUT(type, fn)                                                                       \
    static inline void type##_drop(type *p)                                                        \
    {                                                                                              \
        if (p)                                                                                     \
            fn(p);                                                                                 \
    }                                                                                              \
    DEFINE_AUTOPTR(type, type##_drop)

NL_AUTOPUT(link_obj, rtnl_link_put)
NL_AUTOPUT(addr_obj, rtnl_addr_put)
NL_AUTOPUT(route_obj, rtnl_route_put)
NL_AUTOPUT(nh_obj, rtnl_route_nh_free)
NL_AUTOPUT(ip_obj, nl_addr_put)
NL_AUTOPUT(cache_obj, nl_cache_free)

/* libnl allocation failures abort, as kx_malloc0 does */
static inline void *must(void *p)
{
    if (!p)
        abort();
    return p;
}

/* ---- socket and errors (nl_sock.c) ---- */

/* Closes C's socket and frees C; NULL-safe. */
void nl_ctx_free(nl_ctx *c);
DEFINE_AUTOPTR(nl_ctx, nl_ctx_free)

/* Opens a connected NETLINK_ROUTE socket that records the kernel's errors in the context (and
 * dumps the traffic at debug level). Returns the context, owned by the caller, or NULL on
 * failure, with kx_err if REPORT. */
nl_ctx *nl_ctx_open(bool report);
/* nl_ctx_open(true). */
nl_ctx *nl_ctx_new(void);

/* The errno behind libnl error NLERR if the kernel sent it, else 0. */
int nl_ctx_errno(const nl_ctx *c, int nlerr);

/* Reports "WHAT: WHY" for the failed libnl call that returned NLERR; WHY is the kernel's errno
 * text and explanation if the kernel refused, else libnl's own text. */
void nl_ctx_fail(const nl_ctx *c, int nlerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The end of a request that returned R (libnl): 0 when it went through; else -1 with kx_err
 * "WHAT: KNOWN_WHY" as CODE when the kernel gave the one errno the caller expects (KNOWN;
 * 0 for none), otherwise as nl_ctx_fail gives it. */
int nl_ctx_result(const nl_ctx *c, int r, int known, kxl_errcode code, const char *what,
                  const char *known_why);

/* Fetches link NAME into *link_r (the caller puts it); nothing reported. Returns >= 0, or the
 * libnl error. rtnl_link_get_kernel() has an error callback of its own, so the kernel's errno
 * arrives only as the libnl code (-NLE_NODEV or -NLE_OBJ_NOTFOUND for a missing link). */
int nl_ctx_get_link(nl_ctx *c, const char *name, link_obj **link_r);

/* ---- addresses as text (nl_sock.c) ---- */

/* Parses "ADDR" or, with WITH_PREFIX, "ADDR[/N]". Returns NULL and sets *ip_r (owned by the
 * caller), or a reason. */
const char *nl_ip_parse(const char *s, bool with_prefix, ip_obj **ip_r);
/* Formats IP (without prefix) into out, "?" if it cannot. */
void nl_ip_format(ip_obj *ip, char *out, size_t n);
