/* test_buf.c - the string buffer, string vectors and QEMU option escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qemu/qemu_argv.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/text.h"

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

/* A format that fits the room left is written once; one that does not, into a larger buffer;
 * either way the text ends where len says. */
static void buf_printf_fills_the_room_then_grows(void **state)
{
    (void)state;
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "0123456789");   /* capacity 64 */
    kx_buf_printf(&b, "%s", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0");   /* fits */
    assert_int_equal(b.len, 63);
    kx_buf_printf(&b, "%d", 12);   /* 2 more: does not fit in the 1 byte left */
    assert_int_equal(b.len, 65);
    assert_string_equal(b.s + 60, "yz012");
    kx_buf_printf(&b, "%s", "");
    assert_int_equal(strlen(kx_buf_str(&b)), 65);
    kx_buf_dispose(&b);
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

static void utf8_validation(void **state)
{
    (void)state;
    size_t bad = 99;
    assert_true(kx_utf8_valid("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 17, NULL));
    const struct { const char *s; size_t bad; } invalid[] = {
        {"ab\xff", 2},            /* never in UTF-8 */
        {"\xc3", 0},              /* cut short */
        {"\xc0\xaf", 0},          /* overlong '/' */
        {"\xed\xa0\x80", 0},      /* a surrogate */
        {"\xf4\x90\x80\x80", 0},  /* above U+10FFFF */
        {"x\x80", 1},             /* a lone continuation byte */
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        assert_false(kx_utf8_valid(invalid[i].s, strlen(invalid[i].s), &bad));
        assert_int_equal(bad, invalid[i].bad);
    }
}

static void printable_escapes_what_steers_a_terminal(void **state)
{
    (void)state;
    char *p = kx_printable("title \x1b]0;x\x07 clear \x1b[2J del\x7f c1 \xc2\x9b bad \xff "
                           "kept: tab\t nl\n \xc3\xa9", true);
    assert_string_equal(p, "title \\x1b]0;x\\x07 clear \\x1b[2J del\\x7f c1 \\xc2\\x9b bad "
                           "\\xff kept: tab\t nl\n \xc3\xa9");
    free(p);
    p = kx_printable("two\nlines", false);
    assert_string_equal(p, "two\\x0alines");
    free(p);
    /* JSON read by kxl (domain.json, API bodies) is refused when a string is not UTF-8 */
    json_object *o = kx_json_parse("{\"name\": \"caf\xe9\"}", "test");
    assert_null(o);
    assert_non_null(strstr(kx_err_msg(), "test: not valid JSON"));
    o = kx_json_parse("{\"name\": \"caf\xc3\xa9\"}", "test");
    assert_non_null(o);
    json_object_put(o);
    kx_err(KXL_ERR_CONFIG, "name 'a\nkxl: fake second line'");
    assert_string_equal(kx_err_msg(), "name 'a\\x0akxl: fake second line'");
    /* every error message goes through it, and is cut on a character boundary */
    kx_err(KXL_ERR_CONFIG, "name '%s'", "\x1b[31mred");
    assert_string_equal(kx_err_msg(), "name '\\x1b[31mred'");
    char long_text[2000];
    memset(long_text, 'a', sizeof(long_text));
    for (size_t i = 1; i + 1 < sizeof(long_text); i += 2)
        memcpy(long_text + i, "\xc3\xa9", 2);
    long_text[sizeof(long_text) - 1] = '\0';
    kx_err(KXL_ERR_CONFIG, "%s", long_text);
    assert_true(kx_utf8_valid(kx_err_msg(), strlen(kx_err_msg()), NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_grows_and_steals),
        cmocka_unit_test(buf_printf_fills_the_room_then_grows),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(printable_escapes_what_steers_a_terminal),
        cmocka_unit_test(strv_joins),
        cmocka_unit_test(qemu_escape_doubles_commas),
        cmocka_unit_test(path_join_normalises_slashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
