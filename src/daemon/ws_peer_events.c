/* ws_peer_events.c - a peer's events and a peer domain's console and display, relayed
 * (ws_peer.c): GET /api/v1/hosts/{host}/events[?domain=NAME] is the peer's GET /api/v1/events,
 * GET /api/v1/hosts/{host}/domains/{name}/console its domain's console WebSocket and
 * GET /api/v1/hosts/{host}/domains/{name}/vnc its domain's VNC display (noVNC's RFB stream). */
#include "daemon/ws_peer.h"

static const ws_peer_spec events_spec = {.what = "events", .rest = "events", .query = true};
static const ws_peer_spec console_spec = {.what = "console", .rest = "console"};
static const ws_peer_spec vnc_spec = {.what = "VNC display", .rest = "vnc"};

static int events_check(http_server *srv, const http_params *params)
{
    return ws_peer_check(&events_spec, srv, params);
}

static void *events_open(http_server *srv, struct lws *wsi, const http_params *params)
{
    return ws_peer_open(&events_spec, srv, wsi, params);
}

static int console_check(http_server *srv, const http_params *params)
{
    return ws_peer_check(&console_spec, srv, params);
}

static void *console_open(http_server *srv, struct lws *wsi, const http_params *params)
{
    return ws_peer_open(&console_spec, srv, wsi, params);
}

static int vnc_check(http_server *srv, const http_params *params)
{
    return ws_peer_check(&vnc_spec, srv, params);
}

static void *vnc_open(http_server *srv, struct lws *wsi, const http_params *params)
{
    return ws_peer_open(&vnc_spec, srv, wsi, params);
}

const ws_kind ws_peer_events_kind = {"peer events", events_open, ws_peer_receive,
                                     ws_peer_writable, ws_peer_close, events_check};
const ws_kind ws_peer_console_kind = {"peer console", console_open, ws_peer_receive,
                                      ws_peer_writable, ws_peer_close, console_check};
const ws_kind ws_peer_vnc_kind = {"peer vnc", vnc_open, ws_peer_receive, ws_peer_writable,
                                 ws_peer_close, vnc_check};
