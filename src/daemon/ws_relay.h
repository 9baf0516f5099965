/* ws_relay.h - a WebSocket that relays a byte stream both ways: the serial console
 * (ws_console.c) and the VNC display (ws_vnc.c). The connect (which may have to ask or start a
 * supervisor) runs in a worker; the event loop then adopts the socket as a raw child of the
 * WebSocket. */
#pragma once

#include "daemon/ws.h"

typedef struct {
    const char *what;      /* for messages: "console", "VNC display" */
    /* Connects to the domain's stream, in a worker: a socket, or -1 with kx_err set. */
    int (*connect)(const kxl_paths *paths, const char *dom);
    const char *ended;     /* the close frame's reason once the stream closed */
    size_t frame;          /* bytes of output per WebSocket frame, at most */
} ws_relay_spec;

/* The session of an upgraded connection on a route with a {name} parameter (ws_kind.open). */
void *ws_relay_open(const ws_relay_spec *spec, http_server *srv, struct lws *wsi,
                    const http_params *params);
int ws_relay_receive(void *sess, const void *in, size_t len);
int ws_relay_writable(void *sess);
void ws_relay_close(void *sess);

/* The protocol the relayed sockets are adopted into, and its callback (http_server.c). */
#define WS_RELAY_PROTOCOL "kxl-relay-socket"
int ws_relay_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                          void *in, size_t len);
