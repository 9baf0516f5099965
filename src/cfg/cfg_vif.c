/* cfg_vif.c - parses xl vif specs (xl-network-configuration(5)) into kxl_vif: a table
 * maps each key onto its field and the check its value must pass. Pure: no I/O. */
#include "cfg/cfg_spec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define VIF_KEYS "mac, bridge, model, vifname, ip, rate, mtu, type, script, gatewaydev"
#define MTU_MIN 68
#define MTU_MAX 65535

typedef struct {
    const char *where;
    const char *spec;
    kxl_vif *v;
    unsigned given;          /* bits of vif_key.bit seen so far */
} vif_ctx;

static void vif_err(const vif_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void vif_err(const vif_ctx *c, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    kx_err(KXL_ERR_CONFIG, "%s: vif '%s': %s", c->where, c->spec, kx_buf_str(&b));
    kx_buf_dispose(&b);
}

/* A check validates the value of key k; it may set *store_r to a canonical copy
 * to keep instead of the value as written. */
typedef int (*vif_check)(const vif_ctx *c, const char *k, const char *v, char **store_r);

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)tolower((unsigned char)ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* xx:xx:xx:xx:xx:xx, unicast, not all zeros; kept in lower case. */
static int check_mac(const vif_ctx *c, const char *k, const char *v, char **store_r)
{
    unsigned char mac[6];
    bool ok = strlen(v) == 17;
    for (size_t i = 0; ok && i < 6; i++) {
        int hi = hexval(v[i * 3]), lo = hexval(v[i * 3 + 1]);
        ok = hi >= 0 && lo >= 0 && (i == 5 || v[i * 3 + 2] == ':');
        mac[i] = (unsigned char)(hi * 16 + lo);
    }
    if (!ok) {
        vif_err(c, "%s '%s' is not six hex bytes separated by colons "
                "(e.g. 00:16:3e:12:34:56)", k, v);
        return -1;
    }
    if (mac[0] & 1) {
        vif_err(c, "%s '%s' is a multicast address (the first byte must be even)", k, v);
        return -1;
    }
    if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
        vif_err(c, "%s '%s' is all zeros", k, v);
        return -1;
    }
    *store_r = kx_strdup(v);
    for (char *p = *store_r; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}

/* A Linux interface name: 1..15 characters, no '/', ':' or whitespace, not . or .. */
static int check_ifname(const vif_ctx *c, const char *k, const char *v, char **store_r)
{
    (void)store_r;
    if (!kxl_ifname_is_valid(v)) {
        vif_err(c, "%s '%s' is not a valid interface name (" KXL_IFNAME_RULE ")", k, v);
        return -1;
    }
    return 0;
}

static int check_model(const vif_ctx *c, const char *k, const char *v, char **store_r)
{
    static const struct { const char *name, *model; } models[] = {
        {"virtio", "virtio"},
        {"virtio-net", "virtio"},
        {"e1000", "e1000"},
        {"rtl8139", "rtl8139"},
        {"ioemu", "rtl8139"},   /* xend's "emulated NIC": xl's default emulated model */
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(models); i++) {
        if (strcmp(v, models[i].name) == 0) {
            *store_r = kx_strdup(models[i].model);
            return 0;
        }
    }
    vif_err(c, "unknown %s '%s' (use virtio, e1000 or rtl8139)", k, v);
    return -1;
}

/* One address, IPv4 or IPv6, with an optional /prefix length. */
static bool ip_ok(const char *addr)
{
    AUTOFREE char *a = kx_strdup(addr);
    char *slash = strchr(a, '/');
    unsigned char buf[sizeof(struct in6_addr)];
    int max_prefix = 32;
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, a, buf) != 1) {
        if (inet_pton(AF_INET6, a, buf) != 1)
            return false;
        max_prefix = 128;
    }
    if (!slash)
        return true;
    char *end;
    const char *len = slash + 1;
    long n = strtol(len, &end, 10);
    return *len >= '0' && *len <= '9' && !*end && n <= max_prefix;
}

/* One or more addresses separated by spaces. */
static int check_ip(const vif_ctx *c, const char *k, const char *v, char **store_r)
{
    (void)store_r;
    AUTOFREE char *list = kx_strdup(v);
    char *save = NULL;
    bool any = false;
    for (char *a = strtok_r(list, " \t", &save); a; a = strtok_r(NULL, " \t", &save)) {
        if (!ip_ok(a)) {
            vif_err(c, "%s '%s': '%s' is not an IPv4 or IPv6 address", k, v, a);
            return -1;
        }
        any = true;
    }
    if (!any) {
        vif_err(c, "%s '%s' has no address", k, v);
        return -1;
    }
    return 0;
}

/* Reads the digits at *p; false if there are none. *in_range_r turns false when
 * the number is 0 or above UINT32_MAX (the limits of xl). */
static bool rate_number(const char **p, uint64_t *n_r, bool *in_range_r)
{
    const char *start = *p;
    uint64_t n = 0;
    bool big = false;
    for (; **p >= '0' && **p <= '9'; (*p)++) {
        n = n * 10 + (uint64_t)(**p - '0');
        big = big || n > UINT32_MAX;
    }
    if (n == 0 || big)
        *in_range_r = false;
    *n_r = n;
    return *p != start;
}

/* xl's RATE/s[@INTERVAL]: RATE is a number, an optional k, K, M or G (times 1000)
 * and B (bytes) or b (bits); INTERVAL is a number and us, ms or s (default 50ms).
 * Returns 0, or -1 for bad syntax, or -2 for a value out of range. */
int cfg_vif_rate_parse(const char *rate, uint64_t *bytes_per_sec_r, uint64_t *interval_us_r)
{
    static const struct { const char *suffix; uint64_t mult; } units[] = {
        {"us", 1}, {"ms", 1000}, {"s", 1000000},
    };
    const char *p = rate;
    uint64_t n, mult = 1, interval = 50000;
    bool in_range = true;
    if (!rate_number(&p, &n, &in_range))
        return -1;
    if (*p == 'k' || *p == 'K')
        mult = 1000;
    else if (*p == 'M')
        mult = 1000000;
    else if (*p == 'G')
        mult = 1000000000;
    if (mult > 1)
        p++;
    if (*p != 'B' && *p != 'b')
        return -1;
    uint64_t bytes = n * mult / (*p == 'b' ? 8 : 1);
    p++;
    if (strncmp(p, "/s", 2) != 0 || (p[2] && p[2] != '@'))
        return -1;
    p += 2;
    if (*p == '@') {
        p++;
        if (!rate_number(&p, &n, &in_range))
            return -1;
        size_t u = 0;
        while (u < KX_ARRAY_SIZE(units) && strcmp(p, units[u].suffix) != 0)
            u++;
        if (u == KX_ARRAY_SIZE(units))
            return -1;
        interval = n * units[u].mult;
    }
    if (!in_range || bytes == 0 || interval > UINT32_MAX || bytes > UINT64_MAX / interval)
        return -2;
    *bytes_per_sec_r = bytes;
    *interval_us_r = interval;
    return 0;
}

static int check_rate(const vif_ctx *c, const char *k, const char *v, char **store_r)
{
    (void)store_r;
    uint64_t bytes_per_sec, interval_us;
    int rc = cfg_vif_rate_parse(v, &bytes_per_sec, &interval_us);
    if (rc == -1)
        vif_err(c, "%s '%s' is not RATE/s or RATE/s@INTERVAL (e.g. 10Mb/s, 250KB/s, "
                "1MB/s@20ms; RATE in B, kB, MB, GB or b, kb, Mb, Gb; INTERVAL in us, ms "
                "or s)", k, v);
    else if (rc == -2)
        vif_err(c, "%s '%s' is out of range (RATE and INTERVAL count from 1 to %u, "
                "and RATE must be at least one byte per second)", k, v, UINT32_MAX);
    return rc < 0 ? -1 : 0;
}

static int check_type(const vif_ctx *c, const char *k, const char *v, char **store_r)
{
    (void)store_r;
    if (strcmp(v, "ioemu") != 0 && strcmp(v, "vif") != 0) {
        vif_err(c, "unknown %s '%s' (use ioemu or vif)", k, v);
        return -1;
    }
    return 0;
}

/* Just a name: kxl runs scripts only from its own directory. */
static int check_script(const vif_ctx *c, const char *k, const char *v, char **store_r)
{
    (void)store_r;
    if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            strlen(v) || strstr(v, "..") || v[0] == '.') {
        vif_err(c, "%s '%s' must be a plain name such as vif-bridge (kxl runs scripts "
                "only from its own script directory)", k, v);
        return -1;
    }
    return 0;
}

struct vif_key;
typedef int (*vif_setter)(vif_ctx *c, const struct vif_key *k, const char *v);

/* One key of a vif spec; bit finds repeats (netdev is an alias of gatewaydev). */
struct vif_key {
    const char *name;
    unsigned bit;
    vif_setter set;
    size_t field;            /* offsetof the char * field in kxl_vif, for set_string */
    vif_check check;
};

static int set_string(vif_ctx *c, const struct vif_key *k, const char *v)
{
    char *store = NULL;
    if (k->check && k->check(c, k->name, v, &store) < 0)
        return -1;
    char **field = (char **)((char *)c->v + k->field);
    free(*field);
    *field = store ? store : kx_strdup(v);
    return 0;
}

static int set_mtu(vif_ctx *c, const struct vif_key *k, const char *v)
{
    long n = 0;
    bool ok = strspn(v, "0123456789") == strlen(v) && strlen(v) <= 5;
    if (ok)
        n = strtol(v, NULL, 10);
    if (!ok || n < MTU_MIN || n > MTU_MAX) {
        vif_err(c, "%s '%s' is not a number from %d to %d", k->name, v, MTU_MIN, MTU_MAX);
        return -1;
    }
    c->v->mtu = (int)n;
    return 0;
}

static int set_backend(vif_ctx *c, const struct vif_key *k, const char *v)
{
    (void)v;
    vif_err(c, "%s= is not supported on KVM (there are no driver domains)", k->name);
    return -1;
}

#define VIF_STR(name, bit, field, check) {name, bit, set_string, offsetof(kxl_vif, field), check}

static const struct vif_key vif_keys[] = {
    {"backend", 1 << 0, set_backend, 0, NULL},
    VIF_STR("bridge", 1 << 1, bridge, NULL),   /* checked with script: cfg_vif_parse */
    VIF_STR("gatewaydev", 1 << 2, gatewaydev, check_ifname),
    VIF_STR("ip", 1 << 3, ip, check_ip),
    VIF_STR("mac", 1 << 4, mac, check_mac),
    VIF_STR("model", 1 << 5, model, check_model),
    {"mtu", 1 << 6, set_mtu, 0, NULL},
    VIF_STR("netdev", 1 << 2, gatewaydev, check_ifname),   /* xl: deprecated gatewaydev */
    VIF_STR("rate", 1 << 7, rate, check_rate),
    VIF_STR("script", 1 << 8, script, check_script),
    VIF_STR("type", 1 << 9, type, check_type),
    VIF_STR("vifname", 1 << 10, vifname, check_ifname),
};

static const struct vif_key *vif_key_find(const char *name, size_t len)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(vif_keys); i++)
        if (strlen(vif_keys[i].name) == len && strncmp(vif_keys[i].name, name, len) == 0)
            return &vif_keys[i];
    return NULL;
}

static int vif_item(vif_ctx *c, const char *tok)
{
    const char *eq = strchr(tok, '=');
    if (!eq) {
        vif_err(c, "'%s' is not KEY=VALUE (keys: " VIF_KEYS ")", tok);
        return -1;
    }
    const struct vif_key *k = vif_key_find(tok, (size_t)(eq - tok));
    if (!k) {
        vif_err(c, "unknown key '%.*s' (known: " VIF_KEYS ")", (int)(eq - tok), tok);
        return -1;
    }
    if (c->given & k->bit) {
        vif_err(c, "'%s' is given more than once", k->name);
        return -1;
    }
    c->given |= k->bit;
    if (!eq[1]) {
        vif_err(c, "'%s' needs a value", k->name);
        return -1;
    }
    return k->set(c, k, eq + 1);
}

static bool vlan_ok(const char *s, size_t n, int *vlan_r)
{
    if (n == 0 || n > 4 || strspn(s, "0123456789") < n)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    *vlan_r = v;
    return v >= 1 && v <= 4094;
}

bool cfg_vif_ovs_bridge(const char *spec, char bridge_r[16], int *tag_r, char trunks_r[128])
{
    size_t name_len = strcspn(spec, ".:");
    if (name_len == 0 || name_len > 15)
        return false;
    memcpy(bridge_r, spec, name_len);
    bridge_r[name_len] = '\0';
    if (!kxl_ifname_is_valid(bridge_r))
        return false;
    const char *p = spec + name_len;
    *tag_r = 0;
    trunks_r[0] = '\0';
    if (*p == '.') {
        size_t n = strcspn(p + 1, ":");
        if (!vlan_ok(p + 1, n, tag_r))
            return false;
        p += 1 + n;
    }
    size_t used = 0;
    while (*p == ':') {
        size_t n = strcspn(p + 1, ":");
        int v;
        if (!vlan_ok(p + 1, n, &v) || used + 6 >= 128)
            return false;
        used += (size_t)snprintf(trunks_r + used, 128 - used, "%s%d", used ? "," : "", v);
        p += 1 + n;
    }
    return *p == '\0';
}

/* bridge= is an interface name, or for vif-openvswitch Xen's BRIDGE.VLAN:TRUNK form. */
static int check_bridge(const vif_ctx *c)
{
    const char *b = c->v->bridge;
    if (!b)
        return 0;
    if (kx_streq(c->v->script, "vif-openvswitch")) {
        char name[16], trunks[128];
        int tag;
        if (cfg_vif_ovs_bridge(b, name, &tag, trunks))
            return 0;
        vif_err(c, "bridge '%s' is not BRIDGE[.VLAN][:TRUNK...] (VLANs 1-4094), as "
                "vif-openvswitch reads it", b);
        return -1;
    }
    return check_ifname(c, "bridge", b, NULL);
}

/* Fills *vif_r, which must own nothing yet; on failure the caller still disposes
 * it. Returns 0 or -1 with kx_err set to one line naming `where` and the spec. */
int cfg_vif_parse(const char *spec, const char *where, kxl_vif *vif_r)
{
    *vif_r = (kxl_vif){0};
    vif_ctx c = {.where = where, .spec = spec, .v = vif_r};
    AUTOFREE char *buf = kx_strdup(spec);
    char *save = NULL;
    /* as xl: items are split at commas, spaces before an item and empty items are skipped */
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " \t");
        if (*tok && vif_item(&c, tok) < 0)
            return -1;
    }
    return check_bridge(&c);
}

void cfg_vif_default_mac(const char *uuid, int index, char mac_r[18])
{
    /* FNV-1a over the uuid and the index: cheap, stable, well spread */
    uint32_t h = 2166136261u;
    for (const char *p = uuid ? uuid : ""; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (int i = 0; i < 4; i++)
        h = (h ^ (uint8_t)(index >> (8 * i))) * 16777619u;
    snprintf(mac_r, 18, "00:16:3e:%02x:%02x:%02x", (h >> 16) & 0x7f, (h >> 8) & 0xff, h & 0xff);
}
