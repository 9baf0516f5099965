/* cmd_vcpu.c - kxl vcpu-list and vcpu-pin, with xl's syntax and columns. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "kxl/stats.h"
#include "util/buf.h"
#include "util/cleanup.h"

int cmd_vcpu_list(cli_ctx *ctx, int argc, char **argv)
{
    const cli_cmd *self = cli_find(kxl_op_describe(KXL_OP_VCPU_LIST)->cli);
    if (argc > 1 && argv[1][0] == '-')
        return cli_usage(self);
    /* every domain named is looked up first: an unknown one prints nothing but the error */
    int n_lists = argc > 1 ? argc - 1 : 1;
    AUTOFREE kxl_vcpu_info **lists = kx_malloc0(sizeof(*lists) * (size_t)n_lists);
    AUTOFREE size_t *counts = kx_malloc0(sizeof(*counts) * (size_t)n_lists);
    int status = EXIT_OK;
    for (int i = 0; i < n_lists; i++) {
        if (status == EXIT_OK &&
            kxl_vcpu_list(&ctx->paths, argc > 1 ? argv[i + 1] : NULL, &lists[i], &counts[i]) < 0)
            status = cli_fail();
    }
    if (status == EXIT_OK) {
        printf("%s\n", kxl_vcpu_list_header());
        for (int i = 0; i < n_lists; i++) {
            for (size_t j = 0; j < counts[i]; j++) {
                AUTOFREE char *line = kxl_vcpu_line(&lists[i][j], kxl_host_cpus());
                printf("%s\n", line);
            }
        }
    }
    for (int i = 0; i < n_lists; i++)
        free(lists[i]);
    return status;
}

int cmd_vcpu_pin(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 4 || argv[1][0] == '-')
        return cli_usage(cli_find(kxl_op_describe(KXL_OP_VCPU_PIN)->cli));
    if (kxl_vcpu_pin(&ctx->paths, argv[1], argv[2], argv[3]) < 0)
        return cli_fail();
    return EXIT_OK;
}
