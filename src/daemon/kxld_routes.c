/* kxld_routes.c - the one route table of the API (/api/v1/..., and /metrics) and its
 * handlers: each parses its request into one libkxl call (the one the command line makes) and
 * formats the result. A route that is a library operation takes its "METHOD PATH" from the
 * operations table (src/lib/ops_table.c), so it is named once. */
#include <limits.h>
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg/cfg_keys.h"
#include "daemon/http_auth.h"
#include "daemon/http_pam.h"
#include "daemon/http_status.h"
#include "daemon/kxld_body.h"
#include "daemon/kxld_ops_routes.h"
#include "daemon/kxld.h"
#include "daemon/kxld_routes_config.h"
#include "daemon/kxld_routes_image.h"
#include "daemon/kxld_routes_migrate.h"
#include "daemon/kxld_peer_tls.h"
#include "daemon/kxld_relay.h"
#include "kxl/autostart.h"
#include "kxl/stats.h"
#include "tls/tls_certs.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

static const char *dom(const kxld_request *rq)
{
    return http_param(rq->params, "name");
}

/* ---- the host and lists ---- */

/* This host's name to its peers: its certificate's first name (kxl tls-setup --name), which
 * their relocation_hosts_allow match and their relocation_peers name it by; NULL without one. */
static json_object *peer_name(const kxld_request *rq)
{
    kxld_peer_creds *c = rq->peer_tls ? kxld_peer_tls_get(rq->peer_tls) : NULL;
    kx_err_clear();   /* no certificate: no name, and no error */
    if (!c)
        return NULL;
    kx_strv names = KX_STRV_INIT;
    tls_cert_names(c->cert_x509, &names);
    json_object *name = names.n ? json_object_new_string(names.v[0]) : NULL;
    kx_strv_dispose(&names);
    kxld_peer_creds_unref(c);
    return name;
}

static int get_host(const kxld_request *rq, json_object **out_r)
{
    *out_r = kxl_host_info(rq->paths);
    if (!*out_r)
        return -1;
    json_object *name = peer_name(rq);
    if (name)
        json_object_object_add(*out_r, "peer_name", name);
    return 200;
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
        kx_err(KXL_ERR_INVALID, "request body: 'config_file' (a path) or 'config' (a config's "
               "text) is required");
    else if (path[0] != '/')
        kx_err(KXL_ERR_INVALID, "config file '%s': not an absolute path", path);
    else if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        kx_err(KXL_ERR_INVALID, "config file '%s': no such file", path);
    else
        return path;
    return NULL;
}

#define BODY_CONFIG "request body's config"

/* The config of a create: {"config_file": PATH} read as kxl create FILE reads it, or
 * {"config": TEXT} checked the same way (its messages say "request body's config:LINE:"). */
static kxl_domcfg *create_config(json_object *body)
{
    const char *text, *path;
    if (kxld_body_nonempty(body, "config", false, &text) < 0)
        return NULL;
    if (text && json_object_object_get_ex(body, "config_file", NULL)) {
        kx_err(KXL_ERR_INVALID, "request body: 'config' and 'config_file' exclude each other");
        return NULL;
    }
    if (text) {
        kxl_domcfg *cfg = cfg_load_text(BODY_CONFIG, text, strlen(text), kxl_host_cpus(),
                                        CFG_LOAD_CHECK_FILES);
        /* no file to record: nothing for autostart to link, or save to name */
        if (cfg) {
            free(cfg->source_file);
            cfg->source_file = NULL;
        }
        return cfg;
    }
    if (!(path = config_file(body)))
        return NULL;
    return cfg_load(path, NULL, kxl_host_cpus(), CFG_LOAD_CHECK_FILES);
}

static int create_domain(const kxld_request *rq, json_object **out_r)
{
    static const char *const members[] = {"config_file", "config", "paused", NULL};
    bool paused;
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_bool(rq->body, "paused", false, &paused) < 0)
        return -1;
    /* as kxl create FILE: parse, then the one create operation */
    AUTOPTR(kxl_domcfg) cfg = create_config(rq->body);
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

/* {"wait": bool, "force": bool}, both optional: the command line's -w and -H. */
static int power_opts(json_object *body, kxl_power_opts *o_r)
{
    static const char *const members[] = {"wait", "force", NULL};
    return kxld_body_only(body, members) < 0 ||
                   kxld_body_bool(body, "wait", false, &o_r->wait) < 0 ||
                   kxld_body_bool(body, "force", false, &o_r->force) < 0
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

/* ---- resources ---- */

/* The one required whole number of the body, named key, within 0..max. */
static int body_count(json_object *body, const char *key, int64_t max, int64_t *v_r)
{
    const char *const members[] = {key, NULL};
    if (kxld_body_only(body, members) < 0 || kxld_body_int(body, key, true, 0, v_r) < 0)
        return -1;
    if (*v_r < 0 || *v_r > max) {
        kx_err(KXL_ERR_INVALID, "request body: '%s' = %lld is out of range", key,
               (long long)*v_r);
        return -1;
    }
    return 0;
}

/* {"vcpus": N}, as kxl vcpu-set DOM N */
static int set_vcpus(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    int64_t n;
    if (body_count(rq->body, "vcpus", UINT32_MAX, &n) < 0)
        return -1;
    return kxl_domain_vcpu_set(rq->paths, dom(rq), (unsigned)n) < 0 ? -1 : 204;
}

/* {"memory_mib": N}, as kxl mem-set DOM Nm */
static int set_memory(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    int64_t mib;
    if (body_count(rq->body, "memory_mib", INT64_MAX >> 20, &mib) < 0)
        return -1;
    return kxl_domain_mem_set(rq->paths, dom(rq), (uint64_t)mib) < 0 ? -1 : 204;
}

/* {"maxmem_mib": N}, as kxl mem-max DOM Nm */
static int set_maxmem(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    int64_t mib;
    if (body_count(rq->body, "maxmem_mib", INT64_MAX >> 20, &mib) < 0)
        return -1;
    return kxl_domain_mem_max(rq->paths, dom(rq), (uint64_t)mib) < 0 ? -1 : 204;
}

/* A member of sched's body as the operation takes it: absent (INT64_MIN) is unchanged; a number
 * out of int's range stays out of every valid one, for the operation to refuse. */
static int sched_value(int64_t v)
{
    if (v == INT64_MIN)
        return KXL_SCHED_UNCHANGED;
    return v > INT_MAX ? INT_MAX : v <= INT_MIN ? INT_MIN + 1 : (int)v;
}

/* {"weight": W, "cap": C}, either optional: kxl sched-credit -d DOM -w W -c C */
static int set_sched(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    static const char *const members[] = {"weight", "cap", NULL};
    int64_t w, c;
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_int(rq->body, "weight", false, INT64_MIN, &w) < 0 ||
        kxld_body_int(rq->body, "cap", false, INT64_MIN, &c) < 0)
        return -1;
    kxl_sched_info set = {.weight = sched_value(w), .cap = sched_value(c)};
    return kxl_domain_sched_set(rq->paths, dom(rq), &set) < 0 ? -1 : 204;
}

/* as kxl sched-credit -d DOM --json, one object */
static int get_sched(const kxld_request *rq, json_object **out_r)
{
    AUTOFREE kxl_sched_info *infos = NULL;
    size_t n;
    if (kxl_sched_list(rq->paths, dom(rq), &infos, &n) < 0)
        return -1;
    *out_r = kxl_sched_to_json(&infos[0]);
    return 200;
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
    if (kxld_body_only(rq->body, members) < 0)
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

/* ---- history ---- */

/* The domain's last hour, a sample every KXLD_HISTORY_STEP_S seconds, oldest first (none yet
 * for a domain that has just started). */
static int get_history(const kxld_request *rq, json_object **out_r)
{
    kxl_dominfo d;
    if (kxl_domain_lookup(rq->paths, dom(rq), &d) < 0)
        return -1;
    AUTOFREE kxld_sample *samples = NULL;
    ssize_t n = kxld_history_get(rq->history, d.name, &samples);
    json_object *list = json_object_new_array();
    for (ssize_t i = 0; i < n; i++)
        json_object_array_add(list, kxld_sample_to_json(&samples[i]));
    *out_r = json_object_new_object();
    json_object_object_add(*out_r, "domain", json_object_new_string(d.name));
    json_object_object_add(*out_r, "step_s", json_object_new_int(KXLD_HISTORY_STEP_S));
    json_object_object_add(*out_r, "samples", list);
    return 200;
}

/* ---- config files ---- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The config files in etc/kxl/ (NAME.cfg), by name: what "create from a config" offers. */
static int list_configs(const kxld_request *rq, json_object **out_r)
{
    DIR *d = opendir(rq->paths->etc_dir);
    kx_strv names = KX_STRV_INIT;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".cfg") == 0 && e->d_name[0] != '.')
            kx_strv_push(&names, e->d_name);
    }
    if (d)
        closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof(*names.v), by_name);
    *out_r = json_object_new_array();
    for (size_t i = 0; i < names.n; i++) {
        json_object *c = json_object_new_object();
        AUTOFREE char *file = kx_path_join(rq->paths->etc_dir, names.v[i]);
        json_object_object_add(c, "name", json_object_new_string_len(names.v[i],
                                                                     (int)strlen(names.v[i]) - 4));
        json_object_object_add(c, "config_file", json_object_new_string(file));
        json_object_array_add(*out_r, c);
    }
    kx_strv_dispose(&names);
    return 200;
}

/* ---- browser sessions ---- */

/* The credentials of a login body: an API token (user "token"), or a user and password that
 * PAM accepts for root or a member of login_group (http_pam.h). A wrong one is refused
 * without saying which part was wrong. */
static int check_login(const kxld_request *rq, const char **user_r)
{
    static const char *const members[] = {"token", "user", "password", NULL};
    if (kxld_body_only(rq->body, members) < 0)
        return -1;
    const char *token = kx_json_str(rq->body, "token", NULL);
    const char *user = kx_json_str(rq->body, "user", NULL);
    const char *password = kx_json_str(rq->body, "password", NULL);
    if (user && *user && password && *password && !token) {
        if (http_pam_login(rq->pam_service, rq->login_group, user, password) < 0)
            return -1;
        *user_r = user;
        return 0;
    }
    if (!token || !*token || user || password) {
        kx_err(KXL_ERR_INVALID, "request body: either 'token', or 'user' and 'password' (strings) "
               "are required");
        return -1;
    }
    if (!http_token_ok(token, rq->tokens)) {
        kx_err(KXL_ERR_PERMISSION, "login refused: wrong token");
        return -1;
    }
    *user_r = "token";
    return 0;
}

/* The session's description: who, its CSRF token (for the header of every change), and how
 * long it lives without a request. */
static json_object *session_json(const char *user, const char *auth, const char *csrf,
                                 int idle_s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "user", json_object_new_string(user));
    json_object_object_add(o, "auth", json_object_new_string(auth));
    if (csrf)
        json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
    if (idle_s)
        json_object_object_add(o, "idle_timeout_s", json_object_new_int(idle_s));
    return o;
}

/* A TCP peer that failed too often lately is answered 429 without PAM being asked. */
static bool login_limited(const kxld_request *rq, json_object **out_r)
{
    if (!rq->login_limit || !rq->peer || !rq->peer[0])
        return false;
    long long wait = http_login_limit_wait(rq->login_limit, rq->peer, (long long)http_session_now());
    if (!wait)
        return false;
    AUTOFREE char *msg = kx_asprintf("login refused: %d failed logins from %s within %d s; "
                                     "try again in %lld s", HTTP_LOGIN_MAX_FAILURES, rq->peer,
                                     HTTP_LOGIN_WINDOW_S, wait);
    kx_info("%s", msg);
    *out_r = http_error_json(KXL_ERR_PERMISSION, msg);
    return true;
}

/* POST /api/v1/login: a session cookie (HttpOnly, SameSite=Strict, Secure over TLS). */
static int login(const kxld_request *rq, json_object **out_r)
{
    const char *user;
    char id[HTTP_SESSION_HEX], csrf[HTTP_SESSION_HEX];
    if (login_limited(rq, out_r))
        return 429;
    if (check_login(rq, &user) < 0) {
        if (rq->login_limit && rq->peer && rq->peer[0] && kx_err_code() == KXL_ERR_PERMISSION)
            http_login_limit_failed(rq->login_limit, rq->peer, (long long)http_session_now());
        return -1;
    }
    if (rq->login_limit && rq->peer && rq->peer[0])
        http_login_limit_succeeded(rq->login_limit, rq->peer);
    if (http_session_create(rq->sessions, user, rq->host, http_session_now(), id, csrf) < 0)
        return -1;
    kx_buf_printf(rq->set_cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
                  HTTP_SESSION_COOKIE, id, rq->tcp ? "; Secure" : "");
    *out_r = session_json(user, "cookie", csrf, http_sessions_idle_s(rq->sessions));
    explicit_bzero(id, sizeof(id));
    return 200;
}

static int logout(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    http_session_remove(rq->sessions, rq->session_id);
    kx_buf_printf(rq->set_cookie, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
                  HTTP_SESSION_COOKIE, rq->tcp ? "; Secure" : "");
    return 204;
}

/* GET /api/v1/session: who the request is (the page asks at load: 401 shows the login). */
static int get_session(const kxld_request *rq, json_object **out_r)
{
    char csrf[HTTP_SESSION_HEX], user[256];
    if (rq->session_id[0] &&
        http_session_check(rq->sessions, rq->session_id, http_session_now(), csrf, user, NULL))
        *out_r = session_json(user, "cookie", csrf, http_sessions_idle_s(rq->sessions));
    else if (rq->tcp)
        *out_r = session_json("token", "bearer", NULL, 0);
    else
        *out_r = session_json("socket", "socket", NULL, 0);
    return 200;
}

/* ---- jobs ---- */

static int get_job(const kxld_request *rq, json_object **out_r)
{
    *out_r = kxld_jobs_get(rq->jobs, http_param(rq->params, "id"));
    return *out_r ? 200 : -1;
}

#define JOB_WAIT_MAX 3600

/* ?timeout=SECONDS (default 30): the job once it ended, or when that time is up; with
 * ?after=N also once its "updates" is past N (a step, the web UI's way to follow a job). */
static int wait_job(const kxld_request *rq, json_object **out_r)
{
    char buf[32], abuf[32];
    const char *t = http_query_value(rq->query, "timeout", buf, sizeof(buf));
    const char *a = http_query_value(rq->query, "after", abuf, sizeof(abuf));
    char *end = NULL, *aend = NULL;
    long timeout = t ? strtol(t, &end, 10) : 30;
    long long after = a ? strtoll(a, &aend, 10) : -1;
    if (t && (!*t || *end || timeout < 0 || timeout > JOB_WAIT_MAX)) {
        kx_err(KXL_ERR_INVALID, "?timeout='%s': a number of seconds from 0 to %d", t,
               JOB_WAIT_MAX);
        return -1;
    }
    if (a && (!*a || *aend || after < 0)) {
        kx_err(KXL_ERR_INVALID, "?after='%s': the job's \"updates\" last seen, a number "
               "from 0", a);
        return -1;
    }
    *out_r = kxld_jobs_wait(rq->jobs, http_param(rq->params, "id"), (int)timeout, after);
    return *out_r ? 200 : -1;
}

/* Whether op runs as a job of the domain's supervisor (kxl(1), "Jobs"). */
static bool supervisor_job(kxl_op op)
{
    static const kxl_op ops[] = {KXL_OP_SAVE, KXL_OP_DUMP_CORE, KXL_OP_SNAPSHOT_CREATE,
                                 KXL_OP_SNAPSHOT_REVERT, KXL_OP_SNAPSHOT_DELETE,
                                 KXL_OP_BLOCK_DETACH, KXL_OP_NETWORK_DETACH};
    for (size_t i = 0; i < KX_ARRAY_SIZE(ops); i++)
        if (ops[i] == op)
            return true;
    return false;
}

/* A running job that a domain's supervisor runs for it (a save, a dump, a snapshot, a
 * hot-unplug) is cancelled as kxl job-cancel DOM cancels it; the job then ends as failed
 * ("... was cancelled"), and 204 says the supervisor took the cancel. kxld's own (a
 * create-image) is cancelled here (kxld_jobs_cancel). Any other job cannot be, nor one that
 * ended (409). */
static int cancel_job(const kxld_request *rq, json_object **out_r)
{
    (void)out_r;
    const char *id = http_param(rq->params, "id");
    AUTOPTR(json_object) job = kxld_jobs_get(rq->jobs, id);
    if (!job)
        return -1;
    const char *request = kx_json_str(job, "request", ""), *state = kx_json_str(job, "state", "");
    if (strcmp(state, "running") != 0) {
        kx_err(KXL_ERR_STATE, "job %s (%s) has ended (%s): there is nothing to cancel", id,
               request, state);
        return -1;
    }
    if (kxld_jobs_cancel(rq->jobs, id))
        return 204;
    char method[16];
    size_t len = strcspn(request, " "), n, i;
    http_params params;
    const kxld_route *table = kxld_routes(&n);
    snprintf(method, sizeof(method), "%.*s", (int)len, request);
    bool of_supervisor = request[len] == ' ' && len < sizeof(method) &&
                         http_route_find(kxld_route_specs(), n, method, request + len + 1, &i,
                                         &params, NULL) == HTTP_MATCH_OK &&
                         supervisor_job(table[i].op) && http_param(&params, "name");
    if (!of_supervisor) {
        kx_err(KXL_ERR_STATE, "job %s (%s) cannot be cancelled: only a domain's own job (a "
               "save, a dump, a snapshot, a hot-unplug) or a create-image can", id, request);
        return -1;
    }
    return kxl_domain_job_cancel(rq->paths, http_param(&params, "name")) < 0 ? -1 : 204;
}

/* ---- Prometheus ---- */

/* One frame of the stats reader `kxl top` uses. A reader per request: the routes run in
 * concurrent threads, and a scrape every few seconds does not need kept connections. */
static int read_one_frame(const kxl_paths *p, kxl_stats_frame *f_r)
{
    kxl_stats_reader *r = kxl_stats_reader_new(p);
    int rc = kxl_stats_read(r, f_r);
    kxl_stats_reader_free(r);
    return rc;
}

/* The frame as Prometheus text. */
static int get_metrics(const kxld_request *rq, char **text_r)
{
    kxl_stats_frame f;
    if (read_one_frame(rq->paths, &f) < 0)
        return -1;
    *text_r = kxl_metrics_text(&f);
    kxl_stats_frame_dispose(&f);
    return 200;
}

/* The frame as kxl top --json shows it (its cpu_pct, a rate between frames, is 0 in this
 * first one: GET .../history has the rates). */
static int get_stats(const kxld_request *rq, json_object **out_r)
{
    kxl_stats_frame f;
    if (read_one_frame(rq->paths, &f) < 0)
        return -1;
    *out_r = kxl_top_frame_json(&f);
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
    {"POST /api/v1/login", NO_OP, login, .no_auth = true},
    {"POST /api/v1/logout", NO_OP, logout},
    {"GET /api/v1/session", NO_OP, get_session},
    {"GET /api/v1/host", NO_OP, get_host},
    {"GET /api/v1/configs", NO_OP, list_configs},
    {"GET /api/v1/domains", NO_OP, list_domains},
    {"POST /api/v1/domains", NO_OP, create_domain, .may_wait = true},
    {"GET /api/v1/domains/{name}", NO_OP, get_domain},
    {"DELETE /api/v1/domains/{name}", NO_OP, destroy_domain, .may_wait = true},
    {NULL, KXL_OP_PAUSE, pause_domain},
    {NULL, KXL_OP_UNPAUSE, unpause_domain},
    {NULL, KXL_OP_SHUTDOWN, shutdown_domain, .may_wait = true},
    {NULL, KXL_OP_REBOOT, reboot_domain, .may_wait = true},
    {NULL, KXL_OP_BLOCK_LIST, list_disks},
    {NULL, KXL_OP_VCPU_SET, set_vcpus, .may_wait = true},
    {NULL, KXL_OP_MEM_SET, set_memory},
    {NULL, KXL_OP_MEM_MAX, set_maxmem},
    {NULL, KXL_OP_SCHED_CREDIT, set_sched},
    {"GET /api/v1/domains/{name}/sched", NO_OP, get_sched},
    {NULL, KXL_OP_AUTOSTART_LIST, list_autostart},
    {NULL, KXL_OP_AUTOSTART_ENABLE, enable_autostart},
    {NULL, KXL_OP_AUTOSTART_DISABLE, disable_autostart},
    {"GET /api/v1/domains/{name}/history", NO_OP, get_history},
    {NULL, KXL_OP_RENAME, kxld_rename_domain},
    {NULL, KXL_OP_TRIGGER, kxld_trigger_domain},
    {NULL, KXL_OP_SYSRQ, kxld_sysrq_domain},
    {NULL, KXL_OP_DUMP_CORE, kxld_dump_core, .check = kxld_dump_core_check},
    {NULL, KXL_OP_JOB_CANCEL, kxld_cancel_job},
    {NULL, KXL_OP_VCPU_LIST, kxld_list_vcpus},
    {NULL, KXL_OP_VCPU_PIN, kxld_pin_vcpu},
    {NULL, KXL_OP_SAVE, kxld_save_domain, .check = kxld_save_check},
    {NULL, KXL_OP_RESTORE, kxld_restore_domain, .may_wait = true},
    {NULL, KXL_OP_BLOCK_ATTACH, kxld_attach_disk, .may_wait = true},
    {NULL, KXL_OP_BLOCK_DETACH, kxld_detach_disk, .may_wait = true},
    {NULL, KXL_OP_CD_INSERT, kxld_insert_medium, .may_wait = true},
    {NULL, KXL_OP_CD_EJECT, kxld_eject_medium, .may_wait = true},
    {NULL, KXL_OP_NETWORK_ATTACH, kxld_attach_vif},
    {NULL, KXL_OP_NETWORK_DETACH, kxld_detach_vif},
    {NULL, KXL_OP_SNAPSHOT_CREATE, kxld_create_snapshot, .check = kxld_snapshot_check},
    {NULL, KXL_OP_SNAPSHOT_LIST, kxld_list_snapshots},
    {NULL, KXL_OP_SNAPSHOT_REVERT, kxld_revert_snapshot, .may_wait = true},
    {NULL, KXL_OP_SNAPSHOT_DELETE, kxld_delete_snapshot, .may_wait = true},
    {"GET /api/v1/networks", NO_OP, kxld_list_networks},
    {NULL, KXL_OP_STATS, get_stats},
    {"GET /api/v1/jobs/{id}", NO_OP, get_job},
    {"GET /api/v1/jobs/{id}/wait", NO_OP, wait_job},
    {"POST /api/v1/jobs/{id}/cancel", NO_OP, cancel_job},
    {"GET /api/v1/events", NO_OP, websocket_only, &ws_events_kind},
    {"GET /api/v1/domains/{name}/console", NO_OP, websocket_only, &ws_console_kind},
    /* the web UI's config editor and graphical console */
    {"GET /api/v1/configs/{file}", NO_OP, kxld_get_config},
    {"PUT /api/v1/configs/{file}", NO_OP, kxld_put_config},
    {"POST /api/v1/configs/{file}/validate", NO_OP, kxld_validate_config},
    {"GET /api/v1/domains/{name}/vnc", NO_OP, websocket_only, &ws_vnc_kind},
    /* create-image */
    {"POST /api/v1/images", NO_OP, kxld_create_image, .check = kxld_create_image_check},
    /* live migration to a relocation server, by address or kxld.conf's name for it */
    {"GET /api/v1/peers", NO_OP, kxld_list_peers},
    {"POST /api/v1/domains/{name}/migrate", NO_OP, kxld_migrate_domain,
     .check = kxld_migrate_check},
    /* several hosts in one view: kxld.conf's api_peers, and the relay to them */
    {"GET /api/v1/hosts", NO_OP, kxld_list_hosts},
    /* ...and of their WebSockets, before the relay of requests, which would take their paths */
    {"GET /api/v1/hosts/{host}/events", NO_OP, websocket_only, &ws_peer_events_kind},
    {"GET /api/v1/hosts/{host}/domains/{name}/console", NO_OP, websocket_only,
     &ws_peer_console_kind},
    {"GET /api/v1/hosts/{host}/domains/{name}/vnc", NO_OP, websocket_only, &ws_peer_vnc_kind},
    {"GET /api/v1/hosts/{host}/{path+}", NO_OP, NULL, .raw = kxld_relay},
    {"POST /api/v1/hosts/{host}/{path+}", NO_OP, NULL, .raw = kxld_relay},
    {"PUT /api/v1/hosts/{host}/{path+}", NO_OP, NULL, .raw = kxld_relay},
    {"DELETE /api/v1/hosts/{host}/{path+}", NO_OP, NULL, .raw = kxld_relay},
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
