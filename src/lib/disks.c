/* disks.c - which running domain holds a disk image, from the resolved
 * configs in the runtime directory. */
#include "lib/disks.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

static bool same_file(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    return a && b && realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

static bool holds(const kxl_domcfg *cfg, const kxl_disk *disk)
{
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        if (!d->unplugged && (!d->readonly || !disk->readonly) && same_file(d->target, disk->target))
            return true;
    }
    return false;
}

static int report_holder(const char *name, const kxl_domcfg *cfg, void *opaque)
{
    const kxl_disk *disk = opaque;
    if (!holds(cfg, disk))
        return 0;
    kx_err(KXL_ERR_STATE, "disk '%s' is in use by domain '%s'", disk->target, name);
    return -1;
}

int disks_check_free(const kxl_paths *p, const kxl_disk *disk, const char *self)
{
    if (!disk->target || disk->cdrom)
        return 0;
    return runtime_each_config(p, self, report_holder, (void *)disk);
}

int disks_check_config(const kxl_paths *p, const kxl_domcfg *cfg)
{
    for (size_t i = 0; i < cfg->n_disks; i++)
        if (disks_check_free(p, &cfg->disks[i], cfg->name) < 0)
            return -1;
    return 0;
}
