/* cmd_usb.c - kxl usb-list, xl's command. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

int cmd_usb_list(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cli_find("usb-list"));
    char *text = NULL;
    if (kxl_domain_usb_list(&ctx->paths, argv[1], &text) < 0)
        return cli_fail();
    fputs(text, stdout);
    free(text);
    return EXIT_OK;
}
