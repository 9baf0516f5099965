/* stats.c - one frame of `kxl top`: the host's memory and CPUs, and for each domain what list
 * reads (status file, /proc), its vCPU threads, QEMU's own CPU time and resident memory, and
 * one control request to its supervisor for what only it knows (the disks' counters from
 * QEMU, the balloon, the vifs), whose taps' counters come from netlink. What is kept between
 * frames to make them cheap is in stats_watch.c. Reading changes nothing: a domain whose
 * supervisor is gone is shown from /proc alone, not adopted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kxl/ops.h"
#include "kxl/stats.h"
#include "lib/list.h"
#include "lib/stats_watch.h"
#include "lib/status.h"
#include "lib/vif.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

/* "Key:   123 kB" of /proc/meminfo. */
static uint64_t meminfo_kib(const char *text, const char *key)
{
    const char *at = strstr(text, key);
    return at ? strtoull(at + strlen(key), NULL, 10) : 0;
}

struct kxl_stats_reader {
    const kxl_paths *p;
    stats_watch *watch;
    unsigned cpus, mhz;   /* the host's, read with the first frame */
};

/* Free is what the kernel could give without swapping (MemAvailable): page cache is not
 * "used" the way a guest's memory is. The CPUs and their clock are read once: a frame a
 * second would otherwise read all of /proc/cpuinfo for a figure that does not move. */
static void read_host(kxl_stats_reader *r, kxl_stats_frame *f)
{
    AUTOFREE char *mem = kx_read_file("/proc/meminfo", NULL);
    if (mem) {
        f->mem_total_kib = meminfo_kib(mem, "MemTotal:");
        f->mem_free_kib = meminfo_kib(mem, "MemAvailable:");
    }
    if (!r->cpus) {
        r->cpus = kxl_host_cpus();
        AUTOFREE char *cpu = kx_read_file("/proc/cpuinfo", NULL);
        const char *mhz = cpu ? strstr(cpu, "cpu MHz") : NULL;
        if (mhz && (mhz = strchr(mhz, ':')))
            r->mhz = (unsigned)(strtod(mhz + 1, NULL) + 0.5);
    }
    f->cpus = r->cpus;
    f->mhz = r->mhz;
    kx_err_clear();
}

/* QEMU's CPU time (every thread, the exited ones too) and resident memory. */
static void read_qemu(kxl_stats_reader *r, const list_entry *e, kxl_domstats *ds)
{
    unsigned long long ticks, rss;
    if (!stats_watch_qemu(r->watch, e, &ticks, &rss))
        return;
    ds->qemu_cpu_seconds = (double)ticks / (double)sysconf(_SC_CLK_TCK);
    ds->rss_kib = rss * (unsigned long long)sysconf(_SC_PAGESIZE) / 1024;
}

/* The array member key of o, or NULL (a supervisor of an older kxl). */
static json_object *array_member(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array)
               ? v
               : NULL;
}

static void add_nets(kxl_domstats *ds, json_object *vifs)
{
    size_t n = vifs ? json_object_array_length(vifs) : 0;
    ds->nets = kx_malloc0((n + 1) * sizeof(*ds->nets));
    for (size_t i = 0; i < n; i++) {
        kxl_net_stats *ns = &ds->nets[ds->n_nets++];
        snprintf(ns->ifname, sizeof(ns->ifname), "%s",
                 json_object_get_string(json_object_array_get_idx(vifs, i)));
        vif_counters c;
        vif_read_counters(ns->ifname, &c);
        ns->rx_bytes = c.rx_bytes;
        ns->rx_packets = c.rx_packets;
        ns->tx_bytes = c.tx_bytes;
        ns->tx_packets = c.tx_packets;
    }
}

static void add_vbds(kxl_domstats *ds, json_object *disks)
{
    size_t n = disks ? json_object_array_length(disks) : 0;
    ds->vbds = kx_malloc0((n + 1) * sizeof(*ds->vbds));
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(disks, i);
        kxl_vbd_stats *vs = &ds->vbds[ds->n_vbds++];
        snprintf(vs->vdev, sizeof(vs->vdev), "%s", kx_json_str(d, "vdev", ""));
        vs->rd_ops = (uint64_t)kx_json_int(d, "rd_operations", 0);
        vs->wr_ops = (uint64_t)kx_json_int(d, "wr_operations", 0);
        vs->rd_bytes = (uint64_t)kx_json_int(d, "rd_bytes", 0);
        vs->wr_bytes = (uint64_t)kx_json_int(d, "wr_bytes", 0);
        vs->rd_sectors = vs->rd_bytes / 512;
        vs->wr_sectors = vs->wr_bytes / 512;
        vs->oo = (uint64_t)kx_json_int(d, "failed_operations", 0);
    }
}

kxl_stats_reader *kxl_stats_reader_new(const kxl_paths *p)
{
    kxl_stats_reader *r = kx_malloc0(sizeof(*r));
    r->p = p;
    r->watch = stats_watch_new();
    return r;
}

void kxl_stats_reader_free(kxl_stats_reader *r)
{
    if (r)
        stats_watch_free(r->watch);
    free(r);
}

/* What the supervisor knows, asked of every domain before any answer is read. A supervisor
 * that does not answer in time leaves the frame without its domain's disks and vifs rather
 * than stopping it. */
static bool ask_supervisor(kxl_stats_reader *r, const list_entry *e)
{
    if (stats_watch_ask(r->watch, r->p, e, kxl_op_describe(KXL_OP_STATS)->verb) == 0)
        return true;
    kx_err_clear();
    return false;
}

static void take_answer(kxl_stats_reader *r, const list_entry *e, kxl_domstats *ds)
{
    AUTOPTR(json_object) ret = NULL;
    if (stats_watch_reply(r->watch, e, kxl_op_describe(KXL_OP_STATS)->timeout_ms, &ret) < 0) {
        kx_err_clear();
        return;
    }
    ds->mem_kib = (uint64_t)kx_json_int(ret, "memory_kib", (int64_t)ds->mem_kib);
    ds->maxmem_kib = (uint64_t)kx_json_int(ret, "maxmem_kib", (int64_t)ds->maxmem_kib);
    add_nets(ds, array_member(ret, "vifs"));
    add_vbds(ds, array_member(ret, "disks"));
}

/* The vCPU figures list shows (running, blocked, CPU time) from the vCPUs just read. */
static void sum_vcpus(kxl_domstats *ds)
{
    ds->info.cpu_seconds = 0;
    ds->info.running = false;
    for (size_t i = 0; i < ds->n_vcpus; i++) {
        ds->info.cpu_seconds += ds->vcpus[i].seconds;
        ds->info.running |= ds->vcpus[i].running;
    }
    ds->info.blocked = !ds->info.running;
}

/* What /proc tells of the domain; true when its supervisor was asked the rest. */
static bool read_domain(kxl_stats_reader *r, const list_entry *e, kxl_domstats *ds)
{
    memset(ds, 0, sizeof(*ds));
    ds->info = e->info;
    ds->mem_kib = ds->maxmem_kib = e->info.memory_mib << 10;
    stats_watch_vcpus(r->watch, e, &ds->vcpus, &ds->n_vcpus);
    if (!e->qemu_alive)
        return false;
    sum_vcpus(ds);
    read_qemu(r, e, ds);
    /* a domain without disks, vifs or balloon is all in /proc: its supervisor is not asked */
    bool ask = !e->st.devices_known || e->st.n_disks || e->st.n_vifs || e->st.balloon;
    return e->info.sv_alive && ask && ask_supervisor(r, e);
}

int kxl_stats_read(kxl_stats_reader *r, kxl_stats_frame *f_r)
{
    memset(f_r, 0, sizeof(*f_r));
    AUTOFREE list_entry *entries = NULL;
    size_t n = 0;
    if (stats_watch_list(r->watch, r->p, &entries, &n) < 0)
        return -1;
    f_r->wall = kx_clock_s(CLOCK_REALTIME);
    f_r->mono = kx_clock_s(CLOCK_MONOTONIC);
    read_host(r, f_r);
    f_r->doms = kx_malloc0((n + 1) * sizeof(*f_r->doms));
    AUTOFREE bool *asked = kx_malloc0((n + 1) * sizeof(*asked));
    for (size_t i = 0; i < n; i++)
        asked[i] = read_domain(r, &entries[i], &f_r->doms[f_r->n_doms++]);
    for (size_t i = 0; i < n; i++)
        if (asked[i])
            take_answer(r, &entries[i], &f_r->doms[i]);
    return 0;
}

void kxl_stats_frame_dispose(kxl_stats_frame *f)
{
    for (size_t i = 0; f->doms && i < f->n_doms; i++) {
        free(f->doms[i].vcpus);
        free(f->doms[i].nets);
        free(f->doms[i].vbds);
    }
    free(f->doms);
    memset(f, 0, sizeof(*f));
}
