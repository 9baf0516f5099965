/* sv_mirror.c - kxl migrate --copy-storage, the sending side: each disk the receiver made
 * empty is mirrored by QEMU (blockdev-mirror, sync full) into an NBD node whose connection
 * is a socket to the sending command's relay (mig_mux.h), which takes it through the
 * migration's transport to the receiving QEMU's NBD server. The migration of memory starts
 * once every mirror is "ready" (converged; the guest's writes are copied as they come), and
 * at QEMU's pre-switchover pause (the guest stopped) each mirror is ended with
 * block-job-cancel, which for a ready mirror is QEMU's way to complete it without switching
 * the guest to the copy: the receiver's disks are then identical. The NBD nodes go as their
 * jobs end (sv_mirror_reap), on every path. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qemu/qemu_disk.h"
#include "supervisor/sv.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

#define JOB_PREFIX "kxlmirror"
#define NODE_PREFIX "kxlnbd"

typedef enum { MIRROR_RUNNING, MIRROR_READY, MIRROR_DONE, MIRROR_FAILED } mirror_state;

typedef struct {
    char *vdev;
    char *job;      /* "kxlmirror7-xvda": the block job */
    char *node;     /* "kxlnbd7-xvda": its NBD target, and the name of its socket in QEMU */
    mirror_state state;
} mirror_disk;

struct sv_mirror {
    size_t n;
    mirror_disk *d;
    char *error;    /* the first failure */
};

void sv_mirror_free(sv_mirror *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->d[i].vdev);
        free(m->d[i].job);
        free(m->d[i].node);
    }
    free(m->d);
    free(m->error);
    free(m);
}

/* The index of the writable disk vdev in the domain's config, or -1 with kx_err. */
static ssize_t disk_index(sv *s, const char *vdev)
{
    for (size_t i = 0; i < s->cfg->n_disks; i++) {
        const kxl_disk *d = &s->cfg->disks[i];
        if (!d->unplugged && d->target && !d->cdrom && !d->readonly && kx_streq(d->vdev, vdev))
            return (ssize_t)i;
    }
    kx_err(KXL_ERR_INVALID, "domain '%s' has no writable disk '%s' to copy", s->name, vdev);
    return -1;
}

/* A connection to the relay's socket in the domain's runtime directory. */
static int relay_connect(sv *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    AUTOFREE char *path = kx_asprintf("%s/mirror.sock", s->dir);
    if (strlen(path) >= sizeof(sa.sun_path)) {
        kx_err(KXL_ERR_HOST, "'%s' is too long a socket path", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    AUTOCLOSE int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        kx_err_errno(KXL_ERR_STATE, "cannot connect to the migration's disk relay '%s'", path);
        return -1;
    }
    return TAKE_FD(fd);
}

/* The NBD node of disk d on a fresh connection, and its mirror job from node source. */
static int mirror_one(sv *s, mirror_disk *d, const char *source, int64_t speed)
{
    AUTOCLOSE int fd = relay_connect(s);
    if (fd < 0 || sv_fd_give(s, fd, d->node) < 0)
        return -1;
    json_object *server = json_object_new_object();
    json_object_object_add(server, "type", json_object_new_string("fd"));
    json_object_object_add(server, "str", json_object_new_string(d->node));
    json_object *add = sv_obj2("driver", "nbd", "node-name", d->node);
    json_object_object_add(add, "server", server);
    json_object_object_add(add, "export", json_object_new_string(d->vdev));
    if (qmp_execute(s->qmp, "blockdev-add", add, NULL, 30000) < 0)
        return -1;
    json_object *mir = sv_obj2("job-id", d->job, "device", source);
    json_object_object_add(mir, "target", json_object_new_string(d->node));
    json_object_object_add(mir, "sync", json_object_new_string("full"));
    if (speed > 0)
        json_object_object_add(mir, "speed", json_object_new_int64(speed));
    if (qmp_execute(s->qmp, "blockdev-mirror", mir, NULL, 10000) < 0) {
        qmp_send_command(s->qmp, "blockdev-del", sv_obj2("node-name", d->node, NULL, NULL),
                         NULL, NULL);
        return -1;
    }
    return 0;
}

sv_mirror *sv_mirror_new(sv *s, json_object *vdevs)
{
    size_t n = json_object_is_type(vdevs, json_type_array) ? json_object_array_length(vdevs) : 0;
    sv_mirror *m = kx_malloc0(sizeof(*m));
    m->d = kx_malloc0((n + 1) * sizeof(*m->d));
    unsigned seq = ++s->qemu_jobs;
    for (size_t i = 0; i < n; i++) {
        const char *vdev = json_object_get_string(json_object_array_get_idx(vdevs, i));
        if (!vdev || disk_index(s, vdev) < 0) {
            sv_mirror_free(m);
            return NULL;
        }
        mirror_disk *d = &m->d[m->n++];
        d->vdev = kx_strdup(vdev);
        d->job = kx_asprintf(JOB_PREFIX "%u-%s", seq, vdev);
        d->node = kx_asprintf(NODE_PREFIX "%u-%s", seq, vdev);
    }
    return m;
}

int sv_mirror_start(sv *s, sv_mirror *m, int64_t speed)
{
    for (size_t i = 0; i < m->n; i++) {
        mirror_disk *d = &m->d[i];
        char source[QEMU_DISK_NODE_MAX];
        qemu_disk_node((size_t)disk_index(s, d->vdev), source);
        if (mirror_one(s, d, source, speed) < 0) {
            kxl_errcode code = kx_err_code();
            AUTOFREE char *why = kx_strdup(kx_err_msg());
            for (size_t k = i; k < m->n; k++)
                m->d[k].state = MIRROR_FAILED;
            sv_mirror_abort(s, m);
            kx_err(code, "cannot copy the disks: %s", why);
            return -1;
        }
        sv_event(s, "migrate: mirroring disk %s to the receiver", d->vdev);
    }
    return 0;
}

static mirror_disk *find_job(sv_mirror *m, json_object *data)
{
    const char *job = kx_json_str(data, "device", "");
    for (size_t i = 0; i < m->n; i++)
        if (kx_streq(m->d[i].job, job))
            return &m->d[i];
    return NULL;
}

static void mirror_failed(sv_mirror *m, mirror_disk *d, const char *why)
{
    d->state = MIRROR_FAILED;
    if (!m->error)
        m->error = kx_asprintf("the copy of disk %s failed: %s", d->vdev, why);
}

bool sv_mirror_event(sv_mirror *m, const char *event, json_object *data)
{
    mirror_disk *d = kx_startswith(event, "BLOCK_JOB_") ? find_job(m, data) : NULL;
    if (!d)
        return false;
    const char *error = kx_json_str(data, "error", NULL);
    if (kx_streq(event, "BLOCK_JOB_READY") && d->state == MIRROR_RUNNING) {
        d->state = MIRROR_READY;
    } else if (kx_streq(event, "BLOCK_JOB_COMPLETED") || kx_streq(event, "BLOCK_JOB_CANCELLED")) {
        /* a ready mirror ended by block-job-cancel: complete, the copy as at that moment
         * (QEMU says COMPLETED; CANCELLED is taken the same way) */
        if (d->state == MIRROR_READY && !error)
            d->state = MIRROR_DONE;
        else if (d->state != MIRROR_FAILED)
            mirror_failed(m, d, error ? error : "it ended before it had copied the disk");
    }
    return true;
}

static bool all_in(const sv_mirror *m, mirror_state st)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->d[i].state != st)
            return false;
    return true;
}

bool sv_mirror_ready(const sv_mirror *m)
{
    return all_in(m, MIRROR_READY);
}

bool sv_mirror_done(const sv_mirror *m)
{
    return all_in(m, MIRROR_DONE);
}

bool sv_mirror_active(const sv_mirror *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->d[i].state == MIRROR_RUNNING || m->d[i].state == MIRROR_READY)
            return true;
    return false;
}

const char *sv_mirror_error(const sv_mirror *m)
{
    return m->error;
}

void sv_mirror_complete(sv *s, sv_mirror *m)
{
    for (size_t i = 0; i < m->n; i++)
        qmp_send_command(s->qmp, "block-job-cancel",
                         sv_obj2("device", m->d[i].job, NULL, NULL), NULL, NULL);
}

void sv_mirror_abort(sv *s, sv_mirror *m)
{
    for (size_t i = 0; i < m->n; i++) {
        mirror_disk *d = &m->d[i];
        if (d->state != MIRROR_RUNNING && d->state != MIRROR_READY)
            continue;
        json_object *a = sv_obj2("device", d->job, NULL, NULL);
        json_object_object_add(a, "force", json_object_new_boolean(true));
        qmp_send_command(s->qmp, "block-job-cancel", a, NULL, NULL);
        mirror_failed(m, d, "it was called off");
    }
}

void sv_mirror_reap(sv *s, const char *event, json_object *data)
{
    const char *job = kx_json_str(data, "device", "");
    if ((!kx_streq(event, "BLOCK_JOB_COMPLETED") && !kx_streq(event, "BLOCK_JOB_CANCELLED")) ||
        !kx_startswith(job, JOB_PREFIX) || !s->qmp)
        return;
    AUTOFREE char *node = kx_asprintf(NODE_PREFIX "%s", job + strlen(JOB_PREFIX));
    qmp_send_command(s->qmp, "blockdev-del", sv_obj2("node-name", node, NULL, NULL), NULL,
                     NULL);
}

/* query-block-jobs: how much of the disks the mirrors have copied, as the job's progress. */
static void mirror_figures(json_object *ret, void *opaque)
{
    sv *s = opaque;
    int64_t done = 0, len = 0;
    size_t n = json_object_is_type(ret, json_type_array) ? json_object_array_length(ret) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *j = json_object_array_get_idx(ret, i);
        if (!kx_startswith(kx_json_str(j, "device", ""), JOB_PREFIX))
            continue;
        done += kx_json_int(j, "offset", 0);
        len += kx_json_int(j, "len", 0);
    }
    if (len > 0 && kx_streq(sv_job_kind(s), "migrate"))
        sv_job_progress(s, "mirroring", (int)(done * 100 / len));
}

void sv_mirror_progress(sv *s)
{
    qmp_send_command(s->qmp, "query-block-jobs", NULL, mirror_figures, s);
}

/* The virtual size of node in query-block's answer, or -1. */
static int64_t node_size(json_object *blocks, const char *node)
{
    size_t n = json_object_is_type(blocks, json_type_array) ? json_object_array_length(blocks)
                                                              : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *ins = NULL, *image = NULL;
        if (json_object_object_get_ex(json_object_array_get_idx(blocks, i), "inserted", &ins) &&
            kx_streq(kx_json_str(ins, "node-name", ""), node) &&
            json_object_object_get_ex(ins, "image", &image))
            return kx_json_int(image, "virtual-size", -1);
    }
    return -1;
}

json_object *sv_mirror_disks(sv *s)
{
    AUTOPTR(json_object) blocks = NULL;
    if (qmp_execute(s->qmp, "query-block", NULL, &blocks, 5000) < 0)
        return NULL;
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < s->cfg->n_disks; i++) {
        const kxl_disk *d = &s->cfg->disks[i];
        char node[QEMU_DISK_NODE_MAX];
        if (d->unplugged || !d->target || d->cdrom || d->readonly)
            continue;
        qemu_disk_node(i, node);
        int64_t size = node_size(blocks, node);
        if (size <= 0) {
            kx_err(KXL_ERR_QEMU, "QEMU did not tell the size of disk %s", d->vdev);
            json_object_put(list);
            return NULL;
        }
        json_object *o = sv_obj2("vdev", d->vdev, "format", kxl_disk_format_to_string(d->format));
        json_object_object_add(o, "size", json_object_new_int64(size));
        json_object_array_add(list, o);
    }
    return list;
}
