/* nl.c - rtnetlink operations on links, addresses and routes through libnl-route-3.
 *
 * Each public call opens a socket (nl_ctx), does one thing and closes it. libnl turns kernel
 * errors into its own NLE_* codes, which lose detail ("Unspecific failure"), so an error
 * callback keeps the kernel's errno and its extended-ack text (libnl 3.7 does not parse
 * those) for the message. libnl allocation failures abort, as kx_malloc0 does. */
#include "nl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "util/cleanup.h"
#include "util/err.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

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

static void *must(void *p)
{
    if (!p)
        abort();
    return p;
}

/* ---- socket, errors and debug traffic ---- */

static int on_nl_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
    nl_ctx *c = arg;
    const struct nlmsghdr *h = (const void *)((const char *)e - NLMSG_HDRLEN);
    size_t payload = sizeof(*e), off;

    (void)who;
    c->kerr = -e->error;
    c->why[0] = '\0';
    /* the kernel puts its TLVs after our echoed request unless the ack is capped */
    if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > NLMSG_HDRLEN)
        payload += e->msg.nlmsg_len - NLMSG_HDRLEN;
    off = NLMSG_HDRLEN + NLMSG_ALIGN(payload);
    if ((h->nlmsg_flags & NLM_F_ACK_TLVS) && off < h->nlmsg_len) {
        const struct nlattr *a = nla_find((const struct nlattr *)((const char *)h + off),
                                          (int)(h->nlmsg_len - off), NLMSGERR_ATTR_MSG);
        if (a)
            nla_strlcpy(c->why, a, sizeof(c->why));
    }
    return NL_STOP;
}

static int on_nl_msg(struct nl_msg *msg, void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f) {
        nl_msg_dump(msg, f);
        fclose(f);
        kx_debug("netlink %s\n%s", (const char *)arg, text);
        free(text);
    }
    return NL_OK;
}

static void ctx_free(nl_ctx *c)
{
    if (!c)
        return;
    nl_socket_free(c->sk);
    free(c);
}
DEFINE_AUTOPTR(nl_ctx, ctx_free)

/* Opens a connected NETLINK_ROUTE socket. Returns NULL on failure, with kx_err if REPORT. */
static nl_ctx *ctx_open(bool report)
{
    AUTOPTR(nl_ctx) c = kx_malloc0(sizeof(*c));
    int one = 1, r;

    c->sk = must(nl_socket_alloc());
    r = nl_connect(c->sk, NETLINK_ROUTE);
    if (r < 0) {
        if (report)
            kx_err(KXL_ERR_INTERNAL, "cannot open a netlink socket: %s", nl_geterror(r));
        return NULL;
    }
    /* extended acks carry the kernel's explanation; capped acks do not echo our request */
    setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    nl_socket_modify_err_cb(c->sk, NL_CB_CUSTOM, on_nl_error, c);
    if (kx_log_enabled(KX_LOG_DEBUG)) {
        nl_socket_modify_cb(c->sk, NL_CB_MSG_OUT, NL_CB_CUSTOM, on_nl_msg, (void *)"out");
        nl_socket_modify_cb(c->sk, NL_CB_MSG_IN, NL_CB_CUSTOM, on_nl_msg, (void *)"in");
    }
    return TAKE_PTR(c);
}

static nl_ctx *ctx_new(void)
{
    return ctx_open(true);
}

/* The errno behind libnl error NLERR if the kernel sent it, else 0. */
static int ctx_errno(const nl_ctx *c, int nlerr)
{
    if (c->kerr > 0 && nl_syserr2nlerr(c->kerr) == abs(nlerr))
        return c->kerr;
    return 0;
}

static kxl_errcode errno_code(int e)
{
    switch (e) {
    case ENODEV:
    case ENOENT:
    case ESRCH:
    case EADDRNOTAVAIL:
        return KXL_ERR_NOT_FOUND;
    case EEXIST:
        return KXL_ERR_EXISTS;
    case EINVAL:
    case ERANGE:
        return KXL_ERR_INVALID;
    default:
        return KXL_ERR_INTERNAL;
    }
}

/* Reports "WHAT: WHY" for the failed libnl call that returned NLERR; WHY is the kernel's errno
 * text and explanation if the kernel refused, else libnl's own text. */
static void ctx_fail(const nl_ctx *c, int nlerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ctx_fail(const nl_ctx *c, int nlerr, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    int e = ctx_errno(c, nlerr);
    kxl_errcode code = KXL_ERR_INTERNAL;
    va_list ap;

    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (e) {
        kx_buf_printf(&b, ": %s", strerror(e));
        if (c->why[0])
            kx_buf_printf(&b, " (%s)", c->why);
        code = errno_code(e);
    } else {
        kx_buf_printf(&b, ": %s", nl_geterror(nlerr));
        if (abs(nlerr) == NLE_NODEV || abs(nlerr) == NLE_OBJ_NOTFOUND)
            code = KXL_ERR_NOT_FOUND;
        else if (abs(nlerr) == NLE_EXIST)
            code = KXL_ERR_EXISTS;
        else if (abs(nlerr) == NLE_INVAL || abs(nlerr) == NLE_RANGE)
            code = KXL_ERR_INVALID;
    }
    kx_err(code, "%s", kx_buf_str(&b));
    kx_buf_dispose(&b);
}

/* ---- names and addresses ---- */

static const char *ifname_problem(const char *name)
{
    if (!name || !*name)
        return "empty";
    if (strlen(name) >= IFNAMSIZ)
        return "longer than 15 characters";
    if (kx_streq(name, ".") || kx_streq(name, ".."))
        return "reserved";
    for (const char *p = name; *p; p++) {
        if (*p == '/')
            return "contains '/'";
        if (*p == ':')
            return "contains ':'";
        if (isspace((unsigned char)*p))
            return "contains whitespace";
    }
    return NULL;
}

int nl_ifname_check(const char *name)
{
    const char *why = ifname_problem(name);

    if (why) {
        kx_err(KXL_ERR_INVALID, "invalid interface name '%s': %s", name ? name : "", why);
        return -1;
    }
    return 0;
}

/* Parses "ADDR" or, with WITH_PREFIX, "ADDR[/N]". Returns NULL and sets *ip_r, or a reason. */
static const char *ip_parse(const char *s, bool with_prefix, ip_obj **ip_r)
{
    char host[INET6_ADDRSTRLEN];
    unsigned char bin[16];
    const char *slash = with_prefix ? strchr(s, '/') : NULL;
    size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
    int family = AF_INET, bits = 32;
    long plen;
    char *end;

    if (hlen == 0 || hlen >= sizeof(host))
        return "not an IPv4 or IPv6 address";
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (inet_pton(AF_INET, host, bin) != 1) {
        family = AF_INET6;
        bits = 128;
        if (inet_pton(AF_INET6, host, bin) != 1)
            return "not an IPv4 or IPv6 address";
    }
    plen = bits;
    if (slash) {
        errno = 0;
        plen = strtol(slash + 1, &end, 10);
        if (!isdigit((unsigned char)slash[1]) || *end || errno || plen > bits)
            return family == AF_INET ? "prefix length is not 0..32" : "prefix length is not 0..128";
    }
    *ip_r = must(nl_addr_build(family, bin, (size_t)bits / 8));
    nl_addr_set_prefixlen(*ip_r, (int)plen);
    return NULL;
}

/* Formats IP (without prefix) into out. */
static void ip_format(ip_obj *ip, char *out, size_t n)
{
    if (!inet_ntop(nl_addr_get_family(ip), nl_addr_get_binary_addr(ip), out, (socklen_t)n))
        snprintf(out, n, "?");
}

static int hexval(char ch)
{
    return isdigit((unsigned char)ch) ? ch - '0' : tolower((unsigned char)ch) - 'a' + 10;
}

static bool mac_parse(const char *s, unsigned char mac[6])
{
    for (int i = 0; i < 6; i++, s += 3) {
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
            return false;
        if (s[2] != (i < 5 ? ':' : '\0'))
            return false;
        mac[i] = (unsigned char)(hexval(s[0]) << 4 | hexval(s[1]));
    }
    return true;
}

/* ---- links ---- */

/* Fetches link NAME; nothing reported. rtnl_link_get_kernel() has an error callback of its own,
 * so the kernel's errno arrives only as the libnl code (link_missing() tells ENODEV). */
static int link_get(nl_ctx *c, const char *name, link_obj **link_r)
{
    c->kerr = 0;
    c->why[0] = '\0';
    return rtnl_link_get_kernel(c->sk, 0, name, link_r);
}

static bool link_missing(int nlerr)
{
    return nlerr == -NLE_NODEV || nlerr == -NLE_OBJ_NOTFOUND;
}

static bool link_is_bridge(link_obj *link)
{
    return kx_streq(rtnl_link_get_type(link), "bridge");
}

int nl_bridge_create(const char *name)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;
    int r;

    if (nl_ifname_check(name) < 0 || !(c = ctx_new()))
        return -1;
    link = must(rtnl_link_bridge_alloc());
    rtnl_link_set_name(link, name);
    kx_debug("netlink: create bridge '%s'", name);
    r = rtnl_link_add(c->sk, link, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0 && ctx_errno(c, r) == EEXIST) {
        kx_err(KXL_ERR_EXISTS, "cannot create bridge '%s': '%s' already exists", name, name);
        return -1;
    }
    if (r < 0) {
        ctx_fail(c, r, "cannot create bridge '%s'", name);
        return -1;
    }
    return 0;
}

/* Opens /run/netns/NAME. Returns the fd, or -1 with kx_err prefixed by WHAT. */
static int netns_open(const char *name, const char *what)
{
    AUTOFREE char *path = NULL;
    int fd;

    if (!*name || strchr(name, '/') || kx_streq(name, ".") || kx_streq(name, "..")) {
        kx_err(KXL_ERR_INVALID, "%s: invalid network namespace name '%s'", what, name);
        return -1;
    }
    path = kx_asprintf("/run/netns/%s", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                     "%s: cannot open network namespace '%s' (%s)", what, name, path);
    return fd;
}

static void veth_exists_err(const char *what, const char *a, const char *b, const char *b_netns)
{
    if (nl_link_exists(a))
        kx_err(KXL_ERR_EXISTS, "%s: '%s' already exists", what, a);
    else if (b_netns)
        kx_err(KXL_ERR_EXISTS, "%s: '%s' already exists in network namespace '%s'", what, b,
               b_netns);
    else
        kx_err(KXL_ERR_EXISTS, "%s: '%s' already exists", what, b);
}

int nl_veth_create(const char *a, const char *b, const char *b_netns)
{
    AUTOFREE char *what = NULL;
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;
    AUTOPTR(link_obj) peer = NULL;
    AUTOCLOSE int nsfd = -1;
    int r;

    if (nl_ifname_check(a) < 0 || nl_ifname_check(b) < 0)
        return -1;
    what = kx_asprintf("cannot create veth pair '%s' and '%s'", a, b);
    if (!b_netns && kx_streq(a, b)) {
        kx_err(KXL_ERR_INVALID, "%s: the two ends need different names", what);
        return -1;
    }
    if (b_netns && (nsfd = netns_open(b_netns, what)) < 0)
        return -1;
    if (!(c = ctx_new()))
        return -1;
    link = must(rtnl_link_veth_alloc());
    rtnl_link_set_name(link, a);
    peer = must(rtnl_link_veth_get_peer(link)); /* our own reference (3.7) */
    rtnl_link_set_name(peer, b);
    if (nsfd >= 0)
        rtnl_link_set_ns_fd(peer, nsfd);
    kx_debug("netlink: create veth '%s' <-> '%s'%s%s", a, b, b_netns ? " in netns " : "",
             b_netns ? b_netns : "");
    r = rtnl_link_add(c->sk, link, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0 && ctx_errno(c, r) == EEXIST) {
        veth_exists_err(what, a, b, b_netns);
        return -1;
    }
    if (r < 0) {
        ctx_fail(c, r, "%s", what);
        return -1;
    }
    return 0;
}

int nl_link_delete(const char *name)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;
    int r;

    if (nl_ifname_check(name) < 0 || !(c = ctx_new()))
        return -1;
    link = must(rtnl_link_alloc());
    rtnl_link_set_name(link, name);
    kx_debug("netlink: delete link '%s'", name);
    r = rtnl_link_delete(c->sk, link);
    if (r < 0) {
        ctx_fail(c, r, "cannot delete '%s'", name);
        return -1;
    }
    return 0;
}

bool nl_link_exists(const char *name)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;

    if (ifname_problem(name) || !(c = ctx_open(false)))
        return false;
    return link_get(c, name, &link) >= 0;
}

bool nl_link_is_bridge(const char *name)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;

    if (ifname_problem(name) || !(c = ctx_open(false)))
        return false;
    return link_get(c, name, &link) >= 0 && link_is_bridge(link);
}

/* Applies the changes in CHG to link NAME. Returns 0, or -1 with kx_err "WHAT: WHY". */
static int link_change(nl_ctx *c, const char *name, link_obj *chg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int link_change(nl_ctx *c, const char *name, link_obj *chg, const char *fmt, ...)
{
    AUTOPTR(link_obj) link = NULL;
    kx_buf what = KX_BUF_INIT;
    va_list ap;
    int r = link_get(c, name, &link);

    if (r >= 0)
        r = rtnl_link_change(c->sk, link, chg, 0);
    if (r >= 0)
        return 0;
    va_start(ap, fmt);
    kx_buf_vprintf(&what, fmt, ap);
    va_end(ap);
    ctx_fail(c, r, "%s", kx_buf_str(&what));
    kx_buf_dispose(&what);
    return -1;
}

int nl_link_set_up(const char *name, bool up)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) chg = NULL;

    if (nl_ifname_check(name) < 0 || !(c = ctx_new()))
        return -1;
    chg = must(rtnl_link_alloc());
    if (up)
        rtnl_link_set_flags(chg, IFF_UP);
    else
        rtnl_link_unset_flags(chg, IFF_UP);
    kx_debug("netlink: set '%s' %s", name, up ? "up" : "down");
    return link_change(c, name, chg, "cannot bring '%s' %s", name, up ? "up" : "down");
}

/* Looks up bridge MASTER for nl_link_set_master. Returns its ifindex, or -1 with kx_err. */
static int master_index(nl_ctx *c, const char *name, const char *master)
{
    AUTOPTR(link_obj) link = NULL;
    int r = link_get(c, master, &link);

    if (link_missing(r)) {
        kx_err(KXL_ERR_NOT_FOUND, "cannot add '%s' to bridge '%s': '%s' does not exist", name,
               master, master);
        return -1;
    }
    if (r < 0) {
        ctx_fail(c, r, "cannot add '%s' to bridge '%s'", name, master);
        return -1;
    }
    if (!link_is_bridge(link)) {
        kx_err(KXL_ERR_INVALID, "cannot add '%s' to bridge '%s': '%s' is not a bridge", name,
               master, master);
        return -1;
    }
    return rtnl_link_get_ifindex(link);
}

int nl_link_set_master(const char *name, const char *master)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) chg = NULL;
    AUTOPTR(link_obj) link = NULL;
    int idx = 0;

    if (nl_ifname_check(name) < 0 || (master && nl_ifname_check(master) < 0))
        return -1;
    if (!(c = ctx_new()))
        return -1;
    if (master) {
        int r = link_get(c, name, &link);
        if (link_missing(r)) {
            kx_err(KXL_ERR_NOT_FOUND, "cannot add '%s' to bridge '%s': '%s' does not exist",
                   name, master, name);
            return -1;
        }
        if ((idx = master_index(c, name, master)) < 0)
            return -1;
    }
    chg = must(rtnl_link_alloc());
    rtnl_link_set_master(chg, idx);
    kx_debug("netlink: set master of '%s' to '%s'", name, master ? master : "(none)");
    if (master)
        return link_change(c, name, chg, "cannot add '%s' to bridge '%s'", name, master);
    return link_change(c, name, chg, "cannot release '%s' from its bridge", name);
}

int nl_link_get_master(const char *name, char master_r[IFNAMSIZ])
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;
    AUTOPTR(link_obj) m = NULL;
    int r, idx;

    master_r[0] = '\0';
    if (nl_ifname_check(name) < 0 || !(c = ctx_new()))
        return -1;
    r = link_get(c, name, &link);
    if (r < 0) {
        ctx_fail(c, r, "cannot read the master of '%s'", name);
        return -1;
    }
    idx = rtnl_link_get_master(link);
    if (idx <= 0)
        return 0;
    r = rtnl_link_get_kernel(c->sk, idx, NULL, &m);
    if (r < 0) {
        ctx_fail(c, r, "cannot read the master of '%s' (ifindex %d)", name, idx);
        return -1;
    }
    snprintf(master_r, IFNAMSIZ, "%s", rtnl_link_get_name(m));
    return 0;
}

int nl_link_set_mtu(const char *name, unsigned mtu)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) chg = NULL;

    if (nl_ifname_check(name) < 0 || !(c = ctx_new()))
        return -1;
    chg = must(rtnl_link_alloc());
    rtnl_link_set_mtu(chg, mtu);
    kx_debug("netlink: set MTU of '%s' to %u", name, mtu);
    return link_change(c, name, chg, "cannot set the MTU of '%s' to %u", name, mtu);
}

int nl_link_set_mac(const char *name, const char *mac)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) chg = NULL;
    AUTOPTR(ip_obj) addr = NULL;
    unsigned char bin[6];

    if (nl_ifname_check(name) < 0)
        return -1;
    if (!mac_parse(mac, bin)) {
        kx_err(KXL_ERR_INVALID,
               "cannot set the MAC address of '%s' to '%s': not of the form xx:xx:xx:xx:xx:xx",
               name, mac);
        return -1;
    }
    if (!(c = ctx_new()))
        return -1;
    addr = must(nl_addr_build(AF_LLC, bin, sizeof(bin)));
    chg = must(rtnl_link_alloc());
    rtnl_link_set_addr(chg, addr);
    kx_debug("netlink: set MAC of '%s' to %s", name, mac);
    return link_change(c, name, chg, "cannot set the MAC address of '%s' to '%s'", name, mac);
}

int nl_link_stats(const char *name, nl_stats *st_r)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;
    int r;

    if (nl_ifname_check(name) < 0 || !(c = ctx_new()))
        return -1;
    r = link_get(c, name, &link);
    if (r < 0) {
        ctx_fail(c, r, "cannot read the counters of '%s'", name);
        return -1;
    }
    st_r->rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
    st_r->rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
    st_r->tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
    st_r->tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
    return 0;
}

/* ---- addresses ---- */

/* Builds the address object for nl_addr_add/del. Returns NULL with kx_err "WHAT: WHY". */
static addr_obj *addr_build(nl_ctx *c, const char *dev, const char *cidr, const char *what)
{
    AUTOPTR(link_obj) link = NULL;
    AUTOPTR(ip_obj) ip = NULL;
    addr_obj *a;
    const char *why = ip_parse(cidr, true, &ip);
    int r;

    if (why) {
        kx_err(KXL_ERR_INVALID, "%s: %s", what, why);
        return NULL;
    }
    r = link_get(c, dev, &link);
    if (r < 0) {
        ctx_fail(c, r, "%s", what);
        return NULL;
    }
    a = must(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(a, rtnl_link_get_ifindex(link));
    rtnl_addr_set_family(a, nl_addr_get_family(ip));
    rtnl_addr_set_local(a, ip);
    return a;
}

int nl_addr_add(const char *dev, const char *cidr)
{
    AUTOFREE char *what = NULL;
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(addr_obj) a = NULL;
    int r;

    if (nl_ifname_check(dev) < 0 || !(c = ctx_new()))
        return -1;
    what = kx_asprintf("cannot add address '%s' to '%s'", cidr, dev);
    if (!(a = addr_build(c, dev, cidr, what)))
        return -1;
    kx_debug("netlink: add address %s to '%s'", cidr, dev);
    r = rtnl_addr_add(c->sk, a, NLM_F_EXCL);
    if (r < 0 && ctx_errno(c, r) == EEXIST) {
        kx_err(KXL_ERR_EXISTS, "%s: '%s' already has it", what, dev);
        return -1;
    }
    if (r < 0) {
        ctx_fail(c, r, "%s", what);
        return -1;
    }
    return 0;
}

int nl_addr_del(const char *dev, const char *cidr)
{
    AUTOFREE char *what = NULL;
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(addr_obj) a = NULL;
    int r;

    if (nl_ifname_check(dev) < 0 || !(c = ctx_new()))
        return -1;
    what = kx_asprintf("cannot remove address '%s' from '%s'", cidr, dev);
    if (!(a = addr_build(c, dev, cidr, what)))
        return -1;
    kx_debug("netlink: remove address %s from '%s'", cidr, dev);
    r = rtnl_addr_delete(c->sk, a, 0);
    if (r < 0 && ctx_errno(c, r) == EADDRNOTAVAIL) {
        kx_err(KXL_ERR_NOT_FOUND, "%s: '%s' does not have it", what, dev);
        return -1;
    }
    if (r < 0) {
        ctx_fail(c, r, "%s", what);
        return -1;
    }
    return 0;
}

int nl_addr_list(const char *dev, kx_strv *cidrs_r)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;
    AUTOPTR(cache_obj) cache = NULL;
    char text[INET6_ADDRSTRLEN];
    int r, idx;

    if (nl_ifname_check(dev) < 0 || !(c = ctx_new()))
        return -1;
    r = link_get(c, dev, &link);
    if (r >= 0)
        r = rtnl_addr_alloc_cache(c->sk, &cache);
    if (r < 0) {
        ctx_fail(c, r, "cannot list the addresses of '%s'", dev);
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
        ip_format(local, text, sizeof(text));
        kx_strv_pushf(cidrs_r, "%s/%d", text, rtnl_addr_get_prefixlen(a));
    }
    return 0;
}

/* ---- routes ---- */

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

    if (via && (why = ip_parse(via, false, via_r)))
        return "the gateway is not an IPv4 or IPv6 address";
    if (src && (why = ip_parse(src, false, src_r)))
        return "the source is not an IPv4 or IPv6 address";
    if (kx_streq(dst, "default")) {
        family = *via_r ? nl_addr_get_family(*via_r) : *src_r ? nl_addr_get_family(*src_r)
                                                             : AF_INET;
        *dst_r = must(nl_addr_build(family, zero, family == AF_INET ? 4 : 16));
        nl_addr_set_prefixlen(*dst_r, 0);
    } else if ((why = ip_parse(dst, true, dst_r))) {
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
    if (dev && (r = link_get(c, dev, &link)) < 0) {
        ctx_fail(c, r, "%s", what);
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
    if ((dev && nl_ifname_check(dev) < 0) || !(c = ctx_new()))
        return -1;
    spec = route_spec(dst_cidr, dev, via, src);
    what = kx_asprintf("cannot add route '%s'", spec);
    if (!(rt = route_build(c, true, what, dst_cidr, dev, via, src)))
        return -1;
    kx_debug("netlink: add route %s", spec);
    r = rtnl_route_add(c->sk, rt, NLM_F_EXCL);
    if (r < 0 && ctx_errno(c, r) == EEXIST) {
        kx_err(KXL_ERR_EXISTS, "%s: it already exists", what);
        return -1;
    }
    if (r < 0) {
        ctx_fail(c, r, "%s", what);
        return -1;
    }
    return 0;
}

int nl_route_del(const char *dst_cidr, const char *dev, const char *via)
{
    AUTOFREE char *spec = NULL;
    AUTOFREE char *what = NULL;
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(route_obj) rt = NULL;
    int r;

    via = via && *via ? via : NULL;
    if ((dev && nl_ifname_check(dev) < 0) || !(c = ctx_new()))
        return -1;
    spec = route_spec(dst_cidr, dev, via, NULL);
    what = kx_asprintf("cannot delete route '%s'", spec);
    if (!(rt = route_build(c, false, what, dst_cidr, dev, via, NULL)))
        return -1;
    kx_debug("netlink: delete route %s", spec);
    r = rtnl_route_delete(c->sk, rt, 0);
    if (r < 0 && ctx_errno(c, r) == ESRCH) {
        kx_err(KXL_ERR_NOT_FOUND, "%s: no such route", what);
        return -1;
    }
    if (r < 0) {
        ctx_fail(c, r, "%s", what);
        return -1;
    }
    return 0;
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
            ctx_fail(c, r, "cannot read the routing table");
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
        ip_format(rtnl_route_nh_get_gateway(nh), via_r, 64);
    r = rtnl_link_get_kernel(c->sk, rtnl_route_nh_get_ifindex(nh), NULL, &link);
    if (r < 0) {
        if (report)
            ctx_fail(c, r, "cannot read the device of the default route");
        return -1;
    }
    snprintf(dev_r, IFNAMSIZ, "%s", rtnl_link_get_name(link));
    return 1;
}

static int default_route_lookup(bool report, char dev_r[IFNAMSIZ], char via_r[64])
{
    AUTOPTR(nl_ctx) c = ctx_open(report);
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
