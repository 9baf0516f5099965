/* sv_save.c - kxl save as a job: the guest is stopped (a save is of one instant, and one pass
 * over memory is the fastest), kxl's header goes into a temporary file next to the target,
 * QEMU's migration stream follows it through the same descriptor (getfd + migrate fd:, as
 * QEMU 7.2 has no file: URI), and only a complete file, synced by a child process while the
 * loop goes on serving, is renamed to the target. The stream's length then goes into the
 * header, so a restore tells a truncated file before it starts QEMU. Afterwards the domain is
 * destroyed (xl's default), left paused (-p) or resumed (-c); a save that fails or is
 * cancelled removes the temporary file and leaves the guest as it was. Progress is
 * query-migrate's; the end is QEMU's MIGRATION event. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "lib/runtime.h"
#include "migrate/mig_header.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

/* What happens to the domain once it is saved: xl's default, -p, -c. */
typedef enum { SAVE_THEN_DESTROY, SAVE_THEN_PAUSE, SAVE_THEN_KEEP } save_after;

static const char *const after_names[] = {"destroy", "pause", "keep"};

/* In the runtime directory while a save runs: the temporary file's name, so that a
 * supervisor adopting the domain after this one died can take the save back. */
#define SAVE_MARKER "save.tmp"

typedef struct {
    sv *s;
    char *path;           /* the target */
    char *tmp;            /* being written; NULL once renamed to path */
    int fd;
    mig_header hdr;
    size_t hdr_len;
    bool was_running;     /* the guest ran before the save stopped it */
    save_after after;
    pid_t sync_pid;       /* the child that syncs the file (save_sync_start), or 0 */
    int sync_pidfd;
} save_job;

/* Waits for the sync child, if any: 0 when it synced the file, else the errno it met. */
static int save_sync_reap(sv *s, save_job *j)
{
    int status = 0;
    if (j->sync_pidfd >= 0) {
        kx_loop_del(s->loop, j->sync_pidfd);
        close(j->sync_pidfd);
        j->sync_pidfd = -1;
    }
    if (j->sync_pid <= 0)
        return 0;
    while (waitpid(j->sync_pid, &status, 0) < 0 && errno == EINTR)
        ;
    j->sync_pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static void save_dispose(void *priv)
{
    save_job *j = priv;
    save_sync_reap(j->s, j);   /* a job ended meanwhile (QEMU died): the sync finishes first */
    if (j->fd >= 0)
        close(j->fd);
    if (j->tmp)
        unlink(j->tmp);   /* a save that did not complete leaves nothing */
    AUTOFREE char *marker = kx_path_join(j->s->dir, SAVE_MARKER);
    unlink(marker);
    free(j->tmp);
    free(j->path);
    mig_header_dispose(&j->hdr);
    free(j);
}

/* The guest runs again if the save stopped it; used when the save does not go through. */
static void save_resume(sv *s, save_job *j)
{
    if (j->was_running && s->qmp && qmp_execute(s->qmp, "cont", NULL, NULL, 10000) < 0)
        sv_event(s, "save: cannot let the guest run again: %s", kx_err_msg());
}

/* Ends the job as failed with the error set, the guest as it was before. */
static void save_fail(sv *s, save_job *j)
{
    kxl_errcode code = kx_err_code();
    AUTOFREE char *why = kx_strdup(kx_err_msg());
    save_resume(s, j);
    kx_err(code, "%s", why);
    sv_job_finish(s, NULL);
}

/* The stream's length into the header, the data onto the disk, the file under its name. */
static int save_commit(sv *s, save_job *j)
{
    off_t end = lseek(j->fd, 0, SEEK_END);
    kx_buf b = KX_BUF_INIT;
    j->hdr.stream_len = end > (off_t)j->hdr_len ? (uint64_t)end - j->hdr_len : 0;
    mig_header_encode(&j->hdr, &b);
    bool same = b.len == j->hdr_len;   /* the same JSON: the same length */
    ssize_t n = same ? pwrite(j->fd, b.s, b.len, 0) : -1;
    kx_buf_dispose(&b);
    /* the stream is on the disk (save_sync_start): this fsync writes just the header */
    if (end < 0 || n != (ssize_t)j->hdr_len || fsync(j->fd) < 0 || rename(j->tmp, j->path) < 0) {
        kx_err_errno(KXL_ERR_HOST, "cannot complete the save file '%s'", j->path);
        return -1;
    }
    free(j->tmp);
    j->tmp = NULL;
    AUTOFREE char *dir = kx_strdup(j->path);
    AUTOCLOSE int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        fsync(dfd);   /* the rename itself survives a crash */
    sv_event(s, "saved to '%s' (%llu bytes of QEMU state)", j->path,
             (unsigned long long)j->hdr.stream_len);
    return 0;
}

static void save_completed(sv *s, save_job *j)
{
    if (save_commit(s, j) < 0) {
        save_fail(s, j);
        return;
    }
    save_after after = j->after;
    if (after == SAVE_THEN_KEEP)
        save_resume(s, j);
    bool stopped_it = j->was_running;
    AUTOFREE char *path = kx_strdup(j->path);
    sv_job_finish(s, json_object_new_object());
    if (after == SAVE_THEN_PAUSE && stopped_it)
        sv_guest_runs(s, false);   /* the job held the guest; now the domain is paused */
    if (after == SAVE_THEN_DESTROY) {
        AUTOFREE char *why = kx_asprintf("saved to '%s'", path);
        sv_destroy(s, why);
    }
}

/* The sync child ended with err (0: synced): the save completes, unless a cancel came. */
static void save_sync_done(sv *s, save_job *j, int err)
{
    if (err) {
        errno = err;
        kx_err_errno(KXL_ERR_HOST, "cannot write the save file '%s'", j->path);
        save_fail(s, j);
    } else if (sv_job_cancelling(s)) {
        kx_err(KXL_ERR_STATE, "the save of '%s' to '%s' was cancelled", s->name, j->path);
        save_fail(s, j);
    } else {
        save_completed(s, j);
    }
}

static void save_synced(int fd, uint32_t events, void *opaque)
{
    (void)fd;
    (void)events;
    sv *s = opaque;
    save_job *j = sv_job_priv(s);
    save_sync_done(s, j, save_sync_reap(s, j));
}

/* QEMU has written the stream: a child process puts it on the disk, since the fsync of a big
 * guest's file takes seconds that the loop (the console, job-cancel) must not wait; its end
 * comes through its pidfd (save_synced). */
static void save_sync_start(sv *s, save_job *j)
{
    sv_job_progress(s, "syncing", -1);
    j->sync_pid = fork();
    if (j->sync_pid == 0)
        _exit(fsync(j->fd) == 0 ? 0 : errno > 0 && errno < 256 ? errno : EIO);
    if (j->sync_pid < 0) {
        j->sync_pid = 0;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork to sync the save file '%s'", j->path);
        save_fail(s, j);
        return;
    }
    j->sync_pidfd = kx_pidfd_open(j->sync_pid);
    if (j->sync_pidfd < 0 || kx_loop_add(s->loop, j->sync_pidfd, EPOLLIN, save_synced, s) < 0)
        save_sync_done(s, j, save_sync_reap(s, j));   /* not watched: waited for here */
}

/* query-migrate after QEMU said "failed": its reason. */
static void save_failed_reply(json_object *ret, void *opaque)
{
    sv *s = opaque;
    save_job *j = sv_job_priv(s);
    if (!j)
        return;
    const char *desc = ret ? kx_json_str(ret, "error-desc", NULL) : NULL;
    kx_err(KXL_ERR_QEMU, "QEMU could not save '%s' to '%s': %s", s->name, j->path,
           desc ? desc : "no reason given");
    save_fail(s, j);
}

static bool save_event(sv *s, const char *event, json_object *data)
{
    if (!kx_streq(event, "MIGRATION"))
        return kx_streq(event, "MIGRATION_PASS");
    save_job *j = sv_job_priv(s);
    const char *status = kx_json_str(data, "status", "");
    if (kx_streq(status, "completed")) {
        save_sync_start(s, j);
    } else if (kx_streq(status, "cancelled")) {
        kx_err(KXL_ERR_STATE, "the save of '%s' to '%s' was cancelled", s->name, j->path);
        save_fail(s, j);
    } else if (kx_streq(status, "failed") &&
               qmp_send_command(s->qmp, "query-migrate", NULL, save_failed_reply, s) < 0) {
        save_fail(s, j);
    }
    return true;
}

static void save_progress(sv *s, json_object *ret)
{
    json_object *ram = NULL;
    json_object_object_get_ex(ret, "ram", &ram);
    int64_t total = kx_json_int(ram, "total", 0), left = kx_json_int(ram, "remaining", 0);
    if (kx_streq(kx_json_str(ret, "status", ""), "active") && total > 0)
        sv_job_progress(s, sv_job_cancelling(s) ? "cancelling" : "saving",
                        (int)((total - left) * 100 / total));
}

static int save_cancel(sv *s)
{
    sv_job_progress(s, "cancelling", -1);
    return qmp_send_command(s->qmp, "migrate_cancel", NULL, NULL, NULL);
}

/* The reply to migrate: a refusal ends the save with the guest as it was. */
static void save_accepted(json_object *ret, void *opaque)
{
    sv *s = opaque;
    if (ret || !sv_job_priv(s))
        sv_job_accepted(ret, opaque);
    else
        save_fail(s, sv_job_priv(s));
}

static const sv_job_ops save_ops = {
    .kind = "save",
    .noun = "a save",
    .query = "query-migrate",
    .poll_ms = 100,   /* a save to a local disk takes seconds: often, or it shows no progress */
    .accepted_phase = "saving",
    .progress = save_progress,
    .holds_guest = true,
    .event = save_event,
    .cancel = save_cancel,
    .dispose = save_dispose,
};

int sv_state_header(sv *s, json_object *config, mig_header *h)
{
    AUTOPTR(json_object) type = NULL;
    h->qemu_version = sv_qemu_version(s);
    if (!h->qemu_version ||
        qmp_execute(s->qmp, "qom-get", sv_obj2("path", "/machine", "property", "type"), &type,
                    5000) < 0)
        return -1;
    const char *t = json_object_get_string(type);   /* "pc-i440fx-7.2-machine" */
    size_t n = t ? strlen(t) : 0, suffix = strlen("-machine");
    if (n <= suffix || strcmp(t + n - suffix, "-machine") != 0) {
        kx_err(KXL_ERR_QEMU, "QEMU named no machine type for '%s' ('%s')", s->name, t ? t : "");
        return -1;
    }
    h->machine = kx_strndup(t, n - suffix);
    h->cpu_model = kx_strdup(qemu_cpu_model(s->cfg, s->accel));
    h->accel = kx_strdup(kxl_accel_to_string(s->accel));
    h->saved_at = (long long)time(NULL);
    if (config) {
        h->config = json_object_get(config);
        return 0;
    }
    /* domain.json, not s->cfg: pygrub rewrote the latter's kernel and command line for this
     * start only; the hot-plugs are in both */
    kxl_domcfg *cfg = runtime_read_config(&s->paths, s->name);
    h->config = cfg ? cfg_domcfg_to_json(cfg) : NULL;
    kxl_domcfg_free(cfg);
    return h->config ? 0 : -1;
}

/* The temporary file next to path, with the header (no stream length yet) written. */
static int save_open(save_job *j)
{
    AUTOFREE char *copy = kx_strdup(j->path);
    AUTOFREE char *base = kx_strdup(basename(copy));
    j->tmp = kx_asprintf("%s/.%s.XXXXXX", dirname(copy), base);
    j->fd = mkostemp(j->tmp, O_CLOEXEC);
    if (j->fd < 0) {
        kx_err_errno(KXL_ERR_HOST, "cannot write the save file '%s'", j->path);
        free(j->tmp);
        j->tmp = NULL;
        return -1;
    }
    AUTOFREE char *marker = kx_path_join(j->s->dir, SAVE_MARKER);
    if (kx_write_file_atomic(marker, j->tmp, strlen(j->tmp), 0600) < 0)
        return -1;
    kx_buf b = KX_BUF_INIT;
    mig_header_encode(&j->hdr, &b);
    j->hdr_len = b.len;
    int r = kx_write_all(j->fd, b.s, b.len);
    kx_buf_dispose(&b);
    if (r < 0)
        kx_err_errno(KXL_ERR_HOST, "cannot write the save file '%s'", j->path);
    return r;
}

/* Events tell the migration's end; the save runs as fast as the disk takes it. */
static int save_prepare_qemu(sv *s, save_job *j)
{
    json_object *cap = json_object_new_object();
    json_object_object_add(cap, "capability", json_object_new_string("events"));
    json_object_object_add(cap, "state", json_object_new_boolean(true));
    json_object *caps = json_object_new_array();
    json_object_array_add(caps, cap);
    json_object *a = json_object_new_object();
    json_object_object_add(a, "capabilities", caps);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "max-bandwidth", json_object_new_int64(INT64_MAX / 2));
    if (qmp_execute(s->qmp, "migrate-set-capabilities", a, NULL, 5000) < 0 ||
        qmp_execute(s->qmp, "migrate-set-parameters", p, NULL, 5000) < 0)
        return -1;
    return sv_fd_give(s, j->fd, "kxl-save");
}

static int save_after_parse(const char *name, save_after *after_r)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(after_names); i++) {
        if (kx_streq(name, after_names[i])) {
            *after_r = (save_after)i;
            return 0;
        }
    }
    kx_err(KXL_ERR_INVALID, "bad save request: after '%s'", name);
    return -1;
}

json_object *sv_save(sv *s, json_object *args)
{
    const char *file = kx_json_str(args, "file", "");
    json_object *config = NULL;
    json_object_object_get_ex(args, "config", &config);
    if (file[0] != '/') {
        kx_err(KXL_ERR_INVALID, "save needs an absolute file name");
        return NULL;
    }
    if (s->lc != SV_LC_RUNNING && s->lc != SV_LC_PAUSED) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s: only a running or paused domain can be saved",
               s->name, sv_lc_state_name(s->lc));
        return NULL;
    }
    if (sv_qemu_answering(s, "save") < 0)   /* before any file or QMP call waits on it */
        return NULL;
    save_job *j = kx_malloc0(sizeof(*j));
    j->s = s;
    j->fd = -1;
    j->sync_pidfd = -1;
    j->path = kx_strdup(file);
    j->was_running = s->lc == SV_LC_RUNNING;
    if (save_after_parse(kx_json_str(args, "after", "destroy"), &j->after) < 0 ||
        sv_state_header(s, config, &j->hdr) < 0 || save_open(j) < 0 ||
        save_prepare_qemu(s, j) < 0) {
        save_dispose(j);
        return NULL;
    }
    sv_job_start(s, &save_ops, j, sv_obj2("file", file, "after", after_names[j->after]),
                 sv_control_job_done, sv_control_defer(s));
    /* the job holds the guest from here: QEMU's STOP is the job's, not a pause */
    if (j->was_running && qmp_execute(s->qmp, "stop", NULL, NULL, 10000) < 0) {
        save_fail(s, j);
        return SV_DEFERRED;
    }
    json_object *m = json_object_new_object();
    json_object_object_add(m, "uri", json_object_new_string("fd:kxl-save"));
    if (qmp_send_command(s->qmp, "migrate", m, save_accepted, s) < 0)
        save_fail(s, j);
    return SV_DEFERRED;
}

/* Whether a migration's status is one it ends in. */
static bool migration_over(const char *status)
{
    static const char *const ends[] = {"none", "completed", "failed", "cancelled"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(ends); i++)
        if (kx_streq(status, ends[i]))
            return true;
    return false;
}

void sv_save_recover(sv *s, bool was_running)
{
    AUTOFREE char *marker = kx_path_join(s->dir, SAVE_MARKER);
    if (!kx_path_exists(marker))
        return;
    AUTOFREE char *tmp = kx_read_file(marker, NULL);
    /* its requester lost its answer with the supervisor: the save failed for it */
    qmp_execute(s->qmp, "migrate_cancel", NULL, NULL, 5000);
    for (int i = 0; i < 500; i++) {   /* QEMU stops writing within 10 s */
        AUTOPTR(json_object) st = NULL;
        if (qmp_execute(s->qmp, "query-migrate", NULL, &st, 5000) < 0 ||
            migration_over(kx_json_str(st, "status", "none")))
            break;
        usleep(20000);
    }
    if (tmp)
        unlink(tmp);
    unlink(marker);
    sv_event(s, "adopting: the save into '%s' that the previous supervisor ran is abandoned",
             tmp ? tmp : "?");
    if (was_running && qmp_execute(s->qmp, "cont", NULL, NULL, 10000) < 0)
        sv_event(s, "adopting: cannot let the guest run again: %s", kx_err_msg());
}
