/* kxld_routes_migrate.h - POST /api/v1/domains/{name}/migrate (kxl migrate --relocation over
 * the API, a job). Handlers of kxld's route table (kxld.h). */
#pragma once

#include "daemon/kxld.h"

/* The job route's check: the body, and the domain exists. */
int kxld_migrate_check(const kxld_request *rq);
/* GET /api/v1/peers: kxld.conf's relocation_peers, [{"name", "relocation"}]. */
int kxld_list_peers(const kxld_request *rq, json_object **out_r);
/* Moves the domain to the body's host (204); QEMU's progress into the job. */
int kxld_migrate_domain(const kxld_request *rq, json_object **out_r);
