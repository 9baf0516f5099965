/* kxld_jobs.h - the API's jobs: a request that asks for it (Prefer: respond-async) on a long
 * route is answered 202 at once with a job, whose end (the status and body the request would
 * have had) is kept for GET /api/v1/jobs/{id}. Each job is also a file of a directory, so a
 * kxld that starts after one that died knows its jobs: those that were running failed with it.
 * Thread-safe: workers finish jobs while the routes read them. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

typedef struct kxld_jobs kxld_jobs;

/* The finished jobs kept (the oldest goes first); running ones are always kept. */
#define KXLD_JOBS_KEPT 256

/* The jobs of dir (ROOT/var/lib/kxl/kxld-jobs; made 0700 when missing), those a previous kxld
 * left running now failed (KXL_ERR_INTERNAL, "kxld restarted ..."), and new ids after theirs;
 * dir NULL: in memory only. A file that does not read is skipped with a warning. */
kxld_jobs *kxld_jobs_new(const char *dir);
/* NULL-safe. */
void kxld_jobs_free(kxld_jobs *jobs);

/* A running job for request ("METHOD PATH"); its id (from 1). */
unsigned long long kxld_jobs_start(kxld_jobs *jobs, const char *request);
/* Job id ended with this HTTP status and body (taken; NULL: none). */
void kxld_jobs_finish(kxld_jobs *jobs, unsigned long long id, int status, json_object *body);
/* Running job id's progress (taken): an object its route defines, shown by kxld_jobs_get as
 * "progress" (kept once the job ended: its last step), its count of them as "updates"; wakes
 * the waits for a change (kxld_jobs_wait with after >= 0). Ignored for an ended or unknown
 * job. */
void kxld_jobs_progress(kxld_jobs *jobs, unsigned long long id, json_object *progress);
/* Job id as JSON (caller puts): {"id", "request", "state": running|succeeded|failed,
 * "started", "ended", "status", "result", "error", "progress", "updates"}; NULL with
 * kx_err(KXL_ERR_NOT_FOUND). */
json_object *kxld_jobs_get(kxld_jobs *jobs, const char *id);
/* As kxld_jobs_get, once the job has ended, or (after >= 0) its "updates" is past after, or
 * timeout_s seconds have passed (then it may still be running, unchanged). Blocks: for a
 * worker thread. */
json_object *kxld_jobs_wait(kxld_jobs *jobs, const char *id, int timeout_s, long long after);

/* Running job id can be cancelled by kxld itself while fd >= 0 (a pipe's write end, the
 * route's, non-blocking): kxld_jobs_cancel writes a struct signalfd_siginfo of SIGTERM to it,
 * as image_opts.cancel_fd reads. fd -1: no more (set so before the route closes it). */
void kxld_jobs_set_cancel(kxld_jobs *jobs, unsigned long long id, int fd);
/* Hands a cancel to running job id's fd; false when it has none (not kxld's to cancel, or
 * ended). */
bool kxld_jobs_cancel(kxld_jobs *jobs, const char *id);
/* Whether job id was handed a cancel. */
bool kxld_jobs_cancelled(kxld_jobs *jobs, unsigned long long id);
