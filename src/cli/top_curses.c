/* top_curses.c - kxl top's interactive screen, with xentop's keys: d delay, s/S sort column,
 * n networks, x disks, v vCPUs, r repeat header, q quit. Each frame is drawn with erase() and
 * refresh(), so curses sends only what changed (no flicker); a resize redraws at once. */
#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/top.h"
#include "util/cleanup.h"
#include "util/clock.h"

/* Draws text line by line from *row, each cut to the screen's width; stops at the last row
 * but one (the key help lives there). */
static void draw_lines(int *row, const char *text, int attr)
{
    while (*text && *row < LINES - 1) {
        size_t len = strcspn(text, "\n");
        attron(attr);
        mvaddnstr(*row, 0, text, (int)(len < (size_t)COLS ? len : (size_t)COLS));
        attroff(attr);
        (*row)++;
        text += len + (text[len] == '\n');
    }
}

static void draw(const top_opts *o, const kxl_stats_frame *f)
{
    erase();
    int row = 0;
    AUTOFREE char *summary = kxl_top_summary(f);
    draw_lines(&row, summary, A_NORMAL);
    size_t at = 0, len = 0;
    AUTOFREE char *header = kxl_top_header(&o->view, &at, &len);
    int header_row = row;
    draw_lines(&row, header, A_REVERSE);
    if (header_row < row && at < (size_t)COLS)   /* the sorted column in bold, as xentop */
        mvchgat(header_row, (int)at, (int)len, A_REVERSE | A_BOLD, 0, NULL);
    AUTOFREE char *rows = kxl_top_rows(f, &o->view);
    draw_lines(&row, rows, A_NORMAL);
    mvprintw(LINES - 1, 0, "Delay %g s  d delay  s/S sort  n networks  x disks  v vCPUs  "
             "r repeat header  q quit", o->delay);
    refresh();
}

/* d: asks for a new delay on the last line; a bad answer keeps the old one. */
static void ask_delay(top_opts *o)
{
    char buf[32] = "";
    move(LINES - 1, 0);
    clrtoeol();
    mvprintw(LINES - 1, 0, "Delay(sec): ");
    echo();
    nodelay(stdscr, FALSE);
    getnstr(buf, (int)sizeof(buf) - 1);
    noecho();
    nodelay(stdscr, TRUE);
    char *end;
    double d = strtod(buf, &end);
    if (end != buf && *end == '\0' && d >= 0.1 && d <= 86400)
        o->delay = d;
}

/* Applies key; true when the screen should be redrawn, *quit set by q. */
static bool handle_key(int key, top_opts *o, bool *quit)
{
    kxl_top_view *v = &o->view;
    switch (key) {
    case 'q': case 'Q': *quit = true; return false;
    case 'd': case 'D': ask_delay(o); return true;
    case 's': v->sort = (kxl_top_field)((v->sort + 1) % KXL_TOP__COUNT); return true;
    case 'S': v->sort = (kxl_top_field)((v->sort + KXL_TOP__COUNT - 1) % KXL_TOP__COUNT);
        return true;
    case 'n': case 'N': v->networks = !v->networks; return true;
    case 'x': case 'X': v->vbds = !v->vbds; return true;
    case 'v': case 'V': v->vcpus = !v->vcpus; return true;
    case 'r': case 'R': v->repeat_header = !v->repeat_header; return true;
    case KEY_RESIZE: return true;
    default: return false;
    }
}

/* Waits for a key until the monotonic time due; redraws what a key or a resize changes. */
static bool wait_keys(top_opts *o, kxl_stats_frame *f, double due)
{
    bool quit = false;
    double left;
    while (!quit && (left = due - kx_mono_s()) > 0) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno != EINTR)
            break;
        /* a resize interrupts poll (SIGWINCH): getch then says KEY_RESIZE */
        for (int key; !quit && (key = getch()) != ERR;) {
            if (handle_key(key, o, &quit)) {
                kxl_top_sort(f, o->view.sort);
                draw(o, f);
            }
        }
    }
    return quit;
}

int top_interactive(top_opts *o)
{
    kxl_stats_frame prev = {0}, cur;
    if (!initscr()) {
        fprintf(stderr, "kxl: top: cannot set up the terminal (is TERM right?)\n");
        return EXIT_ERR;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    int status = EXIT_OK;
    for (long i = 0; o->iterations == 0 || i < o->iterations; i++) {
        if (top_next_frame(o, i ? &prev : NULL, &cur) < 0) {
            endwin();
            status = cli_fail();
            kxl_stats_frame_dispose(&prev);
            return status;
        }
        kxl_stats_frame_dispose(&prev);
        prev = cur;
        draw(o, &prev);
        if (wait_keys(o, &prev, prev.mono + o->delay))
            break;
    }
    endwin();
    kxl_stats_frame_dispose(&prev);
    return status;
}
