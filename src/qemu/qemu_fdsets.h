/* qemu_fdsets.h - stand-in fd sets for a config's disks (dry runs, golden tests). */
#pragma once

#include "qemu/qemu_argv.h"

typedef struct {
    kx_disk_source *sources;   /* one per cfg->disks entry: kx_host.disk_sources */
    char **names;              /* what sources point into */
    size_t n;
    kx_strv add_fds;           /* kx_host.add_fds */
} qemu_fdsets;

/* Fills *f with a set per plugged disk with an image, its descriptors numbered from first_fd
 * (qemu_fdsets_dispose). */
void qemu_placeholder_fdsets(const kxl_domcfg *cfg, int first_fd, qemu_fdsets *f);
void qemu_fdsets_dispose(qemu_fdsets *f);
