/* sv_dump.c - the guest's memory as an ELF core file (dump-core, on_* = coredump-*) as a job:
 * dump-guest-memory with detach, so that QEMU writes it in a thread of its own and tells the
 * end with its DUMP_COMPLETED event, while query-dump says how far it is. QEMU 7.2 cannot stop
 * a dump once begun: a cancelled one is written to its end, then removed. */
#include <string.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

typedef struct {
    char *path;
} dump_job;

static void dump_dispose(void *priv)
{
    dump_job *d = priv;
    free(d->path);
    free(d);
}

static void dump_progress(sv *s, json_object *ret)
{
    int64_t total = kx_json_int(ret, "total", 0), done = kx_json_int(ret, "completed", 0);
    if (kx_streq(kx_json_str(ret, "status", ""), "active") && total > 0)
        sv_job_progress(s, sv_job_cancelling(s) ? "cancelling" : "writing",
                        (int)(done * 100 / total));
}

static bool dump_event(sv *s, const char *event, json_object *data)
{
    if (!kx_streq(event, "DUMP_COMPLETED"))
        return false;
    dump_job *d = sv_job_priv(s);
    json_object *result = NULL;
    json_object_object_get_ex(data, "result", &result);
    const char *error = kx_json_str(data, "error", NULL);
    if (sv_job_cancelling(s)) {
        unlink(d->path);
        kx_err(KXL_ERR_STATE, "the memory dump of '%s' to '%s' was cancelled", s->name, d->path);
        sv_job_finish(s, NULL);
    } else if (error || !kx_streq(kx_json_str(result, "status", ""), "completed")) {
        kx_err(KXL_ERR_QEMU, "QEMU could not dump the memory of '%s' to '%s': %s", s->name,
               d->path, error ? error : "no reason given");
        sv_job_finish(s, NULL);
    } else {
        sv_event(s, "guest memory dumped to '%s'", d->path);
        sv_job_finish(s, json_object_new_object());
    }
    return true;
}

static int dump_cancel(sv *s)
{
    sv_job_progress(s, "cancelling", -1);
    return 0;
}

static const sv_job_ops dump_ops = {
    .kind = "dump",
    .noun = "a memory dump",
    .query = "query-dump",
    .accepted_phase = "writing",
    .progress = dump_progress,
    .holds_guest = true,
    .event = dump_event,
    .cancel = dump_cancel,
    .dispose = dump_dispose,
};

int sv_dump_start(sv *s, const char *path, sv_job_done_fn done, void *opaque)
{
    if (sv_job_check_idle(s) < 0 || sv_fd_give_for_writing(s, path, "dump") < 0)
        return -1;
    dump_job *d = kx_malloc0(sizeof(*d));
    d->path = kx_strdup(path);
    json_object *info = json_object_new_object();
    json_object_object_add(info, "file", json_object_new_string(path));
    sv_job_start(s, &dump_ops, d, info, done, opaque);
    json_object *a = json_object_new_object();
    json_object_object_add(a, "paging", json_object_new_boolean(false));
    json_object_object_add(a, "protocol", json_object_new_string("fd:dump"));
    json_object_object_add(a, "detach", json_object_new_boolean(true));
    if (qmp_send_command(s->qmp, "dump-guest-memory", a, sv_job_accepted, s) < 0)
        sv_job_finish(s, NULL);
    return 0;
}
