/* cmd_lifecycle.c - commands that reach into a running guest: reboot,
 * trigger, sysrq, dump-core, qemu-monitor-command. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

/* The QEMU process of DOM (0 if none), to see a restart happen. */
static pid_t qemu_of(cli_ctx *ctx, const char *dom)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, dom, &info) < 0) {
        kx_err_clear();
        return 0;
    }
    return info.qemu_pid;
}

/* A reboot is complete when the domain runs on a new QEMU, or is gone
 * (on_reboot = destroy). */
static bool wait_rebooted(cli_ctx *ctx, const char *dom, pid_t before, int timeout_s)
{
    time_t end = time(NULL) + timeout_s;
    while (timeout_s <= 0 || time(NULL) < end) {
        kxl_dominfo info;
        if (kxl_domain_lookup(&ctx->paths, dom, &info) < 0) {
            kx_err_clear();
            return true;   /* on_reboot = destroy */
        }
        if (info.qemu_pid != before || info.state == KXL_STATE_SHUTDOWN)
            return true;   /* restarted, or preserved */
        usleep(50000);
    }
    return false;
}

static int reboot_one(cli_ctx *ctx, const char *dom, bool wait, bool force)
{
    pid_t before = qemu_of(ctx, dom);
    if (cli_call(ctx, dom, "reboot", NULL, NULL, CLI_CALL_TIMEOUT_MS) < 0)
        return -1;
    if (!wait && !force)
        return 0;
    if (wait_rebooted(ctx, dom, before, force ? 60 : 0))
        return 0;
    fprintf(stderr, "kxl: '%s' did not reboot within 60 s; resetting it\n", dom);
    json_object *args = json_object_new_object();
    json_object_object_add(args, "trigger", json_object_new_string("reset"));
    return cli_call(ctx, dom, "trigger", args, NULL, CLI_CALL_TIMEOUT_MS);
}

int cli_power_opts_parse(int argc, char **argv, cli_power_opts *o_r)
{
    *o_r = (cli_power_opts){0};
    int c;
    while ((c = getopt(argc, argv, "+waF")) != -1) {
        if (c == 'w')
            o_r->wait = true;
        else if (c == 'a')
            o_r->all = true;
        else if (c == 'F')
            o_r->force = true;
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

int cmd_reboot(cli_ctx *ctx, int argc, char **argv)
{
    cli_power_opts o;
    if (cli_power_opts_parse(argc, argv, &o) < 0)
        return EXIT_USAGE;
    bool wait = o.wait, force = o.force;
    if (!o.all)
        return reboot_one(ctx, o.dom, wait, force) < 0 ? cli_fail() : EXIT_OK;
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n;
    if (kxl_domain_list(&ctx->paths, &d, &n) < 0)
        return cli_fail();
    int r = EXIT_OK;
    for (size_t i = 0; i < n; i++)
        if (reboot_one(ctx, d[i].name, wait, force) < 0)
            r = cli_fail();
    return r;
}

int cmd_trigger(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("trigger"));
    json_object *args = json_object_new_object();
    json_object_object_add(args, "trigger", json_object_new_string(argv[2]));
    return cli_call(ctx, argv[1], "trigger", args, NULL, CLI_CALL_TIMEOUT_MS) < 0 ? cli_fail()
                                                                               : EXIT_OK;
}

int cmd_sysrq(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("sysrq"));
    json_object *args = json_object_new_object();
    json_object_object_add(args, "key", json_object_new_string(argv[2]));
    return cli_call(ctx, argv[1], "sysrq", args, NULL, CLI_CALL_TIMEOUT_MS) < 0 ? cli_fail()
                                                                               : EXIT_OK;
}

int cmd_dump_core(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("dump-core"));
    char cwd[PATH_MAX];
    AUTOFREE char *file = argv[2][0] == '/' ? kx_strdup(argv[2])
                          : kx_asprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".", argv[2]);
    json_object *args = json_object_new_object();
    json_object_object_add(args, "file", json_object_new_string(file));
    return cli_call(ctx, argv[1], "dump-core", args, NULL, CLI_CALL_TIMEOUT_MS) < 0 ? cli_fail()
                                                                               : EXIT_OK;
}

int cmd_monitor(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage(cli_find("qemu-monitor-command"));
    kx_buf line = KX_BUF_INIT;
    for (int i = 2; i < argc; i++)
        kx_buf_printf(&line, "%s%s", i > 2 ? " " : "", argv[i]);
    json_object *args = json_object_new_object();
    json_object_object_add(args, "command", json_object_new_string(kx_buf_str(&line)));
    kx_buf_dispose(&line);
    AUTOPTR(json_object) ret = NULL;
    if (cli_call(ctx, argv[1], "monitor", args, &ret, CLI_CALL_TIMEOUT_MS) < 0)
        return cli_fail();
    fputs(json_object_get_string(ret), stdout);
    return EXIT_OK;
}
