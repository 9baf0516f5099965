/* kxld_peer_tls.h - the files of this host's certificate of kxl tls-setup that kxld shows its
 * peers: for the HTTP relay (libcurl) and the WebSocket relay (libwebsockets) alike. */
#pragma once

typedef struct {
    char *cert;   /* tls_dir/host-cert.pem */
    char *key;    /* tls_dir/host-key.pem */
    char *ca;     /* tls_dir/ca-cert.pem: the only CA a peer's certificate is checked against */
} kxld_peer_tls;

/* Fills *t_r (kxld_peer_tls_dispose it either way): 0, or -1 with kx_err when one of the files
 * cannot be read (the host has no certificate for its peers yet: kxl tls-setup makes it). */
int kxld_peer_tls_files(const char *tls_dir, kxld_peer_tls *t_r);
void kxld_peer_tls_dispose(kxld_peer_tls *t);
