/* sv_lifecycle.c - the supervisor's lifecycle as data: the names of its states and events, the
 * public state each state shows as, and the one table of allowed transitions. Everything that
 * moves a domain's lifecycle goes through sv_lc_step (via sv_transition in sv_qemu.c). */
#include "supervisor/sv_lifecycle.h"

#include <stddef.h>

#include "util/cleanup.h"
#include "util/err.h"

static const struct {
    const char *name;
    kxl_state shown;   /* in the status file and `kxl list` */
} states[SV_LC__COUNT] = {
    [SV_LC_STARTING] = {"starting", KXL_STATE_STARTING},
    [SV_LC_RUNNING] = {"running", KXL_STATE_RUNNING},
    [SV_LC_PAUSED] = {"paused", KXL_STATE_PAUSED},
    [SV_LC_SHUTTING_DOWN] = {"shutting-down", KXL_STATE_DYING},
    /* as xl shows a rebooting domain: still there, running again in a moment */
    [SV_LC_RESTARTING] = {"restarting", KXL_STATE_RUNNING},
    [SV_LC_SHUTDOWN] = {"shutdown", KXL_STATE_SHUTDOWN},
    [SV_LC_CRASHED] = {"crashed", KXL_STATE_CRASHED},
    [SV_LC_DESTROYING] = {"destroying", KXL_STATE_DYING},
    [SV_LC_GONE] = {"gone", KXL_STATE_DYING},
};

static const char *const events[SV_LC__EVENT_COUNT] = {
    [SV_LC_RUN] = "run",           [SV_LC_RUN_PAUSED] = "run-paused",
    [SV_LC_PAUSE] = "pause",       [SV_LC_UNPAUSE] = "unpause",
    [SV_LC_PRESERVE] = "preserve", [SV_LC_CRASH] = "crash",
    [SV_LC_QUIT] = "quit",         [SV_LC_RESTART] = "restart",
    [SV_LC_RESTARTED] = "restarted", [SV_LC_DESTROY] = "destroy",
    [SV_LC_END] = "end",
};

/* The allowed transitions; any (from, event) pair not here is refused. */
static const struct {
    sv_lc_state from;
    sv_lc_event ev;
    sv_lc_state to;
} transitions[] = {
    {SV_LC_STARTING, SV_LC_RUN, SV_LC_RUNNING},
    {SV_LC_STARTING, SV_LC_RUN_PAUSED, SV_LC_PAUSED},
    {SV_LC_STARTING, SV_LC_PRESERVE, SV_LC_SHUTDOWN},       /* adopted: kept as shut down */
    {SV_LC_STARTING, SV_LC_CRASH, SV_LC_CRASHED},           /* adopted: crashed, or QEMU gone */
    {SV_LC_STARTING, SV_LC_QUIT, SV_LC_SHUTTING_DOWN},      /* adopted: off while unwatched */
    {SV_LC_STARTING, SV_LC_RESTART, SV_LC_RESTARTING},      /* the same, on_poweroff restart */
    {SV_LC_STARTING, SV_LC_DESTROY, SV_LC_DESTROYING},
    {SV_LC_STARTING, SV_LC_END, SV_LC_GONE},                /* the start failed */

    {SV_LC_RUNNING, SV_LC_PAUSE, SV_LC_PAUSED},
    {SV_LC_RUNNING, SV_LC_PRESERVE, SV_LC_SHUTDOWN},
    {SV_LC_RUNNING, SV_LC_CRASH, SV_LC_CRASHED},
    {SV_LC_RUNNING, SV_LC_QUIT, SV_LC_SHUTTING_DOWN},
    {SV_LC_RUNNING, SV_LC_RESTART, SV_LC_RESTARTING},
    {SV_LC_RUNNING, SV_LC_DESTROY, SV_LC_DESTROYING},

    {SV_LC_PAUSED, SV_LC_UNPAUSE, SV_LC_RUNNING},
    {SV_LC_PAUSED, SV_LC_PRESERVE, SV_LC_SHUTDOWN},
    {SV_LC_PAUSED, SV_LC_CRASH, SV_LC_CRASHED},
    {SV_LC_PAUSED, SV_LC_QUIT, SV_LC_SHUTTING_DOWN},
    {SV_LC_PAUSED, SV_LC_RESTART, SV_LC_RESTARTING},
    {SV_LC_PAUSED, SV_LC_DESTROY, SV_LC_DESTROYING},

    {SV_LC_SHUTTING_DOWN, SV_LC_DESTROY, SV_LC_DESTROYING}, /* no waiting for QEMU to quit */
    {SV_LC_SHUTTING_DOWN, SV_LC_END, SV_LC_GONE},

    {SV_LC_RESTARTING, SV_LC_RESTARTED, SV_LC_RUNNING},
    {SV_LC_RESTARTING, SV_LC_DESTROY, SV_LC_DESTROYING},
    {SV_LC_RESTARTING, SV_LC_END, SV_LC_GONE},              /* the fresh QEMU did not start */

    {SV_LC_SHUTDOWN, SV_LC_CRASH, SV_LC_CRASHED},           /* its QEMU died */
    {SV_LC_SHUTDOWN, SV_LC_DESTROY, SV_LC_DESTROYING},

    {SV_LC_CRASHED, SV_LC_QUIT, SV_LC_SHUTTING_DOWN},       /* on_crash destroy, QEMU still up */
    {SV_LC_CRASHED, SV_LC_RESTART, SV_LC_RESTARTING},
    {SV_LC_CRASHED, SV_LC_DESTROY, SV_LC_DESTROYING},
    {SV_LC_CRASHED, SV_LC_END, SV_LC_GONE},                 /* on_crash destroy, QEMU gone */

    {SV_LC_DESTROYING, SV_LC_END, SV_LC_GONE},
};

const char *sv_lc_state_name(sv_lc_state st)
{
    return (size_t)st < SV_LC__COUNT ? states[st].name : "unknown";
}

const char *sv_lc_event_name(sv_lc_event ev)
{
    return (size_t)ev < SV_LC__EVENT_COUNT ? events[ev] : "unknown";
}

kxl_state sv_lc_public_state(sv_lc_state st)
{
    return (size_t)st < SV_LC__COUNT ? states[st].shown : KXL_STATE_DYING;
}

int sv_lc_step(sv_lc_state from, sv_lc_event ev, sv_lc_state *to_r)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(transitions); i++) {
        if (transitions[i].from == from && transitions[i].ev == ev) {
            *to_r = transitions[i].to;
            return 0;
        }
    }
    kx_err(KXL_ERR_STATE, "no lifecycle transition from '%s' on '%s'", sv_lc_state_name(from),
           sv_lc_event_name(ev));
    return -1;
}

bool sv_lc_ending(sv_lc_state st)
{
    return st == SV_LC_SHUTTING_DOWN || st == SV_LC_DESTROYING || st == SV_LC_GONE;
}

bool sv_lc_job_allowed(sv_lc_state st)
{
    /* crashed: the core dump of on_crash = coredump-* */
    return st == SV_LC_RUNNING || st == SV_LC_PAUSED || st == SV_LC_CRASHED;
}
