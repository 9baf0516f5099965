/* http_listen.h - kxld's listeners: the libwebsockets context, the Unix socket's vhost (its
 * lock and permissions) and, when configured, the TCP vhost with TLS. */
#pragma once

#include <libwebsockets.h>

#include "daemon/http_server.h"

typedef struct {
    struct lws_context *ctx;
    struct lws_vhost *unix_vh;
    struct lws_vhost *tcp_vh;   /* NULL: no TCP listener */
    struct lws_vhost *peer_vh;  /* the client connections to peers, once one was made */
    int lock_fd;                /* flock of SOCKET.lock: one kxld per socket */
} http_listeners;

/* Listens as o says, with these protocols (the first serves HTTP) and user as the context's
 * user pointer. 0, or -1 with kx_err (and nothing left open). */
int http_listen(const http_server_opts *o, const struct lws_protocols *protocols, void *user,
                http_listeners *l_r);
/* l->peer_vh, made now unless it was: no listener; its connections to peers (ws_peer.h) use
 * client_ctx (kxld_peer_tls.h: this host's certificate and CA of kxl tls-setup, as they are
 * when each connection is made), which must outlive the context. 0, or -1 with kx_err. */
int http_listen_peer_vhost(http_listeners *l, SSL_CTX *client_ctx,
                           const struct lws_protocols *protocols);
/* Closes the listeners and removes the socket. Idempotent. */
void http_listen_close(http_listeners *l, const http_server_opts *o);
