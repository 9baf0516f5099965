/* test_lifecycle.c - the supervisor's lifecycle table: every allowed transition is taken to
 * the state the specification below names, and every other (state, event) pair is refused
 * with a KXL_ERR_STATE error that names both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/sv_lifecycle.h"
#include "util/err.h"

/* The specification, as a grid: one row per state, one column per event in the order of
 * sv_lc_event (run, run-paused, pause, unpause, preserve, crash, quit, restart, restarted,
 * destroy, end); each cell the state the event leads to, '.' where it is refused.
 * S starting, R running, P paused, D shutting-down, T restarting, s shutdown, c crashed,
 * X destroying, G gone. */
static const char *const grid[SV_LC__COUNT] = {
    [SV_LC_STARTING] = "RP..scDT.XG",
    [SV_LC_RUNNING] = "..P.scDT.X.",
    [SV_LC_PAUSED] = "...RscDT.X.",
    [SV_LC_SHUTTING_DOWN] = ".........XG",
    [SV_LC_RESTARTING] = "........RXG",
    [SV_LC_SHUTDOWN] = ".....c...X.",
    [SV_LC_CRASHED] = "......DT.XG",
    [SV_LC_DESTROYING] = "..........G",
    [SV_LC_GONE] = "...........",
};

static const char letters[SV_LC__COUNT + 1] = {
    [SV_LC_STARTING] = 'S', [SV_LC_RUNNING] = 'R',  [SV_LC_PAUSED] = 'P',
    [SV_LC_SHUTTING_DOWN] = 'D', [SV_LC_RESTARTING] = 'T', [SV_LC_SHUTDOWN] = 's',
    [SV_LC_CRASHED] = 'c',  [SV_LC_DESTROYING] = 'X', [SV_LC_GONE] = 'G',
};

static sv_lc_state state_of(char letter)
{
    const char *at = strchr(letters, letter);
    assert_non_null(at);
    return (sv_lc_state)(at - letters);
}

static void grid_is_complete(void **state)
{
    (void)state;
    for (int st = 0; st < SV_LC__COUNT; st++) {
        assert_non_null(grid[st]);
        assert_int_equal(strlen(grid[st]), SV_LC__EVENT_COUNT);
    }
}

static void allowed_transitions_are_taken(void **state)
{
    (void)state;
    int allowed = 0;
    for (int st = 0; st < SV_LC__COUNT; st++) {
        for (int ev = 0; ev < SV_LC__EVENT_COUNT; ev++) {
            if (grid[st][ev] == '.')
                continue;
            sv_lc_state to = SV_LC__COUNT;
            kx_err_clear();
            if (sv_lc_step((sv_lc_state)st, (sv_lc_event)ev, &to) < 0)
                fail_msg("%s on %s was refused: %s", sv_lc_state_name((sv_lc_state)st),
                         sv_lc_event_name((sv_lc_event)ev), kx_err_msg());
            assert_int_equal(to, state_of(grid[st][ev]));
            assert_string_equal(kx_err_msg(), "");
            allowed++;
        }
    }
    assert_int_equal(allowed, 32);
}

static void other_pairs_are_refused(void **state)
{
    (void)state;
    for (int st = 0; st < SV_LC__COUNT; st++) {
        for (int ev = 0; ev < SV_LC__EVENT_COUNT; ev++) {
            if (grid[st][ev] != '.')
                continue;
            sv_lc_state to = SV_LC__COUNT;
            kx_err_clear();
            assert_int_equal(sv_lc_step((sv_lc_state)st, (sv_lc_event)ev, &to), -1);
            assert_int_equal(to, SV_LC__COUNT);
            assert_int_equal(kx_err_code(), KXL_ERR_STATE);
            char want[128];
            snprintf(want, sizeof(want), "no lifecycle transition from '%s' on '%s'",
                     sv_lc_state_name((sv_lc_state)st), sv_lc_event_name((sv_lc_event)ev));
            assert_string_equal(kx_err_msg(), want);
        }
    }
}

static void names_are_distinct(void **state)
{
    (void)state;
    for (int a = 0; a < SV_LC__COUNT; a++)
        for (int b = 0; b < a; b++)
            assert_string_not_equal(sv_lc_state_name((sv_lc_state)a),
                                    sv_lc_state_name((sv_lc_state)b));
    for (int a = 0; a < SV_LC__EVENT_COUNT; a++) {
        assert_string_not_equal(sv_lc_event_name((sv_lc_event)a), "unknown");
        for (int b = 0; b < a; b++)
            assert_string_not_equal(sv_lc_event_name((sv_lc_event)a),
                                    sv_lc_event_name((sv_lc_event)b));
    }
    assert_string_equal(sv_lc_state_name(SV_LC__COUNT), "unknown");
    assert_string_equal(sv_lc_state_name(SV_LC_SHUTTING_DOWN), "shutting-down");
}

/* What `kxl list` shows did not change with the finer states. */
static void public_states(void **state)
{
    (void)state;
    assert_int_equal(sv_lc_public_state(SV_LC_STARTING), KXL_STATE_STARTING);
    assert_int_equal(sv_lc_public_state(SV_LC_RUNNING), KXL_STATE_RUNNING);
    assert_int_equal(sv_lc_public_state(SV_LC_RESTARTING), KXL_STATE_RUNNING);
    assert_int_equal(sv_lc_public_state(SV_LC_PAUSED), KXL_STATE_PAUSED);
    assert_int_equal(sv_lc_public_state(SV_LC_SHUTDOWN), KXL_STATE_SHUTDOWN);
    assert_int_equal(sv_lc_public_state(SV_LC_CRASHED), KXL_STATE_CRASHED);
    assert_int_equal(sv_lc_public_state(SV_LC_SHUTTING_DOWN), KXL_STATE_DYING);
    assert_int_equal(sv_lc_public_state(SV_LC_DESTROYING), KXL_STATE_DYING);
    assert_int_equal(sv_lc_public_state(SV_LC_GONE), KXL_STATE_DYING);
}

/* The predicates agree with the states' meaning, and gone is the only dead end. */
static void predicates(void **state)
{
    (void)state;
    for (int st = 0; st < SV_LC__COUNT; st++) {
        bool ending = st == SV_LC_SHUTTING_DOWN || st == SV_LC_DESTROYING || st == SV_LC_GONE;
        assert_int_equal(sv_lc_ending((sv_lc_state)st), ending);
        bool job = st == SV_LC_RUNNING || st == SV_LC_PAUSED || st == SV_LC_CRASHED;
        assert_int_equal(sv_lc_job_allowed((sv_lc_state)st), job);
        bool dead_end = strspn(grid[st], ".") == SV_LC__EVENT_COUNT;
        assert_int_equal(dead_end, st == SV_LC_GONE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grid_is_complete),
        cmocka_unit_test(allowed_transitions_are_taken),
        cmocka_unit_test(other_pairs_are_refused),
        cmocka_unit_test(names_are_distinct),
        cmocka_unit_test(public_states),
        cmocka_unit_test(predicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
