/* cfg_key_fns.c - the xl.cfg keys whose meaning takes a function (KEY_CUSTOM in the key
 * table of cfg_keys.c): each checks its value and sets its part of kxl_domcfg, with FILE:LINE
 * in every error. Pure: no I/O. */
#include "cfg/cfg_key_ctx.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_channel.h"
#include "cfg/cfg_cpuid.h"
#include "cfg/cfg_gfx.h"
#include "cfg/cfg_pci.h"
#include "cfg/cfg_serial.h"
#include "cfg/cfg_spec.h"
#include "cfg/cfg_usb.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

static const char *kind_name(cfg_kind k)
{
    return k == CFG_STRING ? "a string" : k == CFG_NUMBER ? "a number" : "a list";
}

int cfg_key_name(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
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

int cfg_key_uuid(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
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
int cfg_key_builder(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    const char *text = cfg_key_scalar_text(s, "a string");
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
int cfg_key_bootloader(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
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

int cfg_key_boot(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
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

int cfg_key_firmware(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
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
int cfg_key_cpu(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
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
int cfg_key_cpuid(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    if (s->value.kind == CFG_LIST) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: cpuid as a list of register bit strings (xend's form) "
               "cannot be given to QEMU; name the features instead (cpuid = \"host,aes=0\")",
               s->source, s->line);
        return -1;
    }
    const char *text = cfg_key_scalar_text(s, "a string");
    if (!text)
        return -1;
    AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->line);
    free(cfg->cpu_features);
    return cfg_cpuid_parse(text, where, &cfg->cpu_features);
}

int cfg_key_root_extra(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)cfg;
    const char *text = cfg_key_scalar_text(s, "a string");
    if (!text)
        return -1;
    if (strcmp(s->key, "root") == 0)
        ctx->root = text;
    else
        ctx->extra = text;
    return 0;
}

int cfg_key_cmdline(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    const char *text = cfg_key_scalar_text(s, "a string");
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

int cfg_key_disk(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
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

int cfg_key_vif(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
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
static int cpus_list(const cfg_setting *s, cfg_key_ctx *ctx, kxl_cpuset **sets, size_t *n_sets)
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

int cfg_key_cpus(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    return cpus_list(s, ctx, &cfg->cpus, &cfg->n_cpus);
}

int cfg_key_cpus_soft(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    return cpus_list(s, ctx, &cfg->cpus_soft, &cfg->n_cpus_soft);
}

int cfg_key_serial(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const cfg_value *items = &s->value;
    size_t n = 1;
    if (s->value.kind == CFG_LIST) {
        if (check_string_list(s, "'pty'") < 0)
            return -1;
        items = s->value.items;
        n = s->value.n_items;
    } else if (!cfg_key_scalar_text(s, "a string")) {
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
int cfg_key_gfx(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string or a number");
    if (!text)
        return -1;
    AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->line);
    return cfg_gfx_set(&cfg->gfx, s->key, text, where);
}

/* A PV config's display: vfb = [ 'vnc=1,vnclisten=...' ] (one, as xl allows). */
int cfg_key_vfb(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
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

int cfg_key_hvm_devices(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)cfg;
    const char *text = cfg_key_scalar_text(s, "a string");
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
int cfg_key_viridian(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
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

int cfg_key_startup(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
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

int cfg_key_startup_ready(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a string");
    if (!text)
        return -1;
    AUTOFREE char *where = kx_asprintf("%s:%d", s->source, s->line);
    if (cfg_ready_regex_check(text, where) < 0)
        return -1;
    free(cfg->startup_ready);
    cfg->startup_ready = kx_strdup(text);
    return 0;
}

int cfg_key_localtime(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "0 or 1");
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
int cfg_key_rtc_timeoffset(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    const char *text = cfg_key_scalar_text(s, "a number of seconds");
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
int cfg_key_usb(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
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
            cfg_key_scalar_text(s, "a number");
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

int cfg_key_vtpm(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
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

int cfg_key_channel(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
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
int cfg_key_dm_args(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)cfg;
    (void)ctx;
    return check_string_list(s, "\"-device\", \"virtio-rng-pci\"");
}

/* soundhw = "hda" | "ac97" | "es1370" | "sb16": a sound card whose output goes nowhere. */
int cfg_key_soundhw(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
{
    (void)ctx;
    static const char *const cards[] = {"hda", "ac97", "es1370", "sb16"};
    const char *text = cfg_key_scalar_text(s, "a string");
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

int cfg_key_pci(kxl_domcfg *cfg, const cfg_setting *s, cfg_key_ctx *ctx)
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
