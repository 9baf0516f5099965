/* cmd_resource.c - kxl vcpu-set, mem-set, mem-max, sched-credit and sched-credit2, with xl's
 * syntax and output. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

/* A whole number (a sign allowed: the operation says what range it takes) into *v_r; -1 with
 * kx_err naming what otherwise. */
static int parse_int(const char *text, const char *what, long long *v_r)
{
    char *end;
    errno = 0;
    *v_r = strtoll(text, &end, 10);
    if (!*text || *end || errno || *v_r <= INT_MIN || *v_r > INT_MAX) {
        kx_err(KXL_ERR_INVALID, "%s '%s' is not a whole number", what, text);
        return -1;
    }
    return 0;
}

int cmd_vcpu_set(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-')
        return cli_usage(cli_find(kxl_op_describe(KXL_OP_VCPU_SET)->cli));
    long long n;
    if (parse_int(argv[2], "the vCPU count", &n) < 0)
        return cli_fail();
    if (n < 1) {
        kx_err(KXL_ERR_INVALID, "the vCPU count must be at least 1, not %lld", n);
        return cli_fail();
    }
    return kxl_domain_vcpu_set(&ctx->paths, argv[1], (unsigned)n) < 0 ? cli_fail() : EXIT_OK;
}

/* mem-set and mem-max: DOM SIZE, then op. */
static int mem_command(cli_ctx *ctx, int argc, char **argv, kxl_op op,
                       int (*fn)(const kxl_paths *, const char *, uint64_t))
{
    if (argc != 3 || argv[1][0] == '-')
        return cli_usage(cli_find(kxl_op_describe(op)->cli));
    uint64_t mib;
    if (kxl_mem_size_parse(argv[2], &mib) < 0 || fn(&ctx->paths, argv[1], mib) < 0)
        return cli_fail();
    return EXIT_OK;
}

int cmd_mem_set(cli_ctx *ctx, int argc, char **argv)
{
    return mem_command(ctx, argc, argv, KXL_OP_MEM_SET, kxl_domain_mem_set);
}

int cmd_mem_max(cli_ctx *ctx, int argc, char **argv)
{
    return mem_command(ctx, argc, argv, KXL_OP_MEM_MAX, kxl_domain_mem_max);
}

static int print_sched(cli_ctx *ctx, const char *dom, bool json)
{
    AUTOFREE kxl_sched_info *infos = NULL;
    size_t n;
    if (kxl_sched_list(&ctx->paths, dom, &infos, &n) < 0)
        return cli_fail();
    if (json) {
        AUTOPTR(json_object) a = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(a, kxl_sched_to_json(&infos[i]));
        printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY));
        return EXIT_OK;
    }
    printf("%s\n", kxl_sched_header());
    for (size_t i = 0; i < n; i++) {
        AUTOFREE char *line = kxl_sched_line(&infos[i]);
        printf("%s\n", line);
    }
    return EXIT_OK;
}

/* sched-credit and sched-credit2: the same weight and cap (KVM has one scheduler). */
int cmd_sched_credit(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"domain", required_argument, NULL, 'd'}, {"weight", required_argument, NULL, 'w'},
        {"cap", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0}};
    const cli_cmd *self = cli_find(argv[0]);
    const char *dom = NULL;
    kxl_sched_info set = {.weight = KXL_SCHED_UNCHANGED, .cap = KXL_SCHED_UNCHANGED};
    bool json = false;
    long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+d:w:c:", opts, NULL)) != -1) {
        if (c == 'd') {
            dom = optarg;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'w' || c == 'c') {
            /* the range is the operation's to check: it says so for every front end */
            if (parse_int(optarg, c == 'w' ? "the weight" : "the cap", &v) < 0)
                return cli_fail();
            *(c == 'w' ? &set.weight : &set.cap) = (int)v;
        } else {
            return cli_usage(self);
        }
    }
    if (optind != argc)
        return cli_usage(self);
    bool setting = set.weight != KXL_SCHED_UNCHANGED || set.cap != KXL_SCHED_UNCHANGED;
    if (setting && !dom) {
        kx_err(KXL_ERR_INVALID, "-w and -c need a domain: -d DOM");
        return cli_fail();
    }
    if (setting)
        return kxl_domain_sched_set(&ctx->paths, dom, &set) < 0 ? cli_fail() : EXIT_OK;
    return print_sched(ctx, dom, json);
}
