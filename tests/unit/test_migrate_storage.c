/* test_migrate_storage.c - kxl migrate --copy-storage, the receiver's disk files in a real
 * directory: each is made empty of the sender's size and format, 0600, and removed again;
 * a file that is at a disk's path already is refused, never overwritten nor removed, and
 * the files made before it are removed (none left). The record of what was made
 * (migrate_made.c): kept while its receiver lives, and once it is gone its files are removed,
 * but not one that is no longer the file made. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kxl/ops.h"
#include "lib/migrate.h"
#include "util/fileio.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"

typedef struct {
    char dir[64];
    char root[64];
    kxl_paths paths;
    char raw[96], qcow2[96];
    kxl_domcfg *cfg;
    json_object *copy;
    kx_strv vdevs;
} fixture;

static void add_disk(kxl_domcfg *cfg, const char *vdev, const char *target, kxl_disk_format f)
{
    cfg->disks = realloc(cfg->disks, (cfg->n_disks + 1) * sizeof(*cfg->disks));
    assert_non_null(cfg->disks);
    kxl_disk *d = &cfg->disks[cfg->n_disks++];
    memset(d, 0, sizeof(*d));
    d->vdev = strdup(vdev);
    d->target = strdup(target);
    d->format = f;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/kxl-unit-migstorage.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->raw, sizeof(fx->raw), "%s/raw.img", fx->dir);
    snprintf(fx->qcow2, sizeof(fx->qcow2), "%s/disk.qcow2", fx->dir);
    snprintf(fx->root, sizeof(fx->root), "/tmp/kxl-unit-migroot.XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    assert_int_equal(kxl_paths_init(&fx->paths, fx->root), 0);
    fx->cfg = kxl_domcfg_new();
    fx->cfg->name = strdup("mig-unit");
    add_disk(fx->cfg, "xvda", fx->raw, KXL_DISK_FMT_RAW);
    add_disk(fx->cfg, "xvdb", fx->qcow2, KXL_DISK_FMT_QCOW2);
    fx->copy = kx_json_parse("[{\"vdev\": \"xvda\", \"size\": 1048576, \"format\": \"raw\"},"
                             " {\"vdev\": \"xvdb\", \"size\": 4194304, \"format\": \"qcow2\"}]",
                             "the test's copy list");
    assert_non_null(fx->copy);
    kx_strv_push(&fx->vdevs, "xvda");
    kx_strv_push(&fx->vdevs, "xvdb");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    unlink(fx->raw);
    unlink(fx->qcow2);
    assert_int_equal(rmdir(fx->dir), 0);   /* nothing else was made there */
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
    assert_int_equal(system(cmd), 0);
    kxl_paths_dispose(&fx->paths);
    kxl_domcfg_free(fx->cfg);
    json_object_put(fx->copy);
    kx_strv_dispose(&fx->vdevs);
    free(fx);
    return 0;
}

static void made_then_removed(void **state)
{
    fixture *fx = *state;
    kx_strv made = KX_STRV_INIT;
    assert_int_equal(migrate_storage_make(&fx->paths, fx->cfg, fx->copy, &fx->vdevs, &made), 0);
    assert_int_equal(made.n, 2);
    assert_string_equal(made.v[0], fx->raw);
    assert_string_equal(made.v[1], fx->qcow2);
    struct stat st;
    assert_int_equal(stat(fx->raw, &st), 0);
    assert_int_equal(st.st_size, 1048576);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(fx->qcow2, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char magic[4] = "";
    FILE *f = fopen(fx->qcow2, "rb");
    assert_non_null(f);
    assert_int_equal(fread(magic, 1, 4, f), 4);
    fclose(f);
    assert_memory_equal(magic, "QFI\xfb", 4);
    migrate_storage_unmake(&made);
    assert_int_equal(made.n, 0);
    assert_int_not_equal(access(fx->raw, F_OK), 0);
    assert_int_not_equal(access(fx->qcow2, F_OK), 0);
}

/* The qcow2 path is there already (it appeared after the preflight): refused with its name,
 * left as it was, and the raw file made before it removed. */
static void existing_file_refused_and_kept(void **state)
{
    fixture *fx = *state;
    int fd = open(fx->qcow2, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not ours", 8), 8);
    close(fd);
    kx_strv made = KX_STRV_INIT;
    assert_int_equal(migrate_storage_make(&fx->paths, fx->cfg, fx->copy, &fx->vdevs, &made), -1);
    assert_non_null(strstr(kx_err_msg(), "disk xvdb: "));
    assert_non_null(strstr(kx_err_msg(), "appeared meanwhile"));
    kx_err_clear();
    assert_int_equal(made.n, 0);
    assert_int_not_equal(access(fx->raw, F_OK), 0);
    struct stat st;
    assert_int_equal(stat(fx->qcow2, &st), 0);
    assert_int_equal(st.st_size, 8);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static char *record_path(fixture *fx)
{
    return kx_asprintf("%s/incoming/mig-unit.made", fx->paths.lib_dir);
}

/* The record names a receiver that has gone: a child of this test, reaped. */
static void record_dead_receiver(fixture *fx)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    char *path = record_path(fx);
    size_t len = 0;
    char *text = kx_read_file(path, &len);
    assert_non_null(text);
    char *rest = strchr(text, '\n');
    assert_non_null(rest);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%d 12345%s", (int)pid, rest);
    fclose(f);
    free(text);
    free(path);
}

/* A receiver killed after making its files: while it lives its record is left alone; once
 * it is gone the reap removes the files it made, but not a file since put at one of their
 * paths (another inode), and then the record. */
static void record_reaped_once_receiver_gone(void **state)
{
    fixture *fx = *state;
    kx_strv made = KX_STRV_INIT;
    assert_int_equal(migrate_storage_make(&fx->paths, fx->cfg, fx->copy, &fx->vdevs, &made), 0);
    char *record = record_path(fx);
    assert_int_equal(access(record, F_OK), 0);
    kxl_migrate_clean_leftovers(&fx->paths);   /* this process, the receiver, lives */
    assert_int_equal(access(fx->raw, F_OK), 0);
    assert_int_equal(access(fx->qcow2, F_OK), 0);
    assert_int_equal(access(record, F_OK), 0);
    /* the qcow2 file is replaced by someone else's */
    assert_int_equal(unlink(fx->qcow2), 0);
    int fd = open(fx->qcow2, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    close(fd);
    record_dead_receiver(fx);
    kxl_migrate_clean_leftovers(&fx->paths);
    assert_int_not_equal(access(fx->raw, F_OK), 0);
    assert_int_equal(access(fx->qcow2, F_OK), 0);   /* not the file made: kept */
    assert_int_not_equal(access(record, F_OK), 0);
    kx_strv_dispose(&made);
    free(record);
}

/* A receiver killed before its image was filled and linked: the record names only the
 * temporary file, which goes; a file at the disk's path (not the one made) stays. */
static void pending_entry_removes_only_the_temporary(void **state)
{
    fixture *fx = *state;
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s/.raw.img.kxl-incoming-1", fx->dir);
    kx_strv entries = KX_STRV_INIT;
    kx_strv_take(&entries, migrate_made_entry(-1, tmp, fx->raw));
    assert_int_equal(migrate_made_note(&fx->paths, "mig-unit", &entries), 0);
    kx_strv_dispose(&entries);
    for (int i = 0; i < 2; i++) {
        int fd = open(i ? tmp : fx->raw, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
    record_dead_receiver(fx);
    kxl_migrate_clean_leftovers(&fx->paths);
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_equal(access(fx->raw, F_OK), 0);
    char *record = record_path(fx);
    assert_int_not_equal(access(record, F_OK), 0);
    free(record);
}

/* A receive that ends (files removed) leaves no record; a failed make neither. */
static void no_record_after_failure(void **state)
{
    fixture *fx = *state;
    int fd = open(fx->qcow2, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    close(fd);
    kx_strv made = KX_STRV_INIT;
    assert_int_equal(migrate_storage_make(&fx->paths, fx->cfg, fx->copy, &fx->vdevs, &made), -1);
    kx_err_clear();
    char *record = record_path(fx);
    assert_int_not_equal(access(record, F_OK), 0);
    free(record);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(made_then_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(existing_file_refused_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(record_reaped_once_receiver_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(no_record_after_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_entry_removes_only_the_temporary, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
