/* cmd_list.c - kxl list: xl's columns (Name ID Mem VCPUs State Time(s)), or
 * JSON for scripts (--json), or each domain's configuration (-l). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kxl/ops.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

typedef struct {
    bool longfmt, verbose, json;
} list_opts;

static void print_row(const kxl_dominfo *d, bool verbose, bool host)
{
    char st[7];
    kxl_dominfo_state_letters(d, st);
    printf("%-40s %5u %5llu %5u     %s  %8.1f", d->name, d->domid,
           (unsigned long long)d->memory_mib, d->vcpus, st, d->cpu_seconds);
    if (verbose)
        printf(" %-36s %s", host ? "00000000-0000-0000-0000-000000000000" : d->uuid,
               host ? "-" : d->sv_alive ? "running" : "gone");
    putchar('\n');
}

/* xl's table; Domain-0 (the host) first when every domain is listed, as xl does. */
static void print_table(const kxl_dominfo *d, size_t n, bool verbose, bool all)
{
    printf("Name                                        ID   Mem VCPUs\tState\tTime(s)%s\n",
           verbose ? "   UUID                            Supervisor" : "");
    if (all) {
        kxl_dominfo host;
        kxl_host_dominfo(&host);
        print_row(&host, verbose, true);
    }
    for (size_t i = 0; i < n; i++)
        print_row(&d[i], verbose, false);
}

/* -l: as xl, each domain's configuration in libxl's shape; --json -l: kxl's own fuller view
 * (state, counters, the resolved config); --json: list's rows. */
static json_object *domain_json(cli_ctx *ctx, const kxl_dominfo *d, const list_opts *o)
{
    if (o->json)
        return o->longfmt ? kxl_domain_detail_json(&ctx->paths, d) : kxl_dominfo_to_json(d);
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (kxl_domain_config(&ctx->paths, d->name, &cfg) < 0) {
        kx_err_clear();   /* gone meanwhile: not listed */
        return NULL;
    }
    return kxl_domain_xl_json(d->domid, cfg);
}

static int print_json(cli_ctx *ctx, const kxl_dominfo *d, size_t n, const list_opts *o)
{
    AUTOPTR(json_object) a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *one = domain_json(ctx, &d[i], o);
        if (one)
            json_object_array_add(a, one);
    }
    printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
    return EXIT_OK;
}

static int parse_opts(int argc, char **argv, list_opts *o)
{
    static const struct option opts[] = {{"long", no_argument, NULL, 'l'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"json", no_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "+lv", opts, NULL)) != -1) {
        if (c == 'l')
            o->longfmt = true;
        else if (c == 'v')
            o->verbose = true;
        else if (c == 'j')
            o->json = true;
        else
            return -1;
    }
    return 0;
}

/* Keeps the domains named on the command line, in their order; an unknown one is an error. */
static int select_domains(cli_ctx *ctx, char **names, int n_names, kxl_dominfo **d, size_t *n)
{
    free(*d);
    *d = kx_malloc0(sizeof(**d) * (size_t)(n_names + 1));
    *n = 0;
    for (int i = 0; i < n_names; i++)
        if (kxl_domain_lookup(&ctx->paths, names[i], &(*d)[(*n)++]) < 0)
            return -1;
    return 0;
}

int cmd_list(cli_ctx *ctx, int argc, char **argv)
{
    list_opts o = {0};
    if (parse_opts(argc, argv, &o) < 0)
        return cli_usage(cli_find("list"));
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n = 0;
    if (kxl_domain_list(&ctx->paths, &d, &n) < 0)
        return cli_fail();
    if (optind < argc && select_domains(ctx, argv + optind, argc - optind, &d, &n) < 0)
        return cli_fail();
    if (o.json || o.longfmt)
        return print_json(ctx, d, n, &o);
    print_table(d, n, o.verbose, optind >= argc);
    return EXIT_OK;
}
