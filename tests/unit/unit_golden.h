/* unit_golden.h - a unit test's output compared with a golden file: DIR/NAME must hold exactly
 * the text, or KXL_TEST_REGENERATE=1 rewrites it. Include after <cmocka.h>. */
#pragma once

#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"

/* Fails the test (naming the file and showing text) when dir/name differs from text. */
static inline void unit_check_golden(const char *dir, const char *name, const char *text)
{
    char *path = kx_path_join(dir, name);
    if (getenv("KXL_TEST_REGENERATE") && strcmp(getenv("KXL_TEST_REGENERATE"), "1") == 0) {
        assert_int_equal(kx_write_file_atomic(path, text, strlen(text), 0644), 0);
    } else {
        char *want = kx_read_file(path, NULL);
        if (!want)
            fail_msg("no golden file '%s' (KXL_TEST_REGENERATE=1 writes it)", path);
        if (strcmp(want, text) != 0)
            fail_msg("'%s' differs; got:\n%s", path, text);
        free(want);
    }
    free(path);
}
