/* cmd_pci.c - xl's pci-assignable-add, -remove and -list, pci-attach, pci-detach and
 * pci-list. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/cleanup.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

int cmd_pci_assignable_add(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cli_find("pci-assignable-add"));
    return kxl_pci_assignable_add(&ctx->paths, argv[1]) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_pci_assignable_remove(cli_ctx *ctx, int argc, char **argv)
{
    bool rebind = false;
    int c;
    while ((c = getopt(argc, argv, "+r")) != -1) {
        if (c != 'r')
            return cli_usage(cli_find("pci-assignable-remove"));
        rebind = true;
    }
    if (argc - optind != 1)
        return cli_usage(cli_find("pci-assignable-remove"));
    return kxl_pci_assignable_remove(&ctx->paths, argv[optind], rebind) < 0 ? cli_fail()
                                                                            : EXIT_OK;
}

int cmd_pci_assignable_list(cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argv;
    if (argc != 1)
        return cli_usage(cli_find("pci-assignable-list"));
    char **bdfs;
    if (kxl_pci_assignable_list(&bdfs) < 0)
        return cli_fail();
    for (char **b = bdfs; *b; b++) {
        printf("%s\n", *b);
        free(*b);
    }
    free(bdfs);
    return EXIT_OK;
}

/* xl's columns: the guest's slot (Vdev) and the host's device. */
int cmd_pci_list(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cli_find("pci-list"));
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (kxl_domain_config(&ctx->paths, argv[1], &cfg) < 0)
        return cli_fail();
    if (cfg->n_pci)
        printf("Vdev Device\n");
    for (size_t i = 0; i < cfg->n_pci; i++) {
        if (cfg->pci[i].vslot >= 0)
            printf("%02x.0 %s\n", cfg->pci[i].vslot, cfg->pci[i].bdf);
        else
            printf("--.- %s\n", cfg->pci[i].bdf);
    }
    return EXIT_OK;
}

/* xl pci-attach DOM BDF [VSLOT]: the slot may also be given as BDF@VSLOT. */
int cmd_pci_attach(cli_ctx *ctx, int argc, char **argv)
{
    if ((argc != 3 && argc != 4) || argv[1][0] == '-')
        return cli_usage(cli_find("pci-attach"));
    char spec[128];
    if (snprintf(spec, sizeof(spec), "%s%s%s", argv[2], argc == 4 ? "@" : "",
                 argc == 4 ? argv[3] : "") >= (int)sizeof(spec))
        return cli_usage(cli_find("pci-attach"));
    return kxl_domain_pci_attach(&ctx->paths, argv[1], spec) < 0 ? cli_fail() : EXIT_OK;
}

/* xl pci-detach [-f] DOM BDF. */
int cmd_pci_detach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "-f") == 0) {
        fprintf(stderr, "kxl: pci-detach -f: QEMU cannot take a device the guest holds; "
                "without -f the guest is asked and has 15 s to let it go\n");
        return EXIT_USAGE;
    }
    if (argc != 3 || argv[1][0] == '-')
        return cli_usage(cli_find("pci-detach"));
    return kxl_domain_pci_detach(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}
