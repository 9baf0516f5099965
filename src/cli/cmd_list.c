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

typedef struct {
    bool longfmt, verbose, json;
} list_opts;

static void print_table(const kxl_dominfo *d, size_t n, bool verbose)
{
    printf("Name                                        ID   Mem VCPUs\tState\tTime(s)%s\n",
           verbose ? "   UUID                            Supervisor" : "");
    for (size_t i = 0; i < n; i++) {
        char st[7];
        kxl_dominfo_state_letters(&d[i], st);
        printf("%-40s %5u %5llu %5u     %s  %8.1f", d[i].name, d[i].domid,
               (unsigned long long)d[i].memory_mib, d[i].vcpus, st, d[i].cpu_seconds);
        if (verbose)
            printf(" %s %s", d[i].uuid, d[i].sv_alive ? "running" : "gone");
        putchar('\n');
    }
}

/* -l: like xl, each domain's configuration as JSON, with its id. */
static int print_json(cli_ctx *ctx, const kxl_dominfo *d, size_t n, bool longfmt)
{
    AUTOPTR(json_object) a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, longfmt ? kxl_domain_detail_json(&ctx->paths, &d[i])
                                         : kxl_dominfo_to_json(&d[i]));
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
        return print_json(ctx, d, n, o.longfmt);
    print_table(d, n, o.verbose);
    return EXIT_OK;
}
