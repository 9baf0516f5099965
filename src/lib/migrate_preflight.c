/* migrate_preflight.c - the receiver's check, before any memory moves, that it can run the
 * domain it is offered: every problem is listed (not only the first), so one refusal tells
 * the administrator all there is to fix. The stream's header is untrusted input: names in it
 * are checked before they are used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/disks.h"
#include "lib/host_probe.h"
#include "lib/migrate.h"
#include "lib/network.h"
#include "lib/runtime.h"
#include "net/nl.h"
#include "qemu/qemu_argv.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

/* QEMU's memory beyond the guest's: its own code, device state, TCG's translation cache. */
#define QEMU_OVERHEAD_MIB 64

static void check_name(const kxl_paths *p, const kxl_domcfg *cfg, kx_strv *missing)
{
    if (runtime_is_live(p, cfg->name))
        kx_strv_pushf(missing, "a domain named '%s' already runs here", cfg->name);
}

/* A vif's bridge: a kxl network of that name, or a bridge device. */
static void check_bridges(const kxl_paths *p, const kxl_domcfg *cfg, kx_strv *missing)
{
    for (size_t i = 0; i < cfg->n_vifs; i++) {
        const kxl_vif *v = &cfg->vifs[i];
        const char *b = v->bridge ? v->bridge : "xenbr0";
        if (v->unplugged || kx_streq(v->script, "vif-route"))
            continue;
        if (!kxl_ifname_is_valid(b)) {
            kx_strv_pushf(missing, "vif %zu: '%s' is not a bridge name", i, b);
            continue;
        }
        kxl_network *net = network_find(p, b);
        kx_err_clear();
        bool ok = net || (nl_link_exists(b) && nl_link_is_bridge(b));
        kxl_network_free(net);
        if (!ok)
            kx_strv_pushf(missing, "vif %zu: bridge '%s' does not exist here (nor a kxl network "
                          "of that name)", i, b);
    }
}

/* Each disk at the same path (shared storage), and not held by a domain here; with
 * --copy-storage, one that is not here is made here and copied (*copy). */
static void check_disks(const kxl_paths *p, const mig_header *h, const kxl_domcfg *cfg,
                        kx_strv *missing, kx_strv *copy)
{
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        struct stat st;
        if (d->unplugged || !d->target || !*d->target)
            continue;
        if (d->target[0] == '/' && stat(d->target, &st) < 0 && errno == ENOENT &&
            h->copy_storage) {
            if (migrate_storage_check(d, h->copy_storage, missing) == 0)
                kx_strv_push(copy, d->vdev);
            continue;
        }
        if (d->target[0] != '/' || stat(d->target, &st) < 0) {
            kx_strv_pushf(missing, "disk %s: '%s' does not exist here (migration needs the "
                          "same disk on both hosts, shared storage, or --copy-storage)",
                          d->vdev, d->target);
            continue;
        }
        if (disks_check_free(p, d, NULL) < 0) {
            kx_strv_push(missing, kx_err_msg());
            kx_err_clear();
        }
    }
}

static long long mem_available_mib(void)
{
    AUTOFREE char *text = kx_read_file("/proc/meminfo", NULL);
    const char *at = text ? strstr(text, "MemAvailable:") : NULL;
    return at ? (long long)(strtoull(at + strlen("MemAvailable:"), NULL, 10) / 1024) : -1;
}

static void check_memory(const kxl_domcfg *cfg, kx_strv *missing)
{
    long long have = mem_available_mib();
    unsigned long long need = cfg->memory_mib + QEMU_OVERHEAD_MIB;
    if (have >= 0 && (unsigned long long)have < need)
        kx_strv_pushf(missing, "not enough free memory: the domain needs %llu MiB (with QEMU's "
                      "own), this host has %lld MiB available", need, have);
}

/* Whether name is among the names of QEMU's "-machine help" or "-cpu help" text. */
static bool qemu_lists(const char *help, const char *name)
{
    AUTOFREE char *text = kx_strdup(help);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char word[128];
        /* "pc-i440fx-7.2        Standard PC ..." and "x86 qemu64   QEMU Virtual CPU ..." */
        const char *w = kx_startswith(line, "x86 ") ? line + 4 : line;
        if (sscanf(w, " %127s", word) == 1 && kx_streq(word, name))
            return true;
    }
    return false;
}

/* QEMU as new as the sender's, with the machine type and CPU model the stream needs, under
 * the accelerator it ran with. */
static void check_qemu(const kxl_paths *p, const mig_header *h, kx_strv *missing)
{
    AUTOFREE char *qemu = kxl_qemu_binary();
    host_qemu_answers q;
    host_qemu_answers_get(p, qemu, &q);
    const char *here = q.version;
    AUTOFREE char *why = NULL;
    int accel = kxl_accel_from_string(h->accel);
    if (mig_version_cmp(h->qemu_version, here) > 0)
        kx_strv_pushf(missing, "QEMU here is %s; the domain runs on QEMU %s, which needs %s or "
                      "newer to receive it", here, h->qemu_version, h->qemu_version);
    if (!qemu_lists(q.machines, h->machine))
        kx_strv_pushf(missing, "machine type '%s' is unknown to QEMU %s here", h->machine, here);
    if (accel != KXL_ACCEL_KVM && accel != KXL_ACCEL_TCG)
        kx_strv_pushf(missing, "unknown accelerator '%s'", h->accel);
    else if (accel == KXL_ACCEL_KVM && !kxl_kvm_usable(&why))
        kx_strv_pushf(missing, "the domain runs under KVM; this host cannot run KVM guests (%s)",
                      why);
    if (kx_streq(h->cpu_model, "host") ? accel != KXL_ACCEL_KVM
                                       : !qemu_lists(q.cpus, h->cpu_model))
        kx_strv_pushf(missing, "CPU model '%s' is not available to QEMU %s here", h->cpu_model,
                      here);
    host_qemu_answers_dispose(&q);
}

/* --postcopy: the receiving QEMU takes the guest's missing pages through userfaultfd(2),
 * which the kernel gives an unprivileged process (QEMU after -runas) only with
 * vm.unprivileged_userfaultfd = 1. Under TCG too: the guests that crashed on arrival there
 * were QEMU 7.2's lost writes, which QEMU_TCG_RAM_PAD_KIB avoids (qemu_argv.h); since, 16
 * postcopy moves of a guest dirtying its memory all arrived whole. */
static void check_postcopy(const mig_header *h, kx_strv *missing)
{
    if (!h->postcopy)
        return;
    AUTOFREE char *why_root = NULL;
    AUTOFREE char *user = kxl_qemu_user(&why_root);
    AUTOFREE char *uffd = kx_read_file("/proc/sys/vm/unprivileged_userfaultfd", NULL);
    kx_err_clear();
    if (user && (!uffd || atoi(uffd) != 1))
        kx_strv_pushf(missing, "--postcopy: QEMU runs unprivileged here (as '%s') and the "
                      "kernel gives it no userfaultfd (vm.unprivileged_userfaultfd is %d, not "
                      "1): set it, or migrate without --postcopy", user, uffd ? atoi(uffd) : 0);
}

int migrate_preflight(const kxl_paths *p, const mig_header *h, const kxl_domcfg *cfg,
                      kx_strv *missing, kx_strv *copy)
{
    check_postcopy(h, missing);
    check_name(p, cfg, missing);
    check_bridges(p, cfg, missing);
    check_disks(p, h, cfg, missing, copy);
    check_memory(cfg, missing);
    check_qemu(p, h, missing);
    return missing->n ? -1 : 0;
}
