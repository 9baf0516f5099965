/* ws_events.c - GET /api/v1/events: every domain's events on a WebSocket, one JSON text frame
 * each (include/kxl/events.h gives their shape). One thread, the hub, follows all supervisors
 * with the library's kxl_host_watch (the daemon's loop never waits for a supervisor) and, at
 * each of its ticks, looks at the domain list for kxld's own events:
 *
 *   {"event": "appeared" | "gone", "domain": NAME, "time": SECONDS, "data": {"domid": N}}
 *
 * "appeared" comes before a domain's first relayed event; "gone" once the domain has left the
 * list (after its "destroyed", or without one when its supervisor was killed), so that a
 * client that reads the list on "gone" no longer finds it. The thread queues events for
 * the loop and wakes it; the loop copies each to the clients whose ?domain= filter it passes.
 * A client that lets EV_CLIENT_MAX events wait is dropped, never waited for. */
#include "daemon/ws_events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "daemon/ws.h"
#include "kxl/domcfg.h"
#include "kxl/events.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/json.h"

#define EV_SCAN_MS 200      /* kxld's own look at the domains, at most this often */
#define EV_CLIENT_MAX 1024  /* events waiting for one client; one more and it is dropped */

/* One event as a WebSocket frame (LWS_PRE bytes, then the JSON). */
typedef struct ev_item {
    struct ev_item *next;
    char *domain;
    size_t len;
    unsigned char *frame;
} ev_item;

typedef struct ev_client ev_client;

struct ev_hub {
    struct lws_context *ctx;
    const kxl_paths *paths;
    pthread_t thread;
    bool thread_running;
    atomic_bool stop;
    pthread_mutex_t mu;     /* guards the queue */
    ev_item *queue, **queue_tail;
    /* the thread's own */
    kx_strv known;          /* the domains kxld has announced */
    kx_strv ended;          /* known ones whose "destroyed" came: "gone" once out of the list */
    long long last_scan_ms;
    bool scanned;
    /* the loop's own */
    ev_client *clients;
};

struct ev_client {
    ev_client *next;
    ev_hub *hub;
    struct lws *wsi;
    char *domain;           /* only this domain's events; NULL: all */
    ev_item *head, **tail;
    size_t queued;
    bool too_slow;
};

static ev_item *item_new(const char *domain, const char *json, size_t len)
{
    ev_item *it = kx_malloc0(sizeof(*it));
    it->domain = kx_strdup(domain);
    it->len = len;
    it->frame = kx_malloc0(LWS_PRE + len + 1);
    memcpy(it->frame + LWS_PRE, json, len);
    return it;
}

static void items_free(ev_item *it)
{
    while (it) {
        ev_item *next = it->next;
        free(it->domain);
        free(it->frame);
        free(it);
        it = next;
    }
}

/* ---- the hub's thread ---- */

void ev_hub_post(ev_hub *h, const char *domain, const char *json)
{
    ev_item *it = item_new(domain, json, strlen(json));
    pthread_mutex_lock(&h->mu);
    *h->queue_tail = it;
    h->queue_tail = &it->next;
    pthread_mutex_unlock(&h->mu);
    lws_cancel_service(h->ctx);
}

/* kxld's own event about domain (domid < 0: not known any more). */
static void hub_announce(ev_hub *h, const char *event, const char *domain, long long domid)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    AUTOPTR(json_object) o = json_object_new_object();
    json_object_object_add(o, "event", json_object_new_string(event));
    json_object_object_add(o, "domain", json_object_new_string(domain));
    json_object_object_add(o, "time", json_object_new_double((double)now.tv_sec +
                                                             (double)(now.tv_nsec / 1000000) / 1e3));
    json_object *data = json_object_new_object();
    if (domid >= 0)
        json_object_object_add(data, "domid", json_object_new_int64(domid));
    json_object_object_add(o, "data", data);
    ev_hub_post(h, domain, kx_json_text(o));
}

static ssize_t known_index(const kx_strv *known, const char *name)
{
    for (size_t i = 0; i < known->n; i++)
        if (strcmp(known->v[i], name) == 0)
            return (ssize_t)i;
    return -1;
}

static bool in_list(const kxl_dominfo *d, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].name, name) == 0)
            return true;
    return false;
}

/* Forgets domain. */
static void known_drop(kx_strv *known, const char *domain)
{
    ssize_t i = known_index(known, domain);
    if (i < 0)
        return;
    free(known->v[i]);
    known->v[i] = known->v[--known->n];
    known->v[known->n] = NULL;
}

/* Announces the domains that came and went since the last look (the first look only learns
 * what is there). */
static void hub_scan(ev_hub *h)
{
    if (h->scanned && kx_mono_ms() - h->last_scan_ms < EV_SCAN_MS)
        return;
    h->last_scan_ms = kx_mono_ms();
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n;
    if (kxl_domain_list(h->paths, &d, &n) < 0) {
        kx_warn("kxld events: %s", kx_err_msg());
        return;
    }
    kx_strv now = KX_STRV_INIT;
    for (size_t i = 0; i < h->known.n; i++)
        if (!in_list(d, n, h->known.v[i])) {
            hub_announce(h, "gone", h->known.v[i], -1);
            known_drop(&h->ended, h->known.v[i]);
        }
    for (size_t i = 0; i < n; i++) {
        if (h->scanned && known_index(&h->known, d[i].name) < 0)
            hub_announce(h, "appeared", d[i].name, d[i].domid);
        kx_strv_push(&now, d[i].name);
    }
    kx_strv_dispose(&h->known);
    h->known = now;
    h->scanned = true;
}

/* "destroyed" is a supervisor's last event: a domain of that name that speaks again is
 * another one (created anew before a look saw the first go), and the first is gone. */
static void hub_forget_ended(ev_hub *h, const char *domain)
{
    if (known_index(&h->ended, domain) < 0)
        return;
    hub_announce(h, "gone", domain, -1);
    known_drop(&h->ended, domain);
    known_drop(&h->known, domain);
}

/* A supervisor's event, or a tick (ev NULL). A domain is announced before its first event;
 * after its "destroyed" it waits for the look that finds it out of the list (hub_scan). */
static int hub_event(const kxl_event *ev, void *opaque)
{
    ev_hub *h = opaque;
    if (!ev) {
        if (atomic_load(&h->stop))
            return 1;
        hub_scan(h);
        return 0;
    }
    bool last = strcmp(ev->name, "destroyed") == 0;
    if (!last && ev->seq > 0)   /* (seq 0: the supervisor's "dropped" notice) */
        hub_forget_ended(h, ev->domain);
    if (!last && known_index(&h->known, ev->domain) < 0) {
        kxl_dominfo d;
        bool found = kxl_domain_lookup(h->paths, ev->domain, &d) == 0;
        kx_err_clear();
        hub_announce(h, "appeared", ev->domain, found ? (long long)d.domid : -1);
        kx_strv_push(&h->known, ev->domain);
    }
    ev_hub_post(h, ev->domain, ev->json);
    if (last && known_index(&h->known, ev->domain) >= 0 &&
        known_index(&h->ended, ev->domain) < 0)
        kx_strv_push(&h->ended, ev->domain);
    return 0;
}

static void *hub_thread(void *arg)
{
    ev_hub *h = arg;
    while (!atomic_load(&h->stop)) {
        if (kxl_host_watch(h->paths, KXL_WATCH_TICK, hub_event, h) < 0) {
            kx_warn("kxld events: %s; watching again in a second", kx_err_msg());
            for (int i = 0; i < 10 && !atomic_load(&h->stop); i++)
                usleep(100 * 1000);
        }
    }
    return NULL;
}

ev_hub *ev_hub_new(struct lws_context *ctx, const kxl_paths *paths)
{
    ev_hub *h = kx_malloc0(sizeof(*h));
    h->ctx = ctx;
    h->paths = paths;
    h->queue_tail = &h->queue;
    pthread_mutex_init(&h->mu, NULL);
    int e = pthread_create(&h->thread, NULL, hub_thread, h);
    if (e != 0) {
        errno = e;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot start the events thread");
        ev_hub_free(h);
        return NULL;
    }
    h->thread_running = true;
    return h;
}

void ev_hub_stop(ev_hub *h)
{
    if (!h || !h->thread_running)
        return;
    atomic_store(&h->stop, true);
    pthread_join(h->thread, NULL);
    h->thread_running = false;
}

void ev_hub_free(ev_hub *h)
{
    if (!h)
        return;
    ev_hub_stop(h);
    items_free(h->queue);
    kx_strv_dispose(&h->known);
    kx_strv_dispose(&h->ended);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* ---- the loop's side ---- */

static void client_push(ev_client *c, const ev_item *it)
{
    if (c->too_slow)
        return;
    if (c->queued == EV_CLIENT_MAX) {
        c->too_slow = true;   /* the next writable closes it */
        items_free(TAKE_PTR(c->head));
        c->tail = &c->head;
    } else {
        ev_item *copy = item_new(it->domain, (const char *)it->frame + LWS_PRE, it->len);
        *c->tail = copy;
        c->tail = &copy->next;
        c->queued++;
    }
    lws_callback_on_writable(c->wsi);
}

void ev_hub_deliver(ev_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    ev_item *list = TAKE_PTR(h->queue);
    h->queue_tail = &h->queue;
    pthread_mutex_unlock(&h->mu);
    for (ev_item *it = list; it; it = it->next)
        for (ev_client *c = h->clients; c; c = c->next)
            if (!c->domain || strcmp(c->domain, it->domain) == 0)
                client_push(c, it);
    items_free(list);
}

/* ?domain=NAME: only that domain's events (it need not exist yet). */
static void *events_open(http_server *srv, struct lws *wsi, const http_params *params)
{
    (void)params;
    char arg[128];
    const char *dom = lws_get_urlarg_by_name(wsi, "domain=", arg, (int)sizeof(arg));
    if (dom && !kxl_name_is_valid(dom)) {
        kx_err(KXL_ERR_INVALID, "?domain='%s': not a domain name", dom);
        return NULL;
    }
    ev_hub *h = http_server_events(srv);
    ev_client *c = kx_malloc0(sizeof(*c));
    c->hub = h;
    c->wsi = wsi;
    c->domain = dom ? kx_strdup(dom) : NULL;
    c->tail = &c->head;
    c->next = h->clients;
    h->clients = c;
    kx_info("events WebSocket opened%s%s", dom ? " for domain " : "", dom ? dom : "");
    return c;
}

static int events_receive(void *sess, const void *in, size_t len)
{
    (void)sess, (void)in, (void)len;   /* nothing to say to kxld here */
    return 0;
}

/* Sends the oldest waiting event. */
static int events_writable(void *sess)
{
    ev_client *c = sess;
    if (c->too_slow) {
        kx_notice("events WebSocket dropped: more than %d events waited for it", EV_CLIENT_MAX);
        ws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                        "too slow: more than 1024 events waited for this client");
        return -1;
    }
    ev_item *it = c->head;
    if (!it)
        return 0;
    if (lws_write(c->wsi, it->frame + LWS_PRE, it->len, LWS_WRITE_TEXT) < (int)it->len)
        return -1;
    if (!(c->head = it->next))
        c->tail = &c->head;
    c->queued--;
    it->next = NULL;
    items_free(it);
    if (c->head)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void events_close(void *sess)
{
    ev_client *c = sess;
    for (ev_client **p = &c->hub->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    items_free(c->head);
    free(c->domain);
    free(c);
}

const ws_kind ws_events_kind = {"events", events_open, events_receive, events_writable,
                                events_close};
