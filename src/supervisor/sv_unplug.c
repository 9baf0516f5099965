/* sv_unplug.c - hot-unplug (block-detach, network-detach) as a job: device_del only asks the
 * guest, and the device is gone when QEMU says so with DEVICE_DELETED; what it used (a disk's
 * node and fd sets, a vif's netdev) is released then. A guest that does not let go within
 * SV_UNPLUG_MS keeps the device, and the request fails. */
#include <stdio.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

#define SV_UNPLUG_MS 15000

typedef struct {
    char *id;                 /* the device's id in QEMU */
    char *what;               /* "disk 'xvdb'", "vif 2": for messages */
    size_t index;
    sv_unplugged_fn unplugged;
} unplug_job;

static void unplug_dispose(void *priv)
{
    unplug_job *u = priv;
    free(u->id);
    free(u->what);
    free(u);
}

static bool unplug_event(sv *s, const char *event, json_object *data)
{
    unplug_job *u = sv_job_priv(s);
    if (!kx_streq(event, "DEVICE_DELETED") || !kx_streq(kx_json_str(data, "device", ""), u->id))
        return false;
    u->unplugged(s, u->index);
    kx_err_clear();
    sv_job_finish(s, json_object_new_object());
    return true;
}

static void unplug_timed_out(sv *s)
{
    unplug_job *u = sv_job_priv(s);
    kx_err(KXL_ERR_STATE, "the guest did not release %s within %d s", u->what,
           SV_UNPLUG_MS / 1000);
}

static const sv_job_ops unplug_ops = {
    .kind = "unplug",
    .noun = "an unplug",
    .accepted_phase = "waiting for the guest",
    .event = unplug_event,
    .timeout_ms = SV_UNPLUG_MS,
    .timed_out = unplug_timed_out,
    .dispose = unplug_dispose,
};

int sv_unplug_start(sv *s, const char *id, const char *what, size_t index,
                    sv_unplugged_fn unplugged)
{
    if (sv_job_check_idle(s) < 0)
        return -1;
    unplug_job *u = kx_malloc0(sizeof(*u));
    *u = (unplug_job){.id = kx_strdup(id), .what = kx_strdup(what), .index = index,
                      .unplugged = unplugged};
    /* the job is there before device_del goes out: its event cannot come before it */
    sv_job_start(s, &unplug_ops, u, sv_obj2("device", id, NULL, NULL), sv_control_job_done,
                 sv_control_defer(s));
    if (qmp_send_command(s->qmp, "device_del", sv_obj2("id", id, NULL, NULL), sv_job_accepted,
                         s) < 0)
        sv_job_finish(s, NULL);
    return 0;
}
