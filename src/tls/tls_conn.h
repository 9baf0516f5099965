/* tls_conn.h - the relocation server's TLS connections (OpenSSL's libssl): mutual TLS 1.3
 * only, both ends presenting a host certificate signed by the one CA under ETC/tls/. */
#pragma once

#include <openssl/ssl.h>
#include <stdbool.h>

#include "util/buf.h"

/* A context for the server (server: true) or client end, with dir's host-cert.pem,
 * host-key.pem and ca-cert.pem: a peer without a certificate the CA signed fails the
 * handshake. NULL with kx_err naming the file that is missing, unreadable or wrong (and the
 * command that makes it). Caller: SSL_CTX_free. */
SSL_CTX *tls_ctx_new(const char *dir, bool server);

/* The handshake on the connected socket fd, waiting at most timeout_ms in all. The client
 * (host non-NULL) checks that the server's certificate names host (a DNS name or an address).
 * The SSL (caller: SSL_free; fd stays the caller's), or NULL with kx_err saying why the peer
 * was refused ("no certificate", "certificate verify failed: ...", "not TLS"). */
SSL *tls_handshake(SSL_CTX *ctx, int fd, const char *host, int timeout_ms);

/* The names of the peer's (verified) certificate, as tls_cert_names, appended to *names. */
void tls_peer_names(SSL *ssl, kx_strv *names);

/* Copies both ways between the TLS connection and the plain descriptors: what ssl gives goes
 * to out_fd, what in_fd gives goes into ssl, until one side ends (in_fd's end is passed on as
 * a TLS close, the peer's as closing out_fd). For a transport child process; 0 when one
 * side ended cleanly, -1 with kx_err otherwise. */
int tls_relay(SSL *ssl, int in_fd, int out_fd);
