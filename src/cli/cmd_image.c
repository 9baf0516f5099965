/* cmd_image.c - kxl create-image: xen-create-image's options, a progress line per step
 * while it works (SIGINT, SIGTERM and SIGHUP stop it, and it undoes itself), and the
 * Installation Summary at the end; kxl delete-image, as xen-delete-image. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/disks.h"
#include "lib/runtime.h"
#include "image/create_image.h"
#include "image/delete_image.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static void print_progress(int step, int total, const char *what, void *opaque)
{
    (void)opaque;
    printf("[%d/%d] %s\n", step, total, what);
    fflush(stdout);
}

/* While create-image runs, SIGINT, SIGTERM and SIGHUP are read from a signalfd that
 * image_create passes on to its run (which then undoes itself and says so), and SIGPIPE is
 * ignored: a progress line written to a closed pipe must not end kxl mid-run. */
typedef struct {
    int fd;
    sigset_t old_mask;
    struct sigaction old_pipe;
} run_signals;

static void run_signals_take(run_signals *s)
{
    sigset_t set;
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &s->old_mask);
    s->fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->fd < 0)   /* then a signal ends kxl, and the run's process undoes itself */
        sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &s->old_pipe);
}

/* Drops the signals that came once the run was over, and restores what was. */
static void run_signals_give_back(run_signals *s)
{
    struct signalfd_siginfo si;
    sigaction(SIGPIPE, &s->old_pipe, NULL);
    if (s->fd < 0)
        return;
    while (read(s->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        ;
    close(s->fd);
    sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
}

/* A bad option: one line, exit code 2. */
static int option_error_named(const char *cmd)
{
    fprintf(stderr, "kxl: %s: %s (see 'kxl help %s')\n", cmd, kx_err_msg(), cmd);
    return EXIT_USAGE;
}

static int option_error(void)
{
    return option_error_named("create-image");
}

static int create_image(image_opts *o, image_result *r)
{
    run_signals sigs;
    run_signals_take(&sigs);
    o->cancel_fd = sigs.fd;
    int rc = image_create(o, r);
    run_signals_give_back(&sigs);
    return rc;
}

int cmd_create_image(cli_ctx *ctx, int argc, char **argv)
{
    image_opts o;
    image_opts_init(&o);
    o.lib_dir = kx_strdup(ctx->paths.lib_dir);
    o.verbose = ctx->verbose > 0;
    o.progress = print_progress;
    int rc = EXIT_OK;
    image_result r;
    if (image_opts_parse(&o, argc, argv) < 0) {
        rc = option_error();
    } else if (image_opts_finish(&o, ctx->paths.etc_dir) < 0) {
        rc = kx_err_code() == KXL_ERR_INVALID ? option_error() : cli_fail();
    } else if (create_image(&o, &r) < 0) {
        rc = cli_fail();
    } else {
        AUTOFREE char *summary = image_summary_text(&o, &r);
        fputs(summary, stdout);
        explicit_bzero(summary, strlen(summary));
        image_result_dispose(&r);
    }
    image_opts_dispose(&o);
    return rc;
}

typedef struct {
    const char *dir, *lvm, *output;
    kx_strv hosts;
} delete_args;

static int parse_delete(int argc, char **argv, delete_args *a)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},      {"lvm", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},   {"hostname", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 0;   /* GNU getopt starts afresh, permuting: HOST may come before options */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd' || c == 'l' || c == 'o')
            *(c == 'd' ? &a->dir : c == 'l' ? &a->lvm : &a->output) = optarg;
        else if (c == 'H')
            kx_strv_push(&a->hosts, optarg);
        else
            return cli_usage(cli_find("delete-image"));
    }
    for (int i = optind; i < argc; i++)
        kx_strv_push(&a->hosts, argv[i]);
    if (a->hosts.n == 0 || (a->dir && a->lvm)) {
        if (a->dir && a->lvm)
            fprintf(stderr, "kxl: delete-image: --dir and --lvm exclude each other\n");
        return cli_usage(cli_find("delete-image"));
    }
    return EXIT_OK;
}

/* What exists of each host's images, and that no running domain holds them:
 * all of it before anything is removed. */
static int find_all(cli_ctx *ctx, const delete_args *a, const char *dir,
                    image_deletion *dels)
{
    for (size_t i = 0; i < a->hosts.n; i++) {
        image_del_opts o = {.hostname = a->hosts.v[i], .dir = dir, .lvm = a->lvm,
                            .output = a->output ? a->output : ctx->paths.etc_dir};
        if (image_delete_find(&o, &dels[i]) < 0)
            return -1;
        for (size_t k = 0; k < dels[i].disks.n; k++) {
            kxl_disk d = {.target = dels[i].disks.v[k]};   /* as if to write it: any holder counts */
            if (disks_check_free(&ctx->paths, &d, NULL) < 0)
                return -1;
        }
    }
    return 0;
}

static void say_line(const char *what, void *opaque)
{
    (void)opaque;
    printf("%s\n", what);
}

static void show_plan(const image_deletion *d)
{
    for (size_t k = 0; k < d->disks.n; k++)
        printf("would remove %s\n", d->disks.v[k]);
    if (d->dir)
        printf("would remove %s (if nothing else is in it)\n", d->dir);
    if (d->cfg)
        printf("would remove %s\n", d->cfg);
}

int cmd_delete_image(cli_ctx *ctx, int argc, char **argv)
{
    delete_args a = {0};
    int rc = parse_delete(argc, argv, &a);
    if (rc != EXIT_OK) {
        kx_strv_dispose(&a.hosts);
        return rc;
    }
    AUTOFREE char *dir = a.lvm ? NULL : a.dir ? kx_strdup(a.dir)
                                              : kx_path_join(ctx->paths.lib_dir, "images");
    image_deletion *dels = kx_malloc0(a.hosts.n * sizeof(*dels));
    /* held until the end: a domain created meanwhile either is seen holding a disk, or
     * starts after the disks are gone (and fails to open them) */
    AUTOCLOSE int lock = runtime_lock(&ctx->paths);
    if (lock < 0)
        rc = cli_fail();
    else if (find_all(ctx, &a, dir, dels) < 0)
        rc = kx_err_code() == KXL_ERR_INVALID ? option_error_named("delete-image") : cli_fail();
    for (size_t i = 0; rc == EXIT_OK && i < a.hosts.n; i++) {
        if (ctx->dryrun)
            show_plan(&dels[i]);
        else if (image_delete_run(&dels[i], say_line, NULL) < 0)
            rc = cli_fail();
    }
    for (size_t i = 0; i < a.hosts.n; i++)
        image_deletion_dispose(&dels[i]);
    free(dels);
    kx_strv_dispose(&a.hosts);
    return rc;
}
