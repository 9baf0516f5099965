/* stats_conns.h - connections to the domains' supervisors that top keeps from one frame to
 * the next (stats_conns.c). */
#pragma once

#include <json-c/json.h>

#include "lib/list.h"

typedef struct stats_conns stats_conns;

stats_conns *stats_conns_new(void);
/* Closes every connection; NULL-safe. */
void stats_conns_free(stats_conns *c);
/* Sends the request verb to the supervisor of e (over the connection kept for it, a new one
 * when there is none or it failed) and waits timeout_ms for *ret_r (caller puts). 0, or -1
 * with kx_err: the connection is then closed, so that a late reply cannot be taken for the
 * next one. */
int stats_conns_ask(stats_conns *c, const kxl_paths *p, const list_entry *e, const char *verb,
                    int timeout_ms, json_object **ret_r);
/* Closes the connections not asked through since the last call: their domains are gone. */
void stats_conns_sweep(stats_conns *c);
