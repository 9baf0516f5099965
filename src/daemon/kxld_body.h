/* kxld_body.h - reading a route's JSON request body the same way in every route: its members
 * checked by name and type; unknown members, wrong types and missing required members are
 * refused with KXL_ERR_INVALID and one line that names the member. body may be NULL (a
 * request without one) in every function. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* Fails for a member of body that is not in names (NULL-terminated). */
int kxld_body_only(json_object *body, const char *const *names);
/* body.key as a boolean; dflt when absent; an error when it is not a boolean. */
int kxld_body_bool(json_object *body, const char *key, bool dflt, bool *value_r);
/* body.key as a string (owned by body): an error when it is absent or not a string. */
int kxld_body_string(json_object *body, const char *key, const char **value_r);
/* body.key as a whole number; dflt when absent and not required; an error for another type. */
int kxld_body_int(json_object *body, const char *key, bool required, int64_t dflt,
                  int64_t *value_r);
/* body.key as a non-empty string (owned by body); NULL when absent and not required (*value_r
 * NULL, returns 0); an error for another type or "". */
int kxld_body_nonempty(json_object *body, const char *key, bool required, const char **value_r);
/* body.key as an absolute path (kxld's working directory means nothing to a client), as
 * kxld_body_nonempty; exists: it must be a regular file that exists. */
int kxld_body_path(json_object *body, const char *key, bool required, bool exists,
                   const char **value_r);
