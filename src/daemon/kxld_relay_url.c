/* kxld_relay_url.c - the relay's target: only a configured peer, only under its /api/v1/
 * (kxld_relay_url.h). Pure: no I/O. The relay is never an open proxy: the scheme, host and
 * port come from kxld.conf, never from the request, and the path is rebuilt segment by
 * segment. */
#include "daemon/kxld_relay_url.h"

#include <string.h>

#include "util/buf.h"
#include "util/err.h"

const char *kxld_peer_address(const char *const *peers, const char *name)
{
    size_t n = strlen(name);
    for (const char *const *p = peers; p && *p && n; p++)
        if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
            return *p + n + 1;
    return NULL;
}

json_object *kxld_peers_json(const char *const *peers, const char *value_key)
{
    json_object *a = json_object_new_array();
    for (const char *const *p = peers; p && *p; p++) {
        size_t n = strcspn(*p, "=");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string_len(*p, (int)n));
        json_object_object_add(o, value_key, json_object_new_string(*p + n + 1));
        json_object_array_add(a, o);
    }
    return a;
}

/* Appends s[0..n) percent-encoded but for RFC 3986's unreserved characters (and keep's). */
static void add_encoded(kx_buf *b, const char *s, size_t n, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch) || (ch && strchr(keep, ch)))
            kx_buf_addn(b, (const char *)&ch, 1);
        else
            kx_buf_printf(b, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
    }
}

/* Appends rest's segments, each checked and encoded; -1 with kx_err. */
static int add_path(kx_buf *b, const char *rest)
{
    const char *s = rest;
    for (;;) {
        size_t n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && strncmp(s, "..", 2) == 0)) {
            kx_err(KXL_ERR_INVALID, "the relay forwards only paths under a peer's /api/v1/ "
                   "(an empty, '.' or '..' segment in '%s')", rest);
            return -1;
        }
        if (s == rest && n == 5 && strncmp(s, "hosts", 5) == 0) {
            kx_err(KXL_ERR_INVALID, "the relay goes one hop only: ask the peer's own hosts "
                   "of kxld.conf's api_peers directly");
            return -1;
        }
        add_encoded(b, s, n, "");
        if (!s[n])
            return 0;
        kx_buf_add(b, "/");
        s += n + 1;
    }
}

char *kxld_relay_url(const char *const *api_peers, const char *host, const char *rest,
                     const char *query)
{
    const char *addr = kxld_peer_address(api_peers, host);
    if (!addr) {
        kx_err(KXL_ERR_NOT_FOUND, "no host '%s' (kxld.conf's api_peers names the hosts this "
               "kxld relays to; GET /api/v1/hosts lists them)", host);
        return NULL;
    }
    kx_buf b = KX_BUF_INIT;
    kx_buf_printf(&b, "https://%s/api/v1/", addr);
    if (add_path(&b, rest) < 0) {
        kx_buf_dispose(&b);
        return NULL;
    }
    if (query && *query) {
        kx_buf_add(&b, "?");
        add_encoded(&b, query, strlen(query), "=&");
    }
    return kx_buf_steal(&b);
}

char *kxld_relay_location(const char *host, const char *location)
{
    static const char api[] = "/api/v1/";
    if (!location || strncmp(location, api, sizeof(api) - 1) != 0 ||
        strpbrk(location, "\r\n"))
        return NULL;
    return kx_asprintf("/api/v1/hosts/%s/%s", host, location + sizeof(api) - 1);
}
