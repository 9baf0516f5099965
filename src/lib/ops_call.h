/* ops_call.h - what the operations share: finding the domain and asking its supervisor. */
#pragma once

#include <json-c/json.h>

#include "kxl/ops.h"

/* Sends op's verb with args (taken; may be NULL) to the supervisor of DOM (name or id), within
 * op's timeout; *ret_r (may be NULL; caller puts) gets the answer. */
int op_call(const kxl_paths *p, kxl_op op, const char *dom, json_object *args,
            json_object **ret_r);
/* A new object of string members from key, value pairs ending with NULL; a NULL value is left
 * out. */
json_object *op_args(const char *key, ...);
/* The plugged vifs of cfg with their taps' counters (kxl_vif_list's answer); the vifs move
 * out of cfg. *vifs_r: kxl_vif_infos_free. */
void ops_vifs_take(kxl_domcfg *cfg, kxl_vif_info **vifs_r, size_t *n_r);
