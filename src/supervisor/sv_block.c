/* sv_block.c - disks while the guest runs: hot-plug (blockdev-add +
 * device_add), unplug and CD-ROM media changes. Snapshots are in sv_snapshot.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_spec.h"
#include "lib/disks.h"
#include "lib/runtime.h"
#include "qemu/qemu_disk.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

static kxl_disk *find_disk(sv *s, const char *vdev, size_t *i_r)
{
    for (size_t i = 0; i < s->cfg->n_disks; i++) {
        if (!s->cfg->disks[i].unplugged && kx_streq(s->cfg->disks[i].vdev, vdev)) {
            *i_r = i;
            return &s->cfg->disks[i];
        }
    }
    kx_err(KXL_ERR_NOT_FOUND, "domain '%s' has no disk '%s'", s->name, vdev);
    return NULL;
}

/* The tag of the fd sets that hold a disk's image (sv_fds.c). */
static char *fdset_tag(const kxl_disk *d)
{
    return kx_asprintf("disk:%s", d->vdev);
}

/* Deletes disk i's block node. It may not exist (a CD-ROM started empty, or
 * its first medium was deleted at an earlier change): callers ignore errors. */
static void delete_node(sv *s, size_t i)
{
    char node[QEMU_DISK_NODE_MAX];
    qemu_disk_node(i, node);
    json_object *a = json_object_new_object();
    json_object_object_add(a, "node-name", json_object_new_string(node));
    qmp_execute(s->qmp, "blockdev-del", a, NULL, 5000);
}

static char *place_by_qmp(void *ctx, const int *fds, size_t n, const char *tag)
{
    return sv_fdset_add(ctx, fds, n, tag);
}

static int plug_disk(sv *s, const kxl_disk *d, size_t i)
{
    char node[QEMU_DISK_NODE_MAX];
    qemu_disk_node(i, node);
    AUTOFREE char *tag = fdset_tag(d);
    sv_image img;
    if (sv_image_open(d, tag, place_by_qmp, s, &img) < 0) {
        sv_fdset_drop(s, tag, NULL);
        return -1;
    }
    json_object *bd = qemu_blockdev(d, node, img.fdset, img.block, img.backing);
    sv_image_dispose(&img);
    if (qmp_execute(s->qmp, "blockdev-add", bd, NULL, 10000) < 0) {
        sv_fdset_drop(s, tag, NULL);
        return -1;
    }
    json_object *dev = json_object_new_object();
    json_object_object_add(dev, "driver", json_object_new_string("virtio-blk-pci"));
    json_object_object_add(dev, "drive", json_object_new_string(node));
    json_object_object_add(dev, "id", json_object_new_string(d->vdev));
    if (qmp_execute(s->qmp, "device_add", dev, NULL, 10000) < 0) {
        delete_node(s, i);
        sv_fdset_drop(s, tag, NULL);
        return -1;
    }
    return 0;
}

/* Checks that d can be plugged into s as a new disk. */
static int check_attach(sv *s, const kxl_disk *d)
{
    size_t dup;
    if (d->bus != KXL_DISK_BUS_VIRTIO || d->cdrom || !d->target) {
        kx_err(KXL_ERR_INVALID, "block-attach plugs virtio disks (xvdX or vdX) with an image; "
               "use cd-insert for CD-ROMs");
        return -1;
    }
    if (find_disk(s, d->vdev, &dup)) {
        kx_err(KXL_ERR_EXISTS, "domain '%s' already has a disk '%s'", s->name, d->vdev);
        return -1;
    }
    kx_err_clear();
    if (access(d->target, d->readonly ? R_OK : R_OK | W_OK) < 0) {
        kx_err_errno(KXL_ERR_INVALID, "disk '%s'", d->target);
        return -1;
    }
    return disks_check_free(&s->paths, d, s->name);
}

json_object *sv_block_attach(sv *s, json_object *args)
{
    kxl_disk d = {0};
    size_t i = s->cfg->n_disks;
    /* from the check until the saved config has the disk, as create does: a domain created
     * meanwhile cannot take the same disk */
    AUTOCLOSE int lock = runtime_lock(&s->paths);
    if (lock < 0 || cfg_disk_parse(kx_json_str(args, "spec", ""), "block-attach", &d) < 0 ||
        check_attach(s, &d) < 0 || plug_disk(s, &d, i) < 0) {
        kxl_disk_dispose(&d);
        return NULL;
    }
    s->cfg->disks = kx_realloc(s->cfg->disks, (i + 1) * sizeof(kxl_disk));
    s->cfg->disks[i] = d;
    s->cfg->n_disks = i + 1;
    sv_save_config_list(s, "disks");
    sv_event(s, "disk %s (%s) attached", d.vdev, d.target);
    return json_object_new_object();
}

/* The disk is gone from the guest: its node and fd sets go, and the saved config says so. */
static void disk_unplugged(sv *s, size_t i)
{
    kxl_disk *d = &s->cfg->disks[i];
    delete_node(s, i);
    AUTOFREE char *tag = fdset_tag(d);
    sv_fdset_drop(s, tag, NULL);
    d->unplugged = true;
    sv_save_config_list(s, "disks");
    sv_event(s, "disk %s detached", d->vdev);
}

json_object *sv_block_detach(sv *s, json_object *args)
{
    size_t i;
    kxl_disk *d = find_disk(s, kx_json_str(args, "vdev", ""), &i);
    AUTOFREE char *what = d ? kx_asprintf("disk '%s'", d->vdev) : NULL;
    if (!d || sv_unplug_start(s, d->vdev, what, i, disk_unplugged) < 0)
        return NULL;
    return SV_DEFERRED;
}

/* cd-insert (target given) and cd-eject (none). */
json_object *sv_cd_change(sv *s, json_object *args)
{
    size_t i;
    kxl_disk *d = find_disk(s, kx_json_str(args, "vdev", ""), &i);
    const char *target = kx_json_str(args, "target", NULL);
    if (!d)
        return NULL;
    if (!d->cdrom) {
        kx_err(KXL_ERR_INVALID, "disk '%s' of '%s' is not a CD-ROM", d->vdev, s->name);
        return NULL;
    }
    if (target && access(target, R_OK) < 0) {
        kx_err_errno(KXL_ERR_INVALID, "cannot read '%s'", target);
        return NULL;
    }
    AUTOFREE char *tag = fdset_tag(d);
    AUTOFREE char *fdset = target ? sv_fdset_open(s, target, tag) : NULL;
    if (target && !fdset)
        return NULL;
    json_object *a = json_object_new_object();
    json_object_object_add(a, "id", json_object_new_string(d->vdev));
    if (target) {
        json_object_object_add(a, "filename", json_object_new_string(fdset));
        json_object_object_add(a, "format", json_object_new_string("raw"));
        json_object_object_add(a, "read-only-mode", json_object_new_string("read-only"));
    } else {
        json_object_object_add(a, "force", json_object_new_boolean(true));
    }
    if (qmp_execute(s->qmp, target ? "blockdev-change-medium" : "eject", a, NULL, 10000) < 0) {
        if (fdset)
            sv_fdset_remove(s, fdset);
        return NULL;
    }
    sv_fdset_drop(s, tag, fdset);   /* the previous medium's */
    delete_node(s, i);              /* the first medium's, which -blockdev opened */
    kx_err_clear();
    free(d->target);
    d->target = target ? kx_strdup(target) : NULL;
    d->format = target ? KXL_DISK_FMT_RAW : KXL_DISK_FMT_EMPTY;
    sv_save_config_list(s, "disks");
    sv_event(s, "CD-ROM %s: %s", d->vdev, target ? target : "ejected");
    return json_object_new_object();
}
