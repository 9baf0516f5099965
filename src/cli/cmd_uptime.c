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
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* "1 day, 2:03:04" or "2:03:04", as xl uptime prints it. */
static void format_uptime(long secs, char *buf, size_t n)
{
    long days = secs / 86400, h = secs % 86400 / 3600, m = secs % 3600 / 60, s = secs % 60;
    if (days)
        snprintf(buf, n, "%ld day%s, %ld:%02ld:%02ld", days, days == 1 ? "" : "s", h, m, s);
    else
        snprintf(buf, n, "%ld:%02ld:%02ld", h, m, s);
}

int cmd_uptime(cli_ctx *ctx, int argc, char **argv)
{
    bool brief = false;
    int c;
    while ((c = getopt(argc, argv, "+s")) != -1) {
        if (c != 's')
            return cli_usage(cli_find("uptime"));
        brief = true;
    }
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n = 0;
    kxl_dominfo one;
    for (int a = optind; a < argc; a++)
        if (kxl_domain_lookup(&ctx->paths, argv[a], &one) < 0)
            return cli_fail();   /* an unknown domain is an error, not an empty line */
    if (kxl_domain_list(&ctx->paths, &d, &n) < 0)
        return cli_fail();
    if (!brief)
        printf("Name                                ID Uptime\n");
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++) {
        bool wanted = optind == argc;
        for (int a = optind; a < argc; a++) {
            kxl_dominfo sel;
            wanted |= kxl_domain_lookup(&ctx->paths, argv[a], &sel) == 0 && sel.domid == d[i].domid;
        }
        if (!wanted)
            continue;
        char up[64];
        format_uptime((long)(now - (time_t)d[i].started), up, sizeof(up));
        if (brief)
            printf("up %s, %s (%u)\n", up, d[i].name, d[i].domid);
        else
            printf("%-35s%3u %s\n", d[i].name, d[i].domid, up);
    }
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
