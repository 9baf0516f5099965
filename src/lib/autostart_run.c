/* autostart_run.c - starting the autostart domains once per host boot: batch after batch
 * (a thread per domain of a batch), each with the create operation kxl create runs (or the
 * restore operation, for a domain host shutdown saved), then its up wait or its startup_ready
 * line on the console. Each result goes at once into ROOT/var/lib/kxl/autostart-last.json,
 * which is also what makes a second run in the same boot start nothing. */
#include <dirent.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kxl/autostart.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

/* With startup_ready and no up: how long the console may take to show it. */
#define READY_DEFAULT_S 300

typedef struct {
    const kxl_paths *p;
    const kxl_autostart_opts *o;
    char *record_path;
    json_object *record;       /* {boot_id, started, finished, domains: [...]} */
    pthread_mutex_t lock;      /* the record: a batch's threads add to it */
} run_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

static bool stopping(const run_ctx *r)
{
    return r->o->stop && atomic_load(r->o->stop);
}

static int save_record(run_ctx *r)
{
    const char *text = json_object_to_json_string_ext(r->record, JSON_C_TO_STRING_PRETTY |
                                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
    if (kx_write_file_atomic(r->record_path, text, strlen(text), 0644) < 0) {
        kx_log(KX_LOG_ERROR, "autostart: %s", kx_err_msg());
        return -1;
    }
    return 0;
}

/* Whether the record already has a result for config (a run resumed in the same boot). */
static bool recorded(run_ctx *r, const char *config)
{
    json_object *doms = NULL;
    json_object_object_get_ex(r->record, "domains", &doms);
    pthread_mutex_lock(&r->lock);
    bool found = false;
    for (size_t i = 0; doms && i < json_object_array_length(doms); i++)
        found = found || kx_streq(kx_json_str(json_object_array_get_idx(doms, i), "config", ""),
                                  config);
    pthread_mutex_unlock(&r->lock);
    return found;
}

/* Records (and logs) one domain's result; started is when its start began. */
static void record(run_ctx *r, const char *name, const char *config, const char *result,
                   const char *reason, double started)
{
    json_object *d = json_object_new_object();
    json_object_object_add(d, "name", name ? json_object_new_string(name) : NULL);
    json_object_object_add(d, "config", json_object_new_string(config));
    json_object_object_add(d, "result", json_object_new_string(result));
    json_object_object_add(d, "reason", reason ? json_object_new_string(reason) : NULL);
    json_object_object_add(d, "time", json_object_new_double(started));
    json_object *doms = NULL;
    pthread_mutex_lock(&r->lock);
    json_object_object_get_ex(r->record, "domains", &doms);
    json_object_array_add(doms, d);
    save_record(r);
    pthread_mutex_unlock(&r->lock);
    bool bad = !strcmp(result, "failed") || !strcmp(result, "skipped");
    if (!name)   /* a config that does not start: its reason names its file and line */
        kx_log(KX_LOG_WARN, "autostart: %s: %s", result, reason);
    else
        kx_log(bad ? KX_LOG_WARN : KX_LOG_NOTICE, "autostart: '%s' %s%s%s", name, result,
               reason ? ": " : "", reason ? reason : "");
}

/* ---- waiting after a start ---- */

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Whether a whole line of the console log after *offset matches re; *offset moves past the
 * lines read. */
static bool console_matches(const char *log, off_t *offset, const regex_t *re)
{
    AUTOFREE char *text = NULL;
    size_t len = 0;
    if (file_size(log) < *offset)
        *offset = 0;     /* a fresh log */
    if (file_size(log) == *offset || !(text = kx_read_file(log, &len))) {
        kx_err_clear();
        return false;
    }
    for (size_t at = (size_t)*offset; at < len;) {
        char *nl = memchr(text + at, '\n', len - at);
        if (!nl)
            break;       /* an unfinished line is read again with its end */
        *nl = '\0';
        if (nl > text + at && nl[-1] == '\r')
            nl[-1] = '\0';
        bool hit = regexec(re, text + at, 0, NULL, 0) == 0;
        at = (size_t)(nl - text) + 1;
        *offset = (off_t)at;
        if (hit)
            return true;
    }
    return false;
}

/* up seconds, or until the console (from offset) shows cfg's startup_ready line (up, else
 * READY_DEFAULT_S, as a timeout); either ends early when the domain goes or kxld stops. */
static void wait_up(run_ctx *r, const kxl_domcfg *cfg, off_t offset)
{
    unsigned limit = cfg->startup_ready && !cfg->startup_up ? READY_DEFAULT_S : cfg->startup_up;
    if (!limit)
        return;
    regex_t re;
    bool ready = cfg->startup_ready &&
                 regcomp(&re, cfg->startup_ready, REG_EXTENDED | REG_NOSUB) == 0;
    AUTOFREE char *log = kx_asprintf("%s/%s.console.log", r->p->log_dir, cfg->name);
    double end = now_s() + limit;
    bool matched = false;
    kxl_dominfo info;
    while (!stopping(r) && now_s() < end && !matched) {
        usleep(100000);
        matched = ready && console_matches(log, &offset, &re);
        if (kxl_domain_lookup(r->p, cfg->name, &info) < 0) {
            kx_err_clear();
            break;
        }
    }
    if (ready) {
        regfree(&re);
        if (matched)
            kx_notice("autostart: '%s' is ready (its console showed /%s/)", cfg->name,
                      cfg->startup_ready);
        else
            kx_notice("autostart: '%s' did not show /%s/ within %u s; going on", cfg->name,
                      cfg->startup_ready, limit);
    }
}

/* ---- starting one domain ---- */

/* Restores the domain host shutdown saved; the file goes once the domain runs again. A file
 * that does not restore is kept: the guest's state is in it. */
static int restore_saved(run_ctx *r, const char *name, const char *save, const char **result_r)
{
    kxl_restore_opts ro = {0};
    *result_r = "restored";
    if (kxl_domain_restore(r->p, save, &ro, NULL, NULL) < 0) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        kx_err(kx_err_code(), "%s (the save file '%s' is kept: 'kxl restore' it, or remove it "
               "to start '%s' afresh)", why, save, name);
        return -1;
    }
    if (unlink(save) < 0)
        kx_warn("autostart: cannot remove '%s' after restoring '%s'", save, name);
    return 0;
}

typedef struct {
    run_ctx *run;
    kxl_autostart_entry *e;
} start_job;

static void *start_one(void *arg)
{
    start_job *j = arg;
    run_ctx *r = j->run;
    kxl_domcfg *cfg = j->e->cfg;
    kxl_dominfo info;
    double t = now_s();
    if (kxl_domain_lookup(r->p, cfg->name, &info) == 0) {
        record(r, cfg->name, j->e->config, "running", "already running", t);
        return NULL;
    }
    kx_err_clear();
    AUTOFREE char *save = kxl_autostart_save_file(r->p, cfg->name);
    AUTOFREE char *log = kx_asprintf("%s/%s.console.log", r->p->log_dir, cfg->name);
    off_t offset = file_size(log);
    const char *result = "started";
    kxl_create_opts co = {0};
    unsigned domid;
    int rc = kx_path_exists(save) ? restore_saved(r, cfg->name, save, &result)
                                  : kxl_domain_create(r->p, cfg, &co, &domid);
    if (rc < 0) {
        record(r, cfg->name, j->e->config, "failed", kx_err_msg(), t);
        return NULL;
    }
    record(r, cfg->name, j->e->config, result, NULL, t);
    wait_up(r, cfg, strcmp(result, "started") == 0 ? 0 : offset);
    return NULL;
}

/* The domains of batch b together: a thread each, all joined. */
static void run_batch(run_ctx *r, kxl_autostart_plan *plan, const kxl_autostart_batch *b)
{
    AUTOFREE pthread_t *threads = kx_malloc0(b->n * sizeof(pthread_t));
    AUTOFREE start_job *jobs = kx_malloc0(b->n * sizeof(start_job));
    AUTOFREE bool *spawned = kx_malloc0(b->n + 1);
    for (size_t i = 0; i < b->n; i++) {
        jobs[i] = (start_job){r, &plan->entries[b->members[i]]};
        if (recorded(r, jobs[i].e->config))
            continue;    /* a resumed run: done before */
        spawned[i] = pthread_create(&threads[i], NULL, start_one, &jobs[i]) == 0;
        if (!spawned[i])
            start_one(&jobs[i]);
    }
    for (size_t i = 0; i < b->n; i++)
        if (spawned[i])
            pthread_join(threads[i], NULL);
}

/* ---- the run ---- */

/* The record of this boot (resumed when a run of it did not finish), or a new one; NULL when
 * this boot's run has finished. */
static json_object *this_boot_record(const char *path, const char *boot_id)
{
    AUTOFREE char *text = kx_path_exists(path) ? kx_read_file(path, NULL) : NULL;
    json_object *old = text ? kx_json_parse(text, path) : NULL;
    kx_err_clear();
    json_object *finished = NULL;
    if (old && kx_streq(kx_json_str(old, "boot_id", ""), boot_id)) {
        if (json_object_object_get_ex(old, "finished", &finished) && finished) {
            json_object_put(old);
            return NULL;
        }
        kx_notice("autostart: going on with the run this boot began");
        return old;
    }
    json_object_put(old);
    json_object *rec = json_object_new_object();
    json_object_object_add(rec, "boot_id", json_object_new_string(boot_id));
    json_object_object_add(rec, "started", json_object_new_double(now_s()));
    json_object_object_add(rec, "finished", NULL);
    json_object_object_add(rec, "domains", json_object_new_array());
    return rec;
}

static void record_skipped(run_ctx *r, const kxl_autostart_plan *plan)
{
    for (size_t i = 0; i < plan->n_entries; i++) {
        const kxl_autostart_entry *e = &plan->entries[i];
        if (e->error && !recorded(r, e->config))
            record(r, NULL, e->config, "skipped", e->error, now_s());
    }
}

/* Domains saved at host shutdown whose configs are not (or no more) in an autostart
 * directory: they ran when the host went down, so they come back, after the others. */
static void restore_others(run_ctx *r, const kxl_autostart_plan *plan)
{
    AUTOFREE char *dir = kx_path_join(r->p->lib_dir, "save");
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *f = list[i]->d_name;
        size_t len = strlen(f);
        AUTOFREE char *name = len > 5 && !strcmp(f + len - 5, ".save") ? kx_strndup(f, len - 5)
                                                                      : NULL;
        AUTOFREE char *path = kx_path_join(dir, f);
        const char *result;
        if (name && kxl_name_is_valid(name) && !kxl_autostart_find(plan, name) &&
            !recorded(r, path) && !stopping(r)) {
            double t = now_s();
            bool ok = restore_saved(r, name, path, &result) == 0;
            record(r, name, path, ok ? result : "failed", ok ? NULL : kx_err_msg(), t);
        }
        free(list[i]);
    }
    if (n >= 0)
        free(list);
}

static void run_plan(run_ctx *r)
{
    kxl_autostart_plan plan;
    if (kxl_autostart_scan(r->p, r->o->extra_dirs, &plan) < 0) {
        kx_log(KX_LOG_ERROR, "autostart: %s", kx_err_msg());
        return;
    }
    record_skipped(r, &plan);
    for (size_t i = 0; i < plan.n_batches && !stopping(r); i++)
        run_batch(r, &plan, &plan.batches[i]);
    restore_others(r, &plan);
    kxl_autostart_plan_dispose(&plan);
}

int kxl_autostart_run(const kxl_paths *p, const kxl_autostart_opts *o)
{
    AUTOFREE char *boot_id = kxl_boot_id();
    if (!boot_id)
        return -1;
    run_ctx r = {.p = p, .o = o, .record_path = kx_path_join(p->lib_dir, "autostart-last.json")};
    pthread_mutex_init(&r.lock, NULL);
    r.record = this_boot_record(r.record_path, boot_id);
    int rc = 0;
    if (!r.record) {
        kx_notice("autostart: done already in this boot (%s)", boot_id);
    } else if (save_record(&r) < 0) {
        rc = -1;
    } else {
        run_plan(&r);
        if (!stopping(&r))
            json_object_object_add(r.record, "finished", json_object_new_double(now_s()));
        rc = save_record(&r);
        kx_notice("autostart: %s", stopping(&r) ? "stopped; the next kxld of this boot goes on"
                                                : "done");
    }
    json_object_put(r.record);
    free(r.record_path);
    pthread_mutex_destroy(&r.lock);
    return rc;
}
