/* ops_config.c - config-update: a new config for a running domain, taken at its next restart
 * (a guest reboot with on_reboot = restart, a crash's restart), as xl's. It is checked here as
 * create checks a config; the supervisor only keeps it. */
#include <string.h>

#include "cfg/cfg_json.h"
#include "lib/disks.h"
#include "lib/host_conf.h"
#include "lib/ops_call.h"
#include "lib/pci.h"
#include "lib/vif.h"
#include "util/err.h"

int kxl_domain_config_update(const kxl_paths *p, const char *dom, kxl_domcfg *cfg)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(p, dom, &info) < 0)
        return -1;
    if (strcmp(cfg->name, info.name) != 0) {
        kx_err(KXL_ERR_INVALID, "the config is for domain '%s', not '%s': config-update keeps "
               "a domain's name (rename it with kxl rename)", cfg->name, info.name);
        return -1;
    }
    /* the domain stays itself: its uuid, and so its vifs' MAC addresses */
    memcpy(cfg->uuid, info.uuid, sizeof(cfg->uuid));
    if (host_pci_check(p, cfg) < 0 || host_dm_args_check(p, cfg) < 0 ||
        disks_check_config(p, cfg) < 0)
        return -1;
    vif_resolve(cfg, info.domid);
    json_object *args = json_object_new_object();
    json_object_object_add(args, "config", cfg_domcfg_to_json(cfg));
    return op_call(p, KXL_OP_CONFIG_UPDATE, info.name, args, NULL);
}
