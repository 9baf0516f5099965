/* json.c - json-c conveniences. */
#include "json.h"

#include "err.h"

const char *kx_json_str(json_object *obj, const char *key, const char *dflt)
{
    json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return dflt;
    return json_object_get_string(v);
}

int64_t kx_json_int(json_object *obj, const char *key, int64_t dflt)
{
    json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return dflt;
    return json_object_get_int64(v);
}

bool kx_json_bool(json_object *obj, const char *key, bool dflt)
{
    json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_boolean))
        return dflt;
    return json_object_get_boolean(v);
}

json_object *kx_json_parse(const char *text, const char *what)
{
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        kx_err(KXL_ERR_HOST, "%s: out of memory", what);
        return NULL;
    }
    json_object *o = kx_json_parse_with(tok, text, what);
    json_tokener_free(tok);
    return o;
}

json_object *kx_json_parse_with(json_tokener *tok, const char *text, const char *what)
{
    /* strings that are not UTF-8 would go out again as JSON that is not JSON (domain.json,
     * the API): refused on the way in */
    json_tokener_reset(tok);
    json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, text, -1);   /* -1: to the NUL, included */
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr != json_tokener_success && o) {
        json_object_put(o);
        o = NULL;
    }
    if (!o && jerr != json_tokener_success) {
        kx_err(KXL_ERR_INVALID, "%s: not valid JSON (%s)", what, json_tokener_error_desc(jerr));
        return NULL;
    }
    if (!o)
        kx_err(KXL_ERR_INVALID, "%s: empty JSON value", what);
    return o;
}

const char *kx_json_text(json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
}
