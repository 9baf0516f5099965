/* sv_chain.c - a disk's image and the files below it (its qcow2 backing
 * chain), opened by the supervisor and handed to QEMU as descriptors: at start
 * on its command line (sv_disks.c), later through the monitor (sv_block.c).
 * QEMU, unprivileged by then, opens no image by name; it could not resolve a
 * relative backing name against /dev/fdset/N anyway.
 *
 * A header is data from whoever made the image: the supervisor is root, but
 * each backing file is opened with the file-system identity of the owner of
 * the image that names it (setfsuid), so an image can reach only what its
 * owner could read. Each file is opened once for reading (a writable image
 * once more for writing, checked to be the same file), and what was checked
 * (its type, its identity for loops, its header) is what QEMU gets. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qemu/qemu_disk.h"
#include "boot/qcow2.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define CHAIN_MAX 16

typedef struct {
    char *path;
    int fd;
    struct stat st;
    kxl_disk_format format;
} chain_link;

static void links_dispose(chain_link *links, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(links[i].path);
        if (links[i].fd >= 0)
            close(links[i].fd);
    }
}

/* O_NONBLOCK: a FIFO put in an image's place must not stall the supervisor */
static int open_as(const char *path, uid_t uid, gid_t gid)
{
    setfsgid(gid);
    setfsuid(uid);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int e = errno;
    setfsuid(geteuid());
    setfsgid(getegid());
    errno = e;
    return fd;
}

/* Opens l->path, as the owner of parent's file when there is a parent. */
static int open_link(chain_link *l, const chain_link *parent)
{
    l->fd = parent ? open_as(l->path, parent->st.st_uid, parent->st.st_gid)
                   : open(l->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (l->fd < 0) {
        if (parent)
            kx_err_errno(KXL_ERR_INVALID, "backing file '%s' of '%s' (opened as the owner of "
                         "'%s', uid %u)", l->path, parent->path, parent->path,
                         (unsigned)parent->st.st_uid);
        else
            kx_err_errno(KXL_ERR_INVALID, "cannot open '%s'", l->path);
        return -1;
    }
    if (fstat(l->fd, &l->st) < 0 || (!S_ISREG(l->st.st_mode) && !S_ISBLK(l->st.st_mode))) {
        kx_err(KXL_ERR_INVALID, "'%s' is neither a file nor a block device", l->path);
        return -1;
    }
    return fcntl(l->fd, F_SETFL, 0);   /* QEMU reads it blocking, as any image */
}

/* The format of the file below: as its parent's header says (raw or qcow2),
 * else probed as QEMU would. */
static int link_format(chain_link *l, const char *given)
{
    if (!given) {
        l->format = qcow2_probe(l->fd) ? KXL_DISK_FMT_QCOW2 : KXL_DISK_FMT_RAW;
        return 0;
    }
    int f = kxl_disk_format_from_string(given);
    if (f != KXL_DISK_FMT_RAW && f != KXL_DISK_FMT_QCOW2) {
        kx_err(KXL_ERR_INVALID, "backing file '%s' has format '%s'; kxl hot-plugs raw and qcow2",
               l->path, given);
        return -1;
    }
    l->format = (kxl_disk_format)f;
    return 0;
}

static bool seen(const chain_link *links, size_t n, const struct stat *st)
{
    for (size_t k = 0; k < n; k++)
        if (links[k].st.st_dev == st->st_dev && links[k].st.st_ino == st->st_ino)
            return true;
    return false;
}

/* Opens links[1..] below links[0] (open); the number of links, or -1. */
static int walk(chain_link *links)
{
    size_t n = 1;
    while (links[n - 1].format == KXL_DISK_FMT_QCOW2) {
        AUTOFREE char *name = NULL, *format = NULL;
        if (qcow2_read_backing(links[n - 1].fd, links[n - 1].path, &name, &format) < 0)
            return -1;
        if (!name)
            return (int)n;
        if (n == CHAIN_MAX) {
            kx_err(KXL_ERR_INVALID, "'%s': more than %d images in its backing chain",
                   links[0].path, CHAIN_MAX);
            return -1;
        }
        chain_link *l = &links[n];
        l->path = qcow2_backing_path(links[n - 1].path, name);
        if (open_link(l, &links[n - 1]) < 0 || link_format(l, format) < 0)
            return -1;
        if (seen(links, n, &l->st)) {
            kx_err(KXL_ERR_INVALID, "'%s': its backing chain loops back to '%s'",
                   links[0].path, l->path);
            return -1;
        }
        n++;
    }
    return (int)n;
}

/* The nodes of links[i..n), each over the next: the one for links[i]. */
static json_object *nodes(const chain_link *links, size_t i, size_t n, const char *tag,
                          sv_fd_place_fn place, void *ctx)
{
    AUTOFREE char *fdset = place(ctx, &links[i].fd, 1, tag);
    if (!fdset)
        return NULL;
    json_object *below = NULL;
    if (i + 1 < n && !(below = nodes(links, i + 1, n, tag, place, ctx)))
        return NULL;
    kxl_disk d = {.format = links[i].format, .readonly = true};
    json_object *o = qemu_blockdev(&d, NULL, fdset, S_ISBLK(links[i].st.st_mode), below);
    json_object_put(below);
    return o;
}

/* The image's own set: the descriptor read for the checks and, for a writable disk, one for
 * writing, so QEMU can reopen the image either way. */
static char *place_image(const kxl_disk *d, const chain_link *top, const char *tag,
                         sv_fd_place_fn place, void *ctx)
{
    if (d->readonly || d->cdrom)
        return place(ctx, &top->fd, 1, tag);
    AUTOCLOSE int rw = open(top->path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (rw < 0 || fstat(rw, &st) < 0) {
        kx_err_errno(KXL_ERR_INVALID, "cannot open '%s' for writing", top->path);
        return NULL;
    }
    if (st.st_dev != top->st.st_dev || st.st_ino != top->st.st_ino) {
        kx_err(KXL_ERR_INVALID, "'%s' was replaced while it was opened", top->path);
        return NULL;
    }
    int fds[2] = {top->fd, rw};
    return place(ctx, fds, 2, tag);
}

int sv_image_open(const kxl_disk *d, const char *tag, sv_fd_place_fn place, void *ctx,
                  sv_image *img_r)
{
    *img_r = (sv_image){0};
    chain_link links[CHAIN_MAX];
    for (size_t i = 0; i < CHAIN_MAX; i++)
        links[i] = (chain_link){.fd = -1};
    links[0].path = kx_strdup(d->target);
    links[0].format = d->format;
    int n = open_link(&links[0], NULL) < 0 ? -1 : walk(links);
    if (n > 1 && !(img_r->backing = nodes(links, 1, (size_t)n, tag, place, ctx)))
        n = -1;
    if (n > 0 && !(img_r->fdset = place_image(d, &links[0], tag, place, ctx)))
        n = -1;
    img_r->block = n > 0 && S_ISBLK(links[0].st.st_mode);
    links_dispose(links, CHAIN_MAX);
    if (n < 0)
        sv_image_dispose(img_r);
    return n < 0 ? -1 : 0;
}

void sv_image_dispose(sv_image *img)
{
    free(img->fdset);
    json_object_put(img->backing);
    *img = (sv_image){0};
}
