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

/* xl's six state columns: r b p s c d. */
static void state_letters(const kxl_dominfo *d, char out[7])
{
    memcpy(out, "------", 7);
    bool paused = d->state == KXL_STATE_PAUSED || d->state == KXL_STATE_STARTING;
    if (d->state == KXL_STATE_RUNNING) {
        out[0] = d->running ? 'r' : '-';
        out[1] = d->running ? '-' : 'b';
    }
    if (paused)
        out[2] = 'p';
    if (d->state == KXL_STATE_SHUTDOWN || d->state == KXL_STATE_CRASHED)
        out[3] = 's';
    if (d->state == KXL_STATE_CRASHED)
        out[4] = 'c';
    if (d->state == KXL_STATE_DYING)
        out[5] = 'd';
}

static void print_table(const kxl_dominfo *d, size_t n, bool verbose)
{
    printf("Name                                        ID   Mem VCPUs\tState\tTime(s)%s\n",
           verbose ? "   UUID                            Supervisor" : "");
    for (size_t i = 0; i < n; i++) {
        char st[7];
        state_letters(&d[i], st);
        printf("%-40s %5u %5llu %5u     %s  %8.1f", d[i].name, d[i].domid,
               (unsigned long long)d[i].memory_mib, d[i].vcpus, st, d[i].cpu_seconds);
        if (verbose)
            printf(" %s %s", d[i].uuid, d[i].sv_alive ? "running" : "gone");
        putchar('\n');
    }
}

static json_object *info_json(const kxl_dominfo *d)
{
    json_object *o = json_object_new_object();
    char st[7];
    state_letters(d, st);
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "domid", json_object_new_int64(d->domid));
    json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
    json_object_object_add(o, "state", json_object_new_string(kxl_state_to_string(d->state)));
    json_object_object_add(o, "state_letters", json_object_new_string(st));
    json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)d->memory_mib));
    json_object_object_add(o, "vcpus", json_object_new_int64(d->vcpus));
    json_object_object_add(o, "cpu_time", json_object_new_double(d->cpu_seconds));
    json_object_object_add(o, "qemu_pid", json_object_new_int64(d->qemu_pid));
    json_object_object_add(o, "supervisor_alive", json_object_new_boolean(d->sv_alive));
    return o;
}

/* Each plugged vif's tap counters, from the guest's side (RX: it received). */
static json_object *vif_counters_json(cli_ctx *ctx, const char *name)
{
    json_object *out = json_object_new_array();
    kxl_vif_info *vifs;
    size_t n;
    if (kxl_vif_list(&ctx->paths, name, &vifs, &n) < 0)
        return out;
    for (size_t i = 0; i < n; i++)
        if (vifs[i].vif.vifname)
            json_object_array_add(out, kxl_vif_counters_to_json(&vifs[i]));
    kxl_vif_infos_free(vifs, n);
    return out;
}

/* -l: like xl, each domain's configuration as JSON, with its id. */
static json_object *config_json(cli_ctx *ctx, const kxl_dominfo *d)
{
    json_object *record = NULL;
    kxl_domain_record(&ctx->paths, d->name, &record);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "domid", json_object_new_int64(d->domid));
    json_object_object_add(o, "info", info_json(d));
    json_object_object_add(o, "vif_counters", vif_counters_json(ctx, d->name));
    json_object_object_add(o, "config", record);
    kx_err_clear();   /* a domain that went away meanwhile shows without its config */
    return o;
}

static int print_json(cli_ctx *ctx, const kxl_dominfo *d, size_t n, bool longfmt)
{
    AUTOPTR(json_object) a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, longfmt ? config_json(ctx, &d[i]) : info_json(&d[i]));
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
