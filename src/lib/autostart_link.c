/* autostart_link.c - turning a domain's autostart on and off: a symlink
 * ROOT/etc/kxl/auto/NAME.cfg to its config file, made or removed (kxl autostart-enable and
 * -disable, PUT and DELETE /api/v1/domains/{name}/autostart). Only links are removed: a config
 * file kept in the directory itself is the only copy of that config. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/cfg_keys.h"
#include "kxl/autostart.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

/* The running domain's config file (caller frees), and its name in name_r. */
static char *running_config(const kxl_paths *p, const char *dom, char name_r[KXL_NAME_MAX + 1])
{
    kxl_dominfo info;
    if (kxl_domain_lookup(p, dom, &info) < 0) {
        kx_err(KXL_ERR_NOT_FOUND, "'%s' is not running: name its config file to start it at "
               "boot", dom);
        return NULL;
    }
    snprintf(name_r, KXL_NAME_MAX + 1, "%s", info.name);
    AUTOPTR(kxl_domcfg) cfg = runtime_read_config(p, info.name);
    if (!cfg)
        return NULL;
    if (!cfg->source_file || cfg->source_file[0] != '/') {
        kx_err(KXL_ERR_STATE, "'%s' was not created from a config file that can be linked: "
               "name its config file", info.name);
        return NULL;
    }
    return kx_strdup(cfg->source_file);
}

/* config_file: absolute, a file, and a config of domain dom (whose name goes to name_r). */
static int check_config(const char *config_file, const char *dom, char name_r[KXL_NAME_MAX + 1])
{
    struct stat st;
    if (config_file[0] != '/') {
        kx_err(KXL_ERR_INVALID, "config file '%s': not an absolute path", config_file);
        return -1;
    }
    if (stat(config_file, &st) < 0 || !S_ISREG(st.st_mode)) {
        kx_err(KXL_ERR_INVALID, "config file '%s': no such file", config_file);
        return -1;
    }
    AUTOPTR(kxl_domcfg) cfg = cfg_load(config_file, NULL, kxl_host_cpus(), 0);
    if (!cfg)
        return -1;
    if (strcmp(cfg->name, dom) != 0) {
        kx_err(KXL_ERR_INVALID, "config file '%s' is of domain '%s', not '%s'", config_file,
               cfg->name, dom);
        return -1;
    }
    snprintf(name_r, KXL_NAME_MAX + 1, "%s", cfg->name);
    return 0;
}

/* What is in auto/ for domain name already: 0 nothing, 1 a link to target (done), -1 with the
 * error for anything else. */
static int existing(const kxl_paths *p, const char *name, const char *target)
{
    kxl_autostart_plan plan;
    if (kxl_autostart_scan(p, NULL, &plan) < 0)
        return -1;
    const kxl_autostart_entry *e = kxl_autostart_find(&plan, name);
    char real[PATH_MAX], want[PATH_MAX];
    int r = 0;
    if (e && realpath(e->config, real) && realpath(target, want) && !strcmp(real, want)) {
        r = 1;
    } else if (e) {
        kx_err(KXL_ERR_EXISTS, "'%s' starts at boot already, from '%s'", name, e->config);
        r = -1;
    }
    kxl_autostart_plan_dispose(&plan);
    return r;
}

int kxl_autostart_enable(const kxl_paths *p, const char *dom, const char *config_file)
{
    char name[KXL_NAME_MAX + 1];
    AUTOFREE char *target = config_file ? kx_strdup(config_file) : running_config(p, dom, name);
    if (!target || (config_file && check_config(config_file, dom, name) < 0))
        return -1;
    int have = existing(p, name, target);
    if (have != 0)
        return have < 0 ? -1 : 0;
    AUTOFREE char *dir = kx_path_join(p->etc_dir, "auto");
    AUTOFREE char *link = kx_asprintf("%s/%s.cfg", dir, name);
    AUTOFREE char *tmp = kx_asprintf("%s/.%s.cfg.tmp", dir, name);
    struct stat st;
    if (lstat(link, &st) == 0) {
        kx_err(KXL_ERR_EXISTS, "'%s' exists and is not a config of '%s'", link, name);
        return -1;
    }
    if (kx_mkdir_p(dir, 0755) < 0)
        return -1;
    unlink(tmp);
    /* made aside and renamed: a scan never sees half a link */
    if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot link '%s' to '%s'", link, target);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The link of domain name in dir: the entry whose config names it, else a link NAME.cfg that
 * leads nowhere. Caller frees; NULL with the error. */
static char *link_of(const kxl_paths *p, const char *dir, const char *name)
{
    kxl_autostart_plan plan;
    if (kxl_autostart_scan(p, NULL, &plan) < 0)
        return NULL;
    const kxl_autostart_entry *e = kxl_autostart_find(&plan, name);
    char *path = e ? kx_strdup(e->config) : kx_asprintf("%s/%s.cfg", dir, name);
    kxl_autostart_plan_dispose(&plan);
    struct stat st;
    if (lstat(path, &st) < 0) {
        kx_err(KXL_ERR_NOT_FOUND, "'%s' does not start at boot (nothing in '%s' names it)",
               name, dir);
    } else if (!S_ISLNK(st.st_mode)) {
        kx_err(KXL_ERR_STATE, "'%s' is a config file, not a link: move it out of '%s' yourself "
               "(removing it would lose it)", path, dir);
    } else {
        return path;
    }
    free(path);
    return NULL;
}

int kxl_autostart_disable(const kxl_paths *p, const char *dom)
{
    kxl_dominfo info;
    const char *name = kxl_domain_lookup(p, dom, &info) == 0 ? info.name : dom;
    kx_err_clear();
    if (!kxl_name_is_valid(name)) {
        kx_err(KXL_ERR_INVALID, "invalid domain name '%s' (use " KXL_NAME_RULE ")", name);
        return -1;
    }
    AUTOFREE char *dir = kx_path_join(p->etc_dir, "auto");
    AUTOFREE char *link = link_of(p, dir, name);
    if (!link)
        return -1;
    if (unlink(link) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot remove '%s'", link);
        return -1;
    }
    return 0;
}
