/* cmd_migrate.c - kxl migrate and kxl migrate-receive, with xl's options; the progress of a
 * migration on the terminal (a line redrawn in place), and its figures at the end. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kxl/ops.h"

enum { OPT_DEBUG = 256, OPT_DOWNTIME, OPT_BANDWIDTH, OPT_RELOCATION, OPT_COPY_STORAGE, OPT_POSTCOPY };

typedef struct {
    bool tty;            /* stderr is a terminal: the line is redrawn */
    bool shown;          /* a progress line is on the screen */
} progress_view;

static double mib(uint64_t bytes)
{
    return (double)bytes / (1 << 20);
}

static void show_progress(const kxl_migrate_progress *pr, void *opaque)
{
    progress_view *v = opaque;
    if (strcmp(pr->phase, "handover") == 0 && pr->postcopy) {
        /* QEMU gives its figures only once it sent the rest: the "done" line has them */
        fprintf(stderr, "%smigration: postcopy after %.1f MiB in %.1f s over %u passes; the "
                "guest runs on the receiver, which fetches the rest\n", v->shown ? "\r\033[K" : "",
                mib(pr->transferred), pr->total_time_ms / 1000.0, pr->pass);
        v->shown = false;
        return;
    }
    if (kxl_migrate_progress_final(pr)) {
        char *line = kxl_migrate_summary(pr);
        fprintf(stderr, "%smigration: %s\n", v->shown ? "\r\033[K" : "", line);
        free(line);
        v->shown = false;
        return;
    }
    if (!v->tty)
        return;
    if (strcmp(pr->phase, "mirroring") == 0) {
        fprintf(stderr, "\r\033[Kmigration: copying the disks, %3d%%", pr->percent);
        v->shown = true;
        return;
    }
    fprintf(stderr, "\r\033[Kmigration: pass %u, %3d%%, %.1f of %.1f MiB sent, %.1f MiB left, "
            "%.1f MiB/s, dirtied %.1f MiB/s, expected downtime %u ms", pr->pass, pr->percent,
            mib(pr->transferred), mib(pr->total), mib(pr->remaining), mib(pr->rate),
            mib(pr->dirty_rate), pr->expected_downtime_ms);
    v->shown = true;
}

/* A whole number from 1 to max for option opt; -1 with a message otherwise. */
static long parse_count(const char *s, const char *opt, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end && v >= 1 && v <= max)
        return v;
    fprintf(stderr, "kxl: migrate: %s '%s' must be a whole number from 1 to %ld\n", opt, s, max);
    return -1;
}

/* 0, or -1 (a usage error); *host_r: --relocation's HOST[:PORT], else the second operand. */
static int parse_migrate(int argc, char **argv, kxl_migrate_opts *o, const char **host_r)
{
    static const struct option opts[] = {
        {"debug", no_argument, NULL, OPT_DEBUG},
        {"downtime", required_argument, NULL, OPT_DOWNTIME},
        {"bandwidth", required_argument, NULL, OPT_BANDWIDTH},
        {"relocation", required_argument, NULL, OPT_RELOCATION},
        {"copy-storage", no_argument, NULL, OPT_COPY_STORAGE},
        {"postcopy", no_argument, NULL, OPT_POSTCOPY},
        {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "+s:eC:p", opts, NULL)) != -1) {
        if (c == 's')
            o->ssh_command = optarg;
        else if (c == 'C')
            o->config_file = optarg;
        else if (c == 'p')
            o->paused = true;
        else if (c == OPT_DEBUG)
            o->debug = true;
        else if (c == OPT_RELOCATION)
            *host_r = optarg;
        else if (c == OPT_COPY_STORAGE)
            o->copy_storage = true;
        else if (c == OPT_POSTCOPY)
            o->postcopy = true;
        else if (c == OPT_DOWNTIME && (v = parse_count(optarg, "--downtime", 60000)) > 0)
            o->downtime_ms = (unsigned)v;
        else if (c == OPT_BANDWIDTH && (v = parse_count(optarg, "--bandwidth", 1 << 20)) > 0)
            o->bandwidth_mib = (unsigned)v;
        else if (c != 'e')   /* xl: "do not wait for the domain's death there"; kxl never does */
            return -1;
    }
    if (o->postcopy && o->copy_storage) {
        fprintf(stderr, "kxl: migrate: --postcopy and --copy-storage do not go together\n");
        return -1;
    }
    if (*host_r) {   /* --relocation HOST[:PORT] DOM: no ssh transport */
        o->relocation = true;
        return argc - optind == 1 && !o->ssh_command ? 0 : -1;
    }
    if (argc - optind != 2)
        return -1;
    *host_r = argv[optind + 1];
    return 0;
}

int cmd_migrate(cli_ctx *ctx, int argc, char **argv)
{
    kxl_migrate_opts o = {0};
    const char *host = NULL;
    if (parse_migrate(argc, argv, &o, &host) < 0)
        return cli_usage(cli_find("migrate"));
    const char *dom = argv[optind];
    progress_view v = {.tty = isatty(STDERR_FILENO)};
    int r = kxl_domain_migrate(&ctx->paths, dom, host, &o, show_progress, &v);
    if (v.shown)
        fputc('\n', stderr);
    if (r < 0)
        return cli_fail();
    if (ctx->verbose)
        fprintf(stderr, "Domain '%s' migrated to '%s'\n", dom, host);
    return EXIT_OK;
}

int cmd_migrate_receive(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"debug", no_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    kxl_migrate_receive_opts o = {0};
    int c;
    while ((c = getopt_long(argc, argv, "+pde", opts, NULL)) != -1) {
        if (c == 'p')
            o.paused = true;
        else if (c == 'd')
            o.debug = true;
        else if (c != 'e')
            return cli_usage(cli_find("migrate-receive"));
    }
    if (optind != argc)
        return cli_usage(cli_find("migrate-receive"));
    char *name = NULL;
    /* stdin and stdout are the transport: nothing else may write to stdout */
    if (kxl_domain_migrate_receive(&ctx->paths, STDIN_FILENO, STDOUT_FILENO, &o, &name) < 0)
        return cli_fail();
    if (ctx->verbose)
        fprintf(stderr, "Domain '%s' received\n", name);
    free(name);
    return EXIT_OK;
}
