/* cmd_block.c - a domain's disks: block-attach, block-detach, block-list,
 * cd-insert, cd-eject, and snapshots (snapshot-create, -list, -revert,
 * -delete) of a running domain or of a config file's qcow2 disks. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "kxl/ops.h"
#include "util/cleanup.h"
#include "util/json.h"

int cmd_block_attach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage(cli_find("block-attach"));
    /* xl takes the spec whole or split over arguments: d phy:/dev/x xvdb w */
    AUTOFREE char *spec = cli_join_spec(argc - 2, argv + 2);
    return kxl_block_attach(&ctx->paths, argv[1], spec) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_block_detach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "-f") == 0) {
        fprintf(stderr, "kxl: block-detach -f: QEMU cannot take a disk the guest holds; "
                "without -f the guest is asked and has 15 s to let it go\n");
        return EXIT_USAGE;
    }
    if (argc != 3)
        return cli_usage(cli_find("block-detach"));
    return kxl_block_detach(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_cd_insert(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 4)
        return cli_usage(cli_find("cd-insert"));
    return kxl_cd_insert(&ctx->paths, argv[1], argv[2], argv[3]) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_cd_eject(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("cd-eject"));
    return kxl_cd_eject(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}

static void print_disks(const kxl_disk *disks, size_t n, bool json)
{
    if (json) {
        AUTOPTR(json_object) out = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(out, kxl_disk_to_json(&disks[i]));
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        return;
    }
    printf("%-6s %-7s %-6s %-5s %s\n", "Vdev", "Type", "Format", "Mode", "Target");
    for (size_t i = 0; i < n; i++) {
        const kxl_disk *d = &disks[i];
        printf("%-6s %-7s %-6s %-5s %s\n", d->vdev, d->cdrom ? "cdrom" : "disk",
               kxl_disk_format_to_string(d->format), d->readonly || d->cdrom ? "r" : "w",
               d->target ? d->target : "-");
    }
}

int cmd_block_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = argc == 3 && strcmp(argv[1], "--json") == 0;
    if (argc != 2 + json || argv[1 + json][0] == '-')
        return cli_usage(cli_find("block-list"));
    kxl_disk *disks;
    size_t n;
    if (kxl_block_list(&ctx->paths, argv[1 + json], &disks, &n) < 0)
        return cli_fail();
    print_disks(disks, n, json);
    kxl_disks_free(disks, n);
    return EXIT_OK;
}

/* snapshot-create, -revert, -delete: DOM|CONFIG NAME. */
static int snapshot_change(cli_ctx *ctx, int argc, char **argv,
                           int (*op)(const kxl_paths *, const char *, const char *))
{
    if (argc != 3)
        return cli_usage(cli_find(argv[0]));
    return op(&ctx->paths, argv[1], argv[2]) < 0 ? cli_fail() : EXIT_OK;
}

int cmd_snapshot_create(cli_ctx *ctx, int argc, char **argv)
{
    return snapshot_change(ctx, argc, argv, kxl_snapshot_create);
}

int cmd_snapshot_revert(cli_ctx *ctx, int argc, char **argv)
{
    return snapshot_change(ctx, argc, argv, kxl_snapshot_revert);
}

int cmd_snapshot_delete(cli_ctx *ctx, int argc, char **argv)
{
    return snapshot_change(ctx, argc, argv, kxl_snapshot_delete);
}

int cmd_snapshot_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = argc == 3 && strcmp(argv[1], "--json") == 0;
    if (argc != 2 + json || argv[1 + json][0] == '-')
        return cli_usage(cli_find(argv[0]));
    kxl_snapshot *snaps;
    size_t n;
    if (kxl_snapshot_list(&ctx->paths, argv[1 + json], &snaps, &n) < 0)
        return cli_fail();
    if (json) {
        AUTOPTR(json_object) out = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(out, kxl_snapshot_to_json(&snaps[i]));
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
        AUTOFREE char *text = kxl_snapshot_table(snaps, n);
        fputs(text, stdout);
    }
    kxl_snapshots_free(snaps, n);
    return EXIT_OK;
}
