/* test_mig_proto.c - the migration's line protocol over a real pipe: a line is read up to its
 * newline and no further (QEMU's stream that follows stays in the pipe for QEMU), also from a
 * non-blocking descriptor (QEMU makes the shared one so); the peer's end, a silent peer and a
 * line without end are errors that name the peer. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "migrate/mig_proto.h"
#include "util/err.h"

static void make_pipe(int fds[2], bool nonblocking)
{
    assert_int_equal(pipe2(fds, nonblocking ? O_NONBLOCK : 0), 0);
}

static void line_then_stream_stays(void **state)
{
    (void)state;
    int p[2];
    make_pipe(p, true);
    assert_int_equal(mig_write_line(p[1], "peer", MIG_RECEIVED), 0);
    assert_int_equal(write(p[1], "QEVM\0\0\0\3", 8), 8);
    char *line = mig_read_line(p[0], "peer", 1000);
    assert_non_null(line);
    assert_string_equal(line, MIG_RECEIVED);
    free(line);
    char rest[8];
    assert_int_equal(mig_read_exact(p[0], "peer", rest, sizeof(rest), 1000), 0);
    assert_memory_equal(rest, "QEVM\0\0\0\3", 8);
    close(p[0]);
    close(p[1]);
}

static void end_and_silence_are_errors(void **state)
{
    (void)state;
    int p[2];
    make_pipe(p, false);
    assert_null(mig_read_line(p[0], "the receiver", 50));
    assert_non_null(strstr(kx_err_msg(), "the receiver did not answer in time"));
    assert_int_equal(write(p[1], "half a li", 9), 9);
    close(p[1]);
    assert_null(mig_read_line(p[0], "the receiver", 1000));
    assert_non_null(strstr(kx_err_msg(), "the receiver hung up"));
    char b[4];
    assert_int_equal(mig_read_exact(p[0], "the receiver", b, sizeof(b), 1000), -1);
    close(p[0]);
}

static void endless_line_is_refused(void **state)
{
    (void)state;
    int p[2];
    make_pipe(p, false);
    assert_int_equal(fcntl(p[1], F_SETPIPE_SZ, MIG_LINE_MAX * 2) >= MIG_LINE_MAX * 2, 1);
    char *junk = malloc(MIG_LINE_MAX + 10);
    memset(junk, 'x', MIG_LINE_MAX + 10);
    assert_int_equal(write(p[1], junk, MIG_LINE_MAX + 10), MIG_LINE_MAX + 10);
    free(junk);
    assert_null(mig_read_line(p[0], "the sender", 1000));
    assert_non_null(strstr(kx_err_msg(), "the sender sent a line longer than"));
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_then_stream_stays),
        cmocka_unit_test(end_and_silence_are_errors),
        cmocka_unit_test(endless_line_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
