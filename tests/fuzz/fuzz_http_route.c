/* fuzz_http_route.c - libFuzzer target: kxld's request router (src/daemon/http_route.c) on its
 * real route table (kxld_routes.c and the operations table), and on route patterns of the
 * input's own.
 *
 * Input: a method, a NUL byte, a path, and optionally a NUL byte and a pattern
 * ("/a/{x}/b"). Checked besides crashes and undefined behaviour:
 * - a matched route has the request's method, and its pattern with the {param} values put
 *   back gives the path again; each value is one non-empty segment of at most
 *   HTTP_PARAM_MAX - 1 bytes (a last "{rest+}": the rest of the path, slashes and all),
 *   found again by http_param;
 * - 405 (no route with the method) only when some route has the path, with an Allow header
 *   that does not list the method; 404 only when no route has it. */
#include <string.h>

#include "daemon/http_route.h"
#include "daemon/kxld.h"
#include "daemon/ws.h"
#include "fuzz.h"
#include "util/buf.h"
#include "util/cleanup.h"

#define ROUTE_MAX_INPUT 4096

/* The table's WebSocket routes name their session kinds; the router only hands the pointer
 * on, and the sessions (ws_*.c, with the server around them) are not linked here. */
const ws_kind ws_events_kind = {.name = "events"};
const ws_kind ws_console_kind = {.name = "console"};
const ws_kind ws_vnc_kind = {.name = "vnc"};
const ws_kind ws_peer_events_kind = {.name = "peer events"};
const ws_kind ws_peer_console_kind = {.name = "peer console"};
const ws_kind ws_peer_vnc_kind = {.name = "peer vnc"};

/* pattern with the values of params put in for its {param} segments; caller frees. */
static char *fill_pattern(const char *pattern, const http_params *params)
{
    kx_buf b = KX_BUF_INIT;
    size_t k = 0;
    kx_buf_add(&b, "");
    for (const char *p = pattern; *p;) {
        size_t len = strcspn(p + 1, "/") + 1;   /* "/segment" */
        if (len > 3 && p[1] == '{' && p[len - 1] == '}') {
            FUZZ_CHECK(k < params->n, "pattern '%s': more {params} than values", pattern);
            kx_buf_printf(&b, "/%s", params->p[k++].value);
        } else {
            kx_buf_addn(&b, p, len);
        }
        p += len;
    }
    FUZZ_CHECK(k == params->n, "pattern '%s': %zu values for %zu {params}", pattern, params->n, k);
    return kx_buf_steal(&b);
}

/* Whether pattern ends in a "{rest+}" segment, which takes the rest of the path. */
static bool has_tail(const char *pattern)
{
    const char *last = strrchr(pattern, '/');
    size_t len = last ? strlen(last) : 0;   /* "/{rest+}" */
    return len > 4 && last[1] == '{' && last[len - 2] == '+' && last[len - 1] == '}';
}

static void check_match(const char *pattern, const char *path, const http_params *params)
{
    FUZZ_CHECK(params->n <= HTTP_MAX_PARAMS, "%zu params", params->n);
    for (size_t i = 0; i < params->n; i++) {
        const char *v = params->p[i].value;
        size_t len = strlen(v);
        bool tail = i + 1 == params->n && has_tail(pattern);
        FUZZ_CHECK(len > 0 && len < HTTP_PARAM_MAX && (tail || !strchr(v, '/')),
                   "param value '%s'", v);
        const char *found = http_param(params, params->p[i].name);
        FUZZ_CHECK(found, "param '%s' not found by name", params->p[i].name);
    }
    AUTOFREE char *back = fill_pattern(pattern, params);
    FUZZ_CHECK(strcmp(back, path) == 0, "'%s' matched '%s', which gives back '%s'", path, pattern,
               back);
}

static void route_table(const char *method, const char *path)
{
    size_t n, index = 0;
    http_params params;
    kx_buf allow = KX_BUF_INIT;
    const char *const *specs = kxld_route_specs();
    (void)kxld_routes(&n);
    http_match m = http_route_find(specs, n, method, path, &index, &params, &allow);
    size_t mlen = strlen(method);
    if (m == HTTP_MATCH_OK) {
        FUZZ_CHECK(index < n && strncmp(specs[index], method, mlen) == 0 &&
                   specs[index][mlen] == ' ', "'%s %s' matched '%s'", method, path,
                   index < n ? specs[index] : "?");
        check_match(specs[index] + mlen + 1, path, &params);
    }
    bool has_path = false;
    for (size_t i = 0; i < n; i++) {
        http_params scratch;
        has_path = has_path || http_path_match(strchr(specs[i], ' ') + 1, path, &scratch);
    }
    FUZZ_CHECK(has_path == (m != HTTP_MATCH_NO_PATH), "'%s %s': match %d, has path %d", method,
               path, m, has_path);
    if (m == HTTP_MATCH_NO_METHOD) {
        const char *a = kx_buf_str(&allow);
        FUZZ_CHECK(*a, "405 without an Allow header");
        for (const char *p = a; *p; p += strspn(p, ", ")) {
            size_t len = strcspn(p, ",");
            FUZZ_CHECK(len != mlen || strncmp(p, method, mlen) != 0, "Allow '%s' lists '%s'", a,
                       method);
            p += len;
        }
    }
    kx_buf_dispose(&allow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > ROUTE_MAX_INPUT)
        return 0;
    AUTOFREE char *method = NULL;
    AUTOFREE char *path = NULL;
    AUTOFREE char *pattern = NULL;
    if (!fuzz_next_piece(&data, &size, &method) || !fuzz_next_piece(&data, &size, &path))
        return 0;
    route_table(method, path);
    if (fuzz_next_piece(&data, &size, &pattern)) {
        http_params params;
        if (http_path_match(pattern, path, &params))
            check_match(pattern, path, &params);
    }
    return 0;
}
