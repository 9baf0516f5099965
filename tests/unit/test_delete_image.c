/* test_delete_image.c - what delete-image finds and removes in a directory laid
 * out as create-image lays it out: only the names create-image gives (disk and
 * swap, raw or qcow2, the config), a directory holding anything else is kept
 * and said so, a host with nothing is an error naming where it looked, and bad
 * host or volume group names are refused before anything is looked at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/delete_image.h"
#include "unit_tmpdir.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static char tmp[] = "/tmp/kxl-delimg-XXXXXX";

static void touch(const char *rel)
{
    AUTOFREE char *path = kx_asprintf("%s/%s", tmp, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static bool exists(const char *rel)
{
    AUTOFREE char *path = kx_asprintf("%s/%s", tmp, rel);
    return kx_path_exists(path);
}

static void collect(const char *what, void *opaque)
{
    kx_buf_printf(opaque, "%s\n", what);
}

static image_del_opts opts(const char *host, char **dir_r, char **out_r)
{
    *dir_r = kx_asprintf("%s/images", tmp);
    *out_r = kx_asprintf("%s/etc", tmp);
    return (image_del_opts){.hostname = host, .dir = *dir_r, .output = *out_r};
}

static void test_removes_only_what_create_image_made(void **state)
{
    (void)state;
    AUTOFREE char *dir = NULL, *out = NULL;
    image_del_opts o = opts("web-1", &dir, &out);
    touch("images/domains/web-1/disk.img");
    touch("images/domains/web-1/swap.qcow2");
    touch("images/domains/web-1/notes.txt");      /* not create-image's */
    touch("images/domains/web-2/disk.img");       /* another host's */
    touch("etc/web-1.cfg");
    image_deletion d;
    assert_int_equal(image_delete_find(&o, &d), 0);
    assert_int_equal(d.disks.n, 2);
    assert_false(d.volumes);
    assert_non_null(d.dir);
    assert_non_null(d.cfg);
    kx_buf said = KX_BUF_INIT;
    assert_int_equal(image_delete_run(&d, collect, &said), 0);
    AUTOFREE char *expect = kx_asprintf(
        "removed %s/images/domains/web-1/disk.img\n"
        "removed %s/images/domains/web-1/swap.qcow2\n"
        "kept %s/images/domains/web-1: it holds files create-image did not make\n"
        "removed %s/etc/web-1.cfg\n", tmp, tmp, tmp, tmp);
    assert_string_equal(kx_buf_str(&said), expect);
    assert_false(exists("images/domains/web-1/disk.img"));
    assert_true(exists("images/domains/web-1/notes.txt"));
    assert_true(exists("images/domains/web-2/disk.img"));
    assert_false(exists("etc/web-1.cfg"));
    kx_buf_dispose(&said);
    image_deletion_dispose(&d);
    /* nothing left of web-1 but a directory holding a stranger's file: the directory
     * is still found (and kept again); with the file gone, the directory goes */
    AUTOFREE char *notes = kx_asprintf("%s/images/domains/web-1/notes.txt", tmp);
    unlink(notes);
    assert_int_equal(image_delete_find(&o, &d), 0);
    assert_int_equal(d.disks.n, 0);
    assert_int_equal(image_delete_run(&d, collect, &said), 0);
    assert_false(exists("images/domains/web-1"));
    kx_buf_dispose(&said);
    image_deletion_dispose(&d);
}

static void test_nothing_to_remove_and_bad_names(void **state)
{
    (void)state;
    AUTOFREE char *dir = NULL, *out = NULL;
    image_deletion d;
    image_del_opts o = opts("ghost", &dir, &out);
    assert_int_equal(image_delete_find(&o, &d), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
    assert_non_null(strstr(kx_err_msg(), "no images or config of 'ghost'"));
    assert_non_null(strstr(kx_err_msg(), dir));
    o.hostname = "bad_name";
    assert_int_equal(image_delete_find(&o, &d), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_INVALID);
    o.hostname = "10.0.0.1";
    assert_int_equal(image_delete_find(&o, &d), -1);
    assert_non_null(strstr(kx_err_msg(), "needs a letter"));
    o.hostname = "web-2";
    o.lvm = "vg/0";
    assert_int_equal(image_delete_find(&o, &d), -1);
    assert_non_null(strstr(kx_err_msg(), "not a volume group name"));
    assert_true(exists("images/domains/web-2/disk.img"));
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp))
        return -1;
    AUTOFREE char *a = kx_asprintf("%s/images/domains/web-1", tmp);
    AUTOFREE char *b = kx_asprintf("%s/images/domains/web-2", tmp);
    AUTOFREE char *c = kx_asprintf("%s/etc", tmp);
    return kx_mkdir_p(a, 0700) || kx_mkdir_p(b, 0700) || kx_mkdir_p(c, 0700) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    return unit_tmp_remove(tmp) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removes_only_what_create_image_made),
        cmocka_unit_test(test_nothing_to_remove_and_bad_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
