/* http_static.c - mapping the web UI's URL paths to files (http_static.h). A path is checked
 * segment by segment against a small alphabet rather than cleaned up: what is not plainly a
 * file of the bundle is not served. */
#include "daemon/http_static.h"

#include <string.h>

#include "util/buf.h"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".map", "application/json"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

bool http_static_wanted(const char *path)
{
    return !kx_startswith(path, "/api/") && strcmp(path, "/api") != 0 &&
           strcmp(path, "/metrics") != 0;
}

static bool segment_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

bool http_static_file(const char *web_dir, const char *path, kx_buf *file_r,
                      const char **type_r)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    if (path[0] != '/')
        return false;
    for (const char *s = path + 1;;) {
        size_t n = strcspn(s, "/");
        if (!segment_ok(s, n))
            return false;
        if (!s[n])
            break;
        s += n + 1;
    }
    if (!(*type_r = type_of(path)))
        return false;
    kx_buf_clear(file_r);
    kx_buf_printf(file_r, "%s%s", web_dir, path);
    return true;
}
