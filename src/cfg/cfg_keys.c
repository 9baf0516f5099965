/* cfg_keys.c - the meaning of xl.cfg keys: a table maps each key of the generic
 * tree onto a field of kxl_domcfg, with its type, bounds and validator. */
#include "cfg/cfg_keys.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg_spec.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/text.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)
DEFINE_AUTOPTR(cfg_tree, cfg_tree_free)

/* State of one mapping run: what later keys and the final checks need. */
typedef struct {
    const cfg_tree *tree;
    unsigned host_cpus;
    const char *root;     /* root= and extra= are combined at the end, as xl does */
    const char *extra;
    bool have_cmdline;
} key_ctx;

typedef enum {
    KEY_STRING,   /* char * field */
    KEY_UINT,     /* unsigned field, within min..max */
    KEY_U64,      /* uint64_t field, within min..max */
    KEY_ACTION,   /* kxl_action field */
    KEY_CUSTOM,   /* handled by fn */
    KEY_NO_MEANING, /* known, but cannot mean the same on KVM: warn with note */
} key_type;

typedef struct cfg_key cfg_key;
typedef int (*key_fn)(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx);

struct cfg_key {
    const char *name;
    key_type type;
    size_t offset;
    unsigned long long min, max;
    key_fn fn;
    const char *note;
};

static const char *src(const key_ctx *ctx)
{
    return ctx->tree->file ? ctx->tree->file : "<config>";
}

static const char *kind_name(cfg_kind k)
{
    return k == CFG_STRING ? "a string" : k == CFG_NUMBER ? "a number" : "a list";
}

/* The text of a scalar (strings and numbers alike, as xl treats them), or NULL. */
static const char *scalar_text(const cfg_setting *s, const char *want)
{
    if (s->value.kind == CFG_LIST) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be %s, not a list", s->source, s->line, s->key,
               want);
        return NULL;
    }
    return s->value.str;
}

/* Numbers may be written bare or quoted ("512"): xl reads both. */
static int get_number(const cfg_setting *s, const key_ctx *ctx, unsigned long long *v_r)
{
    (void)ctx;
    const char *text = scalar_text(s, "a number");
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

static int get_bounded(const cfg_key *k, const cfg_setting *s, const key_ctx *ctx,
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

static int set_string(const cfg_key *k, kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    char **field = (char **)((char *)cfg + k->offset);
    free(*field);
    *field = kx_strdup(text);
    return 0;
}

static int set_action(const cfg_key *k, kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
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

static int key_name(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    if (!kxl_name_is_valid(text)) {
        kx_err(KXL_ERR_CONFIG,
               "%s:%d: invalid domain name '%s' (use " KXL_NAME_RULE ")", s->source, s->line,
               text);
        return -1;
    }
    free(cfg->name);
    cfg->name = kx_strdup(text);
    return 0;
}

static bool uuid_is_valid(const char *u)
{
    if (strlen(u) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !strchr("0123456789abcdefABCDEF", u[i]))
            return false;
    }
    return true;
}

static int key_uuid(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    if (!uuid_is_valid(text)) {
        kx_err(KXL_ERR_CONFIG,
               "%s:%d: invalid uuid '%s' (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
               s->source, s->line, text);
        return -1;
    }
    for (int i = 0; i < 36; i++)
        cfg->uuid[i] = (char)(text[i] >= 'A' && text[i] <= 'F' ? text[i] + 32 : text[i]);
    cfg->uuid[36] = '\0';
    return 0;
}

static int key_domtype(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    int t = kxl_domtype_from_string(text);
    if (t < 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: unknown type '%s' (use hvm, pv or pvh)", s->source,
               s->line, text);
        return -1;
    }
    cfg->type = (kxl_domtype)t;
    return 0;
}

/* builder = "hvm" | "generic" is the older spelling of type. */
static int key_builder(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    if (strcmp(text, "hvm") != 0 && strcmp(text, "generic") != 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: unknown builder '%s' (use hvm or generic)", s->source,
               s->line, text);
        return -1;
    }
    /* an explicit type wins over builder, whatever their order */
    if (!cfg_tree_get(ctx->tree, "type"))
        cfg->type = strcmp(text, "hvm") == 0 ? KXL_TYPE_HVM : KXL_TYPE_PV;
    return 0;
}

/* pygrub (any path ending in it, as xen-tools writes it) is built in. */
static int key_bootloader(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    const char *base = strrchr(text, '/') ? strrchr(text, '/') + 1 : text;
    if (strcmp(base, "pygrub") != 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: bootloader '%s' is not supported: kxl has pygrub built in "
               "(bootloader = \"pygrub\")", s->source, s->line, text);
        return -1;
    }
    free(cfg->bootloader);
    cfg->bootloader = kx_strdup("pygrub");
    return 0;
}

static int key_boot(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    if (!*text || strspn(text, "acdn") != strlen(text)) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: boot '%s' must be made of c (disk), d (CD-ROM) and n "
               "(network)", s->source, s->line, text);
        return -1;
    }
    free(cfg->boot);
    cfg->boot = kx_strdup(text);
    return 0;
}

static int key_firmware(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    /* firmware = (xl's newer key) and bios = (the older one) name the same choice */
    bool seabios = !strcmp(text, "bios") || !strcmp(text, "seabios") || !strcmp(text, "rombios");
    bool uefi = !strcmp(text, "ovmf") || !strcmp(text, "uefi");
    if (!seabios && !uefi) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: %s '%s' is not supported (use seabios or ovmf)",
               s->source, s->line, s->key, text);
        return -1;
    }
    free(cfg->firmware);
    cfg->firmware = kx_strdup(uefi ? "ovmf" : "bios");
    return 0;
}

/* cpu = "host" | "MODEL": the name goes into -cpu, so it is one word of QEMU's model names
 * (no comma that would add options). Whether the model exists is QEMU's to say at start. */
static int key_cpu(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    size_t n = strlen(text);
    if (n == 0 || n > 64 || strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789._-") != n || text[0] == '-') {
        kx_err(KXL_ERR_CONFIG, "%s:%d: cpu '%s' is not a CPU model name (use \"host\" or a "
               "model of 'qemu-system-x86_64 -cpu help', e.g. \"qemu64\")", s->source, s->line,
               text);
        return -1;
    }
    free(cfg->cpu);
    cfg->cpu = kx_strdup(text);
    return 0;
}

static int key_accel(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    int a = kxl_accel_from_string(text);
    if (a < 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: unknown accel '%s' (use auto, kvm or tcg)", s->source,
               s->line, text);
        return -1;
    }
    cfg->accel = (kxl_accel)a;
    return 0;
}

static int key_root_extra(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)cfg;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    if (strcmp(s->key, "root") == 0)
        ctx->root = text;
    else
        ctx->extra = text;
    return 0;
}

static int key_cmdline(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    free(cfg->cmdline);
    cfg->cmdline = kx_strdup(text);
    ctx->have_cmdline = true;
    return 0;
}

/* A list of strings; "where" for item i is FILE:LINE of that item. */
static int check_string_list(const cfg_setting *s, const char *example)
{
    if (s->value.kind != CFG_LIST) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be a list of strings, e.g. %s = [ %s ]",
               s->source, s->line, s->key, s->key, example);
        return -1;
    }
    for (size_t i = 0; i < s->value.n_items; i++) {
        const cfg_value *v = &s->value.items[i];
        if (v->kind != CFG_STRING) {
            kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' entry %zu must be a string, not %s", s->source,
                   v->line, s->key, i + 1, kind_name(v->kind));
            return -1;
        }
    }
    return 0;
}

static int key_disk(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    if (check_string_list(s, "'file:/srv/guest.img,xvda,w'") < 0)
        return -1;
    cfg->disks = kx_malloc0(sizeof(kxl_disk) * (s->value.n_items + 1));
    for (size_t i = 0; i < s->value.n_items; i++) {
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->value.items[i].line);
        cfg->n_disks = i + 1;
        if (cfg_disk_parse(s->value.items[i].str, where, &cfg->disks[i]) < 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (cfg->disks[j].bus == cfg->disks[i].bus &&
                cfg->disks[j].index == cfg->disks[i].index) {
                kx_err(KXL_ERR_CONFIG, "%s: disk '%s' uses the same device as '%s'", where,
                       cfg->disks[i].vdev, cfg->disks[j].vdev);
                return -1;
            }
        }
    }
    return 0;
}

static int key_vif(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    if (check_string_list(s, "'bridge=xenbr0'") < 0)
        return -1;
    cfg->vifs = kx_malloc0(sizeof(kxl_vif) * (s->value.n_items + 1));
    for (size_t i = 0; i < s->value.n_items; i++) {
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->value.items[i].line);
        cfg->n_vifs = i + 1;
        if (cfg_vif_parse(s->value.items[i].str, where, &cfg->vifs[i]) < 0)
            return -1;
    }
    return 0;
}

/* cpus = "0-3,^1" pins every vCPU to one set; cpus = ["2", "3-5"] pins vCPU i to entry i. */
static int key_cpus(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    const cfg_value *items = &s->value;
    size_t n = 1;
    if (s->value.kind == CFG_LIST) {
        if (check_string_list(s, "\"0-3\"") < 0)
            return -1;
        items = s->value.items;
        n = s->value.n_items;
    }
    free(cfg->cpus);
    cfg->cpus = kx_malloc0(sizeof(kxl_cpuset) * (n ? n : 1));
    cfg->n_cpus = 0;
    for (size_t i = 0; i < n; i++) {
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, items[i].line);
        if (cfg_cpus_parse(items[i].str, where, ctx->host_cpus, &cfg->cpus[i]) < 0)
            return -1;
        cfg->n_cpus = i + 1;
    }
    if (n == 1 && strcmp(items[0].str, "all") == 0)
        cfg->n_cpus = 0;
    return 0;
}

static int key_serial(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const cfg_value *items = &s->value;
    size_t n = 1;
    if (s->value.kind == CFG_LIST) {
        if (check_string_list(s, "'pty'") < 0)
            return -1;
        items = s->value.items;
        n = s->value.n_items;
    } else if (!scalar_text(s, "a string")) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = items[i].str;
        if (strcmp(v, "pty") != 0 && strcmp(v, "none") != 0 && !kx_startswith(v, "file:")) {
            kx_err(KXL_ERR_CONFIG, "%s:%d: serial '%s' is not supported (use pty, none or "
                   "file:PATH)", s->source, items[i].line, v);
            return -1;
        }
    }
    for (char **p = cfg->serial; p && *p; p++)
        free(*p);
    free(cfg->serial);
    cfg->serial = kx_malloc0(sizeof(char *) * (n + 1));
    for (size_t i = 0; i < n; i++)
        cfg->serial[i] = kx_strdup(items[i].str);
    return 0;
}

#define F(field) offsetof(kxl_domcfg, field)
#define XEN_ONLY(k, why) {k, KEY_NO_MEANING, .note = why}

/* Sorted by name (bsearch). */
static const cfg_key keys[] = {
    {"accel", KEY_CUSTOM, .fn = key_accel},
    XEN_ONLY("acpi", "ACPI is always on for KVM guests"),
    XEN_ONLY("apic", "the APIC is always on for KVM guests"),
    {"bios", KEY_CUSTOM, .fn = key_firmware},
    {"boot", KEY_CUSTOM, .fn = key_boot},
    {"bootloader", KEY_CUSTOM, .fn = key_bootloader},
    XEN_ONLY("bootloader_args", "the built-in pygrub takes no arguments"),
    {"builder", KEY_CUSTOM, .fn = key_builder},
    XEN_ONLY("cap", "Xen credit scheduler caps do not exist on KVM"),
    {"cmdline", KEY_CUSTOM, .fn = key_cmdline},
    {"cpu", KEY_CUSTOM, .fn = key_cpu},
    XEN_ONLY("cpu_weight", "Xen credit scheduler weights do not exist on KVM"),
    {"cpus", KEY_CUSTOM, .fn = key_cpus},
    XEN_ONLY("device_model_override", "kxl always runs the host's QEMU"),
    XEN_ONLY("device_model_version", "kxl always runs the host's QEMU"),
    XEN_ONLY("dhcp", "the guest configures its own network"),
    {"disk", KEY_CUSTOM, .fn = key_disk},
    {"extra", KEY_CUSTOM, .fn = key_root_extra},
    {"firmware", KEY_CUSTOM, .fn = key_firmware},
    XEN_ONLY("hap", "KVM always uses hardware-assisted paging when it can"),
    {"kernel", KEY_STRING, F(kernel)},
    {"maxmem", KEY_U64, F(maxmem_mib), 16, 16ULL << 20},
    {"maxvcpus", KEY_UINT, F(maxvcpus), 1, 255},
    {"memory", KEY_U64, F(memory_mib), 16, 16ULL << 20},
    {"name", KEY_CUSTOM, .fn = key_name},
    XEN_ONLY("nestedhvm", "nested virtualization is a host setting on KVM"),
    {"on_crash", KEY_ACTION, F(on_crash)},
    {"on_poweroff", KEY_ACTION, F(on_poweroff)},
    {"on_reboot", KEY_ACTION, F(on_reboot)},
    XEN_ONLY("pae", "PAE is always available to KVM guests"),
    XEN_ONLY("pool", "Xen CPU pools do not exist on KVM; use cpus="),
    {"ramdisk", KEY_STRING, F(ramdisk)},
    {"root", KEY_CUSTOM, .fn = key_root_extra},
    XEN_ONLY("sdl", "kxl guests have no graphical display yet"),
    {"serial", KEY_CUSTOM, .fn = key_serial},
    XEN_ONLY("shadow_memory", "KVM manages shadow page tables itself"),
    {"shutdown_timeout", KEY_UINT, F(shutdown_timeout), 1, 86400},
    {"type", KEY_CUSTOM, .fn = key_domtype},
    {"uuid", KEY_CUSTOM, .fn = key_uuid},
    {"vcpus", KEY_UINT, F(vcpus), 1, 255},
    {"vif", KEY_CUSTOM, .fn = key_vif},
    XEN_ONLY("viridian", "Hyper-V enlightenments are not configurable in kxl yet"),
    XEN_ONLY("vnc", "kxl guests have no graphical display yet"),
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

static int apply_setting(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
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

static int line_of(const key_ctx *ctx, const char *key)
{
    const cfg_setting *s = cfg_tree_get(ctx->tree, key);
    return s ? s->line : 0;
}

/* The file (or "<command line>") that set key last. */
static const char *src_of(const key_ctx *ctx, const char *key)
{
    const cfg_setting *s = cfg_tree_get(ctx->tree, key);
    return s && s->source ? s->source : src(ctx);
}

/* xl's precedence: cmdline wins over root and extra; otherwise "root=ROOT EXTRA". */
static void resolve_cmdline(kxl_domcfg *cfg, const key_ctx *ctx)
{
    if (ctx->have_cmdline) {
        if (ctx->root || ctx->extra)
            kx_warn("%s:%d: warning: 'cmdline' is set, so 'root' and 'extra' are ignored",
                    src_of(ctx, "cmdline"), line_of(ctx, "cmdline"));
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
    const char *xvd = cfg->cmdline ? strstr(cfg->cmdline, "root=/dev/xvd") : NULL;
    const char *key = ctx->root ? "root" : "extra";
    if (xvd && xvd[13] >= 'a' && xvd[13] <= 'z')
        kx_warn("%s:%d: warning: the guest sees xvdX disks as /dev/vdX on KVM: "
                "'root=/dev/xvd%c' should probably be 'root=/dev/vd%c'", src_of(ctx, key), line_of(ctx, key),
                xvd[13], xvd[13]);
}

static int check_consistency(kxl_domcfg *cfg, const key_ctx *ctx)
{
    if (!cfg->name) {
        kx_err(KXL_ERR_CONFIG, "%s: no domain name: add name = \"...\"", src(ctx));
        return -1;
    }
    if (!cfg->maxmem_mib)
        cfg->maxmem_mib = cfg->memory_mib;
    if (cfg->maxmem_mib < cfg->memory_mib) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: maxmem (%llu) is less than memory (%llu)", src_of(ctx, "maxmem"),
               line_of(ctx, "maxmem"), (unsigned long long)cfg->maxmem_mib,
               (unsigned long long)cfg->memory_mib);
        return -1;
    }
    if (!cfg->maxvcpus)
        cfg->maxvcpus = cfg->vcpus;
    if (cfg->maxvcpus < cfg->vcpus) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: maxvcpus (%u) is less than vcpus (%u)", src_of(ctx, "maxvcpus"),
               line_of(ctx, "maxvcpus"), cfg->maxvcpus, cfg->vcpus);
        return -1;
    }
    /* old HVM configs name Xen's firmware loader; xl ignores it with a warning too */
    const char *base = cfg->kernel ? strrchr(cfg->kernel, '/') : NULL;
    if (cfg->type == KXL_TYPE_HVM && cfg->kernel &&
        strcmp(base ? base + 1 : cfg->kernel, "hvmloader") == 0) {
        kx_warn("%s:%d: warning: kernel '%s' is Xen's HVM loader: kxl boots an HVM guest "
                "with its own firmware and ignores it", src_of(ctx, "kernel"),
                line_of(ctx, "kernel"), cfg->kernel);
        free(cfg->kernel);
        cfg->kernel = NULL;
    }
    if (kx_streq(cfg->firmware, "ovmf") && (cfg->type != KXL_TYPE_HVM || cfg->kernel)) {
        const char *key = cfg_tree_get(ctx->tree, "bios") ? "bios" : "firmware";
        kx_err(KXL_ERR_CONFIG, "%s:%d: %s = \"ovmf\" is for an hvm domain that boots from "
               "its disks (type = \"hvm\", no kernel)", src_of(ctx, key), line_of(ctx, key),
               key);
        return -1;
    }
    if (cfg->type != KXL_TYPE_HVM && !cfg->kernel && !cfg->bootloader) {
        kx_err(KXL_ERR_CONFIG, "%s: a %s domain needs kernel = \"...\" or bootloader = "
               "\"pygrub\" (or type = \"hvm\" to boot from its disk)", src(ctx),
               kxl_domtype_to_string(cfg->type));
        return -1;
    }
    if (cfg->bootloader && cfg->kernel) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: 'bootloader' and 'kernel' exclude each other", src(ctx),
               line_of(ctx, "bootloader"));
        return -1;
    }
    if (cfg->bootloader && !cfg->n_disks) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: bootloader = \"pygrub\" reads the first disk, and there "
               "is none", src(ctx), line_of(ctx, "bootloader"));
        return -1;
    }
    if (cfg->ramdisk && !cfg->kernel) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: 'ramdisk' needs 'kernel'", src_of(ctx, "ramdisk"),
               line_of(ctx, "ramdisk"));
        return -1;
    }
    return 0;
}

kxl_domcfg *cfg_domcfg_from_tree(const cfg_tree *t, unsigned host_cpus)
{
    AUTOPTR(kxl_domcfg) cfg = kxl_domcfg_new();
    key_ctx ctx = {.tree = t, .host_cpus = host_cpus};
    for (size_t i = 0; i < t->n_settings; i++)
        if (apply_setting(cfg, &t->settings[i], &ctx) < 0)
            return NULL;
    resolve_cmdline(cfg, &ctx);
    if (check_consistency(cfg, &ctx) < 0)
        return NULL;
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
    key_ctx ctx = {.tree = t};
    if (cfg->kernel && check_readable(cfg->kernel, false, "kernel", src_of(&ctx, "kernel"),
                                      line_of(&ctx, "kernel")) < 0)
        return -1;
    if (cfg->ramdisk && check_readable(cfg->ramdisk, false, "ramdisk", src_of(&ctx, "ramdisk"),
                                       line_of(&ctx, "ramdisk")) < 0)
        return -1;
    const cfg_setting *disk = cfg_tree_get(t, "disk");
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        int line = disk && i < disk->value.n_items ? disk->value.items[i].line : 0;
        if (d->target &&
            check_readable(d->target, !d->readonly, "disk", src_of(&ctx, "disk"), line) < 0)
            return -1;
    }
    return 0;
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
    AUTOPTR(kxl_domcfg) cfg = cfg_domcfg_from_tree(t, host_cpus);
    if (!cfg)
        return NULL;
    if ((flags & CFG_LOAD_CHECK_FILES) && cfg_check_files(cfg, t) < 0)
        return NULL;
    return TAKE_PTR(cfg);
}
