/* metrics_text.c - a frame of statistics as Prometheus text exposition format 0.0.4, what kxld
 * serves at GET /metrics: each metric family once (# HELP, # TYPE, then its samples, one per
 * domain, vif or disk), label values escaped as the format says. The families are tables, so a
 * new counter is one row. Pure: no I/O, so a fixed frame is golden-tested (tests/unit). */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>

#include "kxl/stats.h"
#include "util/buf.h"
#include "util/cleanup.h"

#define N_STATES (KXL_STATE_DYING + 1)

/* A label value: backslash, double quote and newline escaped. */
static void add_label_value(kx_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            kx_buf_add(b, "\\\\");
        else if (*v == '"')
            kx_buf_add(b, "\\\"");
        else if (*v == '\n')
            kx_buf_add(b, "\\n");
        else
            kx_buf_addc(b, *v);
    }
}

static void add_family(kx_buf *b, const char *name, const char *type, const char *help)
{
    kx_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* 'name{domain="D"' and, when key is given, ',key="value"'; the caller closes the brace. */
static void open_sample(kx_buf *b, const char *name, const char *domain, const char *key,
                        const char *value)
{
    kx_buf_printf(b, "%s{domain=\"", name);
    add_label_value(b, domain);
    kx_buf_addc(b, '"');
    if (key) {
        kx_buf_printf(b, ",%s=\"", key);
        add_label_value(b, value);
        kx_buf_addc(b, '"');
    }
}

/* ---- kxl_domains and kxl_domain_state ---- */

static void add_domains(kx_buf *b, const kxl_stats_frame *f)
{
    add_family(b, "kxl_domains", "gauge", "Domains on this host by state.");
    for (int s = 0; s < N_STATES; s++) {
        unsigned n = 0;
        for (size_t i = 0; i < f->n_doms; i++)
            n += f->doms[i].info.state == (kxl_state)s;
        kx_buf_printf(b, "kxl_domains{state=\"%s\"} %u\n", kxl_state_to_string((kxl_state)s), n);
    }
}

static void add_states(kx_buf *b, const kxl_stats_frame *f)
{
    add_family(b, "kxl_domain_state", "gauge",
               "The domain's state: 1 for the state it is in, 0 for the others.");
    for (size_t i = 0; i < f->n_doms; i++)
        for (int s = 0; s < N_STATES; s++) {
            open_sample(b, "kxl_domain_state", f->doms[i].info.name, "state",
                        kxl_state_to_string((kxl_state)s));
            kx_buf_printf(b, "} %d\n", f->doms[i].info.state == (kxl_state)s);
        }
}

/* ---- per domain ---- */

static double cpu_seconds(const kxl_domstats *d)
{
    return d->info.cpu_seconds;
}

static double memory_bytes(const kxl_domstats *d)
{
    return (double)d->mem_kib * 1024.0;
}

static double vcpus(const kxl_domstats *d)
{
    return d->info.vcpus;
}

static const struct {
    const char *name, *type, *help;
    double (*value)(const kxl_domstats *d);
} dom_metrics[] = {
    {"kxl_domain_cpu_seconds_total", "counter", "CPU time of the domain's vCPU threads.",
     cpu_seconds},
    {"kxl_domain_memory_bytes", "gauge", "Memory the guest has (its balloon's, else its config's).",
     memory_bytes},
    {"kxl_domain_vcpus", "gauge", "The domain's vCPUs.", vcpus},
};

static void add_dom_metrics(kx_buf *b, const kxl_stats_frame *f)
{
    for (size_t m = 0; m < KX_ARRAY_SIZE(dom_metrics); m++) {
        add_family(b, dom_metrics[m].name, dom_metrics[m].type, dom_metrics[m].help);
        for (size_t i = 0; i < f->n_doms; i++) {
            open_sample(b, dom_metrics[m].name, f->doms[i].info.name, NULL, NULL);
            kx_buf_printf(b, "} %.15g\n", dom_metrics[m].value(&f->doms[i]));
        }
    }
}

/* ---- per vif and per disk: counters at an offset of their record ---- */

typedef struct {
    const char *name, *help;
    size_t offset;   /* of the uint64_t in kxl_net_stats or kxl_vbd_stats */
} counter;

static const counter vif_counters[] = {
    {"kxl_domain_vif_rx_bytes_total", "Bytes the guest received on the vif.",
     offsetof(kxl_net_stats, rx_bytes)},
    {"kxl_domain_vif_rx_packets_total", "Packets the guest received on the vif.",
     offsetof(kxl_net_stats, rx_packets)},
    {"kxl_domain_vif_tx_bytes_total", "Bytes the guest sent on the vif.",
     offsetof(kxl_net_stats, tx_bytes)},
    {"kxl_domain_vif_tx_packets_total", "Packets the guest sent on the vif.",
     offsetof(kxl_net_stats, tx_packets)},
};

static const counter disk_counters[] = {
    {"kxl_domain_disk_read_bytes_total", "Bytes read from the disk.",
     offsetof(kxl_vbd_stats, rd_bytes)},
    {"kxl_domain_disk_read_ops_total", "Read requests of the disk.",
     offsetof(kxl_vbd_stats, rd_ops)},
    {"kxl_domain_disk_write_bytes_total", "Bytes written to the disk.",
     offsetof(kxl_vbd_stats, wr_bytes)},
    {"kxl_domain_disk_write_ops_total", "Write requests of the disk.",
     offsetof(kxl_vbd_stats, wr_ops)},
};

static uint64_t at(const void *record, size_t offset)
{
    return *(const uint64_t *)((const char *)record + offset);
}

/* The vifs (disks false) or disks of d: their number, and the i-th one's record and name. */
static size_t n_devices(const kxl_domstats *d, bool disks)
{
    return disks ? d->n_vbds : d->n_nets;
}

static const void *device(const kxl_domstats *d, bool disks, size_t i, const char **name_r)
{
    *name_r = disks ? d->vbds[i].vdev : d->nets[i].ifname;
    return disks ? (const void *)&d->vbds[i] : (const void *)&d->nets[i];
}

/* The families of table (n rows), one sample per vif or disk (labels domain and vif or disk). */
static void add_counters(kx_buf *b, const kxl_stats_frame *f, const counter *table, size_t n,
                         bool disks)
{
    for (size_t m = 0; m < n; m++) {
        add_family(b, table[m].name, "counter", table[m].help);
        for (size_t i = 0; i < f->n_doms; i++)
            for (size_t v = 0; v < n_devices(&f->doms[i], disks); v++) {
                const char *name;
                const void *rec = device(&f->doms[i], disks, v, &name);
                open_sample(b, table[m].name, f->doms[i].info.name, disks ? "disk" : "vif",
                            name);
                kx_buf_printf(b, "} %" PRIu64 "\n", at(rec, table[m].offset));
            }
    }
}

char *kxl_metrics_text(const kxl_stats_frame *f)
{
    kx_buf b = KX_BUF_INIT;
    add_domains(&b, f);
    add_dom_metrics(&b, f);
    add_states(&b, f);
    add_counters(&b, f, vif_counters, KX_ARRAY_SIZE(vif_counters), false);
    add_counters(&b, f, disk_counters, KX_ARRAY_SIZE(disk_counters), true);
    return kx_buf_steal(&b);
}
