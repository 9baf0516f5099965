/* kxld_routes_image.c - POST /api/v1/images: kxl create-image over the API, always a job of
 * the API. The body's members are create-image's long options ({"hostname": "web-01",
 * "genpass": true} for --hostname=web-01 --genpass), set through the same option table and
 * checked by the same image_opts_finish as the command line's, so a bad one is refused at
 * once (400) with the command line's words; then image_create runs in the job's worker, its
 * steps shown as the job's progress. */
#include "daemon/kxld_routes_image.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "image/create_image.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

/* Options the API does not take: --role runs a host script as root, and --output puts the
 * config outside etc/kxl/, where the API's callers could not start it from. */
static const char *const refused[] = {"role", "output", NULL};

/* Options that name a file or directory on the host: kxld's working directory means nothing
 * to a client, so they must be absolute. */
static const char *const paths[] = {"dir", "install-source", "ssh-key", NULL};

static bool listed(const char *const *list, const char *key)
{
    for (; *list; list++)
        if (strcmp(key, *list) == 0)
            return true;
    return false;
}

/* The body's members as options into *o (initialised here; the caller disposes it). */
static int opts_of_body(json_object *body, image_opts *o)
{
    image_opts_init(o);
    if (!body || !json_object_object_get_ex(body, "hostname", NULL)) {
        kx_err(KXL_ERR_INVALID, "request body: 'hostname' is required");
        return -1;
    }
    json_object_object_foreach(body, key, val) {
        json_type t = json_object_get_type(val);
        if (listed(refused, key)) {
            kx_err(KXL_ERR_INVALID, "request body: '%s' is for the command line only "
                   "(kxl create-image --%s)", key, key);
            return -1;
        }
        if (listed(paths, key) && t == json_type_string && json_object_get_string(val)[0] != '/') {
            kx_err(KXL_ERR_INVALID, "request body: '%s' '%s': not an absolute path", key,
                   json_object_get_string(val));
            return -1;
        }
        if (t == json_type_boolean) {
            if (json_object_get_boolean(val) && image_opts_set(o, key, NULL) < 0)
                return -1;
        } else if (t == json_type_string || t == json_type_int) {
            if (image_opts_set(o, key, json_object_get_string(val)) < 0)
                return -1;
        } else {
            kx_err(KXL_ERR_INVALID, "request body: '%s' must be a string, a number or a "
                   "boolean", key);
            return -1;
        }
    }
    return 0;
}

/* The options of rq's body, with the host's defaults, checked as kxl create-image checks. */
static int opts_of_request(const kxld_request *rq, image_opts *o)
{
    if (opts_of_body(rq->body, o) < 0)
        return -1;
    o->lib_dir = kx_strdup(rq->paths->lib_dir);
    return image_opts_finish(o, rq->paths->etc_dir);
}

int kxld_create_image_check(const kxld_request *rq)
{
    image_opts o;
    int rc = opts_of_request(rq, &o);
    image_opts_dispose(&o);
    return rc;
}

typedef struct {
    kxld_jobs *jobs;
    unsigned long long id;
} image_job;

/* A step of the run: the job's progress {"step", "total", "what"}. */
static void on_step(int step, int total, const char *what, void *opaque)
{
    image_job *j = opaque;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "step", json_object_new_int(step));
    json_object_object_add(p, "total", json_object_new_int(total));
    json_object_object_add(p, "what", json_object_new_string(what));
    kxld_jobs_progress(j->jobs, j->id, p);
}

static void add_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

/* What the run made, as kxl create-image's summary says it (the summary's text too). */
static json_object *result_json(const image_opts *o, const image_result *r)
{
    json_object *out = json_object_new_object();
    add_str(out, "name", o->hostname);
    add_str(out, "config_file", r->cfg_path);
    add_str(out, "disk", r->disk);
    add_str(out, "swap", r->swap);
    add_str(out, "mac", r->mac);
    add_str(out, "kernel", r->kernel);
    add_str(out, "password", r->password);
    json_object_object_add(out, "from_cache", json_object_new_boolean(r->from_cache));
    json_object_object_add(out, "seconds", json_object_new_double(r->seconds));
    AUTOFREE char *summary = image_summary_text(o, r);
    add_str(out, "summary", summary);
    explicit_bzero(summary, strlen(summary));   /* it holds the password */
    return out;
}

/* Runs the image as *o says, cancellable through POST /api/v1/jobs/{id}/cancel while it runs
 * (a SIGTERM record through a pipe: image_create undoes what it made). */
static int create_cancellable(const kxld_request *rq, image_opts *o, image_result *r)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot make a pipe for the job's cancel");
        return -1;
    }
    o->cancel_fd = p[0];
    if (rq->job_id)
        kxld_jobs_set_cancel(rq->jobs, rq->job_id, p[1]);
    int rc = image_create(o, r);
    if (rq->job_id)
        kxld_jobs_set_cancel(rq->jobs, rq->job_id, -1);
    close(p[0]);
    close(p[1]);
    o->cancel_fd = -1;
    if (rc < 0 && rq->job_id && kxld_jobs_cancelled(rq->jobs, rq->job_id))
        kx_err(KXL_ERR_STATE, "create-image of '%s' was cancelled; nothing was left behind",
               o->hostname);
    return rc;
}

int kxld_create_image(const kxld_request *rq, json_object **out_r)
{
    image_opts o;
    image_result r;
    image_job job = {.jobs = rq->jobs, .id = rq->job_id};
    if (opts_of_request(rq, &o) < 0) {
        image_opts_dispose(&o);
        return -1;
    }
    o.progress = on_step;
    o.progress_opaque = &job;
    int rc = create_cancellable(rq, &o, &r);
    if (rc == 0) {
        *out_r = result_json(&o, &r);
        image_result_dispose(&r);
    }
    image_opts_dispose(&o);
    return rc < 0 ? -1 : 201;
}
