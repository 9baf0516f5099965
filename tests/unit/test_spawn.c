/* test_spawn.c - kx_run's children in a threaded process (kxld's jobs run them): while other
 * threads allocate and free without pause, a command runs and its output comes back, and a
 * command that cannot run fails with the same words as ever ("'X' could not run: No such
 * file or directory", strerror's text written by the child without stdio); each run is
 * bounded by an alarm, so a child stuck on a lock held at the fork fails the test (a rare
 * race: this bounds it, it cannot provoke it at will). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/spawn.h"

#define RUNS 60
#define HAMMERS 3

static atomic_bool stop;

/* Keeps the allocator's locks busy, as kxld's other threads do. */
static void *hammer(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        void *p[16];
        for (size_t i = 0; i < 16; i++)
            p[i] = malloc(16 + i * 97);
        for (size_t i = 0; i < 16; i++)
            free(p[i]);
    }
    return NULL;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_spawn: a child hung (a lock held at the fork?)\n";
    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing else to do */
    }
    _exit(1);
}

static void test_children_of_a_threaded_process(void **state)
{
    (void)state;
    pthread_t t[HAMMERS];
    atomic_store(&stop, false);
    for (size_t i = 0; i < HAMMERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
    signal(SIGALRM, on_alarm);
    for (int i = 0; i < RUNS; i++) {
        alarm(20);
        char *echo[] = {"echo", "hello", NULL};
        AUTOFREE char *out = kx_run_capture(echo);
        assert_non_null(out);
        assert_string_equal(out, "hello\n");
        char *missing[] = {"kxl-test-no-such-program", NULL};
        assert_int_equal(kx_run(missing), -1);
        assert_string_equal(kx_err_msg(), "'kxl-test-no-such-program' could not run: No such "
                                          "file or directory");
    }
    alarm(0);
    atomic_store(&stop, true);
    for (size_t i = 0; i < HAMMERS; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_children_of_a_threaded_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
