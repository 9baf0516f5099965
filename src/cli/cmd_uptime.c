/* cmd_uptime.c - kxl uptime, vm-list and dmesg: views of the domains and of
 * the host-side event logs. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kxl/stats.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* One line: Domain-0 (the host) for "0" or its name, else the domain's. */
static void print_uptime(const kxl_dominfo *d, bool host, time_t now, bool brief)
{
    time_t started = host ? now : (time_t)d->started;
    unsigned long secs = host ? kxl_host_uptime()
                              : (unsigned long)(now > started ? now - started : 0);
    struct tm tm;
    AUTOFREE char *line = kxl_uptime_line(host ? "Domain-0" : d->name, host ? 0 : d->domid, secs,
                                          brief ? localtime_r(&now, &tm) : NULL);
    puts(line);
}

static bool names_host(const char *dom)
{
    return strcmp(dom, "0") == 0 || strcmp(dom, "Domain-0") == 0;
}

/* xl uptime [-s] [DOM...]: the host's line and every domain's, or the named ones in the
 * order given; an unknown name fails before anything is printed. */
int cmd_uptime(cli_ctx *ctx, int argc, char **argv)
{
    bool brief = false;
    int c;
    while ((c = getopt(argc, argv, "+s")) != -1) {
        if (c != 's')
            return cli_usage(cli_find("uptime"));
        brief = true;
    }
    int nsel = argc - optind;
    AUTOFREE kxl_dominfo *sel = kx_malloc0(((size_t)nsel + 1) * sizeof(*sel));
    for (int a = 0; a < nsel; a++)
        if (!names_host(argv[optind + a]) &&
            kxl_domain_lookup(&ctx->paths, argv[optind + a], &sel[a]) < 0)
            return cli_fail();
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n = 0;
    if (!nsel && kxl_domain_list(&ctx->paths, &d, &n) < 0)
        return cli_fail();
    if (!brief)
        puts(kxl_uptime_header());
    time_t now = time(NULL);
    if (!nsel)
        print_uptime(NULL, true, now, brief);
    for (size_t i = 0; i < n; i++)
        print_uptime(&d[i], false, now, brief);
    for (int a = 0; a < nsel; a++)
        print_uptime(&sel[a], names_host(argv[optind + a]), now, brief);
    return EXIT_OK;
}

int cmd_vm_list(cli_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_usage(cli_find("vm-list"));
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n = 0;
    if (kxl_domain_list(&ctx->paths, &d, &n) < 0)
        return cli_fail();
    printf("UUID                                  ID    name\n");
    for (size_t i = 0; i < n; i++)
        printf("%-37s %-5u %s\n", d[i].uuid, d[i].domid, d[i].name);
    return EXIT_OK;
}

/* By timestamp ("YYYY-mm-dd HH:MM:SS.mmm", 23 characters), and within the
 * same millisecond in the order the lines were logged. */
typedef struct {
    const char *line;
    size_t order;
} log_line;

static int by_time(const void *a, const void *b)
{
    const log_line *x = a, *y = b;
    int c = strncmp(x->line, y->line, 23);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Every domain's event log (ROOT/var/log/kxl/NAME.log), merged in time order. */
int cmd_dmesg(cli_ctx *ctx, int argc, char **argv)
{
    bool clear = argc == 2 && strcmp(argv[1], "-c") == 0;
    if (argc > 2 || (argc == 2 && !clear))
        return cli_usage(cli_find("dmesg"));
    DIR *dir = opendir(ctx->paths.log_dir);
    if (!dir) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot read '%s'", ctx->paths.log_dir);
        return cli_fail();
    }
    kx_strv lines = KX_STRV_INIT;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".log") != 0 ||
            strstr(e->d_name, ".console.log") || strstr(e->d_name, ".qemu.log"))
            continue;
        AUTOFREE char *path = kx_path_join(ctx->paths.log_dir, e->d_name);
        AUTOFREE char *text = kx_read_file(path, NULL);
        for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save))
            kx_strv_push(&lines, l);
        if (clear && truncate(path, 0) < 0)
            kx_warn("kxl: cannot clear '%s'", path);
    }
    closedir(dir);
    log_line *sorted = kx_malloc0(sizeof(log_line) * (lines.n + 1));
    for (size_t i = 0; i < lines.n; i++)
        sorted[i] = (log_line){lines.v[i], i};
    if (lines.n > 1)
        qsort(sorted, lines.n, sizeof(log_line), by_time);
    for (size_t i = 0; i < lines.n; i++)
        puts(sorted[i].line);
    free(sorted);
    kx_strv_dispose(&lines);
    return EXIT_OK;
}
