/* kxld_routes_devices.c - routes of a running domain's devices (disks, CD-ROM media, vifs),
 * its snapshots, and the host's named networks. Each parses its body into the call kxl's
 * command makes (src/cli/cmd_block.c, cmd_network.c). */
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_spec.h"
#include "daemon/kxld_body.h"
#include "daemon/kxld_ops_routes.h"
#include "lib/network.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

static const char *dom(const kxld_request *rq)
{
    return http_param(rq->params, "name");
}

/* ---- disks and media ---- */

/* The disk vdev of dom as block-list --json shows it, or NULL. */
static json_object *plugged_disk(const kxld_request *rq, const char *vdev)
{
    kxl_disk *disks;
    size_t n;
    json_object *found = NULL;
    if (kxl_block_list(rq->paths, dom(rq), &disks, &n) < 0)
        return NULL;
    for (size_t i = 0; i < n && !found; i++)
        if (disks[i].vdev && strcmp(disks[i].vdev, vdev) == 0)
            found = kxl_disk_to_json(&disks[i]);
    kxl_disks_free(disks, n);
    return found;
}

/* {"spec": DISK-SPEC} as kxl block-attach DOM SPEC: the disk as it is plugged. The spec is read
 * here first only to refuse a relative target (relative to what, for a client?). */
int kxld_attach_disk(const kxld_request *rq, json_object **out_r)
{
    static const char *const members[] = {"spec", NULL};
    const char *spec;
    kxl_disk d = {0};
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_nonempty(rq->body, "spec", true, &spec) < 0)
        return -1;
    int r = cfg_disk_parse(spec, "request body: 'spec'", &d);
    if (r == 0 && d.target && d.target[0] != '/') {
        kx_err(KXL_ERR_INVALID, "request body: 'spec': target '%s' is not an absolute path",
               d.target);
        r = -1;
    }
    if (r == 0)
        r = kxl_block_attach(rq->paths, dom(rq), spec);
    if (r == 0 && !(*out_r = plugged_disk(rq, d.vdev)))
        *out_r = kxl_disk_to_json(&d);   /* gone already: as it was asked */
    kxl_disk_dispose(&d);
    return r < 0 ? -1 : 201;
}

int kxld_detach_disk(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return kxl_block_detach(rq->paths, dom(rq), http_param(rq->params, "vdev")) < 0 ? -1 : 204;
}

/* {"file": PATH}, as kxl cd-insert DOM VDEV PATH */
int kxld_insert_medium(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    static const char *const members[] = {"file", NULL};
    const char *file;
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_path(rq->body, "file", true, true, &file) < 0)
        return -1;
    return kxl_cd_insert(rq->paths, dom(rq), http_param(rq->params, "vdev"), file) < 0 ? -1
                                                                                      : 204;
}

int kxld_eject_medium(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return kxl_cd_eject(rq->paths, dom(rq), http_param(rq->params, "vdev")) < 0 ? -1 : 204;
}

/* ---- vifs ---- */

/* {"spec": VIF-SPEC} (optional: the defaults), as kxl network-attach DOM SPEC: the new vif. */
int kxld_attach_vif(const kxld_request *rq, json_object **out_r)
{
    static const char *const members[] = {"spec", NULL};
    const char *spec;
    AUTOFREE char *devid = NULL;
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_nonempty(rq->body, "spec", false, &spec) < 0 ||
        kxl_network_attach(rq->paths, dom(rq), spec ? spec : "", &devid) < 0)
        return -1;
    kxl_vif_info *vifs;
    size_t n;
    if (kxl_vif_list(rq->paths, dom(rq), &vifs, &n) < 0)
        return -1;
    for (size_t i = 0; i < n && !*out_r; i++)
        if (devid && (unsigned)strtoul(devid, NULL, 10) == vifs[i].devid)
            *out_r = kxl_vif_counters_to_json(&vifs[i]);
    kxl_vif_infos_free(vifs, n);
    if (!*out_r) {
        kx_err(KXL_ERR_INTERNAL, "vif %s of '%s' is gone already", devid ? devid : "?", dom(rq));
        return -1;
    }
    return 201;
}

/* {vif}: its index or MAC, as kxl network-detach DOM VIF */
int kxld_detach_vif(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return kxl_network_detach(rq->paths, dom(rq), http_param(rq->params, "vif")) < 0 ? -1 : 204;
}

/* ---- snapshots: of a running domain, through its supervisor; of a shut-down one, of its
 * config file's disks (ETC/NAME.cfg). The library decides which (kxl_snapshot_target). ---- */

/* {"name": NAME}: a valid name; *target_r (caller frees) the domain's snapshot target. */
static int snapshot_args(const kxld_request *rq, char **target_r, const char **name_r)
{
    static const char *const members[] = {"name", NULL};
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_nonempty(rq->body, "name", true, name_r) < 0)
        return -1;
    if (!kxl_name_is_valid(*name_r)) {
        kx_err(KXL_ERR_INVALID, "invalid snapshot name '%s' (use " KXL_NAME_RULE ")", *name_r);
        return -1;
    }
    return (*target_r = kxl_snapshot_target(rq->paths, dom(rq))) ? 0 : -1;
}

int kxld_snapshot_check(const kxld_request *rq)
{
    AUTOFREE char *target = NULL;
    const char *name;
    return snapshot_args(rq, &target, &name);
}

/* as kxl snapshot-create DOM|CONFIG NAME, in a job: {"domain", "name"} */
int kxld_create_snapshot(const kxld_request *rq, json_object **out_r)
{
    AUTOFREE char *target = NULL;
    const char *name;
    if (snapshot_args(rq, &target, &name) < 0 || kxl_snapshot_create(rq->paths, target, name) < 0)
        return -1;
    *out_r = json_object_new_object();
    json_object_object_add(*out_r, "domain", json_object_new_string(dom(rq)));
    json_object_object_add(*out_r, "name", json_object_new_string(name));
    return 201;
}

/* as kxl snapshot-list --json DOM|CONFIG: the list of kxl_snapshot_to_json */
int kxld_list_snapshots(const kxld_request *rq, json_object **out_r)
{
    AUTOFREE char *target = kxl_snapshot_target(rq->paths, dom(rq));
    kxl_snapshot *snaps;
    size_t n;
    if (!target || kxl_snapshot_list(rq->paths, target, &snaps, &n) < 0)
        return -1;
    *out_r = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(*out_r, kxl_snapshot_to_json(&snaps[i]));
    kxl_snapshots_free(snaps, n);
    return 200;
}

int kxld_revert_snapshot(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    AUTOFREE char *target = kxl_snapshot_target(rq->paths, dom(rq));
    return !target || kxl_snapshot_revert(rq->paths, target,
                                          http_param(rq->params, "snapshot")) < 0 ? -1 : 204;
}

int kxld_delete_snapshot(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    AUTOFREE char *target = kxl_snapshot_target(rq->paths, dom(rq));
    return !target || kxl_snapshot_delete(rq->paths, target,
                                          http_param(rq->params, "snapshot")) < 0 ? -1 : 204;
}

/* ---- the host's networks ---- */

/* as kxl network-list (no domain): the definitions under etc/kxl/networks/ */
int kxld_list_networks(const kxld_request *rq, json_object **out_r)
{
    *out_r = network_list_json(rq->paths);
    return 200;
}
