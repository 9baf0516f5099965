/* http_status.c - the one table that maps a library error code to an HTTP status (the CLI's
 * counterpart is src/cli/exit_status.c), and the JSON error object. */
#include "daemon/http_status.h"

#include <stddef.h>

int http_status_of(kxl_errcode code)
{
    static const int status[KXL_ERR__COUNT] = {
        [KXL_ERR_NONE] = 200,
        [KXL_ERR_INTERNAL] = 500,   /* kxl itself, or a system call, failed */
        [KXL_ERR_CONFIG] = 400,     /* the config file the request named is wrong */
        [KXL_ERR_INVALID] = 400,
        [KXL_ERR_NOT_FOUND] = 404,
        [KXL_ERR_EXISTS] = 409,
        [KXL_ERR_STATE] = 409,      /* not in the domain's current state */
        [KXL_ERR_BUSY] = 409,       /* another operation holds it: try again */
        [KXL_ERR_PERMISSION] = 403,
        [KXL_ERR_HOST] = 503,       /* the host lacks a program, a device, space */
        [KXL_ERR_QEMU] = 502,       /* the upstream (QEMU) refused or died */
    };
    return (unsigned)code < KXL_ERR__COUNT ? status[code] : 500;
}

json_object *http_error_json(kxl_errcode code, const char *message)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(kxl_errcode_name(code)));
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", e);
    return o;
}
