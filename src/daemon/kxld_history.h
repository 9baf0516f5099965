/* kxld_history.h - the last hour of each domain's statistics, for the web UI's graphs: one
 * sample per domain every KXLD_HISTORY_STEP_S seconds in a ring of fixed size, fed from the
 * frames of the stats reader `kxl top` and /metrics use. Pure (no I/O); thread-safe (the
 * sampler writes, the routes read). */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <stddef.h>

#include "kxl/stats.h"

#define KXLD_HISTORY_STEP_S 5
#define KXLD_HISTORY_LEN (3600 / KXLD_HISTORY_STEP_S)   /* an hour */

typedef struct {
    double time;                  /* wall-clock seconds */
    double started;               /* when the domain was made (wall clock): its uptime */
    double cpu_pct;               /* percent of one host CPU since the previous sample */
    uint64_t mem_kib;             /* the guest's memory */
    uint64_t net_rx_bytes, net_tx_bytes;     /* every vif, counted since the domain began */
    uint64_t disk_rd_bytes, disk_wr_bytes;   /* every disk, likewise */
} kxld_sample;

typedef struct kxld_history kxld_history;

/* Rings of capacity samples per domain. Never NULL. */
kxld_history *kxld_history_new(size_t capacity);
/* NULL-safe. */
void kxld_history_free(kxld_history *h);

/* A domain's sample from a frame's row (cpu_pct as kxl_top_rates set it). */
kxld_sample kxld_sample_of(const kxl_stats_frame *f, const kxl_domstats *d);
/* Adds a sample of every domain of f (kxl_top_rates applied) and forgets the domains f does
 * not have; a domain whose id changed (destroyed and made again) starts a new ring. */
void kxld_history_record(kxld_history *h, const kxl_stats_frame *f);
/* The samples of domain, oldest first, in *samples_r (caller frees; NULL when none): their
 * number, or -1 when the history does not know the domain. */
ssize_t kxld_history_get(kxld_history *h, const char *domain, kxld_sample **samples_r);

/* {"time":..., "cpu_pct":..., "mem_kib":..., "net_rx_bytes":..., ...}. Caller puts. */
json_object *kxld_sample_to_json(const kxld_sample *s);
