/* test_reloc.c - the relocation server's pure and file-level parts: the hosts-allow matcher,
 * kxld.conf's relocation_* keys, and the certificates kxl tls-setup's pieces make (names,
 * signatures, the server context's refusal naming the missing file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/kxld_conf.h"
#include "tls/reloc_allow.h"
#include "tls/tls_certs.h"
#include "tls/tls_conn.h"
#include "unit_tmpdir.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static char tmp[] = "/tmp/kxl-test-reloc-XXXXXX";
UNIT_TMPDIR_FIXTURES(tmp)

/* Whether patterns let names in; *pattern_r (static: the last call's) the one that did. */
static bool allows(char *const *patterns, const char *const *names, const char **pattern_r)
{
    static char which[64];
    reloc_allow a;
    assert_int_equal(reloc_allow_init(&a, patterns), 0);
    kx_strv v = KX_STRV_INIT;
    for (const char *const *n = names; *n; n++)
        kx_strv_push(&v, *n);
    const char *pattern = NULL;
    bool ok = reloc_allow_match(&a, &v, &pattern);
    snprintf(which, sizeof(which), "%s", pattern);
    if (pattern_r)
        *pattern_r = which;
    kx_strv_dispose(&v);
    reloc_allow_dispose(&a);
    reloc_allow_dispose(&a);   /* idempotent */
    return ok;
}

static void hosts_allow_matches_from_the_start(void **state)
{
    (void)state;
    char *xend[] = {"^localhost$", "host-a", "10\\.1\\.", NULL};
    const char *pattern = NULL;
    const char *a[] = {"host-a.example.org", "10.9.9.9", NULL};
    assert_true(allows(xend, a, &pattern));
    assert_string_equal(pattern, "host-a");   /* re.match: a prefix is enough */
    const char *b[] = {"my-host-a", "110.1.2.3", NULL};   /* not at the start */
    assert_false(allows(xend, b, NULL));
    const char *c[] = {"host-c", "10.1.0.7", NULL};         /* the address matches */
    assert_true(allows(xend, c, &pattern));
    assert_string_equal(pattern, "10\\.1\\.");
    const char *d[] = {"localhost.localdomain", NULL};
    assert_false(allows(xend, d, NULL));
    char *alternation[] = {"a$|b$", NULL};   /* the anchor holds for every branch */
    const char *e[] = {"xb", NULL};
    assert_false(allows(alternation, e, NULL));
    const char *f[] = {"b", NULL};
    assert_true(allows(alternation, f, NULL));
}

static void empty_hosts_allow_lets_the_ca_decide(void **state)
{
    (void)state;
    char *none[] = {NULL};
    const char *pattern = NULL;
    const char *a[] = {"anyone", NULL};
    assert_true(allows(none, a, &pattern));
    assert_string_equal(pattern, "");
}

static void bad_patterns_are_refused(void **state)
{
    (void)state;
    char *why = NULL;
    assert_int_equal(reloc_allow_check("host-(a", &why), -1);
    assert_non_null(strstr(why, "'host-(a' is not a regular expression"));
    free(why);
    assert_int_equal(reloc_allow_check("host-[ab]$", &why), 0);
    char *bad[] = {"ok", "[z-a]", NULL};
    reloc_allow a;
    assert_int_equal(reloc_allow_init(&a, bad), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
    assert_null(a.re);
}

static char *write_conf(const char *text)
{
    char *path = kx_path_join(tmp, "kxld.conf");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void relocation_keys_default_to_off(void **state)
{
    (void)state;
    kxld_conf c;
    assert_int_equal(kxld_conf_load("/nonexistent/kxld.conf", "/", &c), 0);
    assert_int_equal(c.relocation_server, 0);
    assert_int_equal(c.relocation_port, 8002);
    assert_null(c.relocation_address);
    assert_null(c.relocation_hosts_allow[0]);
    kxld_conf_dispose(&c);
}

static void relocation_keys_are_read(void **state)
{
    (void)state;
    static const char *const on[] = {"1", "\"yes\"", "'On'", "\"true\""};
    for (size_t i = 0; i < KX_ARRAY_SIZE(on); i++) {
        char *text = kx_asprintf("relocation_server = %s\nrelocation_port = 9002\n"
                                 "relocation_address = \"192.0.2.1\"\n"
                                 "relocation_hosts_allow = [\"^host-a$\", \"^10\\\\.\"]\n",
                                 on[i]);
        char *path = write_conf(text);
        kxld_conf c;
        assert_int_equal(kxld_conf_load(path, "/", &c), 0);
        assert_int_equal(c.relocation_server, 1);
        assert_int_equal(c.relocation_port, 9002);
        assert_string_equal(c.relocation_address, "192.0.2.1");
        assert_string_equal(c.relocation_hosts_allow[0], "^host-a$");
        assert_string_equal(c.relocation_hosts_allow[1], "^10\\.");
        assert_null(c.relocation_hosts_allow[2]);
        kxld_conf_dispose(&c);
        free(path);
        free(text);
    }
    char *path = write_conf("relocation_server = \"no\"\nrelocation_hosts_allow = \"^b$\"\n");
    kxld_conf c;
    assert_int_equal(kxld_conf_load(path, "/", &c), 0);
    assert_int_equal(c.relocation_server, 0);
    assert_string_equal(c.relocation_hosts_allow[0], "^b$");
    kxld_conf_dispose(&c);
    free(path);
}

static void relocation_key_errors_name_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"relocation_server = 2\n",
         ":1: 'relocation_server' must be 0 or 1 (or \"yes\" or \"no\")"},
        {"\nrelocation_server = \"maybe\"\n", ":2: 'relocation_server' must be 0 or 1"},
        {"relocation_port = 0\n", ":1: 'relocation_port' must be a number from 1 to 65535"},
        {"relocation_address = \"\"\n", ":1: 'relocation_address' must be a non-empty string"},
        {"relocation_hosts_allow = [\"^a$\",\n \"(b\"]\n",
         ":2: 'relocation_hosts_allow': '(b' is not a regular expression"},
    };
    for (size_t k = 0; k < KX_ARRAY_SIZE(cases); k++) {
        char *path = write_conf(cases[k].text);
        kxld_conf c;
        assert_int_equal(kxld_conf_load(path, "/", &c), -1);
        assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
        char *want = kx_asprintf("%s%s", path, cases[k].msg);
        if (strncmp(kx_err_msg(), want, strlen(want)) != 0)
            fail_msg("got '%s', want '%s...'", kx_err_msg(), want);
        assert_null(strchr(kx_err_msg(), '\n'));
        free(want);
        free(path);
    }
}

/* A CA and a host certificate for host-b (also 192.0.2.2) written under dir. */
static void make_pair(const char *dir)
{
    kx_strv none = KX_STRV_INIT, dns = KX_STRV_INIT, ips = KX_STRV_INIT;
    kx_strv_push(&dns, "host-b.example.org");
    kx_strv_push(&ips, "192.0.2.2");
    tls_cert_spec ca_spec = {.cn = "test CA", .dns = &none, .ips = &none, .days = 1};
    tls_cert_spec spec = {.cn = "host-b", .dns = &dns, .ips = &ips, .days = 1};
    EVP_PKEY *ca_key = tls_new_key(), *key = tls_new_key();
    X509 *ca = tls_new_ca(ca_key, &ca_spec);
    X509 *cert = tls_new_host_cert(key, ca, ca_key, &spec);
    assert_non_null(cert);
    kx_mkdir_p(dir, 0700);
    char *p[3] = {kx_path_join(dir, TLS_CA_CERT), kx_path_join(dir, TLS_HOST_CERT),
                  kx_path_join(dir, TLS_HOST_KEY)};
    assert_int_equal(tls_write_cert(p[0], ca), 0);
    assert_int_equal(tls_write_cert(p[1], cert), 0);
    assert_int_equal(tls_write_key(p[2], key), 0);
    struct stat st;
    assert_int_equal(stat(p[2], &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    kx_strv names = KX_STRV_INIT;
    tls_cert_names(cert, &names);
    char *all = kx_strv_join(&names, " ");
    assert_string_equal(all, "host-b host-b.example.org 192.0.2.2");
    free(all);
    kx_strv_dispose(&names);
    assert_int_equal(tls_check_pair(ca, cert, key, p[1]), 0);
    assert_int_equal(tls_check_pair(ca, cert, ca_key, p[1]), -1);   /* not its key */
    assert_non_null(strstr(kx_err_msg(), "does not belong to its key"));
    assert_int_equal(tls_check_pair(cert, cert, NULL, p[1]), -1);    /* not the CA's */
    for (size_t i = 0; i < 3; i++)
        free(p[i]);
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    kx_strv_dispose(&dns);
    kx_strv_dispose(&ips);
}

static void certificates_are_made_and_checked(void **state)
{
    (void)state;
    char *dir = kx_path_join(tmp, "tls");
    make_pair(dir);
    SSL_CTX *ctx = tls_ctx_new(dir, true);
    assert_non_null(ctx);
    SSL_CTX_free(ctx);
    /* a key open to others is refused, then a missing file, each by its name */
    char *key = kx_path_join(dir, TLS_HOST_KEY);
    chmod(key, 0644);
    assert_null(tls_ctx_new(dir, true));
    assert_non_null(strstr(kx_err_msg(), "host-key.pem' may be read by others"));
    unlink(key);
    assert_null(tls_ctx_new(dir, true));
    char *want = kx_asprintf("cannot read '%s' (kxl tls-setup makes it)", key);
    assert_non_null(strstr(kx_err_msg(), want));
    free(want);
    free(key);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hosts_allow_matches_from_the_start),
        cmocka_unit_test(empty_hosts_allow_lets_the_ca_decide),
        cmocka_unit_test(bad_patterns_are_refused),
        cmocka_unit_test(relocation_keys_default_to_off),
        cmocka_unit_test(relocation_keys_are_read),
        cmocka_unit_test(relocation_key_errors_name_file_and_line),
        cmocka_unit_test(certificates_are_made_and_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
