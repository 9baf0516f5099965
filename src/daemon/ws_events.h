/* ws_events.h - the hub of the domains' events: one thread follows every supervisor's event
 * stream (kxl_host_watch) and adds kxld's own ("appeared", "gone"); the event loop hands each
 * event to the events WebSockets (GET /api/v1/events, ws_events_kind in ws.h). */
#pragma once

#include <libwebsockets.h>

#include "kxl/kxl.h"

typedef struct ev_hub ev_hub;

/* Starts the hub's thread; it wakes ctx's loop (lws_cancel_service) when it has events.
 * paths outlives the hub. NULL with kx_err. */
ev_hub *ev_hub_new(struct lws_context *ctx, const kxl_paths *paths);
/* Queues an event (one JSON object) about domain for the clients and wakes the loop; from any
 * thread. */
void ev_hub_post(ev_hub *h, const char *domain, const char *json);
/* In the event loop: hands the events that came to the clients. NULL-safe. */
void ev_hub_deliver(ev_hub *h);
/* Stops the thread and waits for it (at most one look at run/kxl, ~200 ms). NULL-safe,
 * idempotent; the loop may still run after it. */
void ev_hub_stop(ev_hub *h);
/* Frees the hub, once its clients are closed (the loop's context destroyed). NULL-safe. */
void ev_hub_free(ev_hub *h);
