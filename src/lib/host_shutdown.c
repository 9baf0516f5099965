/* host_shutdown.c - kxl shutdown-host (and the systemd unit's stop): every running domain
 * stopped before the host goes down, in the reverse of the autostart order. Domains that do not
 * start at boot go first (they were started later, by hand, and may use what the autostart
 * ones serve); then the autostart batches from the last to the first, a batch together. Each
 * is shut down cleanly within its down timeout and destroyed if it has not, or saved for the
 * next boot's autostart (on_host_shutdown = "save"). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kxl/autostart.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fileio.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

typedef struct {
    const kxl_paths *p;
    kxl_shutdown_host_fn told;
    void *opaque;
    pthread_mutex_t lock;   /* told is called from a thread per domain */
    bool failed;
} stop_ctx;

typedef struct {
    stop_ctx *ctx;
    char name[KXL_NAME_MAX + 1];
    unsigned down;
    kxl_host_shutdown action;
} stop_job;

static void tell(stop_job *j, bool failed, const char *what)
{
    stop_ctx *c = j->ctx;
    pthread_mutex_lock(&c->lock);
    c->failed = c->failed || failed;
    if (c->told)
        c->told(j->name, failed, what, c->opaque);
    pthread_mutex_unlock(&c->lock);
}

/* Gone, preserved as shut down, or running on a new QEMU (on_poweroff = restart): the guest
 * has done its part; whatever is left is destroyed. */
static bool powered_off(const kxl_paths *p, const kxl_dominfo *before)
{
    kxl_dominfo now;
    if (kxl_domain_lookup(p, before->name, &now) < 0) {
        kx_err_clear();
        return true;
    }
    return now.state == KXL_STATE_SHUTDOWN || now.qemu_pid != before->qemu_pid;
}

/* Whether the guest powered off within j->down seconds of the power button. */
static bool shut_down_within(stop_job *j, const kxl_dominfo *info)
{
    kxl_power_opts o = {0};
    if (kxl_domain_shutdown(j->ctx->p, j->name, &o) < 0)
        return false;
    double end = kx_mono_s() + j->down;
    while (kx_mono_s() < end) {
        if (powered_off(j->ctx->p, info))
            return true;
        usleep(100000);
    }
    kx_err(KXL_ERR_STATE, "it did not shut down within %u s", j->down);
    return false;
}

/* Shut down cleanly, or destroyed when it did not within its down timeout. */
static void shut_down(stop_job *j)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(j->ctx->p, j->name, &info) < 0) {
        kx_err_clear();
        return;   /* gone meanwhile */
    }
    double t0 = kx_mono_s();
    bool clean = shut_down_within(j, &info);
    AUTOFREE char *why = clean ? NULL : kx_strdup(kx_err_msg());
    kx_err_clear();
    kxl_dominfo left;   /* preserved as shut down, restarted, or still running */
    if (kxl_domain_lookup(j->ctx->p, j->name, &left) == 0 &&
        kxl_domain_destroy(j->ctx->p, j->name) < 0) {
        tell(j, true, kx_err_msg());
        return;
    }
    kx_err_clear();
    AUTOFREE char *what = clean ? kx_asprintf("shut down (%.1f s)", kx_mono_s() - t0)
                                : kx_asprintf("destroyed: %s", why);
    tell(j, false, what);
}

/* Saved for the next boot; a save that fails falls back to a shutdown: the host goes down
 * either way. */
static void save(stop_job *j)
{
    AUTOFREE char *file = kxl_autostart_save_file(j->ctx->p, j->name);
    AUTOFREE char *dir = kx_path_join(j->ctx->p->lib_dir, "save");
    kxl_save_opts o = {0};
    if (kx_mkdir_p(dir, 0700) == 0 && kxl_domain_save(j->ctx->p, j->name, file, &o) == 0) {
        AUTOFREE char *what = kx_asprintf("saved to %s", file);
        tell(j, false, what);
        return;
    }
    AUTOFREE char *what = kx_asprintf("could not be saved (%s); shutting it down", kx_err_msg());
    tell(j, true, what);
    shut_down(j);
}

static void *stop_one(void *arg)
{
    stop_job *j = arg;
    if (j->action == KXL_HOST_SHUTDOWN_SAVE)
        save(j);
    else
        shut_down(j);
    return NULL;
}

/* The jobs of a group together: a thread each, all joined. */
static void stop_group(stop_job *jobs, size_t n)
{
    AUTOFREE pthread_t *threads = kx_malloc0((n + 1) * sizeof(pthread_t));
    AUTOFREE bool *spawned = kx_malloc0(n + 1);
    for (size_t i = 0; i < n; i++) {
        spawned[i] = pthread_create(&threads[i], NULL, stop_one, &jobs[i]) == 0;
        if (!spawned[i])
            stop_one(&jobs[i]);
    }
    for (size_t i = 0; i < n; i++)
        if (spawned[i])
            pthread_join(threads[i], NULL);
}

static void set_job(stop_job *j, stop_ctx *ctx, const char *name, const kxl_domcfg *cfg)
{
    *j = (stop_job){.ctx = ctx, .down = cfg ? kxl_autostart_down(cfg) : 60,
                    .action = cfg ? cfg->on_host_shutdown : KXL_HOST_SHUTDOWN_SHUTDOWN};
    snprintf(j->name, sizeof(j->name), "%s", name);
}

/* The running domains that do not start at boot, with the config they run with. */
static size_t others(stop_ctx *ctx, const kxl_autostart_plan *plan, const kxl_dominfo *d,
                     size_t n, stop_job *jobs)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (kxl_autostart_find(plan, d[i].name))
            continue;
        AUTOPTR(kxl_domcfg) cfg = runtime_read_config(ctx->p, d[i].name);
        kx_err_clear();
        set_job(&jobs[k++], ctx, d[i].name, cfg);
    }
    return k;
}

/* The running domains of batch b, with the config in the autostart directory. */
static size_t batch_running(stop_ctx *ctx, const kxl_autostart_plan *plan,
                            const kxl_autostart_batch *b, const kxl_dominfo *d, size_t n,
                            stop_job *jobs)
{
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++) {
        const kxl_domcfg *cfg = plan->entries[b->members[i]].cfg;
        for (size_t j = 0; j < n; j++)
            if (strcmp(d[j].name, cfg->name) == 0)
                set_job(&jobs[k++], ctx, cfg->name, cfg);
    }
    return k;
}

int kxl_shutdown_host(const kxl_paths *p, const char *const *extra_dirs,
                      kxl_shutdown_host_fn told, void *opaque)
{
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n;
    if (kxl_domain_list(p, &d, &n) < 0)
        return -1;
    kxl_autostart_plan plan = {0};
    if (kxl_autostart_scan(p, extra_dirs, &plan) < 0) {
        kx_warn("shutdown-host: %s; every domain is stopped as one that does not autostart",
                kx_err_msg());
        kx_err_clear();
    }
    stop_ctx ctx = {.p = p, .told = told, .opaque = opaque};
    pthread_mutex_init(&ctx.lock, NULL);
    AUTOFREE stop_job *jobs = kx_malloc0((n + 1) * sizeof(stop_job));
    stop_group(jobs, others(&ctx, &plan, d, n, jobs));
    for (size_t i = plan.n_batches; i-- > 0;)
        stop_group(jobs, batch_running(&ctx, &plan, &plan.batches[i], d, n, jobs));
    kxl_autostart_plan_dispose(&plan);
    pthread_mutex_destroy(&ctx.lock);
    if (ctx.failed)
        kx_err(KXL_ERR_STATE, "shutdown-host: not every domain stopped as it should");
    return ctx.failed ? -1 : 0;
}
