/* test_top.c - the pure half of kxl top and vcpu-list: CPU percentages between frames, the
 * sort, and the text and JSON of a fixed frame, compared with golden files in DATA_DIR
 * (tests/data/top; KXL_TEST_REGENERATE=1 rewrites them).
 *     test_top DATA_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_golden.h"

#include "kxl/ops.h"
#include "kxl/stats.h"
#include "util/buf.h"
#include "util/fileio.h"

static const char *data_dir;

/* Compares text with DATA_DIR/name (unit_golden.h). */
static void check_golden(const char *name, const char *text)
{
    unit_check_golden(data_dir, name, text);
}

static void cpu_percent(void **state)
{
    (void)state;
    assert_true(kxl_cpu_percent(10.0, 11.0, 100.0, 101.0) == 100.0);
    assert_true(kxl_cpu_percent(10.0, 10.5, 100.0, 102.0) == 25.0);
    assert_true(kxl_cpu_percent(10.0, 12.0, 100.0, 101.0) == 200.0);   /* two vCPUs */
    assert_true(kxl_cpu_percent(10.0, 11.0, 100.0, 100.0) == 0.0);    /* no time passed */
    assert_true(kxl_cpu_percent(10.0, 1.0, 100.0, 101.0) == 0.0);     /* a fresh QEMU */
}

static void set_dom(kxl_domstats *d, const char *name, unsigned domid, kxl_state st, bool running,
                    double cpu)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->info.name, sizeof(d->info.name), "%s", name);
    d->info.domid = domid;
    d->info.state = st;
    d->info.running = running;
    d->info.blocked = !running;
    d->info.cpu_seconds = cpu;
    d->info.qemu_pid = (pid_t)(1000 + domid);
    d->info.vcpus = 1;
    d->info.memory_mib = 256;
    d->mem_kib = d->maxmem_kib = 256 * 1024;
}

/* Two domains: "web" (spinning, a vif, a disk, 2 vCPUs) and "db-with-a-long-name" (blocked). */
static void make_frame(kxl_stats_frame *f, double mono, double web_cpu, double db_cpu)
{
    memset(f, 0, sizeof(*f));
    f->wall = 1796576689.0;   /* 17:04:49 UTC */
    f->mono = mono;
    f->mem_total_kib = 8 * 1024 * 1024;
    f->mem_free_kib = 6 * 1024 * 1024;
    f->cpus = 4;
    f->mhz = 2096;
    f->n_doms = 2;
    f->doms = calloc(2, sizeof(*f->doms));
    kxl_domstats *web = &f->doms[0], *db = &f->doms[1];
    set_dom(web, "web", 3, KXL_STATE_RUNNING, true, web_cpu);
    web->info.vcpus = 2;
    web->mem_kib = 196 * 1024;
    web->maxmem_kib = 512 * 1024;
    web->n_nets = 1;
    web->nets = calloc(1, sizeof(*web->nets));
    snprintf(web->nets[0].ifname, sizeof(web->nets[0].ifname), "vif3.0");
    web->nets[0] = (kxl_net_stats){"vif3.0", 2048000, 1500, 1024000, 900};
    web->n_vbds = 1;
    web->vbds = calloc(1, sizeof(*web->vbds));
    web->vbds[0] = (kxl_vbd_stats){"xvda", 120, 80, 4096, 2048, 1};
    web->n_vcpus = 2;
    web->vcpus = calloc(2, sizeof(*web->vcpus));
    web->vcpus[0] = (kxl_vcpu_info){.vcpu = 0, .online = true, .seconds = web_cpu - 1};
    web->vcpus[1] = (kxl_vcpu_info){.vcpu = 1, .online = true, .seconds = 1};
    set_dom(db, "db-with-a-long-name", 7, KXL_STATE_RUNNING, false, db_cpu);
}

static void rates_match_the_same_domain(void **state)
{
    (void)state;
    kxl_stats_frame a, b;
    make_frame(&a, 100.0, 50.0, 2.0);
    make_frame(&b, 102.0, 52.0, 2.1);
    kxl_top_rates(&b, NULL);
    assert_true(b.doms[0].cpu_pct == 0.0);   /* the first frame */
    kxl_top_sort(&a, KXL_TOP_CPU);           /* prev in another order */
    kxl_top_rates(&b, &a);
    assert_true(b.doms[0].cpu_pct > 99.99 && b.doms[0].cpu_pct < 100.01);
    assert_true(b.doms[1].cpu_pct > 4.99 && b.doms[1].cpu_pct < 5.01);
    b.doms[1].info.qemu_pid = 4242;           /* restarted: no rate from the old QEMU */
    kxl_top_rates(&b, &a);
    assert_true(b.doms[1].cpu_pct == 0.0);
    kxl_stats_frame_dispose(&a);
    kxl_stats_frame_dispose(&b);
}

static void sort_orders(void **state)
{
    (void)state;
    kxl_stats_frame f;
    make_frame(&f, 100.0, 50.0, 2.0);
    kxl_top_sort(&f, KXL_TOP_NAME);
    assert_string_equal(f.doms[0].info.name, "db-with-a-long-name");
    kxl_top_sort(&f, KXL_TOP_CPU);             /* numbers: the biggest first */
    assert_string_equal(f.doms[0].info.name, "web");
    kxl_top_sort(&f, KXL_TOP_MAXMEM);
    assert_string_equal(f.doms[0].info.name, "web");
    kxl_top_sort(&f, KXL_TOP_SSID);            /* ties: by domain id */
    assert_string_equal(f.doms[0].info.name, "web");
    kxl_stats_frame_dispose(&f);
}

static char *frame_text(const kxl_stats_frame *f, const kxl_top_view *v)
{
    char *s = kxl_top_summary(f), *h = kxl_top_header(v, NULL, NULL), *r = kxl_top_rows(f, v);
    char *out = kx_asprintf("%s%s\n%s", s, h, r);
    free(s);
    free(h);
    free(r);
    return out;
}

static void frame_golden(void **state)
{
    (void)state;
    kxl_stats_frame a, b;
    make_frame(&a, 100.0, 50.0, 2.0);
    make_frame(&b, 101.0, 51.0, 2.03);
    kxl_top_rates(&b, &a);
    kxl_top_sort(&b, KXL_TOP_NAME);
    kxl_top_view plain = {.sort = KXL_TOP_NAME};
    char *text = frame_text(&b, &plain);
    check_golden("frame.txt", text);
    free(text);
    kxl_top_view all = {.sort = KXL_TOP_NAME, .networks = true, .vbds = true, .vcpus = true,
                        .repeat_header = true, .full_name = true};
    text = frame_text(&b, &all);
    check_golden("frame-details.txt", text);
    free(text);
    json_object *j = kxl_top_frame_json(&b);
    char *js = kx_asprintf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
    check_golden("frame.json", js);
    free(js);
    json_object_put(j);
    size_t at = 0, len = 0;
    char *h = kxl_top_header(&(kxl_top_view){.sort = KXL_TOP_CPU_PCT}, &at, &len);
    assert_int_equal(len, strlen("CPU(%)"));
    assert_memory_equal(h + at, "CPU(%)", len);
    free(h);
    kxl_stats_frame_dispose(&a);
    kxl_stats_frame_dispose(&b);
}

static void vcpu_lines(void **state)
{
    (void)state;
    kxl_vcpu_info v = {.name = "web", .domid = 3, .vcpu = 1, .online = true, .cpu = 1,
                       .running = true, .seconds = 12.34};
    for (unsigned c = 0; c < 4; c++)
        kxl_cpuset_set(&v.affinity, c);
    char *line = kxl_vcpu_line(&v, 4);
    assert_string_equal(line, "web                                  3     1    1   r-- "
                              "     12.3  all / all");
    free(line);
    memset(&v.affinity, 0, sizeof(v.affinity));
    kxl_cpuset_set(&v.affinity, 0);
    kxl_cpuset_set(&v.affinity, 2);
    kxl_cpuset_set(&v.affinity, 3);
    v.running = false;
    v.blocked = true;
    line = kxl_vcpu_line(&v, 4);
    assert_string_equal(line, "web                                  3     1    1   -b- "
                              "     12.3  0,2-3 / all");
    free(line);
    v.online = false;
    line = kxl_vcpu_line(&v, 4);
    assert_string_equal(line, "web                                  3     1    -   --p "
                              "     12.3  - / all");
    free(line);
}

/* xl uptime's two forms: days spelled out, hours padded to two, seconds only in the long. */
static void uptime_lines(void **state)
{
    (void)state;
    assert_string_equal(kxl_uptime_header(), "Name                              ID Uptime");
    char *line = kxl_uptime_line("web", 7, 2 * 86400 + 3 * 3600 + 4 * 60 + 5, NULL);
    assert_string_equal(line, "web                                  7 2 days,  3:04:05");
    free(line);
    line = kxl_uptime_line("Domain-0", 0, 86400 + 59, NULL);
    assert_string_equal(line, "Domain-0                             0 1 day,  0:00:59");
    free(line);
    struct tm now = {.tm_hour = 9, .tm_min = 5, .tm_sec = 1};
    line = kxl_uptime_line("web", 7, 13 * 3600 + 61, &now);
    assert_string_equal(line, " 09:05:01 up 13:01, web (7)");
    free(line);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data/top";
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_percent),
        cmocka_unit_test(rates_match_the_same_domain),
        cmocka_unit_test(sort_orders),
        cmocka_unit_test(frame_golden),
        cmocka_unit_test(vcpu_lines),
        cmocka_unit_test(uptime_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
