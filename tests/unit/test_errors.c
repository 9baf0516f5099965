/* test_errors.c - error codes: their wire names, the trip through a supervisor's reply, and
 * the exit statuses the command line derives from them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/exit_status.h"
#include "lib/control.h"
#include "util/err.h"

static void names_round_trip(void **state)
{
    (void)state;
    for (int c = 0; c < KXL_ERR__COUNT; c++) {
        const char *name = kxl_errcode_name((kxl_errcode)c);
        assert_non_null(name);
        assert_int_equal(kxl_errcode_from_name(name), c);
        for (int d = 0; d < c; d++)
            assert_string_not_equal(name, kxl_errcode_name((kxl_errcode)d));
    }
    assert_string_equal(kxl_errcode_name(KXL_ERR_NOT_FOUND), "not-found");
    assert_string_equal(kxl_errcode_name(KXL_ERR_BUSY), "busy");
    assert_string_equal(kxl_errcode_name((kxl_errcode)999), "internal");
}

static void unknown_names_are_internal(void **state)
{
    (void)state;
    assert_int_equal(kxl_errcode_from_name("from-a-newer-peer"), KXL_ERR_INTERNAL);
    assert_int_equal(kxl_errcode_from_name(""), KXL_ERR_INTERNAL);
    assert_int_equal(kxl_errcode_from_name(NULL), KXL_ERR_INTERNAL);
}

/* What the supervisor sends is what the client restores: code and sentence. */
static void errors_cross_the_control_socket(void **state)
{
    (void)state;
    for (int c = KXL_ERR_INTERNAL; c < KXL_ERR__COUNT; c++) {
        kx_err((kxl_errcode)c, "domain 'g%d' says no", c);
        json_object *wire = control_error_json();
        json_object *parsed = json_tokener_parse(json_object_to_json_string(wire));
        kx_err_clear();
        control_error_restore(parsed);
        assert_int_equal(kx_err_code(), c);
        char want[64];
        snprintf(want, sizeof(want), "domain 'g%d' says no", c);
        assert_string_equal(kx_err_msg(), want);
        json_object_put(wire);
        json_object_put(parsed);
    }
}

static void old_supervisors_send_a_sentence(void **state)
{
    (void)state;
    json_object *old = json_object_new_string("domain 'g' is paused, not running");
    control_error_restore(old);
    assert_int_equal(kx_err_code(), KXL_ERR_STATE);
    assert_string_equal(kx_err_msg(), "domain 'g' is paused, not running");
    json_object_put(old);
    json_object *bare = json_object_new_object();
    control_error_restore(bare);
    assert_int_equal(kx_err_code(), KXL_ERR_INTERNAL);
    assert_string_equal(kx_err_msg(), "the supervisor gave no reason");
    json_object_put(bare);
}

static void errno_refines_internal(void **state)
{
    (void)state;
    errno = EACCES;
    kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s'", "/x");
    assert_int_equal(kx_err_code(), KXL_ERR_PERMISSION);
    assert_string_equal(kx_err_msg(), "cannot open '/x': Permission denied");
    errno = ENOSPC;
    kx_err_errno(KXL_ERR_INTERNAL, "cannot write");
    assert_int_equal(kx_err_code(), KXL_ERR_HOST);
    errno = EIO;
    kx_err_errno(KXL_ERR_INTERNAL, "cannot read");
    assert_int_equal(kx_err_code(), KXL_ERR_INTERNAL);
    errno = EACCES;   /* a code the caller chose stays */
    kx_err_errno(KXL_ERR_STATE, "cannot reach the supervisor");
    assert_int_equal(kx_err_code(), KXL_ERR_STATE);
}

static void exit_statuses(void **state)
{
    (void)state;
    assert_int_equal(cli_exit_status(KXL_ERR_NONE), EXIT_OK);
    /* xl's contract: every failure is 1; 2 is kept for usage errors */
    for (int c = KXL_ERR_INTERNAL; c < KXL_ERR__COUNT; c++)
        assert_int_equal(cli_exit_status((kxl_errcode)c), EXIT_ERR);
    assert_int_equal(cli_exit_status((kxl_errcode)-1), EXIT_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(unknown_names_are_internal),
        cmocka_unit_test(errors_cross_the_control_socket),
        cmocka_unit_test(old_supervisors_send_a_sentence),
        cmocka_unit_test(errno_refines_internal),
        cmocka_unit_test(exit_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
