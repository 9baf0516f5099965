/* ws_console.c - GET /api/v1/domains/{name}/console: a domain's serial console on a
 * WebSocket, both ways (ws_relay.c). The library's kxl_console_connect (the call `kxl console`
 * makes) gives a socket to the supervisor, which sends its scrollback first and takes any
 * number of clients. */
#include "daemon/ws_relay.h"

static const ws_relay_spec console_spec = {
    .what = "console",
    .connect = kxl_console_connect,
    .ended = "the console closed: the domain ended",
    .frame = 4096,
};

static void *console_open(http_server *srv, struct lws *wsi, const http_params *params)
{
    return ws_relay_open(&console_spec, srv, wsi, params);
}

const ws_kind ws_console_kind = {"console", console_open, ws_relay_receive, ws_relay_writable,
                                 ws_relay_close};
