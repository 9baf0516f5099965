/* tls_certs.c - making and reading the relocation server's certificates with libcrypto:
 * P-256 keys, a CA with keyCertSign, host certificates with both TLS purposes and the
 * subjectAltNames a peer checks. The key usages are those QEMU's own x509 checks accept (it
 * refuses a critical keyUsage without keyEncipherment), should a QEMU ever load them. */
#include "tls/tls_certs.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

const char *tls_error_text(void)
{
    static __thread char text[256];
    unsigned long e = ERR_get_error();
    if (!e)
        return "no error";
    ERR_error_string_n(e, text, sizeof(text));
    ERR_clear_error();
    return text;
}

EVP_PKEY *tls_new_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        kx_err(KXL_ERR_INTERNAL, "cannot make a key: %s", tls_error_text());
    return k;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext || !X509_add_ext(cert, ext, -1)) {
        X509_EXTENSION_free(ext);
        kx_err(KXL_ERR_INVALID, "cannot add '%s' to a certificate: %s", value, tls_error_text());
        return -1;
    }
    X509_EXTENSION_free(ext);
    return 0;
}

/* Version 3, a random 64-bit serial, the validity, the subject, the public key. */
static X509 *new_cert(EVP_PKEY *key, const tls_cert_spec *spec)
{
    X509 *c = X509_new();
    BIGNUM *bn = BN_new();
    X509_NAME *name = X509_get_subject_name(c);
    bool ok = c && bn && X509_set_version(c, 2) && BN_rand(bn, 63, BN_RAND_TOP_ANY,
                                                           BN_RAND_BOTTOM_ANY) &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) &&
              X509_gmtime_adj(X509_getm_notBefore(c), -3600) &&
              X509_time_adj_ex(X509_getm_notAfter(c), (int)spec->days, 0, NULL) &&
              X509_set_pubkey(c, key) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                         (const unsigned char *)spec->cn, -1, -1, 0);
    BN_free(bn);
    if (!ok) {
        kx_err(KXL_ERR_INVALID, "cannot make a certificate for '%s': %s", spec->cn,
               tls_error_text());
        X509_free(c);
        return NULL;
    }
    return c;
}

X509 *tls_new_ca(EVP_PKEY *key, const tls_cert_spec *spec)
{
    X509 *c = new_cert(key, spec);
    if (!c)
        return NULL;
    if (!X509_set_issuer_name(c, X509_get_subject_name(c)) ||
        add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
        add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
        add_ext(c, c, NID_subject_key_identifier, "hash") < 0 ||
        !X509_sign(c, key, EVP_sha256())) {
        kx_err(KXL_ERR_INTERNAL, "cannot make the CA certificate: %s", tls_error_text());
        X509_free(c);
        return NULL;
    }
    return c;
}

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "DNS:a,DNS:b,IP:1.2.3.4" (the CN first when it is no address and not listed). */
static int alt_names(const tls_cert_spec *spec, kx_buf *b)
{
    if (!is_ip(spec->cn))
        kx_buf_printf(b, "DNS:%s", spec->cn);
    for (size_t i = 0; i < spec->dns->n; i++)
        if (!kx_streq(spec->dns->v[i], spec->cn))
            kx_buf_printf(b, "%sDNS:%s", b->len ? "," : "", spec->dns->v[i]);
    for (size_t i = 0; i < spec->ips->n; i++) {
        if (!is_ip(spec->ips->v[i])) {
            kx_err(KXL_ERR_INVALID, "'%s' is not an IP address", spec->ips->v[i]);
            return -1;
        }
        kx_buf_printf(b, "%sIP:%s", b->len ? "," : "", spec->ips->v[i]);
    }
    if (is_ip(spec->cn))
        kx_buf_printf(b, "%sIP:%s", b->len ? "," : "", spec->cn);
    return 0;
}

X509 *tls_new_host_cert(EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key, const tls_cert_spec *spec)
{
    kx_buf alt = KX_BUF_INIT;
    if (alt_names(spec, &alt) < 0) {
        kx_buf_dispose(&alt);
        return NULL;
    }
    X509 *c = new_cert(key, spec);
    int r = c && X509_set_issuer_name(c, X509_get_subject_name(ca)) ? 0 : -1;
    if (r == 0)
        r = add_ext(c, ca, NID_basic_constraints, "critical,CA:FALSE");
    if (r == 0)
        r = add_ext(c, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    if (r == 0)
        r = add_ext(c, ca, NID_ext_key_usage, "serverAuth,clientAuth");
    if (r == 0)
        r = add_ext(c, ca, NID_subject_key_identifier, "hash");
    if (r == 0)
        r = add_ext(c, ca, NID_authority_key_identifier, "keyid");
    if (r == 0)
        r = add_ext(c, ca, NID_subject_alt_name, kx_buf_str(&alt));
    kx_buf_dispose(&alt);
    if (r == 0 && !X509_sign(c, ca_key, EVP_sha256())) {
        kx_err(KXL_ERR_INTERNAL, "cannot sign the certificate of '%s': %s", spec->cn,
               tls_error_text());
        r = -1;
    }
    if (r < 0) {
        X509_free(c);
        return NULL;
    }
    return c;
}

/* What a memory BIO holds, written to path atomically with mode. */
static int write_bio(const char *path, BIO *bio, bool ok, mode_t mode)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    int r = ok && len > 0 ? kx_write_file_atomic(path, data, (size_t)len, mode) : -1;
    if (!ok)
        kx_err(KXL_ERR_INTERNAL, "cannot encode '%s': %s", path, tls_error_text());
    BIO_free(bio);
    return r;
}

int tls_write_cert(const char *path, X509 *cert)
{
    BIO *bio = BIO_new(BIO_s_mem());
    return write_bio(path, bio, PEM_write_bio_X509(bio, cert) == 1, 0644);
}

int tls_write_key(const char *path, EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    return write_bio(path, bio,
                     PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1, 0600);
}

static BIO *open_pem(const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    if (!bio) {
        ERR_clear_error();
        kx_err_errno(KXL_ERR_NOT_FOUND, "cannot read '%s' (kxl tls-setup makes it)", path);
    }
    return bio;
}

X509 *tls_pem_cert(BIO *bio, const char *path)
{
    X509 *c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (!c)
        kx_err(KXL_ERR_INVALID, "'%s' holds no PEM certificate: %s", path, tls_error_text());
    return c;
}

EVP_PKEY *tls_pem_key(BIO *bio, const char *path)
{
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    if (!k)
        kx_err(KXL_ERR_INVALID, "'%s' holds no unencrypted PEM private key: %s", path,
               tls_error_text());
    return k;
}

X509 *tls_read_cert(const char *path)
{
    BIO *bio = open_pem(path);
    X509 *c = bio ? tls_pem_cert(bio, path) : NULL;
    BIO_free(bio);
    return c;
}

EVP_PKEY *tls_read_key(const char *path)
{
    BIO *bio = open_pem(path);
    EVP_PKEY *k = bio ? tls_pem_key(bio, path) : NULL;
    BIO_free(bio);
    return k;
}

int tls_check_pair(X509 *ca, X509 *cert, EVP_PKEY *key, const char *cert_path)
{
    EVP_PKEY *ca_pub = X509_get0_pubkey(ca);
    if (!ca_pub || X509_verify(cert, ca_pub) != 1) {
        ERR_clear_error();
        kx_err(KXL_ERR_INVALID, "'%s' is not signed by the CA '%s'", cert_path,
               X509_NAME_oneline(X509_get_subject_name(ca), (char[256]){0}, 256));
        return -1;
    }
    if (key && X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        kx_err(KXL_ERR_INVALID, "'%s' does not belong to its key", cert_path);
        return -1;
    }
    return 0;
}

/* Each name once (a CN is usually a DNS name too). */
static void push_name(kx_strv *names, const char *name)
{
    for (size_t i = 0; i < names->n; i++)
        if (kx_streq(names->v[i], name))
            return;
    kx_strv_push(names, name);
}

static void push_ip(kx_strv *names, const ASN1_OCTET_STRING *ip)
{
    char text[INET6_ADDRSTRLEN];
    int len = ASN1_STRING_length(ip);
    const unsigned char *d = ASN1_STRING_get0_data(ip);
    if ((len == 4 && inet_ntop(AF_INET, d, text, sizeof(text))) ||
        (len == 16 && inet_ntop(AF_INET6, d, text, sizeof(text))))
        push_name(names, text);
}

void tls_cert_names(X509 *cert, kx_strv *names)
{
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                  sizeof(cn)) > 0)
        push_name(names, cn);
    GENERAL_NAMES *alt = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(alt, i);
        if (g->type == GEN_DNS)
            push_name(names, (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        else if (g->type == GEN_IPADD)
            push_ip(names, g->d.iPAddress);
    }
    GENERAL_NAMES_free(alt);
}
