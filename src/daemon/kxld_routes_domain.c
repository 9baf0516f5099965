/* kxld_routes_domain.c - routes of a running domain's operations beyond its lifecycle: rename,
 * trigger, sysrq, dump-core (a job), job-cancel, its vCPUs and their pinning, save (a job) and
 * restore. Each parses its body into the call kxl's command makes (src/cli/cmd_*.c). Paths
 * in a body are absolute: kxld's working directory means nothing to a client. */
#include <stdlib.h>
#include <string.h>

#include "daemon/kxld_body.h"
#include "daemon/kxld_ops_routes.h"
#include "kxl/stats.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

static const char *dom(const kxld_request *rq)
{
    return http_param(rq->params, "name");
}

/* The one required string member key of the body (no other member): as the command's one
 * argument. */
static int one_string(json_object *body, const char *key, const char **value_r)
{
    const char *const members[] = {key, NULL};
    return kxld_body_only(body, members) < 0 ||
                   kxld_body_nonempty(body, key, true, value_r) < 0
               ? -1
               : 0;
}

/* {"name": NEW} as kxl rename DOM NEW: the domain under its new name. */
int kxld_rename_domain(const kxld_request *rq, json_object **out_r)
{
    const char *name;
    kxl_dominfo d;
    if (one_string(rq->body, "name", &name) < 0 ||
        kxl_domain_rename(rq->paths, dom(rq), name) < 0 ||
        kxl_domain_lookup(rq->paths, name, &d) < 0)
        return -1;
    *out_r = kxl_dominfo_to_json(&d);
    return 200;
}

/* {"trigger": "nmi" | "reset" | "power" | "sleep" | "s3resume"}, as kxl trigger DOM T */
int kxld_trigger_domain(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    const char *trigger;
    if (one_string(rq->body, "trigger", &trigger) < 0)
        return -1;
    return kxl_domain_trigger(rq->paths, dom(rq), trigger) < 0 ? -1 : 204;
}

/* {"key": LETTER}, as kxl sysrq DOM LETTER */
int kxld_sysrq_domain(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    const char *key;
    if (one_string(rq->body, "key", &key) < 0)
        return -1;
    return kxl_domain_sysrq(rq->paths, dom(rq), key) < 0 ? -1 : 204;
}

/* {"file": PATH}: absolute; the domain exists. */
static int dump_core_args(const kxld_request *rq, const char **file_r)
{
    static const char *const members[] = {"file", NULL};
    kxl_dominfo d;
    return kxld_body_only(rq->body, members) < 0 ||
                   kxld_body_path(rq->body, "file", true, false, file_r) < 0 ||
                   kxl_domain_lookup(rq->paths, dom(rq), &d) < 0
               ? -1
               : 0;
}

int kxld_dump_core_check(const kxld_request *rq)
{
    const char *file;
    return dump_core_args(rq, &file);
}

/* as kxl dump-core DOM FILE, in a job */
int kxld_dump_core(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    const char *file;
    if (dump_core_args(rq, &file) < 0)
        return -1;
    return kxl_domain_dump_core(rq->paths, dom(rq), file) < 0 ? -1 : 204;
}

/* as kxl job-cancel DOM: the job's own request then fails as cancelled */
int kxld_cancel_job(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return kxl_domain_job_cancel(rq->paths, dom(rq)) < 0 ? -1 : 204;
}

/* as kxl vcpu-list DOM, one object a vCPU */
int kxld_list_vcpus(const kxld_request *rq, json_object **out_r)
{
    AUTOFREE kxl_vcpu_info *vcpus = NULL;
    size_t n;
    if (kxl_vcpu_list(rq->paths, dom(rq), &vcpus, &n) < 0)
        return -1;
    *out_r = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(*out_r, kxl_vcpu_to_json(&vcpus[i], kxl_host_cpus()));
    return 200;
}

/* {"cpus": "0-1,^3" | "all"} for vCPU {vcpu} ("all" or a number), as kxl vcpu-pin */
int kxld_pin_vcpu(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    const char *cpus;
    if (one_string(rq->body, "cpus", &cpus) < 0)
        return -1;
    return kxl_vcpu_pin(rq->paths, dom(rq), http_param(rq->params, "vcpu"), cpus) < 0 ? -1 : 204;
}

/* {"file": PATH, "checkpoint": bool, "paused": bool, "config_file": PATH}: xl save's -c, -p
 * and CFG; the domain exists. */
static int save_args(const kxld_request *rq, const char **file_r, kxl_save_opts *o_r)
{
    static const char *const members[] = {"file", "checkpoint", "paused", "config_file", NULL};
    kxl_dominfo d;
    *o_r = (kxl_save_opts){0};
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_path(rq->body, "file", true, false, file_r) < 0 ||
        kxld_body_bool(rq->body, "checkpoint", false, &o_r->checkpoint) < 0 ||
        kxld_body_bool(rq->body, "paused", false, &o_r->paused) < 0 ||
        kxld_body_path(rq->body, "config_file", false, true, &o_r->config_file) < 0)
        return -1;
    if (o_r->checkpoint && o_r->paused) {
        kx_err(KXL_ERR_INVALID, "request body: 'checkpoint' (leave it running) and 'paused' "
               "(leave it paused) exclude each other");
        return -1;
    }
    return kxl_domain_lookup(rq->paths, dom(rq), &d);
}

int kxld_save_check(const kxld_request *rq)
{
    const char *file;
    kxl_save_opts o;
    return save_args(rq, &file, &o);
}

/* as kxl save [-c|-p] DOM FILE [CFG], in a job */
int kxld_save_domain(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    const char *file;
    kxl_save_opts o;
    if (save_args(rq, &file, &o) < 0)
        return -1;
    return kxl_domain_save(rq->paths, dom(rq), file, &o) < 0 ? -1 : 204;
}

/* {"file": PATH, "paused": bool, "config_file": PATH}, as kxl restore [-p] [CFG] FILE: the
 * restored domain. */
int kxld_restore_domain(const kxld_request *rq, json_object **out_r)
{
    static const char *const members[] = {"file", "paused", "config_file", NULL};
    const char *file;
    kxl_restore_opts o = {0};
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_path(rq->body, "file", true, true, &file) < 0 ||
        kxld_body_bool(rq->body, "paused", false, &o.paused) < 0 ||
        kxld_body_path(rq->body, "config_file", false, true, &o.config_file) < 0)
        return -1;
    AUTOFREE char *name = NULL;
    kxl_dominfo d;
    if (kxl_domain_restore(rq->paths, file, &o, &name, NULL) < 0 ||
        kxl_domain_lookup(rq->paths, name, &d) < 0)
        return -1;
    *out_r = kxl_dominfo_to_json(&d);
    return 201;
}
