/* http_server.h - kxld's HTTP server (libwebsockets) on a Unix socket: the event loop parses
 * requests and matches routes; each request's operation runs in a worker thread, and the loop
 * sends its reply when it is done, so one slow domain never blocks another's request. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kxl/kxl.h"
#include "util/buf.h"

typedef struct http_server http_server;
typedef struct ev_hub ev_hub;
struct lws;

typedef struct {
    const char *unix_socket;   /* absolute; its directory exists */
    const char *socket_group;  /* 0660 and this group when it exists, else 0600 */
    size_t max_body;           /* bytes; a larger body is 413 */
    unsigned max_requests;     /* in progress at once; more are 503 */
    int idle_timeout_s;        /* an idle keep-alive connection is closed after it */
    const kxl_paths *paths;
    const char *const *auto_dirs;   /* kxld.conf's, for the autostart routes */
    const char *const *peers;       /* kxld.conf's relocation_peers, NAME=HOST[:PORT] each */
    const char *const *api_peers;   /* kxld.conf's api_peers, NAME=HOST:PORT each */
    /* A TCP listener with TLS when tcp_port is not 0: cert, key, and tokens or a client CA
     * are required. */
    int tcp_port;
    const char *tcp_address;   /* the address to bind */
    const char *tls_cert;      /* PEM files */
    const char *tls_key;
    const kx_strv *tokens;     /* its bearer tokens: a request needs one of them... */
    const char *tls_client_ca; /* ...or a client certificate signed by one of these (PEM;
                                * NULL: none asked for) */
    const char *web_dir;       /* the web UI's files, served at / (NULL: none) */
    int session_idle_s;        /* a browser session ends after this long without a request */
    const char *pam_service;   /* password logins (http_pam.h) */
    const char *login_group;
} http_server_opts;

/* Listens on o->unix_socket (refused while another kxld holds it; a stale socket of a dead
 * one is replaced), and on o->tcp_address:o->tcp_port with TLS when a port is given. NULL with
 * kx_err. o and what it points to outlive the server. */
http_server *http_server_new(const http_server_opts *o);
/* Serves until http_server_stop; 0, or -1 with kx_err. */
int http_server_run(http_server *s);
/* Makes http_server_run return; safe from any thread. */
void http_server_stop(http_server *s);
/* Waits for the requests in progress, then closes the socket and removes it. NULL-safe. */
void http_server_free(http_server *s);

/* For the WebSocket sessions, in the event loop: */
/* Runs run(arg) in a worker thread, then done(arg) in the event loop; -1 with kx_err (and
 * neither runs) when too many are in progress (KXL_ERR_HOST) or no thread can start. */
int http_server_defer(http_server *s, void (*run)(void *), void (*done)(void *), void *arg);
/* Whether wsi's WebSocket upgrade may be served (http_auth_decide): on the Unix socket unless
 * it comes from another site; on the TCP listener with one of the tokens as "Authorization:
 * Bearer TOKEN", a client certificate of tls_client_ca, or a session cookie from the page's
 * own Origin. */
bool http_server_ws_authorized(http_server *s, struct lws *wsi);
const kxl_paths *http_server_paths(const http_server *s);
/* kxld.conf's api_peers (NULL-terminated; may be NULL). */
const char *const *http_server_api_peers(const http_server *s);
/* The vhost of the client connections to peers (ws_peer.h): this host's certificate of kxl
 * tls-setup shown, the peer's checked against its CA; made at the first use. NULL with kx_err
 * when this host has no certificate. */
struct lws_vhost *http_server_peer_vhost(http_server *s);
/* The query of wsi's request ("a=1&b=2", as libwebsockets decoded it; what does not fit in
 * len is left out), while its headers are there (up to LWS_CALLBACK_ESTABLISHED). */
void http_server_query(struct lws *wsi, char *dst, size_t len);
/* The hub of the domains' events (ws_events.h). */
ev_hub *http_server_events(const http_server *s);
