/* sv_job.c - the domain's long operations as jobs: one at a time, each with a kind, a phase, a
 * progress and a way to cancel it. A job is started by a control request (whose reply waits
 * for its end) or by the supervisor itself (on_crash's core dump), advanced by QEMU's events
 * and by the replies to queries sent without waiting, so the loop never blocks on it. What a
 * job of a kind does in QEMU is its sv_job_ops (sv_snapshot.c, sv_dump.c); the bookkeeping,
 * the progress timer and the job's events to subscribers are here. */
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/json.h"

#define SV_JOB_POLL_MS 500

typedef struct sv_job {
    const sv_job_ops *ops;
    void *priv;              /* the kind's own state, freed by ops->dispose */
    json_object *info;       /* what the job works on ({"operation", "name"}, {"file"}) */
    const char *phase;
    int percent;             /* 0 to 100 */
    bool cancelling;
    bool guest_held;         /* QEMU holds the guest while it saves or dumps its memory */
    bool polling;            /* a progress query is on its way */
    json_object *stats;      /* the kind's own figures (sv_job_stats), or NULL */
    double started;            /* kx_mono_s() */
    sv_job_done_fn done;
    void *done_opaque;
    int timer_fd;
} sv_job;

/* The job as `status` shows it and its events carry; status: "running", "completed", ... */
static json_object *job_json(const sv_job *j, const char *status)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string(j->ops->kind));
    json_object_object_foreach(j->info, key, val)
        json_object_object_add(o, key, json_object_get(val));
    json_object_object_add(o, "status", json_object_new_string(status));
    json_object_object_add(o, "phase", json_object_new_string(j->phase));
    json_object_object_add(o, "progress", json_object_new_int(j->percent));
    json_object_object_add(o, "cancelling", json_object_new_boolean(j->cancelling));
    json_object_object_add(o, "guest_held", json_object_new_boolean(j->guest_held));
    if (j->stats)
        json_object_object_add(o, "stats", json_object_get(j->stats));
    char secs[32];
    snprintf(secs, sizeof(secs), "%.1f", (kx_mono_s() - j->started));
    json_object_object_add(o, "elapsed", json_object_new_double_s((kx_mono_s() - j->started),
                                                                   secs));
    return o;
}

json_object *sv_job_status(sv *s)
{
    return s->job ? job_json(s->job, "running") : NULL;
}

int sv_job_check_idle(sv *s)
{
    if (!s->job)
        return 0;
    kx_err(KXL_ERR_BUSY, "domain '%s' is busy: %s is running (%s, %d%%)", s->name,
           s->job->ops->noun, s->job->phase, s->job->percent);
    return -1;
}

void sv_job_accepted(json_object *ret, void *opaque)
{
    sv *s = opaque;
    if (!s->job)
        return;
    if (ret)
        sv_job_progress(s, s->job->ops->accepted_phase, -1);
    else
        sv_job_finish(s, NULL);
}

static void job_poll_reply(json_object *ret, void *opaque)
{
    sv *s = opaque;
    if (!s->job)
        return;
    s->job->polling = false;
    if (ret)
        s->job->ops->progress(s, ret);
}

static void on_job_timer(int fd, uint32_t events, void *opaque)
{
    (void)events;
    sv *s = opaque;
    uint64_t ticks;
    sv_job *j = s->job;
    if (read(fd, &ticks, sizeof(ticks)) < 0 || !j)
        return;
    if (j->ops->timeout_ms && (kx_mono_s() - j->started) * 1000 >= j->ops->timeout_ms) {
        j->ops->timed_out(s);
        sv_job_finish(s, NULL);
        return;
    }
    if (!j->ops->query || j->polling || !s->qmp)
        return;
    if (qmp_send_command(s->qmp, j->ops->query, NULL, job_poll_reply, s) == 0)
        j->polling = true;
}

/* Every SV_JOB_POLL_MS (or the kind's poll_ms), progress is asked for (when the kind has a
 * query for it) and the time limit checked (when it has one). */
static void job_timer_start(sv *s, sv_job *j)
{
    long ns = (j->ops->poll_ms ? j->ops->poll_ms : SV_JOB_POLL_MS) * 1000000L;
    struct itimerspec every = {.it_interval = {.tv_nsec = ns}, .it_value = {.tv_nsec = ns}};
    bool needed = j->ops->query || j->ops->timeout_ms;
    j->timer_fd = needed ? timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK) : -1;
    if (j->timer_fd >= 0 && (timerfd_settime(j->timer_fd, 0, &every, NULL) < 0 ||
                             kx_loop_add(s->loop, j->timer_fd, EPOLLIN, on_job_timer, s) < 0)) {
        sv_event(s, "no progress for the %s job: %s", j->ops->kind, kx_err_msg());
        close(j->timer_fd);
        j->timer_fd = -1;
    }
}

void sv_job_start(sv *s, const sv_job_ops *ops, void *priv, json_object *info,
                  sv_job_done_fn done, void *opaque)
{
    sv_job *j = kx_malloc0(sizeof(*j));
    *j = (sv_job){.ops = ops, .priv = priv, .info = info, .phase = "starting", .done = done,
                  .done_opaque = opaque, .timer_fd = -1};
    j->started = kx_mono_s();
    s->job = j;
    job_timer_start(s, j);
    sv_event(s, "%s job started: %s", ops->kind, kx_json_text(info));
    sv_notify(s, "job", job_json(j, "running"), true);
}

const char *sv_job_kind(sv *s)
{
    return s->job ? s->job->ops->kind : NULL;
}

void *sv_job_priv(sv *s)
{
    return s->job ? s->job->priv : NULL;
}

bool sv_job_cancelling(sv *s)
{
    return s->job && s->job->cancelling;
}

void sv_job_progress(sv *s, const char *phase, int percent)
{
    sv_job *j = s->job;
    if (!j)
        return;
    percent = percent < 0 ? j->percent : percent > 100 ? 100 : percent;
    if (kx_streq(phase, j->phase) && percent == j->percent)
        return;
    bool new_phase = !kx_streq(phase, j->phase);
    j->phase = phase;
    j->percent = percent;
    if (new_phase)
        sv_event(s, "%s job: %s", j->ops->kind, phase);
    sv_notify(s, "job", job_json(j, "running"), false);
}

void sv_job_stats(sv *s, json_object *stats)
{
    sv_job *j = s->job;
    if (!j) {
        json_object_put(stats);
        return;
    }
    json_object_put(j->stats);
    j->stats = stats;
    sv_notify(s, "job", job_json(j, "running"), false);
}

void sv_job_owner_gone(sv *s, void *token)
{
    sv_job *j = s->job;
    if (!j || j->done != sv_control_job_done || j->done_opaque != token)
        return;
    if (j->ops->owner_gone) {
        j->ops->owner_gone(s);
        return;
    }
    sv_event(s, "%s job: the command that asked for it went away: it is cancelled",
             j->ops->kind);
    if (j->ops->cancel && sv_job_cancel(s) < 0)
        sv_event(s, "%s job: %s; it goes on", j->ops->kind, kx_err_msg());
    else if (!j->ops->cancel)
        sv_event(s, "%s job cannot be cancelled: it goes on", j->ops->kind);
}

static void job_free(sv *s, sv_job *j)
{
    if (j->timer_fd >= 0) {
        kx_loop_del(s->loop, j->timer_fd);
        close(j->timer_fd);
    }
    if (s->qmp)
        qmp_forget_replies(s->qmp, s);   /* a progress query still on its way */
    if (j->ops->dispose)
        j->ops->dispose(j->priv);
    json_object_put(j->info);
    json_object_put(j->stats);
    free(j);
}

void sv_job_finish(sv *s, json_object *ret)
{
    sv_job *j = s->job;
    if (!j) {
        json_object_put(ret);
        return;
    }
    /* the job is over before its owner hears of it: the owner may start the next one */
    s->job = NULL;
    const char *status = ret ? "completed" : j->cancelling ? "cancelled" : "failed";
    if (ret)
        j->percent = 100;
    j->phase = status;
    json_object *ev = job_json(j, status);
    if (!ret)
        json_object_object_add(ev, "error", json_object_new_string(kx_err_msg()));
    sv_event(s, "%s job %s%s%s", j->ops->kind, status, ret ? "" : ": ", ret ? "" : kx_err_msg());
    AUTOFREE char *saved = ret ? NULL : kx_strdup(kx_err_msg());
    kxl_errcode code = kx_err_code();
    sv_notify(s, "job", ev, true);
    sv_job_done_fn done = j->done;
    void *opaque = j->done_opaque;
    job_free(s, j);
    if (saved)
        kx_err(code, "%s", saved);
    if (done)
        done(s, ret, opaque);
    else
        json_object_put(ret);
}

void sv_job_abort(sv *s, const char *why)
{
    if (!s->job)
        return;
    kx_err(KXL_ERR_STATE, "%s of '%s' did not finish: %s", s->job->ops->noun, s->name, why);
    sv_job_finish(s, NULL);
}

int sv_job_cancel(sv *s)
{
    sv_job *j = s->job;
    if (!j) {
        kx_err(KXL_ERR_STATE, "domain '%s' runs no job", s->name);
        return -1;
    }
    if (j->cancelling)
        return 0;
    if (!j->ops->cancel || j->ops->cancel(s) < 0) {
        if (!j->ops->cancel)
            kx_err(KXL_ERR_STATE, "%s cannot be cancelled", j->ops->noun);
        return -1;
    }
    j->cancelling = true;
    sv_event(s, "%s job: cancel requested", j->ops->kind);
    sv_notify(s, "job", job_json(j, "running"), false);
    return 0;
}

bool sv_job_event(sv *s, const char *event, json_object *data)
{
    sv_job *j = s->job;
    if (!j)
        return false;
    if (j->ops->event && j->ops->event(s, event, data))
        return true;
    /* QEMU holds the guest while it saves, loads or dumps its memory: that is the job's
     * doing, not a pause of the domain */
    bool stop = kx_streq(event, "STOP");
    if (!j->ops->holds_guest || (!stop && !kx_streq(event, "RESUME")))
        return false;
    sv_event(s, "%s job: %s", j->ops->kind,
             stop ? "QEMU holds the guest meanwhile" : "the guest runs again");
    j->guest_held = stop;
    sv_notify(s, "job", job_json(j, "running"), false);
    return true;
}
