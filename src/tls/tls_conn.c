/* tls_conn.c - contexts, handshakes and the relay of the relocation server's mutual TLS. The
 * socket is blocking with send/receive timeouts during the handshake (a peer that sends nothing
 * is dropped), without them once it is done (a migration waits as long as memory moves). */
#include "tls/tls_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls/tls_certs.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* The file exists, is readable, and (a key) nobody but its owner may read it. */
static int check_file(const char *path, bool secret)
{
    struct stat st;
    if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
        kx_err_errno(KXL_ERR_NOT_FOUND, "cannot read '%s' (kxl tls-setup makes it)", path);
        return -1;
    }
    if (secret && (st.st_mode & 077)) {
        kx_err(KXL_ERR_PERMISSION, "'%s' may be read by others (mode %03o): chmod 600 it",
               path, st.st_mode & 0777);
        return -1;
    }
    return 0;
}

static int ctx_load(SSL_CTX *ctx, const char *dir)
{
    AUTOFREE char *cert = kx_path_join(dir, TLS_HOST_CERT);
    AUTOFREE char *key = kx_path_join(dir, TLS_HOST_KEY);
    AUTOFREE char *ca = kx_path_join(dir, TLS_CA_CERT);
    if (check_file(ca, false) < 0 || check_file(cert, false) < 0 || check_file(key, true) < 0)
        return -1;
    const char *bad = NULL;
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        bad = ca;
    else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        bad = cert;
    else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
             SSL_CTX_check_private_key(ctx) != 1)
        bad = key;
    if (bad) {
        kx_err(KXL_ERR_INVALID, "'%s' cannot be used: %s", bad, tls_error_text());
        return -1;
    }
    /* the host certificate must come from the CA peers trust */
    X509_STORE_CTX *v = X509_STORE_CTX_new();
    int ok = v && X509_STORE_CTX_init(v, SSL_CTX_get_cert_store(ctx),
                                      SSL_CTX_get0_certificate(ctx), NULL) == 1 &&
             X509_verify_cert(v) == 1;
    const char *why = v && !ok ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(v))
                               : "";
    if (!ok)
        kx_err(KXL_ERR_INVALID, "'%s' is not valid under the CA '%s': %s", cert, ca, why);
    X509_STORE_CTX_free(v);
    ERR_clear_error();
    return ok ? 0 : -1;
}

SSL_CTX *tls_ctx_new(const char *dir, bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        kx_err(KXL_ERR_INTERNAL, "cannot make a TLS context: %s", tls_error_text());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (server)
        SSL_CTX_set_num_tickets(ctx, 0);   /* no resumption: each peer shows its certificate */
    if (ctx_load(ctx, dir) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int expect_host(SSL *ssl, const char *host)
{
    unsigned char buf[16];
    bool ip = inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
    if (ip)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
    SSL_set_tlsext_host_name(ssl, host);
    return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

/* Why the handshake failed, in words: the verification's verdict first. */
static void handshake_failed(SSL *ssl, int r)
{
    long v = SSL_get_verify_result(ssl);
    int e = SSL_get_error(ssl, r);
    if (v != X509_V_OK)
        kx_err(KXL_ERR_PERMISSION, "certificate verify failed: %s",
               X509_verify_cert_error_string(v));
    else if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
        kx_err(KXL_ERR_STATE, "no TLS handshake in time");
    else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
        kx_err(KXL_ERR_STATE, "the peer hung up during the TLS handshake");
    else
        kx_err(KXL_ERR_PERMISSION, "TLS handshake failed: %s", tls_error_text());
    ERR_clear_error();
}

SSL *tls_handshake(SSL_CTX *ctx, int fd, const char *host, int timeout_ms)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd) || (host && expect_host(ssl, host) < 0)) {
        kx_err(KXL_ERR_INTERNAL, "cannot set up TLS: %s", tls_error_text());
        SSL_free(ssl);
        return NULL;
    }
    set_timeouts(fd, timeout_ms);
    int r = host ? SSL_connect(ssl) : SSL_accept(ssl);
    if (r != 1) {
        handshake_failed(ssl, r);
        SSL_free(ssl);
        return NULL;
    }
    set_timeouts(fd, 0);
    return ssl;
}

void tls_peer_names(SSL *ssl, kx_strv *names)
{
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer)
        tls_cert_names(peer, names);
    X509_free(peer);
}

/* The peer's bytes to out_fd: 1 while it goes on, 0 at its end, -1 on an error. */
static int relay_in(SSL *ssl, int out_fd)
{
    char buf[65536];
    int n = SSL_read(ssl, buf, sizeof(buf));
    if (n > 0)
        return kx_write_all(out_fd, buf, (size_t)n) < 0 ? -1 : 1;
    int e = SSL_get_error(ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 1;
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
        return 0;   /* a close, or a hang-up without one: the end either way */
    kx_err(KXL_ERR_STATE, "the TLS connection failed: %s", tls_error_text());
    return -1;
}

/* in_fd's bytes to the peer: 1, 0 at its end, -1. */
static int relay_out(SSL *ssl, int in_fd)
{
    char buf[65536];
    ssize_t n = read(in_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (n <= 0)
        return n == 0 ? 0 : -1;
    for (size_t off = 0; off < (size_t)n;) {
        size_t w = 0;
        if (SSL_write_ex(ssl, buf + off, (size_t)n - off, &w) != 1) {
            kx_err(KXL_ERR_STATE, "cannot send over TLS: %s", tls_error_text());
            return -1;
        }
        off += w;
    }
    return 1;
}

int tls_relay(SSL *ssl, int in_fd, int out_fd)
{
    int sock = SSL_get_fd(ssl);
    for (;;) {
        struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = in_fd, .events = POLLIN}};
        /* a record OpenSSL has already read waits in its buffer, not in the socket */
        if (!SSL_pending(ssl) && poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            kx_err_errno(KXL_ERR_INTERNAL, "poll");
            return -1;
        }
        if (SSL_pending(ssl) || p[0].revents) {
            int r = relay_in(ssl, out_fd);
            if (r <= 0)
                return r;
        }
        if (p[1].revents) {
            int r = relay_out(ssl, in_fd);
            if (r == 0)
                SSL_shutdown(ssl);
            if (r <= 0)
                return r;
        }
    }
}
