/* sv_disks.c - a domain's disks handed to QEMU at start as descriptors, as
 * hot-plugged ones are (sv_block.c): the supervisor opens each image (read-only,
 * and read-write unless the disk is read-only) and its backing chain, as the
 * owner of the image that names each file (sv_chain.c), and QEMU gets them as
 * fd sets on its command line (-add-fd). So QEMU opens no image by name, and
 * one rule decides what a qcow2 header may reach, at start and at hot-plug. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* Enough for every disk's image in two modes and a long chain below a few of them. */
#define BOOT_FDS_MAX 192

/* Adds a copy of fd, which QEMU will find as fd first_fd + n, to fd set set. */
static int keep_fd(sv_boot_disks *b, int fd, int set, const char *tag)
{
    if (b->n_fds == BOOT_FDS_MAX) {
        kx_err(KXL_ERR_CONFIG, "the disks need more than %d descriptors", BOOT_FDS_MAX);
        return -1;
    }
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot duplicate a disk's descriptor");
        return -1;
    }
    b->fds = kx_realloc(b->fds, (b->n_fds + 1) * sizeof(int));
    b->fds[b->n_fds] = copy;
    kx_strv_pushf(&b->add_fds, "fd=%d,set=%d,opaque=%s", b->first_fd + (int)b->n_fds, set, tag);
    b->n_fds++;
    return 0;
}

static char *place_on_command_line(void *ctx, int fd, const char *tag)
{
    sv_boot_disks *b = ctx;
    int set = b->next_set++;
    return keep_fd(b, fd, set, tag) < 0 ? NULL : kx_asprintf("/dev/fdset/%d", set);
}

/* The image itself: its read-only and (unless the disk is read-only) read-write
 * descriptors in one set, so QEMU can reopen it either way. */
static char *place_image(sv_boot_disks *b, const kxl_disk *d, const char *tag)
{
    bool readonly = d->readonly || d->cdrom;
    int set = b->next_set++;
    int modes[2] = {O_RDONLY, O_RDWR};
    for (int k = 0; k < (readonly ? 1 : 2); k++) {
        AUTOCLOSE int fd = open(d->target, modes[k] | O_CLOEXEC);
        if (fd < 0) {
            kx_err_errno(KXL_ERR_INVALID, "cannot open disk '%s'", d->target);
            return NULL;
        }
        if (keep_fd(b, fd, set, tag) < 0)
            return NULL;
    }
    return kx_asprintf("/dev/fdset/%d", set);
}

static int open_disk(sv_boot_disks *b, const kxl_disk *d, size_t i)
{
    AUTOFREE char *tag = kx_asprintf("disk:%s", d->vdev);
    /* the chain first: it also checks that the image is a file or a block device */
    if (sv_chain_open(d->target, d->format, tag, place_on_command_line, b,
                      &b->backings[i]) < 0)
        return -1;
    b->names[i] = place_image(b, d, tag);
    if (!b->names[i])
        return -1;
    b->sources[i] = (kx_disk_source){.filename = b->names[i], .block = kx_is_block_device(d->target),
                                     .backing = b->backings[i]};
    return 0;
}

int sv_boot_disks_open(const kxl_domcfg *cfg, int first_fd, sv_boot_disks *b)
{
    *b = (sv_boot_disks){.first_fd = first_fd};
    b->sources = kx_malloc0((cfg->n_disks + 1) * sizeof(*b->sources));
    b->names = kx_malloc0((cfg->n_disks + 1) * sizeof(*b->names));
    b->backings = kx_malloc0((cfg->n_disks + 1) * sizeof(*b->backings));
    b->n_disks = cfg->n_disks;
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        if (d->unplugged || !d->target)
            continue;
        if (open_disk(b, d, i) < 0) {
            sv_boot_disks_dispose(b);
            return -1;
        }
    }
    return 0;
}

void sv_boot_disks_dispose(sv_boot_disks *b)
{
    for (size_t i = 0; i < b->n_fds; i++)
        close(b->fds[i]);
    for (size_t i = 0; i < b->n_disks; i++) {
        free(b->names[i]);
        json_object_put(b->backings[i]);
    }
    free(b->fds);
    free(b->sources);
    free(b->names);
    free(b->backings);
    kx_strv_dispose(&b->add_fds);
    *b = (sv_boot_disks){0};
}
