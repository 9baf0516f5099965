/* kxld_routes_image.h - POST /api/v1/images (kxl create-image over the API, a job). Handlers
 * of kxld's route table (kxld.h). */
#pragma once

#include "daemon/kxld.h"

/* The job route's check: the body's options, as kxl create-image checks them. */
int kxld_create_image_check(const kxld_request *rq);
/* Creates the images and the config (201 with what it made); progress into the job. */
int kxld_create_image(const kxld_request *rq, json_object **out_r);
