/* json.h - json-c conveniences: scope-based freeing and typed getters with defaults. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"

static inline void kx_json_put(json_object *o)
{
    json_object_put(o);
}
DEFINE_AUTOPTR(json_object, kx_json_put)

/* Getters of a member of obj; the default when obj lacks it or it has another type. */
const char *kx_json_str(json_object *obj, const char *key, const char *dflt);
int64_t kx_json_int(json_object *obj, const char *key, int64_t dflt);
bool kx_json_bool(json_object *obj, const char *key, bool dflt);
/* Parses text; NULL with kx_err set when it is not one JSON value. */
json_object *kx_json_parse(const char *text, const char *what);
/* As kx_json_parse, with a tokener the caller keeps (reset first): a connection that parses
 * a line per request need not allocate one each time. */
json_object *kx_json_parse_with(json_tokener *tok, const char *text, const char *what);
/* Serialises compactly; the string lives as long as obj. */
const char *kx_json_text(json_object *obj);
