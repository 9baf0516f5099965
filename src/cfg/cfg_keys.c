/* cfg_keys.c - the meaning of xl.cfg keys: a table maps each key of the generic
 * tree onto a field of kxl_domcfg, with its type, bounds and validator (the validators of
 * KEY_CUSTOM keys are in cfg_key_fns.c, the checks after every key in cfg_key_finish.c). */
#include "cfg/cfg_keys.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg_key_ctx.h"
#include "cfg/cfg_usb.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/text.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)
DEFINE_AUTOPTR(cfg_tree, cfg_tree_free)

typedef enum {
    KEY_STRING,   /* char * field */
    KEY_UINT,     /* unsigned field, within min..max */
    KEY_U64,      /* uint64_t field, within min..max */
    KEY_ACTION,   /* kxl_action field */
    KEY_ENUM,     /* an enum field: parse maps its names, note lists them */
    KEY_CUSTOM,   /* handled by fn */
    KEY_NO_MEANING, /* known, but cannot mean the same on KVM: warn with note */
} key_type;

typedef struct cfg_key cfg_key;
typedef int (*key_fn)(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx);

struct cfg_key {
    const char *name;
    key_type type;
    size_t offset;
    unsigned long long min, max;
    key_fn fn;
    const char *note;
    int (*parse)(const char *name);   /* KEY_ENUM: the value of a name, -1 for none */
};

const char *cfg_key_src(const cfg_key_ctx *ctx)
{
    return ctx->tree->file ? ctx->tree->file : "<config>";
}

const char *cfg_key_scalar_text(const cfg_setting *s, const char *want)
{
    if (s->value.kind == CFG_LIST) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be %s, not a list", s->source, s->line, s->key,
               want);
        return NULL;
    }
    return s->value.str;
}

/* Numbers may be written bare or quoted ("512"): xl reads both. */
static int get_number(const cfg_setting *s, const cfg_key_ctx *ctx, unsigned long long *v_r)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a number");
    if (!text)
        return -1;
    bool ok;
    if (s->value.kind == CFG_NUMBER) {
        ok = s->value.num >= 0;
        *v_r = (unsigned long long)s->value.num;
    } else {
        char *end;
        errno = 0;
        *v_r = strtoull(text, &end, 0);
        ok = !errno && end != text && !*end && text[0] != '-';
    }
    if (!ok) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be a non-negative number, not '%s'", s->source,
               s->line, s->key, text);
        return -1;
    }
    return 0;
}

static int get_bounded(const cfg_key *k, const cfg_setting *s, const cfg_key_ctx *ctx,
                       unsigned long long *v_r)
{
    if (get_number(s, ctx, v_r) < 0)
        return -1;
    if (*v_r < k->min || *v_r > k->max) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' = %llu is out of range (%llu to %llu)", s->source,
               s->line, s->key, *v_r, k->min, k->max);
        return -1;
    }
    return 0;
}

static int set_string(const cfg_key *k, kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
    if (!text)
        return -1;
    char **field = (char **)((char *)cfg + k->offset);
    free(*field);
    *field = kx_strdup(text);
    return 0;
}

static int set_action(const cfg_key *k, kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
    if (!text)
        return -1;
    int a = kxl_action_from_string(text);
    if (a < 0 || a == KXL_ACTION_SOFT_RESET) {
        kx_err(KXL_ERR_CONFIG,
               "%s:%d: unknown action '%s' for '%s' (use destroy, restart, rename-restart, "
               "preserve, coredump-destroy or coredump-restart)",
               s->source, s->line, text, s->key);
        return -1;
    }
    *(kxl_action *)((char *)cfg + k->offset) = (kxl_action)a;
    return 0;
}

static int set_enum(const cfg_key *k, kxl_domcfg *cfg, const cfg_setting *s)
{
    const char *text = cfg_key_scalar_text(s, "a string");
    if (!text)
        return -1;
    int v = k->parse(text);
    if (v < 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: unknown %s '%s' (use %s)", s->source, s->line, s->key,
               text, k->note);
        return -1;
    }
    *(int *)((char *)cfg + k->offset) = v;
    return 0;
}

#define F(field) offsetof(kxl_domcfg, field)
#define GFX(k) {k, KEY_CUSTOM, .fn = cfg_key_gfx}
#define XEN_ONLY(k, why) {k, KEY_NO_MEANING, .note = why}

/* Sorted by name (bsearch). */
static const cfg_key keys[] = {
    {"accel", KEY_ENUM, F(accel), .parse = kxl_accel_from_string, .note = "auto, kvm or tcg"},
    XEN_ONLY("acpi", "ACPI is always on for KVM guests"),
    XEN_ONLY("apic", "the APIC is always on for KVM guests"),
    {"bios", KEY_CUSTOM, .fn = cfg_key_firmware},
    {"boot", KEY_CUSTOM, .fn = cfg_key_boot},
    {"bootloader", KEY_CUSTOM, .fn = cfg_key_bootloader},
    XEN_ONLY("bootloader_args", "the built-in pygrub takes no arguments"),
    {"builder", KEY_CUSTOM, .fn = cfg_key_builder},
    {"cap", KEY_UINT, F(cap), 0, 100 * 255},
    {"channel", KEY_CUSTOM, .fn = cfg_key_channel},
    {"cmdline", KEY_CUSTOM, .fn = cfg_key_cmdline},
    {"cpu", KEY_CUSTOM, .fn = cfg_key_cpu},
    {"cpu_weight", KEY_UINT, F(cpu_weight), KXL_CPU_WEIGHT_MIN, KXL_CPU_WEIGHT_MAX},
    {"cpuid", KEY_CUSTOM, .fn = cfg_key_cpuid},
    {"cpus", KEY_CUSTOM, .fn = cfg_key_cpus},
    {"cpus_soft", KEY_CUSTOM, .fn = cfg_key_cpus_soft},
    {"device_model_args", KEY_CUSTOM, .fn = cfg_key_dm_args},
    {"device_model_args_hvm", KEY_CUSTOM, .fn = cfg_key_dm_args},
    {"device_model_args_pv", KEY_CUSTOM, .fn = cfg_key_dm_args},
    XEN_ONLY("device_model_override", "kxl always runs the host's QEMU"),
    XEN_ONLY("device_model_version", "kxl always runs the host's QEMU"),
    XEN_ONLY("dhcp", "the guest configures its own network"),
    {"disk", KEY_CUSTOM, .fn = cfg_key_disk},
    {"extra", KEY_CUSTOM, .fn = cfg_key_root_extra},
    {"firmware", KEY_CUSTOM, .fn = cfg_key_firmware},
    XEN_ONLY("hap", "KVM always uses hardware-assisted paging when it can"),
    {"hvm_devices", KEY_CUSTOM, .fn = cfg_key_hvm_devices},
    {"kernel", KEY_STRING, F(kernel)},
    GFX("keymap"),
    {"localtime", KEY_CUSTOM, .fn = cfg_key_localtime},
    {"maxmem", KEY_U64, F(maxmem_mib), KXL_MEMORY_MIN_MIB, 16ULL << 20},
    {"maxvcpus", KEY_UINT, F(maxvcpus), 1, 255},
    {"memory", KEY_U64, F(memory_mib), KXL_MEMORY_MIN_MIB, 16ULL << 20},
    {"name", KEY_CUSTOM, .fn = cfg_key_name},
    XEN_ONLY("nestedhvm", "nested virtualization is a host setting on KVM"),
    GFX("nographic"),
    {"on_crash", KEY_ACTION, F(on_crash)},
    {"on_host_shutdown", KEY_ENUM, F(on_host_shutdown), .parse = kxl_host_shutdown_from_string,
     .note = "shutdown or save"},
    {"on_poweroff", KEY_ACTION, F(on_poweroff)},
    {"on_reboot", KEY_ACTION, F(on_reboot)},
    XEN_ONLY("pae", "PAE is always available to KVM guests"),
    {"pci", KEY_CUSTOM, .fn = cfg_key_pci},
    XEN_ONLY("pci_permissive", "vfio has no permissive mode"),
    XEN_ONLY("pci_power_mgmt", "vfio manages the device's power itself"),
    XEN_ONLY("pool", "Xen CPU pools do not exist on KVM; use cpus="),
    {"ramdisk", KEY_STRING, F(ramdisk)},
    {"root", KEY_CUSTOM, .fn = cfg_key_root_extra},
    {"rtc_timeoffset", KEY_CUSTOM, .fn = cfg_key_rtc_timeoffset},
    GFX("sdl"),
    {"serial", KEY_CUSTOM, .fn = cfg_key_serial},
    XEN_ONLY("shadow_memory", "KVM manages shadow page tables itself"),
    {"shutdown_timeout", KEY_UINT, F(shutdown_timeout), 1, 86400},
    {"soundhw", KEY_CUSTOM, .fn = cfg_key_soundhw},
    {"startup", KEY_CUSTOM, .fn = cfg_key_startup},
    {"startup_ready", KEY_CUSTOM, .fn = cfg_key_startup_ready},
    GFX("stdvga"),
    {"type", KEY_ENUM, F(type), .parse = kxl_domtype_from_string, .note = "hvm, pv or pvh"},
    {"usb", KEY_CUSTOM, .fn = cfg_key_usb},
    {"usbctrl", KEY_CUSTOM, .fn = cfg_key_usb},
    {"usbdev", KEY_CUSTOM, .fn = cfg_key_usb},
    {"usbdevice", KEY_CUSTOM, .fn = cfg_key_usb},
    {"usbversion", KEY_CUSTOM, .fn = cfg_key_usb},
    {"uuid", KEY_CUSTOM, .fn = cfg_key_uuid},
    {"vcpus", KEY_UINT, F(vcpus), 1, 255},
    {"vfb", KEY_CUSTOM, .fn = cfg_key_vfb},
    GFX("vga"),
    GFX("videoram"),
    {"vif", KEY_CUSTOM, .fn = cfg_key_vif},
    {"viridian", KEY_CUSTOM, .fn = cfg_key_viridian},
    GFX("vnc"),
    GFX("vncdisplay"),
    GFX("vnclisten"),
    GFX("vncpasswd"),
    GFX("vncunused"),
    {"vtpm", KEY_CUSTOM, .fn = cfg_key_vtpm},
    XEN_ONLY("xen_platform_pci", "there is no Xen platform device on KVM"),
};

static int key_cmp(const void *name, const void *key)
{
    return strcmp(name, ((const cfg_key *)key)->name);
}

static const cfg_key *key_lookup(const char *name)
{
    /* bsearch needs the table sorted; a new key in the wrong place is a bug */
    static bool checked;
    for (size_t i = 1; !checked && i < KX_ARRAY_SIZE(keys); i++)
        assert(strcmp(keys[i - 1].name, keys[i].name) < 0);
    checked = true;
    return bsearch(name, keys, KX_ARRAY_SIZE(keys), sizeof(keys[0]), key_cmp);
}

static int apply_setting(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    const cfg_key *k = key_lookup(s->key);
    unsigned long long v;
    if (!k) {
        kx_warn("%s:%d: warning: unknown key '%s' ignored", s->source, s->line, s->key);
        return 0;
    }
    switch (k->type) {
    case KEY_STRING:
        return set_string(k, cfg, s, ctx);
    case KEY_ACTION:
        return set_action(k, cfg, s, ctx);
    case KEY_ENUM:
        return set_enum(k, cfg, s);
    case KEY_UINT:
        if (get_bounded(k, s, ctx, &v) < 0)
            return -1;
        *(unsigned *)((char *)cfg + k->offset) = (unsigned)v;
        return 0;
    case KEY_U64:
        if (get_bounded(k, s, ctx, &v) < 0)
            return -1;
        *(uint64_t *)((char *)cfg + k->offset) = v;
        return 0;
    case KEY_CUSTOM:
        return k->fn(cfg, s, ctx);
    case KEY_NO_MEANING:
        kx_warn("%s:%d: warning: '%s' has no meaning on KVM and is ignored: %s", s->source,
                s->line, s->key, k->note);
        return 0;
    }
    return 0;
}

int cfg_key_line_of(const cfg_key_ctx *ctx, const char *key)
{
    const cfg_setting *s = cfg_tree_get(ctx->tree, key);
    return s ? s->line : 0;
}

const char *cfg_key_src_of(const cfg_key_ctx *ctx, const char *key)
{
    const cfg_setting *s = cfg_tree_get(ctx->tree, key);
    return s && s->source ? s->source : cfg_key_src(ctx);
}

kxl_domcfg *cfg_domcfg_from_tree(const cfg_tree *t, unsigned host_cpus)
{
    AUTOPTR(kxl_domcfg) cfg = kxl_domcfg_new();
    cfg_key_ctx ctx = {.tree = t, .host_cpus = host_cpus};
    for (size_t i = 0; i < t->n_settings; i++)
        if (apply_setting(cfg, &t->settings[i], &ctx) < 0)
            return NULL;
    if (cfg_key_finish(cfg, &ctx) < 0)
        return NULL;
    cfg_usb_finish(cfg);
    if (!cfg->serial) {
        cfg->serial = kx_malloc0(2 * sizeof(char *));
        cfg->serial[0] = kx_strdup("pty");
    }
    cfg->source_file = t->file ? kx_strdup(t->file) : NULL;
    return TAKE_PTR(cfg);
}

static int check_readable(const char *path, bool writable, const char *what,
                          const char *source, int line)
{
    if (access(path, writable ? R_OK | W_OK : R_OK) == 0)
        return 0;
    kx_err_errno(KXL_ERR_CONFIG, "%s:%d: %s '%s'", source, line, what, path);
    return -1;
}

int cfg_check_files(const kxl_domcfg *cfg, const cfg_tree *t)
{
    cfg_key_ctx ctx = {.tree = t};
    if (cfg->kernel && check_readable(cfg->kernel, false, "kernel", cfg_key_src_of(&ctx, "kernel"),
                                      cfg_key_line_of(&ctx, "kernel")) < 0)
        return -1;
    if (cfg->ramdisk &&
        check_readable(cfg->ramdisk, false, "ramdisk", cfg_key_src_of(&ctx, "ramdisk"),
                       cfg_key_line_of(&ctx, "ramdisk")) < 0)
        return -1;
    const cfg_setting *disk = cfg_tree_get(t, "disk");
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        int line = disk && i < disk->value.n_items ? disk->value.items[i].line : 0;
        if (d->target &&
            check_readable(d->target, !d->readonly, "disk", cfg_key_src_of(&ctx, "disk"), line) < 0)
            return -1;
    }
    return 0;
}

/* The parsed tree t as a config: mapped, then (CFG_LOAD_CHECK_FILES) its files checked. */
static kxl_domcfg *load_tree(const cfg_tree *t, unsigned host_cpus, int flags)
{
    AUTOPTR(kxl_domcfg) cfg = cfg_domcfg_from_tree(t, host_cpus);
    if (!cfg)
        return NULL;
    if ((flags & CFG_LOAD_CHECK_FILES) && cfg_check_files(cfg, t) < 0)
        return NULL;
    return TAKE_PTR(cfg);
}

kxl_domcfg *cfg_load(const char *path, char *const *overrides, unsigned host_cpus, int flags)
{
    AUTOPTR(cfg_tree) t = cfg_tree_new(path);
    /* the file's name goes into domain.json (JSON) and into every message */
    if (!kx_utf8_valid(path, strlen(path), NULL)) {
        AUTOFREE char *shown = kx_printable(path, false);
        kx_err(KXL_ERR_INVALID, "config file name '%s' is not valid UTF-8: rename the file",
               shown);
        return NULL;
    }
    if (cfg_parse_file(t, path) < 0)
        return NULL;
    for (char *const *o = overrides; o && *o; o++)
        if (cfg_parse_override(t, *o) < 0)
            return NULL;
    return load_tree(t, host_cpus, flags);
}

kxl_domcfg *cfg_load_text(const char *source, const char *text, size_t len, unsigned host_cpus,
                          int flags)
{
    AUTOPTR(cfg_tree) t = cfg_tree_new(source);
    if (cfg_parse_text(t, source, text, len) < 0)
        return NULL;
    return load_tree(t, host_cpus, flags);
}
