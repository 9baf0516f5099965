/* test_snapshots.c - snapshot-list's data (lib/snapshot_list.c): two disks' lists as the
 * supervisor or qemu-img give them, merged by name (those on every disk first, in the first
 * disk's order), as JSON and as the table, against golden files in DATA_DIR
 * (tests/data/snapshots; KXL_TEST_REGENERATE=1 rewrites them). Dates in UTC.
 *     test_snapshots DATA_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit_golden.h"

#include "lib/snapshot.h"
#include "util/json.h"

static const char *data_dir;

/* xvda holds "base" (with memory), "disk-only" and "only-a"; xvdb "disk-only" and "base",
 * in another order, and "only-b". */
static const char disks_json[] =
    "[{\"vdev\": \"xvda\", \"snapshots\": ["
    " {\"id\": \"1\", \"name\": \"base\", \"vm-state-size\": 52531200, \"date-sec\": 1796601600,"
    "  \"date-nsec\": 500000000, \"vm-clock-sec\": 3723, \"vm-clock-nsec\": 45000000},"
    " {\"id\": \"2\", \"name\": \"only-a\", \"vm-state-size\": 0, \"date-sec\": 1796601700,"
    "  \"date-nsec\": 0, \"vm-clock-sec\": 0, \"vm-clock-nsec\": 0},"
    " {\"id\": \"3\", \"name\": \"disk-only\", \"vm-state-size\": 0, \"date-sec\": 1796601800,"
    "  \"date-nsec\": 0, \"vm-clock-sec\": 0, \"vm-clock-nsec\": 0, \"icount\": 42}]},"
    " {\"vdev\": \"xvdb\", \"snapshots\": ["
    " {\"id\": \"1\", \"name\": \"disk-only\", \"vm-state-size\": 0, \"date-sec\": 1796601800,"
    "  \"date-nsec\": 0, \"vm-clock-sec\": 0, \"vm-clock-nsec\": 0},"
    " {\"id\": \"2\", \"name\": \"only-b\", \"vm-state-size\": 1000, \"date-sec\": 1796601900,"
    "  \"date-nsec\": 0, \"vm-clock-sec\": 0, \"vm-clock-nsec\": 0},"
    " {\"id\": \"3\", \"name\": \"base\", \"vm-state-size\": 0, \"date-sec\": 1796601600,"
    "  \"date-nsec\": 0, \"vm-clock-sec\": 0, \"vm-clock-nsec\": 0}]}]";

static void merge(const char *text, kxl_snapshot **snaps_r, size_t *n_r)
{
    json_object *disks = kx_json_parse(text, "test");
    assert_non_null(disks);
    assert_int_equal(snapshot_list_merge(disks, snaps_r, n_r), 0);
    json_object_put(disks);
}

static void test_merge(void **state)
{
    (void)state;
    kxl_snapshot *s;
    size_t n;
    merge(disks_json, &s, &n);
    assert_int_equal(n, 4);
    const char *names[] = {"base", "disk-only", "only-a", "only-b"};
    const bool all[] = {true, true, false, false};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(s[i].name, names[i]);
        assert_int_equal(s[i].on_all_disks, all[i]);
    }
    /* the first disk's record: its id, memory and clock */
    assert_string_equal(s[0].id, "1");
    assert_int_equal(s[0].vm_state_size, 52531200);
    assert_int_equal(s[0].vm_clock_ns, 3723045000000ull);
    assert_string_equal(s[0].disks[0], "xvda");
    assert_string_equal(s[0].disks[1], "xvdb");
    assert_null(s[0].disks[2]);
    assert_int_equal(s[0].icount, -1);
    assert_int_equal(s[1].icount, 42);
    assert_string_equal(s[3].disks[0], "xvdb");
    assert_null(s[3].disks[1]);

    json_object *list = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(list, kxl_snapshot_to_json(&s[i]));
    const char *text = json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY);
    char *with_nl = malloc(strlen(text) + 2);
    sprintf(with_nl, "%s\n", text);
    unit_check_golden(data_dir, "merged.json", with_nl);
    free(with_nl);
    json_object_put(list);

    char *table = kxl_snapshot_table(s, n);
    unit_check_golden(data_dir, "merged.txt", table);
    free(table);
    kxl_snapshots_free(s, n);
}

static void test_none_and_malformed(void **state)
{
    (void)state;
    kxl_snapshot *s;
    size_t n;
    merge("[{\"vdev\": \"xvda\", \"snapshots\": []}]", &s, &n);
    assert_int_equal(n, 0);
    char *table = kxl_snapshot_table(s, n);
    assert_string_equal(table, "There is no snapshot.\n");
    free(table);
    kxl_snapshots_free(s, n);

    json_object *bad = kx_json_parse("[{\"snapshots\": []}]", "test");
    assert_int_equal(snapshot_list_merge(bad, &s, &n), -1);
    json_object_put(bad);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_snapshots DATA_DIR\n");
        return 2;
    }
    data_dir = argv[1];
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_none_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
