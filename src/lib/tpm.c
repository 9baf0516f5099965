/* tpm.c - vtpm's host side that create and the supervisor share. */
#include "lib/tpm.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kxl/domcfg.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

char *host_vtpm_dir(const kxl_paths *p, const kxl_domcfg *cfg)
{
    const char *uuid = cfg->vtpm_uuid[0] ? cfg->vtpm_uuid : cfg->uuid;
    return uuid[0] ? kx_asprintf("%s/tpm/%s", p->lib_dir, uuid) : NULL;
}

/* swtpm in PATH, as the supervisor will run it. */
static bool have_swtpm(void)
{
    const char *path = getenv("PATH");
    AUTOFREE char *dirs = kx_strdup(path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        AUTOFREE char *exe = kx_asprintf("%s/swtpm", d);
        if (access(exe, X_OK) == 0)
            return true;
    }
    return false;
}

int host_vtpm_check(const kxl_domcfg *cfg)
{
    if (!cfg->vtpm || have_swtpm())
        return 0;
    kx_err(KXL_ERR_HOST, "domain '%s' has a vtpm, which needs swtpm, and this host has none: "
           "apt-get install swtpm", cfg->name);
    return -1;
}
