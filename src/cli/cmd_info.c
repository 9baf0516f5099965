/* cmd_info.c - kxl info: the host, its memory, the accelerator kxl uses and
 * why, the QEMU and kxl versions, as "key : value" lines (xl info) or JSON. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/json.h"

int cmd_info(cli_ctx *ctx, int argc, char **argv)
{
    bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json))
        return cli_usage(cli_find("info"));
    AUTOPTR(json_object) o = kxl_host_info(&ctx->paths);
    if (!o)
        return cli_fail();
    if (json) {
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
        return EXIT_OK;
    }
    json_object_object_foreach(o, key, value)
        printf("%-22s : %s\n", key, json_object_get_string(value));
    return EXIT_OK;
}
