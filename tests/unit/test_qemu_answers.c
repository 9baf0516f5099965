/* test_qemu_answers.c - the cache of QEMU's answers to -version, -machine help and -cpu help
 * (src/lib/host_qemu_answers.c), with a fake QEMU (a shell script that counts its runs): asked
 * once, then read from the cache (0600 in a 0700 directory); asked again when the binary
 * changes; a QEMU that answers nothing is not remembered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/host_probe.h"
#include "unit_tmpdir.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fileio.h"

static char tmp[] = "/tmp/kxl-test-qemu-answers-XXXXXX";
UNIT_TMPDIR_FIXTURES(tmp)

/* A fake QEMU at TMP/qemu saying version v; each run appends a line to TMP/runs. */
static void fake_qemu(const char *v)
{
    AUTOFREE char *path = kx_path_join(tmp, "qemu");
    AUTOFREE char *text = kx_asprintf(
        "#!/bin/sh\necho run >> '%s/runs'\n"
        "case \"$1\" in\n"
        "-version) echo 'QEMU emulator version %s (Debian 1:7.2+dfsg-7)'; echo 'Copyright';;\n"
        "-machine) echo 'Supported machines are:'; echo 'pc-i440fx-7.2  Standard PC';;\n"
        "-cpu) echo 'Available CPUs:'; echo 'x86 qemu64  QEMU Virtual CPU version 2.5+';;\n"
        "esac\n",
        tmp, v);
    assert_int_equal(kx_write_file_atomic(path, text, strlen(text), 0700), 0);
}

static int runs(void)
{
    AUTOFREE char *path = kx_path_join(tmp, "runs");
    AUTOFREE char *text = kx_read_file(path, NULL);
    int n = 0;
    for (const char *c = text; c && *c; c++)
        n += *c == '\n';
    return n;
}

static void answers_are_cached_until_the_binary_changes(void **state)
{
    (void)state;
    kxl_paths p;
    AUTOFREE char *root = kx_path_join(tmp, "root");
    AUTOFREE char *qemu = kx_path_join(tmp, "qemu");
    assert_int_equal(kxl_paths_init(&p, root), 0);
    fake_qemu("7.2.22");
    host_qemu_answers a;
    host_qemu_answers_get(&p, qemu, &a);
    assert_string_equal(a.version, "7.2.22");
    assert_non_null(strstr(a.machines, "pc-i440fx-7.2"));
    assert_non_null(strstr(a.cpus, "x86 qemu64"));
    assert_int_equal(runs(), 3);
    host_qemu_answers_dispose(&a);

    host_qemu_answers_get(&p, qemu, &a);   /* from the cache: QEMU not run */
    assert_int_equal(runs(), 3);
    assert_string_equal(a.version, "7.2.22");
    assert_non_null(strstr(a.cpus, "x86 qemu64"));
    host_qemu_answers_dispose(&a);

    AUTOFREE char *dir = kx_path_join(p.lib_dir, "qemu-answers");
    AUTOFREE char *file = kx_path_join(dir, "answers.json");
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    fake_qemu("8.0.0");   /* a new file (rename): another inode and ctime */
    host_qemu_answers_get(&p, qemu, &a);
    assert_int_equal(runs(), 6);
    assert_string_equal(a.version, "8.0.0");
    host_qemu_answers_dispose(&a);
    kxl_paths_dispose(&p);
}

static void a_silent_qemu_is_asked_again(void **state)
{
    (void)state;
    kxl_paths p;
    AUTOFREE char *root = kx_path_join(tmp, "root2");
    AUTOFREE char *qemu = kx_path_join(tmp, "silent");
    AUTOFREE char *runs_file = kx_path_join(tmp, "runs");
    unlink(runs_file);
    AUTOFREE char *text = kx_asprintf("#!/bin/sh\necho run >> '%s'\n", runs_file);
    assert_int_equal(kx_write_file_atomic(qemu, text, strlen(text), 0700), 0);
    assert_int_equal(kxl_paths_init(&p, root), 0);
    host_qemu_answers a;
    for (int i = 1; i <= 2; i++) {
        host_qemu_answers_get(&p, qemu, &a);
        assert_string_equal(a.version, "unknown");
        assert_string_equal(a.machines, "");
        assert_int_equal(runs(), 3 * i);
        host_qemu_answers_dispose(&a);
    }
    kxl_paths_dispose(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_are_cached_until_the_binary_changes),
        cmocka_unit_test(a_silent_qemu_is_asked_again),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
