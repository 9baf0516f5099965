/* cmd_domain.c - commands that act on one domain: destroy, pause, unpause, rename, shutdown,
 * job-cancel, domid, domname. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "kxl/ops.h"

/* The single DOM argument of a command, or NULL after printing its usage. */
static const char *one_domain(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        cli_usage(cli_find(argv[0]));
        return NULL;
    }
    return argv[1];
}

/* A command whose only argument is DOM and that makes one library call with it. */
static int on_one_domain(cli_ctx *ctx, int argc, char **argv,
                         int (*op)(const kxl_paths *p, const char *dom))
{
    const char *dom = one_domain(argc, argv);
    if (!dom)
        return EXIT_USAGE;
    return op(&ctx->paths, dom) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_destroy(cli_ctx *ctx, int argc, char **argv)
{
    return on_one_domain(ctx, argc, argv, kxl_domain_destroy);
}

int cmd_pause(cli_ctx *ctx, int argc, char **argv)
{
    return on_one_domain(ctx, argc, argv, kxl_domain_pause);
}

int cmd_unpause(cli_ctx *ctx, int argc, char **argv)
{
    return on_one_domain(ctx, argc, argv, kxl_domain_unpause);
}

int cmd_job_cancel(cli_ctx *ctx, int argc, char **argv)
{
    return on_one_domain(ctx, argc, argv, kxl_domain_job_cancel);
}

int cmd_rename(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("rename"));
    return kxl_domain_rename(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
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

/* -a: each domain that failed says why; the others go on. */
static void report_failure(const char *dom, void *opaque)
{
    (void)dom;
    (void)opaque;
    cli_fail();
}

int cmd_shutdown(cli_ctx *ctx, int argc, char **argv)
{
    cli_power_opts o;
    if (cli_power_opts_parse(argc, argv, &o) < 0)
        return EXIT_USAGE;
    kxl_power_opts po = {.wait = o.wait, .force = o.force};
    if (o.all)
        return kxl_domain_shutdown_all(&ctx->paths, &po, report_failure, NULL) < 0 ? EXIT_ERR
                                                                                 : EXIT_OK;
    return kxl_domain_shutdown(&ctx->paths, o.dom, &po) < 0 ? cli_fail() : EXIT_OK;
}
