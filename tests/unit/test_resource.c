/* test_resource.c - the pure parts of resource control: xl's size syntax (mem-set, mem-max)
 * and sched-credit's table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kxl/ops.h"
#include "util/cleanup.h"
#include "util/err.h"

static void sizes_as_xl_reads_them(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t mib; } good[] = {
        {"512", 512}, {"512m", 512}, {"512M", 512}, {"2g", 2048}, {"2G", 2048},
        {"1t", 1 << 20}, {"163840k", 160}, {"1048576b", 1}, {"0", 0}, {"16t", 16 << 20},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t mib = 99;
        assert_int_equal(kxl_mem_size_parse(good[i].text, &mib), 0);
        assert_int_equal(mib, good[i].mib);
    }
}

static void sizes_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "m", "-1", "+5", "12x", "12mb", "1.5g", "garbage", " 5", "5 ", "1000k", "17t",
        "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t mib = 99;
        assert_int_equal(kxl_mem_size_parse(bad[i], &mib), -1);
        assert_int_equal(kx_err_code(), KXL_ERR_INVALID);
        assert_int_equal(mib, 99);
        assert_null(strchr(kx_err_msg(), '\n'));
    }
    kx_err_clear();
}

/* xl's "%-33s %4d %6d %4d" under its header. */
static void sched_table(void **state)
{
    (void)state;
    kxl_sched_info s = {.name = "web-01", .domid = 7, .weight = 512, .cap = 50};
    AUTOFREE char *line = kxl_sched_line(&s);
    assert_string_equal(kxl_sched_header(),
                        "Name                                ID Weight  Cap");
    assert_string_equal(line, "web-01                               7    512   50");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes_as_xl_reads_them),
        cmocka_unit_test(sizes_refused),
        cmocka_unit_test(sched_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
