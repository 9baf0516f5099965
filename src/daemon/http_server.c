/* http_server.c - the libwebsockets side of kxld: request bodies, route matching, worker
 * threads that run one route each, replies, and the callback (whose WebSocket upgrades are
 * http_server_ws.c's). Only the event loop touches a connection; a worker hands its finished task
 * back through a locked list and wakes the loop with lws_cancel_service. */
#include "daemon/http_server.h"
#include "daemon/http_server_int.h"

#include <errno.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "daemon/http_auth.h"
#include "daemon/http_listen.h"
#include "daemon/http_session.h"
#include "daemon/http_static.h"
#include "daemon/http_status.h"
#include "daemon/kxld.h"
#include "daemon/kxld_sampler.h"
#include "daemon/ws_events.h"
#include "daemon/kxld_peer_tls.h"
#include "daemon/ws_peer.h"
#include "daemon/ws_relay.h"
#include "kxl/tls.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"


static void job_free(http_job *j)
{
    if (!j)
        return;
    free(j->body);
    free(j->reply);
    free(j->allow);
    free(j->location);
    free(j->request);
    kx_buf_dispose(&j->set_cookie);
    kxld_raw_reply_dispose(&j->raw);
    free(j);
}

/* The reply of j: status and JSON (NULL: no body). */
static void job_set_reply(http_job *j, int status, json_object *body)
{
    j->status = status;
    const char *text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                       JSON_C_TO_STRING_NOSLASHESCAPE)
                            : "";
    j->reply_len = strlen(text);
    j->reply = kx_malloc0(LWS_PRE + j->reply_len + 1);
    memcpy(j->reply + LWS_PRE, text, j->reply_len);
}

/* The reply of the error recorded in this thread. */
void http_job_set_error(http_job *j)
{
    kxl_errcode code = kx_err_code() ? kx_err_code() : KXL_ERR_INTERNAL;
    AUTOPTR(json_object) e = http_error_json(code, kx_err_msg());
    job_set_reply(j, http_status_of(code), e);
}

/* An error found by the loop itself (404, 405, 413, 503): status given, code for the body. */
void http_job_set_refusal(http_job *j, int status, kxl_errcode code, const char *msg)
{
    AUTOPTR(json_object) e = http_error_json(code, msg);
    job_set_reply(j, status, e);
}

/* ---- workers ---- */

/* The request's body as a JSON object, or NULL (with *body_r NULL) when it had none. */
static int parse_body(const char *text, json_object **body_r)
{
    *body_r = NULL;
    if (!text || !text[0])
        return 0;
    json_object *body = kx_json_parse(text, "request body");
    if (!body)
        return -1;
    if (!json_object_is_type(body, json_type_object)) {
        json_object_put(body);
        kx_err(KXL_ERR_INVALID, "request body: not a JSON object");
        return -1;
    }
    *body_r = body;
    return 0;
}

/* What j's handler is given (without a body). */
static kxld_request request_of(http_job *j)
{
    return (kxld_request){.paths = j->srv->o->paths, .params = &j->params,
                          .jobs = j->srv->jobs, .job_id = j->job_id, .query = j->query,
                          .sessions = j->srv->sessions, .tokens = j->srv->o->tokens,
                          .session_id = j->session_id, .host = j->host, .tcp = j->tcp,
                          .set_cookie = &j->set_cookie, .history = j->srv->history,
                          .pam_service = j->srv->o->pam_service,
                          .login_group = j->srv->o->login_group,
                          .login_limit = j->srv->login_limit, .peer = j->peer,
                          .auto_dirs = j->srv->o->auto_dirs, .peers = j->srv->o->peers,
                          .api_peers = j->srv->o->api_peers, .method = j->method,
                          .body_text = j->body, .respond_async = j->respond_async,
                          .peer_tls = j->srv->peer_tls};
}

/* Runs j's route: its HTTP status and body (*out_r, caller puts; the error's on failure). */
static int job_exec(http_job *j, json_object **out_r)
{
    size_t n;
    const kxld_route *r = &kxld_routes(&n)[j->route];
    AUTOPTR(json_object) body = NULL;
    *out_r = NULL;
    kx_err_clear();
    kxld_request rq = request_of(j);
    int status = parse_body(j->body, &body);
    rq.body = body;
    if (status == 0)
        status = r->fn(&rq, out_r);
    if (status >= 0)
        return status;
    json_object_put(*out_r);
    kxl_errcode code = kx_err_code() ? kx_err_code() : KXL_ERR_INTERNAL;
    *out_r = http_error_json(code, kx_err_msg());
    return http_status_of(code);
}

/* Runs j's text route (r): its text with the route's content type, or the error as JSON. */
static void job_run_text(http_job *j, const kxld_route *r)
{
    AUTOFREE char *text = NULL;
    kx_err_clear();
    kxld_request rq = request_of(j);
    int status = r->text(&rq, &text);
    if (status < 0) {
        http_job_set_error(j);
        return;
    }
    j->status = status;
    j->content_type = r->content_type;
    j->reply_len = strlen(text);
    j->reply = kx_malloc0(LWS_PRE + j->reply_len + 1);
    memcpy(j->reply + LWS_PRE, text, j->reply_len);
}

/* Runs j's raw route (r, the relay): the reply as the other server gave it, or the error as
 * JSON. */
static void job_run_raw(http_job *j, const kxld_route *r)
{
    kx_err_clear();
    kxld_request rq = request_of(j);
    if (r->raw(&rq, &j->raw) < 0) {
        kxld_raw_reply_dispose(&j->raw);
        http_job_set_error(j);
        return;
    }
    j->status = j->raw.status;
    j->content_type = j->raw.content_type;
    j->location = TAKE_PTR(j->raw.location);
    j->reply_len = j->raw.body_len;
    j->reply = kx_malloc0(LWS_PRE + j->reply_len + 1);
    if (j->reply_len)
        memcpy(j->reply + LWS_PRE, j->raw.body, j->reply_len);
}

static void job_run_checked(http_job *j, const kxld_route *r);

static void job_run(void *arg)
{
    http_job *j = arg;
    size_t n;
    const kxld_route *r = &kxld_routes(&n)[j->route];
    if (r->text) {
        job_run_text(j, r);
        return;
    }
    if (r->raw) {
        job_run_raw(j, r);
        return;
    }
    if (r->check) {
        job_run_checked(j, r);
        return;
    }
    AUTOPTR(json_object) out = NULL;
    int status = job_exec(j, &out);
    job_set_reply(j, status, out);
}

/* A job of the API (Prefer: respond-async): its end goes to the jobs, not to a client. */
static void job_run_detached(void *arg)
{
    http_job *j = arg;
    json_object *out;
    int status = job_exec(j, &out);
    kxld_jobs_finish(j->srv->jobs, j->job_id, status, out);
}

static void job_free_task(void *arg)
{
    job_free(arg);
}

/* A copy of j's request (not of its connection or reply), to run as a job of the API. */
static http_job *job_clone(const http_job *j)
{
    http_job *c = kx_malloc0(sizeof(*c));
    c->srv = j->srv;
    c->route = j->route;
    c->params = j->params;
    memcpy(c->query, j->query, sizeof(c->query));
    c->body = j->body ? kx_strdup(j->body) : NULL;
    memcpy(c->session_id, j->session_id, sizeof(c->session_id));
    memcpy(c->host, j->host, sizeof(c->host));
    c->tcp = j->tcp;
    c->request = kx_strdup(j->request);
    return c;
}

/* Runs run (taken) as a job of the API in a worker of its own; reply gets the 202 with the
 * job and its Location, or the 503 when no worker can take it. Thread-safe: called in the loop
 * and in workers. */
static void start_api_job(http_job *reply, http_job *run)
{
    http_server *srv = run->srv;
    run->job_id = kxld_jobs_start(srv->jobs, run->request);
    AUTOFREE char *id = kx_asprintf("%llu", run->job_id);
    if (http_server_defer(srv, job_run_detached, job_free_task, run) < 0) {
        kxld_jobs_finish(srv->jobs, run->job_id, 503, http_error_json(kx_err_code(), kx_err_msg()));
        http_job_set_refusal(reply, 503, kx_err_code(), kx_err_msg());
        job_free(run);
        return;
    }
    AUTOPTR(json_object) job = kxld_jobs_get(srv->jobs, id);
    job_set_reply(reply, 202, job);
    reply->location = kx_asprintf("/api/v1/jobs/%s", id);
}

/* A route that is always a job (kxld_route.check): bad input, an unknown domain are answered
 * at once by the check; then a copy of the request runs as a job and j's reply is the 202. */
static void job_run_checked(http_job *j, const kxld_route *r)
{
    AUTOPTR(json_object) body = NULL;
    kx_err_clear();
    kxld_request rq = request_of(j);
    if (parse_body(j->body, &body) < 0) {
        http_job_set_error(j);
        return;
    }
    rq.body = body;
    if (r->check(&rq) < 0) {
        http_job_set_error(j);
        return;
    }
    start_api_job(j, job_clone(j));
}

static void *worker(void *arg)
{
    http_task *t = arg;
    http_server *srv = t->srv;
    t->run(t->arg);
    pthread_mutex_lock(&srv->mu);
    t->next = srv->done;
    srv->done = t;
    pthread_mutex_unlock(&srv->mu);
    lws_cancel_service(srv->l.ctx);
    pthread_mutex_lock(&srv->mu);   /* only now may http_server_free go on */
    srv->running--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

int http_server_defer(http_server *srv, void (*run)(void *), void (*done)(void *), void *arg)
{
    pthread_mutex_lock(&srv->mu);
    bool full = srv->running >= srv->o->max_requests;
    if (!full)
        srv->running++;
    pthread_mutex_unlock(&srv->mu);
    if (full) {
        kx_err(KXL_ERR_HOST, "kxld is busy: too many requests in progress");
        return -1;
    }
    http_task *t = kx_malloc0(sizeof(*t));
    *t = (http_task){.srv = srv, .run = run, .done = done, .arg = arg};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t tid;
    int e = pthread_create(&tid, &attr, worker, t);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        free(t);
        pthread_mutex_lock(&srv->mu);
        srv->running--;
        pthread_mutex_unlock(&srv->mu);
        errno = e;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot start a worker thread");
        return -1;
    }
    return 0;
}

/* ---- the loop's side ---- */

static void reply_when_writable(struct lws *wsi, http_conn *c, http_job *j)
{
    c->job = j;
    lws_callback_on_writable(wsi);
}

/* A worker has finished j: its connection may write, or j is dropped if its client is gone. */
static void job_done(void *arg)
{
    http_job *j = arg;
    struct lws *wsi = TAKE_PTR(j->wsi);
    if (wsi)
        lws_callback_on_writable(wsi);
    else
        job_free(j);
}

/* Starts j's route in a worker; a refusal when too many are in progress. */
static void start_job(struct lws *wsi, http_conn *c, http_job *j)
{
    j->wsi = wsi;
    c->job = j;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);   /* shutdown -w may take minutes */
    if (http_server_defer(j->srv, job_run, job_done, j) < 0) {
        j->wsi = NULL;
        if (kx_err_code() == KXL_ERR_HOST)
            http_job_set_refusal(j, 503, KXL_ERR_HOST, kx_err_msg());
        else
            http_job_set_error(j);
        reply_when_writable(wsi, c, j);
    }
}

/* A long route asked with Prefer: respond-async: j runs as a job of the API, and the client
 * gets 202 at once with the job and its Location. */
static void start_detached(struct lws *wsi, http_conn *c, http_job *j)
{
    http_job *reply = kx_malloc0(sizeof(*reply));
    reply->srv = j->srv;
    start_api_job(reply, j);
    reply_when_writable(wsi, c, reply);
}

/* Whether the route of c's request is served without credentials (logging in). */
static bool route_is_open(const http_conn *c)
{
    size_t n, i;
    const kxld_route *routes = kxld_routes(&n);
    return http_route_find(kxld_route_specs(), n, c->method, c->path, &i, NULL, NULL) ==
               HTTP_MATCH_OK &&
           routes[i].no_auth;
}

/* j's reply: 401 (no credentials) or 403 (another site's, or a change without the session's
 * CSRF token), as auth says. */
void http_job_set_unauthorized(http_job *j, http_auth_result auth)
{
    if (auth == HTTP_AUTH_NONE) {
        j->unauthorized = true;
        http_job_set_refusal(j, 401, KXL_ERR_PERMISSION,
                        "this listener needs a bearer token ('Authorization: Bearer TOKEN' with "
                        "a token of kxld.conf's token_file) or a session (POST /api/v1/login)");
    } else {
        http_job_set_refusal(j, 403, KXL_ERR_PERMISSION,
                        "refused: a request from another site, or a change made with a session "
                        "cookie without its CSRF token (header X-CSRF-Token)");
    }
}

/* A request that may not be served is answered 401 or 403: whether it was. */
static bool refuse_unauthorized(struct lws *wsi, http_conn *c, http_job *j)
{
    if (c->auth == HTTP_AUTH_OK || (c->auth == HTTP_AUTH_NONE && route_is_open(c)))
        return false;
    http_job_set_unauthorized(j, c->auth);
    reply_when_writable(wsi, c, j);
    return true;
}

/* The request is complete (headers and body): route it. */
static void dispatch(struct lws *wsi, http_server *srv, http_conn *c)
{
    if (c->dispatched)
        return;
    c->dispatched = true;
    http_job *j = kx_malloc0(sizeof(*j));
    j->srv = srv;
    if (refuse_unauthorized(wsi, c, j))
        return;
    if (c->too_large) {
        kx_buf_dispose(&c->body);
        AUTOFREE char *msg = kx_asprintf("request body larger than %zu bytes", srv->o->max_body);
        http_job_set_refusal(j, 413, KXL_ERR_INVALID, msg);
        reply_when_writable(wsi, c, j);
        return;
    }
    kx_buf allow = KX_BUF_INIT;
    size_t n_routes;
    kxld_routes(&n_routes);
    http_match m = http_route_find(kxld_route_specs(), n_routes, c->method, c->path, &j->route,
                                   &j->params, &allow);
    if (m == HTTP_MATCH_OK) {
        kx_buf_dispose(&allow);
        j->body = c->body.s ? kx_buf_steal(&c->body) : NULL;
        c->body_len = 0;
        memcpy(j->query, c->query, sizeof(j->query));
        memcpy(j->session_id, c->session_id, sizeof(j->session_id));
        memcpy(j->host, c->host, sizeof(j->host));
        j->tcp = c->tcp;
        if (j->tcp)
            lws_get_peer_simple(wsi, j->peer, sizeof(j->peer));
        j->request = kx_asprintf("%s %s", c->method, c->path);
        memcpy(j->method, c->method, sizeof(j->method));
        j->respond_async = c->respond_async;
        if (c->respond_async && kxld_routes(&n_routes)[j->route].may_wait)
            start_detached(wsi, c, j);
        else
            start_job(wsi, c, j);
        return;
    }
    AUTOFREE char *msg = m == HTTP_MATCH_NO_PATH
                             ? kx_asprintf("no such resource: %s", c->path)
                             : kx_asprintf("%s %s: method not allowed (allowed: %s)", c->method,
                                           c->path, kx_buf_str(&allow));
    if (m == HTTP_MATCH_NO_METHOD)
        j->allow = kx_buf_steal(&allow);
    kx_buf_dispose(&allow);
    http_job_set_refusal(j, m == HTTP_MATCH_NO_PATH ? 404 : 405,
                    m == HTTP_MATCH_NO_PATH ? KXL_ERR_NOT_FOUND : KXL_ERR_INVALID, msg);
    reply_when_writable(wsi, c, j);
}

/* A body too large is read and dropped (so the client reads the 413 and the connection goes
 * on) up to this many times the limit; beyond, the 413 comes at once and the connection ends. */
#define DRAIN_FACTOR 16

static const char *const methods[] = {"GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE",
                                      "CONNECT", "HEAD"};

/* The request's arguments (libwebsockets keeps them apart from the path, decoded), joined by
 * '&'; what does not fit is left out. */
static void copy_query(struct lws *wsi, char *dst, size_t len)
{
    size_t used = 0;
    char arg[256];
    dst[0] = '\0';
    for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof(arg), WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
         i++) {
        size_t n = strlen(arg) + (used ? 1 : 0);
        if (used + n >= len)
            break;
        snprintf(dst + used, len - used, "%s%s", used ? "&" : "", arg);
        used += n;
    }
}

void http_server_query(struct lws *wsi, char *dst, size_t len)
{
    copy_query(wsi, dst, len);
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static bool safe_method(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* The request's Host: the header in HTTP/1.1, ":authority" in HTTP/2 (what a browser speaks
 * over TLS). */
static bool request_host(struct lws *wsi, char *buf, size_t len)
{
    return lws_hdr_copy(wsi, buf, (int)len, WSI_TOKEN_HOST) > 0 ||
           lws_hdr_copy(wsi, buf, (int)len, WSI_TOKEN_HTTP_COLON_AUTHORITY) > 0;
}

/* Whether the TLS connection of wsi brought a client certificate that verified against
 * tls_client_ca (one that did not has ended the handshake already; this is the check that
 * one was sent at all). */
static bool client_cert_verified(struct lws *wsi)
{
    union lws_tls_cert_info_results r;
    return lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_VERIFIED, &r, 0) == 0 && r.verified;
}

/* The request's live session (its id into c, when c is not NULL), CSRF header, Origin and
 * Host, and the decision on them (http_auth_decide). */
http_auth_result http_request_auth(http_server *srv, struct lws *wsi, http_conn *c,
                                     bool changes, bool websocket)
{
    char auth[1024], cookie[2048], sid[HTTP_SESSION_HEX], csrf[HTTP_SESSION_HEX] = "";
    char want[HTTP_SESSION_HEX], session_host[256], origin[512], host[256];
    http_auth_in in = {.tcp = lws_get_vhost(wsi) == srv->l.tcp_vh, .changes = changes,
                       .websocket = websocket};
    in.bearer_ok = in.tcp &&
                   lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
                   http_bearer_ok(auth, srv->o->tokens);
    in.cert_ok = in.tcp && srv->o->tls_client_ca && client_cert_verified(wsi);
    in.session_ok = lws_hdr_copy(wsi, cookie, sizeof(cookie), WSI_TOKEN_HTTP_COOKIE) > 0 &&
                    http_cookie_value(cookie, HTTP_SESSION_COOKIE, sid, sizeof(sid)) &&
                    http_session_check(srv->sessions, sid, http_session_now(), want, NULL,
                                       session_host);
    in.session_host = in.session_ok ? session_host : NULL;
    in.csrf_ok = in.session_ok &&
                 lws_hdr_custom_copy(wsi, csrf, sizeof(csrf), HTTP_CSRF_HEADER ":",
                                     (int)strlen(HTTP_CSRF_HEADER ":")) > 0 &&
                 http_equal_ct(csrf, want);
    in.origin = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) > 0 ? origin : NULL;
    in.host = request_host(wsi, host, sizeof(host)) ? host : NULL;
    if (c) {
        snprintf(c->session_id, sizeof(c->session_id), "%s", in.session_ok ? sid : "");
        c->by_session = in.session_ok && !in.bearer_ok && !in.cert_ok;
        snprintf(c->host, sizeof(c->host), "%s", in.host ? in.host : "");
        c->tcp = in.tcp;
    }
    return http_auth_decide(&in);
}

/* The headers of every page of the web UI. */
static int static_headers(struct lws *wsi, unsigned char **p, unsigned char *end)
{
    static const char *const h[][2] = {
        {"content-security-policy:", HTTP_STATIC_CSP},
        {"x-content-type-options:", "nosniff"},
        {"x-frame-options:", "DENY"},
        {"referrer-policy:", "same-origin"},
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(h); i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)h[i][0],
                                        (const unsigned char *)h[i][1], (int)strlen(h[i][1]),
                                        p, end))
            return -1;
    return 0;
}

/* A file of the web UI (GET, any listener, no credentials: the login page is one), or 404. */
static int serve_static(struct lws *wsi, http_server *srv, http_conn *c)
{
    kx_buf file = KX_BUF_INIT;
    const char *type = NULL;
    struct stat st;
    c->dispatched = true;
    if (!srv->o->web_dir || !http_static_file(srv->o->web_dir, c->path, &file, &type) ||
        stat(file.s, &st) < 0 || !S_ISREG(st.st_mode)) {
        kx_buf_dispose(&file);
        http_job *j = kx_malloc0(sizeof(*j));
        j->srv = srv;
        AUTOFREE char *msg = kx_asprintf("no such resource: %s", c->path);
        http_job_set_refusal(j, 404, KXL_ERR_NOT_FOUND, msg);
        reply_when_writable(wsi, c, j);
        return 0;
    }
    unsigned char headers[2048], *p = headers, *end = headers + sizeof(headers);
    int rc = static_headers(wsi, &p, end) < 0
                 ? -1
                 : lws_serve_http_file(wsi, file.s, type, (const char *)headers,
                                       (int)(p - headers));
    kx_info("%s %s (file) %.1f ms", c->method, c->path, elapsed_ms(&c->t0));
    kx_buf_dispose(&file);
    return rc < 0 ? -1 : 0;
}

/* Headers are in: remember the request; dispatch it now unless a body follows. */
static int on_request(struct lws *wsi, http_server *srv, http_conn *c)
{
    char *uri;
    int uri_len;
    int m = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    kx_buf_dispose(&c->body);
    c->body_len = 0;
    c->too_large = c->close_after = c->dispatched = false;
    char prefer[256];
    c->respond_async = lws_hdr_custom_copy(wsi, prefer, sizeof(prefer), "prefer:", 7) > 0 &&
                       strstr(prefer, "respond-async");
    snprintf(c->method, sizeof(c->method), "%s",
             m >= 0 && (size_t)m < KX_ARRAY_SIZE(methods) ? methods[m] : "?");
    snprintf(c->path, sizeof(c->path), "%.*s", uri_len, uri_len > 0 ? uri : "");
    copy_query(wsi, c->query, sizeof(c->query));
    c->auth = http_request_auth(srv, wsi, c, !safe_method(c->method), false);
    if (http_static_wanted(c->path) && safe_method(c->method))
        return serve_static(wsi, srv, c);
    char cl[32] = "";
    if (c->auth != HTTP_AUTH_OK && !route_is_open(c)) {
        c->close_after = true;   /* a body is not read for a stranger */
        dispatch(wsi, srv, c);
        return 0;
    }
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        unsigned long long len = strtoull(cl, NULL, 10);
        c->too_large = len > srv->o->max_body;
        if (len > DRAIN_FACTOR * srv->o->max_body) {
            c->close_after = true;   /* refused unread: the connection cannot go on */
            dispatch(wsi, srv, c);
            return 0;
        }
        if (len > 0)
            return 0;   /* LWS_CALLBACK_HTTP_BODY and _COMPLETION follow */
    }
    dispatch(wsi, srv, c);
    return 0;
}

/* The headers of j's reply, at *p (moved on) up to end: 0, or -1 when they do not fit. */
int http_reply_headers(struct lws *wsi, const http_job *j, unsigned char **p,
                             unsigned char *end)
{
    bool failed =
        lws_add_http_common_headers(wsi, (unsigned)j->status,
                                    j->content_type ? j->content_type : "application/json",
                                    j->reply_len, p, end) ||
        (j->allow && lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                                 (const unsigned char *)j->allow,
                                                 (int)strlen(j->allow), p, end)) ||
        (j->location && lws_add_http_header_by_name(wsi, (const unsigned char *)"location:",
                                                    (const unsigned char *)j->location,
                                                    (int)strlen(j->location), p, end)) ||
        (j->set_cookie.len && lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
                                                          (const unsigned char *)j->set_cookie.s,
                                                          (int)j->set_cookie.len, p, end)) ||
        (j->unauthorized &&
         lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                     (const unsigned char *)"Bearer realm=\"kxld\"", 19, p, end));
    return failed ? -1 : 0;
}

/* Sends the headers of c's reply, then (at the next writable) its body. */
static int on_writable(struct lws *wsi, http_conn *c)
{
    http_job *j = c->job;
    if (!j || j->wsi)
        return 0;   /* nothing ready (a worker still runs) */
    if (!c->body_next) {
        unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
                                           *end = buf + sizeof(buf) - 1;
        if (http_reply_headers(wsi, j, &p, end) < 0 ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        if (j->reply_len) {
            c->body_next = true;
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else if (lws_write(wsi, j->reply + LWS_PRE, j->reply_len, LWS_WRITE_HTTP_FINAL) !=
               (int)j->reply_len) {
        return -1;
    }
    kx_info("%s %s %d %.1f ms", c->method, c->path, j->status, elapsed_ms(&c->t0));
    job_free(TAKE_PTR(c->job));
    c->body_next = false;
    if (c->close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Workers have finished: each task's done runs here, in the loop. */
static void take_finished(http_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    http_task *list = TAKE_PTR(srv->done);
    pthread_mutex_unlock(&srv->mu);
    while (list) {
        http_task *t = list;
        list = t->next;
        t->done(t->arg);
        free(t);
    }
}

/* The connection is gone (or its protocol dropped): its job is freed, or left to its worker
 * (job_done frees it); a WebSocket session is closed. Idempotent. */
void http_conn_dispose(http_conn *c)
{
    if (c->job) {
        if (c->job->wsi)
            c->job->wsi = NULL;
        else
            job_free(c->job);
        c->job = NULL;
    }
    kx_buf_dispose(&c->body);
    if (c->ws_sess)
        c->ws->close(TAKE_PTR(c->ws_sess));
    free(TAKE_PTR(c->ws_refusal));
}

/* ---- the callback ---- */

/* HTTP and the TCP listener's authentication. */
static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, http_server *srv,
                         http_conn *c, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_request(wsi, srv, c);
    case LWS_CALLBACK_HTTP_BODY:
        c->body_len += len;
        c->too_large = c->too_large || c->body_len > srv->o->max_body;
        if (c->too_large)
            kx_buf_dispose(&c->body);
        else if (len > 0)
            kx_buf_addn(&c->body, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        dispatch(wsi, srv, c);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(wsi, c);
    default:
        return lws_callback_http_dummy(wsi, reason, c, in, len);
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    http_server *srv = lws_context_user(lws_get_context(wsi));
    http_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return http_ws_confirm(wsi, srv);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return http_ws_filter(wsi, srv);
    case LWS_CALLBACK_ESTABLISHED:
        return http_ws_established(wsi, srv, c);
    case LWS_CALLBACK_RECEIVE:
        return http_ws_receive(wsi, srv, c, in, len);
    case LWS_CALLBACK_TIMER:
        return http_ws_timer(wsi, srv, c);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return http_ws_writable(wsi, c);
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c)
            http_conn_dispose(c);
        return 0;
    case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
        /* len is OpenSSL's own verdict on the client's certificate (1: the CA signed it);
         * libwebsockets takes 0 here as "accept", whatever that verdict */
        return len ? 0 : 1;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        take_finished(srv);
        ev_hub_deliver(srv->events);
        return 0;
    default:
        return http_callback(wsi, reason, srv, c, in, len);
    }
}

/* The first protocol serves HTTP and the WebSockets (a client names no subprotocol); the
 * sockets a WebSocket relays (the console's, a VNC server's) are adopted into the second; the
 * client connections to peers' WebSockets (ws_peer.h) are the third's. */
static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(http_conn), 0, 0, NULL, 0},
    {WS_RELAY_PROTOCOL, ws_relay_raw_callback, 0, 0, 0, NULL, 0},
    {WS_PEER_PROTOCOL, ws_peer_client_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- the server ---- */

bool http_server_ws_authorized(http_server *srv, struct lws *wsi)
{
    return http_request_auth(srv, wsi, NULL, false, true) == HTTP_AUTH_OK;
}

const kxl_paths *http_server_paths(const http_server *srv)
{
    return srv->o->paths;
}

const char *const *http_server_api_peers(const http_server *srv)
{
    return srv->o->api_peers;
}

struct lws_vhost *http_server_peer_vhost(http_server *srv)
{
    kxld_peer_creds *c = kxld_peer_tls_get(srv->peer_tls);
    if (!c)
        return NULL;
    int r = 0;
    if (!srv->peer_ctx && !(srv->peer_ctx = kxld_peer_tls_client_ctx()))
        r = -1;
    /* the files changed since the last connection: the next ones show the new certificate */
    if (r == 0 && c->generation != srv->peer_generation &&
        (r = kxld_peer_tls_apply(srv->peer_ctx, c)) == 0)
        srv->peer_generation = c->generation;
    kxld_peer_creds_unref(c);
    if (r < 0 || http_listen_peer_vhost(&srv->l, srv->peer_ctx, protocols) < 0)
        return NULL;
    return srv->l.peer_vh;
}

ev_hub *http_server_events(const http_server *srv)
{
    return srv->events;
}

http_server *http_server_new(const http_server_opts *o)
{
    struct sockaddr_un sun;
    if (strlen(o->unix_socket) >= sizeof(sun.sun_path)) {
        kx_err(KXL_ERR_CONFIG, "unix_socket '%s' is too long for a socket's path",
               o->unix_socket);
        return NULL;
    }
    http_server *srv = kx_malloc0(sizeof(*srv));
    srv->o = o;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->idle, NULL);
    AUTOFREE char *jobs_dir = kx_path_join(o->paths->lib_dir, "kxld-jobs");
    srv->jobs = kxld_jobs_new(jobs_dir);
    srv->sessions = http_sessions_new(o->session_idle_s);
    srv->login_limit = http_login_limit_new();
    srv->history = kxld_history_new(KXLD_HISTORY_LEN);
    AUTOFREE char *tls_dir = kxl_tls_dir(o->paths);
    srv->peer_tls = kxld_peer_tls_new(tls_dir);
    if (http_listen(o, protocols, srv, &srv->l) < 0 ||
        !(srv->events = ev_hub_new(srv->l.ctx, o->paths)) ||
        !(srv->sampler = kxld_sampler_new(o->paths, srv->history, srv->events))) {
        http_server_free(srv);
        return NULL;
    }
    return srv;
}

int http_server_run(http_server *s)
{
    while (!atomic_load(&s->stop))
        if (lws_service(s->l.ctx, 0) < 0) {
            kx_err(KXL_ERR_INTERNAL, "the event loop failed");
            return -1;
        }
    return 0;
}

void http_server_stop(http_server *s)
{
    atomic_store(&s->stop, true);
    if (s->l.ctx)
        lws_cancel_service(s->l.ctx);
}

void http_server_free(http_server *s)
{
    if (!s)
        return;
    kxld_sampler_free(TAKE_PTR(s->sampler));   /* it posts to the hub: it ends first */
    ev_hub_stop(s->events);   /* its thread wakes the loop: it ends before the loop does */
    pthread_mutex_lock(&s->mu);
    if (s->running)
        kx_notice("kxld: waiting for %u request(s) in progress", s->running);
    while (s->running)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (s->l.ctx)
        take_finished(s);
    http_listen_close(&s->l, s->o);   /* closes the WebSockets: events' clients leave the hub */
    ev_hub_free(s->events);
    kxld_jobs_free(s->jobs);
    http_sessions_free(s->sessions);
    http_login_limit_free(s->login_limit);
    kxld_history_free(s->history);
    SSL_CTX_free(s->peer_ctx);   /* after the context: its vhost used it */
    kxld_peer_tls_free(s->peer_tls);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->idle);
    free(s);
}
