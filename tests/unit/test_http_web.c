/* test_http_web.c - kxld's pure parts for the web UI: the session table (random ids, idle
 * expiry, removal), the Cookie header, the Origin check and the one decision of who gets in
 * (bearer, cookie with CSRF and Origin, Unix socket), the static files' paths (no way out of
 * the web directory) and the history's rings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/http_auth.h"
#include "daemon/http_session.h"
#include "daemon/http_static.h"
#include "daemon/kxld_history.h"
#include "util/buf.h"

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return false;
    return s[n] == '\0';
}

static void sessions_are_random_and_expire(void **state)
{
    (void)state;
    http_sessions *s = http_sessions_new(60);
    char id1[HTTP_SESSION_HEX], csrf1[HTTP_SESSION_HEX], id2[HTTP_SESSION_HEX],
        csrf2[HTTP_SESSION_HEX], got[HTTP_SESSION_HEX], user[256], host[256];
    assert_int_equal(http_session_create(s, "token", "h:1", 100, id1, csrf1), 0);
    assert_int_equal(http_session_create(s, "root", "h:2", 100, id2, csrf2), 0);
    assert_true(all_hex(id1, 64) && all_hex(csrf1, 64) && all_hex(id2, 64));
    assert_string_not_equal(id1, id2);
    assert_string_not_equal(id1, csrf1);
    assert_true(http_session_check(s, id2, 150, got, user, host));
    assert_string_equal(got, csrf2);
    assert_string_equal(user, "root");
    assert_string_equal(host, "h:2");
    /* a request keeps a session alive: id2 was touched at 150, id1 was not */
    assert_true(http_session_check(s, id2, 200, NULL, NULL, NULL));
    assert_false(http_session_check(s, id1, 200, NULL, NULL, NULL));
    /* not a session: another id, a prefix, a longer string, nothing */
    char wrong[HTTP_SESSION_HEX];
    memcpy(wrong, id2, sizeof(wrong));
    wrong[63] = wrong[63] == '0' ? '1' : '0';
    assert_false(http_session_check(s, wrong, 200, NULL, NULL, NULL));
    char shorter[64];
    memcpy(shorter, id2, 63);
    shorter[63] = '\0';
    assert_false(http_session_check(s, shorter, 200, NULL, NULL, NULL));
    assert_false(http_session_check(s, NULL, 200, NULL, NULL, NULL));
    assert_false(http_session_check(s, "", 200, NULL, NULL, NULL));
    http_session_remove(s, id2);
    assert_false(http_session_check(s, id2, 200, NULL, NULL, NULL));
    http_sessions_free(s);
}

static void full_table_drops_the_longest_idle(void **state)
{
    (void)state;
    http_sessions *s = http_sessions_new(1000);
    char first[HTTP_SESSION_HEX], id[HTTP_SESSION_HEX], csrf[HTTP_SESSION_HEX];
    assert_int_equal(http_session_create(s, "u", "h", 0, first, csrf), 0);
    for (int i = 1; i < HTTP_SESSIONS_MAX; i++)
        assert_int_equal(http_session_create(s, "u", "h", 1, id, csrf), 0);
    assert_true(http_session_check(s, first, 2, NULL, NULL, NULL));
    assert_int_equal(http_session_create(s, "u", "h", 3, id, csrf), 0);   /* one too many */
    assert_true(http_session_check(s, first, 3, NULL, NULL, NULL));       /* touched at 2 */
    assert_true(http_session_check(s, id, 3, NULL, NULL, NULL));
    http_sessions_free(s);
}

static void cookies(void **state)
{
    (void)state;
    char v[70];
    assert_true(http_cookie_value("kxld_session=abc", "kxld_session", v, sizeof(v)));
    assert_string_equal(v, "abc");
    assert_true(http_cookie_value("a=1; kxld_session=xyz ;b=2", "kxld_session", v, sizeof(v)));
    assert_string_equal(v, "xyz");
    assert_true(http_cookie_value("x_kxld_session=1;kxld_session=2", "kxld_session", v, sizeof(v)));
    assert_string_equal(v, "2");
    assert_false(http_cookie_value("kxld_sessionx=1; other=2", "kxld_session", v, sizeof(v)));
    assert_false(http_cookie_value("", "kxld_session", v, sizeof(v)));
    assert_false(http_cookie_value(NULL, "kxld_session", v, sizeof(v)));
    assert_false(http_cookie_value("kxld_session=0123456789", "kxld_session", v, 5));
}

static void origins(void **state)
{
    (void)state;
    assert_true(http_origin_ok("https://127.0.0.1:8443", "127.0.0.1:8443", true));
    assert_true(http_origin_ok("https://Kxl.Example", "kxl.example", true));
    assert_false(http_origin_ok("http://127.0.0.1:8443", "127.0.0.1:8443", true));
    assert_false(http_origin_ok("https://evil.example", "127.0.0.1:8443", true));
    assert_false(http_origin_ok("https://127.0.0.1:8443.evil", "127.0.0.1:8443", true));
    assert_false(http_origin_ok("https://127.0.0.1", "127.0.0.1:8443", true));
    assert_false(http_origin_ok("null", "127.0.0.1:8443", true));
    assert_false(http_origin_ok("https://h", NULL, true));
    /* behind a local reverse proxy on the Unix socket, either scheme */
    assert_true(http_origin_ok("http://kxl.lan", "kxl.lan", false));
    assert_true(http_origin_ok("https://kxl.lan", "kxl.lan", false));
}

static void who_gets_in(void **state)
{
    (void)state;
    const char *h = "127.0.0.1:8443", *o = "https://127.0.0.1:8443";
    http_auth_in bearer = {.tcp = true, .bearer_ok = true, .changes = true, .host = h};
    assert_int_equal(http_auth_decide(&bearer), HTTP_AUTH_OK);   /* no CSRF for a token */
    http_auth_in none = {.tcp = true, .host = h};
    assert_int_equal(http_auth_decide(&none), HTTP_AUTH_NONE);
    /* a client certificate of the CA: no CSRF token either, but not from another site */
    http_auth_in cert = {.tcp = true, .cert_ok = true, .changes = true, .host = h};
    assert_int_equal(http_auth_decide(&cert), HTTP_AUTH_OK);
    cert.origin = "https://evil.example";
    assert_int_equal(http_auth_decide(&cert), HTTP_AUTH_FORBIDDEN);
    cert.origin = o;
    assert_int_equal(http_auth_decide(&cert), HTTP_AUTH_OK);
    http_auth_in cookie = {.tcp = true, .session_ok = true, .session_host = h, .host = h,
                           .origin = o};
    assert_int_equal(http_auth_decide(&cookie), HTTP_AUTH_OK);
    cookie.changes = true;
    assert_int_equal(http_auth_decide(&cookie), HTTP_AUTH_FORBIDDEN);   /* no CSRF token */
    cookie.csrf_ok = true;
    assert_int_equal(http_auth_decide(&cookie), HTTP_AUTH_OK);
    cookie.origin = "https://evil.example";
    assert_int_equal(http_auth_decide(&cookie), HTTP_AUTH_FORBIDDEN);
    cookie.origin = NULL;                                  /* a GET without Origin: fine */
    assert_int_equal(http_auth_decide(&cookie), HTTP_AUTH_OK);
    cookie.host = "other:8443";                            /* not the login's Host */
    assert_int_equal(http_auth_decide(&cookie), HTTP_AUTH_FORBIDDEN);
    http_auth_in ws = {.tcp = true, .session_ok = true, .session_host = h, .host = h,
                       .websocket = true};
    assert_int_equal(http_auth_decide(&ws), HTTP_AUTH_FORBIDDEN);   /* no Origin */
    ws.origin = o;
    assert_int_equal(http_auth_decide(&ws), HTTP_AUTH_OK);
    http_auth_in sock = {.changes = true, .host = "localhost"};
    assert_int_equal(http_auth_decide(&sock), HTTP_AUTH_OK);
    sock.origin = "https://evil.example";
    assert_int_equal(http_auth_decide(&sock), HTTP_AUTH_FORBIDDEN);
    bearer.origin = "http://whatever.a.client.says";   /* a token is no browser's */
    assert_int_equal(http_auth_decide(&bearer), HTTP_AUTH_OK);
    http_auth_in login = {.tcp = true, .host = h, .origin = "https://evil.example"};
    assert_int_equal(http_auth_decide(&login), HTTP_AUTH_FORBIDDEN);   /* not even a login */
}

static void constant_time_equal(void **state)
{
    (void)state;
    kx_strv tokens = KX_STRV_INIT;
    kx_strv_push(&tokens, "0123456789abcdef-one");
    assert_true(http_token_ok("0123456789abcdef-one", &tokens));
    assert_false(http_token_ok("0123456789abcdef-on", &tokens));
    assert_false(http_token_ok("0123456789abcdef-one ", &tokens));
    assert_false(http_token_ok("", &tokens));
    assert_false(http_token_ok(NULL, &tokens));
    assert_true(http_equal_ct("abc", "abc"));
    assert_false(http_equal_ct("abc", "abd"));
    assert_false(http_equal_ct("abc", "abcd"));
    assert_false(http_equal_ct(NULL, "abc"));
    kx_strv_dispose(&tokens);
}

static void static_paths(void **state)
{
    (void)state;
    kx_buf f = KX_BUF_INIT;
    const char *type;
    assert_true(http_static_file("/w", "/", &f, &type));
    assert_string_equal(f.s, "/w/index.html");
    assert_string_equal(type, "text/html; charset=utf-8");
    assert_true(http_static_file("/w", "/app.js", &f, &type));
    assert_string_equal(f.s, "/w/app.js");
    assert_string_equal(type, "text/javascript; charset=utf-8");
    assert_true(http_static_file("/w", "/fonts/a-b_c.woff2", &f, &type));
    assert_string_equal(type, "font/woff2");
    static const char *const refused[] = {
        "/../etc/passwd", "/a/../../x.js", "/..", "/.hidden.js", "//etc/passwd.js",
        "/app.js/", "/a b.js", "/app.exe", "/noext", "/%2e%2e/x.js", "app.js", "/a/./b.js", "",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_false(http_static_file("/w", refused[i], &f, &type));
    assert_true(http_static_wanted("/"));
    assert_true(http_static_wanted("/app.js"));
    assert_false(http_static_wanted("/api/v1/domains"));
    assert_false(http_static_wanted("/api"));
    assert_false(http_static_wanted("/metrics"));
    kx_buf_dispose(&f);
}

/* A frame with one domain per name (domid 1, 2, ...), counters from base. */
static kxl_stats_frame frame(double wall, const char *const *names, size_t n, uint64_t base)
{
    static kxl_domstats doms[4];
    static kxl_net_stats nets[4][2];
    static kxl_vbd_stats vbds[4][1];
    kxl_stats_frame f = {.wall = wall, .doms = doms, .n_doms = n};
    for (size_t i = 0; i < n; i++) {
        doms[i] = (kxl_domstats){.cpu_pct = 10.0 * (double)(i + 1), .mem_kib = 1024 * (i + 1),
                                 .nets = nets[i], .n_nets = 2, .vbds = vbds[i], .n_vbds = 1};
        snprintf(doms[i].info.name, sizeof(doms[i].info.name), "%s", names[i]);
        doms[i].info.domid = (unsigned)i + 1;
        doms[i].info.started = 1000;
        nets[i][0] = (kxl_net_stats){.rx_bytes = base, .tx_bytes = 2 * base};
        nets[i][1] = (kxl_net_stats){.rx_bytes = 1, .tx_bytes = 1};
        vbds[i][0] = (kxl_vbd_stats){.rd_bytes = 3 * base, .wr_bytes = 4 * base};
    }
    return f;
}

static void history_rings(void **state)
{
    (void)state;
    kxld_history *h = kxld_history_new(3);
    static const char *const ab[] = {"a", "b"}, *const b[] = {"b"};
    kxld_sample *s;
    assert_int_equal(kxld_history_get(h, "a", &s), -1);
    for (int i = 0; i < 5; i++) {
        kxl_stats_frame f = frame(100 + 5 * i, ab, 2, (uint64_t)i * 100);
        kxld_history_record(h, &f);
    }
    /* the ring keeps the last 3, oldest first, sums over vifs and disks */
    assert_int_equal(kxld_history_get(h, "a", &s), 3);
    assert_true(s[0].time == 110 && s[1].time == 115 && s[2].time == 120);
    assert_int_equal(s[2].net_rx_bytes, 401);
    assert_int_equal(s[2].net_tx_bytes, 801);
    assert_int_equal(s[2].disk_rd_bytes, 1200);
    assert_int_equal(s[2].disk_wr_bytes, 1600);
    assert_int_equal(s[2].mem_kib, 1024);
    assert_true(s[2].cpu_pct == 10.0 && s[2].started == 1000);
    free(s);
    /* a domain gone from the frame is forgotten */
    kxl_stats_frame f = frame(125, b, 1, 0);
    f.doms[0].info.domid = 2;
    kxld_history_record(h, &f);
    assert_int_equal(kxld_history_get(h, "a", &s), -1);
    assert_int_equal(kxld_history_get(h, "b", &s), 3);
    free(s);
    /* one made again under the same name (another id) starts over */
    f = frame(130, b, 1, 0);
    f.doms[0].info.domid = 9;
    kxld_history_record(h, &f);
    assert_int_equal(kxld_history_get(h, "b", &s), 1);
    assert_true(s[0].time == 130);
    json_object *o = kxld_sample_to_json(&s[0]);
    assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                        "{\"time\":130.0,\"started\":1000.0,\"cpu_pct\":10.0,\"mem_kib\":1024,"
                        "\"net_rx_bytes\":1,\"net_tx_bytes\":1,\"disk_rd_bytes\":0,"
                        "\"disk_wr_bytes\":0}");
    json_object_put(o);
    free(s);
    kxld_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sessions_are_random_and_expire),
        cmocka_unit_test(full_table_drops_the_longest_idle),
        cmocka_unit_test(cookies),
        cmocka_unit_test(origins),
        cmocka_unit_test(who_gets_in),
        cmocka_unit_test(constant_time_equal),
        cmocka_unit_test(static_paths),
        cmocka_unit_test(history_rings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
