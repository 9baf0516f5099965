/* kxld_sampler.h - the thread that samples every domain each KXLD_HISTORY_STEP_S seconds
 * (the stats reader of `kxl top` and /metrics) into the history, and tells the events
 * WebSocket a "stats" event per domain and sample:
 *
 *   {"event": "stats", "domain": NAME, "time": SECONDS, "data": SAMPLE}
 *
 * with SAMPLE as kxld_sample_to_json writes it. */
#pragma once

#include "daemon/kxld_history.h"
#include "daemon/ws_events.h"

typedef struct kxld_sampler kxld_sampler;

/* Starts sampling into h (and events, when not NULL); p, h and events outlive it. NULL with
 * kx_err when the thread cannot start. */
kxld_sampler *kxld_sampler_new(const kxl_paths *p, kxld_history *h, ev_hub *events);
/* Stops the thread (at once, between samples) and frees it. NULL-safe. */
void kxld_sampler_free(kxld_sampler *s);
