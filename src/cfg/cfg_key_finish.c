/* cfg_key_finish.c - what is settled once every key of a config is read: xl's cmdline
 * precedence, the checks that span keys (memory and maxmem, firmware and type, ...), PV-GRUB
 * turned into pygrub, notes about Xen disk names, device_model_args gathered by type. */
#include "cfg/cfg_key_ctx.h"

#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_gfx.h"
#include "cfg/cfg_hvm.h"
#include "cfg/cfg_root.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

/* xl's precedence: cmdline wins over root and extra; otherwise "root=ROOT EXTRA". */
static void resolve_cmdline(kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    if (ctx->have_cmdline) {
        if (ctx->root || ctx->extra)
            kx_warn("%s:%d: warning: 'cmdline' is set, so 'root' and 'extra' are ignored",
                    cfg_key_src_of(ctx, "cmdline"), cfg_key_line_of(ctx, "cmdline"));
        return;
    }
    kx_buf b = KX_BUF_INIT;
    if (ctx->root)
        kx_buf_printf(&b, "root=%s", ctx->root);
    if (ctx->extra)
        kx_buf_printf(&b, "%s%s", ctx->root ? " " : "", ctx->extra);
    if (b.len)
        cfg->cmdline = kx_buf_steal(&b);
    kx_buf_dispose(&b);     /* extra = "" alone allocates and adds nothing */
}

/* Partition-style disks (xen-tools' xvda2): said once, since the guest sees them otherwise. */
static void note_partitions(const kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    kx_buf names = KX_BUF_INIT;
    for (size_t i = 0; i < cfg->n_disks; i++)
        if (cfg->disks[i].partition)
            kx_buf_printf(&names, "%s'%s'", names.len ? ", " : "", cfg->disks[i].vdev);
    if (names.len)
        kx_notice("%s:%d: note: %s: a partition of a Xen disk is a disk of its own on KVM; "
                  "kxl gives each its Xen name as its serial and teaches the guest's udev the "
                  "names (kxl.cfg(5), \"Partition-style disks\")", cfg_key_src_of(ctx, "disk"),
                  cfg_key_line_of(ctx, "disk"), kx_buf_str(&names));
    kx_buf_dispose(&names);
}

/* root= naming a disk by its Xen name: the name the guest sees instead, and a note. After
 * the devices are settled (hvm_devices may move disks off virtio). */
static void root_for_kvm(kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    const char *key = ctx->have_cmdline ? "cmdline" : ctx->root ? "root" : "extra";
    AUTOFREE char *old_name = NULL;
    AUTOFREE char *new_name = NULL;
    int disk = cfg_root_for_kvm(cfg, &old_name, &new_name);
    if (disk >= 0)
        kx_notice("%s:%d: note: the guest sees disk '%s' as /dev/%.*s on KVM: the kernel gets "
                  "root=/dev/%s for root=/dev/%s",
                  cfg_key_src_of(ctx, key), cfg_key_line_of(ctx, key), cfg->disks[disk].vdev,
                  (int)strcspn(new_name, "0123456789"), new_name, new_name, old_name);
}

/* "FILE:LINE" of the first of keys that is set, else of the config. */
static char *where_of(const cfg_key_ctx *ctx, const char *const *names)
{
    for (; *names; names++)
        if (cfg_tree_get(ctx->tree, *names))
            return kx_asprintf("%s:%d", cfg_key_src_of(ctx, *names), cfg_key_line_of(ctx, *names));
    return kx_strdup(cfg_key_src(ctx));
}

static int finish_gfx(kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    static const char *const listen_keys[] = {"vnclisten", "vfb", "vnc", NULL};
    static const char *const card_keys[] = {"videoram", "vga", "stdvga", "nographic", NULL};
    AUTOFREE char *where_listen = where_of(ctx, listen_keys);
    AUTOFREE char *where_card = where_of(ctx, card_keys);
    return cfg_gfx_finish(&cfg->gfx, where_listen, where_card);
}

/* An HVM guest's devices: virtio, or what Xen emulates (hvm_devices, or viridian's hint). */
static int finish_hvm_devices(kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    if (cfg->type != KXL_TYPE_HVM) {
        if (ctx->hvm_devices)
            kx_warn("%s:%d: warning: hvm_devices is for type = \"hvm\": ignored",
                    cfg_key_src_of(ctx, "hvm_devices"), cfg_key_line_of(ctx, "hvm_devices"));
        return 0;
    }
    cfg_hvm_ioemu_vifs(cfg);
    bool emulated = ctx->hvm_devices ? strcmp(ctx->hvm_devices, "emulated") == 0
                                     : ctx->viridian;
    if (!emulated)
        return 0;
    const char *key = ctx->hvm_devices ? "hvm_devices" : "viridian";
    AUTOFREE char *where =
        kx_asprintf("%s:%d", cfg_key_src_of(ctx, key), cfg_key_line_of(ctx, key));
    return cfg_hvm_emulate(cfg, where);
}

/* Xen's PV-GRUB (pv-grub-x86_64.gz, grub-x86_64-xen.bin): a GRUB built as a PV kernel, which
 * boots the menu on the guest's disk. On KVM the built-in pygrub does that job; PV-GRUB's
 * extra (the menu's path, "(hd0,0)/boot/grub/menu.lst") is GRUB's, not a kernel's. */
static void pv_grub_to_pygrub(kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    const char *base = cfg->kernel ? strrchr(cfg->kernel, '/') : NULL;
    base = base ? base + 1 : cfg->kernel;
    if (cfg->type == KXL_TYPE_HVM || cfg->bootloader || !base ||
        !(kx_startswith(base, "pv-grub") || (kx_startswith(base, "grub-") && strstr(base, "xen"))))
        return;
    kx_warn("%s:%d: warning: kernel '%s' is Xen's PV-GRUB: kxl boots the guest's own GRUB menu "
            "with its built-in pygrub instead%s",
            cfg_key_src_of(ctx, "kernel"), cfg_key_line_of(ctx, "kernel"), cfg->kernel,
            cfg->cmdline ? " (extra, PV-GRUB's own, is dropped)" : "");
    free(cfg->kernel);
    free(cfg->cmdline);
    cfg->kernel = cfg->cmdline = NULL;
    cfg->bootloader = kx_strdup("pygrub");
}

/* xl's three lists: the common one, then the one for the domain's kind (HVM, or PV/PVH);
 * the other kind's is ignored with a warning. */
static void dm_args_finish(kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    bool hvm = cfg->type == KXL_TYPE_HVM;
    const char *lists[] = {"device_model_args", hvm ? "device_model_args_hvm"
                                                    : "device_model_args_pv"};
    const char *other = hvm ? "device_model_args_pv" : "device_model_args_hvm";
    if (cfg_tree_get(ctx->tree, other))
        kx_warn("%s:%d: warning: %s is not for a %s domain: ignored", cfg_key_src_of(ctx, other),
                cfg_key_line_of(ctx, other), other, kxl_domtype_to_string(cfg->type));
    kx_strv v = KX_STRV_INIT;
    for (size_t k = 0; k < KX_ARRAY_SIZE(lists); k++) {
        const cfg_setting *s = cfg_tree_get(ctx->tree, lists[k]);
        for (size_t i = 0; s && i < s->value.n_items; i++)
            kx_strv_push(&v, s->value.items[i].str);
    }
    if (v.n)
        cfg->dm_args = v.v;   /* NULL-terminated by kx_strv */
    else
        kx_strv_dispose(&v);
}

static int check_consistency(kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    if (!cfg->name) {
        kx_err(KXL_ERR_CONFIG, "%s: no domain name: add name = \"...\"", cfg_key_src(ctx));
        return -1;
    }
    if (!cfg->maxmem_mib)
        cfg->maxmem_mib = cfg->memory_mib;
    if (cfg->maxmem_mib < cfg->memory_mib) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: maxmem (%llu) is less than memory (%llu)",
               cfg_key_src_of(ctx, "maxmem"), cfg_key_line_of(ctx, "maxmem"),
               (unsigned long long)cfg->maxmem_mib, (unsigned long long)cfg->memory_mib);
        return -1;
    }
    cfg->balloon = cfg->maxmem_mib > cfg->memory_mib;
    if (!cfg->maxvcpus)
        cfg->maxvcpus = cfg->vcpus;
    if (cfg->maxvcpus < cfg->vcpus) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: maxvcpus (%u) is less than vcpus (%u)",
               cfg_key_src_of(ctx, "maxvcpus"), cfg_key_line_of(ctx, "maxvcpus"), cfg->maxvcpus,
               cfg->vcpus);
        return -1;
    }
    /* a cap counts in one CPU's percent: more than every vCPU busy cannot mean anything */
    if (cfg->cap > 100 * cfg->maxvcpus) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: cap (%u) is more than 100 times maxvcpus (%u)",
               cfg_key_src_of(ctx, "cap"), cfg_key_line_of(ctx, "cap"), cfg->cap, cfg->maxvcpus);
        return -1;
    }
    /* old HVM configs name Xen's firmware loader; xl ignores it with a warning too */
    const char *base = cfg->kernel ? strrchr(cfg->kernel, '/') : NULL;
    if (cfg->type == KXL_TYPE_HVM && cfg->kernel &&
        strcmp(base ? base + 1 : cfg->kernel, "hvmloader") == 0) {
        kx_warn("%s:%d: warning: kernel '%s' is Xen's HVM loader: kxl boots an HVM guest "
                "with its own firmware and ignores it", cfg_key_src_of(ctx, "kernel"),
                cfg_key_line_of(ctx, "kernel"), cfg->kernel);
        free(cfg->kernel);
        cfg->kernel = NULL;
    }
    if (kx_streq(cfg->firmware, "ovmf") && (cfg->type != KXL_TYPE_HVM || cfg->kernel)) {
        const char *key = cfg_tree_get(ctx->tree, "bios") ? "bios" : "firmware";
        kx_err(KXL_ERR_CONFIG,
               "%s:%d: %s = \"ovmf\" is for an hvm domain that boots from "
               "its disks (type = \"hvm\", no kernel)",
               cfg_key_src_of(ctx, key), cfg_key_line_of(ctx, key), key);
        return -1;
    }
    /* known here when accel says tcg; under auto, only at the start (qemu_argv.c) */
    if (kx_streq(cfg->cpu, "host") && cfg->accel == KXL_ACCEL_TCG) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: cpu = \"host\" needs KVM, and this domain runs under "
               "TCG: name a CPU model (e.g. cpu = \"qemu64\"), or use accel = \"kvm\" on a "
               "KVM host", cfg_key_src_of(ctx, "cpu"), cfg_key_line_of(ctx, "cpu"));
        return -1;
    }
    pv_grub_to_pygrub(cfg, ctx);
    if (cfg->type != KXL_TYPE_HVM && !cfg->kernel && !cfg->bootloader) {
        kx_err(KXL_ERR_CONFIG, "%s: a %s domain needs kernel = \"...\" or bootloader = "
               "\"pygrub\" (or type = \"hvm\" to boot from its disk)", cfg_key_src(ctx),
               kxl_domtype_to_string(cfg->type));
        return -1;
    }
    if (cfg->bootloader && cfg->kernel) {
        /* xl hands them to pygrub: the kernel and initrd to take from the guest's disk */
        cfg->bootloader_kernel = TAKE_PTR(cfg->kernel);
        cfg->bootloader_ramdisk = TAKE_PTR(cfg->ramdisk);
    }
    if (cfg->bootloader && !cfg->n_disks) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: bootloader = \"pygrub\" reads the first disk, and there "
               "is none", cfg_key_src(ctx), cfg_key_line_of(ctx, "bootloader"));
        return -1;
    }
    if (finish_gfx(cfg, ctx) < 0 || finish_hvm_devices(cfg, ctx) < 0)
        return -1;
    if (cfg->ramdisk && !cfg->kernel) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: 'ramdisk' needs 'kernel'", cfg_key_src_of(ctx, "ramdisk"),
               cfg_key_line_of(ctx, "ramdisk"));
        return -1;
    }
    return 0;
}

int cfg_key_finish(kxl_domcfg *cfg, const cfg_key_ctx *ctx)
{
    resolve_cmdline(cfg, ctx);
    if (check_consistency(cfg, ctx) < 0)
        return -1;
    note_partitions(cfg, ctx);
    root_for_kvm(cfg, ctx);
    dm_args_finish(cfg, ctx);
    return 0;
}
