/* tls_certs.h - the small CA and host certificates of the relocation server (kxl tls-setup),
 * made and checked with OpenSSL's libcrypto. A host certificate serves both ends of a
 * relocation (extendedKeyUsage serverAuth and clientAuth), so the same pair lets a host send
 * and receive; its names (subjectAltName DNS and IP) are what peers verify and what
 * relocation_hosts_allow matches. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "util/buf.h"

/* The files under ETC/tls/ (QEMU's names for the CA). */
#define TLS_CA_CERT "ca-cert.pem"
#define TLS_CA_KEY "ca-key.pem"       /* only on the host that signs */
#define TLS_HOST_CERT "host-cert.pem"
#define TLS_HOST_KEY "host-key.pem"

typedef struct {
    const char *cn;            /* the subject's common name */
    const kx_strv *dns;        /* subjectAltName DNS names (may be empty) */
    const kx_strv *ips;        /* subjectAltName IP addresses (may be empty) */
    unsigned days;             /* valid from an hour ago for this many days */
} tls_cert_spec;

/* A new P-256 key, or NULL with kx_err. Caller: EVP_PKEY_free. */
EVP_PKEY *tls_new_key(void);
/* A self-signed CA certificate for key (CN = spec->cn, no SANs), or NULL with kx_err. */
X509 *tls_new_ca(EVP_PKEY *key, const tls_cert_spec *spec);
/* A host certificate for key signed by ca/ca_key, or NULL with kx_err (an address in ips
 * that is not one is refused: "'x' is not an IP address"). */
X509 *tls_new_host_cert(EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key, const tls_cert_spec *spec);

/* PEM files: written atomically with mode (keys 0600), read with kx_err naming the file. */
int tls_write_cert(const char *path, X509 *cert);
int tls_write_key(const char *path, EVP_PKEY *key);
X509 *tls_read_cert(const char *path);
EVP_PKEY *tls_read_key(const char *path);
/* The next PEM certificate or unencrypted key of bio (a file's or text's, path naming it in
 * the error): NULL with kx_err. */
X509 *tls_pem_cert(BIO *bio, const char *path);
EVP_PKEY *tls_pem_key(BIO *bio, const char *path);

/* 0 when cert is signed by ca and (key != NULL) cert holds key's public half; else -1 with
 * kx_err naming cert_path. */
int tls_check_pair(X509 *ca, X509 *cert, EVP_PKEY *key, const char *cert_path);

/* The certificate's names: its subject CN, then its DNS and IP subjectAltNames, appended to
 * *names unless there already. */
void tls_cert_names(X509 *cert, kx_strv *names);

/* The first queued OpenSSL error as text ("no error" when none), the queue then cleared. */
const char *tls_error_text(void);
