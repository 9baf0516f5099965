/* delete_image.c - finds and removes a host's images and config, by the names
 * create-image gives them (create_image.c, plan_paths): only those names, so
 * nothing else in the directory is touched. */
#include "image/delete_image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static void add_if_exists(kx_strv *v, char *path)
{
    if (kx_path_exists(path))
        kx_strv_push(v, path);
    free(path);
}

static int find_volumes(const image_del_opts *o, image_deletion *d)
{
    if (!image_have_device_mapper()) {
        kx_err(KXL_ERR_HOST, "--lvm %s: this host has no device-mapper, so it has no "
               "logical volumes to remove", o->lvm);
        return -1;
    }
    d->volumes = true;
    add_if_exists(&d->disks, kx_asprintf("/dev/%s/%s-disk", o->lvm, o->hostname));
    add_if_exists(&d->disks, kx_asprintf("/dev/%s/%s-swap", o->lvm, o->hostname));
    return 0;
}

static void find_files(const image_del_opts *o, image_deletion *d)
{
    AUTOFREE char *dir = kx_asprintf("%s/domains/%s", o->dir, o->hostname);
    static const char *const names[] = {"disk.img", "disk.qcow2", "swap.img", "swap.qcow2"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(names); i++)
        add_if_exists(&d->disks, kx_asprintf("%s/%s", dir, names[i]));
    if (kx_path_exists(dir))
        d->dir = kx_strdup(dir);
}

int image_delete_find(const image_del_opts *o, image_deletion *d_r)
{
    memset(d_r, 0, sizeof(*d_r));
    if (image_check_hostname(o->hostname) < 0)
        return -1;
    if (o->lvm && strspn(o->lvm, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789+_.-") != strlen(o->lvm)) {
        kx_err(KXL_ERR_INVALID, "--lvm '%s': not a volume group name", o->lvm);
        return -1;
    }
    if (o->lvm) {
        if (find_volumes(o, d_r) < 0)
            return -1;
    } else {
        find_files(o, d_r);
    }
    AUTOFREE char *cfg = kx_asprintf("%s/%s.cfg", o->output, o->hostname);
    if (kx_path_exists(cfg))
        d_r->cfg = kx_strdup(cfg);
    if (d_r->disks.n == 0 && !d_r->cfg && !d_r->dir) {
        kx_err(KXL_ERR_NOT_FOUND, "no images or config of '%s' (looked in %s%s%s and for %s)",
               o->hostname, o->lvm ? "volume group " : "", o->lvm ? o->lvm : o->dir,
               o->lvm ? "" : "/domains", cfg);
        return -1;
    }
    return 0;
}

static int remove_file(const char *path, image_del_say_fn say, void *opaque)
{
    if (unlink(path) < 0) {
        if (errno == ENOENT)   /* gone since it was found */
            return 0;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot remove '%s'", path);
        return -1;
    }
    AUTOFREE char *line = kx_asprintf("removed %s", path);
    say(line, opaque);
    return 0;
}

static int remove_volume(const char *path, image_del_say_fn say, void *opaque)
{
    /* lvremove wants VG/LV; the path is /dev/VG/LV */
    image_cmd c = {.argv = (char *const[]){"lvremove", "-q", "-f", (char *)path + 5, NULL},
                   .what = "lvremove"};
    if (image_run(&c) < 0)
        return -1;
    AUTOFREE char *line = kx_asprintf("removed %s", path);
    say(line, opaque);
    return 0;
}

int image_delete_run(const image_deletion *d, image_del_say_fn say, void *opaque)
{
    for (size_t i = 0; i < d->disks.n; i++)
        if ((d->volumes ? remove_volume : remove_file)(d->disks.v[i], say, opaque) < 0)
            return -1;
    if (d->dir) {
        AUTOFREE char *line = NULL;
        if (rmdir(d->dir) == 0)
            line = kx_asprintf("removed %s", d->dir);
        else if (errno == ENOTEMPTY || errno == EEXIST)
            line = kx_asprintf("kept %s: it holds files create-image did not make", d->dir);
        else if (errno != ENOENT) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot remove '%s'", d->dir);
            return -1;
        }
        if (line)
            say(line, opaque);
    }
    if (d->cfg && remove_file(d->cfg, say, opaque) < 0)
        return -1;
    return 0;
}

void image_deletion_dispose(image_deletion *d)
{
    kx_strv_dispose(&d->disks);
    free(d->cfg);
    free(d->dir);
}
