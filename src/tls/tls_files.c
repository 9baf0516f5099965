/* tls_files.c - what kxl tls-setup does, run by the kxl-tls helper (tls_main.c): the
 * relocation server's small CA and host certificates (tls/tls_certs.c makes them). One host
 * keeps the CA key and signs for the others, whose administrators import what it wrote;
 * every file is written whole (a temporary name, then renamed), keys 0600. */
#include "tls/tls_files.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls/tls_certs.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

#define CA_DAYS 3650
#define HOST_DAYS 1095

DEFINE_AUTOPTR(X509, X509_free)
DEFINE_AUTOPTR(EVP_PKEY, EVP_PKEY_free)

static int make_dir(const char *dir)
{
    if (kx_mkdir_p(dir, 0700) < 0)
        return -1;
    if (chmod(dir, 0700) < 0) {
        kx_err_errno(KXL_ERR_PERMISSION, "cannot make '%s' private", dir);
        return -1;
    }
    return 0;
}

/* The names of the certificate to make: o's, or the host name. */
static int cert_spec(const kxl_tls_opts *o, kx_strv *dns, kx_strv *ips, tls_cert_spec *s)
{
    for (const char *const *n = o->names; n && *n; n++)
        kx_strv_push(dns, *n);
    unsigned char buf[16];
    for (const char *const *a = o->ips; a && *a; a++) {
        if (inet_pton(AF_INET, *a, buf) != 1 && inet_pton(AF_INET6, *a, buf) != 1) {
            kx_err(KXL_ERR_INVALID, "'%s' is not an IP address", *a);   /* before any file */
            return -1;
        }
        kx_strv_push(ips, *a);
    }
    if (!dns->n) {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) < 0 || !host[0]) {
            kx_err(KXL_ERR_HOST, "this host has no name: give one with --name");
            return -1;
        }
        kx_strv_push(dns, host);
    }
    *s = (tls_cert_spec){.cn = dns->v[0], .dns = dns, .ips = ips,
                         .days = o->days ? o->days : HOST_DAYS};
    return 0;
}

/* The CA of dir: read, or made when there is none (make_ca). */
static int load_ca(const char *dir, bool make_ca, X509 **ca_r, EVP_PKEY **key_r)
{
    AUTOFREE char *cert = kx_path_join(dir, TLS_CA_CERT);
    AUTOFREE char *key = kx_path_join(dir, TLS_CA_KEY);
    if (make_ca && !kx_path_exists(cert)) {
        char host[200] = "kxl";
        gethostname(host, sizeof(host) - 1);
        AUTOFREE char *cn = kx_asprintf("kxl relocation CA (%s)", host);
        kx_strv none = KX_STRV_INIT;
        tls_cert_spec s = {.cn = cn, .dns = &none, .ips = &none, .days = CA_DAYS};
        *key_r = tls_new_key();
        *ca_r = *key_r ? tls_new_ca(*key_r, &s) : NULL;
        if (!*ca_r || tls_write_key(key, *key_r) < 0 || tls_write_cert(cert, *ca_r) < 0)
            return -1;
        kx_notice("made the CA '%s' in '%s'", cn, dir);
        return 0;
    }
    if (!kx_path_exists(key)) {
        kx_err(KXL_ERR_NOT_FOUND, "'%s' is missing: only the host that made the CA (kxl "
               "tls-setup there) signs certificates", key);
        return -1;
    }
    *ca_r = tls_read_cert(cert);
    *key_r = *ca_r ? tls_read_key(key) : NULL;
    return *key_r ? 0 : -1;
}

/* A new key and certificate for s, signed by ca, written into out_dir. */
static int write_signed(X509 *ca, EVP_PKEY *ca_key, const tls_cert_spec *s, bool with_ca,
                        const char *out_dir)
{
    AUTOPTR(EVP_PKEY) key = tls_new_key();
    AUTOPTR(X509) cert = key ? tls_new_host_cert(key, ca, ca_key, s) : NULL;
    AUTOFREE char *key_path = kx_path_join(out_dir, TLS_HOST_KEY);
    AUTOFREE char *cert_path = kx_path_join(out_dir, TLS_HOST_CERT);
    AUTOFREE char *ca_path = kx_path_join(out_dir, TLS_CA_CERT);
    if (!cert || tls_write_key(key_path, key) < 0 || tls_write_cert(cert_path, cert) < 0 ||
        (with_ca && tls_write_cert(ca_path, ca) < 0))
        return -1;
    kx_notice("wrote '%s' for '%s', valid %u days", cert_path, s->cn, s->days);
    return 0;
}

/* A new key and certificate signed by the CA of ca_dir (made first when make_ca and there is
 * none), written into out_dir with the CA's certificate. */
static int sign_into(const char *ca_dir, bool make_ca, const kxl_tls_opts *o,
                     const char *out_dir)
{
    AUTOPTR(X509) ca = NULL;
    AUTOPTR(EVP_PKEY) ca_key = NULL;
    kx_strv dns = KX_STRV_INIT, ips = KX_STRV_INIT;
    tls_cert_spec s;
    int r = cert_spec(o, &dns, &ips, &s);
    if (r == 0)
        r = load_ca(ca_dir, make_ca, &ca, &ca_key);
    if (r == 0)
        r = write_signed(ca, ca_key, &s, !kx_streq(ca_dir, out_dir), out_dir);
    kx_strv_dispose(&dns);
    kx_strv_dispose(&ips);
    return r;
}

static int refuse_existing(const char *dir, bool force)
{
    AUTOFREE char *cert = kx_path_join(dir, TLS_HOST_CERT);
    if (force || !kx_path_exists(cert))
        return 0;
    kx_err(KXL_ERR_EXISTS, "'%s' exists: --force replaces it (peers keep trusting it until "
           "its CA changes)", cert);
    return -1;
}

int tls_files_setup(const char *dir, const kxl_tls_opts *o)
{
    if (make_dir(dir) < 0 || refuse_existing(dir, o->force) < 0)
        return -1;
    return sign_into(dir, true, o, dir);
}

int tls_files_sign(const char *dir, const kxl_tls_opts *o, const char *out_dir)
{
    AUTOFREE char *ca_key = kx_path_join(dir, TLS_CA_KEY);
    if (!kx_path_exists(ca_key)) {   /* before anything is made */
        kx_err(KXL_ERR_NOT_FOUND, "'%s' is missing: only the host that made the CA (kxl "
               "tls-setup there) signs certificates", ca_key);
        return -1;
    }
    const char *files[] = {TLS_CA_CERT, TLS_HOST_CERT, TLS_HOST_KEY};
    for (size_t i = 0; i < KX_ARRAY_SIZE(files); i++) {
        AUTOFREE char *f = kx_path_join(out_dir, files[i]);
        if (kx_path_exists(f)) {
            kx_err(KXL_ERR_EXISTS, "'%s' exists: give --out a new directory", f);
            return -1;
        }
    }
    if (make_dir(out_dir) < 0)
        return -1;
    return sign_into(dir, false, o, out_dir);
}

int tls_files_import(const char *dir, const char *from, bool force)
{
    AUTOFREE char *ca_path = kx_path_join(from, TLS_CA_CERT);
    AUTOFREE char *cert_path = kx_path_join(from, TLS_HOST_CERT);
    AUTOFREE char *key_path = kx_path_join(from, TLS_HOST_KEY);
    AUTOPTR(X509) ca = tls_read_cert(ca_path);
    AUTOPTR(X509) cert = ca ? tls_read_cert(cert_path) : NULL;
    AUTOPTR(EVP_PKEY) key = cert ? tls_read_key(key_path) : NULL;
    if (!key || tls_check_pair(ca, cert, key, cert_path) < 0)
        return -1;
    if (make_dir(dir) < 0 || refuse_existing(dir, force) < 0)
        return -1;
    AUTOFREE char *to_ca = kx_path_join(dir, TLS_CA_CERT);
    AUTOFREE char *to_cert = kx_path_join(dir, TLS_HOST_CERT);
    AUTOFREE char *to_key = kx_path_join(dir, TLS_HOST_KEY);
    if (tls_write_key(to_key, key) < 0 || tls_write_cert(to_cert, cert) < 0 ||
        tls_write_cert(to_ca, ca) < 0)
        return -1;
    kx_notice("imported '%s' into '%s'", from, dir);
    return 0;
}
