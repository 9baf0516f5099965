/* test_migrate_summary.c - kxl migrate's final line (kxl_migrate_summary): a precopy
 * migration's QEMU downtime; a postcopy one's time in postcopy instead, never QEMU's
 * "downtime 0 ms", which it does not measure for postcopy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kxl/ops.h"

static void precopy_says_its_downtime(void **state)
{
    (void)state;
    kxl_migrate_progress pr = {.phase = "handover", .transferred = 71 << 20, .pass = 3,
                               .total_time_ms = 1600, .downtime_ms = 17};
    assert_true(kxl_migrate_progress_final(&pr));
    char *line = kxl_migrate_summary(&pr);
    assert_string_equal(line, "71.0 MiB sent in 1.6 s over 3 passes, downtime 17 ms");
    free(line);
}

static void postcopy_says_its_time_in_postcopy(void **state)
{
    (void)state;
    kxl_migrate_progress pr = {.phase = "handover", .postcopy = true, .pass = 2};
    assert_false(kxl_migrate_progress_final(&pr));   /* the figures come with "done" */
    pr = (kxl_migrate_progress){.phase = "done", .postcopy = true, .transferred = 300 << 20,
                                .pass = 2, .total_time_ms = 4200, .postcopy_ms = 2350};
    assert_true(kxl_migrate_progress_final(&pr));
    char *line = kxl_migrate_summary(&pr);
    assert_null(strstr(line, "downtime 0 ms"));
    assert_string_equal(line, "300.0 MiB sent in 4.2 s over 2 passes, postcopy for 2350 ms (the "
                        "guest ran on the receiver from the switch, fetching the pages it "
                        "lacked; QEMU measures no downtime for postcopy)");
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(precopy_says_its_downtime),
        cmocka_unit_test(postcopy_says_its_time_in_postcopy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
