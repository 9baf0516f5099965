/* http_route.c - matching a request's method and path against route specs ("METHOD
 * /api/v1/domains/{name}"); pure: no I/O, no allocation but the Allow header's buffer. */
#include "daemon/http_route.h"

#include <stdio.h>
#include <string.h>

/* Length of the segment at s (up to '/' or the end). */
static size_t segment_len(const char *s)
{
    return strcspn(s, "/");
}

bool http_path_match(const char *pattern, const char *path, http_params *params_r)
{
    http_params scratch;
    http_params *pr = params_r ? params_r : &scratch;
    pr->n = 0;
    while (*pattern == '/' && *path == '/') {
        pattern++;
        path++;
        size_t pl = segment_len(pattern), vl = segment_len(path);
        /* "{rest+}", the pattern's last segment: the rest of the path, slashes and all */
        bool tail = pl > 3 && pattern[pl] == '\0' && pattern[pl - 2] == '+';
        if (tail)
            vl = strlen(path);
        if (pl > 2 && pattern[0] == '{' && pattern[pl - 1] == '}') {
            if (vl == 0 || vl >= HTTP_PARAM_MAX || pr->n == HTTP_MAX_PARAMS)
                return false;
            snprintf(pr->p[pr->n].name, sizeof(pr->p[pr->n].name), "%.*s",
                     (int)(pl - (tail ? 3 : 2)), pattern + 1);
            memcpy(pr->p[pr->n].value, path, vl);
            pr->p[pr->n].value[vl] = '\0';
            pr->n++;
        } else if (pl != vl || strncmp(pattern, path, pl) != 0) {
            return false;
        }
        pattern += pl;
        path += vl;
    }
    return *pattern == '\0' && *path == '\0';
}

http_match http_route_find(const char *const *specs, size_t n, const char *method,
                           const char *path, size_t *index_r, http_params *params_r,
                           kx_buf *allow_r)
{
    bool path_seen = false;
    size_t mlen = strlen(method);
    for (size_t i = 0; i < n; i++) {
        const char *sp = strchr(specs[i], ' ');
        if (!sp || !http_path_match(sp + 1, path, params_r))
            continue;
        if ((size_t)(sp - specs[i]) == mlen && strncmp(specs[i], method, mlen) == 0) {
            *index_r = i;
            return HTTP_MATCH_OK;
        }
        if (allow_r)
            kx_buf_printf(allow_r, "%s%.*s", path_seen ? ", " : "", (int)(sp - specs[i]),
                          specs[i]);
        path_seen = true;
    }
    if (params_r)
        params_r->n = 0;
    return path_seen ? HTTP_MATCH_NO_METHOD : HTTP_MATCH_NO_PATH;
}

const char *http_query_value(const char *query, const char *name, char *buf, size_t len)
{
    size_t nl = strlen(name);
    for (const char *s = query; s && *s; s = strchr(s, '&') ? strchr(s, '&') + 1 : NULL) {
        if (strncmp(s, name, nl) != 0 || s[nl] != '=')
            continue;
        const char *v = s + nl + 1;
        snprintf(buf, len, "%.*s", (int)strcspn(v, "&"), v);
        return buf;
    }
    return NULL;
}

const char *http_param(const http_params *params, const char *name)
{
    for (size_t i = 0; i < params->n; i++)
        if (strcmp(params->p[i].name, name) == 0)
            return params->p[i].value;
    return NULL;
}
