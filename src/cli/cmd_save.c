/* cmd_save.c - kxl save and kxl restore, with xl's options. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "kxl/ops.h"

int cmd_save(cli_ctx *ctx, int argc, char **argv)
{
    kxl_save_opts o = {0};
    int c;
    while ((c = getopt(argc, argv, "+cp")) != -1) {
        if (c == 'c')
            o.checkpoint = true;
        else if (c == 'p')
            o.paused = true;
        else
            return cli_usage(cli_find("save"));
    }
    int left = argc - optind;
    if (left < 2 || left > 3 || (o.checkpoint && o.paused))
        return cli_usage(cli_find("save"));
    o.config_file = left == 3 ? argv[optind + 2] : NULL;
    if (kxl_domain_save(&ctx->paths, argv[optind], argv[optind + 1], &o) < 0)
        return cli_fail();
    if (ctx->verbose)
        fprintf(stderr, "Domain '%s' saved to '%s'\n", argv[optind], argv[optind + 1]);
    return EXIT_OK;
}

int cmd_restore(cli_ctx *ctx, int argc, char **argv)
{
    kxl_restore_opts o = {0};
    bool console = false;
    int c;
    while ((c = getopt(argc, argv, "+pce")) != -1) {
        if (c == 'p')
            o.paused = true;
        else if (c == 'c')
            console = true;
        else if (c != 'e')   /* xl: "do not wait in the background"; kxl's supervisor does */
            return cli_usage(cli_find("restore"));
    }
    int left = argc - optind;
    if (left < 1 || left > 2)
        return cli_usage(cli_find("restore"));
    o.config_file = left == 2 ? argv[optind] : NULL;
    char *name = NULL;
    unsigned domid;
    if (kxl_domain_restore(&ctx->paths, argv[argc - 1], &o, &name, &domid) < 0)
        return cli_fail();
    if (ctx->verbose)
        fprintf(stderr, "Domain '%s' restored with id %u\n", name, domid);
    int r = console ? cli_console_attach(ctx, name, CLI_DETACH_KEY) : EXIT_OK;
    free(name);
    return r;
}
