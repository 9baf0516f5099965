/* kxld_jobs.c - the API's jobs (kxld_jobs.h): a list under a lock, newest first, trimmed to
 * KXLD_JOBS_KEPT finished ones, each written to DIR/ID.json when it starts and when it ends.
 * A kxld that dies mid-job cannot finish it, and the operation's own caller (the worker's
 * connection to the domain's supervisor) died with it: the supervisor cancels what can be
 * cancelled (a save, a dump, a snapshot being taken: sv_job_owner_gone), so the next kxld
 * reports the job as failed. */
#include "daemon/kxld_jobs.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/http_status.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

typedef struct kxld_job {
    struct kxld_job *next;
    unsigned long long id;
    char *request;
    double started, ended;   /* wall-clock seconds; ended 0: running */
    int status;
    json_object *body;
    json_object *progress;   /* what the running job last said of its progress, or NULL */
    long long updates;       /* how many times progress was set */
    int cancel_fd;           /* the route's, while it can be cancelled by kxld; else -1 */
    bool cancelled;          /* a cancel was handed to cancel_fd */
} kxld_job;

struct kxld_jobs {
    char *dir;               /* where each job is a file; NULL: none */
    pthread_mutex_t mu;
    pthread_cond_t changed;  /* broadcast when a job's progress changes and when it ends */
    kxld_job *list;          /* newest first */
    unsigned long long last_id;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)(t.tv_nsec / 1000000) / 1e3;
}

static void job_free(kxld_job *j)
{
    free(j->request);
    json_object_put(j->body);
    json_object_put(j->progress);
    free(j);
}

static json_object *job_json(const kxld_job *j);
static void trim(kxld_jobs *jobs);

/* DIR/ID.json; NULL without a directory. Caller frees. */
static char *job_file(const kxld_jobs *jobs, unsigned long long id)
{
    if (!jobs->dir)
        return NULL;
    AUTOFREE char *base = kx_asprintf("%llu.json", id);
    return kx_path_join(jobs->dir, base);
}

/* Writes j's file (as GET /api/v1/jobs/{id} shows it); a failure is logged, the job goes on. */
static void job_save(const kxld_jobs *jobs, const kxld_job *j)
{
    AUTOFREE char *path = job_file(jobs, j->id);
    if (!path)
        return;
    AUTOPTR(json_object) o = job_json(j);
    const char *text = kx_json_text(o);
    if (kx_write_file_atomic(path, text, strlen(text), 0600) < 0)
        kx_warn("kxld: job %llu: %s", j->id, kx_err_msg());
}

static void job_unlink(const kxld_jobs *jobs, unsigned long long id)
{
    AUTOFREE char *path = job_file(jobs, id);
    if (path)
        unlink(path);
}

/* A job as its file has it; one a previous kxld left running fails now (*failed_now_r).
 * NULL when the file is not a job's. */
static kxld_job *job_load(const char *path, unsigned long long id, bool *failed_now_r)
{
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    const char *state = kx_json_str(o, "state", NULL), *request = kx_json_str(o, "request", NULL);
    if (!o || !state || !request || kx_json_int(o, "id", 0) != (int64_t)id)
        return NULL;
    kxld_job *j = kx_malloc0(sizeof(*j));
    j->id = id;
    j->cancel_fd = -1;
    j->request = kx_strdup(request);
    json_object *v = NULL;
    j->started = json_object_object_get_ex(o, "started", &v) ? json_object_get_double(v) : 0;
    if ((*failed_now_r = strcmp(state, "running") == 0)) {
        j->ended = now();
        j->status = http_status_of(KXL_ERR_INTERNAL);
        j->body = http_error_json(KXL_ERR_INTERNAL, "kxld restarted while this job ran: it "
                                  "was not finished (a save, a dump or a snapshot being taken "
                                  "is cancelled by the domain's supervisor, which leaves "
                                  "nothing of it; see the domain's state and events)");
        return j;
    }
    j->ended = json_object_object_get_ex(o, "ended", &v) ? json_object_get_double(v) : now();
    j->status = (int)kx_json_int(o, "status", 500);
    bool ok = strcmp(state, "succeeded") == 0;
    if (ok && json_object_object_get_ex(o, "result", &v) && v) {
        j->body = json_object_get(v);
    } else if (!ok && json_object_object_get_ex(o, "error", &v) && v) {
        j->body = json_object_new_object();
        json_object_object_add(j->body, "error", json_object_get(v));
    }
    return j;
}

/* Newest first: j goes before the first job with a smaller id. */
static void insert_sorted(kxld_jobs *jobs, kxld_job *j)
{
    kxld_job **p = &jobs->list;
    while (*p && (*p)->id > j->id)
        p = &(*p)->next;
    j->next = *p;
    *p = j;
}

static void load_dir(kxld_jobs *jobs)
{
    DIR *d = opendir(jobs->dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char *end;
        unsigned long long id = strtoull(e->d_name, &end, 10);
        if (e->d_name[0] < '1' || e->d_name[0] > '9' || strcmp(end, ".json") != 0)
            continue;
        AUTOFREE char *path = kx_path_join(jobs->dir, e->d_name);
        bool failed_now = false;
        kxld_job *j = job_load(path, id, &failed_now);
        if (!j) {
            kx_warn("kxld: '%s' is no job's record: left alone", path);
            continue;
        }
        insert_sorted(jobs, j);
        if (failed_now) {
            kx_notice("kxld: job %llu (%s) was running when kxld stopped: failed", id,
                      j->request);
            job_save(jobs, j);
        }
        if (id > jobs->last_id)
            jobs->last_id = id;
    }
    if (d)
        closedir(d);
}

kxld_jobs *kxld_jobs_new(const char *dir)
{
    kxld_jobs *jobs = kx_malloc0(sizeof(*jobs));
    pthread_mutex_init(&jobs->mu, NULL);
    pthread_cond_init(&jobs->changed, NULL);
    if (dir && kx_mkdir_p(dir, 0700) == 0) {
        jobs->dir = kx_strdup(dir);
        load_dir(jobs);
        trim(jobs);
    } else if (dir) {
        kx_warn("kxld: jobs are kept in memory only: %s", kx_err_msg());
    }
    return jobs;
}

void kxld_jobs_free(kxld_jobs *jobs)
{
    if (!jobs)
        return;
    for (kxld_job *j = jobs->list, *next; j; j = next) {
        next = j->next;
        job_free(j);
    }
    pthread_mutex_destroy(&jobs->mu);
    pthread_cond_destroy(&jobs->changed);
    free(jobs->dir);
    free(jobs);
}

unsigned long long kxld_jobs_start(kxld_jobs *jobs, const char *request)
{
    kxld_job *j = kx_malloc0(sizeof(*j));
    j->cancel_fd = -1;
    j->request = kx_strdup(request);
    j->started = now();
    pthread_mutex_lock(&jobs->mu);
    j->id = ++jobs->last_id;
    j->next = jobs->list;
    jobs->list = j;
    job_save(jobs, j);
    pthread_mutex_unlock(&jobs->mu);
    return j->id;
}

/* Drops the finished jobs beyond the newest KXLD_JOBS_KEPT; under the lock. */
static void trim(kxld_jobs *jobs)
{
    size_t finished = 0;
    for (kxld_job **p = &jobs->list; *p;) {
        kxld_job *j = *p;
        if (j->ended > 0 && ++finished > KXLD_JOBS_KEPT) {
            *p = j->next;
            job_unlink(jobs, j->id);
            job_free(j);
        } else {
            p = &j->next;
        }
    }
}

void kxld_jobs_finish(kxld_jobs *jobs, unsigned long long id, int status, json_object *body)
{
    pthread_mutex_lock(&jobs->mu);
    for (kxld_job *j = jobs->list; j; j = j->next)
        if (j->id == id) {
            j->ended = now();
            j->status = status;
            j->body = body;
            body = NULL;
            job_save(jobs, j);
            break;
        }
    trim(jobs);
    pthread_cond_broadcast(&jobs->changed);
    pthread_mutex_unlock(&jobs->mu);
    json_object_put(body);   /* not found: trimmed meanwhile, which a running job never is */
}

void kxld_jobs_progress(kxld_jobs *jobs, unsigned long long id, json_object *progress)
{
    pthread_mutex_lock(&jobs->mu);
    for (kxld_job *j = jobs->list; j; j = j->next)
        if (j->id == id && !j->ended) {
            json_object_put(j->progress);
            j->progress = progress;
            progress = NULL;
            j->updates++;
            pthread_cond_broadcast(&jobs->changed);
            break;
        }
    pthread_mutex_unlock(&jobs->mu);
    json_object_put(progress);
}

static json_object *job_json(const kxld_job *j)
{
    bool ok = j->status >= 200 && j->status < 300;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64((int64_t)j->id));
    json_object_object_add(o, "request", json_object_new_string(j->request));
    json_object_object_add(o, "state", json_object_new_string(!j->ended ? "running"
                                                              : ok      ? "succeeded"
                                                                        : "failed"));
    json_object_object_add(o, "started", json_object_new_double(j->started));
    json_object_object_add(o, "ended", j->ended ? json_object_new_double(j->ended) : NULL);
    json_object_object_add(o, "status", j->ended ? json_object_new_int(j->status) : NULL);
    json_object *result = NULL, *error = NULL;
    if (j->ended && ok)
        result = json_object_get(j->body);
    else if (j->ended && json_object_object_get_ex(j->body, "error", &error))
        json_object_get(error);   /* a failure's body is {"error": {...}} */
    json_object_object_add(o, "result", result);
    json_object_object_add(o, "error", error);
    json_object_object_add(o, "progress", json_object_get(j->progress));
    json_object_object_add(o, "updates", json_object_new_int64(j->updates));
    return o;
}

/* The job of id (its digits), or NULL; under the lock. */
static const kxld_job *find(const kxld_jobs *jobs, const char *id)
{
    char *end;
    unsigned long long n = strtoull(id, &end, 10);
    for (const kxld_job *j = jobs->list; j && *id && *end == '\0'; j = j->next)
        if (j->id == n)
            return j;
    return NULL;
}

json_object *kxld_jobs_wait(kxld_jobs *jobs, const char *id, int timeout_s, long long after)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_s;
    pthread_mutex_lock(&jobs->mu);
    const kxld_job *j;
    /* a running job is never trimmed; it is looked up again after each wake */
    while ((j = find(jobs, id)) && !j->ended && (after < 0 || j->updates <= after) &&
           pthread_cond_timedwait(&jobs->changed, &jobs->mu, &deadline) == 0)
        ;
    j = find(jobs, id);
    json_object *o = j ? job_json(j) : NULL;
    pthread_mutex_unlock(&jobs->mu);
    if (!o)
        kx_err(KXL_ERR_NOT_FOUND, "job '%s' does not exist (kxld keeps the last %d ended "
               "ones and every running one)", id, KXLD_JOBS_KEPT);
    return o;
}

json_object *kxld_jobs_get(kxld_jobs *jobs, const char *id)
{
    return kxld_jobs_wait(jobs, id, 0, -1);
}

/* The job of the number id, or NULL; under the lock. */
static kxld_job *find_id(kxld_jobs *jobs, unsigned long long id)
{
    for (kxld_job *j = jobs->list; j; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

void kxld_jobs_set_cancel(kxld_jobs *jobs, unsigned long long id, int fd)
{
    pthread_mutex_lock(&jobs->mu);
    kxld_job *j = find_id(jobs, id);
    if (j)
        j->cancel_fd = fd;
    pthread_mutex_unlock(&jobs->mu);
}

bool kxld_jobs_cancel(kxld_jobs *jobs, const char *id)
{
    struct signalfd_siginfo si = {.ssi_signo = SIGTERM};
    bool taken = false;
    pthread_mutex_lock(&jobs->mu);
    kxld_job *j = (kxld_job *)find(jobs, id);
    if (j && !j->ended && j->cancel_fd >= 0) {
        /* one record, under PIPE_BUF: written whole or not at all (a full pipe has one) */
        ssize_t n = write(j->cancel_fd, &si, sizeof(si));
        taken = n == (ssize_t)sizeof(si) || (n < 0 && errno == EAGAIN);
        j->cancelled |= taken;
    }
    pthread_mutex_unlock(&jobs->mu);
    return taken;
}

bool kxld_jobs_cancelled(kxld_jobs *jobs, unsigned long long id)
{
    pthread_mutex_lock(&jobs->mu);
    kxld_job *j = find_id(jobs, id);
    bool cancelled = j && j->cancelled;
    pthread_mutex_unlock(&jobs->mu);
    return cancelled;
}
