/* tls.h - kxl tls-setup: the certificates of kxld's relocation server (mutual TLS), under
 * ROOT/etc/kxl/tls/: ca-cert.pem (the CA every host trusts), host-cert.pem and host-key.pem
 * (this host's, 0600), and ca-key.pem on the one host that signs for the others. */
#pragma once

#include <stdbool.h>

#include "kxl/kxl.h"

typedef struct {
    const char *const *names;   /* DNS names (NULL-terminated; NULL or empty: the host name);
                                 * the first is the subject's CN */
    const char *const *ips;     /* IP addresses (NULL-terminated, may be NULL) */
    unsigned days;              /* the host certificate's validity; 0: 1095 */
    bool force;                 /* replace this host's certificate (setup, import) */
} kxl_tls_opts;

/* Makes a CA (when ROOT/etc/kxl/tls has none) and this host's certificate signed by it.
 * KXL_ERR_EXISTS when the host has a certificate and force is not set. */
int kxl_tls_setup(const kxl_paths *p, const kxl_tls_opts *o);
/* Signs a certificate for another host with this host's CA and writes ca-cert.pem,
 * host-cert.pem and host-key.pem into out_dir (made 0700; existing files there are refused),
 * for that host's kxl tls-setup --import. KXL_ERR_NOT_FOUND without a CA key here. */
int kxl_tls_sign(const kxl_paths *p, const kxl_tls_opts *o, const char *out_dir);
/* Installs dir's ca-cert.pem, host-cert.pem and host-key.pem as this host's, once they are
 * checked (the certificate signed by the CA, the key its own). */
int kxl_tls_import(const kxl_paths *p, const char *dir, bool force);
/* The directory (caller frees): ROOT/etc/kxl/tls. */
char *kxl_tls_dir(const kxl_paths *p);
