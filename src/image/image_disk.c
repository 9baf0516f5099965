/* image_disk.c - the guest's disks. The root disk is one ext2/3/4 file system over the whole
 * disk (no partition table: root=UUID on /dev/vda), made and filled from the work tree in one
 * go by mke2fs -d, so nothing is mounted; a qcow2 disk is converted from that raw file. The
 * swap disk is the second disk. Both are written under temporary names (files or logical
 * volumes) and renamed into place only when the whole run has succeeded. */
#include "image/image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* The device or file a temporary disk is written to. Caller frees. */
static char *target_path(const image_job *j, const char *tmp)
{
    return j->o->lvm ? kx_asprintf("/dev/%s/%s", j->o->lvm, tmp) : kx_strdup(tmp);
}

/* An empty file of size_mib (sparse, or allocated with --image full). */
static int make_file(const image_opts *o, const char *path, uint64_t size_mib)
{
    AUTOCLOSE int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create '%s'", path);
        return -1;
    }
    off_t size = (off_t)(size_mib << 20);
    if (ftruncate(fd, size) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot size '%s'", path);
        return -1;
    }
    int e = o->full ? posix_fallocate(fd, 0, size) : 0;
    if (e) {
        errno = e;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot allocate %llu MiB for '%s'",
                     (unsigned long long)size_mib, path);
        return -1;
    }
    return 0;
}

static int make_volume(image_job *j, const char *name, uint64_t size_mib)
{
    AUTOFREE char *size = kx_asprintf("%llum", (unsigned long long)size_mib);
    if (image_runl(j->o, "lvcreate", "-q", "-y", "-W", "y", "-n", name, "-L", size, j->o->lvm,
                   NULL) < 0)
        return -1;
    kx_strv_pushf(&j->made, "lv:%s/%s", j->o->lvm, name);
    return 0;
}

/* The raw file (or volume) a disk is made in: for qcow2, a raw file converted afterwards. */
static int make_raw(image_job *j, const char *tmp, uint64_t size_mib, char **raw_r)
{
    if (j->o->lvm) {
        *raw_r = target_path(j, tmp);
        return make_volume(j, tmp, size_mib);
    }
    *raw_r = j->o->format == IMG_FORMAT_QCOW2 ? kx_asprintf("%s.raw", tmp) : kx_strdup(tmp);
    kx_strv_push(&j->made, *raw_r);
    return make_file(j->o, *raw_r, size_mib);
}

static int to_qcow2(image_job *j, const char *raw, const char *tmp)
{
    if (j->o->format != IMG_FORMAT_QCOW2)
        return 0;
    kx_strv_push(&j->made, tmp);
    int r = image_runl(j->o, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o",
                       j->o->full ? "preallocation=falloc" : "preallocation=off", raw, tmp, NULL);
    unlink(raw);
    if (r == 0 && chmod(tmp, 0600) < 0) {   /* it holds root's password hash */
        kx_err_errno(KXL_ERR_INTERNAL, "cannot chmod '%s'", tmp);
        return -1;
    }
    return r;
}

/* The tree must fit: its files, about a tenth more for metadata, and the journal. */
static int check_fits(const image_job *j)
{
    uint64_t used_mib = (image_tree_bytes(j->tree) >> 20) + 1;
    uint64_t need_mib = used_mib + used_mib / 10 + (strcmp(j->o->fs, "ext2") ? 64 : 16);
    if (j->o->size_mib < need_mib) {
        kx_err(KXL_ERR_INVALID, "--size %llumb is too small: the guest's files take %llu MiB; "
               "give at least --size %llumb", (unsigned long long)j->o->size_mib,
               (unsigned long long)used_mib, (unsigned long long)need_mib);
        return -1;
    }
    return 0;
}

int image_disk_root(image_job *j)
{
    const image_opts *o = j->o;
    AUTOFREE char *size = image_mib_text(o->size_mib);
    image_step(j, "Creating the %s %s root disk %s ...", size, o->fs, j->disk_final);
    if (check_fits(j) < 0)
        return -1;
    AUTOFREE char *raw = NULL;
    if (make_raw(j, j->disk_tmp, o->size_mib, &raw) < 0)
        return -1;
    AUTOFREE char *what = kx_asprintf("mke2fs -t %s -d %s", o->fs, j->tree);
    image_cmd c = {.argv = (char *const[]){"mke2fs", "-q", "-F", "-t", o->fs, "-U", j->root_uuid,
                                           "-d", j->tree, raw, NULL},
                   .what = what, .verbose = o->verbose};
    if (image_run(&c) < 0)
        return -1;
    return to_qcow2(j, raw, j->disk_tmp);
}

int image_disk_swap(image_job *j)
{
    const image_opts *o = j->o;
    AUTOFREE char *size = image_mib_text(o->swap_mib);
    image_step(j, "Creating the %s swap disk %s ...", size, j->swap_final);
    AUTOFREE char *raw = NULL;
    if (make_raw(j, j->swap_tmp, o->swap_mib, &raw) < 0 ||
        image_runl(o, "mkswap", "-U", j->swap_uuid, raw, NULL) < 0)
        return -1;
    return to_qcow2(j, raw, j->swap_tmp);
}

static int commit_one(image_job *j, const char *tmp, const char *final)
{
    if (!j->o->lvm) {
        if (rename(tmp, final) < 0) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot rename '%s' to '%s'", tmp, final);
            return -1;
        }
        kx_strv_push(&j->made, final);
        return 0;
    }
    const char *name = strrchr(final, '/') + 1;
    AUTOFREE char *vg_final = kx_asprintf("%s/%s", j->o->lvm, name);
    if (kx_path_exists(final) && image_runl(j->o, "lvremove", "-q", "-f", vg_final, NULL) < 0)
        return -1;
    if (image_runl(j->o, "lvrename", "-q", j->o->lvm, tmp, name, NULL) < 0)
        return -1;
    kx_strv_pushf(&j->made, "lv:%s", vg_final);
    return 0;
}

int image_disk_commit(image_job *j)
{
    if (commit_one(j, j->disk_tmp, j->disk_final) < 0)
        return -1;
    return j->swap_tmp ? commit_one(j, j->swap_tmp, j->swap_final) : 0;
}
