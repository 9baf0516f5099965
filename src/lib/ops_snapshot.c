/* ops_snapshot.c - snapshots: of a running domain, its qcow2 disks and memory, taken by its
 * supervisor; of a config file whose domain is shut down, its qcow2 disks, with qemu-img disk
 * by disk after checking all of them (a create that fails on one disk is taken back from the
 * disks before it). Either way the list is the disks' own lists, merged (snapshot_list.c). */
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_keys.h"
#include "lib/ops_call.h"
#include "lib/snapshot.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

typedef enum { SNAP_CREATE, SNAP_REVERT, SNAP_DELETE, SNAP_LIST } snap_op;

static const struct {
    kxl_op op;
    const char *verb_op;    /* the supervisor's "op" argument */
    const char *img_flag;   /* qemu-img snapshot's */
} snap_ops[] = {
    [SNAP_CREATE] = {KXL_OP_SNAPSHOT_CREATE, "create", "-c"},
    [SNAP_REVERT] = {KXL_OP_SNAPSHOT_REVERT, "revert", "-a"},
    [SNAP_DELETE] = {KXL_OP_SNAPSHOT_DELETE, "delete", "-d"},
    [SNAP_LIST] = {KXL_OP_SNAPSHOT_LIST, "list", "-l"},
};

/* The snapshots of the image file, QEMU's SnapshotInfo list (caller puts), or NULL with kx_err. */
static json_object *image_snapshots(const char *file)
{
    char *argv[] = {"qemu-img", "info", "--output=json", "-U", (char *)file, NULL};
    AUTOFREE char *text = kx_run_capture(argv);
    AUTOPTR(json_object) info = text ? kx_json_parse(text, "qemu-img info") : NULL;
    if (!info)
        return NULL;
    json_object *snaps = NULL;
    json_object_object_get_ex(info, "snapshots", &snaps);
    return snaps ? json_object_get(snaps) : json_object_new_array();
}

/* Whether the qcow2 image file holds a snapshot called name: 1, 0, or -1 with kx_err. */
static int image_has_snapshot(const char *file, const char *name)
{
    AUTOPTR(json_object) snaps = image_snapshots(file);
    if (!snaps)
        return -1;
    for (size_t i = 0; i < json_object_array_length(snaps); i++)
        if (kx_streq(kx_json_str(json_object_array_get_idx(snaps, i), "name", ""), name))
            return 1;
    return 0;
}

/* The writable disks of a config (their files, and their vdevs in vdevs_r when not NULL), all
 * checked to be qcow2 before anything is changed. */
static int snapshot_disks(const char *file, const kxl_domcfg *cfg, kx_strv *targets_r,
                          kx_strv *vdevs_r)
{
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        if (!d->target || d->cdrom || d->readonly)
            continue;
        if (d->format != KXL_DISK_FMT_QCOW2) {
            kx_err(KXL_ERR_INVALID, "snapshots need qcow2 disks: '%s' is %s", d->target,
                   kxl_disk_format_to_string(d->format));
            return -1;
        }
        kx_strv_push(targets_r, d->target);
        if (vdevs_r)
            kx_strv_push(vdevs_r, d->vdev ? d->vdev : d->target);
    }
    if (targets_r->n == 0) {
        kx_err(KXL_ERR_INVALID, "'%s' has no writable disk to snapshot", file);
        return -1;
    }
    return 0;
}

/* create needs the name free on every disk; revert and delete need it on every disk. */
static int check_snapshot_names(const kx_strv *targets, snap_op op, const char *name)
{
    bool create = op == SNAP_CREATE;
    for (size_t i = 0; i < targets->n; i++) {
        int has = image_has_snapshot(targets->v[i], name);
        if (has < 0)
            return -1;
        if (has == create) {
            kx_err(create ? KXL_ERR_EXISTS : KXL_ERR_NOT_FOUND,
                   create ? "disk '%s' already has a snapshot '%s'"
                          : "disk '%s' has no snapshot '%s'", targets->v[i], name);
            return -1;
        }
    }
    return 0;
}

/* Applies op to every disk; a create that fails on one disk is taken back from those before. */
static int change_snapshots(const kx_strv *targets, snap_op op, const char *name)
{
    for (size_t i = 0; i < targets->n; i++) {
        char *argv[] = {"qemu-img", "snapshot", (char *)snap_ops[op].img_flag, (char *)name,
                        targets->v[i], NULL};
        if (kx_run(argv) == 0)
            continue;
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        for (size_t k = 0; op == SNAP_CREATE && k < i; k++) {
            char *undo[] = {"qemu-img", "snapshot", "-d", (char *)name, targets->v[k], NULL};
            kx_run(undo);
        }
        kx_err(KXL_ERR_INTERNAL, "%s", why);
        return -1;
    }
    return 0;
}

/* [{"vdev", "snapshots"}] of the disks, as the supervisor answers for a running domain. */
static json_object *disks_snapshots(const kx_strv *targets, const kx_strv *vdevs)
{
    json_object *disks = json_object_new_array();
    for (size_t i = 0; i < targets->n; i++) {
        json_object *snaps = image_snapshots(targets->v[i]);
        if (!snaps) {
            json_object_put(disks);
            return NULL;
        }
        json_object *d = json_object_new_object();
        json_object_object_add(d, "vdev", json_object_new_string(vdevs->v[i]));
        json_object_object_add(d, "snapshots", snaps);
        json_object_array_add(disks, d);
    }
    return disks;
}

/* The snapshot list's answer: the disks' lists merged (snapshot_list.c). */
typedef struct {
    kxl_snapshot *snaps;
    size_t n;
} snap_listing;

static int list_merged(json_object *disks, snap_listing *l)
{
    return disks ? snapshot_list_merge(disks, &l->snaps, &l->n) : -1;
}

static int offline_snapshot(const char *file, snap_op op, const char *name, snap_listing *l)
{
    AUTOPTR(kxl_domcfg) cfg = cfg_load(file, NULL, kxl_host_cpus(), CFG_LOAD_CHECK_FILES);
    if (!cfg)
        return -1;
    kx_strv targets = KX_STRV_INIT, vdevs = KX_STRV_INIT;
    int r = snapshot_disks(file, cfg, &targets, &vdevs);
    if (r == 0 && op == SNAP_LIST) {
        AUTOPTR(json_object) disks = disks_snapshots(&targets, &vdevs);
        r = list_merged(disks, l);
    } else if (r == 0) {
        r = check_snapshot_names(&targets, op, name) < 0 ? -1 : change_snapshots(&targets, op,
                                                                                 name);
    }
    kx_strv_dispose(&targets);
    kx_strv_dispose(&vdevs);
    return r;
}

static int snapshot(const kxl_paths *p, const char *target, snap_op op, const char *name,
                    snap_listing *l)
{
    /* checked here for both kinds: an offline snapshot's name goes to qemu-img unchecked */
    if (op != SNAP_LIST && !kxl_name_is_valid(name)) {
        kx_err(KXL_ERR_INVALID, "invalid snapshot name '%s' (use " KXL_NAME_RULE ")", name);
        return -1;
    }
    /* a bare name that a running domain has is that domain, whatever file of that name the
     * caller's working directory holds (kxld's is not its client's) */
    kxl_dominfo running;
    bool bare = !strchr(target, '/');
    if (!(bare && kxl_domain_lookup(p, target, &running) == 0) &&
        (!bare || kx_path_exists(target)))
        return offline_snapshot(target, op, name, l);
    AUTOPTR(json_object) ret = NULL;
    json_object *args = op_args("op", snap_ops[op].verb_op, "name", name, NULL);
    if (op_call(p, snap_ops[op].op, target, args, &ret) < 0)
        return -1;
    return op == SNAP_LIST ? list_merged(ret, l) : 0;
}

int kxl_snapshot_create(const kxl_paths *p, const char *target, const char *name)
{
    return snapshot(p, target, SNAP_CREATE, name, NULL);
}

int kxl_snapshot_revert(const kxl_paths *p, const char *target, const char *name)
{
    return snapshot(p, target, SNAP_REVERT, name, NULL);
}

int kxl_snapshot_delete(const kxl_paths *p, const char *target, const char *name)
{
    return snapshot(p, target, SNAP_DELETE, name, NULL);
}

int kxl_snapshot_list(const kxl_paths *p, const char *target, kxl_snapshot **snaps_r,
                      size_t *n_r)
{
    snap_listing l = {0};
    if (snapshot(p, target, SNAP_LIST, "", &l) < 0)
        return -1;
    *snaps_r = l.snaps;
    *n_r = l.n;
    return 0;
}

char *kxl_snapshot_target(const kxl_paths *p, const char *dom)
{
    kxl_dominfo running;
    if (kxl_domain_lookup(p, dom, &running) == 0)
        return kx_strdup(running.name);
    kx_err_clear();
    AUTOFREE char *file = NULL;
    if (kxl_name_is_valid(dom)) {
        AUTOFREE char *base = kx_asprintf("%s.cfg", dom);
        file = kx_path_join(p->etc_dir, base);
    }
    if (!file || !kx_path_exists(file)) {
        kx_err(KXL_ERR_NOT_FOUND, "domain '%s' does not exist: it does not run, and "
               "%s/%s.cfg is no config of it", dom, p->etc_dir, kxl_name_is_valid(dom) ? dom
                                                                                       : "NAME");
        return NULL;
    }
    AUTOPTR(kxl_domcfg) cfg = cfg_load(file, NULL, kxl_host_cpus(), 0);
    if (!cfg)
        return NULL;
    if (strcmp(cfg->name, dom) != 0) {
        kx_err(KXL_ERR_NOT_FOUND, "domain '%s' does not run, and its config file '%s' is of "
               "domain '%s'", dom, file, cfg->name);
        return NULL;
    }
    return TAKE_PTR(file);
}
