/* sv_config.c - config-update: the new config waits in domain.json ("config_update") until
 * the domain's next restart, which takes it: domain.json then says what the new QEMU runs
 * with, and a supervisor that takes over meanwhile still has the update. */
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_json.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

static json_object *read_domain_json(sv *s, char **path_r)
{
    *path_r = kx_path_join(s->dir, "domain.json");
    AUTOFREE char *text = kx_read_file(*path_r, NULL);
    return text ? kx_json_parse(text, *path_r) : NULL;
}

static int write_domain_json(const char *path, json_object *o)
{
    const char *out = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
    return kx_write_file_atomic(path, out, strlen(out), 0600);
}

json_object *sv_config_update(sv *s, json_object *args)
{
    json_object *c = NULL;
    if (!json_object_object_get_ex(args, "config", &c) ||
        !json_object_is_type(c, json_type_object)) {
        kx_err(KXL_ERR_INVALID, "config-update needs a \"config\" object");
        return NULL;
    }
    AUTOPTR(kxl_domcfg) check = cfg_domcfg_from_json(c);
    if (!check)
        return NULL;
    if (strcmp(check->name, s->name) != 0) {
        kx_err(KXL_ERR_INVALID, "the config is for domain '%s', not '%s'", check->name,
               s->name);
        return NULL;
    }
    AUTOFREE char *path = NULL;
    AUTOPTR(json_object) o = read_domain_json(s, &path);
    if (!o)
        return NULL;
    json_object_object_add(o, "config_update", json_object_get(c));
    if (write_domain_json(path, o) < 0)
        return NULL;
    sv_event(s, "config updated: the domain takes it at its next restart");
    return json_object_new_object();
}

/* domain.json's config members become the update's: those of the old config that the new
 * one lacks go, the others (domid, machine, accel_resolved ...) stay. */
static void replace_config_members(json_object *o, json_object *old, json_object *upd)
{
    json_object_object_foreach(old, key, v) {
        (void)v;
        if (!json_object_object_get_ex(upd, key, NULL))
            json_object_object_del(o, key);
    }
    json_object_object_foreach(upd, k, value)
        json_object_object_add(o, k, json_object_get(value));
    json_object_object_del(o, "config_update");
}

void sv_config_take_update(sv *s)
{
    AUTOFREE char *path = NULL;
    AUTOPTR(json_object) o = read_domain_json(s, &path);
    json_object *upd = NULL;
    if (!o || !json_object_object_get_ex(o, "config_update", &upd))
        return;
    kxl_domcfg *cfg = cfg_domcfg_from_json(upd);
    if (!cfg) {
        sv_event(s, "config update dropped: %s", kx_err_msg());
        json_object_object_del(o, "config_update");
        write_domain_json(path, o);
        return;
    }
    AUTOPTR(json_object) old = cfg_domcfg_to_json(s->cfg);
    replace_config_members(o, old, upd);
    if (write_domain_json(path, o) < 0)
        sv_event(s, "cannot record the updated config: %s", kx_err_msg());
    kxl_domcfg_free(s->cfg);
    s->cfg = cfg;
    free(s->extra);
    s->extra = cfg->bootloader && cfg->cmdline ? kx_strdup(cfg->cmdline) : NULL;
    s->st.memory_mib = cfg->memory_mib;
    s->st.vcpus = cfg->vcpus;
    sv_status_devices(s);
    sv_event(s, "restarting with the config given by config-update");
}
