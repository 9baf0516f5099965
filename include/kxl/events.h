/* events.h - public API of libkxl: a domain's events as they happen, from its supervisor's
 * control socket ("watch"). Each event is one JSON object on one line:
 *
 *   {"event": NAME, "domain": DOM, "time": SECONDS, "seq": N, "data": {...}}
 *
 * NAME is "state" (data: from, to, cause: a step of the supervisor's lifecycle), "job" (kind,
 * status running|completed|failed|cancelled, phase, progress 0-100, and what it works on),
 * or a lifecycle event: "started" (paused, domid), "adopted" (state), "paused", "unpaused",
 * "shutdown" (reason, action), "reboot" (action), "crashed" (reason, action), "restarted",
 * "destroyed" (from: the state it ended from; the last event of a domain). TIME is wall-clock
 * seconds since the epoch, with milliseconds; SEQ counts a supervisor's events from 1. A
 * watcher that does not keep up is dropped by the supervisor after a last "dropped" line
 * (data: reason), which is then the last line it gets. */
#pragma once

#include <stdbool.h>

#include "kxl/kxl.h"

typedef struct {
    const char *domain;        /* the domain's name when it happened */
    const char *name;          /* "state", "job", "paused", ... */
    double time;               /* wall-clock seconds since the epoch */
    unsigned long long seq;    /* per supervisor, from 1 (0: a "dropped" notice) */
    const char *json;          /* the whole event: one line of JSON, without its newline */
} kxl_event;

/* Called once per event, in order (for one domain); the strings live until it returns.
 * Returns 0 to go on, nonzero to stop watching. */
typedef int (*kxl_event_fn)(const kxl_event *ev, void *opaque);

enum {
    /* Start with the events the supervisor kept from before (up to 256 a domain: its start,
     * its state changes, its jobs' starts and ends), as a console starts with its
     * scrollback. */
    KXL_WATCH_HISTORY = 1 << 0,
    /* kxl_host_watch only: fn is also called with ev NULL before each look at ROOT/run/kxl/
     * (at least every 200 ms), so a caller that must stop on its own (kxld) can, and can do
     * its own periodic work there. */
    KXL_WATCH_TICK = 1 << 1,
};

/* Calls fn for each event of the domain dom (name or id) until the domain is gone (returns
 * 0 after its "destroyed" event), or fn returns nonzero (returns that value). A supervisor
 * that was killed meanwhile is replaced (as any command does) and watched on. Blocks; -1 with
 * kxl_last_error() when dom does not exist or cannot be watched. */
int kxl_domain_watch(const kxl_paths *p, const char *dom, unsigned flags, kxl_event_fn fn,
                     void *opaque);

/* Calls fn for each event of every domain of the host (and for ticks, see KXL_WATCH_TICK),
 * until fn returns nonzero (returns that value) or an error (-1). ROOT/run/kxl/ is looked at every 200 ms: a domain that
 * appears is watched from its start, history included, whatever flags say (flags apply to
 * the domains there when the watch begins). Domains whose supervisor is gone are left alone
 * until a command adopts them. Blocks. */
int kxl_host_watch(const kxl_paths *p, unsigned flags, kxl_event_fn fn, void *opaque);
