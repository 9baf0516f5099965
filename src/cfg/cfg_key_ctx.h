/* cfg_key_ctx.h - what the parts of the key table share (cfg_keys.c, cfg_key_fns.c,
 * cfg_key_finish.c): the state of one mapping run, where a key was set, and the keys whose
 * meaning takes a function of their own. Private to src/cfg. */
#pragma once

#include "cfg/cfg_parse.h"
#include "kxl/domcfg.h"

/* State of one mapping run: what later keys and the final checks need. */
typedef struct {
    const cfg_tree *tree;
    unsigned host_cpus;
    const char *root;     /* root= and extra= are combined at the end, as xl does */
    const char *extra;
    bool have_cmdline;
    const char *hvm_devices;   /* "virtio", "emulated", or NULL: by viridian */
    bool viridian;             /* the config is a Windows guest's */
} cfg_key_ctx;

/* The config's file name, or "<config>". */
const char *cfg_key_src(const cfg_key_ctx *ctx);
/* The line that set key last, 0 when it is not set. */
int cfg_key_line_of(const cfg_key_ctx *ctx, const char *key);
/* The file (or "<command line>") that set key last, else the config's (cfg_key_src). */
const char *cfg_key_src_of(const cfg_key_ctx *ctx, const char *key);
/* The text of a scalar setting (strings and numbers alike, as xl treats them), or NULL with
 * kx_err set when it is a list (want says what it must be: "a string"). */
const char *cfg_key_scalar_text(const cfg_setting *s, const char *want);

/* The keys of type KEY_CUSTOM (cfg_key_fns.c): each checks s, sets its field of cfg or
 * notes it in ctx for the final checks; 0, or -1 with kx_err set ("FILE:LINE: ..."). */
int cfg_key_boot(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_bootloader(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_builder(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_channel(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_cmdline(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_cpu(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_cpuid(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_cpus(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_cpus_soft(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_disk(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_dm_args(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_firmware(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_gfx(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_hvm_devices(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_localtime(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_name(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_pci(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_root_extra(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_rtc_timeoffset(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_serial(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_soundhw(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_startup(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_startup_ready(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_usb(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_uuid(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_vfb(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_vif(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_viridian(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);
int cfg_key_vtpm(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);

/* After every key (cfg_key_finish.c): root/extra/cmdline combined as xl does, the checks
 * that span keys, the notes about Xen disk names, device_model_args gathered by type.
 * Returns 0, or -1 with kx_err set. */
int cfg_key_finish(kxl_domcfg *cfg, const cfg_key_ctx *ctx);
