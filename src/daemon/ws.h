/* ws.h - kxld's WebSocket endpoints. A route of the table may name a kind of WebSocket session
 * (kxld.h); http_server.c upgrades a connection on that route and runs the session's callbacks,
 * always in the event loop, so a session never needs a lock for its own state. */
#pragma once

#include <libwebsockets.h>
#include <stddef.h>

#include "daemon/http_route.h"
#include "daemon/http_server.h"

typedef struct {
    const char *name;   /* for the log: "events", "console" */
    /* A session for the upgraded connection wsi on a route with these path parameters; NULL
     * with kx_err refuses it (the connection is closed with the error as its reason). */
    void *(*open)(http_server *srv, struct lws *wsi, const http_params *params);
    /* A frame, or part of one, from the client: 0, or -1 to close the connection. */
    int (*receive)(void *sess, const void *in, size_t len);
    /* The connection may write: 0, or -1 to close it. */
    int (*writable)(void *sess);
    /* The connection is gone: the session is freed, or left to what still runs for it. */
    void (*close)(void *sess);
    /* NULL, or a check of the route's parameters before the upgrade: 0, or -1 with kx_err,
     * answered as an HTTP error (its status: http_status_of) instead of the upgrade. */
    int (*check)(http_server *srv, const http_params *params);
} ws_kind;

/* GET /api/v1/events (ws_events.c), GET /api/v1/domains/{name}/console (ws_console.c) and
 * GET /api/v1/domains/{name}/vnc (ws_vnc.c). */
extern const ws_kind ws_events_kind;
extern const ws_kind ws_console_kind;
extern const ws_kind ws_vnc_kind;
/* GET /api/v1/hosts/{host}/events, GET /api/v1/hosts/{host}/domains/{name}/console and
 * GET /api/v1/hosts/{host}/domains/{name}/vnc: a peer's, relayed (ws_peer_events.c). */
extern const ws_kind ws_peer_events_kind;
extern const ws_kind ws_peer_console_kind;
extern const ws_kind ws_peer_vnc_kind;

/* The close frame's reason: at most 123 bytes of msg, as a WebSocket allows. */
void ws_close_reason(struct lws *wsi, enum lws_close_status status, const char *msg);
