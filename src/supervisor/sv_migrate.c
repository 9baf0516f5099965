/* sv_migrate.c - the supervisor's part of kxl migrate, on both hosts.
 *
 * Sending: "migrate-header" tells what the stream's header records (sv_state_header, as a
 * save's); "migrate" is a job that gets the transport's descriptor with its request
 * (SCM_RIGHTS) and runs QEMU's live migration into it (migrate fd:, the guest running during
 * the passes) with progress from query-migrate; with "tls_hostname" (a relocation server's
 * stream connection), QEMU's own TLS wraps it (sv_tls.c). When QEMU says "completed" the guest is
 * stopped and its images inactivated (released to the receiver), and the job waits in its
 * "handover" phase for the sender's verdict: "migrate-commit" (the receiver runs it: this
 * copy goes) or job-cancel (the receiver failed before the go: this copy runs again, QEMU's
 * cont taking its images back). A sender that vanishes before completion cancels the
 * migration; one that vanishes during the handover leaves the guest paused, since only the
 * sender knew whether the receiver was told to go.
 *
 * Receiving: the domain starts from the stream like a restore (sv_restore.c), but the pipe to
 * the creating `kxl migrate-receive` stays open as a lifeline until "incoming-commit": if the
 * receiver dies before the sender's go, the domain is destroyed, so nothing is left. The
 * receiving QEMU activates its images only at cont (late-block-activate), after the go. */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/mig_header.h"
#include "supervisor/sv.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/json.h"

#define MIGRATE_FDNAME "kxl-migrate"

typedef struct {
    sv *s;
    bool tls;           /* QEMU's own TLS on the stream (kxl migrate --relocation) */
    sv_mirror *mirror;  /* --copy-storage: the disks' mirrors (sv_mirror.c), or NULL */
    bool migrating;     /* QEMU was asked to migrate (with mirrors: once they converged) */
    bool switching;     /* QEMU paused before its switchover: the mirrors complete */
    bool called_off;    /* cancelled, or a mirror failed: QEMU's migration is cancelled */
    bool starting;      /* the mirrors are being started: their events wait (mirror_step) */
    /* --postcopy: after the first pass the guest runs on the receiver and fetches what it
     * lacks; from then on a failure loses it (neither side has all of it) */
    bool postcopy;
    bool postcopy_active;  /* QEMU switched to postcopy: the handover came then */
    bool sent_all;         /* QEMU completed (with postcopy, after the handover) */
    long long postcopy_at;   /* when QEMU said postcopy-active (kx_mono_ms) */
    long long postcopy_ms;   /* from then until QEMU said completed */
    json_object *final;    /* ... and its figures then (migrate_figures), or NULL */
    void *commit_token;    /* migrate-commit waiting for sent_all, or NULL */
    bool was_running;   /* the guest ran when the migration began */
    bool completed;     /* QEMU sent it all: the guest is stopped, its images released */
    int final_queries;  /* query-migrate asked since it completed */
} migrate_job;

json_object *sv_migrate_header(sv *s, json_object *args)
{
    json_object *config = NULL;
    json_object_object_get_ex(args, "config", &config);
    /* the migration's first call: a QEMU that cannot answer fails it at once */
    if (sv_qemu_answering(s, "migrate") < 0)
        return NULL;
    mig_header h = {0};
    /* --copy-storage: the disks the receiver may make empty, with their sizes */
    if (kx_json_bool(args, "copy_storage", false) && !(h.copy_storage = sv_mirror_disks(s)))
        return NULL;
    h.postcopy = kx_json_bool(args, "postcopy", false);
    json_object *o = sv_state_header(s, config, &h) == 0 ? mig_header_to_json(&h) : NULL;
    mig_header_dispose(&h);
    return o;
}

/* The guest runs again if it ran: after a failed migration QEMU resumes it by itself, after
 * a completed one cont takes the images back. */
static void migrate_resume(sv *s, migrate_job *j)
{
    AUTOPTR(json_object) st = NULL;
    if (!j->was_running || !s->qmp ||
        (qmp_execute(s->qmp, "query-status", NULL, &st, 5000) == 0 &&
         kx_streq(kx_json_str(st, "status", ""), "running")))
        return;
    if (qmp_execute(s->qmp, "cont", NULL, NULL, 10000) < 0)
        sv_event(s, "migrate: cannot let the guest run again: %s", kx_err_msg());
}

/* Ends the job as failed with the error set, the guest as it was before. */
static void migrate_fail(sv *s, migrate_job *j)
{
    kxl_errcode code = kx_err_code();
    AUTOFREE char *why = kx_strdup(kx_err_msg());
    if (j->mirror)
        sv_mirror_abort(s, j->mirror);   /* their NBD nodes go as they end (sv_mirror_reap) */
    if (j->postcopy_active) {   /* this copy is stale: the receiver's guest ran on */
        if (j->commit_token)
            sv_control_answer(s, TAKE_PTR(j->commit_token), NULL);
        kx_err(code, "the migration of '%s' failed during postcopy (%s): the guest is lost; "
               "this copy stays paused and is stale", s->name, why);
        sv_job_finish(s, NULL);
        return;
    }
    migrate_resume(s, j);
    kx_err(code, "%s", why);
    sv_job_finish(s, NULL);
}

static double double_member(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

static json_object *int_member(json_object *o, const char *key, int64_t v)
{
    json_object_object_add(o, key, json_object_new_int64(v));
    return o;
}

/* query-migrate's figures as the job's stats: bytes, bytes/s, the pass, milliseconds. */
static json_object *migrate_figures(json_object *ret)
{
    json_object *ram = NULL, *o = json_object_new_object();
    json_object_object_get_ex(ret, "ram", &ram);
    int64_t page = kx_json_int(ram, "page-size", 4096);
    int_member(o, "transferred", kx_json_int(ram, "transferred", 0));
    int_member(o, "remaining", kx_json_int(ram, "remaining", 0));
    int_member(o, "total", kx_json_int(ram, "total", 0));
    int_member(o, "rate", (int64_t)(double_member(ram, "mbps") * 1e6 / 8));
    int_member(o, "dirty_rate", kx_json_int(ram, "dirty-pages-rate", 0) * page);
    int_member(o, "pass", kx_json_int(ram, "dirty-sync-count", 0));
    int_member(o, "expected_downtime_ms", kx_json_int(ret, "expected-downtime", 0));
    /* QEMU gives it once completed: under postcopy, only when the rest of the memory is
     * sent (the guest stopped while it switched over), not at the handover */
    if (json_object_object_get_ex(ret, "downtime", NULL))
        int_member(o, "downtime_ms", kx_json_int(ret, "downtime", 0));
    int_member(o, "total_time_ms", kx_json_int(ret, "total-time", 0));
    if (kx_streq(kx_json_str(ret, "status", ""), "postcopy-active"))
        json_object_object_add(o, "postcopy", json_object_new_boolean(true));
    return o;
}

static void migrate_progress(sv *s, json_object *ret)
{
    migrate_job *j = sv_job_priv(s);
    if (j->mirror && !j->migrating) {
        sv_mirror_progress(s);
        return;
    }
    AUTOPTR(json_object) f = migrate_figures(ret);
    int64_t total = kx_json_int(f, "total", 0), left = kx_json_int(f, "remaining", 0);
    if (j->completed || !kx_streq(kx_json_str(ret, "status", ""), "active") || total <= 0)
        return;
    sv_job_progress(s, sv_job_cancelling(s) ? "cancelling" : "transferring",
                    (int)((total - left) * 100 / total));
    sv_job_stats(s, json_object_get(f));
}

/* query-migrate once QEMU completed: the final figures (downtime, total time) go with the
 * handover, which the sender waits for. */
static void migrate_final_figures(json_object *ret, void *opaque)
{
    sv *s = opaque;
    migrate_job *j = sv_job_priv(s);
    if (!j)
        return;
    /* QEMU's event comes a moment before its thread records the totals: asked again */
    if (ret && kx_streq(kx_json_str(ret, "status", ""), "completed") &&
        kx_json_int(ret, "total-time", 0) == 0 && j->final_queries++ < 50 &&
        qmp_send_command(s->qmp, "query-migrate", NULL, migrate_final_figures, s) == 0)
        return;
    if (ret)
        sv_job_stats(s, migrate_figures(ret));
    sv_job_progress(s, "handover", 100);
}

/* query-migrate after QEMU said "failed": its reason. */
static void migrate_failed_reply(json_object *ret, void *opaque)
{
    sv *s = opaque;
    migrate_job *j = sv_job_priv(s);
    if (!j)
        return;
    const char *desc = ret ? kx_json_str(ret, "error-desc", NULL) : NULL;
    kx_err(KXL_ERR_QEMU, "QEMU could not send '%s': %s", s->name,
           desc ? desc : "no reason given");
    migrate_fail(s, j);
}

static void start_migration(sv *s, migrate_job *j);

/* A mirror's news: the memory follows once all converged, the switchover once all completed;
 * a failure calls the migration off (QEMU's, if it began: its "cancelled" ends the job). */
static void mirror_step(sv *s, migrate_job *j)
{
    const char *err = sv_mirror_error(j->mirror);
    if (j->starting)
        return;   /* sv_migrate looks once all are started */
    if (err && !j->migrating) {
        if (j->called_off)
            kx_err(KXL_ERR_STATE, "the migration of '%s' was cancelled", s->name);
        else
            kx_err(KXL_ERR_STATE, "cannot migrate '%s': %s", s->name, err);
        migrate_fail(s, j);
    } else if (err && !j->called_off) {
        j->called_off = true;
        qmp_send_command(s->qmp, "migrate_cancel", NULL, NULL, NULL);
    } else if (!err && !j->migrating && sv_mirror_ready(j->mirror)) {
        sv_event(s, "migrate: the disks' copies converged; memory follows");
        start_migration(s, j);
    } else if (!err && j->switching && sv_mirror_done(j->mirror)) {
        sv_event(s, "migrate: the disks' copies are complete");
        qmp_send_command(s->qmp, "migrate-continue", sv_obj2("state", "pre-switchover", NULL,
                                                             NULL), NULL, NULL);
    }
}

/* QEMU paused the guest before its switchover (pause-before-switchover, --copy-storage
 * only): the mirrors complete with nothing more to copy, then QEMU goes on. */
static void migrate_pre_switchover(sv *s, migrate_job *j)
{
    j->switching = true;
    sv_job_progress(s, "completing disks", -1);
    if (j->mirror)
        sv_mirror_complete(s, j->mirror);
    else
        qmp_send_command(s->qmp, "migrate-continue", sv_obj2("state", "pre-switchover", NULL,
                                                             NULL), NULL, NULL);
}

/* The end of a postcopy migration: the job completes with QEMU's final figures, also the
 * answer to migrate-commit, and this copy goes. */
static void postcopy_finish(sv *s, migrate_job *j, void *token)
{
    json_object *figures = json_object_get(j->final);
    sv_job_finish(s, figures ? json_object_get(figures) : json_object_new_object());
    sv_destroy(s, "migrated: the receiver runs it");
    sv_control_answer(s, token, figures ? figures : json_object_new_object());
}

/* query-migrate once QEMU sent the rest: the final figures, with postcopy_ms (the time from
 * the switch to postcopy until QEMU completed) instead of QEMU's downtime, which it does not
 * measure for postcopy. */
static void postcopy_final_figures(json_object *ret, void *opaque)
{
    sv *s = opaque;
    migrate_job *j = sv_job_priv(s);
    if (!j)
        return;
    /* QEMU's event comes a moment before its thread records the totals: asked again */
    if (ret && kx_json_int(ret, "total-time", 0) == 0 && j->final_queries++ < 50 &&
        qmp_send_command(s->qmp, "query-migrate", NULL, postcopy_final_figures, s) == 0)
        return;
    j->sent_all = true;
    j->final = ret ? migrate_figures(ret) : json_object_new_object();
    json_object_object_del(j->final, "downtime_ms");
    int_member(j->final, "postcopy_ms", j->postcopy_ms);
    json_object_object_add(j->final, "postcopy", json_object_new_boolean(true));
    sv_job_stats(s, json_object_get(j->final));
    sv_event(s, "migrate: QEMU sent the rest of the guest's memory");
    if (j->commit_token)
        postcopy_finish(s, j, TAKE_PTR(j->commit_token));
}

/* --postcopy: the guest runs on the receiver now; QEMU sends the rest, and this copy goes
 * once it has (a migrate-commit that came meanwhile waits for it). */
static void migrate_sent_all(sv *s, migrate_job *j)
{
    /* QEMU measures no downtime for postcopy (it says 0): what is true is the time the
     * guest ran on the receiver while pages were still here, from the switch to the end */
    j->postcopy_ms = kx_mono_ms() - j->postcopy_at;
    j->final_queries = 0;
    if (qmp_send_command(s->qmp, "query-migrate", NULL, postcopy_final_figures, s) < 0)
        postcopy_final_figures(NULL, s);
}

/* After the first pass over memory (QEMU's second dirty sync), postcopy is asked for. */
static bool migrate_pass(sv *s, migrate_job *j, json_object *data)
{
    if (j->postcopy && !j->postcopy_active && kx_json_int(data, "pass", 0) == 2) {
        sv_event(s, "migrate: the first pass is sent; postcopy begins");
        qmp_send_command(s->qmp, "migrate-start-postcopy", NULL, NULL, NULL);
    }
    return true;
}

static bool migrate_event(sv *s, const char *event, json_object *data)
{
    migrate_job *j = sv_job_priv(s);
    if (j->mirror && sv_mirror_event(j->mirror, event, data)) {
        mirror_step(s, j);
        return true;
    }
    if (kx_streq(event, "MIGRATION_PASS"))
        return migrate_pass(s, j, data);
    if (!kx_streq(event, "MIGRATION"))
        return false;
    const char *status = kx_json_str(data, "status", "");
    if (kx_streq(status, "completed") && j->postcopy_active) {
        migrate_sent_all(s, j);
    } else if (kx_streq(status, "postcopy-paused")) {
        kx_err(KXL_ERR_STATE, "QEMU lost the receiver");
        migrate_fail(s, j);
    } else if (kx_streq(status, "pre-switchover")) {
        migrate_pre_switchover(s, j);
    } else if (kx_streq(status, "completed") || kx_streq(status, "postcopy-active")) {
        j->postcopy_active = kx_streq(status, "postcopy-active");
        if (j->postcopy_active)
            j->postcopy_at = kx_mono_ms();
        j->completed = true;
        sv_event(s, "migrate: QEMU sent the domain; its images are released");
        if (qmp_send_command(s->qmp, "query-migrate", NULL, migrate_final_figures, s) < 0)
            migrate_final_figures(NULL, s);
    } else if (kx_streq(status, "cancelled")) {
        const char *err = j->mirror ? sv_mirror_error(j->mirror) : NULL;
        if (err && !sv_job_cancelling(s))
            kx_err(KXL_ERR_STATE, "cannot migrate '%s': %s", s->name, err);
        else
            kx_err(KXL_ERR_STATE, "the migration of '%s' was cancelled", s->name);
        migrate_fail(s, j);
    } else if (kx_streq(status, "failed") &&
               qmp_send_command(s->qmp, "query-migrate", NULL, migrate_failed_reply, s) < 0) {
        migrate_fail(s, j);
    }
    return true;
}

/* The reply to cont (or query-status) of a call-off after completion. */
static void migrate_called_off(json_object *ret, void *opaque)
{
    (void)ret;
    sv *s = opaque;
    migrate_job *j = sv_job_priv(s);
    if (!j)
        return;
    kx_err(KXL_ERR_STATE, "the migration of '%s' was called off after QEMU had sent it: it %s "
           "here again", s->name, j->was_running ? "runs" : "is paused");
    sv_job_finish(s, NULL);
}

/* Before completion QEMU cancels (and the guest goes on); after it, this copy takes its
 * images back and runs again, answered asynchronously (the job must outlive this call). */
static int migrate_cancel(sv *s)
{
    migrate_job *j = sv_job_priv(s);
    if (j->postcopy_active) {
        kx_err(KXL_ERR_STATE, "the migration of '%s' is in postcopy: the guest runs on the "
               "receiver, and cannot come back", s->name);
        return -1;
    }
    if (!j->completed) {
        sv_job_progress(s, "cancelling", -1);
        j->called_off = true;
        if (!j->migrating && j->mirror) {   /* the mirrors' end ends the job (mirror_step) */
            sv_mirror_abort(s, j->mirror);
            return 0;
        }
        return qmp_send_command(s->qmp, "migrate_cancel", NULL, NULL, NULL);
    }
    sv_job_progress(s, "resuming", -1);
    return qmp_send_command(s->qmp, j->was_running ? "cont" : "query-status", NULL,
                            migrate_called_off, s);
}

static void migrate_owner_gone(sv *s)
{
    migrate_job *j = sv_job_priv(s);
    if (!j->completed) {
        sv_event(s, "migrate: the sending command went away: the migration is cancelled");
        if (sv_job_cancel(s) < 0)
            sv_event(s, "migrate: %s", kx_err_msg());
        return;
    }
    bool was_running = j->was_running;
    kx_err(KXL_ERR_STATE, "the sending command went away during the handover of '%s': the "
           "domain stays paused here with its disks released; see whether the receiver runs it "
           "before you unpause or destroy it here", s->name);
    sv_job_finish(s, NULL);
    if (was_running)
        sv_guest_runs(s, false);
}

static void migrate_dispose(void *priv)
{
    migrate_job *j = priv;
    if (j->tls)
        sv_tls_off(j->s);
    sv_mirror_free(j->mirror);
    json_object_put(j->final);
    free(priv);
}

static const sv_job_ops migrate_ops = {
    .kind = "migrate",
    .noun = "a migration",
    .query = "query-migrate",
    .poll_ms = 500,
    .accepted_phase = "transferring",
    .progress = migrate_progress,
    .holds_guest = true,
    .event = migrate_event,
    .cancel = migrate_cancel,
    .owner_gone = migrate_owner_gone,
    .dispose = migrate_dispose,
};

static json_object *capability(const char *name, bool on)
{
    json_object *cap = json_object_new_object();
    json_object_object_add(cap, "capability", json_object_new_string(name));
    json_object_object_add(cap, "state", json_object_new_boolean(on));
    return cap;
}

int sv_migrate_capabilities(sv *s, const char *const *names, size_t n)
{
    json_object *caps = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(caps, capability(names[i], true));
    json_object *a = json_object_new_object();
    json_object_object_add(a, "capabilities", caps);
    return qmp_execute(s->qmp, "migrate-set-capabilities", a, NULL, 5000);
}

/* Events tell the end; auto-converge slows the vCPUs when the guest dirties memory faster
 * than the link carries it; the downtime limit and bandwidth are the caller's (0: QEMU's
 * 300 ms; no limit beyond the link's). */
static int migrate_prepare_qemu(sv *s, json_object *args, bool mirror, bool postcopy)
{
    static const char *const caps[] = {"events", "auto-converge"};
    int64_t downtime = kx_json_int(args, "downtime_ms", 0);
    int64_t mib = kx_json_int(args, "bandwidth_mib", 0);
    json_object *p = json_object_new_object();
    int_member(p, "downtime-limit", downtime > 0 ? downtime : 300);
    int_member(p, "max-bandwidth", mib > 0 ? mib << 20 : INT64_MAX / 2);
    /* --copy-storage: QEMU stops before its switchover for the mirrors to complete; set
     * either way, as a capability outlives the migration that set it */
    json_object *pause = json_object_new_array();
    json_object_array_add(pause, capability("pause-before-switchover", mirror));
    json_object_array_add(pause, capability("postcopy-ram", postcopy));
    json_object *a = json_object_new_object();
    json_object_object_add(a, "capabilities", pause);
    if (sv_migrate_capabilities(s, caps, KX_ARRAY_SIZE(caps)) < 0 ||
        qmp_execute(s->qmp, "migrate-set-capabilities", a, NULL, 5000) < 0 ||
        qmp_execute(s->qmp, "migrate-set-parameters", p, NULL, 5000) < 0)
        return -1;
    return 0;
}

/* The reply to migrate: a refusal ends the job with the guest as it was. */
static void migrate_accepted(json_object *ret, void *opaque)
{
    sv *s = opaque;
    if (ret || !sv_job_priv(s))
        sv_job_accepted(ret, opaque);
    else
        migrate_fail(s, sv_job_priv(s));
}

/* QEMU's TLS handshake on the stream runs in its main loop, and waits for the receiver's
 * answer as a watch only on a non-blocking socket; on a blocking one it reads there, holding
 * the big lock, and the guest stops until the receiving QEMU listens (B's domain start, 0.5 s
 * and more: the relocation path's stall). QEMU 7.2 makes every descriptor it is given over
 * QMP blocking, so the flag is set after getfd, on this copy of the same open file (the
 * migration thread then waits for a full socket with poll, as over tcp:). */
static int stream_nonblocking(sv *s, int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot make the migration stream of '%s' non-blocking",
                     s->name);
        return -1;
    }
    return 0;
}

json_object *sv_migrate(sv *s, json_object *args)
{
    AUTOCLOSE int fd = sv_control_take_fd(s);
    if (fd < 0) {
        kx_err(KXL_ERR_INVALID, "migrate needs the transport's descriptor with its request");
        return NULL;
    }
    if (s->lc != SV_LC_RUNNING && s->lc != SV_LC_PAUSED) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s: only a running or paused domain can be "
               "migrated", s->name, sv_lc_state_name(s->lc));
        return NULL;
    }
    /* --relocation: the stream is a TCP connection to the receiving QEMU, which QEMU
     * encrypts itself */
    const char *tls_host = kx_json_str(args, "tls_hostname", NULL);
    json_object *mirror = NULL;   /* --copy-storage: the disks the receiver made empty */
    json_object_object_get_ex(args, "mirror", &mirror);
    bool postcopy = kx_json_bool(args, "postcopy", false);
    if (migrate_prepare_qemu(s, args, mirror != NULL, postcopy) < 0 ||
        (tls_host && sv_tls_on(s, tls_host) < 0))
        return NULL;
    if (sv_fd_give(s, fd, MIGRATE_FDNAME) < 0 || (tls_host && stream_nonblocking(s, fd) < 0)) {
        if (tls_host)
            sv_tls_off(s);
        return NULL;
    }
    migrate_job *j = kx_malloc0(sizeof(*j));
    j->s = s;
    j->tls = tls_host != NULL;
    j->was_running = s->lc == SV_LC_RUNNING;
    j->postcopy = postcopy;
    sv_job_start(s, &migrate_ops, j, sv_obj2("to", kx_json_str(args, "host", "?"), NULL, NULL),
                 sv_control_job_done, sv_control_defer(s));
    if (!mirror) {
        start_migration(s, j);
        return SV_DEFERRED;
    }
    sv_job_progress(s, "mirroring", 0);
    int64_t mib = kx_json_int(args, "bandwidth_mib", 0);
    /* the set is the job's before any mirror starts: their events may come at once */
    j->mirror = sv_mirror_new(s, mirror);
    j->starting = true;
    int r = j->mirror ? sv_mirror_start(s, j->mirror, mib > 0 ? mib << 20 : 0) : -1;
    j->starting = false;
    if (r < 0)
        migrate_fail(s, j);
    else
        mirror_step(s, j);   /* what their events told meanwhile */
    return SV_DEFERRED;
}

static void start_migration(sv *s, migrate_job *j)
{
    j->migrating = true;
    json_object *m = json_object_new_object();
    json_object_object_add(m, "uri", json_object_new_string("fd:" MIGRATE_FDNAME));
    if (qmp_send_command(s->qmp, "migrate", m, migrate_accepted, s) < 0)
        migrate_fail(s, j);
}

json_object *sv_migrate_commit(sv *s, json_object *args)
{
    (void)args;
    migrate_job *j = kx_streq(sv_job_kind(s), "migrate") ? sv_job_priv(s) : NULL;
    if (!j || !j->completed) {
        kx_err(KXL_ERR_STATE, "domain '%s' has no completed migration to hand over", s->name);
        return NULL;
    }
    if (j->postcopy_active && !j->sent_all) {   /* the receiver still needs this QEMU */
        j->commit_token = sv_control_defer(s);
        return SV_DEFERRED;
    }
    json_object *figures = j->postcopy_active ? json_object_get(j->final) : NULL;
    sv_job_finish(s, figures ? json_object_get(figures) : json_object_new_object());
    sv_destroy(s, "migrated: the receiver runs it");
    return figures ? figures : json_object_new_object();   /* --postcopy: the final figures */
}

/* ---- receiving ---- */

/* The receiver went away before the go: nothing of the domain may stay. */
static void on_lifeline(int fd, uint32_t events, void *opaque)
{
    (void)fd;
    (void)events;
    sv *s = opaque;
    sv_incoming_drop_lifeline(s);
    sv_destroy(s, "the migration's receiver went away before the sender's go");
}

void sv_incoming_drop_lifeline(sv *s)
{
    if (s->lifeline_fd < 0)
        return;
    kx_loop_del(s->loop, s->lifeline_fd);
    close(s->lifeline_fd);
    s->lifeline_fd = -1;
}

void sv_incoming_note_made(sv *s, json_object *restore)
{
    json_object *vdevs = NULL;
    if (!json_object_object_get_ex(restore, "nbd_export", &vdevs))
        return;
    for (size_t k = 0; k < json_object_array_length(vdevs); k++) {
        const char *vdev = json_object_get_string(json_object_array_get_idx(vdevs, k));
        for (size_t i = 0; vdev && i < s->cfg->n_disks; i++) {
            const kxl_disk *d = &s->cfg->disks[i];
            if (d->target && !d->unplugged && kx_streq(d->vdev, vdev))
                kx_strv_push(&s->incoming_made, d->target);
        }
    }
}

void sv_incoming_unmake(sv *s)
{
    for (size_t i = 0; s->incoming && i < s->incoming_made.n; i++)
        if (unlink(s->incoming_made.v[i]) == 0)
            sv_event(s, "migrate: '%s' removed: it was made for a disk's copy, and no go came",
                     s->incoming_made.v[i]);
    kx_strv_dispose(&s->incoming_made);
}

bool sv_incoming_receiver_gone(sv *s)
{
    struct pollfd p = {.fd = s->lifeline_fd};
    return s->lifeline_fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP));
}

void sv_incoming_started(sv *s)
{
    if (s->lifeline_fd < 0)
        return;
    dprintf(s->lifeline_fd, "OK\n");
    if (!s->incoming) {
        close(s->lifeline_fd);
        s->lifeline_fd = -1;
        return;
    }
    /* a pipe's write end reports EPOLLERR once its reader is gone */
    if (kx_loop_add(s->loop, s->lifeline_fd, 0, on_lifeline, s) < 0)
        sv_event(s, "cannot watch the migration's receiver: %s", kx_err_msg());
}

json_object *sv_incoming_commit(sv *s, json_object *args)
{
    if (!s->incoming || s->lifeline_fd < 0) {
        kx_err(KXL_ERR_STATE, "domain '%s' is not an incoming migration waiting for its go",
               s->name);
        return NULL;
    }
    sv_incoming_drop_lifeline(s);
    s->incoming = false;
    kx_strv_dispose(&s->incoming_made);   /* the disks are this domain's now */
    sv_event(s, "migrate: the sender gave the go");
    if (kx_json_bool(args, "paused", false))
        return json_object_new_object();
    /* late-block-activate: the images are taken here, after the sender released them */
    if (qmp_execute(s->qmp, "cont", NULL, NULL, 10000) < 0)
        return NULL;
    sv_guest_runs(s, true);
    return json_object_new_object();
}
