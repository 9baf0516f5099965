/* sv_chain.c - the backing chain of a qcow2 image plugged into a running
 * domain. QEMU would open the files below the image itself, by the names in
 * its header; but by then it runs unprivileged, and it knows the image only
 * as /dev/fdset/N, against which a relative name does not resolve. So the
 * supervisor reads the headers (storage/qcow2.c), opens every file below
 * read-only into an fd set with the disk's tag, and hands blockdev-add the
 * whole chain, leaving QEMU nothing to open by name. The files are opened as
 * the image names them, with the trust a boot disk's chain has (QEMU opens
 * that one as root): attach images whose backing files are yours. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qemu/qemu_disk.h"
#include "storage/qcow2.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define CHAIN_MAX 16

typedef struct {
    char *path;
    kxl_disk_format format;
    dev_t dev;
    ino_t ino;
    bool block;
} chain_link;

static void links_dispose(chain_link *links, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(links[i].path);
}

static int stat_link(chain_link *l, const char *what)
{
    struct stat st;
    if (stat(l->path, &st) < 0) {
        kx_err_errno(KXL_ERR_INVALID, "%s '%s'", what, l->path);
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        kx_err(KXL_ERR_INVALID, "%s '%s' is neither a file nor a block device", what, l->path);
        return -1;
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->block = S_ISBLK(st.st_mode);
    return 0;
}

/* The format of the file below: as its parent's header says (raw or qcow2),
 * else probed as QEMU would. */
static int link_format(chain_link *l, const char *given)
{
    if (!given) {
        AUTOCLOSE int fd = open(l->path, O_RDONLY | O_CLOEXEC);
        l->format = fd >= 0 && qcow2_probe(fd) ? KXL_DISK_FMT_QCOW2 : KXL_DISK_FMT_RAW;
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

/* Fills links[1..] with the files below links[0]; the count, or -1. */
static int walk(chain_link *links)
{
    size_t n = 1;
    while (links[n - 1].format == KXL_DISK_FMT_QCOW2) {
        AUTOFREE char *name = NULL, *format = NULL;
        AUTOCLOSE int fd = open(links[n - 1].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            kx_err_errno(KXL_ERR_INVALID, "cannot open '%s'", links[n - 1].path);
            return -1;
        }
        if (qcow2_read_backing(fd, links[n - 1].path, &name, &format) < 0)
            return -1;
        if (!name)
            return (int)n;
        if (n == CHAIN_MAX) {
            kx_err(KXL_ERR_INVALID, "'%s': more than %d images in its backing chain",
                   links[0].path, CHAIN_MAX);
            return -1;
        }
        chain_link *l = &links[n++];
        l->path = qcow2_backing_path(links[n - 2].path, name);
        if (stat_link(l, "backing file") < 0 || link_format(l, format) < 0)
            return -1;
        for (size_t k = 0; k + 1 < n; k++) {
            if (links[k].dev == l->dev && links[k].ino == l->ino) {
                kx_err(KXL_ERR_INVALID, "'%s': its backing chain loops back to '%s'",
                       links[0].path, l->path);
                return -1;
            }
        }
    }
    return (int)n;
}

/* The nodes of links[i..n), each over the next: the one for links[i]. */
static json_object *nodes(sv *s, const chain_link *links, size_t i, size_t n, const char *tag)
{
    if (i == n)
        return NULL;
    AUTOFREE char *fdset = sv_fdset_open(s, links[i].path, true, tag);
    if (!fdset)
        return NULL;
    json_object *below = NULL;
    if (i + 1 < n && !(below = nodes(s, links, i + 1, n, tag)))
        return NULL;
    kxl_disk d = {.format = links[i].format, .readonly = true};
    json_object *o = qemu_blockdev(&d, NULL, fdset, links[i].block);
    if (below)
        json_object_object_add(o, "backing", below);
    return o;
}

int sv_chain_backing(sv *s, const char *image, kxl_disk_format format, const char *tag,
                     json_object **backing_r)
{
    *backing_r = NULL;
    chain_link links[CHAIN_MAX] = {{.path = kx_strdup(image), .format = format}};
    int n = stat_link(&links[0], "disk") < 0 ? -1 : walk(links);
    if (n > 1)
        *backing_r = nodes(s, links, 1, (size_t)n, tag);
    links_dispose(links, CHAIN_MAX);
    return n < 0 || (n > 1 && !*backing_r) ? -1 : 0;
}
