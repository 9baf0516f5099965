/* domcfg.c - lifetime of kxl_domcfg, its enum <-> string tables, name and cpuset helpers. */
#include "kxl/domcfg.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"

static const char *const action_names[] = {
    [KXL_ACTION_DESTROY] = "destroy",
    [KXL_ACTION_RESTART] = "restart",
    [KXL_ACTION_RENAME_RESTART] = "rename-restart",
    [KXL_ACTION_PRESERVE] = "preserve",
    [KXL_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
    [KXL_ACTION_COREDUMP_RESTART] = "coredump-restart",
    [KXL_ACTION_SOFT_RESET] = "soft-reset",
};

static const char *const domtype_names[] = {
    [KXL_TYPE_HVM] = "hvm",
    [KXL_TYPE_PV] = "pv",
    [KXL_TYPE_PVH] = "pvh",
};

static const char *const accel_names[] = {
    [KXL_ACCEL_AUTO] = "auto",
    [KXL_ACCEL_KVM] = "kvm",
    [KXL_ACCEL_TCG] = "tcg",
};

static const char *const disk_format_names[] = {
    [KXL_DISK_FMT_RAW] = "raw",
    [KXL_DISK_FMT_QCOW2] = "qcow2",
    [KXL_DISK_FMT_QCOW] = "qcow",
    [KXL_DISK_FMT_VHD] = "vhd",
    [KXL_DISK_FMT_EMPTY] = "empty",
};

static const char *const disk_bus_names[] = {
    [KXL_DISK_BUS_VIRTIO] = "virtio",
    [KXL_DISK_BUS_IDE] = "ide",
    [KXL_DISK_BUS_SCSI] = "scsi",
};

static const char *const vga_names[] = {
    [KXL_VGA_DEFAULT] = "default",
    [KXL_VGA_NONE] = "none",
    [KXL_VGA_STD] = "stdvga",
    [KXL_VGA_CIRRUS] = "cirrus",
    [KXL_VGA_QXL] = "qxl",
};

static const char *const host_shutdown_names[] = {
    [KXL_HOST_SHUTDOWN_SHUTDOWN] = "shutdown",
    [KXL_HOST_SHUTDOWN_SAVE] = "save",
};

static const char *enum_to_string(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

static int enum_from_string(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n && s; i++)
        if (names[i] && strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

#define ENUM_STRINGS(type, fname, table)                                                           \
    const char *kxl_##fname##_to_string(type v)                                                    \
    {                                                                                              \
        return enum_to_string(table, KX_ARRAY_SIZE(table), (int)v);                                \
    }                                                                                              \
    int kxl_##fname##_from_string(const char *s)                                                   \
    {                                                                                              \
        return enum_from_string(table, KX_ARRAY_SIZE(table), s);                                   \
    }

ENUM_STRINGS(kxl_action, action, action_names)
ENUM_STRINGS(kxl_domtype, domtype, domtype_names)
ENUM_STRINGS(kxl_accel, accel, accel_names)
ENUM_STRINGS(kxl_disk_format, disk_format, disk_format_names)
ENUM_STRINGS(kxl_disk_bus, disk_bus, disk_bus_names)
ENUM_STRINGS(kxl_vga, vga, vga_names)
ENUM_STRINGS(kxl_host_shutdown, host_shutdown, host_shutdown_names)

kxl_domcfg *kxl_domcfg_new(void)
{
    kxl_domcfg *cfg = kx_malloc0(sizeof(*cfg));
    /* xl's defaults */
    cfg->type = KXL_TYPE_PV; /* xl.cfg(5): pv is the default on x86 */
    cfg->memory_mib = 128;
    cfg->vcpus = 1;
    cfg->cpu_weight = KXL_CPU_WEIGHT_DEFAULT;
    cfg->on_poweroff = KXL_ACTION_DESTROY;
    cfg->on_reboot = KXL_ACTION_RESTART;
    cfg->on_crash = KXL_ACTION_DESTROY;
    cfg->accel = KXL_ACCEL_AUTO;
    cfg->shutdown_timeout = 60;
    cfg->gfx.display = -1;
    cfg->gfx.unused = true;
    cfg->startup_order = -1;
    cfg->on_host_shutdown = KXL_HOST_SHUTDOWN_SHUTDOWN;
    return cfg;
}

void kxl_disk_dispose(kxl_disk *d)
{
    free(d->target);
    free(d->vdev);
    d->target = d->vdev = NULL;
}

void kxl_vif_dispose(kxl_vif *v)
{
    char **fields[] = {&v->mac, &v->bridge, &v->model, &v->vifname, &v->ip,
                       &v->rate, &v->type, &v->script, &v->gatewaydev};
    for (size_t i = 0; i < KX_ARRAY_SIZE(fields); i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

void kxl_domcfg_free(kxl_domcfg *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_disks; i++)
        kxl_disk_dispose(&cfg->disks[i]);
    for (size_t i = 0; i < cfg->n_vifs; i++)
        kxl_vif_dispose(&cfg->vifs[i]);
    for (char **s = cfg->serial; s && *s; s++)
        free(*s);
    free(cfg->serial);
    free(cfg->disks);
    free(cfg->vifs);
    free(cfg->cpus);
    free(cfg->cpus_soft);
    free(cfg->name);
    free(cfg->kernel);
    free(cfg->ramdisk);
    free(cfg->cmdline);
    free(cfg->bootloader);
    free(cfg->bootloader_kernel);
    free(cfg->bootloader_ramdisk);
    free(cfg->boot);
    free(cfg->firmware);
    free(cfg->usb.ctrls);
    free(cfg->usb.devs);
    for (char **c = cfg->channels; c && *c; c++)
        free(*c);
    free(cfg->channels);
    for (char **a = cfg->dm_args; a && *a; a++)
        free(*a);
    free(cfg->dm_args);
    free(cfg->soundhw);
    free(cfg->pci);
    free(cfg->gfx.listen);
    free(cfg->gfx.password);
    free(cfg->gfx.keymap);
    free(cfg->cpu);
    free(cfg->cpu_features);
    free(cfg->source_file);
    free(cfg->startup_ready);
    free(cfg);
}

bool kxl_name_is_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    /* a leading '-' reads as an option to every program the name is passed to; a leading
     * '.' hides the domain's directory from every listing (and so from "disk in use") */
    if (n == 0 || n > KXL_NAME_MAX || name[0] == '-' || name[0] == '.')
        return false;
    /* an all-digit name would read as a domain id on the command line */
    if (strspn(name, "0123456789") == n)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool kxl_ifname_is_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 15 && s[0] != '-' && s[0] != '.' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool kxl_domcfg_has_balloon(const kxl_domcfg *cfg)
{
    return cfg->balloon || cfg->maxmem_mib > cfg->memory_mib;
}

uint64_t kxl_domcfg_mem_ceiling(const kxl_domcfg *cfg)
{
    return cfg->mem_max_mib && cfg->mem_max_mib < cfg->maxmem_mib ? cfg->mem_max_mib
                                                                  : cfg->maxmem_mib;
}

void kxl_cpuset_set(kxl_cpuset *s, unsigned cpu)
{
    if (cpu < KXL_MAX_HOST_CPUS)
        s->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

bool kxl_cpuset_test(const kxl_cpuset *s, unsigned cpu)
{
    return cpu < KXL_MAX_HOST_CPUS && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

bool kxl_cpuset_is_empty(const kxl_cpuset *s)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(s->bits); i++)
        if (s->bits[i])
            return false;
    return true;
}
