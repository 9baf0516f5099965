/* test_http.c - kxld's pure parts: route matching (404 and 405 apart, {name} segments, the
 * Allow header), the one table of error code -> HTTP status, the JSON error object, and
 * kxld.conf (defaults, file:line errors), request bodies' typed members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/http_auth.h"
#include "daemon/http_login_limit.h"
#include "daemon/http_route.h"
#include "daemon/http_status.h"
#include "daemon/kxld_body.h"
#include "daemon/kxld_jobs.h"
#include "daemon/kxld_conf.h"
#include "daemon/kxld_relay_url.h"
#include "unit_tmpdir.h"
#include "util/err.h"
#include "util/fileio.h"

static const char *const specs[] = {
    "GET /api/v1/host",
    "GET /api/v1/domains",
    "POST /api/v1/domains",
    "GET /api/v1/domains/{name}",
    "DELETE /api/v1/domains/{name}",
    "POST /api/v1/domains/{name}/pause",
    "DELETE /api/v1/domains/{name}/disks/{vdev}",
    "GET /api/v1/hosts/{host}/{path+}",
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static http_match find(const char *method, const char *path, size_t *i, http_params *params,
                       kx_buf *allow)
{
    return http_route_find(specs, N_SPECS, method, path, i, params, allow);
}

static void routes_match_method_and_path(void **state)
{
    (void)state;
    size_t i;
    http_params params;
    assert_int_equal(find("GET", "/api/v1/host", &i, &params, NULL), HTTP_MATCH_OK);
    assert_int_equal(i, 0);
    assert_int_equal(params.n, 0);
    assert_int_equal(find("POST", "/api/v1/domains", &i, &params, NULL), HTTP_MATCH_OK);
    assert_int_equal(i, 2);
    assert_int_equal(find("DELETE", "/api/v1/domains/web-01", &i, &params, NULL), HTTP_MATCH_OK);
    assert_int_equal(i, 4);
    assert_string_equal(http_param(&params, "name"), "web-01");
    assert_int_equal(find("POST", "/api/v1/domains/7/pause", &i, &params, NULL), HTTP_MATCH_OK);
    assert_int_equal(i, 5);
    assert_string_equal(http_param(&params, "name"), "7");
    assert_int_equal(find("DELETE", "/api/v1/domains/g/disks/xvdb", &i, &params, NULL),
                     HTTP_MATCH_OK);
    assert_string_equal(http_param(&params, "name"), "g");
    assert_string_equal(http_param(&params, "vdev"), "xvdb");
    assert_null(http_param(&params, "other"));
}

/* "{path+}": the rest of the path, slashes and all, never empty */
static void tail_segments_take_the_rest(void **state)
{
    (void)state;
    size_t i;
    http_params params;
    assert_int_equal(find("GET", "/api/v1/hosts/b/domains/g/history", &i, &params, NULL),
                     HTTP_MATCH_OK);
    assert_int_equal(i, 7);
    assert_string_equal(http_param(&params, "host"), "b");
    assert_string_equal(http_param(&params, "path"), "domains/g/history");
    assert_int_equal(find("GET", "/api/v1/hosts/b/domains", &i, &params, NULL), HTTP_MATCH_OK);
    assert_string_equal(http_param(&params, "path"), "domains");
    assert_int_equal(find("GET", "/api/v1/hosts/b/", &i, &params, NULL), HTTP_MATCH_NO_PATH);
    assert_int_equal(find("GET", "/api/v1/hosts/b", &i, &params, NULL), HTTP_MATCH_NO_PATH);
    assert_int_equal(find("GET", "/api/v1/hosts//domains", &i, &params, NULL),
                     HTTP_MATCH_NO_PATH);
}

/* The relay's target: only api_peers' hosts, only under their /api/v1/, encoded again. */
static void relay_urls_stay_under_the_peers_api(void **state)
{
    (void)state;
    const char *const peers[] = {"host-b=192.0.2.2:8443", "c=[fd00::3]:443", NULL};
    char *url = kxld_relay_url(peers, "host-b", "domains/g 1/pause", "a=1 2&b=x/y");
    assert_string_equal(url, "https://192.0.2.2:8443/api/v1/domains/g%201/pause?a=1%202&b=x%2Fy");
    free(url);
    url = kxld_relay_url(peers, "c", "jobs/7/wait", "");
    assert_string_equal(url, "https://[fd00::3]:443/api/v1/jobs/7/wait");
    free(url);
    static const struct {
        const char *host, *rest;
        kxl_errcode code;
    } bad[] = {
        {"host", "domains", KXL_ERR_NOT_FOUND},     {"host-b=", "domains", KXL_ERR_NOT_FOUND},
        {"", "domains", KXL_ERR_NOT_FOUND},         {"d", "domains", KXL_ERR_NOT_FOUND},
        {"c", "../../metrics", KXL_ERR_INVALID},    {"c", "domains/../../x", KXL_ERR_INVALID},
        {"c", "./domains", KXL_ERR_INVALID},        {"c", "domains//g", KXL_ERR_INVALID},
        {"c", "domains/", KXL_ERR_INVALID},         {"c", "hosts/host-b/domains", KXL_ERR_INVALID},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_null(kxld_relay_url(peers, bad[k].host, bad[k].rest, NULL));
        assert_int_equal(kx_err_code(), bad[k].code);
    }
    char *loc = kxld_relay_location("host-b", "/api/v1/jobs/7");
    assert_string_equal(loc, "/api/v1/hosts/host-b/jobs/7");
    free(loc);
    assert_null(kxld_relay_location("host-b", "https://elsewhere/api/v1/jobs/7"));
    assert_null(kxld_relay_location("host-b", "/metrics"));
}

static void unknown_paths_are_404(void **state)
{
    (void)state;
    size_t i;
    http_params params;
    const char *paths[] = {"/", "", "/api/v1", "/api/v1/host/", "/api/v1/domains/",
                           "/api/v1/domains//pause", "/api/v1/domains/g/pause/x",
                           "/api/v1/domainsx", "/api/v2/host", "api/v1/host",
                           "/api/v1/domains/g/unknown"};
    for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++)
        assert_int_equal(find("GET", paths[k], &i, &params, NULL), HTTP_MATCH_NO_PATH);
}

static void wrong_methods_are_405_with_allow(void **state)
{
    (void)state;
    size_t i;
    http_params params;
    kx_buf allow = KX_BUF_INIT;
    assert_int_equal(find("PUT", "/api/v1/domains", &i, &params, &allow), HTTP_MATCH_NO_METHOD);
    assert_string_equal(kx_buf_str(&allow), "GET, POST");
    kx_buf_clear(&allow);
    assert_int_equal(find("GET", "/api/v1/domains/g/pause", &i, &params, &allow),
                     HTTP_MATCH_NO_METHOD);
    assert_string_equal(kx_buf_str(&allow), "POST");
    kx_buf_clear(&allow);
    assert_int_equal(find("POST", "/api/v1/domains/g", &i, &params, &allow),
                     HTTP_MATCH_NO_METHOD);
    assert_string_equal(kx_buf_str(&allow), "GET, DELETE");
    kx_buf_dispose(&allow);
    /* a method name that starts like another is not it */
    assert_int_equal(find("GE", "/api/v1/host", &i, &params, NULL), HTTP_MATCH_NO_METHOD);
    assert_int_equal(find("GETX", "/api/v1/host", &i, &params, NULL), HTTP_MATCH_NO_METHOD);
}

static void long_segments_do_not_match(void **state)
{
    (void)state;
    char path[HTTP_PARAM_MAX + 64];
    char name[HTTP_PARAM_MAX + 1];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(path, sizeof(path), "/api/v1/domains/%s", name);
    size_t i;
    http_params params;
    assert_int_equal(find("GET", path, &i, &params, NULL), HTTP_MATCH_NO_PATH);
    name[HTTP_PARAM_MAX - 1] = '\0';   /* the longest that fits */
    snprintf(path, sizeof(path), "/api/v1/domains/%s", name);
    assert_int_equal(find("GET", path, &i, &params, NULL), HTTP_MATCH_OK);
    assert_string_equal(http_param(&params, "name"), name);
}

static void error_codes_map_to_statuses(void **state)
{
    (void)state;
    static const struct {
        kxl_errcode code;
        int status;
    } want[] = {
        {KXL_ERR_NONE, 200},      {KXL_ERR_INTERNAL, 500},  {KXL_ERR_CONFIG, 400},
        {KXL_ERR_INVALID, 400},   {KXL_ERR_NOT_FOUND, 404}, {KXL_ERR_EXISTS, 409},
        {KXL_ERR_STATE, 409},     {KXL_ERR_BUSY, 409},      {KXL_ERR_PERMISSION, 403},
        {KXL_ERR_HOST, 503},      {KXL_ERR_QEMU, 502},
    };
    assert_int_equal(sizeof(want) / sizeof(want[0]), KXL_ERR__COUNT);   /* every code has a row */
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
        assert_int_equal(http_status_of(want[k].code), want[k].status);
    assert_int_equal(http_status_of((kxl_errcode)999), 500);
    assert_int_equal(http_status_of((kxl_errcode)-1), 500);
}

static void errors_are_json_objects(void **state)
{
    (void)state;
    json_object *e = http_error_json(KXL_ERR_NOT_FOUND, "domain 'x' does not exist");
    assert_string_equal(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
                        "{\"error\":{\"code\":\"not-found\",\"message\":\"domain 'x' does not "
                        "exist\"}}");
    json_object_put(e);
}

/* ---- kxld.conf ---- */

static char tmp[] = "/tmp/kxl-test-http-XXXXXX";
UNIT_TMPDIR_FIXTURES(tmp)

static char *write_conf(const char *text)
{
    char *path = kx_path_join(tmp, "kxld.conf");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void conf_defaults_without_a_file(void **state)
{
    (void)state;
    kxld_conf c;
    assert_int_equal(kxld_conf_load("/nonexistent/kxld.conf", "/srv/root", &c), 0);
    assert_string_equal(c.unix_socket, "/srv/root/run/kxl/kxld.sock");
    assert_string_equal(c.socket_group, "kxl");
    assert_int_equal(c.max_body_kib, 64);
    assert_int_equal(c.max_requests, 32);
    assert_int_equal(c.idle_timeout_s, 60);
    assert_null(c.auto_dirs[0]);
    kxld_conf_dispose(&c);
    kxld_conf_dispose(&c);   /* idempotent */
}

static void conf_sets_keys(void **state)
{
    (void)state;
    char *path = write_conf("# kxld\nunix_socket = \"/run/api.sock\"\nmax_requests = 4\n"
                            "socket_group = 'wheel'\nauto_dirs = [\"/etc/xen/auto\", \"auto2\"]\n"
                            "relocation_peers = [\"host-b=192.0.2.2:8002\"]\n"
                            "api_peers = [\"host-b=192.0.2.2:8443\"]\n");
    kxld_conf c;
    assert_int_equal(kxld_conf_load(path, "/srv", &c), 0);
    assert_string_equal(c.relocation_peers[0], "host-b=192.0.2.2:8002");
    assert_null(c.relocation_peers[1]);
    assert_string_equal(c.api_peers[0], "host-b=192.0.2.2:8443");
    assert_null(c.api_peers[1]);
    assert_string_equal(c.auto_dirs[0], "/etc/xen/auto");
    assert_string_equal(c.auto_dirs[1], "/srv/auto2");
    assert_null(c.auto_dirs[2]);
    assert_string_equal(c.unix_socket, "/run/api.sock");
    assert_string_equal(c.socket_group, "wheel");
    assert_int_equal(c.max_requests, 4);
    kxld_conf_dispose(&c);
    free(path);
}

static void conf_errors_name_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"\n\nlisten = \"0.0.0.0:80\"\n", ":3: unknown key 'listen'"},
        {"unix_socket = 3\n", ":1: 'unix_socket' must be a non-empty string"},
        {"unix_socket = \"\"\n", ":1: 'unix_socket' must be a non-empty string"},
        {"\nmax_requests = 0\n", ":2: 'max_requests' must be a number from 1 to 1024"},
        {"max_body_kib = \"big\"\n", ":1: 'max_body_kib' must be a number from 1 to 16384"},
        {"unix_socket = \n", ":1: "},
        {"tcp_port = 70000\n", ":1: 'tcp_port' must be a number from 0 to 65535"},
        {"auto_dirs = [\"/a\",\n 3]\n", ":2: 'auto_dirs' must be a list of non-empty strings"},
        {"relocation_peers = [\"b=192.0.2.2\", \"192.0.2.3:8002\"]\n",
         ":1: 'relocation_peers': '192.0.2.3:8002' is not NAME=HOST[:PORT]"},
        {"relocation_peers = \"b c=h\"\n", ":1: 'relocation_peers': 'b c=h' is not NAME="},
        {"relocation_peers = \"b=\"\n", ":1: 'relocation_peers': 'b=' is not NAME="},
        {"api_peers = \"b=192.0.2.2\"\n", ":1: 'api_peers': 'b=192.0.2.2' is not NAME=HOST:PORT"},
        {"api_peers = \"b=:8443\"\n", ":1: 'api_peers': 'b=:8443' is not NAME=HOST:PORT"},
        {"api_peers = \"b=h:84x\"\n", ":1: 'api_peers': 'b=h:84x' is not NAME=HOST:PORT"},
        {"api_peers = \"=h:1\"\n", ":1: 'api_peers': '=h:1' is not NAME=HOST:PORT"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char *path = write_conf(cases[k].text);
        kxld_conf c;
        assert_int_equal(kxld_conf_load(path, "/", &c), -1);
        assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
        char *want = kx_asprintf("%s%s", path, cases[k].msg);
        if (strncmp(kx_err_msg(), want, strlen(want)) != 0)
            fail_msg("got '%s', want '%s...'", kx_err_msg(), want);
        assert_null(strchr(kx_err_msg(), '\n'));
        assert_null(c.unix_socket);   /* nothing to free */
        free(want);
        free(path);
    }
}

static void tcp_needs_tls_files_and_tokens(void **state)
{
    (void)state;
    char *path = write_conf("tcp_port = 8443\ntls_key = \"/k.pem\"\n");
    kxld_conf c;
    assert_int_equal(kxld_conf_load(path, "/", &c), -1);
    char *want = kx_asprintf("%s: tcp_port = 8443 needs tls_cert, tls_key, and token_file or "
                             "tls_client_ca (missing: tls_cert, token_file or tls_client_ca): "
                             "kxld never listens on TCP without TLS and a bearer token or "
                             "client certificate", path);
    assert_string_equal(kx_err_msg(), want);
    free(want);
    free(path);
    path = write_conf("tcp_port = 8443\ntls_key = \"/k.pem\"\ntls_cert = \"etc/c.pem\"\n"
                      "token_file = 'etc/tokens'\ntcp_address = '::'\n");
    assert_int_equal(kxld_conf_load(path, "/srv/r", &c), 0);
    assert_int_equal(c.tcp_port, 8443);
    assert_string_equal(c.tls_cert, "/srv/r/etc/c.pem");
    assert_string_equal(c.tls_key, "/k.pem");
    assert_string_equal(c.token_file, "/srv/r/etc/tokens");
    assert_string_equal(c.tcp_address, "::");
    assert_null(c.tls_client_ca);
    kxld_conf_dispose(&c);
    free(path);
    /* client certificates instead of tokens */
    path = write_conf("tcp_port = 8443\ntls_key = \"/k.pem\"\ntls_cert = \"etc/c.pem\"\n"
                      "tls_client_ca = 'etc/ca.pem'\n");
    assert_int_equal(kxld_conf_load(path, "/srv/r", &c), 0);
    assert_string_equal(c.tls_client_ca, "/srv/r/etc/ca.pem");
    assert_null(c.token_file);
    kxld_conf_dispose(&c);
    free(path);
    assert_int_equal(kxld_conf_load("/nonexistent", "/", &c), 0);   /* no TCP by default */
    assert_int_equal(c.tcp_port, 0);
    assert_null(c.token_file);
    kxld_conf_dispose(&c);
}

static void bearer_tokens_match_whole(void **state)
{
    (void)state;
    kx_strv tokens = KX_STRV_INIT;
    kx_strv_push(&tokens, "first-token-0123456789");
    kx_strv_push(&tokens, "second-token-abcdefghij");
    assert_true(http_bearer_ok("Bearer first-token-0123456789", &tokens));
    assert_true(http_bearer_ok("bearer  second-token-abcdefghij", &tokens));
    static const char *const refused[] = {
        "Bearer first-token-012345678",     /* a prefix */
        "Bearer first-token-01234567890",   /* longer */
        "Bearer second-token-abcdefghiJ",
        "Bearer ",
        "Bearer",
        "Basic Zmlyc3QtdG9rZW4tMDEyMzQ1Njc4OQ==",
        "first-token-0123456789",
        "Bearer first-token-0123456789 x",
        "",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (http_bearer_ok(refused[i], &tokens))
            fail_msg("'%s' was accepted", refused[i]);
    assert_false(http_bearer_ok(NULL, &tokens));
    kx_strv empty = KX_STRV_INIT;
    assert_false(http_bearer_ok("Bearer first-token-0123456789", &empty));
    kx_strv_dispose(&tokens);
}

static void token_files_are_checked(void **state)
{
    (void)state;
    char *path = write_conf("# tokens\n\n  first-token-0123456789  \nsecond-token-abcdefghij\n");
    chmod(path, 0600);
    kx_strv tokens = KX_STRV_INIT;
    assert_int_equal(http_tokens_load(path, &tokens), 0);
    assert_int_equal(tokens.n, 2);
    assert_string_equal(tokens.v[0], "first-token-0123456789");
    kx_strv_dispose(&tokens);
    chmod(path, 0640);
    assert_int_equal(http_tokens_load(path, &tokens), -1);
    assert_non_null(strstr(kx_err_msg(), "is open to others (mode 0640): chmod 600 it"));
    free(path);
    path = write_conf("a token\n");
    chmod(path, 0600);
    assert_int_equal(http_tokens_load(path, &tokens), -1);
    assert_non_null(strstr(kx_err_msg(), "':1: a token is one word of at least 16"));
    free(path);
    path = write_conf("# none\n");
    chmod(path, 0600);
    assert_int_equal(http_tokens_load(path, &tokens), -1);
    assert_non_null(strstr(kx_err_msg(), "has no token"));
    assert_null(tokens.v);
    free(path);
}

/* ---- the API's jobs ---- */

static const char *member(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_to_json_string(v) : "absent";
}

static void jobs_run_and_end(void **state)
{
    (void)state;
    kxld_jobs *jobs = kxld_jobs_new(NULL);
    unsigned long long a = kxld_jobs_start(jobs, "POST /api/v1/domains");
    unsigned long long b = kxld_jobs_start(jobs, "DELETE /api/v1/domains/x");
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    json_object *o = kxld_jobs_get(jobs, "1");
    assert_string_equal(member(o, "state"), "\"running\"");
    assert_string_equal(member(o, "status"), "null");
    assert_string_equal(member(o, "request"), "\"POST \\/api\\/v1\\/domains\"");
    assert_string_equal(member(o, "progress"), "null");
    json_object_put(o);
    /* a running job's progress, replaced by the next; kept once it ended, frozen then */
    json_object *p = json_object_new_object();
    json_object_object_add(p, "step", json_object_new_int(1));
    kxld_jobs_progress(jobs, a, p);
    p = json_object_new_object();
    json_object_object_add(p, "step", json_object_new_int(2));
    kxld_jobs_progress(jobs, a, p);
    kxld_jobs_progress(jobs, 99, json_object_new_object());   /* unknown: dropped */
    o = kxld_jobs_get(jobs, "1");
    assert_string_equal(member(o, "progress"), "{ \"step\": 2 }");
    json_object_put(o);
    json_object *dom = json_object_new_object();
    json_object_object_add(dom, "name", json_object_new_string("x"));
    kxld_jobs_finish(jobs, a, 201, dom);
    kxld_jobs_finish(jobs, b, 404, http_error_json(KXL_ERR_NOT_FOUND, "no x"));
    o = kxld_jobs_get(jobs, "1");
    assert_string_equal(member(o, "state"), "\"succeeded\"");
    assert_string_equal(member(o, "status"), "201");
    assert_string_equal(member(o, "result"), "{ \"name\": \"x\" }");
    assert_string_equal(member(o, "error"), "null");
    assert_string_equal(member(o, "progress"), "{ \"step\": 2 }");
    json_object_put(o);
    kxld_jobs_progress(jobs, a, json_object_new_object());   /* ended: dropped */
    o = kxld_jobs_get(jobs, "1");
    assert_string_equal(member(o, "progress"), "{ \"step\": 2 }");
    json_object_put(o);
    o = kxld_jobs_get(jobs, "2");
    assert_string_equal(member(o, "state"), "\"failed\"");
    assert_string_equal(member(o, "result"), "null");
    assert_string_equal(member(o, "error"), "{ \"code\": \"not-found\", \"message\": \"no x\" }");
    json_object_put(o);
    assert_null(kxld_jobs_get(jobs, "3"));
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
    assert_null(kxld_jobs_get(jobs, "1x"));
    kxld_jobs_free(jobs);
}

static void jobs_keep_the_last_ended_and_every_running(void **state)
{
    (void)state;
    kxld_jobs *jobs = kxld_jobs_new(NULL);
    unsigned long long first = kxld_jobs_start(jobs, "POST /api/v1/domains/a/shutdown");
    for (int i = 0; i < KXLD_JOBS_KEPT + 10; i++)
        kxld_jobs_finish(jobs, kxld_jobs_start(jobs, "DELETE /api/v1/domains/b"), 204, NULL);
    char id[32];
    snprintf(id, sizeof(id), "%llu", first);
    json_object *o = kxld_jobs_get(jobs, id);   /* running: kept however old */
    assert_non_null(o);
    json_object_put(o);
    assert_null(kxld_jobs_get(jobs, "2"));      /* among the 10 oldest ended */
    assert_null(kxld_jobs_get(jobs, "11"));
    snprintf(id, sizeof(id), "%d", 12);
    o = kxld_jobs_get(jobs, id);
    assert_non_null(o);
    json_object_put(o);
    kxld_jobs_free(jobs);
}

/* A second kxld on the same directory: the first's ended jobs as they ended, its running
 * one failed, new ids after the old ones. */
static void jobs_outlive_kxld(void **state)
{
    (void)state;
    char *dir = kx_path_join(tmp, "jobs");
    kxld_jobs *jobs = kxld_jobs_new(dir);
    unsigned long long a = kxld_jobs_start(jobs, "POST /api/v1/domains/a/save");
    unsigned long long b = kxld_jobs_start(jobs, "POST /api/v1/domains/b/save");
    json_object *dom = json_object_new_object();
    json_object_object_add(dom, "name", json_object_new_string("a"));
    kxld_jobs_finish(jobs, a, 201, dom);
    kxld_jobs_free(jobs);   /* as a kill -9 would leave b: its file says running */

    jobs = kxld_jobs_new(dir);
    json_object *o = kxld_jobs_get(jobs, "1");
    assert_string_equal(member(o, "state"), "\"succeeded\"");
    assert_string_equal(member(o, "result"), "{ \"name\": \"a\" }");
    json_object_put(o);
    char id[32];
    snprintf(id, sizeof(id), "%llu", b);
    o = kxld_jobs_get(jobs, id);
    assert_string_equal(member(o, "state"), "\"failed\"");
    assert_string_equal(member(o, "status"), "500");
    assert_non_null(strstr(member(o, "error"), "kxld restarted while this job ran"));
    assert_string_equal(member(o, "request"), "\"POST \\/api\\/v1\\/domains\\/b\\/save\"");
    json_object_put(o);
    assert_int_equal(kxld_jobs_start(jobs, "DELETE /api/v1/domains/c"), b + 1);
    kxld_jobs_free(jobs);

    jobs = kxld_jobs_new(dir);   /* failed once, stays failed; the third job runs still */
    o = kxld_jobs_get(jobs, id);
    assert_string_equal(member(o, "state"), "\"failed\"");
    json_object_put(o);
    kxld_jobs_free(jobs);
    free(dir);
}

static void *finish_later(void *arg)
{
    usleep(200 * 1000);
    kxld_jobs_finish(arg, 1, 204, NULL);
    return NULL;
}

static void jobs_wait_for_their_end_or_the_timeout(void **state)
{
    (void)state;
    kxld_jobs *jobs = kxld_jobs_new(NULL);
    kxld_jobs_start(jobs, "POST /api/v1/domains/a/shutdown");
    json_object *o = kxld_jobs_wait(jobs, "1", 1, -1);   /* nobody ends it: the timeout */
    assert_string_equal(member(o, "state"), "\"running\"");
    json_object_put(o);
    pthread_t t;
    pthread_create(&t, NULL, finish_later, jobs);
    o = kxld_jobs_wait(jobs, "1", 60, -1);
    assert_string_equal(member(o, "state"), "\"succeeded\"");
    json_object_put(o);
    pthread_join(t, NULL);
    assert_null(kxld_jobs_wait(jobs, "2", 1, -1));
    kxld_jobs_free(jobs);
}

static void *step_later(void *arg)
{
    usleep(200 * 1000);
    kxld_jobs_progress(arg, 1, json_object_new_string("two"));
    return NULL;
}

static void jobs_wait_for_a_step_after_the_one_seen(void **state)
{
    (void)state;
    kxld_jobs *jobs = kxld_jobs_new(NULL);
    kxld_jobs_start(jobs, "POST /api/v1/images");
    kxld_jobs_progress(jobs, 1, json_object_new_string("one"));
    json_object *o = kxld_jobs_wait(jobs, "1", 60, 0);   /* seen none: the first, at once */
    assert_string_equal(member(o, "progress"), "\"one\"");
    assert_string_equal(member(o, "updates"), "1");
    json_object_put(o);
    o = kxld_jobs_wait(jobs, "1", 1, 1);   /* no step past the first: the timeout */
    assert_string_equal(member(o, "updates"), "1");
    json_object_put(o);
    pthread_t t;
    pthread_create(&t, NULL, step_later, jobs);
    o = kxld_jobs_wait(jobs, "1", 60, 1);   /* woken by the next step, still running */
    assert_string_equal(member(o, "state"), "\"running\"");
    assert_string_equal(member(o, "updates"), "2");
    json_object_put(o);
    pthread_join(t, NULL);
    kxld_jobs_free(jobs);
}

static void jobs_cancel_through_their_pipe(void **state)
{
    (void)state;
    kxld_jobs *jobs = kxld_jobs_new(NULL);
    kxld_jobs_start(jobs, "POST /api/v1/images");
    assert_false(kxld_jobs_cancel(jobs, "1"));   /* none set: not kxld's to cancel */
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    kxld_jobs_set_cancel(jobs, 1, p[1]);
    assert_false(kxld_jobs_cancelled(jobs, 1));
    assert_true(kxld_jobs_cancel(jobs, "1"));
    assert_true(kxld_jobs_cancelled(jobs, 1));
    struct signalfd_siginfo si;
    assert_int_equal(read(p[0], &si, sizeof(si)), sizeof(si));
    assert_int_equal(si.ssi_signo, SIGTERM);
    kxld_jobs_set_cancel(jobs, 1, -1);
    assert_false(kxld_jobs_cancel(jobs, "1"));
    kxld_jobs_finish(jobs, 1, 201, NULL);
    close(p[0]);
    close(p[1]);
    kxld_jobs_free(jobs);
}

static void query_values(void **state)
{
    (void)state;
    char buf[8];
    assert_string_equal(http_query_value("timeout=5", "timeout", buf, sizeof(buf)), "5");
    assert_string_equal(http_query_value("a=1&timeout=12&b", "timeout", buf, sizeof(buf)), "12");
    assert_string_equal(http_query_value("timeout=123456789", "timeout", buf, sizeof(buf)),
                        "1234567");
    assert_string_equal(http_query_value("timeout=", "timeout", buf, sizeof(buf)), "");
    assert_null(http_query_value("timeouts=5&xtimeout=3", "timeout", buf, sizeof(buf)));
    assert_null(http_query_value("", "timeout", buf, sizeof(buf)));
    assert_null(http_query_value(NULL, "timeout", buf, sizeof(buf)));
}

/* Each member type's refusals name the member; absent optional members are left at their
 * defaults; only absolute paths pass, and existing files where asked. */
static void body_members_are_typed(void **state)
{
    (void)state;
    json_object *b = json_tokener_parse("{\"s\": \"x\", \"e\": \"\", \"n\": 3, "
                                        "\"t\": true, \"rel\": \"a/b\", \"dir\": \"/\", "
                                        "\"f\": \"/etc/passwd\"}");
    static const char *const some[] = {"s", "n", NULL};
    assert_int_equal(kxld_body_only(b, some), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_INVALID);
    assert_string_equal(kx_err_msg(), "request body: unknown member 'e'");
    assert_int_equal(kxld_body_only(NULL, some), 0);
    const char *v;
    assert_int_equal(kxld_body_nonempty(b, "s", true, &v), 0);
    assert_string_equal(v, "x");
    assert_int_equal(kxld_body_nonempty(b, "absent", false, &v), 0);
    assert_null(v);
    assert_int_equal(kxld_body_nonempty(b, "absent", true, &v), -1);
    assert_string_equal(kx_err_msg(), "request body: 'absent' (a string) is required");
    assert_int_equal(kxld_body_nonempty(b, "e", false, &v), -1);
    assert_string_equal(kx_err_msg(), "request body: 'e' must be a non-empty string");
    assert_int_equal(kxld_body_nonempty(b, "n", false, &v), -1);
    int64_t n;
    assert_int_equal(kxld_body_int(b, "n", true, 0, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(kxld_body_int(b, "s", false, 7, &n), -1);
    assert_string_equal(kx_err_msg(), "request body: 's' must be a whole number");
    bool t;
    assert_int_equal(kxld_body_bool(b, "t", false, &t), 0);
    assert_true(t);
    assert_int_equal(kxld_body_bool(NULL, "t", false, &t), 0);
    assert_false(t);
    assert_int_equal(kxld_body_bool(b, "n", false, &t), -1);
    assert_int_equal(kxld_body_path(b, "rel", true, false, &v), -1);
    assert_string_equal(kx_err_msg(), "request body: 'rel' = 'a/b' is not an absolute path");
    assert_int_equal(kxld_body_path(b, "dir", true, false, &v), 0);
    assert_int_equal(kxld_body_path(b, "dir", true, true, &v), -1);
    assert_string_equal(kx_err_msg(), "request body: 'dir' = '/': no such file");
    assert_int_equal(kxld_body_path(b, "f", true, true, &v), 0);
    assert_string_equal(v, "/etc/passwd");
    assert_int_equal(kxld_body_path(b, "absent", false, true, &v), 0);
    assert_null(v);
    json_object_put(b);
}

/* Five failures within a minute hold that address, and only it, until the minute that began
 * with its first failure has passed; a success forgets its failures; a full table gives way
 * rather than grow. */
static void failed_logins_are_limited_per_address(void **state)
{
    (void)state;
    http_login_limit *l = http_login_limit_new();
    for (int i = 0; i < HTTP_LOGIN_MAX_FAILURES - 1; i++)
        http_login_limit_failed(l, "192.0.2.1", 1000 + i);
    assert_int_equal(http_login_limit_wait(l, "192.0.2.1", 1010), 0);
    http_login_limit_failed(l, "192.0.2.1", 1010);
    assert_int_equal(http_login_limit_wait(l, "192.0.2.1", 1010), 50);
    assert_int_equal(http_login_limit_wait(l, "192.0.2.2", 1010), 0);
    assert_int_equal(http_login_limit_wait(l, "192.0.2.1", 1059), 1);
    assert_int_equal(http_login_limit_wait(l, "192.0.2.1", 1060), 0);
    for (int i = 0; i < HTTP_LOGIN_MAX_FAILURES; i++)
        http_login_limit_failed(l, "192.0.2.3", 2000);
    assert_true(http_login_limit_wait(l, "192.0.2.3", 2001) > 0);
    http_login_limit_succeeded(l, "192.0.2.3");
    assert_int_equal(http_login_limit_wait(l, "192.0.2.3", 2001), 0);
    char addr[32];
    for (int i = 0; i < 1000; i++) {   /* more addresses than slots: no growth, no crash */
        snprintf(addr, sizeof(addr), "198.51.100.%d", i);
        http_login_limit_failed(l, addr, 3000 + i);
    }
    http_login_limit_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_match_method_and_path),
        cmocka_unit_test(tail_segments_take_the_rest),
        cmocka_unit_test(relay_urls_stay_under_the_peers_api),
        cmocka_unit_test(unknown_paths_are_404),
        cmocka_unit_test(wrong_methods_are_405_with_allow),
        cmocka_unit_test(long_segments_do_not_match),
        cmocka_unit_test(error_codes_map_to_statuses),
        cmocka_unit_test(errors_are_json_objects),
        cmocka_unit_test(conf_defaults_without_a_file),
        cmocka_unit_test(conf_sets_keys),
        cmocka_unit_test(conf_errors_name_file_and_line),
        cmocka_unit_test(tcp_needs_tls_files_and_tokens),
        cmocka_unit_test(bearer_tokens_match_whole),
        cmocka_unit_test(token_files_are_checked),
        cmocka_unit_test(jobs_run_and_end),
        cmocka_unit_test(jobs_keep_the_last_ended_and_every_running),
        cmocka_unit_test(jobs_wait_for_their_end_or_the_timeout),
        cmocka_unit_test(jobs_wait_for_a_step_after_the_one_seen),
        cmocka_unit_test(jobs_cancel_through_their_pipe),
        cmocka_unit_test(jobs_outlive_kxld),
        cmocka_unit_test(query_values),
        cmocka_unit_test(body_members_are_typed),
        cmocka_unit_test(failed_logins_are_limited_per_address),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
