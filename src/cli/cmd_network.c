/* cmd_network.c - kxl networks (network-create, -list, -destroy) and a
 * domain's vifs (network-list DOM, network-attach, network-detach). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kxl/ops.h"
#include "lib/network.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

int cmd_network_create(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage(cli_find("network-create"));
    return network_create(&ctx->paths, argv[1], argv + 2) < 0 ? cli_fail() : EXIT_OK;
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

/* A domain's vifs with their tap's counters. */
static int list_vifs(cli_ctx *ctx, const char *dom)
{
    kxl_vif_info *vifs;
    size_t n;
    if (kxl_vif_list(&ctx->paths, dom, &vifs, &n) < 0)
        return cli_fail();
    printf("Idx %-12s %-17s %-12s %12s %9s %12s %9s\n", "Name", "MAC", "Bridge", "RX-bytes",
           "RX-pkts", "TX-bytes", "TX-pkts");
    for (size_t i = 0; i < n; i++) {
        const kxl_vif_info *v = &vifs[i];
        printf("%-3u %-12s %-17s %-12s %12llu %9llu %12llu %9llu\n", v->devid,
               v->vif.vifname ? v->vif.vifname : "?", v->vif.mac ? v->vif.mac : "-",
               v->vif.bridge ? v->vif.bridge : "xenbr0", (unsigned long long)v->rx_bytes,
               (unsigned long long)v->rx_packets, (unsigned long long)v->tx_bytes,
               (unsigned long long)v->tx_packets);
    }
    kxl_vif_infos_free(vifs, n);
    return EXIT_OK;
}

int cmd_network_list(cli_ctx *ctx, int argc, char **argv)
{
    if (argc > 2)
        return cli_usage(cli_find("network-list"));
    return argc == 2 ? list_vifs(ctx, argv[1]) : list_networks(ctx);
}

int cmd_network_attach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(cli_find("network-attach"));
    AUTOFREE char *devid = NULL;
    /* as xl: the vif spec whole, or its settings as separate arguments */
    AUTOFREE char *spec = cli_join_spec(argc - 2, argv + 2);
    if (kxl_network_attach(&ctx->paths, argv[1], spec, &devid) < 0)
        return cli_fail();
    if (devid)
        printf("%s\n", devid);
    return EXIT_OK;
}

int cmd_network_detach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("network-detach"));
    return kxl_network_detach(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}
