/* cmd_events.c - kxl events: a domain's events, or every domain's, one JSON object a line as
 * they happen (kxl/events.h), for scripts and for watching a host. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "kxl/events.h"

/* One event on stdout, at once (a pipe is not kept waiting); stops when stdout is gone. */
static int print_event(const kxl_event *ev, void *opaque)
{
    (void)opaque;
    if (fputs(ev->json, stdout) < 0 || putchar('\n') < 0 || fflush(stdout) != 0)
        return 1;
    return 0;
}

int cmd_events(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"new", no_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
    unsigned flags = KXL_WATCH_HISTORY;
    int c;
    while ((c = getopt_long(argc, argv, "+n", opts, NULL)) != -1) {
        if (c != 'n')
            return cli_usage(cli_find("events"));
        flags &= ~(unsigned)KXL_WATCH_HISTORY;
    }
    if (argc - optind > 1)
        return cli_usage(cli_find("events"));
    int r = optind < argc ? kxl_domain_watch(&ctx->paths, argv[optind], flags, print_event, NULL)
                          : kxl_host_watch(&ctx->paths, flags, print_event, NULL);
    return r < 0 ? cli_fail() : EXIT_OK;   /* the domain ended, or stdout did */
}

static int ignore_event(const kxl_event *ev, void *opaque)
{
    (void)ev;
    (void)opaque;
    return 0;
}

int cli_wait_gone(cli_ctx *ctx, const char *dom)
{
    /* the watch ends with the domain's last event, "destroyed" */
    return kxl_domain_watch(&ctx->paths, dom, 0, ignore_event, NULL) < 0 ? cli_fail() : EXIT_OK;
}
