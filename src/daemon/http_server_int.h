/* http_server_int.h - what the files of kxld's HTTP server share (http_server.c: requests,
 * workers, replies, the callback; http_server_ws.c: the WebSocket upgrades and their
 * sessions). Not for the routes: they see http_server.h and ws.h. */
#pragma once

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "daemon/http_auth.h"
#include "daemon/http_listen.h"
#include "daemon/http_server.h"
#include "daemon/http_session.h"
#include "daemon/kxld.h"
#include "daemon/kxld_peer_tls.h"
#include "daemon/kxld_sampler.h"
#include "daemon/ws.h"
#include "daemon/ws_events.h"
#include "util/buf.h"

typedef struct http_job http_job;
typedef struct http_task http_task;

/* Work for a worker thread: run there, then done in the event loop. */
struct http_task {
    struct http_task *next;
    http_server *srv;
    void (*run)(void *arg);
    void (*done)(void *arg);
    void *arg;
};

struct http_server {
    http_listeners l;
    kxld_peer_tls *peer_tls;       /* this host's certificate files for its peers */
    SSL_CTX *peer_ctx;             /* the client connections' to peers, once one was made */
    unsigned long peer_generation; /* the reading of peer_tls that peer_ctx holds */
    const http_server_opts *o;
    ev_hub *events;
    kxld_jobs *jobs;
    http_sessions *sessions;
    http_login_limit *login_limit;
    kxld_history *history;
    kxld_sampler *sampler;
    atomic_bool stop;
    pthread_mutex_t mu; /* guards done and running */
    pthread_cond_t idle;
    http_task *done; /* finished by workers, not yet taken by the loop */
    unsigned running;
};

/* One request: its route, then its reply. */
struct http_job {
    http_server *srv;
    struct lws *wsi; /* loop only; NULL once the client has gone */
    size_t route;
    http_params params;
    char query[512];
    char *body; /* the request's body, NUL-terminated, or NULL */
    int status; /* the reply: status, body (after LWS_PRE bytes), Allow */
    unsigned char *reply;
    size_t reply_len;
    char *allow;
    char *location;                    /* 202: the job's URL */
    bool unauthorized;                 /* 401: the reply says how to authenticate */
    char session_id[HTTP_SESSION_HEX]; /* the request's live session, or "" */
    char host[256];                    /* its Host header */
    bool tcp;                          /* on the TCP listener */
    char peer[64];                     /* ...from this address */
    kx_buf set_cookie;                 /* a Set-Cookie header the route asked for */
    unsigned long long job_id;         /* run as a job of the API */
    char *request;                     /* "METHOD PATH", what a job of the API records */
    const char *content_type;          /* of the reply; NULL: JSON */
    char method[16];                   /* of the request */
    bool respond_async;                /* it asked Prefer: respond-async */
    kxld_raw_reply raw;                /* a relayed reply's owned type and Location */
};

/* Per connection (lws allocates it zeroed). */
typedef struct {
    char method[16];
    char path[1024];
    char query[512]; /* the arguments after '?', joined by '&' */
    kx_buf body;
    size_t body_len;
    bool too_large;
    bool close_after;      /* the request's body is not read: the connection cannot go on */
    bool body_next;        /* headers sent, the body follows */
    bool dispatched;       /* this request is routed (libwebsockets also ends a POST with
                             * Content-Length: 0 by LWS_CALLBACK_HTTP_BODY_COMPLETION) */
    http_auth_result auth; /* what http_auth_decide said of the request */
    char session_id[HTTP_SESSION_HEX]; /* its live session cookie, or "" */
    bool by_session; /* ...which alone let it in (no token, no client certificate) */
    char host[256];
    bool tcp;
    bool respond_async; /* Prefer: respond-async */
    http_job *job;      /* in a worker (wsi set) or with its reply ready */
    struct timespec t0;
    const ws_kind *ws; /* an upgraded connection: its kind and session */
    void *ws_sess;
    char *ws_refusal;                  /* ...or why it has none, said in its close frame */
    char ws_session[HTTP_SESSION_HEX]; /* the session it lives by, or "" (a token's...) */
    bool ws_session_ended;             /* ...which ended: ws_refusal says so in its close frame */
} http_conn;

#define WS_SESSION_CHECK_US (2 * LWS_US_PER_SEC) /* a logout closes its WebSockets so soon */

/* ---- http_server.c ---- */

/* j's reply: the error of kx_err; status and one-line error of code; the 401 or 403 of auth. */
void http_job_set_error(http_job *j);
void http_job_set_refusal(http_job *j, int status, kxl_errcode code, const char *msg);
void http_job_set_unauthorized(http_job *j, http_auth_result auth);
/* The reply headers of j (status, type, length, ...) from *p on: 0, or -1. */
int http_reply_headers(struct lws *wsi, const http_job *j, unsigned char **p, unsigned char *end);
/* The request's live session (its id into c, when c is not NULL), CSRF header, Origin and
 * Host, and the decision on them (http_auth_decide). */
http_auth_result http_request_auth(http_server *srv, struct lws *wsi, http_conn *c, bool changes,
                                   bool websocket);
/* The connection is gone: its job freed or left to its worker; a WebSocket session closed. */
void http_conn_dispose(http_conn *c);

/* ---- http_server_ws.c: the callback's WebSocket reasons ---- */

int http_ws_confirm(struct lws *wsi, http_server *srv);
int http_ws_filter(struct lws *wsi, http_server *srv);
int http_ws_established(struct lws *wsi, http_server *srv, http_conn *c);
int http_ws_receive(struct lws *wsi, http_server *srv, http_conn *c, void *in, size_t len);
int http_ws_timer(struct lws *wsi, http_server *srv, http_conn *c);
int http_ws_writable(struct lws *wsi, http_conn *c);
