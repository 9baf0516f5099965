/* cfg_json.c - a resolved kxl_domcfg to JSON and back. The mapping is a table
 * of scalar fields plus the lists (disks, vifs, cpus, serial) done by hand. */
#include "cfg/cfg_json.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_channel.h"
#include "cfg/cfg_pci.h"
#include "cfg/cfg_spec.h"
#include "cfg/cfg_usb.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

typedef enum { J_STR, J_U64, J_I64, J_UINT, J_INT, J_BOOL, J_ACTION, J_TYPE, J_ACCEL,
               J_HOST_SHUTDOWN } jtype;

typedef struct {
    const char *key;
    jtype type;
    size_t offset;
} jfield;

#define F(field) offsetof(kxl_domcfg, field)
static const jfield fields[] = {
    {"name", J_STR, F(name)},
    {"type", J_TYPE, F(type)},
    {"memory", J_U64, F(memory_mib)},
    {"maxmem", J_U64, F(maxmem_mib)},
    {"vcpus", J_UINT, F(vcpus)},
    {"maxvcpus", J_UINT, F(maxvcpus)},
    {"cpu_weight", J_UINT, F(cpu_weight)},
    {"cap", J_UINT, F(cap)},
    {"kernel", J_STR, F(kernel)},
    {"ramdisk", J_STR, F(ramdisk)},
    {"cmdline", J_STR, F(cmdline)},
    {"bootloader", J_STR, F(bootloader)},
    {"bootloader_kernel", J_STR, F(bootloader_kernel)},
    {"bootloader_ramdisk", J_STR, F(bootloader_ramdisk)},
    {"boot", J_STR, F(boot)},
    {"firmware", J_STR, F(firmware)},
    {"soundhw", J_STR, F(soundhw)},
    {"cpu", J_STR, F(cpu)},
    {"cpu_features", J_STR, F(cpu_features)},
    {"vtpm", J_BOOL, F(vtpm)},
    {"on_poweroff", J_ACTION, F(on_poweroff)},
    {"on_reboot", J_ACTION, F(on_reboot)},
    {"on_crash", J_ACTION, F(on_crash)},
    {"accel", J_ACCEL, F(accel)},
    {"shutdown_timeout", J_UINT, F(shutdown_timeout)},
    {"startup_order", J_INT, F(startup_order)},
    {"startup_up", J_UINT, F(startup_up)},
    {"startup_down", J_UINT, F(startup_down)},
    {"startup_ready", J_STR, F(startup_ready)},
    {"on_host_shutdown", J_HOST_SHUTDOWN, F(on_host_shutdown)},
    {"localtime", J_BOOL, F(localtime)},
    {"rtc_timeoffset", J_I64, F(rtc_timeoffset)},
    {"source_file", J_STR, F(source_file)},
};

static const char *const backend_names[] = {"auto", "phy", "file", "tap", "qdisk"};

static int name_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n && s; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

static void add_str(json_object *o, const char *key, const char *v)
{
    if (v)
        json_object_object_add(o, key, json_object_new_string(v));
}

static void field_to_json(json_object *o, const jfield *f, const kxl_domcfg *cfg)
{
    const char *p = (const char *)cfg + f->offset;
    switch (f->type) {
    case J_STR:
        add_str(o, f->key, *(char *const *)p);
        break;
    case J_U64:
        json_object_object_add(o, f->key, json_object_new_int64((int64_t) * (const uint64_t *)p));
        break;
    case J_UINT:
        json_object_object_add(o, f->key, json_object_new_int64(*(const unsigned *)p));
        break;
    case J_INT:
        json_object_object_add(o, f->key, json_object_new_int(*(const int *)p));
        break;
    case J_I64:
        json_object_object_add(o, f->key, json_object_new_int64(*(const int64_t *)p));
        break;
    case J_BOOL:
        json_object_object_add(o, f->key, json_object_new_boolean(*(const bool *)p));
        break;
    case J_ACTION:
        add_str(o, f->key, kxl_action_to_string(*(const kxl_action *)p));
        break;
    case J_TYPE:
        add_str(o, f->key, kxl_domtype_to_string(*(const kxl_domtype *)p));
        break;
    case J_ACCEL:
        add_str(o, f->key, kxl_accel_to_string(*(const kxl_accel *)p));
        break;
    case J_HOST_SHUTDOWN:
        add_str(o, f->key, kxl_host_shutdown_to_string(*(const kxl_host_shutdown *)p));
        break;
    }
}

static json_object *disk_to_json(const kxl_disk *d)
{
    json_object *o = json_object_new_object();
    add_str(o, "target", d->target);
    add_str(o, "vdev", d->vdev);
    add_str(o, "format", kxl_disk_format_to_string(d->format));
    add_str(o, "backend", backend_names[d->backend]);
    add_str(o, "bus", kxl_disk_bus_to_string(d->bus));
    json_object_object_add(o, "index", json_object_new_int(d->index));
    if (d->partition)
        json_object_object_add(o, "partition", json_object_new_int(d->partition));
    json_object_object_add(o, "readonly", json_object_new_boolean(d->readonly));
    json_object_object_add(o, "cdrom", json_object_new_boolean(d->cdrom));
    json_object_object_add(o, "discard", json_object_new_boolean(d->discard));
    if (d->unplugged)
        json_object_object_add(o, "unplugged", json_object_new_boolean(true));
    return o;
}

#define VIF_STRINGS(X)                                                                             \
    X(mac) X(bridge) X(model) X(vifname) X(ip) X(rate) X(type) X(script) X(gatewaydev)

static json_object *vif_to_json(const kxl_vif *v)
{
    json_object *o = json_object_new_object();
#define X(f) add_str(o, #f, v->f);
    VIF_STRINGS(X)
#undef X
    if (v->mtu)
        json_object_object_add(o, "mtu", json_object_new_int(v->mtu));
    if (v->unplugged)
        json_object_object_add(o, "unplugged", json_object_new_boolean(true));
    return o;
}

/* Sets as range lists: ["0-3", "5"]. */
static json_object *cpus_to_json(const kxl_cpuset *sets, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        AUTOFREE char *set = cfg_cpus_format(&sets[i]);
        json_object_array_add(a, json_object_new_string(set));
    }
    return a;
}

/* Only a domain with graphics has the member: most configs have none. */
static void gfx_to_json(json_object *o, const kxl_gfx *g)
{
    if (!g->vnc && g->vga == KXL_VGA_DEFAULT && !g->keymap)
        return;
    json_object *x = json_object_new_object();
    json_object_object_add(x, "vnc", json_object_new_boolean(g->vnc));
    add_str(x, "listen", g->listen);
    if (g->display >= 0)
        json_object_object_add(x, "display", json_object_new_int(g->display));
    json_object_object_add(x, "unused", json_object_new_boolean(g->unused));
    add_str(x, "password", g->password);
    add_str(x, "keymap", g->keymap);
    add_str(x, "vga", kxl_vga_to_string(g->vga));
    if (g->videoram_mib)
        json_object_object_add(x, "videoram", json_object_new_int64(g->videoram_mib));
    json_object_object_add(o, "gfx", x);
}

/* Only a domain with USB has the member. */
static void usb_to_json(json_object *o, const kxl_usb *u)
{
    if (!u->n_ctrls)
        return;
    json_object *x = json_object_new_object();
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < u->n_ctrls; i++) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "version", json_object_new_int(u->ctrls[i].version));
        json_object_object_add(c, "ports", json_object_new_int(u->ctrls[i].ports));
        json_object_array_add(a, c);
    }
    json_object_object_add(x, "controllers", a);
    a = json_object_new_array();
    for (size_t i = 0; i < u->n_devs; i++)
        json_object_array_add(a, json_object_new_string(cfg_usb_device_name(u->devs[i])));
    json_object_object_add(x, "devices", a);
    json_object_object_add(o, "usb", x);
}

json_object *cfg_domcfg_to_json(const kxl_domcfg *cfg)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < KX_ARRAY_SIZE(fields); i++) {
        field_to_json(o, &fields[i], cfg);
        if (i == 0 && cfg->uuid[0])
            add_str(o, "uuid", cfg->uuid);
    }
    if (cfg->vtpm_uuid[0])
        add_str(o, "vtpm_uuid", cfg->vtpm_uuid);
    if (cfg->balloon)
        json_object_object_add(o, "balloon", json_object_new_boolean(true));
    if (cfg->mem_max_mib)
        json_object_object_add(o, "mem_max", json_object_new_int64((int64_t)cfg->mem_max_mib));
    json_object_object_add(o, "cpus", cpus_to_json(cfg->cpus, cfg->n_cpus));
    if (cfg->n_cpus_soft)
        json_object_object_add(o, "cpus_soft", cpus_to_json(cfg->cpus_soft, cfg->n_cpus_soft));
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < cfg->n_disks; i++)
        json_object_array_add(a, disk_to_json(&cfg->disks[i]));
    json_object_object_add(o, "disks", a);
    a = json_object_new_array();
    for (size_t i = 0; i < cfg->n_vifs; i++)
        json_object_array_add(a, vif_to_json(&cfg->vifs[i]));
    json_object_object_add(o, "vifs", a);
    a = json_object_new_array();
    for (char **s = cfg->serial; s && *s; s++)
        json_object_array_add(a, json_object_new_string(*s));
    json_object_object_add(o, "serial", a);
    if (cfg->channels) {
        a = json_object_new_array();
        for (char **c = cfg->channels; *c; c++)
            json_object_array_add(a, json_object_new_string(*c));
        json_object_object_add(o, "channels", a);
    }
    if (cfg->dm_args) {
        a = json_object_new_array();
        for (char **d = cfg->dm_args; *d; d++)
            json_object_array_add(a, json_object_new_string(*d));
        json_object_object_add(o, "device_model_args", a);
    }
    if (cfg->n_pci) {
        a = json_object_new_array();
        for (size_t i = 0; i < cfg->n_pci; i++) {
            json_object *d = json_object_new_object();
            json_object_object_add(d, "bdf", json_object_new_string(cfg->pci[i].bdf));
            json_object_object_add(d, "vslot", json_object_new_int(cfg->pci[i].vslot));
            json_object_object_add(d, "seize", json_object_new_boolean(cfg->pci[i].seize));
            json_object_array_add(a, d);
        }
        json_object_object_add(o, "pci", a);
    }
    gfx_to_json(o, &cfg->gfx);
    usb_to_json(o, &cfg->usb);
    return o;
}

void cfg_json_hide_secrets(json_object *o)
{
    json_object *gfx;
    if (json_object_object_get_ex(o, "gfx", &gfx) && json_object_is_type(gfx, json_type_object) &&
        json_object_object_get_ex(gfx, "password", NULL))
        json_object_object_add(gfx, "password", json_object_new_string("********"));
}

/* The string member key of o, or NULL; an error when present with another type. */
static int get_str(json_object *o, const char *key, char **v_r)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        kx_err(KXL_ERR_INVALID, "domain JSON: '%s' must be a string", key);
        return -1;
    }
    free(*v_r);
    *v_r = kx_strdup(json_object_get_string(v));
    return 0;
}

static int get_enum(json_object *o, const jfield *f, int (*from)(const char *), int *v_r)
{
    const char *s = kx_json_str(o, f->key, NULL);
    if (!s)
        return 0;
    int v = from(s);
    if (v < 0) {
        kx_err(KXL_ERR_INVALID, "domain JSON: '%s' has an unknown value '%s'", f->key, s);
        return -1;
    }
    *v_r = v;
    return 0;
}

static int field_from_json(json_object *o, const jfield *f, kxl_domcfg *cfg)
{
    char *p = (char *)cfg + f->offset;
    switch (f->type) {
    case J_STR:
        return get_str(o, f->key, (char **)p);
    case J_U64:
        *(uint64_t *)p = (uint64_t)kx_json_int(o, f->key, (int64_t) * (uint64_t *)p);
        return 0;
    case J_UINT:
        *(unsigned *)p = (unsigned)kx_json_int(o, f->key, *(unsigned *)p);
        return 0;
    case J_INT:
        *(int *)p = (int)kx_json_int(o, f->key, *(int *)p);
        return 0;
    case J_I64:
        *(int64_t *)p = kx_json_int(o, f->key, *(int64_t *)p);
        return 0;
    case J_BOOL:
        *(bool *)p = kx_json_bool(o, f->key, *(bool *)p);
        return 0;
    case J_ACTION:
        return get_enum(o, f, kxl_action_from_string, (int *)p);
    case J_TYPE:
        return get_enum(o, f, kxl_domtype_from_string, (int *)p);
    case J_ACCEL:
        return get_enum(o, f, kxl_accel_from_string, (int *)p);
    case J_HOST_SHUTDOWN:
        return get_enum(o, f, kxl_host_shutdown_from_string, (int *)p);
    }
    return 0;
}

static int disk_from_json(json_object *o, kxl_disk *d)
{
    if (get_str(o, "target", &d->target) < 0 || get_str(o, "vdev", &d->vdev) < 0)
        return -1;
    int fmt = kxl_disk_format_from_string(kx_json_str(o, "format", "raw"));
    int be = name_index(backend_names, KX_ARRAY_SIZE(backend_names),
                        kx_json_str(o, "backend", "auto"));
    int bus = kxl_disk_bus_from_string(kx_json_str(o, "bus", "virtio"));
    if (fmt < 0 || be < 0 || bus < 0 || !d->vdev) {
        kx_err(KXL_ERR_INVALID, "domain JSON: a disk has a bad format, backend, bus or vdev");
        return -1;
    }
    d->format = (kxl_disk_format)fmt;
    d->backend = (kxl_disk_backend)be;
    d->bus = (kxl_disk_bus)bus;
    d->index = (int)kx_json_int(o, "index", 0);
    d->partition = (int)kx_json_int(o, "partition", 0);
    d->readonly = kx_json_bool(o, "readonly", false);
    d->cdrom = kx_json_bool(o, "cdrom", false);
    d->discard = kx_json_bool(o, "discard", true);
    d->unplugged = kx_json_bool(o, "unplugged", false);
    return 0;
}

static int vif_from_json(json_object *o, kxl_vif *v)
{
#define X(f)                                                                                       \
    if (get_str(o, #f, &v->f) < 0)                                                                 \
        return -1;
    VIF_STRINGS(X)
#undef X
    v->mtu = (int)kx_json_int(o, "mtu", 0);
    v->unplugged = kx_json_bool(o, "unplugged", false);
    return 0;
}

/* The array member key of o (n_r = 0 when absent); an error for other types. */
static json_object *get_array(json_object *o, const char *key, size_t *n_r)
{
    json_object *a;
    *n_r = 0;
    if (!json_object_object_get_ex(o, key, &a))
        return NULL;
    if (!json_object_is_type(a, json_type_array)) {
        kx_err(KXL_ERR_INVALID, "domain JSON: '%s' must be an array", key);
        *n_r = (size_t)-1;
        return NULL;
    }
    *n_r = json_object_array_length(a);
    return a;
}

static int lists_from_json(json_object *o, kxl_domcfg *cfg)
{
    size_t n;
    json_object *a = get_array(o, "disks", &n);
    if (n == (size_t)-1)
        return -1;
    cfg->disks = kx_malloc0(sizeof(kxl_disk) * (n + 1));
    /* each counted before it is filled, so that kxl_domcfg_free disposes a half-read one too */
    for (size_t i = 0; i < n; i++) {
        cfg->n_disks = i + 1;
        if (disk_from_json(json_object_array_get_idx(a, i), &cfg->disks[i]) < 0)
            return -1;
    }
    a = get_array(o, "vifs", &n);
    if (n == (size_t)-1)
        return -1;
    cfg->vifs = kx_malloc0(sizeof(kxl_vif) * (n + 1));
    for (size_t i = 0; i < n; i++) {
        cfg->n_vifs = i + 1;
        if (vif_from_json(json_object_array_get_idx(a, i), &cfg->vifs[i]) < 0)
            return -1;
    }
    return 0;
}

/* Element i of array a (member key) as a string; NULL with kx_err for another type. */
static const char *get_string_item(json_object *a, const char *key, size_t i)
{
    json_object *v = json_object_array_get_idx(a, i);
    if (!json_object_is_type(v, json_type_string)) {
        kx_err(KXL_ERR_INVALID, "domain JSON: '%s' must be an array of strings", key);
        return NULL;
    }
    return json_object_get_string(v);
}

/* Member key (absent: none) as *sets_r (n + 1 allocated), *n_r counted as they are read. */
static int cpus_from_json(json_object *o, const char *key, kxl_cpuset **sets_r, size_t *n_r)
{
    size_t n;
    const char *s;
    json_object *a = get_array(o, key, &n);
    if (n == (size_t)-1)
        return -1;
    *sets_r = kx_malloc0(sizeof(kxl_cpuset) * (n + 1));
    for (*n_r = 0; *n_r < n; (*n_r)++)
        if (!(s = get_string_item(a, key, *n_r)) ||
            cfg_cpus_parse(s, "domain JSON", KXL_MAX_HOST_CPUS, &(*sets_r)[*n_r]) < 0)
            return -1;
    return 0;
}

static int strings_from_json(json_object *o, kxl_domcfg *cfg)
{
    size_t n;
    const char *s;
    if (cpus_from_json(o, "cpus", &cfg->cpus, &cfg->n_cpus) < 0 ||
        cpus_from_json(o, "cpus_soft", &cfg->cpus_soft, &cfg->n_cpus_soft) < 0)
        return -1;
    json_object *a = get_array(o, "channels", &n);
    if (n == (size_t)-1)
        return -1;
    if (a) {
        cfg->channels = kx_malloc0(sizeof(char *) * (n + 1));
        for (size_t i = 0; i < n; i++) {
            cfg_channel c;
            if (!(s = get_string_item(a, "channels", i)) ||
                cfg_channel_parse(s, "domain JSON", &c) < 0)
                return -1;
            cfg_channel_dispose(&c);
            cfg->channels[i] = kx_strdup(s);
        }
    }
    a = get_array(o, "device_model_args", &n);
    if (n == (size_t)-1)
        return -1;
    if (a) {
        cfg->dm_args = kx_malloc0(sizeof(char *) * (n + 1));
        for (size_t i = 0; i < n; i++) {
            if (!(s = get_string_item(a, "device_model_args", i)))
                return -1;
            cfg->dm_args[i] = kx_strdup(s);
        }
    }
    a = get_array(o, "serial", &n);
    if (n == (size_t)-1)
        return -1;
    cfg->serial = kx_malloc0(sizeof(char *) * (n + 1));
    for (size_t i = 0; i < n; i++) {
        if (!(s = get_string_item(a, "serial", i)))
            return -1;
        cfg->serial[i] = kx_strdup(s);
    }
    return 0;
}

static int gfx_from_json(json_object *o, kxl_gfx *g)
{
    json_object *x;
    if (!json_object_object_get_ex(o, "gfx", &x))
        return 0;
    if (!json_object_is_type(x, json_type_object)) {
        kx_err(KXL_ERR_INVALID, "domain JSON: 'gfx' must be an object");
        return -1;
    }
    if (get_str(x, "listen", &g->listen) < 0 || get_str(x, "password", &g->password) < 0 ||
        get_str(x, "keymap", &g->keymap) < 0)
        return -1;
    int vga = kxl_vga_from_string(kx_json_str(x, "vga", "default"));
    int64_t display = kx_json_int(x, "display", -1);
    int64_t videoram = kx_json_int(x, "videoram", 0);
    if (vga < 0 || display < -1 || display > 65535 - 5900 || videoram < 0 || videoram > 1024) {
        kx_err(KXL_ERR_INVALID, "domain JSON: 'gfx' has a bad vga, display or videoram");
        return -1;
    }
    g->vnc = kx_json_bool(x, "vnc", false);
    g->unused = kx_json_bool(x, "unused", true);
    g->vga = (kxl_vga)vga;
    g->display = (int)display;
    g->videoram_mib = (unsigned)videoram;
    return 0;
}

static int usb_from_json(json_object *o, kxl_usb *u)
{
    json_object *x;
    if (!json_object_object_get_ex(o, "usb", &x))
        return 0;
    size_t n;
    json_object *a = get_array(x, "controllers", &n);
    if (n == (size_t)-1)
        return -1;
    u->ctrls = kx_malloc0(sizeof(*u->ctrls) * (n + 1));
    for (; u->n_ctrls < n; u->n_ctrls++) {
        json_object *c = json_object_array_get_idx(a, u->n_ctrls);
        int version = (int)kx_json_int(c, "version", 0);
        int ports = (int)kx_json_int(c, "ports", 0);
        if (!cfg_usb_controller_device(version) || ports < 0 || ports > 15) {
            kx_err(KXL_ERR_INVALID, "domain JSON: a USB controller has a bad version or ports");
            return -1;
        }
        u->ctrls[u->n_ctrls] = (kxl_usbctrl){version, ports};
    }
    a = get_array(x, "devices", &n);
    if (n == (size_t)-1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *s = get_string_item(a, "usb devices", i);
        if (!s || cfg_usb_device_from_json(u, s) < 0)
            return -1;
    }
    return 0;
}

static int pci_from_json(json_object *o, kxl_domcfg *cfg)
{
    size_t n;
    json_object *a = get_array(o, "pci", &n);
    if (n == (size_t)-1)
        return -1;
    cfg->pci = kx_malloc0(sizeof(*cfg->pci) * (n + 1));
    for (; cfg->n_pci < n; cfg->n_pci++) {
        json_object *d = json_object_array_get_idx(a, cfg->n_pci);
        const char *bdf = kx_json_str(d, "bdf", "");
        kxl_pcidev *p = &cfg->pci[cfg->n_pci];
        int64_t vslot = kx_json_int(d, "vslot", -1);
        if (!cfg_pci_bdf(bdf, strlen(bdf), p->bdf) || vslot < -1 || vslot > 0x1f) {
            kx_err(KXL_ERR_INVALID, "domain JSON: a PCI device has a bad address or slot");
            return -1;
        }
        p->vslot = (int)vslot;
        p->seize = kx_json_bool(d, "seize", false);
    }
    return 0;
}

kxl_domcfg *cfg_domcfg_from_json(json_object *obj)
{
    if (!json_object_is_type(obj, json_type_object)) {
        kx_err(KXL_ERR_INVALID, "domain JSON: not an object");
        return NULL;
    }
    AUTOPTR(kxl_domcfg) cfg = kxl_domcfg_new();
    for (size_t i = 0; i < KX_ARRAY_SIZE(fields); i++)
        if (field_from_json(obj, &fields[i], cfg) < 0)
            return NULL;
    snprintf(cfg->uuid, sizeof(cfg->uuid), "%s", kx_json_str(obj, "uuid", ""));
    snprintf(cfg->vtpm_uuid, sizeof(cfg->vtpm_uuid), "%s", kx_json_str(obj, "vtpm_uuid", ""));
    cfg->balloon = kx_json_bool(obj, "balloon", false);
    cfg->mem_max_mib = (uint64_t)kx_json_int(obj, "mem_max", 0);
    if (lists_from_json(obj, cfg) < 0 || strings_from_json(obj, cfg) < 0 ||
        gfx_from_json(obj, &cfg->gfx) < 0 || pci_from_json(obj, cfg) < 0 || usb_from_json(obj, &cfg->usb) < 0)
        return NULL;
    if (!cfg->name || !kxl_name_is_valid(cfg->name)) {
        kx_err(KXL_ERR_INVALID, "domain JSON: missing or invalid name");
        return NULL;
    }
    return TAKE_PTR(cfg);
}
