/* cmd_domain.c - commands that act on one domain: destroy, pause, unpause,
 * domid, domname. */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/control.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/buf.h"
#include "util/cleanup.h"
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

int cmd_rename(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("rename"));
    if (!kxl_name_is_valid(argv[2])) {
        fprintf(stderr, "kxl: invalid domain name '%s' (use 1 to %d letters, digits, '.', '_' or "
                "'-', not all digits)\n", argv[2], KXL_NAME_MAX);
        return EXIT_ERR;
    }
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, argv[1], &info) < 0)
        return cli_fail();
    json_object *args = json_object_new_object();
    json_object_object_add(args, "name", json_object_new_string(argv[2]));
    if (control_call(&ctx->paths, info.name, "rename", args, NULL, 15000) < 0)
        return cli_fail();
    return EXIT_OK;
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

/* Waits until the domain is gone (or preserved as shut down); false on timeout. */
static bool wait_down(cli_ctx *ctx, const char *name, int timeout_s)
{
    time_t end = time(NULL) + timeout_s;
    kxl_dominfo info;
    while (timeout_s <= 0 || time(NULL) < end) {
        if (kxl_domain_lookup(&ctx->paths, name, &info) < 0) {
            kx_err_clear();
            return true;
        }
        if (info.state == KXL_STATE_SHUTDOWN)
            return true;
        usleep(50000);
    }
    return false;
}

static int shutdown_one(cli_ctx *ctx, const char *dom, bool wait, bool force)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, dom, &info) < 0 ||
        control_call(&ctx->paths, info.name, "shutdown", NULL, NULL, 15000) < 0)
        return -1;
    if (!wait && !force)
        return 0;
    unsigned timeout = 60;
    if (force) {
        /* shutdown_timeout from the domain's config */
        AUTOFREE char *path = kxl_domain_file(&ctx->paths, info.name, "domain.json");
        AUTOFREE char *text = kx_read_file(path, NULL);
        AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
        timeout = (unsigned)kx_json_int(o, "shutdown_timeout", 60);
    }
    if (wait_down(ctx, info.name, force ? (int)timeout : 0))
        return 0;
    fprintf(stderr, "kxl: '%s' did not shut down within %u s; destroying it\n", info.name,
            timeout);
    return kxl_domain_destroy(&ctx->paths, info.name);
}

int cmd_shutdown(cli_ctx *ctx, int argc, char **argv)
{
    bool wait = false, all = false, force = false;
    int c;
    while ((c = getopt(argc, argv, "+waF")) != -1) {
        if (c == 'w')
            wait = true;
        else if (c == 'a')
            all = true;
        else if (c == 'F')
            force = true;
        else
            return cli_usage(cli_find("shutdown"));
    }
    if (all == (optind < argc) || argc - optind > 1)
        return cli_usage(cli_find("shutdown"));
    if (!all)
        return shutdown_one(ctx, argv[optind], wait, force) < 0 ? cli_fail() : EXIT_OK;
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n;
    if (kxl_domain_list(&ctx->paths, &d, &n) < 0)
        return cli_fail();
    int r = EXIT_OK;
    for (size_t i = 0; i < n; i++)
        if (shutdown_one(ctx, d[i].name, false, false) < 0)
            r = cli_fail();
    for (size_t i = 0; i < n && (wait || force); i++)
        if (!wait_down(ctx, d[i].name, force ? 60 : 0) && kxl_domain_destroy(&ctx->paths, d[i].name) < 0)
            r = cli_fail();
    return r;
}
