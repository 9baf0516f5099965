/* kxld_relay.h - several hosts in one view: GET /api/v1/hosts lists kxld.conf's api_peers, and
 * METHOD /api/v1/hosts/{host}/{path+} passes a request on to that peer's /api/v1/{path} over
 * HTTPS (libcurl), presenting this host's certificate of kxl tls-setup (the peer's
 * tls_client_ca authenticates it) and checking the peer's against the same CA. The caller has
 * been authenticated here first (and brought its CSRF token for a change); the reply comes
 * back as the peer gave it. */
#pragma once

#include "daemon/kxld.h"

int kxld_list_hosts(const kxld_request *rq, json_object **out_r);
int kxld_relay(const kxld_request *rq, kxld_raw_reply *out_r);
/* Once, before any thread relays (libcurl's global state). */
void kxld_relay_init(void);
