/* kxld_body.h - reading a route's JSON request body: its members checked by name and type,
 * each error one line that names the member. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

/* Fails for a member of body (may be NULL) that is not in names (NULL-terminated). */
int kxld_body_only(json_object *body, const char *const *names);
/* body.key as a boolean; dflt when absent; an error when it is not a boolean. */
int kxld_body_bool(json_object *body, const char *key, bool dflt, bool *value_r);
/* body.key as a string (owned by body): an error when it is absent or not a string. */
int kxld_body_string(json_object *body, const char *key, const char **value_r);
