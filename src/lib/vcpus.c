/* vcpus.c - a domain's vCPUs from /proc (the threads its supervisor recorded from QEMU's
 * query-cpus-fast): kxl vcpu-list, top's per-vCPU seconds; and vcpu-pin, which the supervisor
 * carries out so that the pinning survives a fresh QEMU. */
#include "lib/vcpus.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ops_call.h"
#include "lib/status.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

bool vcpu_from_stat(const char *stat, pid_t tid, kxl_vcpu_info *v)
{
    const char *p = stat ? strrchr(stat, ')') : NULL;
    if (!p)
        return false;
    /* fields from 3 (state) on; utime 14, stime 15, processor 39 */
    unsigned long long utime = 0, stime = 0;
    char state = '?';
    int field = 3, cpu = -1;
    for (p += 2; *p; field++) {
        if (field == 3)
            state = *p;
        else if (field == 14)
            utime = strtoull(p, NULL, 10);
        else if (field == 15)
            stime = strtoull(p, NULL, 10);
        else if (field == 39)
            cpu = (int)strtol(p, NULL, 10);
        const char *sp = strchr(p, ' ');
        if (!sp || field == 39)
            break;
        p = sp + 1;
    }
    if (state == 'Z' || state == 'X')
        return false;
    v->online = true;
    v->tid = tid;
    v->running = state == 'R';
    v->blocked = !v->running;
    v->cpu = cpu;
    v->seconds = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    return true;
}

/* Fills v from /proc/PID/task/TID/stat and the thread's affinity; false when the thread is
 * gone. */
static bool read_thread(pid_t pid, pid_t tid, kxl_vcpu_info *v)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    AUTOFREE char *stat = kx_read_file(path, NULL);
    if (!vcpu_from_stat(stat, tid, v))
        return false;
    cpu_set_t mask;
    if (sched_getaffinity(tid, sizeof(mask), &mask) == 0)
        for (unsigned c = 0; c < CPU_SETSIZE && c < KXL_MAX_HOST_CPUS; c++)
            if (CPU_ISSET(c, &mask))
                kxl_cpuset_set(&v->affinity, c);
    return true;
}

void vcpus_read_with(const kxl_dominfo *d, const kx_status *st, vcpu_reader rd, void *opaque,
                     kxl_vcpu_info **v, size_t *n)
{
    /* vCPUs beyond the recorded threads (none recorded: QEMU not asked yet) show offline */
    unsigned count = d->vcpus > st->n_vcpu_tids ? d->vcpus : st->n_vcpu_tids;
    *v = kx_realloc(*v, (*n + count + 1) * sizeof(**v));
    for (unsigned i = 0; i < count; i++) {
        kxl_vcpu_info *c = &(*v)[(*n)++];
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "%s", d->name);
        c->domid = d->domid;
        c->vcpu = i;
        c->cpu = -1;
        if (i < st->n_vcpu_tids && d->qemu_pid > 0)
            rd(i, st->vcpu_tids[i], c, opaque);
    }
    kx_err_clear();
}

static bool read_by_path(unsigned i, pid_t tid, kxl_vcpu_info *v, void *opaque)
{
    (void)i;
    return read_thread(*(const pid_t *)opaque, tid, v);
}

void vcpus_read(const kxl_dominfo *d, const kx_status *st, kxl_vcpu_info **v, size_t *n)
{
    vcpus_read_with(d, st, read_by_path, (void *)&d->qemu_pid, v, n);
}

/* The vCPUs of one domain, appended. */
static int add_domain(const kxl_paths *p, const kxl_dominfo *d, kxl_vcpu_info **v, size_t *n)
{
    AUTOFREE char *dir = kxl_domain_dir(p, d->name);
    kx_status st;
    if (status_read(dir, &st) < 0) {
        kx_err_clear();   /* gone meanwhile */
        return 0;
    }
    if (!status_qemu_alive(&st))
        st.n_vcpu_tids = 0;
    vcpus_read(d, &st, v, n);
    return 0;
}

int kxl_vcpu_list(const kxl_paths *p, const char *dom, kxl_vcpu_info **vcpus_r, size_t *n_r)
{
    AUTOFREE kxl_dominfo *infos = NULL;
    size_t n_infos = 0;
    if (dom) {
        infos = kx_malloc0(sizeof(*infos));
        if (kxl_domain_lookup(p, dom, infos) < 0)
            return -1;
        n_infos = 1;
    } else if (kxl_domain_list(p, &infos, &n_infos) < 0) {
        return -1;
    }
    kxl_vcpu_info *v = kx_malloc0(sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < n_infos; i++)
        add_domain(p, &infos[i], &v, &n);
    *vcpus_r = v;
    *n_r = n;
    return 0;
}

int kxl_vcpu_pin(const kxl_paths *p, const char *dom, const char *vcpu, const char *cpus)
{
    return op_call(p, KXL_OP_VCPU_PIN, dom, op_args("vcpu", vcpu, "cpus", cpus, NULL), NULL);
}
