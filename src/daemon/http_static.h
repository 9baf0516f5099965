/* http_static.h - the web UI's files (index.html and the bundle) as kxld serves them: which
 * paths are files rather than API routes, the file a path names under the web directory (no
 * way out of it), its content type, and the headers every page gets. Pure. */
#pragma once

#include <stdbool.h>

#include "util/buf.h"

/* The page's policy: scripts and everything else only from kxld itself, no inline script, no
 * framing. Inline styles are allowed: the terminal and the graphs set theirs at run time. */
#define HTTP_STATIC_CSP                                                                          \
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                \
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "             \
    "form-action 'self'; frame-ancestors 'none'"

/* Whether a GET of path is for the web UI's files: every path but /api/... and /metrics. */
bool http_static_wanted(const char *path);

/* The file path names under web_dir ("/" and "/index.html" alike) in *file_r, and its
 * content type; false (404) for a path that is not a plain file name chain (segments of
 * letters, digits, '-', '_' and '.', none starting with '.'; so no "..", no hidden file) or
 * whose extension has no known type. */
bool http_static_file(const char *web_dir, const char *path, kx_buf *file_r,
                      const char **type_r);
