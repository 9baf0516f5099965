/* kxld_history.c - per-domain rings of samples (kxld_history.h). A domain's ring is found by
 * name; the few dozen domains of a host make a list as fast as anything else. */
#include "daemon/kxld_history.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"

typedef struct {
    char name[KXL_NAME_MAX + 1];
    unsigned domid;
    kxld_sample *ring;
    size_t next;            /* where the next sample goes */
    size_t n;               /* samples held, at most capacity */
    bool seen;              /* in the frame being recorded */
} dom_ring;

struct kxld_history {
    pthread_mutex_t mu;
    size_t capacity;
    dom_ring *doms;
    size_t n;
};

kxld_history *kxld_history_new(size_t capacity)
{
    kxld_history *h = kx_malloc0(sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    h->capacity = capacity ? capacity : 1;
    return h;
}

void kxld_history_free(kxld_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->doms[i].ring);
    free(h->doms);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

kxld_sample kxld_sample_of(const kxl_stats_frame *f, const kxl_domstats *d)
{
    kxld_sample s = {.time = f->wall, .started = d->info.started, .cpu_pct = d->cpu_pct,
                     .mem_kib = d->mem_kib};
    for (size_t i = 0; i < d->n_nets; i++) {
        s.net_rx_bytes += d->nets[i].rx_bytes;
        s.net_tx_bytes += d->nets[i].tx_bytes;
    }
    for (size_t i = 0; i < d->n_vbds; i++) {
        s.disk_rd_bytes += d->vbds[i].rd_bytes;
        s.disk_wr_bytes += d->vbds[i].wr_bytes;
    }
    return s;
}

static dom_ring *ring_of(kxld_history *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->doms[i].name, name) == 0)
            return &h->doms[i];
    return NULL;
}

/* The ring of d, new or emptied when d is not the domain it was. */
static dom_ring *ring_for(kxld_history *h, const kxl_dominfo *d)
{
    dom_ring *r = ring_of(h, d->name);
    if (!r) {
        h->doms = kx_realloc(h->doms, (h->n + 1) * sizeof(*h->doms));
        r = &h->doms[h->n++];
        *r = (dom_ring){.domid = d->domid};
        snprintf(r->name, sizeof(r->name), "%s", d->name);
        r->ring = kx_malloc0(h->capacity * sizeof(*r->ring));
    } else if (r->domid != d->domid) {
        r->domid = d->domid;
        r->n = r->next = 0;
    }
    return r;
}

static void ring_add(dom_ring *r, size_t capacity, const kxld_sample *s)
{
    r->ring[r->next] = *s;
    r->next = (r->next + 1) % capacity;
    if (r->n < capacity)
        r->n++;
}

/* Drops the rings of domains the frame did not have. */
static void forget_unseen(kxld_history *h)
{
    for (size_t i = h->n; i-- > 0;)
        if (!h->doms[i].seen) {
            free(h->doms[i].ring);
            h->doms[i] = h->doms[--h->n];
        }
}

void kxld_history_record(kxld_history *h, const kxl_stats_frame *f)
{
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->n; i++)
        h->doms[i].seen = false;
    for (size_t i = 0; i < f->n_doms; i++) {
        dom_ring *r = ring_for(h, &f->doms[i].info);
        kxld_sample s = kxld_sample_of(f, &f->doms[i]);
        ring_add(r, h->capacity, &s);
        r->seen = true;
    }
    forget_unseen(h);
    pthread_mutex_unlock(&h->mu);
}

ssize_t kxld_history_get(kxld_history *h, const char *domain, kxld_sample **samples_r)
{
    *samples_r = NULL;
    pthread_mutex_lock(&h->mu);
    dom_ring *r = ring_of(h, domain);
    ssize_t n = r ? (ssize_t)r->n : -1;
    if (r && r->n) {
        *samples_r = kx_malloc0(r->n * sizeof(**samples_r));
        size_t first = (r->next + h->capacity - r->n) % h->capacity;
        for (size_t i = 0; i < r->n; i++)
            (*samples_r)[i] = r->ring[(first + i) % h->capacity];
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

json_object *kxld_sample_to_json(const kxld_sample *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_double(s->time));
    json_object_object_add(o, "started", json_object_new_double(s->started));
    json_object_object_add(o, "cpu_pct", json_object_new_double(s->cpu_pct));
    json_object_object_add(o, "mem_kib", json_object_new_int64((int64_t)s->mem_kib));
    json_object_object_add(o, "net_rx_bytes", json_object_new_int64((int64_t)s->net_rx_bytes));
    json_object_object_add(o, "net_tx_bytes", json_object_new_int64((int64_t)s->net_tx_bytes));
    json_object_object_add(o, "disk_rd_bytes", json_object_new_int64((int64_t)s->disk_rd_bytes));
    json_object_object_add(o, "disk_wr_bytes", json_object_new_int64((int64_t)s->disk_wr_bytes));
    return o;
}
