/* kxld_jobs.c - the API's jobs (kxld_jobs.h): a list under a lock, newest first, trimmed to
 * KXLD_JOBS_KEPT finished ones. Jobs live in kxld's memory only: a kxld that restarts forgets
 * them (the operations' effects are in run/kxl, where every request looks). */
#include "daemon/kxld_jobs.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "util/buf.h"
#include "util/err.h"

typedef struct kxld_job {
    struct kxld_job *next;
    unsigned long long id;
    char *request;
    double started, ended;   /* wall-clock seconds; ended 0: running */
    int status;
    json_object *body;
    json_object *progress;   /* what the running job last said of its progress, or NULL */
} kxld_job;

struct kxld_jobs {
    pthread_mutex_t mu;
    pthread_cond_t ended;    /* broadcast when a job ends */
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

kxld_jobs *kxld_jobs_new(void)
{
    kxld_jobs *jobs = kx_malloc0(sizeof(*jobs));
    pthread_mutex_init(&jobs->mu, NULL);
    pthread_cond_init(&jobs->ended, NULL);
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
    pthread_cond_destroy(&jobs->ended);
    free(jobs);
}

unsigned long long kxld_jobs_start(kxld_jobs *jobs, const char *request)
{
    kxld_job *j = kx_malloc0(sizeof(*j));
    j->request = kx_strdup(request);
    j->started = now();
    pthread_mutex_lock(&jobs->mu);
    j->id = ++jobs->last_id;
    j->next = jobs->list;
    jobs->list = j;
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
            break;
        }
    trim(jobs);
    pthread_cond_broadcast(&jobs->ended);
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

json_object *kxld_jobs_wait(kxld_jobs *jobs, const char *id, int timeout_s)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_s;
    pthread_mutex_lock(&jobs->mu);
    const kxld_job *j;
    /* a running job is never trimmed; it is looked up again after each wake */
    while ((j = find(jobs, id)) && !j->ended &&
           pthread_cond_timedwait(&jobs->ended, &jobs->mu, &deadline) == 0)
        ;
    j = find(jobs, id);
    json_object *o = j ? job_json(j) : NULL;
    pthread_mutex_unlock(&jobs->mu);
    if (!o)
        kx_err(KXL_ERR_NOT_FOUND, "job '%s' does not exist (kxld keeps the last %d ended "
               "ones, and none across its restart)", id, KXLD_JOBS_KEPT);
    return o;
}

json_object *kxld_jobs_get(kxld_jobs *jobs, const char *id)
{
    return kxld_jobs_wait(jobs, id, 0);
}
