/* qemu_fdsets.c - pure: stand-in fd sets for a config's disks, numbered as the supervisor
 * numbers the real ones (a set per plugged disk with an image, in order; one descriptor for a
 * read-only image, two for a writable one), for the argv a dry run and the golden tests show.
 * The real sets also hold a qcow2 image's backing files, which only opening the image finds. */
#include "qemu/qemu_fdsets.h"

#include <stdlib.h>

#include "util/buf.h"

void qemu_placeholder_fdsets(const kxl_domcfg *cfg, int first_fd, qemu_fdsets *f)
{
    *f = (qemu_fdsets){.add_fds = KX_STRV_INIT};
    f->n = cfg->n_disks;
    f->sources = kx_malloc0((f->n + 1) * sizeof(*f->sources));
    f->names = kx_malloc0((f->n + 1) * sizeof(*f->names));
    int fd = first_fd, set = 0;
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        if (d->unplugged || !d->target)
            continue;
        f->names[i] = kx_asprintf("/dev/fdset/%d", set);
        f->sources[i] = (kx_disk_source){.filename = f->names[i]};
        for (int k = 0; k < (d->readonly || d->cdrom ? 1 : 2); k++)
            kx_strv_pushf(&f->add_fds, "fd=%d,set=%d,opaque=disk:%s", fd++, set, d->vdev);
        set++;
    }
}

void qemu_fdsets_dispose(qemu_fdsets *f)
{
    for (size_t i = 0; f->names && i < f->n; i++)
        free(f->names[i]);
    free(f->names);
    free(f->sources);
    kx_strv_dispose(&f->add_fds);
    *f = (qemu_fdsets){0};
}
