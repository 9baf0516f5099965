/* test_peer_tls.c - kxld's reading of this host's certificate for its peers
 * (src/daemon/kxld_peer_tls.c): read once and kept while the files stay as they were, read
 * again when one is replaced (as kxl tls-setup renames a renewed file over the old), a
 * certificate that does not belong to its key (half a renewal) refused with a message that
 * says so and used again once the pair is whole, and a client context given each reading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/kxld_peer_tls.h"
#include "tls/tls_certs.h"
#include "unit_tmpdir.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fileio.h"

static char tmp[] = "/tmp/kxl-test-peer-tls-XXXXXX";
UNIT_TMPDIR_FIXTURES(tmp)

typedef struct {
    EVP_PKEY *ca_key, *key;
    X509 *ca, *cert;
} pool;

/* A CA and a certificate of host-a signed by it. */
static void make_pool(pool *p, const char *cn)
{
    kx_strv none = KX_STRV_INIT;
    tls_cert_spec ca_spec = {.cn = cn, .dns = &none, .ips = &none, .days = 1};
    tls_cert_spec spec = {.cn = "host-a", .dns = &none, .ips = &none, .days = 1};
    p->ca_key = tls_new_key();
    p->key = tls_new_key();
    p->ca = tls_new_ca(p->ca_key, &ca_spec);
    p->cert = tls_new_host_cert(p->key, p->ca, p->ca_key, &spec);
    assert_non_null(p->cert);
}

static void pool_dispose(pool *p)
{
    X509_free(p->ca);
    X509_free(p->cert);
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->key);
}

/* Writes p's files into dir as kxl tls-setup does (each whole, renamed into place). */
static void install(const pool *p, const char *dir, bool cert, bool key, bool ca)
{
    char *path[3] = {kx_path_join(dir, TLS_HOST_CERT), kx_path_join(dir, TLS_HOST_KEY),
                     kx_path_join(dir, TLS_CA_CERT)};
    if (cert)
        assert_int_equal(tls_write_cert(path[0], p->cert), 0);
    if (key)
        assert_int_equal(tls_write_key(path[1], p->key), 0);
    if (ca)
        assert_int_equal(tls_write_cert(path[2], p->ca), 0);
    for (int i = 0; i < 3; i++)
        free(path[i]);
}

static bool same_cert(const kxld_peer_creds *c, X509 *cert)
{
    return X509_cmp(c->cert_x509, cert) == 0;
}

static void renewed_files_are_read_again(void **state)
{
    (void)state;
    char *dir = kx_path_join(tmp, "tls");
    assert_int_equal(kx_mkdir_p(dir, 0700), 0);
    kxld_peer_tls *t = kxld_peer_tls_new(dir);
    /* none yet: refused, saying what makes them */
    assert_null(kxld_peer_tls_get(t));
    assert_non_null(strstr(kx_err_msg(), "make it with kxl tls-setup"));
    pool old, renewed;
    make_pool(&old, "old CA");
    make_pool(&renewed, "renewed CA");
    install(&old, dir, true, true, true);
    kxld_peer_creds *a = kxld_peer_tls_get(t), *b = kxld_peer_tls_get(t);
    assert_non_null(a);
    assert_ptr_equal(a, b);   /* the files unchanged: the same reading */
    assert_int_equal(a->generation, 1);
    assert_true(same_cert(a, old.cert));
    /* what the HTTP relay hands libcurl is the text that was checked */
    assert_non_null(strstr(a->cert, "-----BEGIN CERTIFICATE-----"));
    assert_non_null(strstr(a->key, "PRIVATE KEY-----"));
    assert_int_equal(a->cert_len, strlen(a->cert));
    /* a client context takes the reading: its certificate and key, the CA in its store */
    SSL_CTX *ctx = kxld_peer_tls_client_ctx();
    assert_non_null(ctx);
    assert_int_equal(kxld_peer_tls_apply(ctx, a), 0);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), old.cert), 0);
    /* half a renewal: the new certificate, the old key: refused, never used */
    install(&renewed, dir, true, false, true);
    assert_null(kxld_peer_tls_get(t));
    assert_non_null(strstr(kx_err_msg(), "do not belong together (being renewed?)"));
    assert_non_null(strstr(kx_err_msg(), "does not belong to its key"));
    assert_null(kxld_peer_tls_get(t));   /* and again, until the pair is whole */
    /* the key too: the renewed pair, read again */
    install(&renewed, dir, false, true, false);
    kxld_peer_creds *c = kxld_peer_tls_get(t);
    assert_non_null(c);
    assert_int_equal(c->generation, 2);
    assert_true(same_cert(c, renewed.cert));
    assert_true(same_cert(a, old.cert));   /* a reading in use stays as it was */
    assert_int_equal(kxld_peer_tls_apply(ctx, c), 0);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), renewed.cert), 0);
    assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
    /* a certificate of another CA than ca-cert.pem: refused */
    install(&old, dir, true, true, false);
    assert_null(kxld_peer_tls_get(t));
    assert_non_null(strstr(kx_err_msg(), "is not signed by the CA"));
    SSL_CTX_free(ctx);
    kxld_peer_creds_unref(a);
    kxld_peer_creds_unref(b);
    kxld_peer_creds_unref(c);
    kxld_peer_tls_free(t);
    pool_dispose(&old);
    pool_dispose(&renewed);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renewed_files_are_read_again),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
