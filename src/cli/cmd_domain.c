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
    return cli_call(ctx, dom, cmd, NULL, NULL, 15000) < 0 ? cli_fail() : EXIT_OK;
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
    json_object *args = json_object_new_object();
    json_object_object_add(args, "name", json_object_new_string(argv[2]));
    return cli_call(ctx, argv[1], "rename", args, NULL, 15000) < 0 ? cli_fail() : EXIT_OK;
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
/* Done when the domain is gone, preserved as shut down, or running on a new
 * QEMU (on_poweroff = restart); false after timeout_s (0: no limit). */
static bool wait_down(cli_ctx *ctx, const char *name, pid_t qemu_before, int timeout_s)
{
    time_t end = time(NULL) + timeout_s;
    kxl_dominfo info;
    while (timeout_s <= 0 || time(NULL) < end) {
        if (kxl_domain_lookup(&ctx->paths, name, &info) < 0) {
            kx_err_clear();
            return true;
        }
        if (info.state == KXL_STATE_SHUTDOWN || info.qemu_pid != qemu_before)
            return true;
        usleep(50000);
    }
    return false;
}

static unsigned shutdown_timeout(cli_ctx *ctx, const char *name)
{
    AUTOFREE char *path = kxl_domain_file(&ctx->paths, name, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    kx_err_clear();
    return (unsigned)kx_json_int(o, "shutdown_timeout", 60);
}

/* Presses the power button of dom; *info_r describes it as it was. */
static int press(cli_ctx *ctx, const char *dom, kxl_dominfo *info_r)
{
    if (kxl_domain_lookup(&ctx->paths, dom, info_r) < 0)
        return -1;
    return control_call(&ctx->paths, info_r->name, "shutdown", NULL, NULL, 15000);
}

/* -w waits, -F destroys after the domain's shutdown_timeout. */
static int wait_or_force(cli_ctx *ctx, const kxl_dominfo *info, bool force)
{
    unsigned timeout = force ? shutdown_timeout(ctx, info->name) : 0;
    if (wait_down(ctx, info->name, info->qemu_pid, (int)timeout))
        return 0;
    fprintf(stderr, "kxl: '%s' did not shut down within %u s; destroying it\n", info->name,
            timeout);
    return kxl_domain_destroy(&ctx->paths, info->name);
}

static int shutdown_all(cli_ctx *ctx, bool wait, bool force)
{
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n;
    if (kxl_domain_list(&ctx->paths, &d, &n) < 0)
        return cli_fail();
    int r = EXIT_OK;
    bool *pressed = kx_malloc0(n + 1);
    for (size_t i = 0; i < n; i++) {
        kxl_dominfo now;
        pressed[i] = press(ctx, d[i].name, &now) == 0;
        if (!pressed[i])
            r = cli_fail();   /* a paused or shut-down domain says why; the others go on */
    }
    for (size_t i = 0; i < n && (wait || force); i++)
        if (pressed[i] && wait_or_force(ctx, &d[i], force) < 0)
            r = cli_fail();
    free(pressed);
    return r;
}

int cmd_shutdown(cli_ctx *ctx, int argc, char **argv)
{
    cli_power_opts o;
    if (cli_power_opts_parse(argc, argv, &o) < 0)
        return EXIT_USAGE;
    if (o.all)
        return shutdown_all(ctx, o.wait, o.force);
    kxl_dominfo info;
    if (press(ctx, o.dom, &info) < 0)
        return cli_fail();
    if ((o.wait || o.force) && wait_or_force(ctx, &info, o.force) < 0)
        return cli_fail();
    return EXIT_OK;
}
