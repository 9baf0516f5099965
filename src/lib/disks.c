/* disks.c - which running domain holds a disk image, from the resolved
 * configs in the runtime directory. */
#include "lib/disks.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_json.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

static kxl_domcfg *running_config(const kxl_paths *p, const char *name)
{
    AUTOFREE char *path = kxl_domain_file(p, name, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    kxl_domcfg *cfg = o ? cfg_domcfg_from_json(o) : NULL;
    kx_err_clear();
    return cfg;
}

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

int disks_check_free(const kxl_paths *p, const kxl_disk *disk, const char *self)
{
    if (!disk->target || disk->cdrom)
        return 0;
    DIR *d = opendir(p->run_dir);
    struct dirent *e;
    int r = 0;
    while (r == 0 && d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !kxl_name_is_valid(e->d_name) || kx_streq(e->d_name, self) ||
            !runtime_is_live(p, e->d_name))
            continue;
        AUTOPTR(kxl_domcfg) cfg = running_config(p, e->d_name);
        if (cfg && holds(cfg, disk)) {
            kx_err(KXL_ERR_STATE, "disk '%s' is in use by domain '%s'", disk->target, e->d_name);
            r = -1;
        }
    }
    if (d)
        closedir(d);
    return r;
}

int disks_check_config(const kxl_paths *p, const kxl_domcfg *cfg)
{
    for (size_t i = 0; i < cfg->n_disks; i++)
        if (disks_check_free(p, &cfg->disks[i], cfg->name) < 0)
            return -1;
    return 0;
}
