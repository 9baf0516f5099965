/* ws_peer.h - a peer kxld's WebSockets through this one (ws_peer.c): the events
 * (GET /api/v1/hosts/{host}/events, ws_peer_events.c), a domain's serial console
 * (GET /api/v1/hosts/{host}/domains/{name}/console) and its VNC display (.../vnc), relayed frame by frame to the peer of
 * kxld.conf's api_peers over a libwebsockets client connection with this host's certificate,
 * as the HTTP relay (kxld_relay.h) passes requests. */
#pragma once

#include "daemon/ws.h"

typedef struct {
    const char *what;    /* for messages: "events", "console", "VNC display" */
    const char *rest;    /* the peer's path after /api/v1/ (after domains/{name}/ with a name) */
    bool query;          /* the browser's query goes with it (?domain= of the events) */
} ws_peer_spec;

/* Before the upgrade (ws_kind.check): 0, or -1 with kx_err (KXL_ERR_NOT_FOUND for a host that
 * is no peer, KXL_ERR_INVALID for a name that would leave the peer's /api/v1/). Connects to
 * nothing. */
int ws_peer_check(const ws_peer_spec *spec, http_server *srv, const http_params *params);
/* The session of an upgraded connection (ws_kind.open): the connection to the peer starts; a
 * peer that cannot be reached closes the WebSocket saying so. NULL with kx_err. */
void *ws_peer_open(const ws_peer_spec *spec, http_server *srv, struct lws *wsi,
                   const http_params *params);
int ws_peer_receive(void *sess, const void *in, size_t len);
int ws_peer_writable(void *sess);
void ws_peer_close(void *sess);

/* The protocol of the client connections to peers, and its callback (http_server.c). */
#define WS_PEER_PROTOCOL "kxl-peer-client"
int ws_peer_client_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                            void *in, size_t len);
