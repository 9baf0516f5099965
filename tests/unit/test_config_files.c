/* test_config_files.c - the config files of etc/kxl/ as texts (include/kxl/configs.h): the
 * names taken and refused, a write that the checker refuses leaving the old file, replace
 * false keeping an existing file, the mode kept, no temporary file left behind. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "kxl/configs.h"
#include "unit_tmpdir.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static char tmp[] = "/tmp/kxl-test-configs-XXXXXX";
UNIT_TMPDIR_FIXTURES(tmp)

static const char good[] = "name = \"t1\"\ntype = \"hvm\"\nmemory = 128\n";

static void names(void **state)
{
    (void)state;
    static const char *const ok[] = {"a.cfg", "guest-01.cfg", "x.y.cfg", "a b.cfg",
                                     "d\xc3\xa9.cfg"};
    static const char *const bad[] = {"", ".cfg", "a", "a.cfg.bak", ".a.cfg", "a/b.cfg",
                                      "../a.cfg", "a\nb.cfg", "a\x7f.cfg", "\xff.cfg"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(kxl_config_name_check(ok[i]), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(kxl_config_name_check(bad[i]), -1);
        assert_int_equal(kx_err_code(), KXL_ERR_INVALID);
        assert_non_null(strstr(kx_err_msg(), "config file name '"));
    }
    char longname[256];
    memset(longname, 'a', sizeof(longname));
    strcpy(longname + 250, ".cfg");
    assert_int_equal(kxl_config_name_check(longname), -1);
}

static void check_says_file_and_line(void **state)
{
    (void)state;
    kxl_domcfg *cfg = NULL;
    assert_int_equal(kxl_config_check("/x/t1.cfg", good, strlen(good), &cfg), 0);
    assert_string_equal(cfg->name, "t1");
    kxl_domcfg_free(cfg);
    const char bad[] = "name = \"t1\"\nmemory = lots\ntype = \"hvm\"\n";
    assert_int_equal(kxl_config_check("/x/t1.cfg", bad, strlen(bad), NULL), -1);
    assert_int_equal(strncmp(kx_err_msg(), "/x/t1.cfg:2: ", 13), 0);
}

static size_t dot_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void writes(void **state)
{
    (void)state;
    kxl_paths p = {.etc_dir = tmp};
    AUTOFREE char *path = kx_path_join(tmp, "t1.cfg");
    assert_int_equal(kxl_config_write(&p, "t1.cfg", good, strlen(good), false), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    size_t len;
    AUTOFREE char *text = kxl_config_read(&p, "t1.cfg", &len);
    assert_string_equal(text, good);
    /* refused by the checker, or not to be replaced: the old text stays */
    const char bad[] = "name = \"t1\"\nmemory = lots\ntype = \"hvm\"\n";
    assert_int_equal(kxl_config_write(&p, "t1.cfg", bad, strlen(bad), true), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
    const char other[] = "name = \"t1\"\ntype = \"hvm\"\nmemory = 256\n";
    assert_int_equal(kxl_config_write(&p, "t1.cfg", other, strlen(other), false), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_EXISTS);
    AUTOFREE char *still = kxl_config_read(&p, "t1.cfg", NULL);
    assert_string_equal(still, good);
    /* replaced: the new text, the old mode */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(kxl_config_write(&p, "t1.cfg", other, strlen(other), true), 0);
    AUTOFREE char *now = kxl_config_read(&p, "t1.cfg", NULL);
    assert_string_equal(now, other);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(dot_files(tmp), 0);
    assert_null(kxl_config_read(&p, "none.cfg", NULL));
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(check_says_file_and_line),
        cmocka_unit_test(writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
