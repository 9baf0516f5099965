/* test_autostart.c - the autostart plan: configs (parsed in memory) in, batches out: lower
 * orders first, equal orders together, no order last one by one in name order, broken and
 * duplicate configs skipped with their reason; the scan of an auto directory (links, dangling
 * links, hidden files, a broken config with its file:line); autostart-list's text of a list
 * (tests/data/autostart/list.json -> list.txt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg/cfg_keys.h"
#include "kxl/autostart.h"
#include "unit_golden.h"
#include "unit_tmpdir.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

static char tmp[] = "/tmp/kxl-test-autostart-XXXXXX";
static const char *data_dir;
UNIT_TMPDIR_FIXTURES(tmp)

/* An entry from config text, as the scan makes it: the config or its error. */
static kxl_autostart_entry entry(const char *file, const char *text)
{
    kxl_autostart_entry e = {.config = kx_strdup(file)};
    cfg_tree *t = cfg_tree_new(file);
    if (cfg_parse_text(t, file, text, strlen(text)) == 0)
        e.cfg = cfg_domcfg_from_tree(t, 4);
    if (!e.cfg)
        e.error = kx_strdup(kx_err_msg());
    cfg_tree_free(t);
    return e;
}

/* "a b | c | d": the batches by domain name. */
static char *render(const kxl_autostart_plan *plan)
{
    kx_buf b = KX_BUF_INIT;
    for (size_t i = 0; i < plan->n_batches; i++) {
        if (i)
            kx_buf_add(&b, " | ");
        for (size_t j = 0; j < plan->batches[i].n; j++)
            kx_buf_printf(&b, "%s%s", j ? " " : "",
                          plan->entries[plan->batches[i].members[j]].cfg->name);
    }
    return kx_buf_steal(&b);
}

#define K "kernel = \"/k\"\n"

static void plan_orders_batches(void **state)
{
    (void)state;
    kxl_autostart_entry *e = kx_malloc0(8 * sizeof(*e));
    size_t n = 0;
    e[n++] = entry("zeta.cfg", "name = \"zeta\"\n" K);
    e[n++] = entry("web.cfg", "name = \"web\"\n" K "startup = \"order=2,up=5\"\n");
    e[n++] = entry("db2.cfg", "name = \"db2\"\n" K "startup = \"order=1\"\n");
    e[n++] = entry("alpha.cfg", "name = \"alpha\"\n" K);
    e[n++] = entry("db1.cfg", "name = \"db1\"\n" K "startup = \"up=3,order=1,down=9\"\n");
    e[n++] = entry("broken.cfg", "name = \"broken\"\n" K "\nstartup = \"order=x\"\n");
    e[n++] = entry("again.cfg", "name = \"web\"\n" K "startup = \"order=0\"\n");
    e[n++] = entry("first.cfg", "name = \"first\"\n" K "startup = \"order=0\"\n");
    kxl_autostart_plan plan;
    kxl_autostart_plan_build(e, n, &plan);
    AUTOFREE char *got = render(&plan);
    assert_string_equal(got, "first | db1 db2 | web | alpha | zeta");
    assert_string_equal(plan.entries[5].error,
                        "broken.cfg:4: startup: order must be a number from 0 to 99999, not 'x'");
    assert_string_equal(plan.entries[6].error,
                        "again.cfg: domain 'web' is already started by 'web.cfg'; skipped");
    const kxl_autostart_entry *db1 = kxl_autostart_find(&plan, "db1");
    assert_non_null(db1);
    assert_int_equal(db1->cfg->startup_up, 3);
    assert_int_equal(kxl_autostart_down(db1->cfg), 9);
    assert_int_equal(kxl_autostart_down(kxl_autostart_find(&plan, "web")->cfg), 60);
    assert_null(kxl_autostart_find(&plan, "broken"));
    kxl_autostart_plan_dispose(&plan);
}

static void plan_empty(void **state)
{
    (void)state;
    kxl_autostart_plan plan;
    kxl_autostart_plan_build(NULL, 0, &plan);
    assert_int_equal(plan.n_batches, 0);
    kxl_autostart_plan_dispose(&plan);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    AUTOFREE char *path = kx_path_join(dir, name);
    assert_int_equal(kx_write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* ROOT/etc/kxl/auto with a file, a link, a dangling link, a hidden file, a backup, a
 * directory and a broken config; an extra directory with a domain of the same name. */
/* the scan checks the files a config names, as create does */
#define KS "kernel = \"/bin/sh\"\n"

static void scan_finds_configs(void **state)
{
    (void)state;
    AUTOFREE char *root = kx_path_join(tmp, "root");
    kxl_paths p;
    assert_int_equal(kxl_paths_init(&p, root), 0);
    AUTOFREE char *dir = kx_path_join(p.etc_dir, "auto");
    AUTOFREE char *xen = kx_path_join(tmp, "xen-auto");
    assert_int_equal(kx_mkdir_p(dir, 0755), 0);
    assert_int_equal(kx_mkdir_p(xen, 0755), 0);
    write_text(p.etc_dir, "b.cfg", "name = \"b\"\n" KS "startup = \"order=1\"\n");
    AUTOFREE char *b = kx_path_join(p.etc_dir, "b.cfg");
    AUTOFREE char *link = kx_path_join(dir, "b.cfg");
    AUTOFREE char *dangling = kx_path_join(dir, "c.cfg");
    assert_int_equal(symlink(b, link), 0);
    assert_int_equal(symlink("/nonexistent/c.cfg", dangling), 0);
    write_text(dir, "a.cfg", "name = \"a\"\n" KS);
    write_text(dir, ".hidden.cfg", "name = \"h\"\n" KS);
    write_text(dir, "a.cfg~", "name = \"old\"\n" KS);
    write_text(dir, "d.cfg", "name = \"d\"\n" KS "memory = \"lots\"\n");
    AUTOFREE char *sub = kx_path_join(dir, "sub");
    assert_int_equal(kx_mkdir_p(sub, 0755), 0);
    write_text(xen, "a.cfg", "name = \"a\"\n" KS);
    write_text(xen, "x.cfg", "name = \"x\"\n" KS "startup = \"order=0\"\n");
    const char *extra[] = {xen, NULL};
    kxl_autostart_plan plan;
    assert_int_equal(kxl_autostart_scan(&p, extra, &plan), 0);
    AUTOFREE char *got = render(&plan);
    assert_string_equal(got, "x | b | a");
    assert_int_equal(plan.n_entries, 6);
    AUTOFREE char *want_c = kx_asprintf("%s: a link to nothing: No such file or directory",
                                        dangling);
    AUTOFREE char *want_d = kx_asprintf("%s/d.cfg:3: 'memory' must be a non-negative number, "
                                        "not 'lots'", dir);
    assert_string_equal(plan.entries[2].error, want_c);
    assert_string_equal(plan.entries[3].error, want_d);
    assert_non_null(strstr(plan.entries[4].error, "is already started by"));
    kxl_autostart_plan_dispose(&plan);
    kxl_paths_dispose(&p);
}

static void list_text_golden(void **state)
{
    (void)state;
    AUTOFREE char *path = kx_path_join(data_dir, "list.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    assert_non_null(text);
    AUTOPTR(json_object) list = kx_json_parse(text, path);
    assert_non_null(list);
    AUTOFREE char *got = kxl_autostart_list_text(list);
    unit_check_golden(data_dir, "list.txt", got);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data/autostart";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_orders_batches),
        cmocka_unit_test(plan_empty),
        cmocka_unit_test(scan_finds_configs),
        cmocka_unit_test(list_text_golden),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
