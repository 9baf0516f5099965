/* nl_sock.c - the socket under every rtnetlink call, the kernel's errors turned into messages,
 * and IP addresses as text, for nl_link.c, nl_addr.c and nl_route.c (see nl_internal.h).
 *
 * Each public call opens a socket (nl_ctx), does one thing and closes it. libnl turns kernel
 * errors into its own NLE_* codes, which lose detail ("Unspecific failure"), so an error
 * callback keeps the kernel's errno and its extended-ack text (libnl 3.7 does not parse
 * those) for the message. libnl allocation failures abort, as kx_malloc0 does. */
#include "nl_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>

#include "util/buf.h"
#include "util/err.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

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

void nl_ctx_free(nl_ctx *c)
{
    if (!c)
        return;
    nl_socket_free(c->sk);
    free(c);
}

nl_ctx *nl_ctx_open(bool report)
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

nl_ctx *nl_ctx_new(void)
{
    return nl_ctx_open(true);
}

int nl_ctx_errno(const nl_ctx *c, int nlerr)
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

void nl_ctx_fail(const nl_ctx *c, int nlerr, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    int e = nl_ctx_errno(c, nlerr);
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

int nl_ctx_result(const nl_ctx *c, int r, int known, kxl_errcode code, const char *what,
                  const char *known_why)
{
    if (r >= 0)
        return 0;
    if (known && nl_ctx_errno(c, r) == known)
        kx_err(code, "%s: %s", what, known_why);
    else
        nl_ctx_fail(c, r, "%s", what);
    return -1;
}

/* rtnl_link_get_kernel() uses an error callback of its own: clear what an earlier call left */
int nl_ctx_get_link(nl_ctx *c, const char *name, link_obj **link_r)
{
    c->kerr = 0;
    c->why[0] = '\0';
    return rtnl_link_get_kernel(c->sk, 0, name, link_r);
}

/* ---- addresses as text ---- */

const char *nl_ip_parse(const char *s, bool with_prefix, ip_obj **ip_r)
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

void nl_ip_format(ip_obj *ip, char *out, size_t n)
{
    if (!inet_ntop(nl_addr_get_family(ip), nl_addr_get_binary_addr(ip), out, (socklen_t)n))
        snprintf(out, n, "?");
}
