/* sock.h - Unix sockets kxl listens on (sock.c). */
#pragma once

/* A listening socket at path (any file there replaced), mode 0600: only its owner (root, or
 * the domain's uid) may connect. The descriptor, or -1 with kx_err. */
int kx_unix_listen(const char *path, int backlog);
