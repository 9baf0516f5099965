/* sock.h - Unix sockets kxl listens on, TCP connections it makes (sock.c). */
#pragma once

/* A listening socket at path (any file there replaced), mode 0600: only its owner (root, or
 * the domain's uid) may connect. The descriptor, or -1 with kx_err. */
int kx_unix_listen(const char *path, int backlog);

/* A TCP connection to what (a phrase: "the relocation server") at host (a name or an
 * address) on port (a number), the first of its addresses that answers within timeout_ms
 * each; blocking, with keepalive and TCP_NODELAY (kxl's protocols send short lines that
 * must go at once). The descriptor, or -1 with kx_err: KXL_ERR_NOT_FOUND for a name that does
 * not resolve, KXL_ERR_STATE "cannot connect to WHAT on 'HOST' port PORT: why" when nothing
 * answers. */
int kx_tcp_connect(const char *what, const char *host, const char *port, int timeout_ms);
