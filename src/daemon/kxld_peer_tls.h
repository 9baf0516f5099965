/* kxld_peer_tls.h - this host's certificate of kxl tls-setup as kxld shows it to its peers,
 * for the HTTP relay (libcurl) and the WebSocket relay (libwebsockets) alike: read when first
 * needed, and read again when a peer connection is made after the files changed (kxl
 * tls-setup renewed them: no restart of kxld). A pair that does not match (the certificate
 * not its key's, or not signed by the CA: half written, or wrong) is refused, never used. */
#pragma once

#include <openssl/ssl.h>
#include <stddef.h>

/* One reading of the three files: what was checked is what is used. Immutable; counted. */
typedef struct {
    int refs;                 /* atomic */
    unsigned long generation; /* 1 for the first reading, +1 for each change */
    char *cert, *key, *ca;    /* the PEM texts of host-cert.pem, host-key.pem, ca-cert.pem */
    size_t cert_len, key_len, ca_len;
    X509 *cert_x509;          /* parsed: the certificate and the chain after it */
    STACK_OF(X509) *chain;
    EVP_PKEY *key_pkey;
    X509 *ca_x509;
    char serial[64];          /* the certificate's serial, in hex: for the log */
} kxld_peer_creds;

typedef struct kxld_peer_tls kxld_peer_tls;

/* The files of tls_dir (ROOT/etc/kxl/tls), not read yet. */
kxld_peer_tls *kxld_peer_tls_new(const char *tls_dir);
void kxld_peer_tls_free(kxld_peer_tls *t);
/* The files' current reading (read again when a file's device, inode, size or mtime
 * changed): a reference (kxld_peer_creds_unref), or NULL with kx_err when one is missing or
 * unreadable, or the pair does not match. Any thread. */
kxld_peer_creds *kxld_peer_tls_get(kxld_peer_tls *t);
void kxld_peer_creds_unref(kxld_peer_creds *c);

/* A TLS client context for libwebsockets' provided_client_ssl_ctx: no certificate, no CA (not
 * the system's either) until kxld_peer_tls_apply; NULL with kx_err. SSL_CTX_free it. */
SSL_CTX *kxld_peer_tls_client_ctx(void);
/* Puts c's certificate, chain, key and CA into ctx (the connections made after take them;
 * those under way keep theirs). 0, or -1 with kx_err. */
int kxld_peer_tls_apply(SSL_CTX *ctx, const kxld_peer_creds *c);
