/* http_route.h - matching a request's method and path against route specs ("METHOD
 * /api/v1/domains/{name}/pause"): pure, so the unit tests can walk it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX 256   /* longest value of a {param} path segment, with its NUL */

/* The {param} segments of a matched path, in their order. */
typedef struct {
    size_t n;
    struct {
        char name[32];
        char value[HTTP_PARAM_MAX];
    } p[HTTP_MAX_PARAMS];
} http_params;

typedef enum {
    HTTP_MATCH_OK,          /* *index_r is the route */
    HTTP_MATCH_NO_PATH,     /* no route has this path: 404 */
    HTTP_MATCH_NO_METHOD,   /* some route has the path, none the method: 405 */
} http_match;

/* Whether path matches the pattern's path ("/a/{x}/b": {x} is one non-empty segment of at most
 * HTTP_PARAM_MAX - 1 characters; "/a/{x+}", only as the last segment: the rest of the path,
 * slashes and all, the parameter named "x"); fills *params_r (may be NULL). A trailing slash
 * does not match {x}. */
bool http_path_match(const char *pattern, const char *path, http_params *params_r);

/* Finds the route among specs[0..n) ("METHOD PATH-PATTERN") for method and path. With
 * HTTP_MATCH_NO_METHOD, allow_r (may be NULL) gets the methods the path has, as an Allow
 * header's value ("GET, DELETE"). */
http_match http_route_find(const char *const *specs, size_t n, const char *method,
                           const char *path, size_t *index_r, http_params *params_r,
                           kx_buf *allow_r);

/* The value of param name, or NULL. */
const char *http_param(const http_params *params, const char *name);

/* The value of name in query ("a=1&b=2", as libwebsockets decoded it; NULL-safe), copied to
 * buf (truncated to len - 1 bytes); NULL when the query does not have it. */
const char *http_query_value(const char *query, const char *name, char *buf, size_t len);
