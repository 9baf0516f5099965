/* test_mig_mux.c - kxl migrate --copy-storage's relay (migrate/mig_mux.h), both sides in child
 * processes joined by a socket pair as the transport: channel 0 goes through both ways; the
 * receiver connects to a listening socket (the NBD server) and says so on channel 0; what
 * that server sends first (NBD's greeting) waits for the sending side's connection, which
 * then talks to it both ways; the end of channel 0 reaches the other side; a broken frame
 * ends a relay with an error. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "migrate/mig_mux.h"
#include "migrate/mig_proto.h"
#include "unit_tmpdir.h"
#include "util/err.h"

static char tmp[] = "/tmp/kxl-test-mux-XXXXXX";
UNIT_TMPDIR_FIXTURES(tmp)

static int unix_listen(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    return fd;
}

static int unix_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* The test's ends of a relay started before: a later relay's child must not hold them. */
static int others[2] = {-1, -1};

/* A relay of m in a child, with channel 0 the pipes *to_r (written) and *from_r (read). */
static pid_t start(mig_mux *m, int *to_r, int *from_r)
{
    int to[2], from[2];
    assert_int_equal(pipe(to), 0);
    assert_int_equal(pipe(from), 0);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        if (others[0] >= 0) {
            close(others[0]);
            close(others[1]);
        }
        close(to[1]);
        close(from[0]);
        m->ch0_in = to[0];
        m->ch0_out = from[1];
        _exit(mig_mux_run(m) == 0 ? 0 : 1);
    }
    close(to[0]);
    close(from[1]);
    *to_r = to[1];
    *from_r = from[0];
    return pid;
}

static void expect_bytes(int fd, const char *want)
{
    char got[64] = "";
    assert_int_equal(mig_read_exact(fd, "test", got, strlen(want), 5000), 0);
    assert_string_equal(got, want);
}

static int exit_status(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void two_sides_carry_protocol_and_nbd(void **state)
{
    (void)state;
    char server_path[96], relay_path[96];
    snprintf(server_path, sizeof(server_path), "%s/nbd.sock", tmp);
    snprintf(relay_path, sizeof(relay_path), "%s/mirror.sock", tmp);
    int server = unix_listen(server_path), relay_listen = unix_listen(relay_path);
    int t[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, t), 0);
    mig_mux snd = {.transport_in = t[0], .transport_out = t[0], .n = 1,
                   .listen_fd = relay_listen, .stream_fd = -1};
    mig_mux rcv = {.transport_in = t[1], .transport_out = t[1], .n = 1, .listen_fd = -1,
                   .connect_path = server_path, .connect_ms = 5000,
                   .ready_line = MIG_STORAGE_READY, .stream_fd = -1};
    int s_to, s_from, r_to, r_from;
    pid_t sp = start(&snd, &s_to, &s_from);
    others[0] = s_to;
    others[1] = s_from;
    pid_t rp = start(&rcv, &r_to, &r_from);
    close(t[0]);
    close(t[1]);
    close(relay_listen);

    /* the receiver's relay connects to the server and says so on channel 0 */
    char *line = mig_read_line(s_from, "sender's channel 0", 5000);
    assert_non_null(line);
    assert_string_equal(line, MIG_STORAGE_READY);
    free(line);
    int nbd_server = accept(server, NULL, NULL);
    assert_true(nbd_server >= 0);
    assert_int_equal(write(nbd_server, "GREETING", 8), 8);   /* before the client is there */
    int nbd_client = unix_connect(relay_path);
    expect_bytes(nbd_client, "GREETING");
    assert_int_equal(write(nbd_client, "REQUEST", 7), 7);
    expect_bytes(nbd_server, "REQUEST");

    assert_int_equal(mig_write_line(s_to, "test", "hello receiver"), 0);
    line = mig_read_line(r_from, "receiver's channel 0", 5000);
    assert_string_equal(line, "hello receiver");
    free(line);
    assert_int_equal(mig_write_line(r_to, "test", "hello sender"), 0);
    line = mig_read_line(s_from, "sender's channel 0", 5000);
    assert_string_equal(line, "hello sender");
    free(line);

    /* channel 0's end, both ways, ends both relays */
    close(s_to);
    char c;
    assert_int_equal(read(r_from, &c, 1), 0);
    close(r_to);
    assert_int_equal(read(s_from, &c, 1), 0);
    assert_int_equal(exit_status(sp), 0);
    assert_int_equal(exit_status(rp), 0);
    close(s_from);
    close(r_from);
    close(nbd_client);
    close(nbd_server);
    close(server);
}

/* --postcopy through pipes: QEMU's stream on a channel of its own, both ways, beside the
 * protocol's lines. */
static void stream_channel_goes_both_ways(void **state)
{
    (void)state;
    int t[2], qa[2], qb[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, t), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, qa), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, qb), 0);
    mig_mux snd = {.transport_in = t[0], .transport_out = t[0], .listen_fd = -1,
                   .stream_fd = qa[1]};
    mig_mux rcv = {.transport_in = t[1], .transport_out = t[1], .listen_fd = -1,
                   .stream_fd = qb[1]};
    int s_to, s_from, r_to, r_from;
    others[0] = others[1] = -1;
    pid_t sp = start(&snd, &s_to, &s_from);
    others[0] = s_to;
    others[1] = s_from;
    pid_t rp = start(&rcv, &r_to, &r_from);
    close(t[0]);
    close(t[1]);
    close(qa[1]);
    close(qb[1]);
    assert_int_equal(write(qa[0], "QEVM-PAGES", 10), 10);
    expect_bytes(qb[0], "QEVM-PAGES");
    assert_int_equal(write(qb[0], "PAGE-REQ", 8), 8);   /* the return path */
    expect_bytes(qa[0], "PAGE-REQ");
    assert_int_equal(mig_write_line(r_to, "test", MIG_RECEIVED), 0);
    char *line = mig_read_line(s_from, "sender's channel 0", 5000);
    assert_string_equal(line, MIG_RECEIVED);
    free(line);
    close(s_to);
    close(r_to);
    assert_int_equal(exit_status(sp), 0);
    assert_int_equal(exit_status(rp), 0);
    close(s_from);
    close(r_from);
    close(qa[0]);
    close(qb[0]);
}

static void broken_frame_is_an_error(void **state)
{
    (void)state;
    int t[2], ch0[2], out[2];
    assert_int_equal(pipe(t), 0);
    assert_int_equal(pipe(ch0), 0);
    assert_int_equal(pipe(out), 0);
    unsigned char h[4];
    mig_mux_frame_header(9, 3, h);   /* channel 9 of a relay with 1 */
    assert_int_equal(write(t[1], h, 4), 4);
    assert_int_equal(write(t[1], "abc", 3), 3);
    int sink = open("/dev/null", O_WRONLY);
    mig_mux m = {.transport_in = t[0], .transport_out = sink, .ch0_in = ch0[0],
                 .ch0_out = out[1], .n = 1, .listen_fd = -1, .stream_fd = -1};
    assert_int_equal(mig_mux_run(&m), -1);
    assert_non_null(strstr(kx_err_msg(), "broken frame"));
    close(sink);
    close(t[0]);
    close(t[1]);
    close(ch0[0]);
    close(ch0[1]);
    close(out[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_sides_carry_protocol_and_nbd),
        cmocka_unit_test(stream_channel_goes_both_ways),
        cmocka_unit_test(broken_frame_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
