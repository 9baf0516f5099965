/* cmd_block.c - a domain's disks: block-attach, block-detach, block-list,
 * cd-insert, cd-eject, and snapshots (snapshot-create, -list, -revert,
 * -delete) of a running domain or of a config file's qcow2 disks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg_keys.h"
#include "cli/cli.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

/* Sends cmd with key=value pairs (NULL-terminated; a NULL value is left out)
 * to DOM's supervisor. */
static int call(cli_ctx *ctx, const char *dom, const char *cmd, json_object **ret_r, ...)
{
    json_object *args = json_object_new_object();
    va_list ap;
    va_start(ap, ret_r);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        if (v)
            json_object_object_add(args, k, json_object_new_string(v));
    }
    va_end(ap);
    return cli_call(ctx, dom, cmd, args, ret_r, CLI_CALL_TIMEOUT_MS);
}

int cmd_block_attach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("block-attach"));
    return call(ctx, argv[1], "block-attach", NULL, "spec", argv[2], NULL) < 0 ? cli_fail()
                                                                               : EXIT_OK;
}

int cmd_block_detach(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("block-detach"));
    return call(ctx, argv[1], "block-detach", NULL, "vdev", argv[2], NULL) < 0 ? cli_fail()
                                                                               : EXIT_OK;
}

int cmd_cd_insert(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 4)
        return cli_usage(cli_find("cd-insert"));
    char real[4096];
    const char *target = realpath(argv[3], real) ? real : argv[3];
    return call(ctx, argv[1], "cd-change", NULL, "vdev", argv[2], "target", target, NULL) < 0
               ? cli_fail() : EXIT_OK;
}

int cmd_cd_eject(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage(cli_find("cd-eject"));
    return call(ctx, argv[1], "cd-change", NULL, "vdev", argv[2], NULL) < 0 ? cli_fail()
                                                                            : EXIT_OK;
}

/* CD-ROMs are read-only whatever the config says */
static const char *disk_mode(json_object *d)
{
    return kx_json_bool(d, "readonly", false) || kx_json_bool(d, "cdrom", false) ? "r" : "w";
}

/* One plugged disk as block-list --json shows it. */
static json_object *disk_json(json_object *d)
{
    json_object *o = json_object_new_object();
    const char *target = kx_json_str(d, "target", NULL);
    json_object_object_add(o, "vdev", json_object_new_string(kx_json_str(d, "vdev", "")));
    json_object_object_add(o, "type", json_object_new_string(
                                          kx_json_bool(d, "cdrom", false) ? "cdrom" : "disk"));
    json_object_object_add(o, "bus", json_object_new_string(kx_json_str(d, "bus", "")));
    json_object_object_add(o, "format", json_object_new_string(kx_json_str(d, "format", "")));
    json_object_object_add(o, "mode", json_object_new_string(disk_mode(d)));
    json_object_object_add(o, "target", target ? json_object_new_string(target) : NULL);
    json_object_object_add(o, "discard", json_object_new_boolean(kx_json_bool(d, "discard",
                                                                               true)));
    return o;
}

static void print_disks(json_object *disks, bool json)
{
    json_object *out = json ? json_object_new_array() : NULL;
    if (!json)
        printf("%-6s %-7s %-6s %-5s %s\n", "Vdev", "Type", "Format", "Mode", "Target");
    for (size_t i = 0; i < json_object_array_length(disks); i++) {
        json_object *d = json_object_array_get_idx(disks, i);
        if (kx_json_bool(d, "unplugged", false))
            continue;
        if (json)
            json_object_array_add(out, disk_json(d));
        else
            printf("%-6s %-7s %-6s %-5s %s\n", kx_json_str(d, "vdev", "?"),
                   kx_json_bool(d, "cdrom", false) ? "cdrom" : "disk",
                   kx_json_str(d, "format", "?"), disk_mode(d), kx_json_str(d, "target", "-"));
    }
    if (json) {
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(out);
    }
}

int cmd_block_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = argc == 3 && strcmp(argv[1], "--json") == 0;
    if (argc != 2 + json || argv[1 + json][0] == '-')
        return cli_usage(cli_find("block-list"));
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, argv[1 + json], &info) < 0)
        return cli_fail();
    AUTOFREE char *path = kxl_domain_file(&ctx->paths, info.name, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    json_object *disks;
    if (!o || !json_object_object_get_ex(o, "disks", &disks))
        return cli_fail();
    print_disks(disks, json);
    return EXIT_OK;
}

/* Whether the qcow2 image file holds a snapshot called name: 1, 0, or -1 with kx_err. */
static int image_has_snapshot(const char *file, const char *name)
{
    char *argv[] = {"qemu-img", "info", "--output=json", "-U", (char *)file, NULL};
    AUTOFREE char *text = kx_run_capture(argv);
    AUTOPTR(json_object) info = text ? kx_json_parse(text, "qemu-img info") : NULL;
    if (!info)
        return -1;
    json_object *snaps = NULL;
    json_object_object_get_ex(info, "snapshots", &snaps);
    for (size_t i = 0; snaps && i < json_object_array_length(snaps); i++)
        if (kx_streq(kx_json_str(json_object_array_get_idx(snaps, i), "name", ""), name))
            return 1;
    return 0;
}

/* The writable disks of a config, all checked to be qcow2 before anything is changed. */
static int snapshot_disks(const char *file, const kxl_domcfg *cfg, kx_strv *targets_r)
{
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        if (!d->target || d->cdrom || d->readonly)
            continue;
        if (d->format != KXL_DISK_FMT_QCOW2) {
            kx_err(KXL_ERR_INVALID, "snapshots need qcow2 disks: '%s' is %s", d->target,
                   kxl_disk_format_to_string(d->format));
            return -1;
        }
        kx_strv_push(targets_r, d->target);
    }
    if (targets_r->n == 0) {
        kx_err(KXL_ERR_INVALID, "'%s' has no writable disk to snapshot", file);
        return -1;
    }
    return 0;
}

/* create needs the name free on every disk; revert and delete need it on every disk. */
static int check_snapshot_names(const kx_strv *targets, const char *op, const char *name)
{
    bool create = strcmp(op, "create") == 0;
    for (size_t i = 0; i < targets->n; i++) {
        int has = image_has_snapshot(targets->v[i], name);
        if (has < 0)
            return -1;
        if (has == create) {
            kx_err(KXL_ERR_INVALID, create ? "disk '%s' already has a snapshot '%s'"
                                           : "disk '%s' has no snapshot '%s'",
                   targets->v[i], name);
            return -1;
        }
    }
    return 0;
}

/* Applies op (-c, -a, -d) to every disk; a create that fails on one disk is taken back from
 * those before it. */
static int change_snapshots(const kx_strv *targets, const char *flag, const char *name)
{
    for (size_t i = 0; i < targets->n; i++) {
        char *argv[] = {"qemu-img", "snapshot", (char *)flag, (char *)name, targets->v[i], NULL};
        if (kx_run(argv) == 0)
            continue;
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        for (size_t k = 0; strcmp(flag, "-c") == 0 && k < i; k++) {
            char *undo[] = {"qemu-img", "snapshot", "-d", (char *)name, targets->v[k], NULL};
            kx_run(undo);
        }
        kx_err(KXL_ERR_INTERNAL, "%s", why);
        return -1;
    }
    return 0;
}

/* A shut-down domain's snapshots live in its qcow2 images: qemu-img, disk by disk, after
 * checking all of them. */
static int offline_snapshot(const char *file, const char *op, const char *name)
{
    AUTOPTR(kxl_domcfg) cfg = cfg_load(file, NULL, kxl_host_cpus(), CFG_LOAD_CHECK_FILES);
    if (!cfg)
        return -1;
    kx_strv targets = KX_STRV_INIT;
    int r = snapshot_disks(file, cfg, &targets);
    if (r == 0 && strcmp(op, "list") == 0) {
        for (size_t i = 0; r == 0 && i < targets.n; i++) {
            char *argv[] = {"qemu-img", "snapshot", "-l", targets.v[i], NULL};
            fflush(stdout);
            r = kx_run_to_stdout(argv);
        }
    } else if (r == 0) {
        const char *flag = strcmp(op, "create") == 0 ? "-c" : strcmp(op, "revert") == 0 ? "-a"
                                                                                         : "-d";
        r = check_snapshot_names(&targets, op, name) < 0 ? -1
                                                         : change_snapshots(&targets, flag, name);
    }
    kx_strv_dispose(&targets);
    return r;
}

static int snapshot(cli_ctx *ctx, int argc, char **argv, const char *op)
{
    bool list = strcmp(op, "list") == 0;
    if (argc != (list ? 2 : 3))
        return cli_usage(cli_find(argv[0]));
    const char *name = list ? "" : argv[2];
    bool is_file = strchr(argv[1], '/') || kx_path_exists(argv[1]);
    if (is_file)
        return offline_snapshot(argv[1], op, name) < 0 ? cli_fail() : EXIT_OK;
    AUTOPTR(json_object) out = NULL;
    if (call(ctx, argv[1], "snapshot", &out, "op", op, "name", name, NULL) < 0)
        return cli_fail();
    if (list)
        fputs(json_object_get_string(out), stdout);
    return EXIT_OK;
}

int cmd_snapshot_create(cli_ctx *ctx, int argc, char **argv)
{
    return snapshot(ctx, argc, argv, "create");
}

int cmd_snapshot_revert(cli_ctx *ctx, int argc, char **argv)
{
    return snapshot(ctx, argc, argv, "revert");
}

int cmd_snapshot_delete(cli_ctx *ctx, int argc, char **argv)
{
    return snapshot(ctx, argc, argv, "delete");
}

int cmd_snapshot_list(cli_ctx *ctx, int argc, char **argv)
{
    return snapshot(ctx, argc, argv, "list");
}
