/* nl_link.c - links over rtnetlink: interface names, bridges, veth pairs, deleting links,
 * up/down, bridge master, MTU, MAC address and counters. */
#include "nl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/errno.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "nl_internal.h"
#include "util/err.h"

/* ---- names and MAC addresses ---- */

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

/* True if NLERR, from nl_ctx_get_link(), says there is no such link. */
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

    if (nl_ifname_check(name) < 0 || !(c = nl_ctx_new()))
        return -1;
    link = must(rtnl_link_bridge_alloc());
    rtnl_link_set_name(link, name);
    kx_debug("netlink: create bridge '%s'", name);
    r = rtnl_link_add(c->sk, link, NLM_F_CREATE | NLM_F_EXCL);
    AUTOFREE char *what = kx_asprintf("cannot create bridge '%s'", name);
    AUTOFREE char *known = kx_asprintf("'%s' already exists", name);
    return nl_ctx_result(c, r, EEXIST, KXL_ERR_EXISTS, what, known);
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
    if (!(c = nl_ctx_new()))
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
    if (r < 0 && nl_ctx_errno(c, r) == EEXIST) {
        veth_exists_err(what, a, b, b_netns);
        return -1;
    }
    if (r < 0) {
        nl_ctx_fail(c, r, "%s", what);
        return -1;
    }
    return 0;
}

int nl_link_delete(const char *name)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;
    int r;

    if (nl_ifname_check(name) < 0 || !(c = nl_ctx_new()))
        return -1;
    link = must(rtnl_link_alloc());
    rtnl_link_set_name(link, name);
    kx_debug("netlink: delete link '%s'", name);
    r = rtnl_link_delete(c->sk, link);
    AUTOFREE char *what = kx_asprintf("cannot delete '%s'", name);
    return nl_ctx_result(c, r, 0, KXL_ERR_INTERNAL, what, NULL);
}

bool nl_link_exists(const char *name)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;

    if (ifname_problem(name) || !(c = nl_ctx_open(false)))
        return false;
    return nl_ctx_get_link(c, name, &link) >= 0;
}

bool nl_link_is_bridge(const char *name)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) link = NULL;

    if (ifname_problem(name) || !(c = nl_ctx_open(false)))
        return false;
    return nl_ctx_get_link(c, name, &link) >= 0 && link_is_bridge(link);
}

/* Applies the changes in CHG to link NAME. Returns 0, or -1 with kx_err "WHAT: WHY". */
static int link_change(nl_ctx *c, const char *name, link_obj *chg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int link_change(nl_ctx *c, const char *name, link_obj *chg, const char *fmt, ...)
{
    AUTOPTR(link_obj) link = NULL;
    kx_buf what = KX_BUF_INIT;
    va_list ap;
    int r = nl_ctx_get_link(c, name, &link);

    if (r >= 0)
        r = rtnl_link_change(c->sk, link, chg, 0);
    if (r >= 0)
        return 0;
    va_start(ap, fmt);
    kx_buf_vprintf(&what, fmt, ap);
    va_end(ap);
    nl_ctx_fail(c, r, "%s", kx_buf_str(&what));
    kx_buf_dispose(&what);
    return -1;
}

int nl_link_set_up(const char *name, bool up)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) chg = NULL;

    if (nl_ifname_check(name) < 0 || !(c = nl_ctx_new()))
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
    int r = nl_ctx_get_link(c, master, &link);

    if (link_missing(r)) {
        kx_err(KXL_ERR_NOT_FOUND, "cannot add '%s' to bridge '%s': '%s' does not exist", name,
               master, master);
        return -1;
    }
    if (r < 0) {
        nl_ctx_fail(c, r, "cannot add '%s' to bridge '%s'", name, master);
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
    if (!(c = nl_ctx_new()))
        return -1;
    if (master) {
        int r = nl_ctx_get_link(c, name, &link);
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
    if (nl_ifname_check(name) < 0 || !(c = nl_ctx_new()))
        return -1;
    r = nl_ctx_get_link(c, name, &link);
    if (r < 0) {
        nl_ctx_fail(c, r, "cannot read the master of '%s'", name);
        return -1;
    }
    idx = rtnl_link_get_master(link);
    if (idx <= 0)
        return 0;
    r = rtnl_link_get_kernel(c->sk, idx, NULL, &m);
    if (r < 0) {
        nl_ctx_fail(c, r, "cannot read the master of '%s' (ifindex %d)", name, idx);
        return -1;
    }
    snprintf(master_r, IFNAMSIZ, "%s", rtnl_link_get_name(m));
    return 0;
}

int nl_link_set_mtu(const char *name, unsigned mtu)
{
    AUTOPTR(nl_ctx) c = NULL;
    AUTOPTR(link_obj) chg = NULL;

    if (nl_ifname_check(name) < 0 || !(c = nl_ctx_new()))
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
    if (!(c = nl_ctx_new()))
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

    if (nl_ifname_check(name) < 0 || !(c = nl_ctx_new()))
        return -1;
    r = nl_ctx_get_link(c, name, &link);
    if (r < 0) {
        nl_ctx_fail(c, r, "cannot read the counters of '%s'", name);
        return -1;
    }
    st_r->rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
    st_r->rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
    st_r->tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
    st_r->tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
    return 0;
}
