/* cmd_top.c - kxl top: xentop's options; batch frames as text (-b) or JSON (--json), or the
 * interactive screen (top_curses.c). The numbers come from libkxl (kxl_stats_read) and their
 * text from its pure formatters, so what scripts parse is golden-tested there. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/top.h"
#include "util/cleanup.h"
#include "util/json.h"

/* A positive number of seconds, at most a day; -1 with a message otherwise. */
static int parse_delay(const char *s, double *delay_r)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(d) || d < 0.1 || d > 86400) {
        fprintf(stderr, "kxl: top: delay '%s' must be seconds from 0.1 to 86400\n", s);
        return -1;
    }
    *delay_r = d;
    return 0;
}

static int parse_iterations(const char *s, long *n_r)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < 1) {
        fprintf(stderr, "kxl: top: iterations '%s' must be a whole number of at least 1\n", s);
        return -1;
    }
    *n_r = n;
    return 0;
}

static int parse_opts(int argc, char **argv, top_opts *o)
{
    static const struct option opts[] = {
        {"batch", no_argument, NULL, 'b'},         {"iterations", required_argument, NULL, 'i'},
        {"delay", required_argument, NULL, 'd'},   {"networks", no_argument, NULL, 'n'},
        {"vbds", no_argument, NULL, 'x'},          {"vcpus", no_argument, NULL, 'v'},
        {"repeat-header", no_argument, NULL, 'r'}, {"full-name", no_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "+bi:d:nxvrf", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o->batch = true; break;
        case 'i': if (parse_iterations(optarg, &o->iterations) < 0) return -2; break;
        case 'd': if (parse_delay(optarg, &o->delay) < 0) return -2; break;
        case 'n': o->view.networks = true; break;
        case 'x': o->view.vbds = true; break;
        case 'v': o->view.vcpus = true; break;
        case 'r': o->view.repeat_header = true; break;
        case 'f': o->view.full_name = true; break;
        case 'j': o->json = true; break;
        default: return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

int top_next_frame(const top_opts *o, const kxl_stats_frame *prev, kxl_stats_frame *frame_r)
{
    if (kxl_stats_read(o->reader, frame_r) < 0)
        return -1;
    kxl_top_rates(frame_r, prev);
    kxl_top_sort(frame_r, o->view.sort);
    return 0;
}

static void print_frame(const top_opts *o, const kxl_stats_frame *f)
{
    if (o->json) {
        AUTOPTR(json_object) j = kxl_top_frame_json(f);
        printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
        AUTOFREE char *summary = kxl_top_summary(f);
        AUTOFREE char *header = kxl_top_header(&o->view, NULL, NULL);
        AUTOFREE char *rows = kxl_top_rows(f, &o->view);
        printf("%s%s\n%s", summary, header, rows);
    }
    fflush(stdout);
}

/* Sleeps until the monotonic time `until`. */
static void sleep_until(double until)
{
    struct timespec ts = {.tv_sec = (time_t)until,
                          .tv_nsec = (long)((until - floor(until)) * 1e9)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Frames at a steady pace: each is due delay seconds after the one before it was. */
static int run_batch(const top_opts *o)
{
    kxl_stats_frame prev = {0}, cur;
    int status = EXIT_OK;
    for (long i = 0; o->iterations == 0 || i < o->iterations; i++) {
        if (i)
            sleep_until(prev.mono + o->delay);
        if (top_next_frame(o, i ? &prev : NULL, &cur) < 0) {
            status = cli_fail();
            break;
        }
        print_frame(o, &cur);
        kxl_stats_frame_dispose(&prev);
        prev = cur;
    }
    kxl_stats_frame_dispose(&prev);
    return status;
}

int cmd_top(cli_ctx *ctx, int argc, char **argv)
{
    top_opts o = {.delay = 3.0, .view = {.sort = KXL_TOP_NAME}};
    int r = parse_opts(argc, argv, &o);
    if (r == -2)
        return EXIT_USAGE;
    if (r < 0)
        return cli_usage(cli_find("top"));
    bool screen = !o.batch && !o.json;
    if (screen && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))) {
        fprintf(stderr, "kxl: top: the interactive screen needs a terminal: use -b (batch, "
                        "plain text) or --json\n");
        return EXIT_USAGE;
    }
    o.reader = kxl_stats_reader_new(&ctx->paths);
    r = screen ? top_interactive(&o) : run_batch(&o);
    kxl_stats_reader_free(o.reader);
    return r;
}
