/* stats_watch.h - what a reader of frames (kxl top, kxld's metrics) keeps of each domain from
 * one frame to the next, so that a frame costs a domain a few system calls (stats_watch.c). */
#pragma once

#include <json-c/json.h>

#include "kxl/stats.h"
#include "lib/list.h"

typedef struct stats_watch stats_watch;

stats_watch *stats_watch_new(void);
/* Closes every descriptor kept; NULL-safe. */
void stats_watch_free(stats_watch *w);

/* The live domains, as list_entries(p, false, ...) finds them (sorted by domid; *entries_r:
 * free()). A domain whose status file is the one read last frame and whose processes still
 * live is not read again: only its /proc descriptors are. Domains gone are forgotten. */
int stats_watch_list(stats_watch *w, const kxl_paths *p, list_entry **entries_r, size_t *n_r);

/* QEMU's utime+stime (clock ticks) and resident pages for e, from the descriptor kept:
 * false when it cannot be read (QEMU gone). */
bool stats_watch_qemu(stats_watch *w, const list_entry *e, unsigned long long *ticks_r,
                      unsigned long long *rss_pages_r);
/* The vCPUs of e (as vcpus_read, without their affinity), read through the descriptors
 * kept for its threads. */
void stats_watch_vcpus(stats_watch *w, const list_entry *e, kxl_vcpu_info **v, size_t *n);

/* Sends the request verb to e's supervisor over the connection kept for it (a new one when
 * none); the reply is taken by stats_watch_reply. -1 with kx_err when it cannot be sent. */
int stats_watch_ask(stats_watch *w, const kxl_paths *p, const list_entry *e, const char *verb);
/* The reply to the request sent for e, waiting at most timeout_ms: 0 with *ret_r (caller
 * puts), or -1 with kx_err, the connection then closed so that a late reply cannot be taken
 * for the next request. */
int stats_watch_reply(stats_watch *w, const list_entry *e, int timeout_ms, json_object **ret_r);
