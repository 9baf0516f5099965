/* list.c - what `kxl list` shows, read from the status files and /proc only,
 * without asking any supervisor, so that listing stays cheap and works while
 * a supervisor is gone. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kxl/kxl.h"
#include "lib/list.h"
#include "lib/runtime.h"
#include "lib/status.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* Adds one vCPU thread's state and CPU time ("CPU 0/TCG", "CPU 1/KVM" with
 * QEMU's debug-threads). */
static void add_vcpu_thread(pid_t pid, long tid, kxl_dominfo *info)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task/%ld/comm", (int)pid, tid);
    AUTOFREE char *comm = kx_read_file(path, NULL);
    if (!comm || !kx_startswith(comm, "CPU ") || !strchr(comm, '/'))
        return;
    snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", (int)pid, tid);
    AUTOFREE char *stat = kx_read_file(path, NULL);
    char *p = stat ? strrchr(stat, ')') : NULL;
    char state;
    unsigned long long utime, stime;
    if (!p || sscanf(p + 2, "%c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &state,
                     &utime, &stime) != 3)
        return;
    if (state == 'R')
        info->running = true;
    info->cpu_seconds += (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void read_vcpus(kxl_dominfo *info, const kx_status *st)
{
    if (st->n_vcpu_tids) {
        for (unsigned i = 0; i < st->n_vcpu_tids; i++)
            add_vcpu_thread(info->qemu_pid, st->vcpu_tids[i], info);
        info->blocked = !info->running;
        kx_err_clear();
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)info->qemu_pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        add_vcpu_thread(info->qemu_pid, strtol(e->d_name, NULL, 10), info);
    }
    closedir(d);
    info->blocked = !info->running;
    kx_err_clear();
}

/* Fills e for the domain whose runtime directory is dir (its vCPU threads only with vcpus);
 * false when the directory is stale or half-made (no live QEMU). Each process is checked once:
 * reading /proc is most of what listing costs. */
static bool read_domain(const char *dir, const char *name, bool vcpus, list_entry *e)
{
    kxl_dominfo *info = &e->info;
    kx_status *st = &e->st;
    memset(e, 0, sizeof(*e));
    if (status_read(dir, st) < 0 || !st->domid) {
        kx_err_clear();
        return false;
    }
    e->qemu_alive = status_qemu_alive(st);
    info->sv_alive = status_sv_alive(st);
    kx_err_clear();   /* a process that is gone is an answer, not an error */
    /* a domain whose QEMU is gone stays while its supervisor keeps it (preserve) */
    if (!e->qemu_alive && !info->sv_alive)
        return false;
    snprintf(info->name, sizeof(info->name), "%s", name);
    memcpy(info->uuid, st->uuid, sizeof(info->uuid));
    info->domid = st->domid;
    info->state = st->state;
    info->memory_mib = st->memory_mib;
    info->vcpus = st->vcpus;
    info->qemu_pid = st->qemu_pid;
    info->sv_pid = st->sv_pid;
    info->started = st->started;
    if (e->qemu_alive && vcpus)
        read_vcpus(info, st);
    return true;
}

static int by_domid(const void *a, const void *b)
{
    const list_entry *x = a, *y = b;
    return x->info.domid < y->info.domid ? -1 : x->info.domid > y->info.domid;
}

bool list_entry_read(const kxl_paths *p, const char *name, bool vcpus, list_entry *e)
{
    AUTOFREE char *dir = kx_path_join(p->run_dir, name);
    if (read_domain(dir, name, vcpus, e))
        return true;
    if (runtime_clear_half_created(p, name) < 0)
        kx_err_clear();    /* listing goes on; the next one tries again */
    return false;
}

void list_entries_sort(list_entry *entries, size_t n)
{
    if (n > 1)
        qsort(entries, n, sizeof(*entries), by_domid);
}

int list_entries(const kxl_paths *p, bool vcpus, list_entry **entries_r, size_t *n_r)
{
    DIR *d = opendir(p->run_dir);
    if (!d) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot read '%s'", p->run_dir);
        return -1;
    }
    list_entry *entries = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !kxl_name_is_valid(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            entries = kx_realloc(entries, cap * sizeof(*entries));
        }
        if (list_entry_read(p, e->d_name, vcpus, &entries[n]))
            n++;
    }
    closedir(d);
    list_entries_sort(entries, n);
    *entries_r = entries;
    *n_r = n;
    return 0;
}

int kxl_domain_list(const kxl_paths *p, kxl_dominfo **infos_r, size_t *n_r)
{
    AUTOFREE list_entry *entries = NULL;
    size_t n;
    if (list_entries(p, true, &entries, &n) < 0)
        return -1;
    kxl_dominfo *infos = kx_malloc0((n + 1) * sizeof(*infos));
    for (size_t i = 0; i < n; i++)
        infos[i] = entries[i].info;
    *infos_r = infos;
    *n_r = n;
    return 0;
}

static bool is_number(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

int kxl_domain_lookup(const kxl_paths *p, const char *name_or_id, kxl_dominfo *info_r)
{
    if (!is_number(name_or_id)) {
        if (!kxl_name_is_valid(name_or_id)) {
            kx_err(KXL_ERR_INVALID, "invalid domain name '%s'", name_or_id);
            return -1;
        }
        AUTOFREE char *dir = kxl_domain_dir(p, name_or_id);
        list_entry e;
        if (read_domain(dir, name_or_id, true, &e)) {
            *info_r = e.info;
            return 0;
        }
        kx_err(KXL_ERR_NOT_FOUND, "domain '%s' does not exist", name_or_id);
        return -1;
    }
    AUTOFREE kxl_dominfo *infos = NULL;
    size_t n;
    if (kxl_domain_list(p, &infos, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (infos[i].domid == strtoul(name_or_id, NULL, 10)) {
            *info_r = infos[i];
            return 0;
        }
    }
    kx_err(KXL_ERR_NOT_FOUND, "no domain with id %s", name_or_id);
    return -1;
}
