/* kxld_body.c - reading a route's JSON request body (kxld_body.h). */
#include "daemon/kxld_body.h"

#include <string.h>
#include <sys/stat.h>

#include "util/err.h"

int kxld_body_only(json_object *body, const char *const *names)
{
    if (!body)
        return 0;
    json_object_object_foreach(body, key, value) {
        (void)value;
        bool known = false;
        for (size_t i = 0; names[i]; i++)
            known = known || strcmp(names[i], key) == 0;
        if (!known) {
            kx_err(KXL_ERR_INVALID, "request body: unknown member '%s'", key);
            return -1;
        }
    }
    return 0;
}

int kxld_body_bool(json_object *body, const char *key, bool dflt, bool *value_r)
{
    json_object *v;
    *value_r = dflt;
    if (!body || !json_object_object_get_ex(body, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        kx_err(KXL_ERR_INVALID, "request body: '%s' must be true or false", key);
        return -1;
    }
    *value_r = json_object_get_boolean(v);
    return 0;
}

int kxld_body_string(json_object *body, const char *key, const char **value_r)
{
    json_object *v;
    if (!body || !json_object_object_get_ex(body, key, &v) ||
        !json_object_is_type(v, json_type_string)) {
        kx_err(KXL_ERR_INVALID, "request body: '%s' (a string) is required", key);
        return -1;
    }
    *value_r = json_object_get_string(v);
    return 0;
}

int kxld_body_int(json_object *body, const char *key, bool required, int64_t dflt,
                  int64_t *value_r)
{
    json_object *v;
    *value_r = dflt;
    if (!body || !json_object_object_get_ex(body, key, &v)) {
        if (required)
            kx_err(KXL_ERR_INVALID, "request body: '%s' (a whole number) is required", key);
        return required ? -1 : 0;
    }
    if (!json_object_is_type(v, json_type_int)) {
        kx_err(KXL_ERR_INVALID, "request body: '%s' must be a whole number", key);
        return -1;
    }
    *value_r = json_object_get_int64(v);
    return 0;
}

int kxld_body_nonempty(json_object *body, const char *key, bool required, const char **value_r)
{
    json_object *v;
    *value_r = NULL;
    if (!body || !json_object_object_get_ex(body, key, &v)) {
        if (required)
            kx_err(KXL_ERR_INVALID, "request body: '%s' (a string) is required", key);
        return required ? -1 : 0;
    }
    if (!json_object_is_type(v, json_type_string) || !json_object_get_string_len(v)) {
        kx_err(KXL_ERR_INVALID, "request body: '%s' must be a non-empty string", key);
        return -1;
    }
    *value_r = json_object_get_string(v);
    return 0;
}

int kxld_body_path(json_object *body, const char *key, bool required, bool exists,
                   const char **value_r)
{
    struct stat st;
    if (kxld_body_nonempty(body, key, required, value_r) < 0)
        return -1;
    const char *path = *value_r;
    if (!path)
        return 0;
    if (path[0] != '/') {
        kx_err(KXL_ERR_INVALID, "request body: '%s' = '%s' is not an absolute path", key, path);
        return -1;
    }
    if (exists && (stat(path, &st) < 0 || !S_ISREG(st.st_mode))) {
        kx_err(KXL_ERR_INVALID, "request body: '%s' = '%s': no such file", key, path);
        return -1;
    }
    return 0;
}
