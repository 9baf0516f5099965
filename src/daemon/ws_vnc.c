/* ws_vnc.c - GET /api/v1/domains/{name}/vnc: a domain's VNC display on a WebSocket, both ways
 * (ws_relay.c), for noVNC in the web UI: the RFB stream of the VNC server the domain's
 * `display` names (kxl_vnc_connect), behind the same authentication as the console. A display
 * with vncpasswd still asks for its password (VNC authentication, in the browser). */
#include "daemon/ws_relay.h"

static const ws_relay_spec vnc_spec = {
    .what = "VNC display",
    .connect = kxl_vnc_connect,
    .ended = "the VNC display closed: the domain ended",
    .frame = 64 * 1024,   /* framebuffer updates are large */
};

static void *vnc_open(http_server *srv, struct lws *wsi, const http_params *params)
{
    return ws_relay_open(&vnc_spec, srv, wsi, params);
}

const ws_kind ws_vnc_kind = {"vnc", vnc_open, ws_relay_receive, ws_relay_writable,
                             ws_relay_close};
