/* test_cgroup.c - where a domain's cgroup goes and what is written to make it, against fake
 * cgroup file systems (KXL_CGROUP_ROOT): a v2 tree as bookworm hosts have, and v1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cgroup.h"
#include "unit_tmpdir.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fileio.h"

static char tmp[] = "/tmp/kxl-test-cgroup-XXXXXX";
UNIT_TMPDIR_FIXTURES(tmp)

/* A new empty directory under the group's own. */
static char *fresh_dir(void)
{
    static int n;
    char *dir = kx_asprintf("%s/%d", tmp, n++);
    assert_int_equal(mkdir(dir, 0755), 0);
    return dir;
}

static void put(const char *dir, const char *name, const char *text)
{
    AUTOFREE char *path = kx_path_join(dir, name);
    assert_int_equal(kx_write_file_atomic(path, text, strlen(text), 0644), 0);
}

static char *get(const char *dir, const char *name)
{
    AUTOFREE char *path = kx_path_join(dir, name);
    char *text = kx_read_file(path, NULL);
    assert_non_null(text);
    return text;
}

static void v2_slice_and_scope(void **state)
{
    (void)state;
    AUTOFREE char *root = fresh_dir();
    setenv("KXL_CGROUP_ROOT", root, 1);
    put(root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    /* the kernel fills a new group's files; the fake slice gets them made by hand */
    AUTOFREE char *slice = kx_path_join(root, "kxl.slice");
    assert_int_equal(mkdir(slice, 0755), 0);
    put(slice, "cgroup.controllers", "cpu io memory pids\n");
    put(slice, "cgroup.subtree_control", "");

    kx_cgroup cg;
    assert_int_equal(cgroup_locate("web-1", &cg), 0);
    assert_int_equal(cg.version, KX_CGROUP_V2);
    assert_int_equal(cg.dirs.n, 1);
    AUTOFREE char *want = kx_asprintf("%s/kxl.slice/kxl-web-1.scope", root);
    assert_string_equal(cg.dirs.v[0], want);

    assert_int_equal(cgroup_create(&cg), 0);
    AUTOFREE char *enabled = get(slice, "cgroup.subtree_control");
    assert_string_equal(enabled, "+cpu\n+memory\n+io\n+pids\n");
    assert_true(kx_path_exists(want));

    /* QEMU's child moves itself: "0" into cgroup.procs */
    put(want, "cgroup.procs", "");
    assert_int_equal(cgroup_enter(&cg), 0);
    AUTOFREE char *procs = get(want, "cgroup.procs");
    assert_string_equal(procs, "0");

    /* the record in the runtime directory, and a rename that follows the domain's */
    AUTOFREE char *rundir = fresh_dir();
    assert_int_equal(cgroup_save(&cg, rundir), 0);
    assert_int_equal(cgroup_rename(&cg, "web-2", rundir), 0);
    kx_cgroup back;
    assert_int_equal(cgroup_load(rundir, &back), 0);
    assert_int_equal(back.version, KX_CGROUP_V2);
    AUTOFREE char *renamed = kx_asprintf("%s/kxl.slice/kxl-web-2.scope", root);
    assert_string_equal(back.dirs.v[0], renamed);
    assert_true(kx_path_exists(renamed));
    assert_false(kx_path_exists(want));
    cgroup_dispose(&back);
    cgroup_dispose(&cg);
}

static void v2_controllers_the_host_lacks_are_left_out(void **state)
{
    (void)state;
    AUTOFREE char *root = fresh_dir();
    setenv("KXL_CGROUP_ROOT", root, 1);
    put(root, "cgroup.controllers", "cpu pids\n");
    AUTOFREE char *slice = kx_path_join(root, "kxl.slice");
    assert_int_equal(mkdir(slice, 0755), 0);
    put(slice, "cgroup.controllers", "cpuset pids\n");      /* "cpu" only inside "cpuset" */
    put(slice, "cgroup.subtree_control", "");
    kx_cgroup cg;
    cgroup_locate("g", &cg);
    assert_int_equal(cgroup_create(&cg), 0);
    AUTOFREE char *enabled = get(slice, "cgroup.subtree_control");
    assert_string_equal(enabled, "+pids\n");
    cgroup_dispose(&cg);
}

static void v1_a_group_per_controller(void **state)
{
    (void)state;
    AUTOFREE char *root = fresh_dir();
    setenv("KXL_CGROUP_ROOT", root, 1);
    const char *mounted[] = {"cpu", "memory", "pids"};     /* no cpuacct, no blkio here */
    for (size_t i = 0; i < 3; i++) {
        AUTOFREE char *d = kx_path_join(root, mounted[i]);
        assert_int_equal(mkdir(d, 0755), 0);
        put(d, "cgroup.procs", "");
    }
    kx_cgroup cg;
    assert_int_equal(cgroup_locate("db", &cg), 0);
    assert_int_equal(cg.version, KX_CGROUP_V1);
    assert_int_equal(cg.dirs.n, 3);
    for (size_t i = 0; i < 3; i++) {
        AUTOFREE char *prefix = kx_asprintf("%s/%s/", root, mounted[i]);
        assert_true(strncmp(cg.dirs.v[i], prefix, strlen(prefix)) == 0);
        size_t n = strlen(cg.dirs.v[i]);
        assert_string_equal(cg.dirs.v[i] + n - strlen("/kxl/db"), "/kxl/db");
    }
    assert_int_equal(cgroup_create(&cg), 0);
    for (size_t i = 0; i < 3; i++)
        assert_true(kx_path_exists(cg.dirs.v[i]));
    cgroup_dispose(&cg);
}

static void no_cgroup_file_system(void **state)
{
    (void)state;
    AUTOFREE char *root = fresh_dir();
    setenv("KXL_CGROUP_ROOT", root, 1);
    kx_cgroup cg;
    assert_int_equal(cgroup_locate("x", &cg), 0);
    assert_int_equal(cg.version, KX_CGROUP_NONE);
    assert_int_equal(cg.dirs.n, 0);
    assert_int_equal(cgroup_enter(&cg), 0);      /* nothing to enter */
    cgroup_dispose(&cg);
}

/* xl's weights mapped around the defaults, within each version's bounds. */
static void weight_mapping(void **state)
{
    (void)state;
    static const struct { unsigned xl, v2, v1; } cases[] = {
        {256, 100, 1024},   {1, 1, 4},          {2, 1, 8},          {128, 50, 512},
        {512, 200, 2048},   {1000, 391, 4000},  {25600, 10000, 102400},
        {25601, 10000, 102404}, {65535, 10000, 262140},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(cgroup_weight_v2(cases[i].xl), cases[i].v2);
        assert_int_equal(cgroup_shares_v1(cases[i].xl), cases[i].v1);
    }
}

/* A fake v2 tree under a fresh root with these controllers, and domain name's group made in
 * it; the root's path (caller frees). */
static char *v2_group(const char *controllers, const char *name, kx_cgroup *cg)
{
    char *root = fresh_dir();
    setenv("KXL_CGROUP_ROOT", root, 1);
    put(root, "cgroup.controllers", controllers);
    cgroup_locate(name, cg);
    assert_int_equal(cgroup_create(cg), 0);
    return root;
}

/* A v2 scope as the kernel makes it when kxl.slice hands it the cpu controller. */
static void v2_weight_and_cap(void **state)
{
    (void)state;
    kx_cgroup cg;
    AUTOFREE char *root = v2_group("cpu memory\n", "w", &cg);
    put(cg.dirs.v[0], "cpu.weight", "");
    put(cg.dirs.v[0], "cpu.max", "");
    assert_int_equal(cgroup_set_cpu(&cg, 512, 50), 0);
    assert_int_equal(cgroup_set_cpu(&cg, 256, 0), 0);     /* back to no cap */
    AUTOFREE char *weight = get(cg.dirs.v[0], "cpu.weight");
    AUTOFREE char *max = get(cg.dirs.v[0], "cpu.max");
    assert_string_equal(weight, "200\n100\n");
    assert_string_equal(max, "50000 100000\nmax 100000\n");
    cgroup_dispose(&cg);
}

/* Without the cpu controller (a root that does not offer it) nothing is written. */
static void v2_without_cpu_controller(void **state)
{
    (void)state;
    kx_cgroup cg;
    AUTOFREE char *root = v2_group("pids\n", "n", &cg);
    assert_int_equal(cgroup_set_cpu(&cg, 512, 50), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_HOST);
    assert_non_null(strstr(kx_err_msg(), "no CPU controller"));
    AUTOFREE char *max = kx_path_join(cg.dirs.v[0], "cpu.max");
    assert_false(kx_path_exists(max));
    kx_err_clear();
    cgroup_dispose(&cg);
}

/* v1: the cpu hierarchy's group gets shares, period and quota; the others nothing. */
static void v1_weight_and_cap(void **state)
{
    (void)state;
    AUTOFREE char *root = fresh_dir();
    setenv("KXL_CGROUP_ROOT", root, 1);
    const char *mounted[] = {"cpu", "memory"};
    for (size_t i = 0; i < 2; i++) {
        AUTOFREE char *d = kx_path_join(root, mounted[i]);
        assert_int_equal(mkdir(d, 0755), 0);
        put(d, "cgroup.procs", "");
    }
    kx_cgroup cg;
    cgroup_locate("v1", &cg);
    assert_int_equal(cgroup_create(&cg), 0);
    const char *files[] = {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"};
    for (size_t i = 0; i < 3; i++)
        put(cg.dirs.v[0], files[i], "");
    assert_int_equal(cgroup_set_cpu(&cg, 100, 150), 0);
    assert_int_equal(cgroup_set_cpu(&cg, 256, 0), 0);
    AUTOFREE char *shares = get(cg.dirs.v[0], "cpu.shares");
    AUTOFREE char *period = get(cg.dirs.v[0], "cpu.cfs_period_us");
    AUTOFREE char *quota = get(cg.dirs.v[0], "cpu.cfs_quota_us");
    assert_string_equal(shares, "400\n1024\n");
    assert_string_equal(period, "100000\n100000\n");
    assert_string_equal(quota, "150000\n-1\n");
    AUTOFREE char *other = kx_path_join(cg.dirs.v[1], "cpu.shares");
    assert_false(kx_path_exists(other));
    cgroup_dispose(&cg);
}

/* The kernel's view of a group that QEMU has left: a fake group's files are plain ones, which
 * a real cgroupfs directory does not hold, so "empty" here is the files gone. */
static void empty_group(const char *dir)
{
    static const char *const files[] = {"cgroup.procs", "cgroup.controllers", "cpu.weight",
                                        "cpu.max"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        AUTOFREE char *path = kx_path_join(dir, files[i]);
        unlink(path);
    }
}


/* v2: the scope goes once QEMU has left it, and kxl.slice (shared by every domain) stays; the
 * record in the runtime directory is what destroy without a supervisor removes. */
static void v2_removal(void **state)
{
    (void)state;
    kx_cgroup cg;
    AUTOFREE char *root = v2_group("cpu memory pids\n", "gone", &cg);
    put(cg.dirs.v[0], "cgroup.procs", "");
    assert_int_equal(cgroup_enter(&cg), 0);           /* QEMU's child: "0" */
    AUTOFREE char *rundir = fresh_dir();
    assert_int_equal(cgroup_save(&cg, rundir), 0);

    /* a process still in it (a domain of the same name under another KXL_ROOT): left in
     * place after the grace given, named in the error, and no long wait for it */
    put(cg.dirs.v[0], "cgroup.procs", "4242\n4243\n");
    long long t0 = kx_mono_ms();
    assert_int_equal(cgroup_remove_recorded(rundir, 100), -1);
    long long ms = kx_mono_ms() - t0;
    assert_true(ms >= 90 && ms < 1000);
    assert_int_equal(kx_err_code(), KXL_ERR_BUSY);
    assert_non_null(strstr(kx_err_msg(), cg.dirs.v[0]));
    assert_non_null(strstr(kx_err_msg(), "process 4242 4243 is in it"));
    kx_err_clear();
    assert_true(kx_path_exists(cg.dirs.v[0]));

    /* QEMU gone: the scope goes at once, the slice stays */
    empty_group(cg.dirs.v[0]);
    t0 = kx_mono_ms();
    assert_int_equal(cgroup_remove_recorded(rundir, 5000), 0);
    assert_true(kx_mono_ms() - t0 < 1000);
    assert_false(kx_path_exists(cg.dirs.v[0]));
    AUTOFREE char *slice = kx_path_join(root, "kxl.slice");
    assert_true(kx_path_exists(slice));
    /* again (a later destroy, a stale directory's cleanup): nothing left is no error */
    assert_int_equal(cgroup_remove(&cg, 0), 0);
    cgroup_dispose(&cg);
}

/* v1: a group per controller, and one deadline for them all: the same processes are in every
 * one, so three busy groups cost the grace once, not three times. */
static void v1_removal_waits_once(void **state)
{
    (void)state;
    AUTOFREE char *root = fresh_dir();
    setenv("KXL_CGROUP_ROOT", root, 1);
    const char *mounted[] = {"cpu", "memory", "pids"};
    for (size_t i = 0; i < 3; i++) {
        AUTOFREE char *d = kx_path_join(root, mounted[i]);
        assert_int_equal(mkdir(d, 0755), 0);
        put(d, "cgroup.procs", "");
    }
    kx_cgroup cg;
    cgroup_locate("busy", &cg);
    assert_int_equal(cgroup_create(&cg), 0);
    for (size_t i = 0; i < 3; i++)
        put(cg.dirs.v[i], "cgroup.procs", "777\n");
    long long t0 = kx_mono_ms();
    assert_int_equal(cgroup_remove(&cg, 300), -1);
    long long ms = kx_mono_ms() - t0;
    assert_true(ms >= 290 && ms < 800);
    kx_err_clear();
    /* one group emptied: it goes; the others stay */
    empty_group(cg.dirs.v[1]);
    assert_int_equal(cgroup_remove(&cg, 0), -1);
    kx_err_clear();
    assert_true(kx_path_exists(cg.dirs.v[0]));
    assert_false(kx_path_exists(cg.dirs.v[1]));
    for (size_t i = 0; i < 3; i++)
        empty_group(cg.dirs.v[i]);
    assert_int_equal(cgroup_remove(&cg, 0), 0);
    for (size_t i = 0; i < 3; i++)
        assert_false(kx_path_exists(cg.dirs.v[i]));
    cgroup_dispose(&cg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v2_slice_and_scope),
        cmocka_unit_test(v2_controllers_the_host_lacks_are_left_out),
        cmocka_unit_test(v1_a_group_per_controller),
        cmocka_unit_test(no_cgroup_file_system),
        cmocka_unit_test(weight_mapping),
        cmocka_unit_test(v2_weight_and_cap),
        cmocka_unit_test(v2_without_cpu_controller),
        cmocka_unit_test(v1_weight_and_cap),
        cmocka_unit_test(v2_removal),
        cmocka_unit_test(v1_removal_waits_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
