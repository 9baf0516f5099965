/* sv_lifecycle.h - the supervisor's lifecycle: its states, the causes that move it from one to
 * another, and the one table of allowed transitions (sv_lifecycle.c). Pure, without I/O, so
 * the table is unit-tested (tests/unit/test_lifecycle.c). */
#pragma once

#include <stdbool.h>

#include "kxl/kxl.h"

typedef enum {
    SV_LC_STARTING,      /* QEMU is being started (paused, -S) or adopted */
    SV_LC_RUNNING,
    SV_LC_PAUSED,
    SV_LC_SHUTTING_DOWN, /* the guest stopped and its action ends the domain: QEMU quits */
    SV_LC_RESTARTING,    /* QEMU ends (or ended) for a fresh one: reboot, reset, on_* restart */
    SV_LC_SHUTDOWN,      /* the guest shut down; kept (preserve) with QEMU stopped */
    SV_LC_CRASHED,       /* the guest crashed or QEMU died: kept (preserve) or its action runs */
    SV_LC_DESTROYING,    /* destroy: QEMU is killed and its exit ends the supervisor */
    SV_LC_GONE,          /* QEMU is gone for good: the supervisor ends */
    SV_LC__COUNT
} sv_lc_state;

typedef enum {
    SV_LC_RUN,           /* QEMU is up and the guest runs (created, or adopted running) */
    SV_LC_RUN_PAUSED,    /* QEMU is up and the guest paused (create -p, adopted paused) */
    SV_LC_PAUSE,         /* pause asked, or QEMU stopped the guest on its own */
    SV_LC_UNPAUSE,
    SV_LC_PRESERVE,      /* the guest shut down and on_* = preserve keeps it */
    SV_LC_CRASH,         /* the guest panicked, or QEMU died unasked */
    SV_LC_QUIT,          /* the guest stopped and its action ends the domain */
    SV_LC_RESTART,       /* a fresh QEMU is due */
    SV_LC_RESTARTED,     /* the fresh QEMU runs the guest */
    SV_LC_DESTROY,
    SV_LC_END,           /* QEMU exited as expected, or is gone and nothing brings it back */
    SV_LC__EVENT_COUNT
} sv_lc_event;

/* Names ("running", "shutting-down", ...; "run", "restarted", ...); never NULL. */
const char *sv_lc_state_name(sv_lc_state st);
const char *sv_lc_event_name(sv_lc_event ev);
/* What `kxl list` shows for a lifecycle state (the status file's state). */
kxl_state sv_lc_public_state(sv_lc_state st);

/* The state ev leads to from `from`: 0 with *to_r set, or -1 with kx_err(KXL_ERR_STATE) when
 * the table has no such transition. */
int sv_lc_step(sv_lc_state from, sv_lc_event ev, sv_lc_state *to_r);

/* QEMU's exit is expected and ends the domain (shutting down, destroying, gone). */
bool sv_lc_ending(sv_lc_state st);
/* A long operation (a job) may run: the guest is up and nothing is ending it. */
bool sv_lc_job_allowed(sv_lc_state st);
