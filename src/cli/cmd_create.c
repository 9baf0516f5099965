/* cmd_create.c - kxl create: parse the config, then start the domain, print
 * its QEMU command line (-n) or its resolved config (-N). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_keys.h"
#include "cli/cli.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

typedef struct {
    bool console, paused, quiet, argv_only, debug, foreground, vnc, vnc_autopass;
    const char *file;
} create_opts;

/* Prints an argument for a POSIX shell, quoting only when needed. */
static void print_shell_word(const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "-_=,./:@+%") == strlen(s)) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*p);
    }
    putchar('\'');
}

/* One option per line, as in the golden files, ready to paste into a shell. */
static int print_argv(cli_ctx *ctx, const kxl_domcfg *cfg)
{
    char **argv;
    AUTOFREE char *notice = NULL;
    if (kxl_domain_qemu_argv(&ctx->paths, cfg, &argv, &notice) < 0)
        return cli_fail();
    if (notice)
        fprintf(stderr, "%s\n", notice);
    for (size_t i = 0; argv[i]; i++) {
        if (i > 0)
            fputs(argv[i][0] == '-' ? " \\\n    " : " ", stdout);
        print_shell_word(argv[i]);
    }
    putchar('\n');
    kxl_argv_free(argv);
    return EXIT_OK;
}

static int print_json(const kxl_domcfg *cfg)
{
    AUTOPTR(json_object) o = cfg_domcfg_to_json(cfg);
    cfg_json_hide_secrets(o);
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    return EXIT_OK;
}

static int parse_opts(int argc, char **argv, create_opts *o)
{
    static const struct option longs[] = {{"quiet", no_argument, NULL, 'q'},
                                          {"dryrun", no_argument, NULL, 'n'},
                                          {"defconfig", required_argument, NULL, 'f'},
                                          {"vncviewer", no_argument, NULL, 'V'},
                                          {"vncviewer-autopass", no_argument, NULL, 'A'},
                                          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "+cpqnf:edFVA", longs, NULL)) != -1) {
        switch (c) {
        case 'c': o->console = true; break;
        case 'p': o->paused = true; break;
        case 'q': o->quiet = true; break;
        case 'n': o->argv_only = true; break;
        case 'f': o->file = optarg; break;
        case 'e': break;  /* xl: "do not wait in the background"; kxl never does */
        case 'd': o->debug = true; break;
        case 'F': o->foreground = true; break;
        case 'V': o->vnc = true; break;
        case 'A': o->vnc = o->vnc_autopass = true; break;
        default: return -1;
        }
    }
    if (o->console && (o->vnc || o->foreground))
        return -1;   /* one thing to stay attached to */
    if (!o->file && optind < argc && !strchr(argv[optind], '='))
        o->file = argv[optind++];
    return o->file ? 0 : -1;
}

int cmd_create(cli_ctx *ctx, int argc, char **argv)
{
    create_opts o = {0};
    if (parse_opts(argc, argv, &o) < 0)
        return cli_usage(cli_find("create"));
    if (!o.quiet)
        fprintf(stderr, "Parsing config from %s\n", o.file);
    bool dry = o.argv_only || ctx->dryrun;
    AUTOPTR(kxl_domcfg) cfg = cfg_load(o.file, argv + optind, kxl_host_cpus(),
                                       dry ? 0 : CFG_LOAD_CHECK_FILES);
    if (!cfg)
        return cli_fail();
    if (ctx->dryrun)
        return print_json(cfg);
    if (o.debug) {   /* xl -d: the config as it will be used, then the create */
        AUTOPTR(json_object) shown = cfg_domcfg_to_json(cfg);
        cfg_json_hide_secrets(shown);
        fprintf(stderr, "%s\n", json_object_to_json_string_ext(
                                     shown, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    if (o.argv_only)
        return print_argv(ctx, cfg);
    kxl_create_opts copts = {.paused = o.paused};
    unsigned domid;
    if (kxl_domain_create(&ctx->paths, cfg, &copts, &domid) < 0)
        return cli_fail();
    if (ctx->verbose)
        fprintf(stderr, "Domain '%s' created with id %u\n", cfg->name, domid);
    if (o.console)
        return cli_console_attach(ctx, cfg->name, CLI_DETACH_KEY);
    if (o.vnc)
        return cli_vncviewer_run(ctx, cfg->name, o.vnc_autopass);
    if (o.foreground)
        return cli_wait_gone(ctx, cfg->name);
    return EXIT_OK;
}

/* xl config-update DOM [-f FILE | FILE] [KEY=VALUE...]: read and checked as create reads a
 * config; the domain takes it at its next restart. */
int cmd_config_update(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longs[] = {{"defconfig", required_argument, NULL, 'f'},
                                          {NULL, 0, NULL, 0}};
    if (argc < 3 || argv[1][0] == '-')
        return cli_usage(cli_find("config-update"));
    const char *dom = argv[1], *file = NULL;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "+f:", longs, NULL)) != -1) {
        if (c != 'f')
            return cli_usage(cli_find("config-update"));
        file = optarg;
    }
    if (!file && optind < argc && !strchr(argv[optind], '='))
        file = argv[optind++];
    if (!file)
        return cli_usage(cli_find("config-update"));
    fprintf(stderr, "Parsing config from %s\n", file);
    AUTOPTR(kxl_domcfg) cfg = cfg_load(file, argv + optind, kxl_host_cpus(),
                                       CFG_LOAD_CHECK_FILES);
    if (!cfg || kxl_domain_config_update(&ctx->paths, dom, cfg) < 0)
        return cli_fail();
    return EXIT_OK;
}
