/* cmd_tls.c - kxl tls-setup: the relocation server's CA and host certificates (setup on the
 * host that keeps the CA, --sign there for each other host, --import on that host). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kxl/tls.h"
#include "util/buf.h"

enum { OPT_NAME = 256, OPT_IP, OPT_DAYS, OPT_SIGN, OPT_OUT, OPT_IMPORT, OPT_FORCE };

typedef struct {
    kx_strv names, ips;
    const char *sign, *out, *import;
    long days;
    bool force;
} tls_args;

static int parse_tls(int argc, char **argv, tls_args *a)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, OPT_NAME}, {"ip", required_argument, NULL, OPT_IP},
        {"days", required_argument, NULL, OPT_DAYS}, {"sign", required_argument, NULL, OPT_SIGN},
        {"out", required_argument, NULL, OPT_OUT}, {"import", required_argument, NULL, OPT_IMPORT},
        {"force", no_argument, NULL, OPT_FORCE}, {NULL, 0, NULL, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == OPT_NAME)
            kx_strv_push(&a->names, optarg);
        else if (c == OPT_IP)
            kx_strv_push(&a->ips, optarg);
        else if (c == OPT_DAYS && (a->days = strtol(optarg, &end, 10)) >= 1 && a->days <= 36500 &&
                 !*end)
            continue;
        else if (c == OPT_SIGN)
            a->sign = optarg;
        else if (c == OPT_OUT)
            a->out = optarg;
        else if (c == OPT_IMPORT)
            a->import = optarg;
        else if (c == OPT_FORCE)
            a->force = true;
        else
            return -1;
    }
    if (optind != argc || (a->sign && !a->out) || (a->out && !a->sign) ||
        (a->import && (a->sign || a->names.n || a->ips.n)))
        return -1;
    return 0;
}

/* The list as the library takes it: a kx_strv is NULL-terminated (NULL when empty). */
static const char *const *terminated(const kx_strv *v)
{
    return (const char *const *)v->v;
}

static int run_tls(cli_ctx *ctx, tls_args *a)
{
    if (a->import)
        return kxl_tls_import(&ctx->paths, a->import, a->force);
    if (a->sign) {
        /* the other host's name first: its certificate's CN */
        kx_strv names = KX_STRV_INIT;
        kx_strv_push(&names, a->sign);
        for (size_t i = 0; i < a->names.n; i++)
            kx_strv_push(&names, a->names.v[i]);
        kxl_tls_opts o = {.names = terminated(&names), .ips = terminated(&a->ips),
                          .days = (unsigned)a->days};
        int r = kxl_tls_sign(&ctx->paths, &o, a->out);
        kx_strv_dispose(&names);
        return r;
    }
    kxl_tls_opts o = {.names = terminated(&a->names), .ips = terminated(&a->ips),
                      .days = (unsigned)a->days, .force = a->force};
    return kxl_tls_setup(&ctx->paths, &o);
}

int cmd_tls_setup(cli_ctx *ctx, int argc, char **argv)
{
    tls_args a = {.names = KX_STRV_INIT, .ips = KX_STRV_INIT};
    int r = parse_tls(argc, argv, &a);
    if (r == 0)
        r = run_tls(ctx, &a);
    else
        r = -2;
    kx_strv_dispose(&a.names);
    kx_strv_dispose(&a.ips);
    if (r == -2)
        return cli_usage(cli_find("tls-setup"));
    return r < 0 ? cli_fail() : EXIT_OK;
}
