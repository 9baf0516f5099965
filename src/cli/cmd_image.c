/* cmd_image.c - kxl create-image: xen-create-image's options, a progress line per step
 * while it works, and the Installation Summary at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "storage/create_image.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

static void print_progress(int step, int total, const char *what, void *opaque)
{
    (void)opaque;
    printf("[%d/%d] %s\n", step, total, what);
    fflush(stdout);
}

/* A bad option: one line, exit code 2. */
static int option_error(void)
{
    fprintf(stderr, "kxl: create-image: %s (see 'kxl help create-image')\n", kx_err_msg());
    return EXIT_USAGE;
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
    } else if (image_create(&o, &r) < 0) {
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
