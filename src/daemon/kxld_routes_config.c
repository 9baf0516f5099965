/* kxld_routes_config.c - the config files of etc/kxl/ over the API: read one, write one (only
 * a text the checker of `kxl create -n` accepts; the old file stays otherwise), and check a
 * text without writing it, with the line of its error for an editor to point at. Each parses
 * the request into one call of include/kxl/configs.h. */
#include "daemon/kxld_routes_config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/kxld_body.h"
#include "kxl/configs.h"
#include "util/cleanup.h"
#include "util/err.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

static const char *file_param(const kxld_request *rq)
{
    return http_param(rq->params, "file");
}

/* {"file": FILE, "config_file": PATH}: what every reply says of the file. */
static json_object *file_json(const char *file, const char *path)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "file", json_object_new_string(file));
    json_object_object_add(o, "config_file", json_object_new_string(path));
    return o;
}

int kxld_get_config(const kxld_request *rq, json_object **out_r)
{
    size_t len;
    AUTOFREE char *path = kxl_config_path(rq->paths, file_param(rq));
    AUTOFREE char *text = path ? kxl_config_read(rq->paths, file_param(rq), &len) : NULL;
    if (!text)
        return -1;
    *out_r = file_json(file_param(rq), path);
    json_object_object_add(*out_r, "text", json_object_new_string_len(text, (int)len));
    return 200;
}

/* The body's "text" (its length into *len_r), after checking its members are among names. */
static const char *body_text(json_object *body, const char *const *names, size_t *len_r)
{
    const char *text;
    if (kxld_body_only(body, names) < 0 || kxld_body_string(body, "text", &text) < 0)
        return NULL;
    json_object *v;
    json_object_object_get_ex(body, "text", &v);
    *len_r = (size_t)json_object_get_string_len(v);
    return text;
}

/* {"text": TEXT, "replace": BOOL (default true)}: 201 for a new file, 200 for a replaced one. */
int kxld_put_config(const kxld_request *rq, json_object **out_r)
{
    static const char *const members[] = {"text", "replace", NULL};
    size_t len;
    bool replace;
    const char *text = body_text(rq->body, members, &len);
    AUTOFREE char *path = kxl_config_path(rq->paths, file_param(rq));
    if (!text || !path || kxld_body_bool(rq->body, "replace", true, &replace) < 0)
        return -1;
    bool existed = access(path, F_OK) == 0;
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (kxl_config_check(path, text, len, &cfg) < 0 ||
        kxl_config_write(rq->paths, file_param(rq), text, len, replace) < 0)
        return -1;
    *out_r = file_json(file_param(rq), path);
    json_object_object_add(*out_r, "name", json_object_new_string(cfg->name));
    return existed ? 200 : 201;
}

/* The line of an error "SOURCE:LINE: ..." about source; 0 when it names none. */
static long error_line(const char *msg, const char *source)
{
    size_t n = strlen(source);
    if (strncmp(msg, source, n) != 0 || msg[n] != ':')
        return 0;
    char *end;
    long line = strtol(msg + n + 1, &end, 10);
    return end != msg + n + 1 && *end == ':' && line > 0 ? line : 0;
}

/* {"text": TEXT}: {"valid": true, "name": NAME} or {"valid": false, "message": ..., "line": N}
 * (line 0: the error is not about one line). A text the checker refuses is a successful
 * answer; a bad request is an error. */
int kxld_validate_config(const kxld_request *rq, json_object **out_r)
{
    static const char *const members[] = {"text", NULL};
    size_t len;
    const char *text = body_text(rq->body, members, &len);
    AUTOFREE char *path = kxl_config_path(rq->paths, file_param(rq));
    if (!text || !path)
        return -1;
    AUTOPTR(kxl_domcfg) cfg = NULL;
    *out_r = file_json(file_param(rq), path);
    kx_err_clear();
    bool valid = kxl_config_check(path, text, len, &cfg) == 0;
    json_object_object_add(*out_r, "valid", json_object_new_boolean(valid));
    if (valid) {
        json_object_object_add(*out_r, "name", json_object_new_string(cfg->name));
    } else {
        json_object_object_add(*out_r, "message", json_object_new_string(kx_err_msg()));
        json_object_object_add(*out_r, "line",
                               json_object_new_int64(error_line(kx_err_msg(), path)));
    }
    return 200;
}
