/* top.h - what kxl top's batch loop (cmd_top.c) and its screen (top_curses.c) share. */
#pragma once

#include <stdbool.h>

#include "cli/cli.h"
#include "kxl/stats.h"

typedef struct {
    bool batch;          /* -b: plain text, frame after frame */
    bool json;           /* --json: one JSON object a frame, a line each */
    long iterations;     /* -i: frames to show; 0: until interrupted (or q) */
    double delay;        /* -d: seconds between frames */
    kxl_top_view view;
    kxl_stats_reader *reader;
} top_opts;

/* A frame read and prepared for showing: rates from prev (NULL: the first frame), sorted.
 * 0, or -1 with the library error set. */
int top_next_frame(const top_opts *o, const kxl_stats_frame *prev, kxl_stats_frame *frame_r);
/* The interactive screen (ncurses) until q; an exit status. */
int top_interactive(top_opts *o);
