/* cmd_lifecycle.c - commands that reach into a running guest: reboot,
 * trigger, sysrq, dump-core, qemu-monitor-command. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kxl/ops.h"
#include "util/buf.h"
#include "util/cleanup.h"

int cli_power_opts_parse(int argc, char **argv, cli_power_opts *o_r)
{
    static const struct option longs[] = {{"wait", no_argument, NULL, 'w'},
                                          {"all", no_argument, NULL, 'a'},
                                          {"hard", no_argument, NULL, 'H'},
                                          {NULL, 0, NULL, 0}};
    *o_r = (cli_power_opts){0};
    int c;
    while ((c = getopt_long(argc, argv, "+waFH", longs, NULL)) != -1) {
        if (c == 'w')
            o_r->wait = true;
        else if (c == 'a')
            o_r->all = true;
        else if (c == 'H')
            o_r->force = true;
        else if (c == 'F')
            continue;   /* xl's fallback to the ACPI event, which is what kxl always sends */
        else
            goto usage;
    }
    if (o_r->all == (optind < argc) || argc - optind > 1)
        goto usage;
    o_r->dom = o_r->all ? NULL : argv[optind];
    return 0;
usage:
    cli_usage(cli_find(argv[0]));
    return -1;
}

/* -a: each domain that failed says why; the others go on. */
static void report_failure(const char *dom, void *opaque)
{
    (void)dom;
    (void)opaque;
    cli_fail();
}

int cmd_reboot(cli_ctx *ctx, int argc, char **argv)
{
    cli_power_opts o;
    if (cli_power_opts_parse(argc, argv, &o) < 0)
        return EXIT_USAGE;
    kxl_power_opts po = {.wait = o.wait, .force = o.force};
    if (o.all)
        return kxl_domain_reboot_all(&ctx->paths, &po, report_failure, NULL) < 0 ? EXIT_ERR
                                                                               : EXIT_OK;
    return kxl_domain_reboot(&ctx->paths, o.dom, &po) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_trigger(cli_ctx *ctx, int argc, char **argv)
{
    const char *self = kxl_op_describe(KXL_OP_TRIGGER)->cli;
    if (argc != 3 && argc != 4)
        return cli_usage(cli_find(self));
    /* xl's VCPU: QEMU injects an NMI into every vCPU and resets the whole machine */
    if (argc == 4 && strspn(argv[3], "0123456789") != strlen(argv[3]))
        return cli_usage(cli_find(self));
    if (strcmp(argv[2], "init") == 0) {
        fprintf(stderr, "kxl: trigger init: QEMU cannot send INIT to one vCPU; use reset\n");
        return EXIT_USAGE;
    }
    return kxl_domain_trigger(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}

/* xl button-press DOM power|sleep: the ACPI buttons, as trigger presses them. */
int cmd_button_press(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "power") != 0 && strcmp(argv[2], "sleep") != 0))
        return cli_usage(cli_find("button-press"));
    return kxl_domain_trigger(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}

/* xl resume DOM: wakes a guest that suspended itself (S3), as trigger s3resume. */
int cmd_resume(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cli_find("resume"));
    return kxl_domain_trigger(&ctx->paths, argv[1], "s3resume") < 0 ? cli_fail() : EXIT_OK;
}

int cmd_sysrq(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("sysrq"));
    return kxl_domain_sysrq(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_dump_core(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("dump-core"));
    return kxl_domain_dump_core(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_monitor(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage(cli_find("qemu-monitor-command"));
    kx_buf line = KX_BUF_INIT;
    for (int i = 2; i < argc; i++)
        kx_buf_printf(&line, "%s%s", i > 2 ? " " : "", argv[i]);
    AUTOFREE char *out = NULL;
    int r = kxl_domain_monitor(&ctx->paths, argv[1], kx_buf_str(&line), &out);
    kx_buf_dispose(&line);
    if (r < 0)
        return cli_fail();
    fputs(out, stdout);
    return EXIT_OK;
}
