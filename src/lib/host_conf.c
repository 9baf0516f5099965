/* host_conf.c - kxl.conf: the host's policy for every domain. Unknown keys are errors, as in
 * kxld.conf: a misspelt policy must not silently become the default. */
#include "lib/host_conf.h"

#include <string.h>

#include "cfg/cfg_parse.h"
#include "kxl/domcfg.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

DEFINE_AUTOPTR(cfg_tree, cfg_tree_free)

static int apply(host_conf *c, const cfg_setting *s)
{
    if (strcmp(s->key, "allow_device_model_args") != 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: unknown key '%s' (kxl.conf knows "
               "allow_device_model_args)", s->source, s->line, s->key);
        return -1;
    }
    if (s->value.kind != CFG_NUMBER || (s->value.num != 0 && s->value.num != 1)) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be 0 or 1", s->source, s->line, s->key);
        return -1;
    }
    c->allow_device_model_args = s->value.num == 1;
    return 0;
}

int host_conf_load(const kxl_paths *p, host_conf *c_r)
{
    *c_r = (host_conf){0};
    AUTOFREE char *path = kx_path_join(p->etc_dir, "kxl.conf");
    AUTOPTR(cfg_tree) t = cfg_tree_new(path);
    if (!kx_path_exists(path))
        return 0;
    if (cfg_parse_file(t, path) < 0)
        return -1;
    for (size_t i = 0; i < t->n_settings; i++)
        if (apply(c_r, &t->settings[i]) < 0)
            return -1;
    return 0;
}

int host_dm_args_check(const kxl_paths *p, const kxl_domcfg *cfg)
{
    if (!cfg->dm_args)
        return 0;
    host_conf c;
    if (host_conf_load(p, &c) < 0)
        return -1;
    AUTOFREE char *path = kx_path_join(p->etc_dir, "kxl.conf");
    if (!c.allow_device_model_args) {
        kx_err(KXL_ERR_PERMISSION, "domain '%s' has device_model_args, and this host passes "
               "no arguments of a config to QEMU: remove them, or allow them with "
               "allow_device_model_args = 1 in %s", cfg->name, path);
        return -1;
    }
    kx_buf b = KX_BUF_INIT;
    for (char **a = cfg->dm_args; *a; a++)
        kx_buf_printf(&b, "%s%s", b.len ? " " : "", *a);
    kx_warn("warning: domain '%s': passing device_model_args to QEMU unchecked (%s allows "
            "it): %s", cfg->name, path, b.s);
    kx_buf_dispose(&b);
    return 0;
}
