/* fuzz_qmp.c - libFuzzer target: QMP reply handling (src/qemu/qmp.c): what QEMU sends on its
 * monitor socket, split into JSON messages however it is cut, the greeting and handshake, and
 * replies and events dispatched to whom they are for.
 *
 * Input: all QEMU sends, then it hangs up. It is written into one end of a socketpair before
 * kxl's side opens the other: the handshake (greeting, then "qmp_capabilities" as id 1), then
 * two commands sent without waiting (ids 2, 3), one run with qmp_execute (id 4), one more
 * without waiting (id 5) whose reply is forgotten, then qmp_dispatch until the hang-up. The
 * event handler runs a command of its own (the nested case) on the second event.
 *
 * Checked besides crashes, leaks and undefined behaviour: every event has a name; each reply
 * is delivered at most once, and a forgotten one never; an error reply comes with "QEMU
 * refused '...'"; every failure says why. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "qemu/qmp.h"
#include "util/buf.h"
#include "util/err.h"

#define MAX_INPUT (64 << 10)
#define CMD_MS 1000

typedef struct {
    qmp_conn *c;
    int events;
    bool nested;
    int replies[4];   /* per command sent without waiting: times its reply came */
} fuzz_ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    return 0;
}

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
        FUZZ_CHECK(kx_startswith(kx_err_msg(), "QEMU refused '"), "error reply as '%s'",
                   kx_err_msg());
}

static void on_forgotten(json_object *ret, void *opaque)
{
    (void)ret, (void)opaque;
    FUZZ_CHECK(false, "a forgotten reply was delivered");
}

/* Writes what fits without blocking: all of it for inputs up to MAX_INPUT. */
static void peer_send(int fd, const uint8_t *data, size_t size)
{
    while (size > 0) {
        ssize_t n = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            break;
        data += n;
        size -= (size_t)n;
    }
    shutdown(fd, SHUT_WR);
}

static void session(fuzz_ctx *x)
{
    json_object *ret = NULL;
    qmp_set_event_handler(x->c, on_event, x);
    if (qmp_send_command(x->c, "query-block", NULL, on_reply, &x->replies[0]) < 0 ||
        qmp_send_command(x->c, "query-status", NULL, on_reply, &x->replies[1]) < 0)
        return;
    if (qmp_execute(x->c, "stop", NULL, &ret, CMD_MS) < 0)
        FUZZ_CHECK(*kx_err_msg(), "a command failed without a message");
    json_object_put(ret);
    if (qmp_send_command(x->c, "cont", NULL, on_forgotten, &x->replies[2]) == 0)
        qmp_forget_replies(x->c, &x->replies[2]);
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
    if (size > MAX_INPUT)
        return 0;
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    peer_send(sv[1], data, size);
    kx_err_clear();
    x.c = qmp_open_fd(sv[0]);
    if (x.c)
        session(&x);
    else
        FUZZ_CHECK(*kx_err_msg(), "the handshake failed without a message");
    qmp_close(x.c);
    close(sv[1]);
    return 0;
}
