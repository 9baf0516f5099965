/* create.c - starting a domain: reserve its name and id, write its resolved
 * config into the runtime directory, start its supervisor and wait for its
 * word that the guest runs. Nothing is left behind when any step fails. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "kxl/kxl.h"
#include "lib/disks.h"
#include "lib/host_conf.h"
#include "lib/migrate.h"
#include "lib/network.h"
#include "lib/pci.h"
#include "lib/runtime.h"
#include "lib/tpm.h"
#include "lib/vif.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

/* Below this, a new domain's logs are likely to be cut short. */
#define LOG_SPACE_LOW_KIB (8 * 1024)

static int generate_uuid(kxl_domcfg *cfg)
{
    if (cfg->uuid[0])
        return 0;
    AUTOFREE char *u = kx_read_file("/proc/sys/kernel/random/uuid", NULL);
    if (!u || strlen(u) < 36)
        return -1;
    memcpy(cfg->uuid, u, 36);
    cfg->uuid[36] = '\0';
    return 0;
}

/* A restore's saved state, for the supervisor that starts the domain from it. */
static void add_restore(json_object *o, const kxl_create_opts *c)
{
    if (c->machine)
        json_object_object_add(o, "machine", json_object_new_string(c->machine));
    if (!c->restore_file && !c->incoming)
        return;
    json_object *r = json_object_new_object();
    if (c->incoming) {
        json_object_object_add(r, "incoming", json_object_new_boolean(true));
        json_object_object_add(r, "fd", json_object_new_int(KXL_SUPERVISOR_INCOMING_FD));
        if (c->incoming_tls)
            json_object_object_add(r, "tls", json_object_new_boolean(true));
        if (c->incoming_postcopy)
            json_object_object_add(r, "postcopy", json_object_new_boolean(true));
        if (c->nbd_export) {
            json_object *list = json_object_new_array();
            for (char *const *v = c->nbd_export; *v; v++)
                json_object_array_add(list, json_object_new_string(*v));
            json_object_object_add(r, "nbd_export", list);
        }
    } else {
        json_object_object_add(r, "file", json_object_new_string(c->restore_file));
        json_object_object_add(r, "offset", json_object_new_int64((int64_t)c->restore_offset));
    }
    json_object_object_add(r, "qemu_version",
                           json_object_new_string(c->restore_qemu ? c->restore_qemu : "0"));
    json_object_object_add(o, "restore", r);
}

static int write_domain_json(const kxl_paths *p, const kxl_domcfg *cfg, unsigned domid,
                             const kxl_create_opts *c, kxl_accel accel)
{
    AUTOPTR(json_object) o = cfg_domcfg_to_json(cfg);
    json_object_object_add(o, "domid", json_object_new_int64(domid));
    json_object_object_add(o, "accel_resolved", json_object_new_string(kxl_accel_to_string(accel)));
    json_object_object_add(o, "start_paused", json_object_new_boolean(c && c->paused));
    if (c)
        add_restore(o, c);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
    AUTOFREE char *path = kxl_domain_file(p, cfg->name, "domain.json");
    return kx_write_file_atomic(path, text, strlen(text), 0600);
}

/* A supervisor that died without a word left its QEMU and directory behind. */
static void remove_abandoned(const kxl_paths *p, const char *name)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    kx_status st;
    if (status_read(dir, &st) == 0) {
        if (status_qemu_alive(&st))
            kill(st.qemu_pid, SIGKILL);
        if (st.sv_pid != getpid() && status_sv_alive(&st))
            kill(st.sv_pid, SIGKILL);
    }
    runtime_remove(p, name);
    /* forwarding goes back if the domain's vifs were all that needed it; the error that
     * brought us here is the one to report */
    kxl_errcode code = kx_err_code();
    AUTOFREE char *why = kx_strdup(kx_err_msg());
    network_forwarding_release(p, NULL);
    kx_err(code, "%s", why);
}

/* The logs are written by the supervisor long after create returns, where a full file
 * system only shows as empty logs: say so while someone is reading. */
static void warn_if_log_space_low(const kxl_paths *p)
{
    struct statvfs sv;
    if (statvfs(p->log_dir, &sv) < 0)
        return;
    unsigned long long free_kib = (unsigned long long)sv.f_bavail * sv.f_frsize / 1024;
    if (free_kib < LOG_SPACE_LOW_KIB)
        kx_warn("warning: only %llu KiB free for '%s': the domain's console and event logs "
                "may stay empty (free some space there)", free_kib, p->log_dir);
}

int kxl_domain_create(const kxl_paths *p, kxl_domcfg *cfg, const kxl_create_opts *o,
                      unsigned *domid_r)
{
    unsigned domid;
    int r;
    kxl_accel accel;
    AUTOFREE char *notice = NULL;
    if (kxl_accel_resolve(cfg->accel, &accel, &notice) < 0 || host_pci_check(p, cfg) < 0 ||
        host_dm_args_check(p, cfg) < 0 || host_vtpm_check(cfg) < 0)
        return -1;
    warn_if_log_space_low(p);
    if (!(o && o->incoming))   /* disks an interrupted receive of this name made are junk */
        migrate_made_reap(p, cfg->name);
    AUTOCLOSE int lock = runtime_lock(p);
    /* the disks are checked under the lock: a domain created at the same time has its
     * config written by then, so two creates cannot both take the same disk */
    if (lock < 0 || disks_check_config(p, cfg) < 0 || runtime_reserve_name(p, cfg->name) < 0)
        return -1;
    if (runtime_take_domid(p, cfg->name, &domid) < 0 || generate_uuid(cfg) < 0)
        goto undo_reserve;
    vif_resolve(cfg, domid);
    if (write_domain_json(p, cfg, domid, o, accel) < 0)
        goto undo_reserve;
    close(TAKE_FD(lock));
    r = runtime_start_supervisor(p, cfg->name, o ? o->supervisor : NULL, false,
                                 o && o->incoming ? o->incoming_fd : -1,
                                 o && o->incoming ? o->lifeline_r : NULL);
    if (r == -2)
        remove_abandoned(p, cfg->name);
    if (r < 0)
        return -1;
    if (notice)
        kx_notice("%s", notice);
    if (domid_r)
        *domid_r = domid;
    return 0;

undo_reserve:
    runtime_remove(p, cfg->name);
    return -1;
}
