/* kxld.h - kxld's route table: each route parses a request into one libkxl operation (the
 * same function the command line calls) and formats its result as JSON. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/http_login_limit.h"
#include "daemon/http_route.h"
#include "daemon/http_session.h"
#include "daemon/kxld_history.h"
#include "daemon/kxld_jobs.h"
#include "daemon/ws.h"
#include "kxl/ops.h"

typedef struct {
    const kxl_paths *paths;
    const http_params *params;   /* the {name} segments of the path */
    json_object *body;           /* the request's JSON body (an object), NULL when it had none */
    kxld_jobs *jobs;             /* the API's jobs */
    unsigned long long job_id;   /* the job of the API this request runs as, or 0 */
    const char *query;           /* "a=1&b=2", or "" */
    const char *const *auto_dirs;   /* kxld.conf's autostart directories (NULL-terminated) */
    const char *const *peers;    /* kxld.conf's relocation_peers, NAME=HOST[:PORT] each */
    const char *const *api_peers;   /* kxld.conf's api_peers, NAME=HOST:PORT each */
    /* the request as it came, for the relay to peers (kxld_relay.h) */
    const char *method;          /* "GET", "POST", ... */
    const char *body_text;       /* its body, or NULL */
    bool respond_async;          /* it asked Prefer: respond-async */
    struct kxld_peer_tls *peer_tls;   /* this host's certificate for its peers (NULL: none) */
    /* who asks, for the sessions' routes */
    http_sessions *sessions;     /* the browser sessions */
    const kx_strv *tokens;       /* the TCP listener's bearer tokens (empty without one) */
    const char *session_id;      /* the request's live session cookie, or "" */
    const char *host;            /* its Host header, or "" */
    bool tcp;                    /* on the TCP listener (TLS), not the Unix socket */
    kx_buf *set_cookie;          /* a handler's Set-Cookie header value, when it sets one */
    kxld_history *history;       /* the domains' last hour */
    const char *pam_service;     /* password logins: the PAM service... */
    const char *login_group;     /* ...and the group (besides root) that may log in */
    http_login_limit *login_limit;   /* failed logins by address (TCP only; NULL: none) */
    const char *peer;            /* the TCP peer's address, or "" */
} kxld_request;

/* A route's handler, run in a worker thread: returns the HTTP status of its success with *out_r
 * (caller puts; NULL for 204), or -1 with kx_err set where the error happened. */
typedef int (*kxld_handler)(const kxld_request *rq, json_object **out_r);
/* A handler whose reply is text, not JSON (GET /metrics): returns the HTTP status with *text_r
 * (caller frees), or -1 with kx_err set, which is answered as JSON like any error. */
typedef int (*kxld_text_handler)(const kxld_request *rq, char **text_r);
/* A reply passed on as it is (the relay to a peer): status, body (may be NULL), its type, and
 * a Location header (may be NULL); all owned by the reply (kxld_raw_reply_dispose). */
typedef struct {
    int status;
    char *body;
    size_t body_len;
    char *content_type;
    char *location;
} kxld_raw_reply;
void kxld_raw_reply_dispose(kxld_raw_reply *r);
/* A handler whose reply is another server's: 0 with *out_r filled, or -1 with kx_err set
 * (answered as JSON like any error). */
typedef int (*kxld_raw_handler)(const kxld_request *rq, kxld_raw_reply *out_r);
/* A job route's check of its request (body, domain), run before the job starts: 0, or -1 with
 * kx_err set, answered at once as an error. */
typedef int (*kxld_check)(const kxld_request *rq);

typedef struct {
    const char *route;   /* "METHOD PATH"; NULL: op's route in the operations table */
    kxl_op op;           /* the operation the route runs; KXL_OP__COUNT when no row names it */
    kxld_handler fn;     /* a plain request (for a WebSocket route: what it is told) */
    const ws_kind *ws;   /* NULL, or the WebSocket session an upgrade on the route starts */
    bool may_wait;       /* long: "Prefer: respond-async" makes it a job (202, kxld_jobs.h) */
    kxld_text_handler text;     /* instead of fn: a reply that is not JSON... */
    const char *content_type;   /* ...of this type */
    bool no_auth;        /* served without credentials (logging in); a foreign Origin is 403 */
    kxld_check check;    /* set: always a job (202 + Location), once this check passed */
    kxld_raw_handler raw;   /* instead of fn: a reply passed on as it is (the relay) */
} kxld_route;

/* The routes, in table order: n_r gets their number. */
const kxld_route *kxld_routes(size_t *n_r);
/* "METHOD PATH" of every route, index for index with kxld_routes; never NULL. */
const char *const *kxld_route_specs(void);
