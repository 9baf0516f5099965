/* kxld_peer_tls.c - this host's certificate files as kxld shows them to its peers
 * (kxld_peer_tls.h). Each peer connection asks for the current reading; the files are stat'ed
 * then (three stats, no reading) and read again only when one's identity (device, inode, size,
 * mtime) changed. kxl tls-setup writes each file whole under a temporary name and renames it,
 * but the certificate and its key one after the other: between the two renames the pair does
 * not match, and a file may change while it is read; either is refused with a message that
 * says so (the next connection reads them again), never used. */
#include "daemon/kxld_peer_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tls/tls_certs.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

enum { F_CERT, F_KEY, F_CA, F_COUNT };

typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id;

struct kxld_peer_tls {
    pthread_mutex_t mu;
    char *path[F_COUNT];
    file_id id[F_COUNT];       /* of the files cur was read from */
    kxld_peer_creds *cur;      /* NULL: not read yet, or the last reading was refused */
    unsigned long generation;
};

kxld_peer_tls *kxld_peer_tls_new(const char *tls_dir)
{
    kxld_peer_tls *t = kx_malloc0(sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    t->path[F_CERT] = kx_path_join(tls_dir, TLS_HOST_CERT);
    t->path[F_KEY] = kx_path_join(tls_dir, TLS_HOST_KEY);
    t->path[F_CA] = kx_path_join(tls_dir, TLS_CA_CERT);
    return t;
}

static void creds_free(kxld_peer_creds *c)
{
    free(c->cert);
    free(c->key);
    free(c->ca);
    X509_free(c->cert_x509);
    sk_X509_pop_free(c->chain, X509_free);
    EVP_PKEY_free(c->key_pkey);
    X509_free(c->ca_x509);
    free(c);
}

void kxld_peer_creds_unref(kxld_peer_creds *c)
{
    if (!c)
        return;
    if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
        creds_free(c);
}

static kxld_peer_creds *creds_ref(kxld_peer_creds *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);   /* under t->mu, which holds one */
    return c;
}

void kxld_peer_tls_free(kxld_peer_tls *t)
{
    if (!t)
        return;
    kxld_peer_creds_unref(t->cur);
    for (int i = 0; i < F_COUNT; i++)
        free(t->path[i]);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static bool same_id(const file_id *a, const file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The identities of the three files: 0, or -1 with kx_err. */
static int stat_files(kxld_peer_tls *t, file_id id_r[F_COUNT])
{
    for (int i = 0; i < F_COUNT; i++) {
        struct stat st;
        if (stat(t->path[i], &st) < 0) {
            kx_err_errno(KXL_ERR_HOST, "this host has no certificate to show its peers ('%s'): "
                         "make it with kxl tls-setup", t->path[i]);
            return -1;
        }
        id_r[i] = (file_id){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    }
    return 0;
}

/* kx_err's message, said as this host's problem and with what mends it. */
static void remake_hint(void)
{
    AUTOFREE char *why = kx_strdup(kx_err_msg());
    kx_err(KXL_ERR_HOST, "%s: make it again with kxl tls-setup", why);
}

/* The PEM certificates of text: the first, and the chain after it. 0, or -1 with kx_err. */
static int parse_certs(const char *text, size_t len, const char *path, X509 **cert_r,
                       STACK_OF(X509) **chain_r)
{
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    *cert_r = bio ? tls_pem_cert(bio, path) : NULL;
    if (*cert_r && chain_r) {
        *chain_r = sk_X509_new_null();
        X509 *more;
        while ((more = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
            sk_X509_push(*chain_r, more);
        ERR_clear_error();   /* the end of the text */
    }
    BIO_free(bio);
    if (!*cert_r)
        remake_hint();
    return *cert_r ? 0 : -1;
}

/* Parses and checks what c holds: the key, the certificate signed by the CA and holding the
 * key's public half. 0, or -1 with kx_err. */
static int check_creds(kxld_peer_creds *c, char *const path[F_COUNT])
{
    if (parse_certs(c->cert, c->cert_len, path[F_CERT], &c->cert_x509, &c->chain) < 0 ||
        parse_certs(c->ca, c->ca_len, path[F_CA], &c->ca_x509, NULL) < 0)
        return -1;
    BIO *bio = BIO_new_mem_buf(c->key, (int)c->key_len);
    c->key_pkey = bio ? tls_pem_key(bio, path[F_KEY]) : NULL;
    BIO_free(bio);
    if (!c->key_pkey) {
        remake_hint();
        return -1;
    }
    if (tls_check_pair(c->ca_x509, c->cert_x509, c->key_pkey, path[F_CERT]) < 0) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        kx_err(KXL_ERR_HOST, "this host's certificate files for its peers do not belong "
               "together (being renewed?): %s; finish kxl tls-setup, or run it again", why);
        return -1;
    }
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c->cert_x509), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    snprintf(c->serial, sizeof(c->serial), "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
    return 0;
}

/* A new reading of the files whose identities were ids: NULL with kx_err, also when a file
 * changed while it was read. */
static kxld_peer_creds *read_creds(kxld_peer_tls *t, const file_id ids[F_COUNT])
{
    kxld_peer_creds *c = kx_malloc0(sizeof(*c));
    char **text[F_COUNT] = {&c->cert, &c->key, &c->ca};
    size_t *len[F_COUNT] = {&c->cert_len, &c->key_len, &c->ca_len};
    file_id after[F_COUNT];
    for (int i = 0; i < F_COUNT; i++)
        if (!(*text[i] = kx_read_file(t->path[i], len[i])))
            goto undo_read;
    if (stat_files(t, after) < 0)
        goto undo_read;
    for (int i = 0; i < F_COUNT; i++)
        if (!same_id(&ids[i], &after[i])) {
            kx_err(KXL_ERR_HOST, "'%s' changed while it was read (kxl tls-setup is renewing "
                   "it?): try again", t->path[i]);
            goto undo_read;
        }
    if (check_creds(c, t->path) < 0)
        goto undo_read;
    c->refs = 1;
    return c;
undo_read:
    creds_free(c);
    return NULL;
}

/* Under t->mu: t->cur made current for the files' identities ids (read again when one of
 * them changed). 0, or -1 with kx_err (t->cur then dropped: a refused pair is not used). */
static int refresh(kxld_peer_tls *t, const file_id ids[F_COUNT])
{
    bool same = t->cur != NULL;
    for (int i = 0; same && i < F_COUNT; i++)
        same = same_id(&ids[i], &t->id[i]);
    if (same)
        return 0;
    kxld_peer_creds_unref(TAKE_PTR(t->cur));
    kxld_peer_creds *fresh = read_creds(t, ids);
    if (!fresh) {
        kx_notice("kxld: %s", kx_err_msg());
        return -1;
    }
    fresh->generation = ++t->generation;
    kx_notice("kxld: this host's certificate for its peers: serial %s%s", fresh->serial,
              fresh->generation > 1 ? " (the files changed: read again)" : "");
    t->cur = fresh;
    for (int i = 0; i < F_COUNT; i++)
        t->id[i] = ids[i];
    return 0;
}

kxld_peer_creds *kxld_peer_tls_get(kxld_peer_tls *t)
{
    file_id ids[F_COUNT];
    kxld_peer_creds *c = NULL;
    pthread_mutex_lock(&t->mu);
    if (stat_files(t, ids) == 0 && refresh(t, ids) == 0)
        c = creds_ref(t->cur);
    pthread_mutex_unlock(&t->mu);
    return c;
}

SSL_CTX *kxld_peer_tls_client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        kx_err(KXL_ERR_INTERNAL, "cannot make a TLS context: %s", tls_error_text());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* an empty store: no certificate is trusted until the CA of kxl tls-setup is applied */
    SSL_CTX_set_cert_store(ctx, X509_STORE_new());
    return ctx;
}

int kxld_peer_tls_apply(SSL_CTX *ctx, const kxld_peer_creds *c)
{
    X509_STORE *store = X509_STORE_new();
    bool ok = store && X509_STORE_add_cert(store, c->ca_x509) == 1 &&
              SSL_CTX_use_certificate(ctx, c->cert_x509) == 1 &&
              SSL_CTX_set1_chain(ctx, c->chain) == 1 &&
              SSL_CTX_use_PrivateKey(ctx, c->key_pkey) == 1 &&
              SSL_CTX_check_private_key(ctx) == 1;
    if (!ok) {
        X509_STORE_free(store);
        kx_err(KXL_ERR_INTERNAL, "cannot use this host's certificate (serial %s) for its "
               "peers: %s", c->serial, tls_error_text());
        return -1;
    }
    SSL_CTX_set_cert_store(ctx, store);   /* frees the CA's old store */
    return 0;
}
