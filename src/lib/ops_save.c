/* ops_save.c - kxl save: the supervisor writes the file as a job (sv_save.c); here the file
 * name becomes absolute, a config file given instead of the domain's is resolved, and xl's
 * default (the domain ends once saved) is waited for. */
#include <limits.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_keys.h"
#include "lib/ops_call.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

int kxl_domain_save(const kxl_paths *p, const char *dom, const char *file,
                    const kxl_save_opts *o)
{
    char cwd[PATH_MAX];
    kxl_dominfo info;
    if (o->checkpoint && o->paused) {
        kx_err(KXL_ERR_INVALID, "save: -c (leave it running) and -p (leave it paused) "
               "exclude each other");
        return -1;
    }
    if (kxl_domain_lookup(p, dom, &info) < 0)
        return -1;
    /* the supervisor's working directory is not the caller's */
    AUTOFREE char *abs = file[0] == '/' ? kx_strdup(file)
                         : kx_asprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".", file);
    json_object *args = op_args("file", abs, "after", o->checkpoint ? "keep"
                                                      : o->paused  ? "pause" : "destroy", NULL);
    if (o->config_file) {
        AUTOPTR(kxl_domcfg) cfg = cfg_load(o->config_file, NULL, kxl_host_cpus(), 0);
        if (!cfg) {
            json_object_put(args);
            return -1;
        }
        json_object_object_add(args, "config", cfg_domcfg_to_json(cfg));
    }
    if (op_call(p, KXL_OP_SAVE, info.name, args, NULL) < 0)
        return -1;
    return o->checkpoint || o->paused ? 0 : runtime_wait_gone(p, info.name);
}
