/* nat.c - DHCP/DNS with dnsmasq and masquerading with nftables (through
 * libnftables) for a kxl NAT network. */
#include "lib/nat.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/nl.h"
#include "net/sysctl.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

/* "10.200.0.1/24" -> network "10.200.0.0/24" and a default DHCP range. */
static int subnet_of(const char *cidr, char net_r[48], char range_r[64])
{
    char addr[32];
    const char *slash = strchr(cidr, '/');
    int prefix = slash ? atoi(slash + 1) : 32;
    snprintf(addr, sizeof(addr), "%.*s", (int)(slash - cidr), cidr);
    struct in_addr a;
    if (inet_pton(AF_INET, addr, &a) != 1 || prefix < 8 || prefix > 30) {
        kx_err(KXL_ERR_CONFIG, "nat address '%s' must be IPv4 with a prefix of /8 to /30", cidr);
        return -1;
    }
    uint32_t host = ntohl(a.s_addr), mask = prefix ? ~0u << (32 - prefix) : 0;
    struct in_addr netw = {htonl(host & mask)}, lo, hi;
    inet_ntop(AF_INET, &netw, addr, sizeof(addr));
    snprintf(net_r, 48, "%s/%d", addr, prefix);
    uint32_t size = ~mask + 1;
    lo.s_addr = htonl((host & mask) + (size >= 256 ? 100 : size / 2));
    hi.s_addr = htonl((host & mask) + (size >= 256 ? 199 : size - 2));
    char l[16], h[16];
    inet_ntop(AF_INET, &lo, l, sizeof(l));
    inet_ntop(AF_INET, &hi, h, sizeof(h));
    snprintf(range_r, 64, "%s,%s", l, h);
    return 0;
}

static char *table_name(const kxl_network *n)
{
    char *t = kx_asprintf("kxl_%s", n->name);
    for (char *c = t; *c; c++)
        if (*c == '-' || *c == '.')
            *c = '_';
    return t;
}

/* libnftables, opened only when a NAT network starts or stops: every other
 * command (kxl list above all) starts faster without its six libraries. */
typedef struct {
    struct nft_ctx *(*ctx_new)(uint32_t flags);
    void (*ctx_free)(struct nft_ctx *ctx);
    int (*buffer_output)(struct nft_ctx *ctx);
    int (*buffer_error)(struct nft_ctx *ctx);
    int (*run)(struct nft_ctx *ctx, const char *buf);
    const char *(*get_error)(struct nft_ctx *ctx);
} nft_api;

static int nft_load(nft_api *api)
{
    void *h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        kx_err(KXL_ERR_INTERNAL, "cannot load libnftables (install libnftables1): %s", dlerror());
        return -1;
    }
    *(void **)&api->ctx_new = dlsym(h, "nft_ctx_new");
    *(void **)&api->ctx_free = dlsym(h, "nft_ctx_free");
    *(void **)&api->buffer_output = dlsym(h, "nft_ctx_buffer_output");
    *(void **)&api->buffer_error = dlsym(h, "nft_ctx_buffer_error");
    *(void **)&api->run = dlsym(h, "nft_run_cmd_from_buffer");
    *(void **)&api->get_error = dlsym(h, "nft_ctx_get_error_buffer");
    if (!api->ctx_new || !api->ctx_free || !api->buffer_output || !api->buffer_error ||
        !api->run || !api->get_error) {
        kx_err(KXL_ERR_INTERNAL, "libnftables lacks a function kxl needs");
        return -1;
    }
    return 0;  /* the library stays loaded for the life of the process */
}

static int nft_run(const char *cmds)
{
    nft_api api;
    if (nft_load(&api) < 0)
        return -1;
    struct nft_ctx *nft = api.ctx_new(NFT_CTX_DEFAULT);
    if (!nft) {
        kx_err(KXL_ERR_INTERNAL, "cannot initialise libnftables");
        return -1;
    }
    api.buffer_output(nft);
    api.buffer_error(nft);
    int r = api.run(nft, cmds);
    if (r != 0) {
        const char *e = api.get_error(nft);
        kx_err(KXL_ERR_INTERNAL, "nftables refused kxl's rules: %.*s",
               (int)strcspn(e ? e : "", "\n"), e ? e : "");
    }
    api.ctx_free(nft);
    return r != 0 ? -1 : 0;
}

/* Masquerade what leaves the subnet; let replies in, nothing new. */
static int nft_add(const kxl_network *n, const char *subnet)
{
    AUTOFREE char *t = table_name(n);
    AUTOFREE char *cmds = kx_asprintf(
        "table inet %s {\n"
        " chain postrouting {\n"
        "  type nat hook postrouting priority srcnat; policy accept;\n"
        "  ip saddr %s ip daddr != %s masquerade\n"
        " }\n"
        " chain forward {\n"
        "  type filter hook forward priority filter; policy accept;\n"
        "  iifname \"%s\" accept\n"
        "  oifname \"%s\" ct state established,related accept\n"
        "  oifname \"%s\" drop\n"
        " }\n"
        "}\n", t, subnet, subnet, n->bridge, n->bridge, n->bridge);
    return nft_run(cmds);
}

static char *pid_file(const kxl_paths *p, const kxl_network *n)
{
    return kx_asprintf("%s/.networks/%s.dnsmasq.pid", p->run_dir, n->name);
}

static int dnsmasq_start(const kxl_paths *p, const kxl_network *n, const char *range)
{
    AUTOFREE char *pid = pid_file(p, n);
    AUTOFREE char *leases = kx_asprintf("%s/networks/%s.leases", p->lib_dir, n->name);
    AUTOFREE char *lease_dir = kx_asprintf("%s/networks", p->lib_dir);
    AUTOFREE char *run_dir = kx_asprintf("%s/.networks", p->run_dir);
    AUTOFREE char *addr = kx_strndup(n->address, strcspn(n->address, "/"));
    AUTOFREE char *a_iface = kx_asprintf("--interface=%s", n->bridge);
    AUTOFREE char *a_listen = kx_asprintf("--listen-address=%s", addr);
    AUTOFREE char *a_range = kx_asprintf("--dhcp-range=%s,12h", n->dhcp_range ? n->dhcp_range
                                                                              : range);
    AUTOFREE char *a_pid = kx_asprintf("--pid-file=%s", pid);
    AUTOFREE char *a_leases = kx_asprintf("--dhcp-leasefile=%s", leases);
    if (kx_mkdir_p(lease_dir, 0700) < 0 || kx_mkdir_p(run_dir, 0700) < 0)
        return -1;
    char *argv[] = {"dnsmasq", "--conf-file=/dev/null", "--bind-interfaces", a_iface,
                    "--except-interface=lo", a_listen, a_range, a_pid, a_leases,
                    "--dhcp-authoritative", "--user=root", "--group=root", NULL};
    return kx_run(argv);
}

int nat_start(const kxl_paths *p, const kxl_network *n)
{
    char subnet[48], range[64];
    if (subnet_of(n->address, subnet, range) < 0)
        return -1;
    kx_strv have = KX_STRV_INIT;
    bool present = false;
    if (nl_addr_list(n->bridge, &have) == 0)
        for (size_t i = 0; i < have.n; i++)
            present |= strcmp(have.v[i], n->address) == 0;
    kx_strv_dispose(&have);
    if (!present && nl_addr_add(n->bridge, n->address) < 0)
        return -1;
    nat_stop(p, n);  /* a dnsmasq or table left from before the host rebooted */
    if (network_forwarding_on(p) < 0 || nft_add(n, subnet) < 0)
        return -1;
    if (dnsmasq_start(p, n, range) < 0) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        nat_stop(p, n);
        kx_err(KXL_ERR_STATE, "%s", why);
        return -1;
    }
    return 0;
}

void nat_stop(const kxl_paths *p, const kxl_network *n)
{
    AUTOFREE char *pidf = pid_file(p, n);
    long long pid = 0;
    if (kx_path_exists(pidf) && kx_read_long(pidf, &pid) == 0 && pid > 1) {
        AUTOFREE char *comm_path = kx_asprintf("/proc/%lld/comm", pid);
        AUTOFREE char *comm = kx_read_file(comm_path, NULL);
        if (comm && kx_startswith(comm, "dnsmasq"))
            kill((pid_t)pid, SIGTERM);
    }
    unlink(pidf);
    AUTOFREE char *t = table_name(n);
    AUTOFREE char *cmd = kx_asprintf("delete table inet %s\n", t);
    nft_run(cmd);  /* absent is fine */
    kx_err_clear();
}
