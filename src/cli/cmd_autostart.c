/* cmd_autostart.c - kxl autostart-list, autostart-enable, autostart-disable and shutdown-host:
 * the domains that start at host boot, and the stop of all domains before the host goes down.
 * The autostart directories besides ROOT/etc/kxl/auto/ are kxld.conf's auto_dirs, read here
 * too, so the command line and kxld agree on them. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/kxld_conf.h"
#include "kxl/autostart.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

/* kxld.conf's settings (auto_dirs); -1 with the error. */
static int load_conf(cli_ctx *ctx, kxld_conf *conf_r)
{
    AUTOFREE char *path = kx_path_join(ctx->paths.etc_dir, "kxld.conf");
    return kxld_conf_load(path, ctx->paths.root, conf_r);
}

int cmd_autostart_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json))
        return cli_usage(cli_find("autostart-list"));
    kxld_conf conf;
    if (load_conf(ctx, &conf) < 0)
        return cli_fail();
    AUTOPTR(json_object) list = kxl_autostart_list(&ctx->paths,
                                                    (const char *const *)conf.auto_dirs);
    kxld_conf_dispose(&conf);
    if (!list)
        return cli_fail();
    if (json) {
        printf("%s\n", json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
        return EXIT_OK;
    }
    AUTOFREE char *text = kxl_autostart_list_text(list);
    fputs(text, stdout);
    return EXIT_OK;
}

/* DOM [CONFIG] for enable, DOM for disable. */
int cmd_autostart_enable(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || argc > 3 || argv[1][0] == '-')
        return cli_usage(cli_find("autostart-enable"));
    AUTOFREE char *config = NULL;
    if (argc == 3) {
        char cwd[4096];
        config = argv[2][0] == '/' ? kx_strdup(argv[2])
                                   : kx_asprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".",
                                                 argv[2]);
    }
    return kxl_autostart_enable(&ctx->paths, argv[1], config) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_autostart_disable(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cli_find("autostart-disable"));
    return kxl_autostart_disable(&ctx->paths, argv[1]) < 0 ? cli_fail() : EXIT_OK;
}

/* One line per domain as it is done, with the time: what happened first is printed first. */
static void told(const char *dom, bool failed, const char *what, void *opaque)
{
    (void)opaque;
    char when[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&now, &tm));
    fprintf(failed ? stderr : stdout, "%s%s %s: %s\n", failed ? "kxl: " : "", when, dom, what);
    fflush(failed ? stderr : stdout);
}

int cmd_shutdown_host(cli_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_usage(cli_find("shutdown-host"));
    kxld_conf conf;
    if (load_conf(ctx, &conf) < 0)
        return cli_fail();
    int r = kxl_shutdown_host(&ctx->paths, (const char *const *)conf.auto_dirs, told, NULL);
    kxld_conf_dispose(&conf);
    return r < 0 ? cli_fail() : EXIT_OK;
}
