/* network_json.c - the host's named networks as JSON (kxld's GET /api/v1/networks): the same
 * definitions and state `kxl network-list` prints as a table. */
#include "lib/network.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static void add_str(json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

json_object *network_to_json(const kxl_paths *p, const kxl_network *n)
{
    json_object *o = json_object_new_object();
    add_str(o, "name", n->name);
    add_str(o, "type", kxl_net_type_to_string(n->type));
    add_str(o, "bridge", n->bridge);
    add_str(o, "uplink", n->uplink);
    add_str(o, "address", n->address);
    add_str(o, "gateway", n->gateway);
    add_str(o, "dhcp_range", n->dhcp_range);
    json_object_object_add(o, "active", json_object_new_boolean(network_is_started(p, n->name)));
    return o;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

json_object *network_list_json(const kxl_paths *p)
{
    kx_strv names = KX_STRV_INIT;
    json_object *out = json_object_new_array();
    network_list(p, &names);
    if (names.n)
        qsort(names.v, names.n, sizeof(*names.v), by_name);
    for (size_t i = 0; i < names.n; i++) {
        AUTOPTR(kxl_network) n = network_find(p, names.v[i]);
        json_object *o = n ? network_to_json(p, n) : json_object_new_object();
        if (!n) {   /* a definition that does not read: named, with why (as network-list) */
            add_str(o, "name", names.v[i]);
            add_str(o, "error", kx_err_msg());
        }
        json_object_array_add(out, o);
    }
    kx_strv_dispose(&names);
    return out;
}
