/* cmd_domain.c - commands that act on one domain: destroy, pause, unpause,
 * domid, domname. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/control.h"
#include "util/err.h"

/* The single DOM argument of a command, or NULL after printing its usage. */
static const char *one_domain(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        cli_usage(cli_find(argv[0]));
        return NULL;
    }
    return argv[1];
}

int cmd_destroy(cli_ctx *ctx, int argc, char **argv)
{
    const char *dom = one_domain(argc, argv);
    if (!dom)
        return EXIT_USAGE;
    return kxl_domain_destroy(&ctx->paths, dom) < 0 ? cli_fail() : EXIT_OK;
}

static int simple_control(cli_ctx *ctx, int argc, char **argv, const char *cmd)
{
    const char *dom = one_domain(argc, argv);
    if (!dom)
        return EXIT_USAGE;
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, dom, &info) < 0 ||
        control_call(&ctx->paths, info.name, cmd, NULL, NULL, 15000) < 0)
        return cli_fail();
    return EXIT_OK;
}

int cmd_pause(cli_ctx *ctx, int argc, char **argv)
{
    return simple_control(ctx, argc, argv, "pause");
}

int cmd_unpause(cli_ctx *ctx, int argc, char **argv)
{
    return simple_control(ctx, argc, argv, "unpause");
}

int cmd_domid(cli_ctx *ctx, int argc, char **argv)
{
    const char *dom = one_domain(argc, argv);
    if (!dom)
        return EXIT_USAGE;
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, dom, &info) < 0)
        return cli_fail();
    printf("%u\n", info.domid);
    return EXIT_OK;
}

int cmd_domname(cli_ctx *ctx, int argc, char **argv)
{
    const char *id = one_domain(argc, argv);
    if (!id)
        return EXIT_USAGE;
    if (strspn(id, "0123456789") != strlen(id)) {
        fprintf(stderr, "kxl: '%s' is not a domain id\n", id);
        return EXIT_USAGE;
    }
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, id, &info) < 0)
        return cli_fail();
    printf("%s\n", info.name);
    return EXIT_OK;
}
