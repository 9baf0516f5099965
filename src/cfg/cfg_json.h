/* cfg_json.h - a resolved kxl_domcfg to JSON and back (for `-N`, the runtime
 * directory and the API). */
#pragma once

#include <json-c/json.h>

#include "kxl/domcfg.h"

/* A new JSON object describing cfg; caller puts it. */
json_object *cfg_domcfg_to_json(const kxl_domcfg *cfg);
/* Rebuilds a config from cfg_domcfg_to_json's output; NULL with kx_err set. */
kxl_domcfg *cfg_domcfg_from_json(json_object *obj);
/* Replaces the secrets in such an object (the VNC password) with "********", before it is
 * shown: list -l, kxld's answers, create -n. */
void cfg_json_hide_secrets(json_object *o);
