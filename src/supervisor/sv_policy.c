/* sv_policy.c - what happens to the domain: every lifecycle step through the table of
 * sv_lifecycle.c (sv_transition), the guest's own stops mapped to on_poweroff, on_reboot and
 * on_crash as xl's per-domain process maps them, destroy, and QEMU's end. Each step is also an
 * event for subscribers (sv_watch.c). Nothing here waits for QEMU: it is asked to quit and its
 * exit, seen through its pidfd, moves the lifecycle on; a core dump is a job. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

/* How long QEMU may take to quit when asked before it is killed. */
#define SV_QUIT_MS 10000

int sv_transition(sv *s, sv_lc_event ev)
{
    sv_lc_state from = s->lc, to;
    if (sv_lc_step(from, ev, &to) < 0) {
        sv_event(s, "refused: %s", kx_err_msg());
        return -1;
    }
    s->lc = to;
    sv_event(s, "state %s -> %s (%s)", sv_lc_state_name(from), sv_lc_state_name(to),
             sv_lc_event_name(ev));
    kxl_state shown = sv_lc_public_state(to);
    if (shown != s->st.state) {
        s->st.state = shown;
        if (status_write(s->dir, &s->st) < 0)
            sv_event(s, "cannot write status: %s", kx_err_msg());
    }
    json_object *data = sv_obj2("from", sv_lc_state_name(from), "to", sv_lc_state_name(to));
    json_object_object_add(data, "cause", json_object_new_string(sv_lc_event_name(ev)));
    sv_notify(s, "state", data, true);
    if (s->job && !sv_lc_job_allowed(to)) {
        AUTOFREE char *why = kx_asprintf("the domain is %s", sv_lc_state_name(to));
        sv_job_abort(s, why);
    }
    return 0;
}

void sv_end(sv *s)
{
    sv_lc_state from = s->lc;
    if (sv_transition(s, SV_LC_END) < 0)
        return;
    sv_notify(s, "destroyed", sv_obj2("from", sv_lc_state_name(from), NULL, NULL), true);
    kx_loop_quit(s->loop);
}

static void kill_timer_stop(sv *s)
{
    if (s->kill_timer_fd < 0)
        return;
    kx_loop_del(s->loop, s->kill_timer_fd);
    close(s->kill_timer_fd);
    s->kill_timer_fd = -1;
}

static void kill_qemu(sv *s)
{
    if (s->qemu_pid > 0)   /* never kill(0): that is our own process group */
        kill(s->qemu_pid, SIGKILL);
}

static void on_kill_timer(int fd, uint32_t events, void *opaque)
{
    (void)fd;
    (void)events;
    sv *s = opaque;
    kill_timer_stop(s);
    sv_event(s, "QEMU did not quit within %d s: killing it", SV_QUIT_MS / 1000);
    kill_qemu(s);
}

/* Asks QEMU to quit (it closes its images cleanly); its exit moves the lifecycle on, and a
 * QEMU that does not go within SV_QUIT_MS is killed. */
static void qemu_quit(sv *s)
{
    struct itimerspec once = {.it_value = {.tv_sec = SV_QUIT_MS / 1000}};
    if (s->qmp && qmp_send_command(s->qmp, "quit", NULL, NULL, NULL) == 0) {
        kill_timer_stop(s);
        s->kill_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (s->kill_timer_fd >= 0 && timerfd_settime(s->kill_timer_fd, 0, &once, NULL) == 0 &&
            kx_loop_add(s->loop, s->kill_timer_fd, EPOLLIN, on_kill_timer, s) == 0)
            return;
        sv_event(s, "no timer for QEMU's quit: killing it");
    }
    kill_qemu(s);
}

/* A fresh QEMU after the old one is gone; if it cannot start, the domain ends. */
static void qemu_restart(sv *s)
{
    sv_config_take_update(s);
    if (sv_qemu_start_again(s) < 0) {
        sv_event(s, "restart failed: %s", kx_err_msg());
        sv_end(s);
        return;
    }
    if (sv_transition(s, SV_LC_RESTARTED) == 0)
        sv_notify(s, "restarted", NULL, true);
}

void sv_qemu_exited(sv *s, const char *how)
{
    kill_timer_stop(s);
    if (s->lc == SV_LC_RESTARTING) {
        sv_event(s, "QEMU ended for the restart");
        qemu_restart(s);
        return;
    }
    if (sv_lc_ending(s->lc)) {
        sv_event(s, "QEMU exited");
        sv_end(s);
        return;
    }
    if (how)
        sv_event(s, "QEMU died unexpectedly (%s)", how);
    else
        sv_event(s, "QEMU died unexpectedly");
    sv_qemu_died(s);
}

void sv_qemu_died(sv *s)
{
    kxl_action a = s->cfg->on_crash;
    sv_job_abort(s, "QEMU died");
    /* a crashed domain is kept (preserve), or was on its way to its action (a core dump):
     * on_crash applies once more, without the dump */
    if (s->lc != SV_LC_CRASHED && sv_transition(s, SV_LC_CRASH) == 0)
        sv_notify(s, "crashed", sv_obj2("reason", "qemu-died", "action", kxl_action_to_string(a)),
                  true);
    sv_event(s, "QEMU is gone: applying on_crash '%s'", kxl_action_to_string(a));
    if (a == KXL_ACTION_PRESERVE)
        return;  /* listed as crashed until destroyed */
    if (a == KXL_ACTION_DESTROY || a == KXL_ACTION_COREDUMP_DESTROY) {
        sv_end(s);
        return;
    }
    if (sv_transition(s, SV_LC_RESTART) == 0)
        qemu_restart(s);
}

void sv_destroy(sv *s, const char *why)
{
    if (s->lc == SV_LC_DESTROYING || s->lc == SV_LC_GONE)
        return;
    sv_event(s, "destroying: %s", why);
    sv_transition(s, SV_LC_DESTROY);
    if (!s->qmp && s->qemu_pidfd < 0) {
        sv_end(s);  /* QEMU is already gone (a preserved crash) */
        return;
    }
    /* xl destroy is immediate: no guest shutdown, no waiting on QEMU */
    kill_qemu(s);
}

/* Moves the lifecycle by ev (quit or restart) and lets QEMU go: its exit does the rest. */
static void let_qemu_go(sv *s, sv_lc_event ev)
{
    if (sv_transition(s, ev) < 0)
        return;
    if (s->qemu_pidfd < 0)
        sv_qemu_exited(s, NULL);   /* it is gone already */
    else
        qemu_quit(s);
}

/* After the guest stopped itself: the domain ends once QEMU has quit. */
static void sv_quit(sv *s, const char *why)
{
    sv_event(s, "ending: %s", why);
    let_qemu_go(s, SV_LC_QUIT);
}

/* A guest that asked to reboot (or crashed, under a restart policy) gets a
 * fresh QEMU, as Xen gives it a fresh domain: no firmware state survives,
 * and resets that the guest's reboot path fires in a row (kernel, then
 * firmware) cannot race with ours. The console clients stay attached. */
void sv_hard_reset(sv *s, const char *why)
{
    sv_event(s, "hard reset: %s", why);
    let_qemu_go(s, SV_LC_RESTART);
}

/* The part of an action after its core dump (if any). */
static void finish_action(sv *s, kxl_action action, const char *why)
{
    switch (action) {
    case KXL_ACTION_RESTART:
    case KXL_ACTION_RENAME_RESTART:
    case KXL_ACTION_COREDUMP_RESTART:
    case KXL_ACTION_SOFT_RESET:
        let_qemu_go(s, SV_LC_RESTART);
        return;
    case KXL_ACTION_PRESERVE:
        if (s->lc != SV_LC_CRASHED)
            sv_transition(s, SV_LC_PRESERVE);
        return;
    case KXL_ACTION_DESTROY:
    case KXL_ACTION_COREDUMP_DESTROY:
        sv_quit(s, why);
        return;
    }
}

static void after_core_dump(sv *s, json_object *ret, void *opaque)
{
    if (!ret)
        sv_event(s, "no core dump: %s", kx_err_msg());
    json_object_put(ret);
    /* the domain went another way meanwhile (destroyed, QEMU died): that decides */
    if (sv_lc_ending(s->lc) || s->lc == SV_LC_RESTARTING || s->qemu_pidfd < 0)
        return;
    finish_action(s, (kxl_action)(intptr_t)opaque, "the core dump is written");
}

/* Guest memory as an ELF core under ROOT/var/lib/kxl/dump/, as xl's coredump-* actions do,
 * for crash(8) or gdb; the action goes on when it is written. */
static int start_core_dump(sv *s, kxl_action action)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
    AUTOFREE char *dir = kx_path_join(s->paths.lib_dir, "dump");
    AUTOFREE char *path = kx_asprintf("%s/%s-%s.core", dir, s->name, stamp);
    if (kx_mkdir_p(dir, 0700) < 0)
        return -1;
    return sv_dump_start(s, path, after_core_dump, (void *)(intptr_t)action);
}

void sv_apply_action(sv *s, kxl_action action, const char *why)
{
    sv_event(s, "%s: applying '%s'", why, kxl_action_to_string(action));
    bool dump = action == KXL_ACTION_COREDUMP_DESTROY || action == KXL_ACTION_COREDUMP_RESTART;
    if (dump && start_core_dump(s, action) == 0)
        return;
    if (dump)
        sv_event(s, "no core dump: %s", kx_err_msg());
    finish_action(s, action, why);
}

static void handle_shutdown_event(sv *s, json_object *data)
{
    const char *reason = kx_json_str(data, "reason", "");
    if (sv_lc_ending(s->lc) || s->lc == SV_LC_RESTARTING || !kx_json_bool(data, "guest", false))
        return;
    if (strcmp(reason, "guest-reset") == 0) {
        sv_notify(s, "reboot", sv_obj2("action", kxl_action_to_string(s->cfg->on_reboot), NULL,
                                    NULL), true);
        sv_apply_action(s, s->cfg->on_reboot, "the guest rebooted");
    } else if (strcmp(reason, "guest-panic") != 0) {
        sv_notify(s, "shutdown", sv_obj2("reason", "poweroff", "action",
                                      kxl_action_to_string(s->cfg->on_poweroff)), true);
        sv_apply_action(s, s->cfg->on_poweroff, "the guest powered off");
    }
}

void sv_qmp_event(sv *s, const char *event, json_object *data)
{
    sv_event(s, "QMP event %s %s", event, data ? kx_json_text(data) : "");
    sv_mirror_reap(s, event, data);
    if (sv_job_event(s, event, data))
        return;
    if (strcmp(event, "SHUTDOWN") == 0) {
        handle_shutdown_event(s, data);
    } else if (strcmp(event, "GUEST_PANICKED") == 0) {
        /* a second report, or one while the domain goes another way, changes nothing */
        if (s->lc == SV_LC_CRASHED || s->lc == SV_LC_RESTARTING || sv_lc_ending(s->lc) ||
            sv_transition(s, SV_LC_CRASH) < 0)
            return;
        sv_notify(s, "crashed", sv_obj2("reason", "guest-panic", "action",
                                     kxl_action_to_string(s->cfg->on_crash)), true);
        sv_apply_action(s, s->cfg->on_crash, "the guest crashed");
    } else if (strcmp(event, "STOP") == 0 || strcmp(event, "RESUME") == 0) {
        sv_guest_runs(s, strcmp(event, "RESUME") == 0);
    } else if (strcmp(event, "BALLOON_CHANGE") == 0) {
        sv_balloon_changed(s, data);
    }
}

void sv_guest_runs(sv *s, bool runs)
{
    /* after a shutdown or a panic the state has moved on: QEMU's stop is not a pause */
    if (s->lc != (runs ? SV_LC_PAUSED : SV_LC_RUNNING))
        return;
    if (sv_transition(s, runs ? SV_LC_UNPAUSE : SV_LC_PAUSE) == 0)
        sv_notify(s, runs ? "unpaused" : "paused", NULL, true);
}
