/* tls_client.h - kxl-tls relay (tls_client.c). */
#pragma once

/* Connects to the relocation server at host:port with dir's certificates, reads the port
 * of QEMU's stream it names, prints "OK PORT" on stdout, then relays stdin/stdout through
 * the connection until one side ends: 0 (ended cleanly) or 1 (the relay failed, said on
 * stderr). -1 with kx_err before "OK" (nothing printed yet). */
int tls_client_relay(const char *dir, const char *host, const char *port);
