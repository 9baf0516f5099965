/* delete_image.h - kxl delete-image, xen-delete-image's counterpart: the
 * disks and the config that create-image made for a host, found where it puts
 * them (DIR/domains/HOST/ or volumes HOST-disk, HOST-swap; OUTPUT/HOST.cfg),
 * and removed. Finding and removing are apart so that the caller can check,
 * for every host first, that no running domain holds a disk. */
#pragma once

#include <stdbool.h>

#include "util/buf.h"

typedef struct {
    const char *hostname;
    const char *dir;       /* images in DIR/domains/HOST/, or */
    const char *lvm;       /* volumes HOST-disk and HOST-swap of this volume group */
    const char *output;    /* the directory of HOST.cfg */
} image_del_opts;

typedef struct {
    kx_strv disks;         /* the image files or /dev/VG/LV that exist */
    bool volumes;          /* disks are logical volumes (removed with lvremove) */
    char *cfg;             /* OUTPUT/HOST.cfg, NULL when it does not exist */
    char *dir;             /* DIR/domains/HOST when it exists (not with --lvm) */
} image_deletion;

/* Fills *d_r with what exists of o->hostname's images and config; -1 with
 * kx_err (KXL_ERR_NOT_FOUND when there is nothing at all). */
int image_delete_find(const image_del_opts *o, image_deletion *d_r);

typedef void (*image_del_say_fn)(const char *what, void *opaque);

/* Removes what d lists (volumes with lvremove), calling say with a line for
 * each thing removed, or left in place (a directory holding other files).
 * Returns 0, or -1 with kx_err at the first failure. */
int image_delete_run(const image_deletion *d, image_del_say_fn say, void *opaque);

void image_deletion_dispose(image_deletion *d);
