/* kxld_routes.c - the one route table of the API (/api/v1/..., and /metrics) and its
 * handlers: each parses its request into one libkxl call (the one the command line makes) and
 * formats the result. A route that is a library operation takes its "METHOD PATH" from the
 * operations table (src/lib/ops_table.c), so it is named once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg/cfg_keys.h"
#include "daemon/http_status.h"
#include "daemon/kxld.h"
#include "kxl/autostart.h"
#include "kxl/stats.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

/* ---- request bodies ---- */

/* Fails for a member of body that is not in names (NULL-terminated). */
static int body_only(json_object *body, const char *const *names)
{
    if (!body)
        return 0;
    json_object_object_foreach(body, key, value) {
        (void)value;
        bool known = false;
        for (size_t i = 0; names[i]; i++)
            known = known || strcmp(names[i], key) == 0;
        if (!known) {
            kx_err(KXL_ERR_INVALID, "request body: unknown member '%s'", key);
            return -1;
        }
    }
    return 0;
}

/* body.key as a boolean; dflt when absent; an error when it is not a boolean. */
static int body_bool(json_object *body, const char *key, bool dflt, bool *value_r)
{
    json_object *v;
    *value_r = dflt;
    if (!body || !json_object_object_get_ex(body, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        kx_err(KXL_ERR_INVALID, "request body: '%s' must be true or false", key);
        return -1;
    }
    *value_r = json_object_get_boolean(v);
    return 0;
}

static const char *dom(const kxld_request *rq)
{
    return http_param(rq->params, "name");
}

/* ---- the host and lists ---- */

static int get_host(const kxld_request *rq, json_object **out_r)
{
    *out_r = kxl_host_info(rq->paths);
    return *out_r ? 200 : -1;
}

static int list_domains(const kxld_request *rq, json_object **out_r)
{
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n;
    if (kxl_domain_list(rq->paths, &d, &n) < 0)
        return -1;
    *out_r = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(*out_r, kxl_dominfo_to_json(&d[i]));
    return 200;
}

static int get_domain(const kxld_request *rq, json_object **out_r)
{
    kxl_dominfo d;
    if (kxl_domain_lookup(rq->paths, dom(rq), &d) < 0)
        return -1;
    *out_r = kxl_domain_detail_json(rq->paths, &d);
    return 200;
}

static int list_disks(const kxld_request *rq, json_object **out_r)
{
    kxl_disk *disks;
    size_t n;
    if (kxl_block_list(rq->paths, dom(rq), &disks, &n) < 0)
        return -1;
    *out_r = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(*out_r, kxl_disk_to_json(&disks[i]));
    kxl_disks_free(disks, n);
    return 200;
}

/* ---- create and destroy ---- */

/* body.config_file: an absolute path of a file that exists (kxld's working directory means
 * nothing to a client). */
static const char *config_file(json_object *body)
{
    const char *path = kx_json_str(body, "config_file", NULL);
    struct stat st;
    if (!path || !*path)
        kx_err(KXL_ERR_INVALID, "request body: 'config_file' (a string) is required");
    else if (path[0] != '/')
        kx_err(KXL_ERR_INVALID, "config file '%s': not an absolute path", path);
    else if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        kx_err(KXL_ERR_INVALID, "config file '%s': no such file", path);
    else
        return path;
    return NULL;
}

static int create_domain(const kxld_request *rq, json_object **out_r)
{
    static const char *const members[] = {"config_file", "paused", NULL};
    bool paused;
    const char *path;
    if (body_only(rq->body, members) < 0 || body_bool(rq->body, "paused", false, &paused) < 0 ||
        !(path = config_file(rq->body)))
        return -1;
    /* as kxl create FILE: parse, then the one create operation */
    AUTOPTR(kxl_domcfg) cfg = cfg_load(path, NULL, kxl_host_cpus(), CFG_LOAD_CHECK_FILES);
    kxl_create_opts o = {.paused = paused};
    unsigned domid;
    if (!cfg || kxl_domain_create(rq->paths, cfg, &o, &domid) < 0)
        return -1;
    kxl_dominfo d;
    if (kxl_domain_lookup(rq->paths, cfg->name, &d) < 0)
        return -1;
    *out_r = kxl_dominfo_to_json(&d);
    return 201;
}

static int destroy_domain(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return kxl_domain_destroy(rq->paths, dom(rq)) < 0 ? -1 : 204;
}

/* ---- lifecycle operations ---- */

static int pause_domain(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return kxl_domain_pause(rq->paths, dom(rq)) < 0 ? -1 : 204;
}

static int unpause_domain(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return kxl_domain_unpause(rq->paths, dom(rq)) < 0 ? -1 : 204;
}

/* {"wait": bool, "force": bool}, both optional: xl's -w and -F. */
static int power_opts(json_object *body, kxl_power_opts *o_r)
{
    static const char *const members[] = {"wait", "force", NULL};
    return body_only(body, members) < 0 || body_bool(body, "wait", false, &o_r->wait) < 0 ||
                   body_bool(body, "force", false, &o_r->force) < 0
               ? -1
               : 0;
}

/* shutdown and reboot: the body's options, then the operation. */
static int power(const kxld_request *rq,
                 int (*op)(const kxl_paths *, const char *, const kxl_power_opts *))
{
    kxl_power_opts o;
    return power_opts(rq->body, &o) < 0 || op(rq->paths, dom(rq), &o) < 0 ? -1 : 204;
}

static int shutdown_domain(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return power(rq, kxl_domain_shutdown);
}

static int reboot_domain(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return power(rq, kxl_domain_reboot);
}

/* ---- autostart ---- */

static int list_autostart(const kxld_request *rq, json_object **out_r)
{
    *out_r = kxl_autostart_list(rq->paths, rq->auto_dirs);
    return *out_r ? 200 : -1;
}

/* {"config_file": PATH} (optional: by default the running domain's own config file). */
static int enable_autostart(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    static const char *const members[] = {"config_file", NULL};
    const char *path = kx_json_str(rq->body, "config_file", NULL);
    if (body_only(rq->body, members) < 0)
        return -1;
    if (rq->body && json_object_object_get_ex(rq->body, "config_file", NULL) &&
        !(path = config_file(rq->body)))
        return -1;
    return kxl_autostart_enable(rq->paths, dom(rq), path) < 0 ? -1 : 204;
}

static int disable_autostart(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    return kxl_autostart_disable(rq->paths, dom(rq)) < 0 ? -1 : 204;
}

/* ---- jobs ---- */

static int get_job(const kxld_request *rq, json_object **out_r)
{
    *out_r = kxld_jobs_get(rq->jobs, http_param(rq->params, "id"));
    return *out_r ? 200 : -1;
}

#define JOB_WAIT_MAX 3600

/* ?timeout=SECONDS (default 30): the job once it ended, or when that time is up. */
static int wait_job(const kxld_request *rq, json_object **out_r)
{
    char buf[32];
    const char *t = http_query_value(rq->query, "timeout", buf, sizeof(buf));
    char *end = NULL;
    long timeout = t ? strtol(t, &end, 10) : 30;
    if (t && (!*t || *end || timeout < 0 || timeout > JOB_WAIT_MAX)) {
        kx_err(KXL_ERR_INVALID, "?timeout='%s': a number of seconds from 0 to %d", t,
               JOB_WAIT_MAX);
        return -1;
    }
    *out_r = kxld_jobs_wait(rq->jobs, http_param(rq->params, "id"), (int)timeout);
    return *out_r ? 200 : -1;
}

/* ---- Prometheus ---- */

/* One frame of the stats reader `kxl top` uses, as Prometheus text. A reader per scrape: the
 * routes run in concurrent threads, and a scrape every few seconds does not need kept
 * connections. */
static int get_metrics(const kxld_request *rq, char **text_r)
{
    kxl_stats_reader *r = kxl_stats_reader_new(rq->paths);
    kxl_stats_frame f;
    int rc = kxl_stats_read(r, &f);
    kxl_stats_reader_free(r);
    if (rc < 0)
        return -1;
    *text_r = kxl_metrics_text(&f);
    kxl_stats_frame_dispose(&f);
    return 200;
}

/* ---- WebSockets ---- */

/* A WebSocket route asked without an upgrade: 426, saying how to ask. */
static int websocket_only(const kxld_request *rq, json_object **out_r)
{
    (void)rq;
    *out_r = http_error_json(KXL_ERR_INVALID,
                             "this resource is a WebSocket: ask with 'Upgrade: websocket'");
    return 426;
}

/* ---- the table ---- */

#define NO_OP KXL_OP__COUNT

static const kxld_route routes[] = {
    {"GET /api/v1/host", NO_OP, get_host},
    {"GET /api/v1/domains", NO_OP, list_domains},
    {"POST /api/v1/domains", NO_OP, create_domain, .may_wait = true},
    {"GET /api/v1/domains/{name}", NO_OP, get_domain},
    {"DELETE /api/v1/domains/{name}", NO_OP, destroy_domain, .may_wait = true},
    {NULL, KXL_OP_PAUSE, pause_domain},
    {NULL, KXL_OP_UNPAUSE, unpause_domain},
    {NULL, KXL_OP_SHUTDOWN, shutdown_domain, .may_wait = true},
    {NULL, KXL_OP_REBOOT, reboot_domain, .may_wait = true},
    {NULL, KXL_OP_BLOCK_LIST, list_disks},
    {NULL, KXL_OP_AUTOSTART_LIST, list_autostart},
    {NULL, KXL_OP_AUTOSTART_ENABLE, enable_autostart},
    {NULL, KXL_OP_AUTOSTART_DISABLE, disable_autostart},
    {"GET /api/v1/jobs/{id}", NO_OP, get_job},
    {"GET /api/v1/jobs/{id}/wait", NO_OP, wait_job},
    {"GET /api/v1/events", NO_OP, websocket_only, &ws_events_kind},
    {"GET /api/v1/domains/{name}/console", NO_OP, websocket_only, &ws_console_kind},
    {"GET /metrics", NO_OP, NULL, .text = get_metrics,
     .content_type = "text/plain; version=0.0.4; charset=utf-8"},
};

static const char *specs[KX_ARRAY_SIZE(routes)];
static pthread_once_t specs_once = PTHREAD_ONCE_INIT;

static void fill_specs(void)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(routes); i++)
        specs[i] = routes[i].route ? routes[i].route : kxl_op_describe(routes[i].op)->route;
}

const kxld_route *kxld_routes(size_t *n_r)
{
    *n_r = KX_ARRAY_SIZE(routes);
    return routes;
}

const char *const *kxld_route_specs(void)
{
    pthread_once(&specs_once, fill_specs);
    return specs;
}
