/* top_text.c - xentop's screen from a frame of statistics: CPU percentages between frames,
 * the sort, the three summary lines, the column header and a line per domain (with its vifs,
 * disks and vCPUs when asked). Pure: no I/O, so a frame is golden-tested. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kxl/ops.h"
#include "kxl/stats.h"
#include "util/buf.h"

double kxl_cpu_percent(double cpu_before, double cpu_now, double t_before, double t_now)
{
    if (t_now <= t_before || cpu_now < cpu_before)
        return 0.0;
    return (cpu_now - cpu_before) / (t_now - t_before) * 100.0;
}

static bool same_domain(const kxl_domstats *a, const kxl_domstats *b)
{
    return a->info.domid == b->info.domid && a->info.qemu_pid == b->info.qemu_pid &&
           strcmp(a->info.name, b->info.name) == 0;
}

void kxl_top_rates(kxl_stats_frame *now, const kxl_stats_frame *prev)
{
    for (size_t i = 0; i < now->n_doms; i++) {
        kxl_domstats *d = &now->doms[i];
        d->cpu_pct = 0.0;
        for (size_t j = 0; prev && j < prev->n_doms; j++)
            if (same_domain(d, &prev->doms[j]))
                d->cpu_pct = kxl_cpu_percent(prev->doms[j].info.cpu_seconds,
                                             d->info.cpu_seconds, prev->mono, now->mono);
    }
}

/* ---- the columns ---- */

static uint64_t sum_net(const kxl_domstats *d, bool tx)
{
    uint64_t s = 0;
    for (size_t i = 0; i < d->n_nets; i++)
        s += tx ? d->nets[i].tx_bytes : d->nets[i].rx_bytes;
    return s;
}

/* Which counter of the disks: 0 OO, 1 RD, 2 WR, 3 RSECT, 4 WSECT. */
static uint64_t sum_vbd(const kxl_domstats *d, int which)
{
    uint64_t s = 0;
    for (size_t i = 0; i < d->n_vbds; i++) {
        const kxl_vbd_stats *v = &d->vbds[i];
        const uint64_t c[] = {v->oo, v->rd_ops, v->wr_ops, v->rd_sectors, v->wr_sectors};
        s += c[which];
    }
    return s;
}

static double pct_of(uint64_t part, uint64_t total)
{
    return total ? (double)part * 100.0 / (double)total : 0.0;
}

/* The number a column shows (and sorts by); NAME and STATE sort as text. */
static double field_value(const kxl_stats_frame *f, const kxl_domstats *d, kxl_top_field c)
{
    switch (c) {
    case KXL_TOP_CPU: return d->info.cpu_seconds;
    case KXL_TOP_CPU_PCT: return d->cpu_pct;
    case KXL_TOP_MEM: case KXL_TOP_MEM_PCT: return (double)d->mem_kib;
    case KXL_TOP_MAXMEM: case KXL_TOP_MAXMEM_PCT: return (double)d->maxmem_kib;
    case KXL_TOP_VCPUS: return d->info.vcpus;
    case KXL_TOP_NETS: return (double)d->n_nets;
    case KXL_TOP_NETTX: return (double)(sum_net(d, true) / 1024);
    case KXL_TOP_NETRX: return (double)(sum_net(d, false) / 1024);
    case KXL_TOP_VBDS: return (double)d->n_vbds;
    case KXL_TOP_VBD_OO: case KXL_TOP_VBD_RD: case KXL_TOP_VBD_WR: case KXL_TOP_VBD_RSECT:
    case KXL_TOP_VBD_WSECT: return (double)sum_vbd(d, (int)(c - KXL_TOP_VBD_OO));
    default: (void)f; return 0.0;
    }
}

typedef struct {
    const char *name;
    int width;
} top_column;

/* xentop's headers and widths. */
static const top_column columns[KXL_TOP__COUNT] = {
    [KXL_TOP_NAME] = {"NAME", 10},        [KXL_TOP_STATE] = {"STATE", 6},
    [KXL_TOP_CPU] = {"CPU(sec)", 10},     [KXL_TOP_CPU_PCT] = {"CPU(%)", 6},
    [KXL_TOP_MEM] = {"MEM(k)", 10},       [KXL_TOP_MEM_PCT] = {"MEM(%)", 6},
    [KXL_TOP_MAXMEM] = {"MAXMEM(k)", 10}, [KXL_TOP_MAXMEM_PCT] = {"MAXMEM(%)", 9},
    [KXL_TOP_VCPUS] = {"VCPUS", 5},       [KXL_TOP_NETS] = {"NETS", 4},
    [KXL_TOP_NETTX] = {"NETTX(k)", 8},    [KXL_TOP_NETRX] = {"NETRX(k)", 8},
    [KXL_TOP_VBDS] = {"VBDS", 4},         [KXL_TOP_VBD_OO] = {"VBD_OO", 8},
    [KXL_TOP_VBD_RD] = {"VBD_RD", 8},     [KXL_TOP_VBD_WR] = {"VBD_WR", 8},
    [KXL_TOP_VBD_RSECT] = {"VBD_RSECT", 10}, [KXL_TOP_VBD_WSECT] = {"VBD_WSECT", 10},
    [KXL_TOP_SSID] = {"SSID", 4},
};

const char *kxl_top_field_name(kxl_top_field f)
{
    return (unsigned)f < KXL_TOP__COUNT ? columns[f].name : "";
}

/* xentop's flags, in its order: d s b c p r. */
static void state_flags(const kxl_dominfo *d, char out[7])
{
    char l[7];
    kxl_dominfo_state_letters(d, l);   /* r b p s c d */
    out[0] = l[5] == 'd' ? 'd' : '-';
    out[1] = l[3] == 's' ? 's' : '-';
    out[2] = l[1] == 'b' ? 'b' : '-';
    out[3] = l[4] == 'c' ? 'c' : '-';
    out[4] = l[2] == 'p' ? 'p' : '-';
    out[5] = l[0] == 'r' ? 'r' : '-';
    out[6] = '\0';
}

/* ---- the sort ---- */

static int compare_domains(const void *a, const void *b, void *arg)
{
    const kxl_domstats *x = a, *y = b;
    kxl_top_field sort_field = *(const kxl_top_field *)arg;
    int r = 0;
    if (sort_field == KXL_TOP_NAME) {
        r = strcmp(x->info.name, y->info.name);
    } else if (sort_field == KXL_TOP_STATE) {
        char sx[7], sy[7];
        state_flags(&x->info, sx);
        state_flags(&y->info, sy);
        r = strcmp(sx, sy);
    } else {
        double vx = field_value(NULL, x, sort_field), vy = field_value(NULL, y, sort_field);
        r = vx > vy ? -1 : vx < vy;
    }
    if (r == 0)
        r = x->info.domid < y->info.domid ? -1 : x->info.domid > y->info.domid;
    return r;
}

void kxl_top_sort(kxl_stats_frame *f, kxl_top_field sort)
{
    if ((unsigned)sort >= KXL_TOP__COUNT)
        sort = KXL_TOP_NAME;
    if (f->n_doms > 1)
        qsort_r(f->doms, f->n_doms, sizeof(*f->doms), compare_domains, &sort);
}

/* ---- the text ---- */

char *kxl_top_summary(const kxl_stats_frame *f)
{
    kx_buf b = KX_BUF_INIT;
    time_t t = (time_t)f->wall;
    struct tm tm;
    localtime_r(&t, &tm);
    kx_buf_printf(&b, "kxl top - %02d:%02d:%02d   kxl %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                  KXL_VERSION);
    unsigned n[6] = {0};   /* running blocked paused crashed dying shutdown */
    for (size_t i = 0; i < f->n_doms; i++) {
        char s[7];
        state_flags(&f->doms[i].info, s);   /* d s b c p r */
        n[0] += s[5] == 'r';
        n[1] += s[2] == 'b';
        n[2] += s[4] == 'p';
        n[3] += s[3] == 'c';
        n[4] += s[0] == 'd';
        n[5] += s[1] == 's';
    }
    kx_buf_printf(&b, "%zu domains: %u running, %u blocked, %u paused, %u crashed, %u dying, "
                  "%u shutdown\n", f->n_doms, n[0], n[1], n[2], n[3], n[4], n[5]);
    kx_buf_printf(&b, "Mem: %lluk total, %lluk used, %lluk free    CPUs: %u @ %uMHz\n",
                  (unsigned long long)f->mem_total_kib,
                  (unsigned long long)(f->mem_total_kib - f->mem_free_kib),
                  (unsigned long long)f->mem_free_kib, f->cpus, f->mhz);
    return kx_buf_steal(&b);
}

char *kxl_top_header(const kxl_top_view *v, size_t *sort_at_r, size_t *sort_len_r)
{
    kx_buf b = KX_BUF_INIT;
    for (int i = 0; i < KXL_TOP__COUNT; i++) {
        if (i)
            kx_buf_addc(&b, ' ');
        if (i == (int)v->sort && sort_at_r)
            *sort_at_r = b.len + (size_t)columns[i].width - strlen(columns[i].name);
        if (i == (int)v->sort && sort_len_r)
            *sort_len_r = strlen(columns[i].name);
        kx_buf_printf(&b, "%*s", columns[i].width, columns[i].name);
    }
    return kx_buf_steal(&b);
}

static void add_cell(kx_buf *b, const kxl_stats_frame *f, const kxl_domstats *d,
                     const kxl_top_view *v, kxl_top_field c)
{
    int w = columns[c].width;
    char st[7];
    switch (c) {
    case KXL_TOP_NAME:
        if (v->full_name)
            kx_buf_printf(b, "%*s", w, d->info.name);
        else
            kx_buf_printf(b, "%*.*s", w, w, d->info.name);
        break;
    case KXL_TOP_STATE:
        state_flags(&d->info, st);
        kx_buf_printf(b, "%s", st);
        break;
    case KXL_TOP_CPU_PCT:
        kx_buf_printf(b, "%*.1f", w, d->cpu_pct);
        break;
    case KXL_TOP_MEM_PCT:
    case KXL_TOP_MAXMEM_PCT:
        kx_buf_printf(b, "%*.1f", w, pct_of((uint64_t)field_value(f, d, c), f->mem_total_kib));
        break;
    case KXL_TOP_SSID:
        kx_buf_printf(b, "%*u", w, 0u);
        break;
    default:
        kx_buf_printf(b, "%*llu", w, (unsigned long long)field_value(f, d, c));
        break;
    }
}

/* n, x, v: a domain's vifs, disks and vCPUs under its line. */
static void add_details(kx_buf *b, const kxl_domstats *d, const kxl_top_view *v)
{
    for (size_t i = 0; v->networks && i < d->n_nets; i++) {
        const kxl_net_stats *n = &d->nets[i];
        kx_buf_printf(b, "Net%zu %-10s RX: %12llubytes %8llupkts  TX: %12llubytes %8llupkts\n",
                      i, n->ifname, (unsigned long long)n->rx_bytes,
                      (unsigned long long)n->rx_packets, (unsigned long long)n->tx_bytes,
                      (unsigned long long)n->tx_packets);
    }
    for (size_t i = 0; v->vbds && i < d->n_vbds; i++) {
        const kxl_vbd_stats *x = &d->vbds[i];
        kx_buf_printf(b, "VBD %-6s OO: %8llu   RD: %8llu   WR: %8llu  RSECT: %10llu  "
                      "WSECT: %10llu\n", x->vdev, (unsigned long long)x->oo,
                      (unsigned long long)x->rd_ops, (unsigned long long)x->wr_ops,
                      (unsigned long long)x->rd_sectors, (unsigned long long)x->wr_sectors);
    }
    if (!v->vcpus || d->n_vcpus == 0)
        return;
    kx_buf_add(b, "VCPUs(sec):");
    for (size_t i = 0; i < d->n_vcpus; i++) {
        if (i && i % 5 == 0)
            kx_buf_add(b, "\n           ");
        kx_buf_printf(b, "  %2zu: %10llus", i, (unsigned long long)d->vcpus[i].seconds);
    }
    kx_buf_addc(b, '\n');
}

char *kxl_top_rows(const kxl_stats_frame *f, const kxl_top_view *v)
{
    kx_buf b = KX_BUF_INIT;
    for (size_t i = 0; i < f->n_doms; i++) {
        const kxl_domstats *d = &f->doms[i];
        if (v->repeat_header && i) {
            char *h = kxl_top_header(v, NULL, NULL);
            kx_buf_printf(&b, "%s\n", h);
            free(h);
        }
        for (int c = 0; c < KXL_TOP__COUNT; c++) {
            if (c)
                kx_buf_addc(&b, ' ');
            add_cell(&b, f, d, v, (kxl_top_field)c);
        }
        kx_buf_addc(&b, '\n');
        add_details(&b, d, v);
    }
    return kx_buf_steal(&b);
}
