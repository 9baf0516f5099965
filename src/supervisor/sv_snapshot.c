/* sv_snapshot.c - snapshots of a running domain, its disks and memory in its qcow2 images, as
 * jobs: QEMU 7.2's snapshot-save, snapshot-load and snapshot-delete are QEMU jobs whose end is
 * their JOB_STATUS_CHANGE event ("concluded"), whose error query-jobs tells, and which are
 * then dismissed. As the human monitor's savevm did, a create replaces a snapshot of the same
 * name (a delete step first), the disks are the domain's writable ones (QEMU refuses a
 * writable disk that cannot hold snapshots) and the memory goes into the first qcow2 one.
 * QEMU saves or loads in one go: a cancelled create removes the snapshot it made, a revert or
 * a delete cannot be cancelled. The list stays a quick query (query-named-block-nodes). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qemu/qemu_disk.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

/* One QMP job of a snapshot operation and the phase it shows as. */
typedef struct {
    const char *cmd;
    const char *phase;
} snap_step;

static const snap_step step_replace = {"snapshot-delete", "replacing"};
static const snap_step step_save = {"snapshot-save", "saving"};
static const snap_step step_load = {"snapshot-load", "loading"};
static const snap_step step_delete = {"snapshot-delete", "deleting"};
static const snap_step step_undo = {"snapshot-delete", "cancelling"};

static const struct {
    const char *op;
    const snap_step *steps[2];   /* in order; NULL-terminated when shorter */
} snap_ops[] = {
    {"create", {&step_replace, &step_save}},
    {"revert", {&step_load, NULL}},
    {"delete", {&step_delete, NULL}},
};

typedef struct {
    char *op, *name;
    const snap_step *const *steps;
    size_t n_steps, at;        /* the step running */
    const snap_step *undo;     /* set once a cancelled create removes what it saved */
    json_object *devices;      /* node names of the writable disks */
    char *vmstate;             /* the node that holds the memory */
    char job_id[48];           /* QEMU's id of the step running */
} snap_job;

static void snap_dispose(void *priv)
{
    snap_job *j = priv;
    free(j->op);
    free(j->name);
    json_object_put(j->devices);
    free(j->vmstate);
    free(j);
}

static const snap_step *snap_current(const snap_job *j)
{
    return j->undo ? j->undo : j->steps[j->at];
}

/* The writable disks' nodes and the one for the memory, as savevm chose them. */
static int snap_disks(sv *s, snap_job *j)
{
    j->devices = json_object_new_array();
    for (size_t i = 0; i < s->cfg->n_disks; i++) {
        const kxl_disk *d = &s->cfg->disks[i];
        if (d->unplugged || d->cdrom || d->readonly || !d->target)
            continue;
        char node[QEMU_DISK_NODE_MAX];
        qemu_disk_node(i, node);
        json_object_array_add(j->devices, json_object_new_string(node));
        if (!j->vmstate && d->format == KXL_DISK_FMT_QCOW2)
            j->vmstate = kx_strdup(node);
    }
    if (json_object_array_length(j->devices) == 0) {
        kx_err(KXL_ERR_INVALID, "snapshot %s '%s' of '%s': No block device can accept snapshots",
               j->op, j->name, s->name);
        return -1;
    }
    if (!j->vmstate)   /* QEMU says why it cannot */
        j->vmstate = kx_strdup(json_object_get_string(json_object_array_get_idx(j->devices, 0)));
    return 0;
}

static void snap_step_started(json_object *ret, void *opaque);

static void snap_run_step(sv *s, snap_job *j)
{
    const snap_step *st = snap_current(j);
    /* unique for this QEMU, also after an adoption: a job a killed supervisor left behind
     * keeps its id */
    snprintf(j->job_id, sizeof(j->job_id), "kxl-snapshot-%d-%u", (int)getpid(), ++s->qemu_jobs);
    json_object *a = json_object_new_object();
    json_object_object_add(a, "job-id", json_object_new_string(j->job_id));
    json_object_object_add(a, "tag", json_object_new_string(j->name));
    json_object_object_add(a, "devices", json_object_get(j->devices));
    if (st != &step_replace && st != &step_delete && st != &step_undo)
        json_object_object_add(a, "vmstate", json_object_new_string(j->vmstate));
    sv_job_progress(s, st->phase, (int)(j->at * 100 / j->n_steps));
    if (qmp_send_command(s->qmp, st->cmd, a, snap_step_started, s) < 0)
        sv_job_finish(s, NULL);
}

static void snap_step_started(json_object *ret, void *opaque)
{
    sv *s = opaque;
    snap_job *j = sv_job_priv(s);
    if (!ret) {
        kx_err(kx_err_code(), "snapshot %s '%s' of '%s': %s", j->op, j->name, s->name,
               kx_err_msg());
        sv_job_finish(s, NULL);
    }
}

/* A step ended (error NULL: it succeeded): the next one, or the job's end. */
static void snap_step_done(sv *s, snap_job *j, const char *error)
{
    if (error) {
        /* a name the disks do not have is the caller's mistake, not QEMU's failure (QEMU 7.2:
         * "Snapshot 'X' does not exist in one or more devices"); like the offline snapshots'
         * "disk ... has no snapshot" */
        kxl_errcode code = strstr(error, "does not exist") ? KXL_ERR_NOT_FOUND : KXL_ERR_QEMU;
        kx_err(code, "snapshot %s '%s' of '%s': %.*s", j->op, j->name, s->name,
               (int)strcspn(error, "\r\n"), error);
        sv_job_finish(s, NULL);
    } else if (j->undo) {
        sv_event(s, "snapshot %s '%s' cancelled: the snapshot is removed", j->op, j->name);
        kx_err(KXL_ERR_STATE, "snapshot %s '%s' of '%s' was cancelled", j->op, j->name, s->name);
        sv_job_finish(s, NULL);
    } else if (sv_job_cancelling(s)) {
        /* what a create saved goes again; a replace step saved nothing yet */
        j->undo = &step_undo;
        if (j->steps[j->at] == &step_replace) {
            kx_err(KXL_ERR_STATE, "snapshot %s '%s' of '%s' was cancelled", j->op, j->name,
                   s->name);
            sv_job_finish(s, NULL);
        } else {
            snap_run_step(s, j);
        }
    } else if (++j->at < j->n_steps) {
        snap_run_step(s, j);
    } else {
        sv_event(s, "snapshot %s '%s'", j->op, j->name);
        sv_job_finish(s, json_object_new_string(""));
    }
}

/* The QEMU job of the step running, from a query-jobs reply; NULL if it is not there. */
static json_object *snap_find(json_object *jobs, const snap_job *j)
{
    for (size_t i = 0; i < json_object_array_length(jobs); i++) {
        json_object *q = json_object_array_get_idx(jobs, i);
        if (kx_streq(kx_json_str(q, "id", ""), j->job_id))
            return q;
    }
    return NULL;
}

/* query-jobs after the step concluded: its error, then it is dismissed. */
static void snap_concluded(json_object *ret, void *opaque)
{
    sv *s = opaque;
    snap_job *j = sv_job_priv(s);
    json_object *q = ret ? snap_find(ret, j) : NULL;
    if (!q) {
        kx_err(KXL_ERR_QEMU, "QEMU lost the job of snapshot %s '%s'", j->op, j->name);
        sv_job_finish(s, NULL);
        return;
    }
    const char *e = kx_json_str(q, "error", NULL);
    AUTOFREE char *error = e ? kx_strdup(e) : NULL;   /* q goes with ret */
    json_object *a = json_object_new_object();
    json_object_object_add(a, "id", json_object_new_string(j->job_id));
    qmp_send_command(s->qmp, "job-dismiss", a, NULL, NULL);
    snap_step_done(s, j, error);
}

static bool snap_event(sv *s, const char *event, json_object *data)
{
    snap_job *j = sv_job_priv(s);
    if (!kx_streq(event, "JOB_STATUS_CHANGE") || !kx_streq(kx_json_str(data, "id", ""), j->job_id))
        return false;
    if (kx_streq(kx_json_str(data, "status", ""), "concluded") &&
        qmp_send_command(s->qmp, "query-jobs", NULL, snap_concluded, s) < 0)
        sv_job_finish(s, NULL);
    return true;
}

static void snap_progress(sv *s, json_object *ret)
{
    snap_job *j = sv_job_priv(s);
    json_object *q = snap_find(ret, j);
    int64_t total = kx_json_int(q, "total-progress", 0);
    int64_t done = kx_json_int(q, "current-progress", 0);
    if (q && total > 0 && !j->undo)
        sv_job_progress(s, snap_current(j)->phase,
                        (int)((j->at * total + (size_t)done) * 100 / (j->n_steps * total)));
}

static int snap_cancel(sv *s)
{
    snap_job *j = sv_job_priv(s);
    if (!kx_streq(j->op, "create")) {
        kx_err(KXL_ERR_STATE, "snapshot %s '%s' of '%s' cannot be cancelled: QEMU does it in "
               "one go", j->op, j->name, s->name);
        return -1;
    }
    return 0;
}

static const sv_job_ops snap_job_ops = {
    .kind = "snapshot",
    .noun = "a snapshot",
    .query = "query-jobs",
    .progress = snap_progress,
    .holds_guest = true,
    .event = snap_event,
    .cancel = snap_cancel,
    .dispose = snap_dispose,
};

/* snapshot-list: [{"vdev", "snapshots": [QEMU's SnapshotInfo, ...]}] of the writable disks the
 * snapshots go to, in config order: each disk's snapshots as QEMU's block layer reads them
 * from the image (query-named-block-nodes), the library merging them as it does qemu-img's. */
static json_object *snap_list(sv *s)
{
    json_object *a = json_object_new_object();
    json_object_object_add(a, "flat", json_object_new_boolean(true));
    AUTOPTR(json_object) nodes = NULL;
    if (qmp_execute(s->qmp, "query-named-block-nodes", a, &nodes, 30000) < 0)
        return NULL;
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < s->cfg->n_disks; i++) {
        const kxl_disk *d = &s->cfg->disks[i];
        if (d->unplugged || d->cdrom || d->readonly || !d->target)
            continue;
        char node[QEMU_DISK_NODE_MAX];
        qemu_disk_node(i, node);
        json_object *snaps = NULL;
        for (size_t k = 0; !snaps && k < json_object_array_length(nodes); k++) {
            json_object *n = json_object_array_get_idx(nodes, k), *image = NULL;
            if (strcmp(kx_json_str(n, "node-name", ""), node) == 0 &&
                json_object_object_get_ex(n, "image", &image) &&
                !json_object_object_get_ex(image, "snapshots", &snaps))
                break;   /* no snapshot in that image */
        }
        json_object *disk = json_object_new_object();
        json_object_object_add(disk, "vdev", json_object_new_string(d->vdev ? d->vdev : node));
        json_object_object_add(disk, "snapshots",
                               snaps ? json_object_get(snaps) : json_object_new_array());
        json_object_array_add(out, disk);
    }
    return out;
}

json_object *sv_snapshot(sv *s, json_object *args)
{
    const char *op = kx_json_str(args, "op", ""), *name = kx_json_str(args, "name", "");
    size_t k = 0;
    while (k < KX_ARRAY_SIZE(snap_ops) && strcmp(op, snap_ops[k].op) != 0)
        k++;
    if (strcmp(op, "list") == 0)
        return snap_list(s);
    if (k == KX_ARRAY_SIZE(snap_ops) || !kxl_name_is_valid(name)) {
        kx_err(KXL_ERR_INVALID, "bad snapshot request '%s %s'", op, name);
        return NULL;
    }
    snap_job *j = kx_malloc0(sizeof(*j));
    j->op = kx_strdup(op);
    j->name = kx_strdup(name);
    j->steps = snap_ops[k].steps;
    j->n_steps = snap_ops[k].steps[1] ? 2 : 1;
    if (snap_disks(s, j) < 0) {
        snap_dispose(j);
        return NULL;
    }
    json_object *info = json_object_new_object();
    json_object_object_add(info, "operation", json_object_new_string(op));
    json_object_object_add(info, "name", json_object_new_string(name));
    sv_job_start(s, &snap_job_ops, j, info, sv_control_job_done, sv_control_defer(s));
    snap_run_step(s, j);
    return SV_DEFERRED;
}
