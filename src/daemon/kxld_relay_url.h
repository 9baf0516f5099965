/* kxld_relay_url.h - where the relay to a peer kxld goes (pure): the peer's name looked up in
 * kxld.conf's api_peers, and the rest of the path checked to stay under the peer's /api/v1/. */
#pragma once

#include <json-c/json.h>

/* The URL on peer host (a name of api_peers, "NAME=HOST:PORT" each; NULL-terminated) of
 * https://HOST:PORT/api/v1/REST?QUERY (rest: the path after /api/v1/hosts/NAME/, as the
 * request had it decoded; query: "a=1&b=2" decoded, may be NULL or ""), each segment and value
 * percent-encoded again; caller frees. NULL with kx_err: KXL_ERR_NOT_FOUND for a host that is
 * no peer, KXL_ERR_INVALID for a rest that would leave /api/v1/ (an empty, "." or ".."
 * segment) or go on to another host (hosts/...: no chains of relays). */
char *kxld_relay_url(const char *const *api_peers, const char *host, const char *rest,
                     const char *query);

/* The address of the peer called name in a kxld.conf list of "NAME=ADDRESS" entries
 * (api_peers, relocation_peers), or NULL. */
const char *kxld_peer_address(const char *const *peers, const char *name);
/* Such a list as [{"name": NAME, value_key: ADDRESS}, ...] (GET /api/v1/hosts, /peers). */
json_object *kxld_peers_json(const char *const *peers, const char *value_key);

/* A peer's Location header ("/api/v1/jobs/7") as this host's path to it
 * ("/api/v1/hosts/NAME/jobs/7"), caller frees; NULL for one outside /api/v1/ (dropped). */
char *kxld_relay_location(const char *host, const char *location);
