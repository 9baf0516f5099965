/* network.c - kxl networks: the definition file, and bringing a network up
 * and down. What start created is recorded in ROOT/run/kxl/.networks/NAME so
 * that destroy undoes exactly that and nothing of the host's own. */
#include "lib/network.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg_parse.h"
#include "util/cleanup.h"
#include "lib/nat.h"
#include "net/nl.h"
#include "net/sysctl.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fileio.h"

DEFINE_AUTOPTR(cfg_tree, cfg_tree_free)

static const char *const type_names[] = {"bridge", "route", "nat"};

const char *kxl_net_type_to_string(kxl_net_type t)
{
    return (size_t)t < KX_ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

void kxl_network_free(kxl_network *n)
{
    if (!n)
        return;
    free(n->name);
    free(n->bridge);
    free(n->uplink);
    free(n->address);
    free(n->gateway);
    free(n->dhcp_range);
    free(n);
}

static char *def_path(const kxl_paths *p, const char *name)
{
    return kx_asprintf("%s/networks/%s", p->etc_dir, name);
}

static char *state_path(const kxl_paths *p, const char *name)
{
    return kx_asprintf("%s/.networks/%s", p->run_dir, name);
}

static bool cidr_ok(const char *s, bool need_prefix)
{
    char addr[64];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!s || (need_prefix && !slash) || strlen(s) >= sizeof(addr))
        return false;
    snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
    unsigned char buf[16];
    if (inet_pton(AF_INET, addr, buf) != 1)
        return false;
    return !slash || (atoi(slash + 1) >= 1 && atoi(slash + 1) <= 32 &&
                      strspn(slash + 1, "0123456789") == strlen(slash + 1));
}

/* "A.B.C.D,A.B.C.D": the first and last address dnsmasq leases (it goes into dnsmasq's
 * --dhcp-range, where anything more would be options of dnsmasq's own). */
static bool dhcp_range_ok(const char *s)
{
    const char *comma = strchr(s, ',');
    if (!comma || strchr(comma + 1, ','))
        return false;
    AUTOFREE char *first = kx_strndup(s, (size_t)(comma - s));
    return cidr_ok(first, false) && !strchr(first, '/') && cidr_ok(comma + 1, false) &&
           !strchr(comma + 1, '/');
}

/* Fills defaults and checks that the definition can work. */
static int network_check(kxl_network *n, const char *where)
{
    if (!n->bridge && n->type != KXL_NET_ROUTE)
        n->bridge = kx_strdup(n->name);
    if (n->bridge && !kxl_ifname_is_valid(n->bridge)) {
        kx_err(KXL_ERR_CONFIG, "%s: bridge '%s' is not a valid interface name (" KXL_IFNAME_RULE
               ")", where, n->bridge);
        return -1;
    }
    if (n->uplink && (!kxl_ifname_is_valid(n->uplink) || n->type != KXL_NET_BRIDGE)) {
        kx_err(KXL_ERR_CONFIG, "%s: uplink '%s' needs type = \"bridge\" and a valid interface "
               "name", where, n->uplink);
        return -1;
    }
    if (n->type == KXL_NET_NAT && !cidr_ok(n->address, true)) {
        kx_err(KXL_ERR_CONFIG, "%s: a nat network needs address = \"A.B.C.D/PREFIX\" (the "
               "host's address on it), not '%s'", where, n->address ? n->address : "");
        return -1;
    }
    if (n->dhcp_range && (n->type != KXL_NET_NAT || !dhcp_range_ok(n->dhcp_range))) {
        kx_err(KXL_ERR_CONFIG, "%s: dhcp_range needs type = \"nat\" and the form "
               "\"A.B.C.D,A.B.C.D\" (first and last address), not '%s'", where, n->dhcp_range);
        return -1;
    }
    if ((n->type != KXL_NET_NAT && n->address) || (n->type != KXL_NET_ROUTE && n->gateway)) {
        kx_err(KXL_ERR_CONFIG, "%s: %s is for %s networks only, not for a %s network", where,
               n->address ? "address" : "gateway", n->address ? "nat" : "route",
               kxl_net_type_to_string(n->type));
        return -1;
    }
    if (n->type == KXL_NET_ROUTE && !cidr_ok(n->gateway, false)) {
        kx_err(KXL_ERR_CONFIG, "%s: a route network needs gateway = \"A.B.C.D\" (the address "
               "guests route through), not '%s'", where, n->gateway ? n->gateway : "");
        return -1;
    }
    return 0;
}

static int set_field(kxl_network *n, const char *key, const char *value, const char *where)
{
    struct { const char *key; char **field; } fields[] = {
        {"bridge", &n->bridge}, {"uplink", &n->uplink}, {"address", &n->address},
        {"gateway", &n->gateway}, {"dhcp_range", &n->dhcp_range},
    };
    if (strcmp(key, "type") == 0) {
        for (size_t i = 0; i < KX_ARRAY_SIZE(type_names); i++) {
            if (strcmp(value, type_names[i]) == 0) {
                n->type = (kxl_net_type)i;
                return 0;
            }
        }
        kx_err(KXL_ERR_CONFIG, "%s: unknown network type '%s' (use bridge, route or nat)", where,
               value);
        return -1;
    }
    for (size_t i = 0; i < KX_ARRAY_SIZE(fields); i++) {
        if (strcmp(key, fields[i].key) == 0) {
            free(*fields[i].field);
            *fields[i].field = kx_strdup(value);
            return 0;
        }
    }
    kx_err(KXL_ERR_CONFIG, "%s: unknown network option '%s' (use type, bridge, uplink, address, "
           "gateway or dhcp_range)", where, key);
    return -1;
}

kxl_network *network_find(const kxl_paths *p, const char *name)
{
    if (!kxl_name_is_valid(name)) {
        kx_err(KXL_ERR_NOT_FOUND, "no network '%s'", name);
        return NULL;
    }
    AUTOFREE char *path = def_path(p, name);
    if (!kx_path_exists(path)) {
        kx_err(KXL_ERR_NOT_FOUND, "no network '%s'", name);
        return NULL;
    }
    AUTOPTR(cfg_tree) t = cfg_tree_new(path);
    if (cfg_parse_file(t, path) < 0)
        return NULL;
    AUTOPTR(kxl_network) n = kx_malloc0(sizeof(*n));
    n->name = kx_strdup(name);
    for (size_t i = 0; i < t->n_settings; i++) {
        const cfg_setting *s = &t->settings[i];
        AUTOFREE char *where = kx_asprintf("%s:%d", path, s->line);
        if (s->value.kind == CFG_LIST) {
            kx_err(KXL_ERR_CONFIG, "%s: '%s' must be a string", where, s->key);
            return NULL;
        }
        if (set_field(n, s->key, s->value.str, where) < 0)
            return NULL;
    }
    return network_check(n, path) < 0 ? NULL : TAKE_PTR(n);
}

kxl_network *network_from_options(const char *name, char *const *options)
{
    if (!kxl_name_is_valid(name) || strlen(name) > 15) {
        kx_err(KXL_ERR_INVALID, "invalid network name '%s' (1 to 15 letters, digits, '.', '_' "
               "or '-', not starting with '.' or '-', not all digits)", name);
        return NULL;
    }
    AUTOPTR(kxl_network) n = kx_malloc0(sizeof(*n));
    n->name = kx_strdup(name);
    bool typed = false;
    for (char *const *o = options; o && *o; o++) {
        const char *eq = strchr(*o, '=');
        if (!eq || eq == *o || !eq[1]) {
            kx_err(KXL_ERR_INVALID, "network option '%s' is not KEY=VALUE", *o);
            return NULL;
        }
        AUTOFREE char *key = kx_strndup(*o, (size_t)(eq - *o));
        typed |= strcmp(key, "type") == 0;
        if (set_field(n, key, eq + 1, "network-create") < 0)
            return NULL;
    }
    if (!typed) {
        kx_err(KXL_ERR_INVALID, "network-create needs type=bridge, type=route or type=nat");
        return NULL;
    }
    return network_check(n, "network-create") < 0 ? NULL : TAKE_PTR(n);
}

int network_save(const kxl_paths *p, const kxl_network *n)
{
    AUTOFREE char *dir = kx_asprintf("%s/networks", p->etc_dir);
    AUTOFREE char *path = def_path(p, n->name);
    if (kx_mkdir_p(dir, 0755) < 0)
        return -1;
    if (kx_path_exists(path)) {
        kx_err(KXL_ERR_EXISTS, "network '%s' already exists", n->name);
        return -1;
    }
    kx_buf b = KX_BUF_INIT;
    kx_buf_printf(&b, "# kxl network '%s'\ntype = \"%s\"\n", n->name,
                  kxl_net_type_to_string(n->type));
    const char *keys[] = {"bridge", "uplink", "address", "gateway", "dhcp_range"};
    const char *vals[] = {n->bridge, n->uplink, n->address, n->gateway, n->dhcp_range};
    for (size_t i = 0; i < KX_ARRAY_SIZE(keys); i++) {
        if (vals[i]) {
            kx_buf_printf(&b, "%s = ", keys[i]);
            cfg_write_string(&b, vals[i], '"');
            kx_buf_addc(&b, '\n');
        }
    }
    int r = kx_write_file_atomic(path, kx_buf_str(&b), b.len, 0644);
    kx_buf_dispose(&b);
    return r;
}

int network_list(const kxl_paths *p, kx_strv *names_r)
{
    AUTOFREE char *dir = kx_asprintf("%s/networks", p->etc_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && kxl_name_is_valid(e->d_name) && !strstr(e->d_name, ".tmp"))
            kx_strv_push(names_r, e->d_name);
    closedir(d);
    return 0;
}

bool network_is_started(const kxl_paths *p, const char *name)
{
    AUTOFREE char *path = state_path(p, name);
    return kx_path_exists(path);
}
