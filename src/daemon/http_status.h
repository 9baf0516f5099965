/* http_status.h - the one place a library error code becomes an HTTP status, and the JSON
 * error object every failed request gets: {"error": {"code": "not-found", "message": "..."}}. */
#pragma once

#include <json-c/json.h>

#include "kxl/errors.h"

/* The HTTP status of an error code (500 for an unknown one). */
int http_status_of(kxl_errcode code);
/* {"error": {"code": NAME, "message": message}}; caller puts. */
json_object *http_error_json(kxl_errcode code, const char *message);
