/* list_json.c - how a domain looks to a script: the row of `kxl list --json` and of
 * GET /api/v1/domains, and the long form of `kxl list -l` and GET /api/v1/domains/{name}.
 * One shape for every front end, so the command line and kxld show one truth. */
#include <string.h>

#include "cfg/cfg_json.h"
#include "kxl/ops.h"
#include "lib/ops_call.h"
#include "util/err.h"

void kxl_dominfo_state_letters(const kxl_dominfo *d, char out[7])
{
    memcpy(out, "------", 7);
    bool paused = d->state == KXL_STATE_PAUSED || d->state == KXL_STATE_STARTING;
    if (d->state == KXL_STATE_RUNNING) {
        out[0] = d->running ? 'r' : '-';
        out[1] = d->running ? '-' : 'b';
    }
    if (paused)
        out[2] = 'p';
    if (d->state == KXL_STATE_SHUTDOWN || d->state == KXL_STATE_CRASHED)
        out[3] = 's';
    if (d->state == KXL_STATE_CRASHED)
        out[4] = 'c';
    if (d->state == KXL_STATE_DYING)
        out[5] = 'd';
}

json_object *kxl_dominfo_to_json(const kxl_dominfo *d)
{
    json_object *o = json_object_new_object();
    char st[7];
    kxl_dominfo_state_letters(d, st);
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "domid", json_object_new_int64(d->domid));
    json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
    json_object_object_add(o, "state", json_object_new_string(kxl_state_to_string(d->state)));
    json_object_object_add(o, "state_letters", json_object_new_string(st));
    json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)d->memory_mib));
    json_object_object_add(o, "vcpus", json_object_new_int64(d->vcpus));
    json_object_object_add(o, "cpu_time", json_object_new_double(d->cpu_seconds));
    json_object_object_add(o, "qemu_pid", json_object_new_int64(d->qemu_pid));
    json_object_object_add(o, "supervisor_alive", json_object_new_boolean(d->sv_alive));
    return o;
}

/* Each plugged vif's tap counters, from the guest's side (RX: it received), from the record
 * already read (NULL: none). */
static json_object *vif_counters_json(json_object *record)
{
    json_object *out = json_object_new_array();
    kxl_domcfg *cfg = record ? cfg_domcfg_from_json(record) : NULL;
    if (!cfg)
        return out;
    kxl_vif_info *vifs;
    size_t n;
    ops_vifs_take(cfg, &vifs, &n);
    kxl_domcfg_free(cfg);
    for (size_t i = 0; i < n; i++)
        if (vifs[i].vif.vifname)
            json_object_array_add(out, kxl_vif_counters_to_json(&vifs[i]));
    kxl_vif_infos_free(vifs, n);
    return out;
}

json_object *kxl_domain_detail_json(const kxl_paths *p, const kxl_dominfo *d)
{
    json_object *record = NULL;
    kxl_domain_record(p, d->name, &record);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "domid", json_object_new_int64(d->domid));
    json_object_object_add(o, "info", kxl_dominfo_to_json(d));
    json_object_object_add(o, "vif_counters", vif_counters_json(record));
    if (record)
        cfg_json_hide_secrets(record);
    json_object_object_add(o, "config", record);
    kx_err_clear();   /* a domain that went away meanwhile shows without its config */
    return o;
}
