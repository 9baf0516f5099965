/* fuzz_qmp.c - libFuzzer target: QMP reply handling (src/qemu/qmp.c): what QEMU sends on its
 * monitor socket, split into JSON messages however it is cut, the greeting and handshake, and
 * replies and events dispatched to whom they are for.
 *
 * Input: what QEMU sends, in three parts separated by NUL bytes, each written into the peer's
 * end of a socketpair when QEMU would send it:
 *   0. before the handshake: the greeting and the reply to "qmp_capabilities" (id 1);
 *   1. after "query-block" (id 2) and "query-status" (id 3) were sent without waiting: their
 *      replies, events, and the reply to "stop" (id 4), which qmp_execute then waits for;
 *   2. after "cont" (id 5, sent without waiting, its reply forgotten at once): the rest, then
 *      QEMU hangs up and qmp_dispatch runs until it sees that.
 * The event handler runs a command of its own (the nested case) on the second event. Waits
 * never block: a command waits 0 ms (its reply is in the socket already, or never comes), and
 * part 0 is followed by the hang-up when it does not hold a complete handshake.
 *
 * Checked besides crashes, leaks and undefined behaviour: every event has a name; each reply
 * is delivered at most once, and a forgotten one never; a failed reply (an error, or no return
 * value) comes with its message ("QEMU refused '...'"); every failure says why. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "qemu/qmp.h"
#include "util/buf.h"
#include "util/err.h"

#define MAX_INPUT (64 << 10)
#define CMD_MS 0

typedef struct {
    qmp_conn *c;
    int events;
    bool nested;
    int replies[4];   /* per command sent without waiting: times its reply came */
} fuzz_ctx;

static void on_event(const char *event, json_object *data, void *opaque)
{
    fuzz_ctx *x = opaque;
    FUZZ_CHECK(event, "an event without a name");
    (void)json_object_to_json_string(data);
    if (++x->events == 2 && !x->nested) {
        json_object *ret = NULL;
        x->nested = true;
        if (qmp_execute(x->c, "query-status", NULL, &ret, CMD_MS) < 0)
            FUZZ_CHECK(*kx_err_msg(), "a nested command failed without a message");
        json_object_put(ret);
    }
}

static void on_reply(json_object *ret, void *opaque)
{
    int *count = opaque;
    FUZZ_CHECK(++*count == 1, "a reply delivered %d times", *count);
    if (!ret)
        FUZZ_CHECK(kx_startswith(kx_err_msg(), "QEMU refused '") ||
                   kx_startswith(kx_err_msg(), "QEMU's reply to '"), "a failed reply as '%s'",
                   kx_err_msg());
}

static void on_forgotten(json_object *ret, void *opaque)
{
    (void)ret, (void)opaque;
    FUZZ_CHECK(false, "a forgotten reply was delivered");
}

/* Writes what fits without blocking: all of it for inputs up to MAX_INPUT. */
static void peer_send(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t n = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            break;
        data += n;
        size -= (size_t)n;
    }
}

/* What qmp.c waits for after the greeting: the reply to qmp_capabilities (id 1, or none). */
static bool is_first_reply(json_object *msg)
{
    json_object *id = NULL;
    if (!json_object_object_get_ex(msg, "return", NULL) &&
        !json_object_object_get_ex(msg, "error", NULL))
        return false;
    return !json_object_object_get_ex(msg, "id", &id) ||
           (json_object_is_type(id, json_type_int) && json_object_get_int64(id) == 1);
}

/* Whether text, parsed as qmp.c does, holds the greeting and then the reply to
 * qmp_capabilities: if not, the handshake would wait for more, so the peer hangs up. */
static bool has_handshake(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    bool greeted = false, done = false;
    size_t off = 0;
    while (off < len && !done) {
        json_object *msg = json_tokener_parse_ex(tok, text + off, (int)(len - off));
        enum json_tokener_error e = json_tokener_get_error(tok);
        size_t used = json_tokener_get_parse_end(tok);
        off += used;
        if (msg) {
            if (greeted)
                done = is_first_reply(msg);
            else
                greeted = json_object_object_get_ex(msg, "QMP", NULL);
            json_object_put(msg);
        } else if ((e != json_tokener_success && e != json_tokener_continue) || used == 0) {
            break;
        }
    }
    json_tokener_free(tok);
    return done;
}

static void session(fuzz_ctx *x, int peer, const char *part1, const char *part2)
{
    json_object *ret = NULL;
    qmp_set_event_handler(x->c, on_event, x);
    if (qmp_send_command(x->c, "query-block", NULL, on_reply, &x->replies[0]) < 0 ||
        qmp_send_command(x->c, "query-status", NULL, on_reply, &x->replies[1]) < 0)
        return;
    peer_send(peer, part1, strlen(part1));
    if (qmp_execute(x->c, "stop", NULL, &ret, CMD_MS) < 0)
        FUZZ_CHECK(*kx_err_msg(), "a command failed without a message");
    json_object_put(ret);
    if (qmp_send_command(x->c, "cont", NULL, on_forgotten, &x->replies[2]) == 0)
        qmp_forget_replies(x->c, &x->replies[2]);
    peer_send(peer, part2, strlen(part2));
    shutdown(peer, SHUT_WR);
    for (int i = 0; i < 100; i++) {
        if (qmp_dispatch(x->c) < 0) {
            FUZZ_CHECK(*kx_err_msg(), "qmp_dispatch failed without a message");
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    fuzz_ctx x = {0};
    char *part[3] = {NULL, NULL, NULL};
    if (size > MAX_INPUT)
        return 0;
    for (int i = 0; i < 3; i++)
        if (!fuzz_next_piece(&data, &size, &part[i]))
            part[i] = kx_strdup("");
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    peer_send(sv[1], part[0], strlen(part[0]));
    if (!has_handshake(part[0], strlen(part[0])))
        shutdown(sv[1], SHUT_WR);
    kx_err_clear();
    x.c = qmp_open_fd(sv[0]);
    if (x.c)
        session(&x, sv[1], part[1], part[2]);
    else
        FUZZ_CHECK(*kx_err_msg(), "the handshake failed without a message");
    qmp_close(x.c);
    close(sv[1]);
    for (int i = 0; i < 3; i++)
        free(part[i]);
    return 0;
}
