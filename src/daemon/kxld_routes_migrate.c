/* kxld_routes_migrate.c - POST /api/v1/domains/{name}/migrate: kxl migrate --relocation over
 * the API, always a job. The body names the receiving host's relocation server
 * ({"host": "HOST[:PORT]"}, or the name of one of kxld.conf's relocation_peers, which
 * GET /api/v1/peers lists; mutual TLS with the certificates of kxl tls-setup in
 * ROOT/etc/kxl/tls, as the command line's --relocation); ssh, the command line's other
 * transport, needs a terminal and is not offered here. The migration's progress (QEMU's
 * query-migrate, every half second) is the job's progress. */
#include "daemon/kxld_routes_migrate.h"

#include <string.h>

#include "daemon/kxld_body.h"
#include "daemon/kxld_relay_url.h"
#include "util/err.h"

static const char *dom(const kxld_request *rq)
{
    return http_param(rq->params, "name");
}

int kxld_list_peers(const kxld_request *rq, json_object **out_r)
{
    *out_r = kxld_peers_json(rq->peers, "relocation");
    return 200;
}

/* The body into *o and *host_r (owned by the body); the domain exists. */
static int migrate_args(const kxld_request *rq, kxl_migrate_opts *o, const char **host_r)
{
    static const char *const members[] = {"host", "paused", "bandwidth_mib", "downtime_ms",
                                          NULL};
    int64_t bw, downtime;
    kxl_dominfo d;
    *o = (kxl_migrate_opts){.relocation = true};
    if (kxld_body_only(rq->body, members) < 0 ||
        kxld_body_nonempty(rq->body, "host", true, host_r) < 0 ||
        kxld_body_bool(rq->body, "paused", false, &o->paused) < 0 ||
        kxld_body_int(rq->body, "bandwidth_mib", false, 0, &bw) < 0 ||
        kxld_body_int(rq->body, "downtime_ms", false, 0, &downtime) < 0)
        return -1;
    if (bw < 0 || bw > 1 << 20 || downtime < 0 || downtime > 60000) {
        kx_err(KXL_ERR_INVALID, "request body: 'bandwidth_mib' is 0 to 1048576 MiB/s, "
               "'downtime_ms' 0 to 60000 ms");
        return -1;
    }
    o->bandwidth_mib = (unsigned)bw;
    o->downtime_ms = (unsigned)downtime;
    const char *peer = kxld_peer_address(rq->peers, *host_r);
    if (peer)
        *host_r = peer;
    return kxl_domain_lookup(rq->paths, dom(rq), &d);
}

int kxld_migrate_check(const kxld_request *rq)
{
    kxl_migrate_opts o;
    const char *host;
    return migrate_args(rq, &o, &host);
}

typedef struct {
    kxld_jobs *jobs;
    unsigned long long id;
    json_object *figures;   /* the final figures (figures_json), once QEMU gave them */
} migrate_job;

static void add_u64(json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* The final figures, as kxl migrate prints them: "migration: 71.0 MiB sent in 1.6 s over 3
 * passes, downtime 17 ms" (the MigrateResult schema). */
static json_object *figures_json(const kxl_migrate_progress *pr)
{
    json_object *o = json_object_new_object();
    double mib = (double)pr->transferred / (1 << 20);
    add_u64(o, "transferred", pr->transferred);
    json_object_object_add(o, "mib_sent", json_object_new_double(mib));
    json_object_object_add(o, "seconds", json_object_new_double(pr->total_time_ms / 1000.0));
    json_object_object_add(o, "passes", json_object_new_int((int)pr->pass));
    json_object_object_add(o, "downtime_ms", json_object_new_int((int)pr->downtime_ms));
    json_object_object_add(o, "postcopy", json_object_new_boolean(pr->postcopy));
    if (pr->postcopy)   /* its downtime_ms is 0: QEMU measures none for postcopy */
        add_u64(o, "postcopy_ms", pr->postcopy_ms);
    return o;
}

/* QEMU's figures as the job's progress; the last ones (the handover's, or with postcopy the
 * "done" that has the downtime) are the job's result. */
static void on_progress(const kxl_migrate_progress *pr, void *opaque)
{
    migrate_job *j = opaque;
    if (kxl_migrate_progress_final(pr)) {
        json_object_put(j->figures);
        j->figures = figures_json(pr);
    }
    json_object *p = json_object_new_object();
    json_object_object_add(p, "phase", json_object_new_string(pr->phase));
    json_object_object_add(p, "percent", json_object_new_int(pr->percent));
    add_u64(p, "transferred", pr->transferred);
    add_u64(p, "remaining", pr->remaining);
    add_u64(p, "total", pr->total);
    add_u64(p, "rate", pr->rate);
    json_object_object_add(p, "pass", json_object_new_int((int)pr->pass));
    kxld_jobs_progress(j->jobs, j->id, p);
}

int kxld_migrate_domain(const kxld_request *rq, json_object **out_r)
{
    kxl_migrate_opts o;
    const char *host;
    migrate_job j = {.jobs = rq->jobs, .id = rq->job_id};
    if (migrate_args(rq, &o, &host) < 0)
        return -1;
    if (kxl_domain_migrate(rq->paths, dom(rq), host, &o, on_progress, &j) < 0) {
        json_object_put(j.figures);
        return -1;
    }
    /* QEMU gave figures at its handover, which comes before every success */
    *out_r = j.figures ? j.figures : figures_json(&(kxl_migrate_progress){.phase = "done"});
    return 200;
}
