/* kxld_sampler.c - the history's sampling thread (kxld_sampler.h). It keeps one stats reader
 * (its connections to the supervisors) and the previous frame, so CPU percentages are those of
 * `kxl top` over the same 5 s. A reading that fails is logged and the next one tried. */
#include "daemon/kxld_sampler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdbool.h>
#include <time.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

struct kxld_sampler {
    const kxl_paths *paths;
    kxld_history *history;
    ev_hub *events;
    pthread_t thread;
    pthread_mutex_t mu;     /* guards stop */
    pthread_cond_t wake;
    bool stop;
};

/* A "stats" event per domain of f. */
static void post_samples(ev_hub *events, const kxl_stats_frame *f)
{
    for (size_t i = 0; i < f->n_doms && events; i++) {
        kxld_sample s = kxld_sample_of(f, &f->doms[i]);
        AUTOPTR(json_object) o = json_object_new_object();
        json_object_object_add(o, "event", json_object_new_string("stats"));
        json_object_object_add(o, "domain", json_object_new_string(f->doms[i].info.name));
        json_object_object_add(o, "time", json_object_new_double(s.time));
        json_object_object_add(o, "data", kxld_sample_to_json(&s));
        ev_hub_post(events, f->doms[i].info.name, kx_json_text(o));
    }
}

/* Waits until the next sample is due or the sampler stops: whether it stopped. */
static bool wait_step(kxld_sampler *s, const struct timespec *due)
{
    pthread_mutex_lock(&s->mu);
    while (!s->stop && pthread_cond_timedwait(&s->wake, &s->mu, due) != ETIMEDOUT)
        ;
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static void *sampler_thread(void *arg)
{
    kxld_sampler *s = arg;
    kxl_stats_reader *r = kxl_stats_reader_new(s->paths);
    kxl_stats_frame prev = {0};
    bool have_prev = false;
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    do {
        kxl_stats_frame f;
        if (kxl_stats_read(r, &f) < 0) {
            kx_warn("kxld history: %s", kx_err_msg());
        } else {
            kxl_top_rates(&f, have_prev ? &prev : NULL);
            kxld_history_record(s->history, &f);
            post_samples(s->events, &f);
            if (have_prev)
                kxl_stats_frame_dispose(&prev);
            prev = f;
            have_prev = true;
        }
        due.tv_sec += KXLD_HISTORY_STEP_S;
    } while (!wait_step(s, &due));
    if (have_prev)
        kxl_stats_frame_dispose(&prev);
    kxl_stats_reader_free(r);
    return NULL;
}

kxld_sampler *kxld_sampler_new(const kxl_paths *p, kxld_history *h, ev_hub *events)
{
    kxld_sampler *s = kx_malloc0(sizeof(*s));
    *s = (kxld_sampler){.paths = p, .history = h, .events = events};
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    int e = pthread_create(&s->thread, NULL, sampler_thread, s);
    if (e != 0) {
        errno = e;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot start the history's thread");
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

void kxld_sampler_free(kxld_sampler *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
