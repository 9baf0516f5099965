/* ops_domain.c - operations on one running domain that its supervisor carries out in one
 * step: pause, unpause, rename, trigger, sysrq, dump-core, the QEMU monitor; and the domain's
 * resolved config as the supervisor keeps it. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ops_call.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

int kxl_domain_pause(const kxl_paths *p, const char *dom)
{
    return op_call(p, KXL_OP_PAUSE, dom, NULL, NULL);
}

int kxl_domain_unpause(const kxl_paths *p, const char *dom)
{
    return op_call(p, KXL_OP_UNPAUSE, dom, NULL, NULL);
}

int kxl_domain_job_cancel(const kxl_paths *p, const char *dom)
{
    return op_call(p, KXL_OP_JOB_CANCEL, dom, NULL, NULL);
}

int kxl_domain_rename(const kxl_paths *p, const char *dom, const char *new_name)
{
    if (!kxl_name_is_valid(new_name)) {
        kx_err(KXL_ERR_INVALID, "invalid domain name '%s' (use " KXL_NAME_RULE ")", new_name);
        return -1;
    }
    return op_call(p, KXL_OP_RENAME, dom, op_args("name", new_name, NULL), NULL);
}

int kxl_domain_trigger(const kxl_paths *p, const char *dom, const char *trigger)
{
    return op_call(p, KXL_OP_TRIGGER, dom, op_args("trigger", trigger, NULL), NULL);
}

int kxl_domain_sysrq(const kxl_paths *p, const char *dom, const char *key)
{
    return op_call(p, KXL_OP_SYSRQ, dom, op_args("key", key, NULL), NULL);
}

int kxl_domain_dump_core(const kxl_paths *p, const char *dom, const char *file)
{
    char cwd[PATH_MAX];
    /* the supervisor's working directory is not the caller's */
    AUTOFREE char *abs = file[0] == '/' ? kx_strdup(file)
                         : kx_asprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".", file);
    return op_call(p, KXL_OP_DUMP_CORE, dom, op_args("file", abs, NULL), NULL);
}

int kxl_domain_monitor(const kxl_paths *p, const char *dom, const char *command, char **out_r)
{
    AUTOPTR(json_object) ret = NULL;
    if (op_call(p, KXL_OP_MONITOR, dom, op_args("command", command, NULL), &ret) < 0)
        return -1;
    const char *text = json_object_get_string(ret);
    *out_r = kx_strdup(text ? text : "");
    return 0;
}

int kxl_domain_display(const kxl_paths *p, const char *dom, json_object **display_r)
{
    return op_call(p, KXL_OP_DISPLAY, dom, NULL, display_r);
}

int kxl_domain_config(const kxl_paths *p, const char *dom, kxl_domcfg **cfg_r)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(p, dom, &info) < 0)
        return -1;
    *cfg_r = runtime_read_config(p, info.name);
    return *cfg_r ? 0 : -1;
}

int kxl_domain_record(const kxl_paths *p, const char *dom, json_object **record_r)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(p, dom, &info) < 0)
        return -1;
    AUTOFREE char *path = kxl_domain_file(p, info.name, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    *record_r = text ? kx_json_parse(text, path) : NULL;
    return *record_r ? 0 : -1;
}
