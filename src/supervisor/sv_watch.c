/* sv_watch.c - the domain's events for any number of subscribers. A control client that asked
 * to "watch" (sv_control.c) becomes a subscriber and gets one JSON line per event from then
 * on: {"event": NAME, "domain": DOM, "time": SECONDS, "seq": N, "data": {...}}. The last
 * SV_WATCH_KEPT events that are not mere progress are also kept, so that a subscriber may
 * start with what happened before it came (as a console starts with its scrollback).
 *
 * Nobody is waited for: a line goes out with a non-blocking send, what the socket does not
 * take waits in the subscriber's own buffer, and a subscriber that lets more than
 * SV_WATCH_BUFFER pile up is dropped, with a last notice line if its socket still takes one
 * and a line in the event log. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

#define SV_WATCH_BUFFER (256 * 1024)
#define SV_WATCH_KEPT 256

typedef struct sv_watcher {
    int fd;
    unsigned id;            /* for the event log */
    kx_buf out;             /* lines not yet sent, from off on */
    size_t off;
    struct sv_watcher *next;
} sv_watcher;

struct sv_watch {
    sv_watcher *subs;
    char *kept[SV_WATCH_KEPT];  /* a ring of event lines, the oldest at next_kept when full */
    size_t n_kept, next_kept;
    unsigned long long seq;     /* of the last event */
    unsigned next_id;
};

static struct sv_watch *watch_of(sv *s)
{
    if (!s->watch)
        s->watch = kx_malloc0(sizeof(*s->watch));
    return s->watch;
}

static void watcher_close(sv *s, sv_watcher *x)
{
    for (sv_watcher **p = &s->watch->subs; *p; p = &(*p)->next) {
        if (*p == x) {
            *p = x->next;
            break;
        }
    }
    kx_loop_del(s->loop, x->fd);
    close(x->fd);
    kx_buf_dispose(&x->out);
    free(x);
}

/* Sends what the socket takes now: 0 (all of it or some; EPOLLOUT is watched while some
 * waits), or -1 when the subscriber is gone. */
static int watcher_flush(sv *s, sv_watcher *x)
{
    while (x->off < x->out.len) {
        ssize_t n = send(x->fd, x->out.s + x->off, x->out.len - x->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return -1;
        x->off += (size_t)n;
    }
    bool waiting = x->off < x->out.len;
    if (!waiting) {
        kx_buf_clear(&x->out);
        x->off = 0;
    }
    return kx_loop_mod(s->loop, x->fd, waiting ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* One event line, built as every subscriber gets it; caller frees. */
static char *event_line(sv *s, const char *event, unsigned long long seq, json_object *data)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char stamp[32];
    snprintf(stamp, sizeof(stamp), "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
    AUTOPTR(json_object) o = json_object_new_object();
    json_object_object_add(o, "event", json_object_new_string(event));
    json_object_object_add(o, "domain", json_object_new_string(s->name));
    json_object_object_add(o, "time", json_object_new_double_s(
                                          (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, stamp));
    if (seq)
        json_object_object_add(o, "seq", json_object_new_int64((int64_t)seq));
    json_object_object_add(o, "data", data ? data : json_object_new_object());
    int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    return kx_asprintf("%s\n", json_object_to_json_string_ext(o, flags));
}

static void watcher_drop(sv *s, sv_watcher *x, const char *why)
{
    json_object *data = json_object_new_object();
    json_object_object_add(data, "reason", json_object_new_string(why));
    AUTOFREE char *notice = event_line(s, "dropped", 0, data);
    /* a whole line or nothing: the socket may still take a short one */
    ssize_t n = send(x->fd, notice, strlen(notice), MSG_NOSIGNAL | MSG_DONTWAIT);
    sv_event(s, "event subscriber %u dropped (%s), %s", x->id, why,
             n == (ssize_t)strlen(notice) ? "told so" : "without a notice");
    watcher_close(s, x);
}

static void watcher_queue(sv *s, sv_watcher *x, const char *line)
{
    size_t len = strlen(line);
    if (x->out.len - x->off + len > SV_WATCH_BUFFER) {
        watcher_drop(s, x, "it did not read its events: 256 KiB were waiting");
        return;
    }
    if (x->off > 0 && x->off == x->out.len) {
        kx_buf_clear(&x->out);
        x->off = 0;
    }
    kx_buf_addn(&x->out, line, len);
    if (x->out.len - x->off == len && watcher_flush(s, x) < 0)
        watcher_close(s, x);   /* it hung up */
}

static void on_watcher(int fd, uint32_t events, void *opaque)
{
    sv *s = opaque;
    sv_watcher *x = s->watch->subs;
    while (x && x->fd != fd)
        x = x->next;
    if (!x)
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        /* a subscriber has nothing to say: what it sends is dropped, its end ends it */
        char buf[512];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            watcher_close(s, x);
            return;
        }
    }
    if (events & EPOLLOUT && watcher_flush(s, x) < 0)
        watcher_close(s, x);
}

void sv_notify(sv *s, const char *event, json_object *data, bool keep)
{
    struct sv_watch *w = watch_of(s);
    AUTOFREE char *line = event_line(s, event, ++w->seq, data);
    if (keep) {
        free(w->kept[w->next_kept]);
        w->kept[w->next_kept] = kx_strdup(line);
        w->next_kept = (w->next_kept + 1) % SV_WATCH_KEPT;
        if (w->n_kept < SV_WATCH_KEPT)
            w->n_kept++;
    }
    for (sv_watcher *x = w->subs, *next; x; x = next) {
        next = x->next;   /* x may be dropped */
        watcher_queue(s, x, line);
    }
}

int sv_watch_add(sv *s, int fd, bool history)
{
    struct sv_watch *w = watch_of(s);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        kx_loop_add(s->loop, fd, EPOLLIN, on_watcher, s) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot watch an event subscriber");
        close(fd);
        return -1;
    }
    sv_watcher *x = kx_malloc0(sizeof(*x));
    x->fd = fd;
    x->id = ++w->next_id;
    x->next = w->subs;
    w->subs = x;
    size_t first = w->n_kept < SV_WATCH_KEPT ? 0 : w->next_kept;
    for (size_t i = 0; history && i < w->n_kept; i++)
        kx_buf_add(&x->out, w->kept[(first + i) % SV_WATCH_KEPT]);
    if (watcher_flush(s, x) < 0)
        watcher_close(s, x);
    return 0;
}

void sv_watch_dispose(sv *s)
{
    struct sv_watch *w = s->watch;
    if (!w)
        return;
    /* the last events (the end of the domain) go out if the sockets take them now */
    while (w->subs) {
        sv_watcher *x = w->subs;
        send(x->fd, x->out.s ? x->out.s + x->off : "", x->out.len - x->off,
             MSG_NOSIGNAL | MSG_DONTWAIT);
        watcher_close(s, x);
    }
    for (size_t i = 0; i < SV_WATCH_KEPT; i++)
        free(w->kept[i]);
    free(w);
    s->watch = NULL;
}
