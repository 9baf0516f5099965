/* cmd_network.c - kxl networks (network-create, -list, -destroy) and a
 * domain's vifs (network-list DOM, network-attach, network-detach). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/control.h"
#include "lib/network.h"
#include "lib/vif.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

int cmd_network_create(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage(cli_find("network-create"));
    AUTOPTR(kxl_network) n = network_from_options(argv[1], argv + 2);
    if (!n || network_save(&ctx->paths, n) < 0)
        return cli_fail();
    if (network_start(&ctx->paths, n) < 0) {
        /* nothing half-made: the definition goes with the failed start */
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        AUTOFREE char *def = kx_asprintf("%s/networks/%s", ctx->paths.etc_dir, n->name);
        unlink(def);
        kx_err(KXL_ERR_STATE, "%s", why);
        return cli_fail();
    }
    return EXIT_OK;
}

int cmd_network_destroy(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2)
        return cli_usage(cli_find("network-destroy"));
    return network_destroy(&ctx->paths, argv[1]) < 0 ? cli_fail() : EXIT_OK;
}

static int list_networks(cli_ctx *ctx)
{
    kx_strv names = KX_STRV_INIT;
    network_list(&ctx->paths, &names);
    printf("%-16s %-7s %-16s %-20s %s\n", "Name", "Type", "Bridge", "Address", "State");
    for (size_t i = 0; i < names.n; i++) {
        AUTOPTR(kxl_network) n = network_find(&ctx->paths, names.v[i]);
        if (!n) {
            printf("%-16s (%s)\n", names.v[i], kx_err_msg());
            continue;
        }
        printf("%-16s %-7s %-16s %-20s %s\n", n->name, kxl_net_type_to_string(n->type),
               n->bridge ? n->bridge : "-", n->address ? n->address : n->gateway ? n->gateway : "-",
               network_is_started(&ctx->paths, n->name) ? "active" : "inactive");
    }
    kx_strv_dispose(&names);
    return EXIT_OK;
}

/* A domain's vifs from its resolved config, with their tap's counters. */
static int list_vifs(cli_ctx *ctx, const char *dom)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, dom, &info) < 0)
        return cli_fail();
    AUTOFREE char *path = kxl_domain_file(&ctx->paths, info.name, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    json_object *vifs;
    if (!o || !json_object_object_get_ex(o, "vifs", &vifs))
        return cli_fail();
    printf("Idx %-12s %-17s %-12s %12s %9s %12s %9s\n", "Name", "MAC", "Bridge", "RX-bytes",
           "RX-pkts", "TX-bytes", "TX-pkts");
    for (size_t i = 0; i < json_object_array_length(vifs); i++) {
        json_object *v = json_object_array_get_idx(vifs, i);
        if (kx_json_bool(v, "unplugged", false))
            continue;
        const char *ifname = kx_json_str(v, "vifname", "?");
        vif_counters c;
        vif_read_counters(ifname, &c);
        printf("%-3zu %-12s %-17s %-12s %12llu %9llu %12llu %9llu\n", i, ifname,
               kx_json_str(v, "mac", "-"), kx_json_str(v, "bridge", "xenbr0"), c.rx_bytes,
               c.rx_packets, c.tx_bytes, c.tx_packets);
    }
    return EXIT_OK;
}

int cmd_network_list(cli_ctx *ctx, int argc, char **argv)
{
    if (argc > 2)
        return cli_usage(cli_find("network-list"));
    return argc == 2 ? list_vifs(ctx, argv[1]) : list_networks(ctx);
}

static int vif_call(cli_ctx *ctx, const char *dom, const char *cmd, const char *key,
                    const char *value)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, dom, &info) < 0)
        return cli_fail();
    json_object *args = json_object_new_object();
    json_object_object_add(args, key, json_object_new_string(value));
    AUTOPTR(json_object) ret = NULL;
    if (control_call(&ctx->paths, info.name, cmd, args, &ret, 30000) < 0)
        return cli_fail();
    const char *devid = kx_json_str(ret, "devid", NULL);
    if (devid)
        printf("%s\n", devid);
    return EXIT_OK;
}

int cmd_network_attach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        return cli_usage(cli_find("network-attach"));
    return vif_call(ctx, argv[1], "network-attach", "spec", argc == 3 ? argv[2] : "");
}

int cmd_network_detach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("network-detach"));
    return vif_call(ctx, argv[1], "network-detach", "vif", argv[2]);
}
