/* sv_disks.c - a domain's disks handed to QEMU at start as descriptors, as
 * hot-plugged ones are (sv_block.c): sv_chain.c opens each image and its
 * backing chain, and QEMU gets them as fd sets on its command line (-add-fd).
 * So QEMU opens no image by name, and one rule decides what a qcow2 header may
 * reach, at start and at hot-plug. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

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

static char *place_on_command_line(void *ctx, const int *fds, size_t n, const char *tag)
{
    sv_boot_disks *b = ctx;
    int set = b->next_set++;
    for (size_t k = 0; k < n; k++)
        if (keep_fd(b, fds[k], set, tag) < 0)
            return NULL;
    return kx_asprintf("/dev/fdset/%d", set);
}

int sv_boot_disks_open(const kxl_domcfg *cfg, int first_fd, sv_boot_disks *b)
{
    *b = (sv_boot_disks){.first_fd = first_fd, .n_disks = cfg->n_disks};
    b->sources = kx_malloc0((cfg->n_disks + 1) * sizeof(*b->sources));
    b->images = kx_malloc0((cfg->n_disks + 1) * sizeof(*b->images));
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        if (d->unplugged || !d->target)
            continue;
        AUTOFREE char *tag = kx_asprintf("disk:%s", d->vdev);
        if (sv_image_open(d, tag, place_on_command_line, b, &b->images[i]) < 0) {
            sv_boot_disks_dispose(b);
            return -1;
        }
        b->sources[i] = (kx_disk_source){.filename = b->images[i].fdset,
                                         .block = b->images[i].block,
                                         .backing = b->images[i].backing};
    }
    return 0;
}

void sv_boot_disks_dispose(sv_boot_disks *b)
{
    for (size_t i = 0; i < b->n_fds; i++)
        close(b->fds[i]);
    for (size_t i = 0; i < b->n_disks && b->images; i++)
        sv_image_dispose(&b->images[i]);
    free(b->fds);
    free(b->sources);
    free(b->images);
    kx_strv_dispose(&b->add_fds);
    *b = (sv_boot_disks){0};
}
