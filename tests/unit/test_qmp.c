/* test_qmp.c - QMP wire protocol against a scripted fake QEMU on the other end of a
 * socketpair (or a listening socket), played by a thread.
 *
 * Script lines:  ">> JSON"    expect a command: same "execute" and "arguments", id ignored
 *                ">>fd JSON"  the same, and the command must carry the fd in peer.expect
 *                "<< JSON"    send a reply or an event; replies without an "id" get the last
 *                             command's id
 *                "<<+ JSON"   the same, held back and sent in one write with the next "<<"
 *                "<<~ JSON"   the same, trickled out in 3-byte writes
 *                "raw TEXT"   send TEXT exactly as it is
 *                "sleep MS"   pause
 *                "close"      hang up (otherwise the peer waits for the client to close) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qemu/qmp.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

enum { PEER_WAIT_MS = 5000 };

#define BANNER                                                                                     \
    "<< {\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "        \
    "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}"
#define GREETING BANNER, ">> {\"execute\": \"qmp_capabilities\"}", "<< {\"return\": {}}"

typedef struct {
    const char *const *script;
    const char *listen_path; /* set: bind and accept here (after a pause) instead of fd */
    int fd;
    int got_fd;              /* last fd received with SCM_RIGHTS */
    struct stat expect;      /* what ">>fd" wants to receive */
    json_tokener *tok;
    kx_buf in, out;
    size_t in_off;
    json_object *last_id;
    const char *line;        /* script line being played */
    char failure[512];
    pthread_t thread;
    bool running;
} peer;

typedef struct {
    peer p;
    qmp_conn *c;
    kx_buf trace;            /* log lines and events, in order */
    kx_buf events;           /* "NAME DATA" lines from the handler */
} fixture;

DEFINE_AUTOPTR(json_object, json_object_put)

/* ---- the fake QEMU ---- */

static void peer_fail(peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void peer_fail(peer *p, const char *fmt, ...)
{
    if (p->failure[0])
        return;
    int n = snprintf(p->failure, sizeof(p->failure), "at '%s': ", p->line ? p->line : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->failure + n, sizeof(p->failure) - (size_t)n, fmt, ap);
    va_end(ap);
}

static void peer_take_fds(peer *p, struct msghdr *mh)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            if (p->got_fd >= 0)
                close(p->got_fd);
            memcpy(&p->got_fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
        }
    }
}

/* 1 data, 0 EOF, -1 timeout or error. */
static int peer_read(peer *p)
{
    char buf[4096];
    union {
        struct cmsghdr hdr;
        char b[CMSG_SPACE(4 * sizeof(int))];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                        .msg_controllen = sizeof(ctl.b)};
    struct pollfd pfd = {.fd = p->fd, .events = POLLIN};

    if (poll(&pfd, 1, PEER_WAIT_MS) <= 0)
        return -1;
    ssize_t n = recvmsg(p->fd, &mh, MSG_CMSG_CLOEXEC);
    if (n <= 0)
        return n == 0 ? 0 : -1;
    peer_take_fds(p, &mh);
    kx_buf_addn(&p->in, buf, (size_t)n);
    return 1;
}

static json_object *peer_next(peer *p)
{
    for (;;) {
        while (p->in_off < p->in.len) {
            json_object *o = json_tokener_parse_ex(p->tok, p->in.s + p->in_off,
                                                   (int)(p->in.len - p->in_off));
            p->in_off += json_tokener_get_parse_end(p->tok);
            if (o)
                return o;
            if (json_tokener_get_error(p->tok) != json_tokener_continue) {
                peer_fail(p, "client sent malformed JSON");
                return NULL;
            }
        }
        kx_buf_clear(&p->in);
        p->in_off = 0;
        int r = peer_read(p);
        if (r <= 0) {
            peer_fail(p, r == 0 ? "client hung up" : "no command from client");
            return NULL;
        }
    }
}

static bool peer_same(json_object *want, json_object *got, const char *key)
{
    return json_object_equal(json_object_object_get(want, key),
                             json_object_object_get(got, key));
}

static void peer_expect(peer *p, const char *text, bool with_fd)
{
    AUTOPTR(json_object) want = json_tokener_parse(text);
    AUTOPTR(json_object) got = peer_next(p);
    struct stat st;

    if (!got)
        return;
    if (!peer_same(want, got, "execute") || !peer_same(want, got, "arguments"))
        peer_fail(p, "got %s", json_object_to_json_string(got));
    json_object_put(p->last_id);
    p->last_id = json_object_get(json_object_object_get(got, "id"));
    if (!with_fd)
        return;
    if (p->got_fd < 0 || fstat(p->got_fd, &st) < 0)
        peer_fail(p, "no fd came with the command");
    else if (st.st_dev != p->expect.st_dev || st.st_ino != p->expect.st_ino)
        peer_fail(p, "the fd received is another file");
}

static void peer_write(peer *p, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(p->fd, s, len, MSG_NOSIGNAL);
        if (n < 0) {
            peer_fail(p, "send: %s", strerror(errno));
            return;
        }
        s += n;
        len -= (size_t)n;
    }
}

/* mode: '\0' send now, '+' hold back, '~' trickle. */
static void peer_send(peer *p, const char *text, char mode)
{
    AUTOPTR(json_object) msg = json_tokener_parse(text);
    bool reply = json_object_object_get_ex(msg, "return", NULL) ||
                 json_object_object_get_ex(msg, "error", NULL);

    if (reply && p->last_id && !json_object_object_get_ex(msg, "id", NULL))
        json_object_object_add(msg, "id", json_object_get(p->last_id));
    kx_buf_printf(&p->out, "%s\n", json_object_to_json_string(msg));
    if (mode == '+')
        return;
    size_t step = mode == '~' ? 3 : p->out.len;
    for (size_t off = 0; off < p->out.len && !p->failure[0]; off += step) {
        peer_write(p, p->out.s + off, p->out.len - off < step ? p->out.len - off : step);
        if (mode == '~')
            usleep(1000);
    }
    kx_buf_clear(&p->out);
}

/* Returns false when the script is over (hang-up). */
static bool peer_step(peer *p, const char *l)
{
    if (kx_startswith(l, ">>fd "))
        peer_expect(p, l + 5, true);
    else if (kx_startswith(l, ">> "))
        peer_expect(p, l + 3, false);
    else if (kx_startswith(l, "<< "))
        peer_send(p, l + 3, '\0');
    else if (kx_startswith(l, "<<+ ") || kx_startswith(l, "<<~ "))
        peer_send(p, l + 4, l[2]);
    else if (kx_startswith(l, "raw "))
        peer_write(p, l + 4, strlen(l + 4));
    else if (kx_startswith(l, "sleep "))
        usleep((useconds_t)atoi(l + 6) * 1000);
    else if (kx_streq(l, "close"))
        return false;
    else
        peer_fail(p, "bad script line");
    return true;
}

static int peer_accept(peer *p)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    AUTOCLOSE int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};

    usleep(50 * 1000); /* let the client find no socket first */
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->listen_path);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
        poll(&pfd, 1, PEER_WAIT_MS) <= 0) {
        peer_fail(p, "cannot listen or accept on '%s'", p->listen_path);
        return -1;
    }
    p->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    unlink(p->listen_path);
    return p->fd;
}

static void *peer_main(void *opaque)
{
    peer *p = opaque;
    bool open = true;

    if (p->listen_path && peer_accept(p) < 0)
        return NULL;
    for (size_t i = 0; p->script[i] && open && !p->failure[0]; i++) {
        p->line = p->script[i];
        open = peer_step(p, p->line);
    }
    p->line = "(end of script)";
    if (open && !p->failure[0]) {
        int r = peer_read(p);
        if (r > 0)
            peer_fail(p, "unexpected data: %s", kx_buf_str(&p->in));
        else if (r < 0)
            peer_fail(p, "client did not close");
    }
    shutdown(p->fd, SHUT_RDWR);
    return NULL;
}

/* ---- fixture ---- */

static void trace_sink(kx_loglevel level, const char *msg, void *opaque)
{
    fixture *f = opaque;
    (void)level;
    kx_buf_printf(&f->trace, "%s\n", msg);
}

static void on_event(const char *event, json_object *data, void *opaque)
{
    fixture *f = opaque;
    kx_buf_printf(&f->trace, "event %s\n", event);
    kx_buf_printf(&f->events, "%s %s\n", event,
                  data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : "-");
}

static int setup(void **state)
{
    fixture *f = kx_malloc0(sizeof(*f));
    f->p.fd = f->p.got_fd = -1;
    f->p.tok = json_tokener_new();
    kx_log_set_sink(trace_sink, f);
    kx_log_set_level(KX_LOG_DEBUG);
    kx_err_clear();
    *state = f;
    return 0;
}

static void peer_join(fixture *f)
{
    qmp_close(f->c);
    f->c = NULL;
    if (f->p.running)
        pthread_join(f->p.thread, NULL);
    f->p.running = false;
}

static int teardown(void **state)
{
    fixture *f = *state;
    peer_join(f);
    kx_log_set_sink(NULL, NULL);
    kx_log_set_level(KX_LOG_NOTICE);
    if (f->p.fd >= 0)
        close(f->p.fd);
    if (f->p.got_fd >= 0)
        close(f->p.got_fd);
    json_tokener_free(f->p.tok);
    json_object_put(f->p.last_id);
    kx_buf_dispose(&f->p.in);
    kx_buf_dispose(&f->p.out);
    kx_buf_dispose(&f->trace);
    kx_buf_dispose(&f->events);
    free(f);
    return 0;
}

static void peer_start(fixture *f, const char *const *script)
{
    f->p.script = script;
    assert_int_equal(pthread_create(&f->p.thread, NULL, peer_main, &f->p), 0);
    f->p.running = true;
}

/* Starts the peer on a socketpair and opens the connection (NULL if that failed). */
static qmp_conn *start(fixture *f, const char *const *script)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    f->p.fd = sv[1];
    peer_start(f, script);
    f->c = qmp_open_fd(sv[0]);
    if (f->c)
        qmp_set_event_handler(f->c, on_event, f);
    return f->c;
}

/* Closes the client, waits for the peer and checks it saw the whole script. */
static void finish(fixture *f)
{
    peer_join(f);
    assert_string_equal(f->p.failure, "");
}

static json_object *args1(const char *key, const char *value)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, key, json_object_new_string(value));
    return o;
}

/* ---- tests ---- */

static void test_handshake(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {GREETING, NULL};
    assert_non_null(start(f, script));
    assert_non_null(strstr(kx_buf_str(&f->trace),
                           "qmp: >> {\"execute\":\"qmp_capabilities\",\"id\":1}\n"));
    assert_non_null(strstr(kx_buf_str(&f->trace), "qmp: << {\"return\":{},\"id\":1}\n"));
    finish(f);
}

static void test_event_after_handshake(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        BANNER,
        ">> {\"execute\": \"qmp_capabilities\"}",
        "<<+ {\"return\": {}}",
        "<< {\"event\": \"RESUME\"}", /* same read: held until there is a handler */
        NULL};
    assert_non_null(start(f, script));
    assert_string_equal(kx_buf_str(&f->events), "RESUME -\n");
    finish(f);
}

static void test_return_value(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"query-status\"}",
        "<< {\"return\": {\"status\": \"running\", \"running\": true}}",
        NULL};
    json_object *ret = NULL;
    assert_non_null(start(f, script));
    assert_int_equal(qmp_execute(f->c, "query-status", NULL, &ret, 2000), 0);
    assert_string_equal(json_object_get_string(json_object_object_get(ret, "status")),
                        "running");
    json_object_put(ret);
    finish(f);
}

static void test_error_reply(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"device_del\", \"arguments\": {\"id\": \"net0\"}}",
        "<< {\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'net0' not found\"}}",
        /* QEMU answers a command it cannot parse without an id */
        ">> {\"execute\": \"cont\"}",
        "raw {\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\n",
        NULL};
    AUTOPTR(json_object) stale = json_object_new_object();
    json_object *ret = stale;
    assert_non_null(start(f, script));
    assert_int_equal(qmp_execute(f->c, "device_del", args1("id", "net0"), &ret, 2000), -1);
    assert_null(ret);
    assert_int_equal(kx_err_code(), KXL_ERR_QEMU);
    assert_string_equal(kx_err_msg(), "QEMU refused 'device_del': Device 'net0' not found");
    assert_int_equal(qmp_execute(f->c, "cont", NULL, NULL, 2000), -1);
    assert_string_equal(kx_err_msg(), "QEMU refused 'cont': JSON parse error");
    finish(f);
}

static void test_events_before_reply(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"stop\"}",
        "<< {\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}",
        "<< {\"event\": \"BLOCK_IO_ERROR\", \"data\": {\"device\": \"d0\"}}",
        "<<+ {\"return\": {}}",
        "<< {\"event\": \"RESUME\"}", /* same write as the reply: must not be stuck */
        NULL};
    assert_non_null(start(f, script));
    assert_int_equal(qmp_execute(f->c, "stop", NULL, NULL, 2000), 0);
    assert_string_equal(kx_buf_str(&f->events),
                        "STOP -\nBLOCK_IO_ERROR {\"device\":\"d0\"}\nRESUME -\n");
    const char *reply = strstr(kx_buf_str(&f->trace), "qmp: << {\"return\":{},\"id\":2}");
    const char *first = strstr(kx_buf_str(&f->trace), "event STOP");
    assert_non_null(reply);
    assert_true(first > reply);
    finish(f);
}

static void on_event_reenter(const char *event, json_object *data, void *opaque)
{
    fixture *f = opaque;
    on_event(event, data, opaque);
    if (kx_streq(event, "RESET")) {
        assert_int_equal(qmp_execute(f->c, "query-status", NULL, NULL, 2000), 0);
        kx_buf_add(&f->events, "(handled)\n");
    }
}

static void test_handler_runs_command(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"system_reset\"}",
        "<< {\"event\": \"RESET\"}",
        "<< {\"event\": \"A\"}",
        "<< {\"return\": {}}",
        ">> {\"execute\": \"query-status\"}",
        "<< {\"event\": \"B\"}",
        "<< {\"return\": {\"status\": \"running\"}}",
        NULL};
    assert_non_null(start(f, script));
    qmp_set_event_handler(f->c, on_event_reenter, f);
    assert_int_equal(qmp_execute(f->c, "system_reset", NULL, NULL, 2000), 0);
    /* the handler is not entered again while it runs: A and B wait until it is done */
    assert_string_equal(kx_buf_str(&f->events), "RESET -\n(handled)\nA -\nB -\n");
    finish(f);
}

/* Polls and dispatches until want events came or dispatch fails; returns its last result. */
static int dispatch_until(fixture *f, size_t want)
{
    struct pollfd pfd = {.fd = qmp_fd(f->c), .events = POLLIN};
    size_t got = 0;
    while (got < want && poll(&pfd, 1, 2000) == 1) {
        if (qmp_dispatch(f->c) < 0)
            return -1;
        got = 0;
        for (const char *s = kx_buf_str(&f->events); (s = strchr(s, '\n')); s++)
            got++;
    }
    return 0;
}

static void test_dispatch(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        "<< {\"event\": \"POWERDOWN\"}",
        "<<~ {\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}}",
        NULL};
    assert_non_null(start(f, script));
    assert_int_equal(dispatch_until(f, 2), 0);
    assert_string_equal(kx_buf_str(&f->events), "POWERDOWN -\nSHUTDOWN {\"guest\":true}\n");
    /* nothing readable: dispatch is a no-op */
    assert_int_equal(qmp_dispatch(f->c), 0);
    finish(f);
}

static void on_reply(json_object *ret, void *opaque)
{
    fixture *f = opaque;
    kx_buf_printf(&f->events, "reply %s\n",
                  ret ? json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN)
                      : kx_err_msg());
}

/* A command sent without waiting: its reply comes in order with the events, also while a
 * command waits for its own reply, and an error reply says what QEMU refused. */
static void test_reply_later(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"snapshot-save\", \"arguments\": {\"job-id\": \"j\"}}",
        ">> {\"execute\": \"query-status\"}",
        "<< {\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"id\": \"j\"}}",
        "<< {\"return\": {}, \"id\": 2}",
        "<< {\"return\": {\"status\": \"running\"}}",
        ">> {\"execute\": \"query-jobs\"}",
        "<< {\"event\": \"STOP\"}",
        "<< {\"error\": {\"class\": \"GenericError\", \"desc\": \"not now\"}}",
        "<< {\"event\": \"RESUME\"}",
        NULL};
    assert_non_null(start(f, script));
    assert_int_equal(qmp_send_command(f->c, "snapshot-save", args1("job-id", "j"), on_reply, f),
                     0);
    assert_string_equal(kx_buf_str(&f->events), "");
    assert_int_equal(qmp_execute(f->c, "query-status", NULL, NULL, 2000), 0);
    assert_string_equal(kx_buf_str(&f->events), "JOB_STATUS_CHANGE {\"id\":\"j\"}\nreply {}\n");
    kx_buf_clear(&f->events);
    assert_int_equal(qmp_send_command(f->c, "query-jobs", NULL, on_reply, f), 0);
    assert_int_equal(dispatch_until(f, 3), 0);
    assert_string_equal(kx_buf_str(&f->events),
                        "STOP -\nreply QEMU refused 'query-jobs': not now\nRESUME -\n");
    finish(f);
}

/* Replies whose owner is gone, or that are still due when the connection closes, are
 * dropped without a call (and without a leak). */
static void test_forget_replies(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"query-dump\"}",
        "<< {\"return\": {\"status\": \"active\"}}",
        ">> {\"execute\": \"query-jobs\"}",
        "<< {\"event\": \"RESUME\"}",
        NULL};
    assert_non_null(start(f, script));
    assert_int_equal(qmp_send_command(f->c, "query-dump", NULL, on_reply, f), 0);
    qmp_forget_replies(f->c, f);
    assert_int_equal(qmp_send_command(f->c, "query-jobs", NULL, on_reply, f), 0);
    assert_int_equal(dispatch_until(f, 1), 0);
    assert_string_equal(kx_buf_str(&f->events), "RESUME -\n");
    finish(f);
}

/* A reply to a command sent without waiting has "return" or "error": a message that only
 * carries its id is no reply, and a null return value is a failure with its message (the
 * callback takes NULL for a failure). Found by tests/fuzz/fuzz_qmp. */
static void test_reply_later_without_value(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"query-jobs\"}",
        "raw {\"retur\": [], \"id\": 2}\n",
        "<< {\"return\": null, \"id\": 2}",
        "<< {\"event\": \"RESUME\"}",
        NULL};
    assert_non_null(start(f, script));
    kx_err_clear();
    assert_int_equal(qmp_send_command(f->c, "query-jobs", NULL, on_reply, f), 0);
    assert_int_equal(dispatch_until(f, 2), 0);
    assert_string_equal(kx_buf_str(&f->events),
                        "reply QEMU's reply to 'query-jobs' has no return value\nRESUME -\n");
    finish(f);
}

static void test_partial_writes(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"query-version\"}",
        "<<+ {\"event\": \"NIC_RX_FILTER_CHANGED\", \"data\": {\"name\": \"n\"}}",
        "<<~ {\"return\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}, "
        "\"package\": \"a \\\"quoted\\\" {brace}\"}}",
        NULL};
    json_object *ret = NULL;
    assert_non_null(start(f, script));
    assert_int_equal(qmp_execute(f->c, "query-version", NULL, &ret, 2000), 0);
    assert_string_equal(json_object_get_string(json_object_object_get(ret, "package")),
                        "a \"quoted\" {brace}");
    json_object_put(ret);
    assert_string_equal(kx_buf_str(&f->events), "NIC_RX_FILTER_CHANGED {\"name\":\"n\"}\n");
    finish(f);
}

static void test_hangup(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"quit\"}",
        "<< {\"event\": \"SHUTDOWN\"}",
        "close",
        NULL};
    assert_non_null(start(f, script));
    assert_int_equal(qmp_execute(f->c, "quit", NULL, NULL, 2000), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_QEMU);
    assert_string_equal(kx_err_msg(), "QEMU closed its monitor connection");
    assert_string_equal(kx_buf_str(&f->events), "SHUTDOWN -\n");
    assert_int_equal(qmp_execute(f->c, "cont", NULL, NULL, 2000), -1);
    assert_string_equal(kx_err_msg(), "QEMU closed its monitor connection");
    assert_int_equal(qmp_dispatch(f->c), -1);
    finish(f);
}

static void test_hangup_dispatch(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING, "sleep 50", "<< {\"event\": \"SHUTDOWN\"}", "close", NULL};
    assert_non_null(start(f, script));
    assert_int_equal(dispatch_until(f, 99), -1);
    assert_string_equal(kx_err_msg(), "QEMU closed its monitor connection");
    assert_string_equal(kx_buf_str(&f->events), "SHUTDOWN -\n");
    finish(f);
}

static void test_hangup_in_handshake(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {"close", NULL};
    assert_null(start(f, script));
    assert_string_equal(kx_err_msg(), "QEMU closed its monitor connection");
    finish(f);
}

static void test_timeout(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">> {\"execute\": \"query-status\"}",
        "sleep 300",
        "<< {\"return\": \"late\"}", /* must not be taken for the next reply */
        ">> {\"execute\": \"query-name\"}",
        "<< {\"return\": {\"name\": \"vm1\"}}",
        NULL};
    json_object *ret = NULL;
    assert_non_null(start(f, script));
    assert_int_equal(qmp_execute(f->c, "query-status", NULL, &ret, 50), -1);
    assert_null(ret);
    assert_int_equal(kx_err_code(), KXL_ERR_QEMU);
    assert_string_equal(kx_err_msg(), "QEMU did not answer 'query-status' within 50 ms");
    assert_int_equal(qmp_execute(f->c, "query-name", NULL, &ret, 2000), 0);
    assert_string_equal(json_object_get_string(json_object_object_get(ret, "name")), "vm1");
    json_object_put(ret);
    finish(f);
}

static void test_malformed(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING, ">> {\"execute\": \"query-status\"}", "raw {\"return\": ]\n", NULL};
    assert_non_null(start(f, script));
    assert_int_equal(qmp_execute(f->c, "query-status", NULL, NULL, 2000), -1);
    assert_true(kx_startswith(kx_err_msg(),
                              "QEMU sent malformed JSON on its monitor connection: "));
    assert_int_equal(qmp_dispatch(f->c), -1);
    assert_string_equal(kx_err_msg(),
                        "QEMU's monitor connection is unusable after a protocol error");
    finish(f);
}

static void test_fd_passing(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING,
        ">>fd {\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"tap0\"}}",
        "<< {\"return\": {}}",
        NULL};
    AUTOCLOSE int fd = memfd_create("test-qmp", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &f->p.expect), 0);
    assert_non_null(start(f, script));
    assert_int_equal(qmp_execute_fd(f->c, "getfd", args1("fdname", "tap0"), fd, NULL, 2000), 0);
    assert_non_null(strstr(kx_buf_str(&f->trace), "\"id\":2} (fd "));
    finish(f);
}

static void test_connect(void **state)
{
    fixture *f = *state;
    static const char *const script[] = {
        GREETING, ">> {\"execute\": \"query-status\"}", "<< {\"return\": {}}", NULL};
    char dir[] = "/tmp/test-qmp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    AUTOFREE char *path = kx_asprintf("%s/qmp.sock", dir);
    f->p.listen_path = path;
    peer_start(f, script);
    f->c = qmp_connect(path, 2000);
    assert_non_null(f->c);
    assert_int_equal(qmp_execute(f->c, "query-status", NULL, NULL, 2000), 0);
    finish(f);
    rmdir(dir);
}

static void test_connect_timeout(void **state)
{
    (void)state;
    assert_null(qmp_connect("/nonexistent/qmp.sock", 30));
    assert_int_equal(kx_err_code(), KXL_ERR_QEMU);
    assert_string_equal(kx_err_msg(), "cannot connect to QMP socket '/nonexistent/qmp.sock' "
                                      "within 30 ms: No such file or directory");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_handshake),
        T(test_event_after_handshake),
        T(test_return_value),
        T(test_error_reply),
        T(test_events_before_reply),
        T(test_handler_runs_command),
        T(test_dispatch),
        T(test_reply_later),
        T(test_forget_replies),
        T(test_reply_later_without_value),
        T(test_partial_writes),
        T(test_hangup),
        T(test_hangup_dispatch),
        T(test_hangup_in_handshake),
        T(test_timeout),
        T(test_malformed),
        T(test_fd_passing),
        T(test_connect),
        T(test_connect_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
