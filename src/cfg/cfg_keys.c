/* cfg_keys.c - the meaning of xl.cfg keys: a table maps each key of the generic
 * tree onto a field of kxl_domcfg, with its type, bounds and validator. */
#include "cfg/cfg_keys.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg_channel.h"
#include "cfg/cfg_cpuid.h"
#include "cfg/cfg_gfx.h"
#include "cfg/cfg_hvm.h"
#include "cfg/cfg_pci.h"
#include "cfg/cfg_root.h"
#include "cfg/cfg_serial.h"
#include "cfg/cfg_spec.h"
#include "cfg/cfg_usb.h"
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
    const char *hvm_devices;   /* "virtio", "emulated", or NULL: by viridian */
    bool viridian;             /* the config is a Windows guest's */
} key_ctx;

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
typedef int (*key_fn)(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx);

struct cfg_key {
    const char *name;
    key_type type;
    size_t offset;
    unsigned long long min, max;
    key_fn fn;
    const char *note;
    int (*parse)(const char *name);   /* KEY_ENUM: the value of a name, -1 for none */
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

static int set_enum(const cfg_key *k, kxl_domcfg *cfg, const cfg_setting *s)
{
    const char *text = scalar_text(s, "a string");
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

/* cpuid = "host,aes=0": libxl's form; xend's list of register bit strings cannot be said to
 * QEMU. */
static int key_cpuid(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    if (s->value.kind == CFG_LIST) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: cpuid as a list of register bit strings (xend's form) "
               "cannot be given to QEMU; name the features instead (cpuid = \"host,aes=0\")",
               s->source, s->line);
        return -1;
    }
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->line);
    free(cfg->cpu_features);
    return cfg_cpuid_parse(text, where, &cfg->cpu_features);
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

/* The length of vdev without its partition number: "xvda" of "xvda2". */
static size_t vdev_disk_len(const char *vdev)
{
    size_t n = strlen(vdev);
    while (n > 0 && vdev[n - 1] >= '0' && vdev[n - 1] <= '9')
        n--;
    return n;
}

/* Two disks at one place: the same bus and index, or the same Xen disk whole and as a
 * partition, or the same partition twice. */
static bool disks_clash(const kxl_disk *a, const kxl_disk *b)
{
    if (!a->partition && !b->partition)
        return a->bus == b->bus && a->index == b->index;
    size_t n = vdev_disk_len(a->vdev);
    return n == vdev_disk_len(b->vdev) && strncmp(a->vdev, b->vdev, n) == 0 &&
           (!a->partition || !b->partition || a->partition == b->partition);
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
            if (disks_clash(&cfg->disks[j], &cfg->disks[i])) {
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

/* A cpus-shaped value: "0-3,^1" is one set for every vCPU; ["2", "3-5"] is set i for vCPU i. */
static int cpus_list(const cfg_setting *s, key_ctx *ctx, kxl_cpuset **sets, size_t *n_sets)
{
    const cfg_value *items = &s->value;
    size_t n = 1;
    if (s->value.kind == CFG_LIST) {
        if (check_string_list(s, "\"0-3\"") < 0)
            return -1;
        items = s->value.items;
        n = s->value.n_items;
    }
    free(*sets);
    *sets = kx_malloc0(sizeof(kxl_cpuset) * (n ? n : 1));
    *n_sets = 0;
    for (size_t i = 0; i < n; i++) {
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, items[i].line);
        if (cfg_cpus_parse(items[i].str, where, ctx->host_cpus, &(*sets)[i]) < 0)
            return -1;
        *n_sets = i + 1;
    }
    if (n == 1 && strcmp(items[0].str, "all") == 0)
        *n_sets = 0;
    return 0;
}

static int key_cpus(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    return cpus_list(s, ctx, &cfg->cpus, &cfg->n_cpus);
}

static int key_cpus_soft(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    return cpus_list(s, ctx, &cfg->cpus_soft, &cfg->n_cpus_soft);
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
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, items[i].line);
        cfg_serial port;
        if (cfg_serial_parse(items[i].str, where, &port) < 0)
            return -1;
        if (port.on_display)
            kx_warn("%s: warning: serial '%s' is a console on the graphical display, which "
                    "kxl does not offer: no port (use 'pty' and kxl console)", where,
                    items[i].str);
    }
    for (char **p = cfg->serial; p && *p; p++)
        free(*p);
    free(cfg->serial);
    cfg->serial = kx_malloc0(sizeof(char *) * (n + 1));
    for (size_t i = 0; i < n; i++)
        cfg->serial[i] = kx_strdup(items[i].str);
    return 0;
}

/* vnc, vga, keymap ...: cfg_gfx.c gives them their meaning */
static int key_gfx(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string or a number");
    if (!text)
        return -1;
    AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->line);
    return cfg_gfx_set(&cfg->gfx, s->key, text, where);
}

/* A PV config's display: vfb = [ 'vnc=1,vnclisten=...' ] (one, as xl allows). */
static int key_vfb(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    if (check_string_list(s, "'vnc=1'") < 0)
        return -1;
    if (s->value.n_items > 1) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: 'vfb' may have one entry, not %zu", s->source,
               s->value.items[1].line, s->value.n_items);
        return -1;
    }
    for (size_t i = 0; i < s->value.n_items; i++) {
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->value.items[i].line);
        if (cfg_gfx_vfb(&cfg->gfx, s->value.items[i].str, where) < 0)
            return -1;
    }
    return 0;
}

static int key_hvm_devices(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)cfg;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    if (strcmp(text, "virtio") != 0 && strcmp(text, "emulated") != 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: hvm_devices = '%s': use \"virtio\" or \"emulated\"",
               s->source, s->line, text);
        return -1;
    }
    ctx->hvm_devices = text;
    return 0;
}

/* Hyper-V enlightenments: 1, or a list of groups. Only Windows configs set it, which makes
 * it the sign that the guest may have no virtio drivers. */
static int key_viridian(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)cfg;
    const cfg_value *v = &s->value;
    ctx->viridian = v->kind == CFG_LIST ? v->n_items > 0
                    : v->kind == CFG_NUMBER ? v->num != 0
                                            : v->str[0] && strcmp(v->str, "0") != 0;
    if (ctx->viridian)
        kx_warn("%s:%d: warning: 'viridian': Hyper-V enlightenments are not configurable in "
                "kxl yet (ignored); a Windows guest is assumed, so an HVM domain gets emulated "
                "devices unless hvm_devices = \"virtio\"", s->source, s->line);
    return 0;
}

static int key_startup(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->line);
    cfg_startup st;
    if (cfg_startup_parse(text, where, &st) < 0)
        return -1;
    cfg->startup_order = st.order;
    cfg->startup_up = st.up;
    cfg->startup_down = st.down;
    return 0;
}

static int key_startup_ready(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->line);
    if (cfg_ready_regex_check(text, where) < 0)
        return -1;
    free(cfg->startup_ready);
    cfg->startup_ready = kx_strdup(text);
    return 0;
}

static int key_localtime(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "0 or 1");
    if (!text)
        return -1;
    if (strcmp(text, "0") != 0 && strcmp(text, "1") != 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: 'localtime' must be 0 or 1, not '%s'", s->source,
               s->line, text);
        return -1;
    }
    cfg->localtime = text[0] == '1';
    return 0;
}

/* Seconds, may be negative: the RTC's distance from UTC (or local time), at most a year. */
static int key_rtc_timeoffset(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    const char *text = scalar_text(s, "a number of seconds");
    if (!text)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < -KXL_RTC_OFFSET_MAX || v > KXL_RTC_OFFSET_MAX) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: 'rtc_timeoffset' must be seconds from %d to %d, not "
               "'%s'", s->source, s->line, -KXL_RTC_OFFSET_MAX, KXL_RTC_OFFSET_MAX, text);
        return -1;
    }
    cfg->rtc_timeoffset = v;
    return 0;
}

/* usb, usbversion: a scalar each; usbdevice: one or a list; usbctrl: a list; usbdev: refused */
static int key_usb(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    bool list = s->value.kind == CFG_LIST;
    bool many = strcmp(s->key, "usbdevice") == 0 || strcmp(s->key, "usbctrl") == 0;
    if (strcmp(s->key, "usbdev") == 0) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: usbdev: kxl does not pass host USB devices to guests",
               s->source, s->line);
        return -1;
    }
    if (list && (!many || check_string_list(s, "'tablet'") < 0)) {
        if (!many)
            scalar_text(s, "a number");
        return -1;
    }
    size_t n = list ? s->value.n_items : 1;
    for (size_t i = 0; i < n; i++) {
        const cfg_value *v = list ? &s->value.items[i] : &s->value;
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, v->line);
        int r = strcmp(s->key, "usb") == 0 ? cfg_usb_enable(cfg, v->str, where)
                : strcmp(s->key, "usbversion") == 0 ? cfg_usb_version(cfg, v->str, where)
                : strcmp(s->key, "usbdevice") == 0 ? cfg_usb_device(cfg, v->str, where)
                                                   : cfg_usb_controller(cfg, v->str, where);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* vtpm = [ 'backend=DOM,uuid=UUID' ]: Xen's vTPM domain becomes a swtpm process on this host
 * (backend= has no meaning then); uuid= names the TPM's state, as it named the vTPM. */
static int vtpm_item(kxl_domcfg *cfg, char *item, const char *where)
{
    char *eq = strchr(item, '=');
    if (eq)
        *eq = '\0';
    if (eq && strcmp(item, "backend") == 0)
        return 0;
    if (eq && strcmp(item, "uuid") == 0 && uuid_is_valid(eq + 1)) {
        for (int i = 0; i < 36; i++)
            cfg->vtpm_uuid[i] = (char)tolower((unsigned char)eq[1 + i]);
        cfg->vtpm_uuid[36] = '\0';
        return 0;
    }
    if (eq)
        *eq = '=';
    kx_err(KXL_ERR_CONFIG, "%s: vtpm: '%s' is not backend=DOMAIN or uuid=UUID", where, item);
    return -1;
}

static int key_vtpm(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    if (check_string_list(s, "'backend=vtpm-dom,uuid=...'") < 0)
        return -1;
    if (s->value.n_items > 1) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: vtpm: kxl gives a domain one TPM, and this config asks "
               "for %zu", s->source, s->line, s->value.n_items);
        return -1;
    }
    cfg->vtpm = s->value.n_items == 1;
    cfg->vtpm_uuid[0] = '\0';
    if (!cfg->vtpm)
        return 0;
    AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->value.items[0].line);
    AUTOFREE char *copy = kx_strdup(s->value.items[0].str);
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save))
        if (vtpm_item(cfg, it, where) < 0)
            return -1;
    return 0;
}

static int key_channel(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    if (check_string_list(s, "'name=org.qemu.guest_agent.0,connection=pty'") < 0)
        return -1;
    size_t n = s->value.n_items;
    for (size_t i = 0; i < n; i++) {
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->value.items[i].line);
        cfg_channel c;
        if (cfg_channel_parse(s->value.items[i].str, where, &c) < 0)
            return -1;
        cfg_channel_dispose(&c);
    }
    for (char **c = cfg->channels; c && *c; c++)
        free(*c);
    free(cfg->channels);
    cfg->channels = kx_malloc0(sizeof(char *) * (n + 1));
    for (size_t i = 0; i < n; i++)
        cfg->channels[i] = kx_strdup(s->value.items[i].str);
    return 0;
}

/* device_model_args(_hvm, _pv): checked here, gathered by type at the end (dm_args_finish). */
static int key_dm_args(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)cfg;
    (void)ctx;
    return check_string_list(s, "\"-device\", \"virtio-rng-pci\"");
}

/* soundhw = "hda" | "ac97" | "es1370" | "sb16": a sound card whose output goes nowhere. */
static int key_soundhw(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    static const char *const cards[] = {"hda", "ac97", "es1370", "sb16"};
    const char *text = scalar_text(s, "a string");
    if (!text)
        return -1;
    for (size_t i = 0; i < KX_ARRAY_SIZE(cards); i++) {
        if (strcmp(text, cards[i]) == 0) {
            free(cfg->soundhw);
            cfg->soundhw = kx_strdup(text);
            return 0;
        }
    }
    kx_err(KXL_ERR_CONFIG, "%s:%d: soundhw '%s': use hda, ac97, es1370 or sb16", s->source,
           s->line, text);
    return -1;
}

static int key_pci(kxl_domcfg *cfg, const cfg_setting *s, key_ctx *ctx)
{
    (void)ctx;
    if (check_string_list(s, "'0000:01:00.0'") < 0)
        return -1;
    free(cfg->pci);
    cfg->n_pci = 0;
    cfg->pci = kx_malloc0(sizeof(*cfg->pci) * (s->value.n_items + 1));
    for (size_t i = 0; i < s->value.n_items; i++) {
        AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->value.items[i].line);
        if (cfg_pci_parse(s->value.items[i].str, where, &cfg->pci[i]) < 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->pci[j].bdf, cfg->pci[i].bdf) == 0) {
                kx_err(KXL_ERR_CONFIG, "%s: pci '%s' is given twice", where, cfg->pci[i].bdf);
                return -1;
            }
        }
        cfg->n_pci = i + 1;
    }
    return 0;
}

#define F(field) offsetof(kxl_domcfg, field)
#define GFX(k) {k, KEY_CUSTOM, .fn = key_gfx}
#define XEN_ONLY(k, why) {k, KEY_NO_MEANING, .note = why}

/* Sorted by name (bsearch). */
static const cfg_key keys[] = {
    {"accel", KEY_ENUM, F(accel), .parse = kxl_accel_from_string, .note = "auto, kvm or tcg"},
    XEN_ONLY("acpi", "ACPI is always on for KVM guests"),
    XEN_ONLY("apic", "the APIC is always on for KVM guests"),
    {"bios", KEY_CUSTOM, .fn = key_firmware},
    {"boot", KEY_CUSTOM, .fn = key_boot},
    {"bootloader", KEY_CUSTOM, .fn = key_bootloader},
    XEN_ONLY("bootloader_args", "the built-in pygrub takes no arguments"),
    {"builder", KEY_CUSTOM, .fn = key_builder},
    {"cap", KEY_UINT, F(cap), 0, 100 * 255},
    {"channel", KEY_CUSTOM, .fn = key_channel},
    {"cmdline", KEY_CUSTOM, .fn = key_cmdline},
    {"cpu", KEY_CUSTOM, .fn = key_cpu},
    {"cpu_weight", KEY_UINT, F(cpu_weight), KXL_CPU_WEIGHT_MIN, KXL_CPU_WEIGHT_MAX},
    {"cpuid", KEY_CUSTOM, .fn = key_cpuid},
    {"cpus", KEY_CUSTOM, .fn = key_cpus},
    {"cpus_soft", KEY_CUSTOM, .fn = key_cpus_soft},
    {"device_model_args", KEY_CUSTOM, .fn = key_dm_args},
    {"device_model_args_hvm", KEY_CUSTOM, .fn = key_dm_args},
    {"device_model_args_pv", KEY_CUSTOM, .fn = key_dm_args},
    XEN_ONLY("device_model_override", "kxl always runs the host's QEMU"),
    XEN_ONLY("device_model_version", "kxl always runs the host's QEMU"),
    XEN_ONLY("dhcp", "the guest configures its own network"),
    {"disk", KEY_CUSTOM, .fn = key_disk},
    {"extra", KEY_CUSTOM, .fn = key_root_extra},
    {"firmware", KEY_CUSTOM, .fn = key_firmware},
    XEN_ONLY("hap", "KVM always uses hardware-assisted paging when it can"),
    {"hvm_devices", KEY_CUSTOM, .fn = key_hvm_devices},
    {"kernel", KEY_STRING, F(kernel)},
    GFX("keymap"),
    {"localtime", KEY_CUSTOM, .fn = key_localtime},
    {"maxmem", KEY_U64, F(maxmem_mib), KXL_MEMORY_MIN_MIB, 16ULL << 20},
    {"maxvcpus", KEY_UINT, F(maxvcpus), 1, 255},
    {"memory", KEY_U64, F(memory_mib), KXL_MEMORY_MIN_MIB, 16ULL << 20},
    {"name", KEY_CUSTOM, .fn = key_name},
    XEN_ONLY("nestedhvm", "nested virtualization is a host setting on KVM"),
    GFX("nographic"),
    {"on_crash", KEY_ACTION, F(on_crash)},
    {"on_host_shutdown", KEY_ENUM, F(on_host_shutdown), .parse = kxl_host_shutdown_from_string,
     .note = "shutdown or save"},
    {"on_poweroff", KEY_ACTION, F(on_poweroff)},
    {"on_reboot", KEY_ACTION, F(on_reboot)},
    XEN_ONLY("pae", "PAE is always available to KVM guests"),
    {"pci", KEY_CUSTOM, .fn = key_pci},
    XEN_ONLY("pci_permissive", "vfio has no permissive mode"),
    XEN_ONLY("pci_power_mgmt", "vfio manages the device's power itself"),
    XEN_ONLY("pool", "Xen CPU pools do not exist on KVM; use cpus="),
    {"ramdisk", KEY_STRING, F(ramdisk)},
    {"root", KEY_CUSTOM, .fn = key_root_extra},
    {"rtc_timeoffset", KEY_CUSTOM, .fn = key_rtc_timeoffset},
    GFX("sdl"),
    {"serial", KEY_CUSTOM, .fn = key_serial},
    XEN_ONLY("shadow_memory", "KVM manages shadow page tables itself"),
    {"shutdown_timeout", KEY_UINT, F(shutdown_timeout), 1, 86400},
    {"soundhw", KEY_CUSTOM, .fn = key_soundhw},
    {"startup", KEY_CUSTOM, .fn = key_startup},
    {"startup_ready", KEY_CUSTOM, .fn = key_startup_ready},
    GFX("stdvga"),
    {"type", KEY_ENUM, F(type), .parse = kxl_domtype_from_string, .note = "hvm, pv or pvh"},
    {"usb", KEY_CUSTOM, .fn = key_usb},
    {"usbctrl", KEY_CUSTOM, .fn = key_usb},
    {"usbdev", KEY_CUSTOM, .fn = key_usb},
    {"usbdevice", KEY_CUSTOM, .fn = key_usb},
    {"usbversion", KEY_CUSTOM, .fn = key_usb},
    {"uuid", KEY_CUSTOM, .fn = key_uuid},
    {"vcpus", KEY_UINT, F(vcpus), 1, 255},
    {"vfb", KEY_CUSTOM, .fn = key_vfb},
    GFX("vga"),
    GFX("videoram"),
    {"vif", KEY_CUSTOM, .fn = key_vif},
    {"viridian", KEY_CUSTOM, .fn = key_viridian},
    GFX("vnc"),
    GFX("vncdisplay"),
    GFX("vnclisten"),
    GFX("vncpasswd"),
    GFX("vncunused"),
    {"vtpm", KEY_CUSTOM, .fn = key_vtpm},
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
}

/* Partition-style disks (xen-tools' xvda2): said once, since the guest sees them otherwise. */
static void note_partitions(const kxl_domcfg *cfg, const key_ctx *ctx)
{
    kx_buf names = KX_BUF_INIT;
    for (size_t i = 0; i < cfg->n_disks; i++)
        if (cfg->disks[i].partition)
            kx_buf_printf(&names, "%s'%s'", names.len ? ", " : "", cfg->disks[i].vdev);
    if (names.len)
        kx_notice("%s:%d: note: %s: a partition of a Xen disk is a disk of its own on KVM; "
                  "kxl gives each its Xen name as its serial and teaches the guest's udev the "
                  "names (kxl.cfg(5), \"Partition-style disks\")", src_of(ctx, "disk"),
                  line_of(ctx, "disk"), kx_buf_str(&names));
    kx_buf_dispose(&names);
}

/* root= naming a disk by its Xen name: the name the guest sees instead, and a note. After
 * the devices are settled (hvm_devices may move disks off virtio). */
static void root_for_kvm(kxl_domcfg *cfg, const key_ctx *ctx)
{
    const char *key = ctx->have_cmdline ? "cmdline" : ctx->root ? "root" : "extra";
    AUTOFREE char *old_name = NULL;
    AUTOFREE char *new_name = NULL;
    int disk = cfg_root_for_kvm(cfg, &old_name, &new_name);
    if (disk >= 0)
        kx_notice("%s:%d: note: the guest sees disk '%s' as /dev/%.*s on KVM: the kernel gets "
                  "root=/dev/%s for root=/dev/%s", src_of(ctx, key), line_of(ctx, key),
                  cfg->disks[disk].vdev, (int)strcspn(new_name, "0123456789"), new_name,
                  new_name, old_name);
}

/* "FILE:LINE" of the first of keys that is set, else of the config. */
static char *where_of(const key_ctx *ctx, const char *const *names)
{
    for (; *names; names++)
        if (cfg_tree_get(ctx->tree, *names))
            return kx_asprintf("%s:%d", src_of(ctx, *names), line_of(ctx, *names));
    return kx_strdup(src(ctx));
}

static int finish_gfx(kxl_domcfg *cfg, const key_ctx *ctx)
{
    static const char *const listen_keys[] = {"vnclisten", "vfb", "vnc", NULL};
    static const char *const card_keys[] = {"videoram", "vga", "stdvga", "nographic", NULL};
    AUTOFREE char *where_listen = where_of(ctx, listen_keys);
    AUTOFREE char *where_card = where_of(ctx, card_keys);
    return cfg_gfx_finish(&cfg->gfx, where_listen, where_card);
}

/* An HVM guest's devices: virtio, or what Xen emulates (hvm_devices, or viridian's hint). */
static int finish_hvm_devices(kxl_domcfg *cfg, const key_ctx *ctx)
{
    if (cfg->type != KXL_TYPE_HVM) {
        if (ctx->hvm_devices)
            kx_warn("%s:%d: warning: hvm_devices is for type = \"hvm\": ignored",
                    src_of(ctx, "hvm_devices"), line_of(ctx, "hvm_devices"));
        return 0;
    }
    cfg_hvm_ioemu_vifs(cfg);
    bool emulated = ctx->hvm_devices ? strcmp(ctx->hvm_devices, "emulated") == 0
                                     : ctx->viridian;
    if (!emulated)
        return 0;
    const char *key = ctx->hvm_devices ? "hvm_devices" : "viridian";
    AUTOFREE char *where = kx_asprintf("%s:%d", src_of(ctx, key), line_of(ctx, key));
    return cfg_hvm_emulate(cfg, where);
}

/* Xen's PV-GRUB (pv-grub-x86_64.gz, grub-x86_64-xen.bin): a GRUB built as a PV kernel, which
 * boots the menu on the guest's disk. On KVM the built-in pygrub does that job; PV-GRUB's
 * extra (the menu's path, "(hd0,0)/boot/grub/menu.lst") is GRUB's, not a kernel's. */
static void pv_grub_to_pygrub(kxl_domcfg *cfg, const key_ctx *ctx)
{
    const char *base = cfg->kernel ? strrchr(cfg->kernel, '/') : NULL;
    base = base ? base + 1 : cfg->kernel;
    if (cfg->type == KXL_TYPE_HVM || cfg->bootloader || !base ||
        !(kx_startswith(base, "pv-grub") || (kx_startswith(base, "grub-") && strstr(base, "xen"))))
        return;
    kx_warn("%s:%d: warning: kernel '%s' is Xen's PV-GRUB: kxl boots the guest's own GRUB menu "
            "with its built-in pygrub instead%s", src_of(ctx, "kernel"), line_of(ctx, "kernel"),
            cfg->kernel, cfg->cmdline ? " (extra, PV-GRUB's own, is dropped)" : "");
    free(cfg->kernel);
    free(cfg->cmdline);
    cfg->kernel = cfg->cmdline = NULL;
    cfg->bootloader = kx_strdup("pygrub");
}

/* xl's three lists: the common one, then the one for the domain's kind (HVM, or PV/PVH);
 * the other kind's is ignored with a warning. */
static void dm_args_finish(kxl_domcfg *cfg, const key_ctx *ctx)
{
    bool hvm = cfg->type == KXL_TYPE_HVM;
    const char *lists[] = {"device_model_args", hvm ? "device_model_args_hvm"
                                                    : "device_model_args_pv"};
    const char *other = hvm ? "device_model_args_pv" : "device_model_args_hvm";
    if (cfg_tree_get(ctx->tree, other))
        kx_warn("%s:%d: warning: %s is not for a %s domain: ignored", src_of(ctx, other),
                line_of(ctx, other), other, kxl_domtype_to_string(cfg->type));
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
    cfg->balloon = cfg->maxmem_mib > cfg->memory_mib;
    if (!cfg->maxvcpus)
        cfg->maxvcpus = cfg->vcpus;
    if (cfg->maxvcpus < cfg->vcpus) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: maxvcpus (%u) is less than vcpus (%u)", src_of(ctx, "maxvcpus"),
               line_of(ctx, "maxvcpus"), cfg->maxvcpus, cfg->vcpus);
        return -1;
    }
    /* a cap counts in one CPU's percent: more than every vCPU busy cannot mean anything */
    if (cfg->cap > 100 * cfg->maxvcpus) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: cap (%u) is more than 100 times maxvcpus (%u)",
               src_of(ctx, "cap"), line_of(ctx, "cap"), cfg->cap, cfg->maxvcpus);
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
    /* known here when accel says tcg; under auto, only at the start (qemu_argv.c) */
    if (kx_streq(cfg->cpu, "host") && cfg->accel == KXL_ACCEL_TCG) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: cpu = \"host\" needs KVM, and this domain runs under "
               "TCG: name a CPU model (e.g. cpu = \"qemu64\"), or use accel = \"kvm\" on a "
               "KVM host", src_of(ctx, "cpu"), line_of(ctx, "cpu"));
        return -1;
    }
    pv_grub_to_pygrub(cfg, ctx);
    if (cfg->type != KXL_TYPE_HVM && !cfg->kernel && !cfg->bootloader) {
        kx_err(KXL_ERR_CONFIG, "%s: a %s domain needs kernel = \"...\" or bootloader = "
               "\"pygrub\" (or type = \"hvm\" to boot from its disk)", src(ctx),
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
               "is none", src(ctx), line_of(ctx, "bootloader"));
        return -1;
    }
    if (finish_gfx(cfg, ctx) < 0 || finish_hvm_devices(cfg, ctx) < 0)
        return -1;
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
    note_partitions(cfg, &ctx);
    root_for_kvm(cfg, &ctx);
    dm_args_finish(cfg, &ctx);
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
