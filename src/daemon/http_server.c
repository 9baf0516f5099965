/* http_server.c - the libwebsockets side of kxld: a Unix-socket listener, request bodies,
 * route matching, worker threads that run one route each, and replies. Only the event loop
 * touches a connection; a worker hands its finished request back through a locked list and
 * wakes the loop with lws_cancel_service. */
#include "daemon/http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "daemon/http_status.h"
#include "daemon/kxld.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

typedef struct http_job http_job;

struct http_server {
    struct lws_context *ctx;
    const http_server_opts *o;
    int lock_fd;                 /* flock of SOCKET.lock: one kxld per socket */
    atomic_bool stop;
    pthread_mutex_t mu;          /* guards done and running */
    pthread_cond_t idle;
    http_job *done;              /* finished by workers, not yet taken by the loop */
    unsigned running;
};

/* One request: its route, then its reply. */
struct http_job {
    http_job *next;
    http_server *srv;
    struct lws *wsi;        /* loop only; NULL once the client has gone */
    size_t route;
    http_params params;
    char *body;             /* the request's body, NUL-terminated, or NULL */
    int status;             /* the reply: status, body (after LWS_PRE bytes), Allow */
    unsigned char *reply;
    size_t reply_len;
    char *allow;
};

/* Per connection (lws allocates it zeroed). */
typedef struct {
    char method[16];
    char path[1024];
    kx_buf body;
    size_t body_len;
    bool too_large;
    bool close_after;       /* the request's body is not read: the connection cannot go on */
    bool body_next;         /* headers sent, the body follows */
    bool dispatched;        /* this request is routed (libwebsockets also ends a POST with
                             * Content-Length: 0 by LWS_CALLBACK_HTTP_BODY_COMPLETION) */
    http_job *job;          /* in a worker (wsi set) or with its reply ready */
    struct timespec t0;
} http_conn;

static void job_free(http_job *j)
{
    if (!j)
        return;
    free(j->body);
    free(j->reply);
    free(j->allow);
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
static void job_set_error(http_job *j)
{
    kxl_errcode code = kx_err_code() ? kx_err_code() : KXL_ERR_INTERNAL;
    AUTOPTR(json_object) e = http_error_json(code, kx_err_msg());
    job_set_reply(j, http_status_of(code), e);
}

/* An error found by the loop itself (404, 405, 413, 503): status given, code for the body. */
static void job_set_refusal(http_job *j, int status, kxl_errcode code, const char *msg)
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

static void job_run(http_job *j)
{
    size_t n;
    const kxld_route *r = &kxld_routes(&n)[j->route];
    AUTOPTR(json_object) body = NULL;
    AUTOPTR(json_object) out = NULL;
    kx_err_clear();
    kxld_request rq = {.paths = j->srv->o->paths, .params = &j->params};
    int status = parse_body(j->body, &body);
    rq.body = body;
    if (status == 0)
        status = r->fn(&rq, &out);
    if (status < 0)
        job_set_error(j);
    else
        job_set_reply(j, status, out);
}

static void *worker(void *arg)
{
    http_job *j = arg;
    http_server *srv = j->srv;
    job_run(j);
    pthread_mutex_lock(&srv->mu);
    j->next = srv->done;
    srv->done = j;
    pthread_mutex_unlock(&srv->mu);
    lws_cancel_service(srv->ctx);
    pthread_mutex_lock(&srv->mu);   /* only now may http_server_free go on */
    srv->running--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* ---- the loop's side ---- */

static void reply_when_writable(struct lws *wsi, http_conn *c, http_job *j)
{
    c->job = j;
    lws_callback_on_writable(wsi);
}

/* Starts j's route in a worker; a refusal when too many are in progress. */
static void start_job(struct lws *wsi, http_conn *c, http_job *j)
{
    http_server *srv = j->srv;
    pthread_mutex_lock(&srv->mu);
    bool full = srv->running >= srv->o->max_requests;
    if (!full)
        srv->running++;
    pthread_mutex_unlock(&srv->mu);
    if (full) {
        job_set_refusal(j, 503, KXL_ERR_HOST, "kxld is busy: too many requests in progress");
        reply_when_writable(wsi, c, j);
        return;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    j->wsi = wsi;
    c->job = j;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);   /* shutdown -w may take minutes */
    pthread_t t;
    int e = pthread_create(&t, &attr, worker, j);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        pthread_mutex_lock(&srv->mu);
        srv->running--;
        pthread_mutex_unlock(&srv->mu);
        j->wsi = NULL;
        errno = e;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot start a worker thread");
        job_set_error(j);
        reply_when_writable(wsi, c, j);
    }
}

/* The request is complete (headers and body): route it. */
static void dispatch(struct lws *wsi, http_server *srv, http_conn *c)
{
    if (c->dispatched)
        return;
    c->dispatched = true;
    http_job *j = kx_malloc0(sizeof(*j));
    j->srv = srv;
    if (c->too_large) {
        kx_buf_dispose(&c->body);
        AUTOFREE char *msg = kx_asprintf("request body larger than %zu bytes", srv->o->max_body);
        job_set_refusal(j, 413, KXL_ERR_INVALID, msg);
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
    job_set_refusal(j, m == HTTP_MATCH_NO_PATH ? 404 : 405,
                    m == HTTP_MATCH_NO_PATH ? KXL_ERR_NOT_FOUND : KXL_ERR_INVALID, msg);
    reply_when_writable(wsi, c, j);
}

/* A body too large is read and dropped (so the client reads the 413 and the connection goes
 * on) up to this many times the limit; beyond, the 413 comes at once and the connection ends. */
#define DRAIN_FACTOR 16

static const char *const methods[] = {"GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE",
                                      "CONNECT", "HEAD"};

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
    snprintf(c->method, sizeof(c->method), "%s",
             m >= 0 && (size_t)m < KX_ARRAY_SIZE(methods) ? methods[m] : "?");
    snprintf(c->path, sizeof(c->path), "%.*s", uri_len, uri_len > 0 ? uri : "");
    char cl[32] = "";
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

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
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
        if (lws_add_http_common_headers(wsi, (unsigned)j->status, "application/json",
                                        j->reply_len, &p, end) ||
            (j->allow && lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                                     (const unsigned char *)j->allow,
                                                     (int)strlen(j->allow), &p, end)) ||
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

/* Workers have finished: their connections may write (or the job is dropped if its client is
 * gone). */
static void take_finished(http_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    http_job *list = TAKE_PTR(srv->done);
    pthread_mutex_unlock(&srv->mu);
    while (list) {
        http_job *j = list;
        list = j->next;
        struct lws *wsi = TAKE_PTR(j->wsi);
        if (wsi)
            lws_callback_on_writable(wsi);
        else
            job_free(j);
    }
}

/* The connection is gone (or its protocol dropped): its job is freed, or left to its worker
 * (take_finished frees it). Idempotent. */
static void conn_dispose(http_conn *c)
{
    if (c->job) {
        if (c->job->wsi)
            c->job->wsi = NULL;
        else
            job_free(c->job);
        c->job = NULL;
    }
    kx_buf_dispose(&c->body);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    http_server *srv = lws_context_user(lws_get_context(wsi));
    http_conn *c = user;
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
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c)
            conn_dispose(c);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        take_finished(srv);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(http_conn), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- the listener ---- */

/* Routes libwebsockets' own warnings and errors to the log. */
static void lws_log_to_kx(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    kx_log(level == LLL_ERR ? KX_LOG_ERROR : KX_LOG_WARN, "libwebsockets: %.*s", (int)n, line);
}

/* One kxld per socket: a lock beside it, held for the process's life (kill -9 frees it). A
 * socket file without a holder of the lock is a dead kxld's and is removed. */
static int lock_socket(http_server *srv, const char *path)
{
    AUTOFREE char *lock = kx_asprintf("%s.lock", path);
    srv->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (srv->lock_fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s'", lock);
        return -1;
    }
    if (flock(srv->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            kx_err(KXL_ERR_BUSY, "another kxld listens on '%s'", path);
        else
            kx_err_errno(KXL_ERR_INTERNAL, "cannot lock '%s'", lock);
        return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot remove the stale socket '%s'", path);
        return -1;
    }
    return 0;
}

/* 0660 with the group when it exists (its members may use the API: filesystem permission is
 * the authentication), else 0600; the socket's directory then lets the group through. */
static int set_socket_access(const char *path, const char *group)
{
    struct group gr, *found = NULL;
    char buf[4096];
    if (getgrnam_r(group, &gr, buf, sizeof(buf), &found) != 0 || !found) {
        kx_info("no group '%s': the API socket '%s' is for root only (0600)", group, path);
        if (chmod(path, 0600) < 0) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot chmod '%s'", path);
            return -1;
        }
        return 0;
    }
    AUTOFREE char *dir = kx_strdup(path);
    *strrchr(dir, '/') = '\0';
    struct stat st;
    if (chown(path, 0, found->gr_gid) < 0 || chmod(path, 0660) < 0 ||
        stat(*dir ? dir : "/", &st) < 0 ||
        (!(st.st_mode & S_IXGRP) &&
         (chown(dir, st.st_uid, found->gr_gid) < 0 || chmod(dir, (st.st_mode & 07777) | 0010) < 0))) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot give group '%s' the API socket '%s'", group, path);
        return -1;
    }
    return 0;
}

/* The libwebsockets context listening on the socket; NULL with kx_err. */
static struct lws_context *listen_on(http_server *srv, const char *path)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_kx);
    struct lws_context_creation_info info = {0};
    info.options = LWS_SERVER_OPTION_UNIX_SOCK | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.iface = path;
    info.protocols = protocols;
    info.user = srv;
    info.keepalive_timeout = srv->o->idle_timeout_s;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    /* no moment at which the socket is open to all: it is born owner-only */
    mode_t old = umask(0177);
    struct lws_context *ctx = lws_create_context(&info);
    umask(old);
    if (!ctx)
        kx_err(KXL_ERR_INTERNAL, "cannot listen on '%s' (libwebsockets said why, above)", path);
    return ctx;
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
    srv->lock_fd = -1;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->idle, NULL);
    if (lock_socket(srv, o->unix_socket) < 0 || !(srv->ctx = listen_on(srv, o->unix_socket)) ||
        set_socket_access(o->unix_socket, o->socket_group) < 0) {
        http_server_free(srv);
        return NULL;
    }
    return srv;
}

int http_server_run(http_server *s)
{
    while (!atomic_load(&s->stop))
        if (lws_service(s->ctx, 0) < 0) {
            kx_err(KXL_ERR_INTERNAL, "the event loop failed");
            return -1;
        }
    return 0;
}

void http_server_stop(http_server *s)
{
    atomic_store(&s->stop, true);
    if (s->ctx)
        lws_cancel_service(s->ctx);
}

void http_server_free(http_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->running)
        kx_notice("kxld: waiting for %u request(s) in progress", s->running);
    while (s->running)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (s->ctx) {
        take_finished(s);
        lws_context_destroy(s->ctx);
        unlink(s->o->unix_socket);
    }
    for (http_job *j = s->done, *next; j; j = next) {
        next = j->next;
        job_free(j);
    }
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->idle);
    free(s);
}
