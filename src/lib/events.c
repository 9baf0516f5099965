/* events.c - following domains' events (kxl/events.h): a "watch" request on a supervisor's
 * control socket, whose reply is followed by event lines for as long as the domain lives. One
 * domain is followed across a restart of its supervisor; the whole host by looking for
 * supervisors in ROOT/run/kxl/ every WATCH_SCAN_MS. */
#include "kxl/events.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "lib/control.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

#define WATCH_REPLY_MS 15000
#define WATCH_SCAN_MS 200

/* One supervisor's event stream. */
typedef struct watch_conn {
    int fd;
    char *name;                     /* the domain's name, as its last event gave it */
    pid_t sv_pid;                   /* which supervisor (across renames and restarts) */
    unsigned long long sv_start;
    kx_buf in;                      /* what was read and not yet handed on */
    bool ended;                     /* its last line came: "destroyed" or "dropped" */
    bool ready;                     /* host watch: something to read */
    struct watch_conn *next;
} watch_conn;

static void conn_free(watch_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->name);
    kx_buf_dispose(&c->in);
    free(c);
}

DEFINE_AUTOPTR(watch_conn, conn_free)

/* Asks the supervisor of name for its events; NULL with kx_err. */
static watch_conn *conn_open(const kxl_paths *p, const char *name, bool history)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    kx_status st;
    if (status_read(dir, &st) < 0)
        return NULL;
    AUTOCLOSE int fd = control_connect(p, name, "control.sock");
    if (fd < 0)
        return NULL;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "history", json_object_new_boolean(history));
    if (control_request(fd, name, "watch", args, NULL, WATCH_REPLY_MS) < 0)
        return NULL;
    watch_conn *c = kx_malloc0(sizeof(*c));
    c->fd = TAKE_FD(fd);
    c->name = kx_strdup(name);
    c->sv_pid = st.sv_pid;
    c->sv_start = st.sv_start;
    return c;
}

/* Hands one event line to fn; its return value. */
static int conn_event(watch_conn *c, const char *line, kxl_event_fn fn, void *opaque)
{
    AUTOPTR(json_object) o = kx_json_parse(line, "event");
    if (!o) {
        kx_err_clear();   /* not ours to judge: skipped */
        return 0;
    }
    kxl_event ev = {.domain = kx_json_str(o, "domain", c->name),
                    .name = kx_json_str(o, "event", ""),
                    .seq = (unsigned long long)kx_json_int(o, "seq", 0),
                    .json = line};
    json_object *t = NULL;
    if (json_object_object_get_ex(o, "time", &t))
        ev.time = json_object_get_double(t);
    if (!kx_streq(ev.domain, c->name)) {
        free(c->name);
        c->name = kx_strdup(ev.domain);
    }
    c->ended |= kx_streq(ev.name, "destroyed") || kx_streq(ev.name, "dropped");
    return fn(&ev, opaque);
}

/* Reads what the socket has and hands on the complete lines: 0 when more may come, 1 when the
 * stream ended, fn's nonzero value when it stopped, -1 with kx_err. */
static int conn_read(watch_conn *c, kxl_event_fn fn, void *opaque)
{
    char buf[16384];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0 && errno != ECONNRESET) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot read the events of '%s'", c->name);
        return -1;
    }
    if (n <= 0)
        return 1;
    kx_buf_addn(&c->in, buf, (size_t)n);
    char *start = c->in.s, *nl;
    int r = 0;
    while (r == 0 && (nl = memchr(start, '\n', c->in.len - (size_t)(start - c->in.s)))) {
        *nl = '\0';
        r = conn_event(c, start, fn, opaque);
        start = nl + 1;
    }
    size_t rest = c->in.len - (size_t)(start - c->in.s);
    memmove(c->in.s, start, rest);
    c->in.len = rest;
    c->in.s[rest] = '\0';
    return r;
}

/* Follows one stream to its end: as conn_read, never 0. */
static int conn_follow(watch_conn *c, kxl_event_fn fn, void *opaque)
{
    int r = 0;
    while (r == 0) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot wait for the events of '%s'", c->name);
            return -1;
        }
        r = conn_read(c, fn, opaque);
    }
    return r;
}

int kxl_domain_watch(const kxl_paths *p, const char *dom, unsigned flags, kxl_event_fn fn,
                     void *opaque)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(p, dom, &info) < 0)
        return -1;
    AUTOFREE char *name = kx_strdup(info.name);
    bool history = flags & KXL_WATCH_HISTORY;
    for (bool first = true;; first = false) {
        /* a command adopts a domain whose supervisor is gone; so does a watch */
        AUTOPTR(watch_conn) c = runtime_ensure_supervisor(p, name) < 0 ? NULL
                                                                        : conn_open(p, name,
                                                                                    history);
        if (!c)
            return first || runtime_is_live(p, name) ? -1 : 0;
        int r = conn_follow(c, fn, opaque);
        if (r != 1 || c->ended)
            return r == 1 ? 0 : r;
        /* the supervisor went without the domain's end (it was killed): the next one takes
         * over, and its own events from its start are new to us */
        free(name);
        name = kx_strdup(c->name);
        history = true;
        kx_err_clear();
        if (!runtime_is_live(p, name))
            return 0;
        usleep(100 * 1000);
    }
}

static bool watched(const watch_conn *list, const kx_status *st)
{
    for (const watch_conn *c = list; c; c = c->next)
        if (c->sv_pid == st->sv_pid && c->sv_start == st->sv_start)
            return true;
    return false;
}

/* Starts watching the domains in ROOT/run/kxl/ whose supervisor runs and is not watched yet;
 * those it cannot reach now are tried again at the next look. */
static void host_scan(const kxl_paths *p, bool history, watch_conn **list)
{
    DIR *d = opendir(p->run_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        AUTOFREE char *dir = kxl_domain_dir(p, e->d_name);
        AUTOFREE char *sock = kxl_domain_file(p, e->d_name, "control.sock");
        kx_status st;
        if (e->d_name[0] == '.' || !kxl_name_is_valid(e->d_name) || !kx_path_exists(sock) ||
            status_read(dir, &st) < 0 || !status_sv_alive(&st) || watched(*list, &st))
            continue;
        watch_conn *c = conn_open(p, e->d_name, history);
        if (c) {
            c->next = *list;
            *list = c;
        }
    }
    if (d)
        closedir(d);
    kx_err_clear();
}

/* One round of waiting (at most WATCH_SCAN_MS): marks the streams that have something to
 * read. 0, or -1 with kx_err. */
static int host_poll(watch_conn *list)
{
    size_t n = 0;
    for (watch_conn *c = list; c; c = c->next)
        n++;
    struct pollfd *pfds = kx_malloc0((n + 1) * sizeof(*pfds));
    size_t i = 0;
    for (watch_conn *c = list; c; c = c->next)
        pfds[i++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
    int r = poll(pfds, n, WATCH_SCAN_MS);
    int err = errno;
    i = 0;
    for (watch_conn *c = list; c; c = c->next)
        c->ready = r > 0 && pfds[i++].revents != 0;
    free(pfds);
    if (r < 0 && err != EINTR) {
        errno = err;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot wait for the domains' events");
        return -1;
    }
    return 0;
}

/* Reads the streams that have something; those that ended leave the list. 0, fn's nonzero
 * value, or -1 with kx_err. */
static int host_read(watch_conn **list, kxl_event_fn fn, void *opaque)
{
    for (watch_conn **c = list; *c;) {
        int got = (*c)->ready ? conn_read(*c, fn, opaque) : 0;
        if (got != 0 && got != 1)
            return got;
        if (got == 1 || (*c)->ended) {
            watch_conn *gone = *c;
            *c = gone->next;
            conn_free(gone);
        } else {
            c = &(*c)->next;
        }
    }
    return 0;
}

int kxl_host_watch(const kxl_paths *p, unsigned flags, kxl_event_fn fn, void *opaque)
{
    watch_conn *list = NULL;
    bool history = flags & KXL_WATCH_HISTORY;
    int r = 0;
    while (r == 0) {
        if ((flags & KXL_WATCH_TICK) && (r = fn(NULL, opaque)) != 0)
            break;
        host_scan(p, history, &list);
        history = true;   /* a domain found from now on is new: all of it */
        r = host_poll(list);
        if (r == 0)
            r = host_read(&list, fn, opaque);
    }
    while (list) {
        watch_conn *c = list;
        list = c->next;
        conn_free(c);
    }
    return r;
}
