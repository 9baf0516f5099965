/* test_buf.c - the string buffer, string vectors and QEMU option escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qemu/qemu_argv.h"
#include "util/buf.h"
#include "util/fileio.h"

static void buf_grows_and_steals(void **state)
{
    (void)state;
    kx_buf b = KX_BUF_INIT;
    assert_string_equal(kx_buf_str(&b), "");
    for (int i = 0; i < 1000; i++)
        kx_buf_printf(&b, "%d,", i % 10);
    assert_int_equal(b.len, 2000);
    kx_buf_addn(&b, "xyz", 2);
    char *s = kx_buf_steal(&b);
    assert_int_equal(strlen(s), 2002);
    assert_string_equal(s + 1998, "9,xy");
    assert_null(b.s);
    free(s);
}

static void strv_joins(void **state)
{
    (void)state;
    kx_strv v = KX_STRV_INIT;
    kx_strv_push(&v, "a");
    kx_strv_pushf(&v, "%s-%d", "b", 2);
    assert_null(v.v[2]);
    char *j = kx_strv_join(&v, " ");
    assert_string_equal(j, "a b-2");
    free(j);
    kx_strv_dispose(&v);
}

static void qemu_escape_doubles_commas(void **state)
{
    (void)state;
    char *e = qemu_opt_escape("/a,b,,c");
    assert_string_equal(e, "/a,,b,,,,c");
    free(e);
}

static void path_join_normalises_slashes(void **state)
{
    (void)state;
    char *p = kx_path_join("/run/", "/kxl");
    assert_string_equal(p, "/run/kxl");
    free(p);
    p = kx_path_join("/", "etc/kxl");
    assert_string_equal(p, "/etc/kxl");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_grows_and_steals),
        cmocka_unit_test(strv_joins),
        cmocka_unit_test(qemu_escape_doubles_commas),
        cmocka_unit_test(path_join_normalises_slashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
