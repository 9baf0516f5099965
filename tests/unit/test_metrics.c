/* test_metrics.c - kxld's /metrics text (kxl_metrics_text) of a fixed frame compared with the
 * golden DATA_DIR/frame.prom (tests/data/metrics; KXL_TEST_REGENERATE=1 rewrites it): a domain
 * with a vif and a disk, a paused one without, and a name whose label needs escaping.
 *     test_metrics DATA_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_golden.h"

#include "kxl/stats.h"

static const char *data_dir;

/* Compares text with DATA_DIR/name (unit_golden.h). */
static void check_golden(const char *name, const char *text)
{
    unit_check_golden(data_dir, name, text);
}

static void set_dom(kxl_domstats *d, const char *name, kxl_state st, double cpu, unsigned vcpus,
                    uint64_t mem_kib)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->info.name, sizeof(d->info.name), "%s", name);
    d->info.state = st;
    d->info.cpu_seconds = cpu;
    d->info.vcpus = vcpus;
    d->mem_kib = mem_kib;
}

/* "web" (running, a vif, a disk), "db" (paused), and one named a"b\c<newline>d. */
static void make_frame(kxl_stats_frame *f)
{
    memset(f, 0, sizeof(*f));
    f->n_doms = 3;
    f->doms = calloc(3, sizeof(*f->doms));
    kxl_domstats *web = &f->doms[0];
    set_dom(web, "web", KXL_STATE_RUNNING, 52.25, 2, 196 * 1024);
    web->n_nets = 1;
    web->nets = calloc(1, sizeof(*web->nets));
    web->nets[0] = (kxl_net_stats){"vif3.0", 2048000, 1500, 1024000, 900};
    web->n_vbds = 1;
    web->vbds = calloc(1, sizeof(*web->vbds));
    web->vbds[0] = (kxl_vbd_stats){.vdev = "xvda", .rd_ops = 120, .wr_ops = 80,
                                   .rd_bytes = 2097664, .wr_bytes = 1048576};
    set_dom(&f->doms[1], "db", KXL_STATE_PAUSED, 0.1, 1, 256 * 1024);
    set_dom(&f->doms[2], "a\"b\\c\nd", KXL_STATE_STARTING, 0, 1, 128 * 1024);
}

static void frame_golden(void **state)
{
    (void)state;
    kxl_stats_frame f;
    make_frame(&f);
    char *text = kxl_metrics_text(&f);
    check_golden("frame.prom", text);
    free(text);
    kxl_stats_frame_dispose(&f);
}

static void empty_frame(void **state)
{
    (void)state;
    kxl_stats_frame f = {0};
    char *text = kxl_metrics_text(&f);
    assert_non_null(strstr(text, "kxl_domains{state=\"running\"} 0\n"));
    assert_null(strstr(text, "domain=\""));   /* families, no samples */
    assert_non_null(strstr(text, "# TYPE kxl_domain_disk_write_ops_total counter\n"));
    free(text);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_metrics DATA_DIR\n");
        return 2;
    }
    data_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_golden),
        cmocka_unit_test(empty_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
