/* qmp.c - QMP wire protocol: one Unix stream connection to QEMU's monitor. Messages are
 * parsed incrementally (no reliance on line breaks), commands are matched to their replies by
 * "id", and events that arrive while a command waits are queued and delivered to the handler
 * at the end of qmp_execute, once its reply is in. A command sent without waiting
 * (qmp_send_command) has its reply queued the same way, in order with the events. */
#include "qemu/qmp.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"

enum {
    QMP_HANDSHAKE_MS = 10000, /* greeting + qmp_capabilities, once connected */
    QMP_RETRY_MS = 10,        /* pause between connect() attempts */
    QMP_CHUNK = 8192,         /* bytes per read() */
};

/* A command sent by qmp_send_command whose reply has not been delivered yet. */
typedef struct qmp_pending {
    struct qmp_pending *next;
    int64_t id;
    char *cmd;
    qmp_reply_fn fn;
    void *opaque;
} qmp_pending;

/* A queued message: an event, or the reply to a pending command (reply set). */
typedef struct qmp_event {
    struct qmp_event *next;
    json_object *msg;
    qmp_pending *reply;
} qmp_event;

struct qmp_conn {
    int fd;
    json_tokener *tok;
    kx_buf in;              /* bytes read but not yet fed to tok, starting at in_off */
    bool drained;           /* the last read() took less than it could: nothing more was there */
    size_t in_off;
    int64_t last_id;        /* id of the last command sent */
    const char *broken;     /* why the connection is unusable (static string), or NULL */
    bool handshaking;       /* hold events: the caller cannot have set a handler yet */
    bool delivering;        /* the handler runs: what arrives meanwhile waits in the queue */
    qmp_event_fn event_fn;
    void *event_opaque;
    qmp_event *events;      /* queued events, oldest first */
    qmp_event **events_tail;
    qmp_pending *pending;   /* commands sent without waiting, their replies not yet read */
};

static const char hangup_msg[] = "QEMU closed its monitor connection";
static const char garbage_msg[] = "QEMU's monitor connection is unusable after a protocol error";

DEFINE_AUTOPTR(json_object, json_object_put)
DEFINE_AUTOPTR(qmp_conn, qmp_close)

/* A negative timeout means "wait forever" and gives the deadline -1. */
static int64_t deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : kx_mono_ms() + timeout_ms;
}

/* Milliseconds left for poll(): -1 for no deadline, 0 once it has passed. */
static int time_left(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - kx_mono_ms();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static const char *json_text(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void set_hangup(qmp_conn *c)
{
    c->broken = hangup_msg;
    kx_err(KXL_ERR_QEMU, "%s", hangup_msg);
}

/* Waits until the connection is ready for events: 0 ready, 1 timed out, -1 error. */
static int qmp_poll(qmp_conn *c, short events, int64_t deadline)
{
    struct pollfd pfd = {.fd = c->fd, .events = events};
    for (;;) {
        int r = poll(&pfd, 1, time_left(deadline));
        if (r > 0)
            return 0;
        if (r == 0)
            return 1;
        if (errno != EINTR) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot poll QEMU's monitor connection");
            return -1;
        }
    }
}

/* One read(): 1 when bytes were added to c->in, 0 when none were ready, -1 on hang-up or
 * error. */
static int qmp_read(qmp_conn *c)
{
    char chunk[QMP_CHUNK];
    ssize_t n;
    do
        n = read(c->fd, chunk, sizeof(chunk));
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        set_hangup(c);
        return -1;
    }
    if (n < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot read from QEMU's monitor connection");
        return -1;
    }
    kx_buf_addn(&c->in, chunk, (size_t)n);
    c->drained = (size_t)n < sizeof(chunk);
    return 1;
}

/* Takes the next complete message out of what was read: 1 with *msg_r set (caller puts it),
 * 0 when more bytes are needed, -1 on malformed JSON. */
static int qmp_parse_next(qmp_conn *c, json_object **msg_r)
{
    while (c->in_off < c->in.len) {
        size_t avail = c->in.len - c->in_off;
        json_object *msg = json_tokener_parse_ex(c->tok, c->in.s + c->in_off,
                                                 avail > INT_MAX ? INT_MAX : (int)avail);
        enum json_tokener_error e = json_tokener_get_error(c->tok);
        c->in_off += json_tokener_get_parse_end(c->tok);
        if (msg) {
            kx_debug("qmp: << %s", json_text(msg));
            *msg_r = msg;
            return 1;
        }
        if (e == json_tokener_success) {
            kx_debug("qmp: << null");
            continue;
        }
        if (e != json_tokener_continue) {
            c->broken = garbage_msg;
            kx_err(KXL_ERR_QEMU, "QEMU sent malformed JSON on its monitor connection: %s",
                   json_tokener_error_desc(e));
            return -1;
        }
    }
    /* Everything was fed to the tokener, which keeps any partial message itself. */
    kx_buf_clear(&c->in);
    c->in_off = 0;
    return 0;
}

/* The pending command msg replies to, taken off the list; NULL if it is none of them. A reply
 * has "return" or "error": a message that only carries a pending command's id is not one. */
static qmp_pending *qmp_take_pending(qmp_conn *c, json_object *msg)
{
    json_object *id = NULL;
    if (!json_object_object_get_ex(msg, "id", &id) || !json_object_is_type(id, json_type_int) ||
        (!json_object_object_get_ex(msg, "return", NULL) &&
         !json_object_object_get_ex(msg, "error", NULL)))
        return NULL;
    for (qmp_pending **p = &c->pending; *p; p = &(*p)->next) {
        if ((*p)->id == json_object_get_int64(id)) {
            qmp_pending *found = *p;
            *p = found->next;
            return found;
        }
    }
    return NULL;
}

/* Takes msg: queues it if it is an event or the reply to a pending command, drops it (a late
 * reply, ...) otherwise. */
static void qmp_queue(qmp_conn *c, json_object *msg)
{
    json_object *name = NULL;
    qmp_pending *reply = NULL;
    bool event = json_object_object_get_ex(msg, "event", &name) &&
                 json_object_is_type(name, json_type_string);
    if (!event && !(reply = qmp_take_pending(c, msg))) {
        kx_debug("qmp: ignoring a message that is not an event or an awaited reply");
        json_object_put(msg);
        return;
    }
    qmp_event *ev = kx_malloc0(sizeof(*ev));
    ev->msg = msg;
    ev->reply = reply;
    *c->events_tail = ev;
    c->events_tail = &ev->next;
}

static void qmp_pending_free(qmp_pending *p)
{
    if (p) {
        free(p->cmd);
        free(p);
    }
}

/* Records QEMU's error reply err to cmd as kx_err. */
static void qmp_refused(const char *cmd, json_object *err)
{
    json_object *desc = NULL;
    if (!json_object_object_get_ex(err, "desc", &desc))
        json_object_object_get_ex(err, "class", &desc);
    kx_err(KXL_ERR_QEMU, "QEMU refused '%s': %s", cmd,
           desc ? json_object_get_string(desc) : "no reason given");
}

/* Hands one queued message to whom it is for: an event to the event handler, a reply to the
 * function its command named. */
static void qmp_deliver_one(qmp_conn *c, qmp_event *ev)
{
    qmp_pending *p = ev->reply;
    json_object *err = NULL;
    if (!p) {
        if (c->event_fn)
            c->event_fn(json_object_get_string(json_object_object_get(ev->msg, "event")),
                        json_object_object_get(ev->msg, "data"), c->event_opaque);
        return;
    }
    if (!p->fn)
        return;
    json_object *ret = json_object_object_get(ev->msg, "return");
    if (json_object_object_get_ex(ev->msg, "error", &err)) {
        qmp_refused(p->cmd, err);
        p->fn(NULL, p->opaque);
    } else if (!ret) {
        /* "return": null; fn takes NULL for a failure, which needs its message */
        kx_err(KXL_ERR_QEMU, "QEMU's reply to '%s' has no return value", p->cmd);
        p->fn(NULL, p->opaque);
    } else {
        p->fn(ret, p->opaque);
    }
}

/* Parses every complete message already read (none of them is awaited). */
static int qmp_drain(qmp_conn *c)
{
    json_object *msg = NULL;
    int r;
    while ((r = qmp_parse_next(c, &msg)) > 0)
        qmp_queue(c, msg);
    return r;
}

/* Hands queued events to the handler (or drops them if there is none), oldest first. The
 * handler may run commands on c; it is not entered again meanwhile: what arrives during its
 * commands is queued and delivered here once it has returned, so events are handled one at a
 * time and in order. With keep_err, the error being returned survives whatever the handler
 * does. */
static void qmp_deliver(qmp_conn *c, bool keep_err)
{
    if (!c->events || c->handshaking || c->delivering)
        return;
    AUTOFREE char *saved = keep_err ? kx_strdup(kx_err_msg()) : NULL;
    kxl_errcode code = kx_err_code();
    qmp_event *ev;
    c->delivering = true;
    while ((ev = c->events)) {
        c->events = ev->next;
        if (!c->events)
            c->events_tail = &c->events;
        qmp_deliver_one(c, ev);
        qmp_pending_free(ev->reply);
        json_object_put(ev->msg);
        free(ev);
    }
    c->delivering = false;
    if (saved && (code != kx_err_code() || !kx_streq(saved, kx_err_msg())))
        kx_err(code, "%s", saved);
}

/* Is msg what we wait for: the greeting (id 0) or the reply to command id? A reply without
 * an id is ours too: QEMU sends one when it could not parse the command. */
static bool qmp_awaited(json_object *msg, int64_t id)
{
    json_object *mid = NULL;
    if (id == 0)
        return json_object_object_get_ex(msg, "QMP", NULL);
    if (!json_object_object_get_ex(msg, "return", NULL) &&
        !json_object_object_get_ex(msg, "error", NULL))
        return false;
    if (!json_object_object_get_ex(msg, "id", &mid))
        return true;
    return json_object_is_type(mid, json_type_int) && json_object_get_int64(mid) == id;
}

/* Reads until the awaited message (see qmp_awaited) arrives, queueing events meanwhile:
 * 0 with *msg_r set (caller puts it), 1 on timeout, -1 on error. */
static int qmp_wait(qmp_conn *c, int64_t id, int64_t deadline, json_object **msg_r)
{
    for (;;) {
        json_object *msg = NULL;
        int r = qmp_parse_next(c, &msg);
        if (r < 0)
            return -1;
        if (r > 0 && qmp_awaited(msg, id)) {
            *msg_r = msg;
            return 0;
        }
        if (r > 0) {
            qmp_queue(c, msg);
            continue;
        }
        r = qmp_poll(c, POLLIN, deadline);
        if (r != 0)
            return r;
        if (qmp_read(c) < 0)
            return -1;
    }
}

/* Sends len bytes of s; fd (if >= 0) rides as SCM_RIGHTS on the first sendmsg that sends
 * anything. 0, 1 on timeout, -1 on error. */
static int qmp_send(qmp_conn *c, const char *cmd, const char *s, size_t len, int fd,
                    int64_t deadline)
{
    size_t off = 0;
    while (off < len) {
        union {
            struct cmsghdr hdr;
            char buf[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct iovec iov = {.iov_base = (char *)s + off, .iov_len = len - off};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fd >= 0) {
            memset(&ctl, 0, sizeof(ctl));
            mh.msg_control = ctl.buf;
            mh.msg_controllen = sizeof(ctl.buf);
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        }
        ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (n >= 0) {
            off += (size_t)n;
            fd = -1;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int r = qmp_poll(c, POLLOUT, deadline);
            if (r != 0)
                return r;
        } else if (errno == EPIPE || errno == ECONNRESET) {
            set_hangup(c);
            return -1;
        } else if (errno != EINTR) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot send '%s' to QEMU", cmd);
            return -1;
        }
    }
    return 0;
}

/* Sends the command and waits for its reply: 0 with *reply_r set, -1 with kx_err set. */
static int qmp_roundtrip(qmp_conn *c, const char *cmd, json_object *req, int fd,
                         int timeout_ms, json_object **reply_r)
{
    AUTOFREE char *line = kx_asprintf("%s\n", json_text(req));
    int64_t deadline = deadline_after(timeout_ms);

    if (fd >= 0)
        kx_debug("qmp: >> %s (fd %d)", json_text(req), fd);
    else
        kx_debug("qmp: >> %s", json_text(req));
    int r = qmp_send(c, cmd, line, strlen(line), fd, deadline);
    if (r == 0)
        r = qmp_wait(c, c->last_id, deadline, reply_r);
    if (r > 0)
        kx_err(KXL_ERR_QEMU, "QEMU did not answer '%s' within %d ms", cmd, timeout_ms);
    return r == 0 ? 0 : -1;
}

static int qmp_run(qmp_conn *c, const char *cmd, json_object *args, int fd,
                   json_object **ret_r, int timeout_ms)
{
    AUTOPTR(json_object) req = json_object_new_object();
    AUTOPTR(json_object) reply = NULL;
    json_object *err = NULL;

    json_object_object_add(req, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(req, "arguments", args);
    json_object_object_add(req, "id", json_object_new_int64(++c->last_id));
    if (ret_r)
        *ret_r = NULL;
    if (c->broken) {
        kx_err(KXL_ERR_QEMU, "%s", c->broken);
        return -1;
    }
    if (qmp_roundtrip(c, cmd, req, fd, timeout_ms, &reply) < 0) {
        qmp_deliver(c, true);
        return -1;
    }
    /* The reply may have come in one read with the events that follow it. */
    int drained = c->broken ? 0 : qmp_drain(c);
    qmp_deliver(c, drained < 0);
    if (json_object_object_get_ex(reply, "error", &err)) {
        qmp_refused(cmd, err);
        return -1;
    }
    if (ret_r)
        *ret_r = json_object_get(json_object_object_get(reply, "return"));
    return 0;
}

/* A command is a small write: the socket takes it at once unless QEMU has stopped reading,
 * which this bounds. */
#define QMP_SEND_MS 5000

int qmp_send_command(qmp_conn *c, const char *cmd, json_object *args, qmp_reply_fn fn,
                     void *opaque)
{
    AUTOPTR(json_object) req = json_object_new_object();
    json_object_object_add(req, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(req, "arguments", args);
    json_object_object_add(req, "id", json_object_new_int64(++c->last_id));
    if (c->broken) {
        kx_err(KXL_ERR_QEMU, "%s", c->broken);
        return -1;
    }
    AUTOFREE char *line = kx_asprintf("%s\n", json_text(req));
    kx_debug("qmp: >> %s (reply later)", json_text(req));
    int r = qmp_send(c, cmd, line, strlen(line), -1, deadline_after(QMP_SEND_MS));
    if (r != 0) {
        if (r > 0)
            kx_err(KXL_ERR_QEMU, "QEMU did not take '%s' within %d ms", cmd, QMP_SEND_MS);
        return -1;
    }
    qmp_pending *p = kx_malloc0(sizeof(*p));
    *p = (qmp_pending){.next = c->pending, .id = c->last_id, .cmd = kx_strdup(cmd), .fn = fn,
                       .opaque = opaque};
    c->pending = p;
    return 0;
}

void qmp_forget_replies(qmp_conn *c, void *opaque)
{
    for (qmp_pending *p = c->pending; p; p = p->next)
        if (p->opaque == opaque)
            p->fn = NULL;
    for (qmp_event *ev = c->events; ev; ev = ev->next)
        if (ev->reply && ev->reply->opaque == opaque)
            ev->reply->fn = NULL;
}

int qmp_execute(qmp_conn *c, const char *cmd, json_object *args, json_object **ret_r,
                int timeout_ms)
{
    return qmp_run(c, cmd, args, -1, ret_r, timeout_ms);
}

int qmp_execute_fd(qmp_conn *c, const char *cmd, json_object *args, int fd,
                   json_object **ret_r, int timeout_ms)
{
    assert(fd >= 0);
    return qmp_run(c, cmd, args, fd, ret_r, timeout_ms);
}

/* Reads whatever is available, then delivers the events. A read that did not fill its chunk
 * took everything there was: the next read() would only say so (EAGAIN), and the loop's
 * level-triggered poll wakes it again for anything that comes later. */
int qmp_dispatch(qmp_conn *c)
{
    int r;

    if (c->broken) {
        kx_err(KXL_ERR_QEMU, "%s", c->broken);
        return -1;
    }
    do {
        r = qmp_read(c);
        if (r > 0 && qmp_drain(c) < 0)
            r = -1;
    } while (r > 0 && !c->drained);
    qmp_deliver(c, r < 0);
    return r < 0 ? -1 : 0;
}

/* Waits for the greeting, then leaves capabilities negotiation mode. */
static int qmp_handshake(qmp_conn *c, int timeout_ms)
{
    int64_t deadline = deadline_after(timeout_ms);
    json_object *greeting = NULL;

    int r = qmp_wait(c, 0, deadline, &greeting);
    if (r > 0)
        kx_err(KXL_ERR_QEMU, "QEMU did not send its QMP greeting within %d ms", timeout_ms);
    if (r != 0)
        return -1;
    json_object_put(greeting);
    return qmp_execute(c, "qmp_capabilities", NULL, NULL, time_left(deadline));
}

/* Takes fd (closed on failure); the handshake gets timeout_ms. */
static qmp_conn *qmp_open(int fd, int timeout_ms)
{
    AUTOCLOSE int owned = fd;
    AUTOPTR(qmp_conn) c = NULL;

    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot make the QMP socket non-blocking");
        return NULL;
    }
    c = kx_malloc0(sizeof(*c));
    c->fd = TAKE_FD(owned);
    c->events_tail = &c->events;
    c->tok = json_tokener_new();
    if (!c->tok) {
        kx_err(KXL_ERR_INTERNAL, "cannot allocate a JSON parser");
        return NULL;
    }
    c->handshaking = true;
    if (qmp_handshake(c, timeout_ms) < 0)
        return NULL;
    c->handshaking = false;
    return TAKE_PTR(c);
}

/* Takes fd, also on failure (it is closed then). The handshake may take 10 s. */
qmp_conn *qmp_open_fd(int fd)
{
    return qmp_open(fd, QMP_HANDSHAKE_MS);
}

static bool connect_retryable(int err)
{
    return err == ENOENT || err == ECONNREFUSED || err == EAGAIN || err == EINTR;
}

/* timeout_ms bounds the wait for the socket to accept (negative: forever); the handshake
 * that follows has its own 10 s limit, as in qmp_open_fd. */
qmp_conn *qmp_connect(const char *path, int timeout_ms)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int64_t deadline = deadline_after(timeout_ms);

    if (strlen(path) >= sizeof(sa.sun_path)) {
        kx_err(KXL_ERR_INVALID, "QMP socket path '%s' is too long", path);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    for (;;) {
        AUTOCLOSE int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot create a socket for QMP");
            return NULL;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return qmp_open(TAKE_FD(fd), QMP_HANDSHAKE_MS);
        int err = errno;
        if (!connect_retryable(err)) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot connect to QMP socket '%s'", path);
            return NULL;
        }
        int left = time_left(deadline);
        if (left == 0) {
            errno = err;
            kx_err_errno(KXL_ERR_QEMU, "cannot connect to QMP socket '%s' within %d ms", path,
                         timeout_ms);
            return NULL;
        }
        int pause = left < 0 || left > QMP_RETRY_MS ? QMP_RETRY_MS : left;
        nanosleep(&(struct timespec){.tv_nsec = pause * 1000000L}, NULL);
    }
}

void qmp_close(qmp_conn *c)
{
    if (!c)
        return;
    while (c->events) {
        qmp_event *ev = c->events;
        c->events = ev->next;
        qmp_pending_free(ev->reply);
        json_object_put(ev->msg);
        free(ev);
    }
    while (c->pending) {
        qmp_pending *p = c->pending;
        c->pending = p->next;
        qmp_pending_free(p);
    }
    if (c->tok)
        json_tokener_free(c->tok);
    kx_buf_dispose(&c->in);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

int qmp_fd(const qmp_conn *c)
{
    return c->fd;
}

/* Also delivers, right away, any events that followed the handshake in the same read: they
 * would otherwise wait for the next qmp_execute/qmp_dispatch with the fd not readable. */
void qmp_set_event_handler(qmp_conn *c, qmp_event_fn fn, void *opaque)
{
    c->event_fn = fn;
    c->event_opaque = opaque;
    if (fn)
        qmp_deliver(c, false);
}
