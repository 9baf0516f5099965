/* network_up.c - bringing kxl networks up and down. A bridged network with an
 * uplink moves the host's address and default route onto the bridge, and
 * rolls that back by itself if the host is left without a default route:
 * a bridge set up by hand is the classic way to cut a host off its network. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/nat.h"
#include "lib/network.h"
#include "lib/runtime.h"
#include "net/nl.h"
#include "net/sysctl.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* What start did, as "key value" lines, so that destroy undoes just that. */
typedef struct {
    bool created_bridge;
    bool uplink_moved;
    kx_strv uplink_addrs;
    char uplink_gw[64];
} net_state;

static char *state_file(const kxl_paths *p, const char *name)
{
    return kx_asprintf("%s/.networks/%s", p->run_dir, name);
}

static int state_write(const kxl_paths *p, const char *name, const net_state *st)
{
    AUTOFREE char *dir = kx_asprintf("%s/.networks", p->run_dir);
    AUTOFREE char *path = state_file(p, name);
    AUTOFREE char *addrs = kx_strv_join(&st->uplink_addrs, ",");
    AUTOFREE char *text = kx_asprintf("created_bridge %d\nuplink_moved %d\nuplink_addrs %s\n"
                                      "uplink_gw %s\n", st->created_bridge, st->uplink_moved,
                                      addrs, st->uplink_gw);
    if (kx_mkdir_p(dir, 0700) < 0)
        return -1;
    return kx_write_file_atomic(path, text, strlen(text), 0600);
}

static void state_read(const kxl_paths *p, const char *name, net_state *st)
{
    AUTOFREE char *path = state_file(p, name);
    AUTOFREE char *text = kx_read_file(path, NULL);
    kx_err_clear();
    for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save)) {
        char *v = strchr(l, ' ');
        if (!v)
            continue;
        *v++ = '\0';
        if (strcmp(l, "created_bridge") == 0)
            st->created_bridge = atoi(v);
        else if (strcmp(l, "uplink_moved") == 0)
            st->uplink_moved = atoi(v);
        else if (strcmp(l, "uplink_gw") == 0)
            snprintf(st->uplink_gw, sizeof(st->uplink_gw), "%s", v);
        else if (strcmp(l, "uplink_addrs") == 0)
            for (char *s2 = NULL, *a = strtok_r(v, ",", &s2); a; a = strtok_r(NULL, ",", &s2))
                kx_strv_push(&st->uplink_addrs, a);
    }
}

static int ensure_bridge(const kxl_network *n, net_state *st)
{
    if (!nl_link_exists(n->bridge)) {
        if (nl_bridge_create(n->bridge) < 0)
            return -1;
        st->created_bridge = true;
    } else if (!nl_link_is_bridge(n->bridge)) {
        kx_err(KXL_ERR_CONFIG, "network '%s': '%s' exists and is not a bridge", n->name,
               n->bridge);
        return -1;
    }
    return nl_link_set_up(n->bridge, true);
}

/* Puts the uplink's addresses and default route back where they were. */
static void uplink_restore(const kxl_network *n, const net_state *st)
{
    nl_link_set_master(n->uplink, NULL);
    for (size_t i = 0; i < st->uplink_addrs.n; i++) {
        nl_addr_del(n->bridge, st->uplink_addrs.v[i]);
        nl_addr_add(n->uplink, st->uplink_addrs.v[i]);
    }
    if (st->uplink_gw[0])
        nl_route_add("default", n->uplink, st->uplink_gw, NULL);
    kx_err_clear();
}

static void ipv4_only(kx_strv *addrs)
{
    size_t j = 0;
    for (size_t i = 0; i < addrs->n; i++) {
        if (strchr(addrs->v[i], ':'))
            free(addrs->v[i]);
        else
            addrs->v[j++] = addrs->v[i];
    }
    addrs->n = j;
    if (addrs->v)
        addrs->v[j] = NULL;
}

static int uplink_move(const kxl_network *n, net_state *st)
{
    char master[16] = "", gwdev[16] = "", gw[64] = "";
    if (nl_link_get_master(n->uplink, master) < 0)
        return -1;
    if (strcmp(master, n->bridge) == 0)
        return 0;
    bool had_default = nl_default_route_get(gwdev, gw) == 0;
    kx_err_clear();
    if (nl_addr_list(n->uplink, &st->uplink_addrs) < 0)
        return -1;
    ipv4_only(&st->uplink_addrs);
    if (had_default && strcmp(gwdev, n->uplink) == 0)
        snprintf(st->uplink_gw, sizeof(st->uplink_gw), "%s", gw);
    st->uplink_moved = true;
    int r = nl_link_set_master(n->uplink, n->bridge);
    for (size_t i = 0; r == 0 && i < st->uplink_addrs.n; i++)
        r = nl_addr_del(n->uplink, st->uplink_addrs.v[i]) < 0 ? -1
            : nl_addr_add(n->bridge, st->uplink_addrs.v[i]);
    if (r == 0 && st->uplink_gw[0])
        r = nl_route_add("default", n->bridge, st->uplink_gw, NULL);
    if (r == 0 && had_default && !nl_default_route_exists()) {
        kx_err(KXL_ERR_STATE, "network '%s': moving '%s' onto bridge '%s' cost the host its "
               "default route; rolled back", n->name, n->uplink, n->bridge);
        r = -1;
    }
    if (r < 0) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        uplink_restore(n, st);
        st->uplink_moved = false;
        kx_err(KXL_ERR_STATE, "%s", why);
    }
    return r;
}

int network_start(const kxl_paths *p, const kxl_network *n)
{
    if (network_is_started(p, n->name) && (n->type == KXL_NET_ROUTE || nl_link_exists(n->bridge)))
        return 0;
    net_state st = {.uplink_addrs = KX_STRV_INIT};
    int r = 0;
    if (n->type == KXL_NET_ROUTE)
        r = network_forwarding_on(p);
    else
        r = ensure_bridge(n, &st);
    if (r == 0 && n->type == KXL_NET_BRIDGE && n->uplink)
        r = uplink_move(n, &st);
    if (r == 0 && n->type == KXL_NET_NAT)
        r = nat_start(p, n);
    if (r == 0)
        r = state_write(p, n->name, &st);
    if (r < 0 && st.created_bridge) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        nl_link_delete(n->bridge);
        kx_err(KXL_ERR_STATE, "%s", why);
    }
    kx_strv_dispose(&st.uplink_addrs);
    return r;
}

/* Ports of the bridge other than its uplink: running domains' vifs. */
static int count_guest_ports(const kxl_network *n, kx_buf *names)
{
    AUTOFREE char *dir = kx_asprintf("/sys/class/net/%s/brif", n->bridge);
    DIR *d = opendir(dir);
    int count = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || kx_streq(e->d_name, n->uplink))
            continue;
        kx_buf_printf(names, "%s%s", count++ ? ", " : "", e->d_name);
    }
    if (d)
        closedir(d);
    return count;
}

typedef struct {
    const char *network;
    kx_buf names;
    int count;
} net_users;

/* Running domains with a vif on the network, by their resolved configs: the only way to know
 * the users of a routed network, which has no bridge to look at. */
static int note_user(const char *name, const kxl_domcfg *cfg, void *opaque)
{
    net_users *u = opaque;
    for (size_t i = 0; i < cfg->n_vifs; i++) {
        const kxl_vif *v = &cfg->vifs[i];
        if (!v->unplugged && kx_streq(v->bridge ? v->bridge : "xenbr0", u->network)) {
            kx_buf_printf(&u->names, "%s'%s'", u->count++ ? ", " : "", name);
            break;
        }
    }
    return 0;
}

int network_create(const kxl_paths *p, const char *name, char *const *options)
{
    AUTOPTR(kxl_network) n = network_from_options(name, options);
    if (!n || network_save(p, n) < 0)
        return -1;
    if (network_start(p, n) == 0)
        return 0;
    /* nothing half-made: the definition goes with the failed start */
    AUTOFREE char *why = kx_strdup(kx_err_msg());
    kxl_errcode code = kx_err_code();
    AUTOFREE char *def = kx_asprintf("%s/networks/%s", p->etc_dir, n->name);
    unlink(def);
    kx_err(code, "%s", why);
    return -1;
}

int network_destroy(const kxl_paths *p, const char *name)
{
    AUTOPTR(kxl_network) n = network_find(p, name);
    if (!n)
        return -1;
    net_users users = {.network = name, .names = KX_BUF_INIT};
    runtime_each_config(p, NULL, note_user, &users);
    if (users.count > 0) {
        kx_err(KXL_ERR_STATE, "network '%s' is in use by domain%s %s: destroy them or detach "
               "their vifs first", name, users.count > 1 ? "s" : "", kx_buf_str(&users.names));
        kx_buf_dispose(&users.names);
        return -1;
    }
    kx_buf_dispose(&users.names);
    kx_buf ports = KX_BUF_INIT;
    if (n->bridge && nl_link_exists(n->bridge) && count_guest_ports(n, &ports) > 0) {
        kx_err(KXL_ERR_STATE, "network '%s' is in use by %s: destroy or detach those first",
               name, kx_buf_str(&ports));
        kx_buf_dispose(&ports);
        return -1;
    }
    kx_buf_dispose(&ports);
    net_state st = {.uplink_addrs = KX_STRV_INIT};
    state_read(p, name, &st);
    if (n->type == KXL_NET_NAT)
        nat_stop(p, n);
    if (st.uplink_moved)
        uplink_restore(n, &st);
    if (st.created_bridge && nl_link_exists(n->bridge))
        nl_link_delete(n->bridge);
    kx_strv_dispose(&st.uplink_addrs);
    AUTOFREE char *state = state_file(p, name);
    AUTOFREE char *def = kx_asprintf("%s/networks/%s", p->etc_dir, name);
    unlink(state);
    if (unlink(def) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot remove '%s'", def);
        return -1;
    }
    network_forwarding_release(p, NULL);
    return 0;
}
