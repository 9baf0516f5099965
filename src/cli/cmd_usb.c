/* cmd_usb.c - kxl usb-list and channel-list, xl's commands: the devices a config gave a
 * domain. */
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

/* xl channel-list DOM...: one header, then each domain's channels. */
int cmd_channel_list(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return cli_usage(cli_find("channel-list"));
    puts(kxl_channel_list_header());
    for (int i = 1; i < argc; i++) {
        char *text = NULL;
        if (kxl_domain_channel_list(&ctx->paths, argv[i], &text) < 0)
            return cli_fail();
        fputs(text, stdout);
        free(text);
    }
    return EXIT_OK;
}
