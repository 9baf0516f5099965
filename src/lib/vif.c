/* vif.c - a domain's vifs on the host: tap creation and the built-in
 * behaviour of Xen's vif-bridge and vif-route scripts, or a kxl network.
 * Nothing here needs undoing beyond closing the tap: its bridge port,
 * addresses, routes and sysctls disappear with it. */
#include "lib/vif.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/cfg_spec.h"
#include "lib/network.h"
#include "net/nl.h"
#include "net/sysctl.h"
#include "net/tap.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

void vif_resolve(kxl_domcfg *cfg, unsigned domid)
{
    for (size_t i = 0; i < cfg->n_vifs; i++) {
        kxl_vif *v = &cfg->vifs[i];
        if (!v->vifname)
            v->vifname = kx_asprintf("vif%u.%zu", domid, i);
        if (!v->mac) {
            char mac[18];
            cfg_vif_default_mac(cfg->uuid, (int)i, mac);
            v->mac = kx_strdup(mac);
        }
    }
}

/* vif-route: the host answers ARP for the guest's gateway (proxy ARP) and
 * routes each of the guest's addresses to the tap. */
static int connect_routed(const kxl_paths *p, const kxl_vif *v, const char *ifname,
                          const kxl_network *net)
{
    AUTOFREE char *proxy = kx_asprintf("ipv4/conf/%s/proxy_arp", ifname);
    AUTOFREE char *fwd = kx_asprintf("ipv4/conf/%s/forwarding", ifname);
    if (network_forwarding_on(p) < 0 || net_sysctl_set(proxy, "1") < 0 ||
        net_sysctl_set(fwd, "1") < 0 || nl_link_set_up(ifname, true) < 0)
        return -1;
    if (net && net->gateway) {
        AUTOFREE char *gw = kx_asprintf("%s/32", net->gateway);
        if (nl_addr_add(ifname, gw) < 0)
            return -1;
    }
    if (!v->ip) {
        kx_err(KXL_ERR_CONFIG, "vif '%s': routed mode needs the guest's address (ip=...)", ifname);
        return -1;
    }
    AUTOFREE char *ips = kx_strdup(v->ip);
    for (char *save = NULL, *ip = strtok_r(ips, " ", &save); ip; ip = strtok_r(NULL, " ", &save)) {
        AUTOFREE char *dst = strchr(ip, '/') ? kx_strdup(ip) : kx_asprintf("%s/32", ip);
        if (nl_route_add(dst, ifname, NULL, net ? net->gateway : NULL) < 0)
            return -1;
    }
    return 0;
}

static int connect_bridged(const char *ifname, const char *bridge)
{
    if (!nl_link_exists(bridge)) {
        kx_err(KXL_ERR_CONFIG, "bridge '%s' does not exist: create it, or a kxl network of "
               "that name (kxl network-create)", bridge);
        return -1;
    }
    if (!nl_link_is_bridge(bridge)) {
        kx_err(KXL_ERR_CONFIG, "'%s' is not a bridge", bridge);
        return -1;
    }
    return nl_link_set_master(ifname, bridge) < 0 ? -1 : nl_link_set_up(ifname, true);
}

/* A script of the administrator's own, from ROOT/etc/kxl/scripts/ only (the
 * name was validated: no '/'), run as Xen runs vif scripts: "online" with
 * the vif described in the environment. It must be root's and not writable
 * by others, since it runs as root. */
static int run_script(const kxl_paths *p, const kxl_vif *v, const char *ifname)
{
    AUTOFREE char *path = kx_asprintf("%s/scripts/%s", p->etc_dir, v->script);
    struct stat st;
    if (stat(path, &st) < 0 || !(st.st_mode & S_IXUSR)) {
        kx_err(KXL_ERR_CONFIG, "vif '%s': script '%s' is not an executable file in %s/scripts",
               ifname, v->script, p->etc_dir);
        return -1;
    }
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        kx_err(KXL_ERR_CONFIG, "vif '%s': script '%s' must belong to root and be writable by "
               "root only", ifname, v->script);
        return -1;
    }
    setenv("vif", ifname, 1);
    setenv("mac", v->mac ? v->mac : "", 1);
    setenv("ip", v->ip ? v->ip : "", 1);
    setenv("bridge", v->bridge ? v->bridge : "", 1);
    char *argv[] = {path, "online", NULL};
    int r = kx_run(argv);
    /* the variables are for the script only, not for QEMU or later children */
    unsetenv("vif");
    unsetenv("mac");
    unsetenv("ip");
    unsetenv("bridge");
    return r < 0 ? -1 : nl_link_set_up(ifname, true);
}

/* Connects the tap as the vif asks: a kxl network by name, xl's vif-route,
 * or (the default) a bridge, xenbr0 unless named. */
static int connect_vif(const kxl_paths *p, const kxl_domcfg *cfg, const kxl_vif *v,
                       const char *ifname)
{
    const char *bridge = v->bridge ? v->bridge : "xenbr0";
    AUTOPTR(kxl_network) net = network_find(p, bridge);
    if (!net && kx_err_code() != KXL_ERR_NONE && kx_err_code() != KXL_ERR_NOT_FOUND)
        return -1;
    kx_err_clear();
    if (net && network_start(p, net) < 0)
        return -1;
    bool routed = (net && net->type == KXL_NET_ROUTE) || kx_streq(v->script, "vif-route");
    if (kx_streq(v->script, "vif-nat")) {
        kx_err(KXL_ERR_CONFIG, "vif '%s': for vif-nat, create a kxl network of type nat and use "
               "bridge=NAME", ifname);
        return -1;
    }
    if (kx_streq(v->script, "vif-openvswitch"))
        return vif_ovs_connect(cfg, v, ifname);
    bool builtin = !v->script || kx_streq(v->script, "vif-route") ||
                   kx_streq(v->script, "vif-bridge");
    if (!builtin)
        return run_script(p, v, ifname);
    if (routed)
        return connect_routed(p, v, ifname, net);
    return connect_bridged(ifname, net ? net->bridge : bridge);
}

/* xl's rate limits what the guest sends, which is what the tap receives:
 * police the tap's ingress (tc, from iproute2) at RATE with one interval's
 * worth of credit as the burst. */
static int vif_apply_rate(const char *ifname, const char *rate)
{
    uint64_t bps, interval_us;
    if (cfg_vif_rate_parse(rate, &bps, &interval_us) < 0) {
        kx_err(KXL_ERR_CONFIG, "vif '%s': bad rate '%s'", ifname, rate);
        return -1;
    }
    uint64_t burst = bps * interval_us / 1000000;
    char rate_s[32], burst_s[32];
    snprintf(rate_s, sizeof(rate_s), "%llubps", (unsigned long long)bps);  /* tc: bytes/s */
    snprintf(burst_s, sizeof(burst_s), "%llu", (unsigned long long)(burst < 4096 ? 4096 : burst));
    char *qdisc[] = {"tc", "qdisc", "add", "dev", (char *)ifname, "handle", "ffff:", "ingress",
                     NULL};
    char *filter[] = {"tc", "filter", "add", "dev", (char *)ifname, "parent", "ffff:", "protocol",
                      "all", "u32", "match", "u32", "0", "0", "police", "rate", rate_s,
                      "burst", burst_s, "drop", "flowid", ":1", NULL};
    return kx_run(qdisc) < 0 || kx_run(filter) < 0 ? -1 : 0;
}

int vif_setup(const kxl_paths *p, const kxl_domcfg *cfg, size_t i)
{
    const kxl_vif *v = &cfg->vifs[i];
    char ifname[VIF_IFNAMSIZ];
    bool virtio = !v->model || strcmp(v->model, "virtio") == 0;
    AUTOCLOSE int fd = tap_open(v->vifname, virtio, ifname);
    if (fd < 0)
        return -1;
    if (v->mtu && nl_link_set_mtu(ifname, (unsigned)v->mtu) < 0)
        return -1;
    if (connect_vif(p, cfg, v, ifname) < 0)
        return -1;
    if (v->rate && vif_apply_rate(ifname, v->rate) < 0) {
        if (kx_streq(v->script, "vif-openvswitch"))
            vif_ovs_disconnect(ifname);
        return -1;
    }
    return TAKE_FD(fd);
}

void vif_read_counters(const char *ifname, vif_counters *c)
{
    /* netlink, not /sys: /sys shows the namespace it was mounted in */
    nl_stats st = {0};
    if (nl_link_stats(ifname, &st) < 0)
        kx_err_clear();
    /* the tap's receive is what the guest sent */
    c->tx_bytes = st.rx_bytes;
    c->tx_packets = st.rx_packets;
    c->rx_bytes = st.tx_bytes;
    c->rx_packets = st.tx_packets;
}
