/* ops_call.c - an operation's trip to a domain's supervisor: look the domain up (name or id),
 * then send the operation's verb from the table. */
#include "lib/ops_call.h"

#include <stdarg.h>

#include "lib/control.h"

int op_call(const kxl_paths *p, kxl_op op, const char *dom, json_object *args,
            json_object **ret_r)
{
    const kxl_op_desc *d = kxl_op_describe(op);
    kxl_dominfo info;
    if (kxl_domain_lookup(p, dom, &info) < 0) {
        json_object_put(args);
        return -1;
    }
    return control_call(p, info.name, d->verb, args, ret_r, d->timeout_ms);
}

json_object *op_args(const char *key, ...)
{
    json_object *args = json_object_new_object();
    va_list ap;
    va_start(ap, key);
    for (const char *k = key; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (v)
            json_object_object_add(args, k, json_object_new_string(v));
    }
    va_end(ap);
    return args;
}
