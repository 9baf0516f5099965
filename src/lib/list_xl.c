/* list_xl.c - a domain as `xl list -l` prints it: libxl's domain config JSON (c_info, b_info,
 * disks, nics, the on_* actions), so scripts written for xl (xl list -l | jq) read kxl's the
 * same way. Memory in KiB, booleans as libxl's "True"/"False" strings. Pure. */
#include <stdio.h>

#include "kxl/ops.h"
#include "util/buf.h"
#include "util/cleanup.h"

static void add_str(json_object *o, const char *key, const char *v)
{
    if (v)
        json_object_object_add(o, key, json_object_new_string(v));
}

static void add_int(json_object *o, const char *key, int64_t v)
{
    json_object_object_add(o, key, json_object_new_int64(v));
}

static json_object *c_info(const kxl_domcfg *cfg)
{
    json_object *o = json_object_new_object();
    add_str(o, "type", cfg->type == KXL_TYPE_HVM ? "hvm" : cfg->type == KXL_TYPE_PVH ? "pvh"
                                                                                      : "pv");
    add_str(o, "name", cfg->name);
    add_str(o, "uuid", cfg->uuid);
    return o;
}

/* b_info's "type.pv" / "type.hvm" / "type.pvh" part. */
static json_object *type_info(const kxl_domcfg *cfg)
{
    json_object *o = json_object_new_object();
    add_str(o, "kernel", cfg->kernel);
    add_str(o, "ramdisk", cfg->ramdisk);
    add_str(o, "cmdline", cfg->cmdline);
    add_str(o, "bootloader", cfg->bootloader);
    add_str(o, "boot", cfg->boot);
    add_str(o, "firmware", cfg->firmware);
    if (cfg->gfx.vnc) {
        json_object *vnc = json_object_new_object();
        add_str(vnc, "enable", "True");
        add_str(vnc, "listen", cfg->gfx.listen);
        if (cfg->gfx.display >= 0)
            add_int(vnc, "display", cfg->gfx.display);
        add_str(vnc, "findunused", cfg->gfx.unused ? "True" : "False");
        json_object_object_add(o, "vnc", vnc);
    }
    return o;
}

static json_object *b_info(const kxl_domcfg *cfg)
{
    json_object *o = json_object_new_object();
    add_int(o, "max_vcpus", cfg->maxvcpus);
    json_object *avail = json_object_new_array();
    for (unsigned i = 0; i < cfg->vcpus; i++)
        json_object_array_add(avail, json_object_new_int(i));
    json_object_object_add(o, "avail_vcpus", avail);
    add_int(o, "max_memkb", (int64_t)cfg->maxmem_mib * 1024);
    add_int(o, "target_memkb", (int64_t)cfg->memory_mib * 1024);
    json_object_object_add(o, "sched_params", json_object_new_object());
    const char *type = cfg->type == KXL_TYPE_HVM ? "type.hvm" : cfg->type == KXL_TYPE_PVH
                                                                    ? "type.pvh"
                                                                    : "type.pv";
    json_object_object_add(o, type, type_info(cfg));
    return o;
}

static json_object *disks(const kxl_domcfg *cfg)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        if (d->unplugged)
            continue;
        json_object *o = json_object_new_object();
        add_str(o, "pdev_path", d->target);
        add_str(o, "vdev", d->vdev);
        add_str(o, "backend", "qdisk");
        add_str(o, "format", kxl_disk_format_to_string(d->format));
        add_int(o, "readwrite", !d->readonly);
        if (d->cdrom)
            add_int(o, "is_cdrom", 1);
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *nics(const kxl_domcfg *cfg)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < cfg->n_vifs; i++) {
        const kxl_vif *v = &cfg->vifs[i];
        if (v->unplugged)
            continue;
        json_object *o = json_object_new_object();
        add_int(o, "devid", (int64_t)i);
        add_str(o, "mac", v->mac);
        add_str(o, "ip", v->ip);
        add_str(o, "bridge", v->bridge);
        add_str(o, "ifname", v->vifname);
        add_str(o, "script", v->script);
        add_str(o, "model", v->model ? v->model : "virtio");
        json_object_array_add(a, o);
    }
    return a;
}

json_object *kxl_domain_xl_json(unsigned domid, const kxl_domcfg *cfg)
{
    json_object *config = json_object_new_object();
    json_object_object_add(config, "c_info", c_info(cfg));
    json_object_object_add(config, "b_info", b_info(cfg));
    json_object_object_add(config, "disks", disks(cfg));
    json_object_object_add(config, "nics", nics(cfg));
    add_str(config, "on_poweroff", kxl_action_to_string(cfg->on_poweroff));
    add_str(config, "on_reboot", kxl_action_to_string(cfg->on_reboot));
    add_str(config, "on_crash", kxl_action_to_string(cfg->on_crash));
    json_object *o = json_object_new_object();
    add_int(o, "domid", domid);
    json_object_object_add(o, "config", config);
    return o;
}
