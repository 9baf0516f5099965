/* stats.h - what `kxl top` and `kxl vcpu-list` show: per-domain CPU, memory, vif and disk
 * counters read in one pass (a frame), the vCPUs of domains, and the pure code that turns
 * frames into xentop's text or JSON. Readers return 0 or -1 with kxl_last_error(); the
 * formatters do no I/O. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "kxl/kxl.h"

/* ---- vCPUs ---- */

/* One vCPU as xl vcpu-list shows it, from /proc of its QEMU thread. */
typedef struct {
    char name[KXL_NAME_MAX + 1];   /* the domain's */
    unsigned domid;
    unsigned vcpu;
    bool online;                   /* its thread exists (false: a paused/stopped QEMU's gap) */
    int cpu;                       /* the host CPU it last ran on */
    bool running;                  /* on a CPU right now */
    bool blocked;                  /* sleeping */
    double seconds;                /* CPU time of its thread */
    pid_t tid;
    kxl_cpuset affinity;           /* where it may run (sched_getaffinity) */
} kxl_vcpu_info;

/* The vCPUs of DOM (name or id), or of every domain when dom is NULL, ordered by domain id and
 * vCPU. *vcpus_r: free(). */
int kxl_vcpu_list(const kxl_paths *p, const char *dom, kxl_vcpu_info **vcpus_r, size_t *n_r);
/* Pins vCPU vcpu ("all" or a number) of DOM to the host CPUs cpus ("all", "3", "0-3,^1"); kept
 * when QEMU restarts and shown in list -l as the config's cpus. A vCPU or CPU that does not
 * exist is refused and nothing changes. */
int kxl_vcpu_pin(const kxl_paths *p, const char *dom, const char *vcpu, const char *cpus);
/* xl's header line of vcpu-list (no newline). */
const char *kxl_vcpu_list_header(void);
/* The line of v (no newline; caller frees): affinity "all" when it holds every one of the
 * host_cpus. Pure. */
char *kxl_vcpu_line(const kxl_vcpu_info *v, unsigned host_cpus);

/* xl uptime: the header of the long form, and one domain's line without its newline: the
 * long form ("%-33s %4u" and days, H:MM:SS), or with brief_now (the local time of the
 * listing) the short form of -s. Caller frees. */
const char *kxl_uptime_header(void);
char *kxl_uptime_line(const char *name, unsigned domid, unsigned long secs,
                      const struct tm *brief_now);
/* "all" or the range list of set (caller frees). Pure. */
char *kxl_cpuset_describe(const kxl_cpuset *set, unsigned host_cpus);
/* A vCPU as kxld's API shows it: {vcpu, online, cpu (null offline), state: running | blocked
 * | runnable | paused, seconds, affinity ("all" or a range list; null offline)}, as vcpu-list's
 * columns. Caller puts. Pure. */
json_object *kxl_vcpu_to_json(const kxl_vcpu_info *v, unsigned host_cpus);

/* ---- a frame of statistics ---- */

typedef struct {
    char ifname[16];
    uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;   /* from the guest's side */
} kxl_net_stats;

typedef struct {
    char vdev[16];
    uint64_t rd_ops, wr_ops, rd_sectors, wr_sectors;       /* 512-byte sectors */
    uint64_t oo;   /* QEMU has no "out of requests": its failed requests stand in */
    uint64_t rd_bytes, wr_bytes;                           /* exact, for /metrics */
} kxl_vbd_stats;

typedef struct {
    kxl_dominfo info;             /* as list sees it; info.cpu_seconds: the vCPU threads */
    double qemu_cpu_seconds;      /* every thread of QEMU: what the host pays */
    double cpu_pct;               /* since the previous frame (kxl_top_rates); 0 in the first */
    uint64_t mem_kib;             /* what the guest has: the balloon's, else the config's */
    uint64_t maxmem_kib;
    uint64_t rss_kib;             /* QEMU's resident memory */
    kxl_vcpu_info *vcpus;
    size_t n_vcpus;
    kxl_net_stats *nets;
    size_t n_nets;
    kxl_vbd_stats *vbds;
    size_t n_vbds;
} kxl_domstats;

typedef struct {
    double wall;                  /* time of day of the frame */
    double mono;                  /* CLOCK_MONOTONIC seconds: rates are per this */
    uint64_t mem_total_kib, mem_free_kib;
    unsigned cpus;
    unsigned mhz;                 /* 0: not known */
    kxl_domstats *doms;
    size_t n_doms;
} kxl_stats_frame;

/* Reads frames one after another, keeping a connection to each domain's supervisor between
 * them. Uses p until freed. */
typedef struct kxl_stats_reader kxl_stats_reader;
kxl_stats_reader *kxl_stats_reader_new(const kxl_paths *p);
/* NULL-safe. */
void kxl_stats_reader_free(kxl_stats_reader *r);
/* Reads every domain: /proc and the status files, one control request to each domain's
 * supervisor (its disks' counters, its balloon, its vifs), the taps' counters. Domains that go
 * away meanwhile are left out. *f_r: kxl_stats_frame_dispose. */
int kxl_stats_read(kxl_stats_reader *r, kxl_stats_frame *f_r);
void kxl_stats_frame_dispose(kxl_stats_frame *f);

/* ---- xentop (pure) ---- */

/* Percent of one CPU used between two readings of a CPU-seconds counter; 0 when time did not
 * move or the counter went back (a fresh QEMU). */
double kxl_cpu_percent(double cpu_before, double cpu_now, double t_before, double t_now);
/* Fills each domain's cpu_pct from the same domain (name, id and QEMU) in prev (NULL: first
 * frame, all 0). */
void kxl_top_rates(kxl_stats_frame *now, const kxl_stats_frame *prev);

/* xentop's columns, in its order: what s/S cycle through. */
typedef enum {
    KXL_TOP_NAME, KXL_TOP_STATE, KXL_TOP_CPU, KXL_TOP_CPU_PCT, KXL_TOP_MEM, KXL_TOP_MEM_PCT,
    KXL_TOP_MAXMEM, KXL_TOP_MAXMEM_PCT, KXL_TOP_VCPUS, KXL_TOP_NETS, KXL_TOP_NETTX,
    KXL_TOP_NETRX, KXL_TOP_VBDS, KXL_TOP_VBD_OO, KXL_TOP_VBD_RD, KXL_TOP_VBD_WR,
    KXL_TOP_VBD_RSECT, KXL_TOP_VBD_WSECT, KXL_TOP_SSID, KXL_TOP__COUNT
} kxl_top_field;

typedef struct {
    kxl_top_field sort;       /* the column domains are ordered by (xentop: NAME) */
    bool networks;            /* n: a line per vif under its domain */
    bool vbds;                /* x: a line per disk */
    bool vcpus;               /* v: the vCPUs' seconds */
    bool repeat_header;       /* r: the column header before each domain */
    bool full_name;           /* -f: names are not cut to 10 characters */
} kxl_top_view;

/* The column's header ("CPU(%)"). */
const char *kxl_top_field_name(kxl_top_field f);
/* Orders the frame's domains by view->sort (numbers descending, names ascending, ties by
 * domain id). */
void kxl_top_sort(kxl_stats_frame *f, kxl_top_field sort);
/* The three summary lines (time, domain counts, host memory and CPUs), newline-ended. */
char *kxl_top_summary(const kxl_stats_frame *f);
/* The column header line (no newline); *sort_at_r, *sort_len_r (may be NULL) where the sorted
 * column's name is, for highlighting. */
char *kxl_top_header(const kxl_top_view *v, size_t *sort_at_r, size_t *sort_len_r);
/* The lines of the frame's domains (each newline-ended; with the view's extra lines). */
char *kxl_top_rows(const kxl_stats_frame *f, const kxl_top_view *v);
/* A frame as one JSON object: time, host {mem_total_kib, mem_free_kib, cpus, mhz}, domains
 * [list --json's row + cpu_seconds, cpu_pct, qemu_cpu_seconds, mem_kib, maxmem_kib, rss_kib,
 * nets, vbds, vcpu_list]. Caller puts. */
json_object *kxl_top_frame_json(const kxl_stats_frame *f);

/* ---- Prometheus (pure) ---- */

/* A frame as Prometheus text exposition format 0.0.4 (kxld's GET /metrics): kxl_domains by
 * state, then per domain (label domain) CPU seconds, memory bytes, vCPUs, its state (one
 * sample per state, 1 for the domain's and 0 for the others), per vif (labels domain, vif) and
 * per disk (labels domain, disk) the counters. Caller frees. */
char *kxl_metrics_text(const kxl_stats_frame *f);
