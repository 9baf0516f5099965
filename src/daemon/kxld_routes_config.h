/* kxld_routes_config.h - the routes of the config files in etc/kxl/ (the web UI's editor and
 * create form): GET and PUT /api/v1/configs/{file}, POST /api/v1/configs/{file}/validate.
 * Handlers of kxld's route table (kxld.h). */
#pragma once

#include "daemon/kxld.h"

int kxld_get_config(const kxld_request *rq, json_object **out_r);
int kxld_put_config(const kxld_request *rq, json_object **out_r);
int kxld_validate_config(const kxld_request *rq, json_object **out_r);
