/* image_opts_json.c - image_opts to JSON and back, all fields as they are (nothing is checked
 * or defaulted again): how image_create hands the options to its child, which execs a program
 * of its own (image_child.c) and so cannot share the caller's memory. A table of the fields. */
#include "image/image_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/json.h"

typedef enum { F_STR, F_U64, F_UINT, F_BOOL, F_FORMAT, F_METHOD } field_kind;

#define F(name, kind) {#name, offsetof(image_opts, name), kind}
static const struct {
    const char *key;
    size_t off;
    field_kind kind;
} fields[] = {
    F(hostname, F_STR), F(dist, F_STR), F(arch, F_STR), F(mirror, F_STR),
    F(size_mib, F_U64), F(swap_mib, F_U64), F(memory_mib, F_U64), F(vcpus, F_UINT),
    F(fs, F_STR), F(full, F_BOOL), F(format, F_FORMAT), F(dir, F_STR), F(lvm, F_STR),
    F(ip, F_STR), F(prefix, F_UINT), F(gateway, F_STR), F(nameserver, F_STR),
    F(dhcp, F_BOOL), F(bridge, F_STR), F(mac, F_STR), F(password, F_STR), F(genpass, F_BOOL),
    F(hash, F_STR), F(ssh_key, F_STR), F(role, F_STR), F(method, F_METHOD), F(source, F_STR),
    F(force, F_BOOL), F(refresh, F_BOOL), F(output, F_STR), F(lib_dir, F_STR),
    F(verbose, F_BOOL),
};
#undef F

static json_object *json_str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

json_object *image_opts_to_json(const image_opts *o)
{
    json_object *j = json_object_new_object();
    for (size_t i = 0; i < KX_ARRAY_SIZE(fields); i++) {
        const void *p = (const char *)o + fields[i].off;
        json_object *v = NULL;
        switch (fields[i].kind) {
        case F_STR: v = json_str_or_null(*(char *const *)p); break;
        case F_U64: v = json_object_new_uint64(*(const uint64_t *)p); break;
        case F_UINT: v = json_object_new_int64(*(const unsigned *)p); break;
        case F_BOOL: v = json_object_new_boolean(*(const bool *)p); break;
        case F_FORMAT: v = json_object_new_int(*(const image_format *)p); break;
        case F_METHOD: v = json_object_new_int(*(const image_method *)p); break;
        }
        json_object_object_add(j, fields[i].key, v);
    }
    json_object_object_add(j, "progress", json_object_new_boolean(o->progress != NULL));
    return j;
}

void image_opts_of_json(json_object *j, image_opts *o)
{
    image_opts_init(o);
    for (size_t i = 0; i < KX_ARRAY_SIZE(fields); i++) {
        void *p = (char *)o + fields[i].off;
        json_object *v = NULL;
        if (!json_object_object_get_ex(j, fields[i].key, &v))
            continue;
        if (fields[i].kind != F_STR && !v)
            continue;
        switch (fields[i].kind) {
        case F_STR:
            free(*(char **)p);
            *(char **)p = v ? kx_strdup(json_object_get_string(v)) : NULL;
            break;
        case F_U64: *(uint64_t *)p = json_object_get_uint64(v); break;
        case F_UINT: *(unsigned *)p = (unsigned)json_object_get_int64(v); break;
        case F_BOOL: *(bool *)p = json_object_get_boolean(v); break;
        case F_FORMAT: *(image_format *)p = (image_format)json_object_get_int(v); break;
        case F_METHOD: *(image_method *)p = (image_method)json_object_get_int(v); break;
        }
    }
}
