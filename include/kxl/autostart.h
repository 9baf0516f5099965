/* autostart.h - domains that start at host boot, in order, and stop at host shutdown in the
 * reverse order (Xen's /etc/xen/auto and xendomains, with Proxmox's order and pacing).
 *
 * A domain starts at boot when its config is in ROOT/etc/kxl/auto/ (a file or a symlink) or in
 * an extra directory (kxld.conf's auto_dirs, e.g. /etc/xen/auto). Its config's
 * startup = "order=N,up=S,down=S" orders it: lower orders first, equal orders in parallel, then
 * those without an order one after another in name order; up waits after a start (or until the
 * console matches startup_ready), down bounds its clean shutdown at host shutdown. Functions
 * return 0 (or a pointer) or -1 (NULL) with kxl_last_error() set, as everywhere in libkxl. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>

#include "kxl/kxl.h"
#include "kxl/ops.h"

/* One config found in an autostart directory. */
typedef struct {
    char *config;        /* the path as found (a link's own path, not its target) */
    kxl_domcfg *cfg;     /* NULL when it is broken */
    char *error;         /* why it is skipped ("FILE:LINE: ..."); NULL when it starts */
} kxl_autostart_entry;

/* Domains started together; their indexes into the plan's entries. */
typedef struct {
    size_t *members;
    size_t n;
} kxl_autostart_batch;

typedef struct {
    kxl_autostart_entry *entries;   /* every config found, in the order found */
    size_t n_entries;
    kxl_autostart_batch *batches;   /* the ones that start, batch after batch */
    size_t n_batches;
} kxl_autostart_plan;

/* Pure: the batches of entries (taken over; n may be 0). A later config naming a domain an
 * earlier one names is skipped (its error says which). kxl_autostart_plan_dispose frees it. */
void kxl_autostart_plan_build(kxl_autostart_entry *entries, size_t n, kxl_autostart_plan *plan_r);
/* Idempotent. */
void kxl_autostart_plan_dispose(kxl_autostart_plan *plan);
/* Reads ROOT/etc/kxl/auto/ and then each of extra_dirs (NULL-terminated, may be NULL; a missing
 * directory is empty), each in file-name order (hidden files and names ending in '~' left out),
 * loads every config (with its files checked, as create does) and builds the plan. A broken
 * config becomes an entry with its error; -1 only when a directory cannot be read. */
int kxl_autostart_scan(const kxl_paths *p, const char *const *extra_dirs,
                       kxl_autostart_plan *plan_r);
/* The entry that starts domain name, or NULL. */
const kxl_autostart_entry *kxl_autostart_find(const kxl_autostart_plan *plan, const char *name);
/* The shutdown timeout of cfg at host shutdown: down, else its shutdown_timeout. */
unsigned kxl_autostart_down(const kxl_domcfg *cfg);

/* ---- at boot (kxld) ---- */

/* The kernel's boot id (/proc/sys/kernel/random/boot_id; the file $KXL_BOOT_ID_FILE names
 * instead, for tests that simulate a host reboot). Caller frees. */
char *kxl_boot_id(void);
/* ROOT/var/lib/kxl/save/NAME.save: where host shutdown saves a domain with
 * on_host_shutdown = "save". Caller frees. */
char *kxl_autostart_save_file(const kxl_paths *p, const char *name);

typedef struct {
    const char *const *extra_dirs;   /* auto_dirs */
    const atomic_bool *stop;         /* when it becomes true: start nothing more, wait no more */
} kxl_autostart_opts;
/* Once per boot: unless ROOT/var/lib/kxl/autostart-last.json records a finished run of this
 * boot, starts the plan batch by batch (kxl_domain_create, or kxl_domain_restore of the
 * domain's save file, which goes once restored), leaving running domains alone, and records
 * each domain's result (started, restored, running, skipped, failed) in that file as it goes.
 * A run stopped half-way (o->stop, a killed kxld) goes on from where it was at the next call
 * in the same boot. Logs each step. -1 only when the record cannot be written. */
int kxl_autostart_run(const kxl_paths *p, const kxl_autostart_opts *o);

/* ---- what will start, what did (kxl autostart-list, GET /api/v1/autostart) ---- */

/* {"boot_id", "batches": [{"batch", "order", "domains": [{"name", "config", "order", "up",
 * "down", "ready", "on_host_shutdown", "restore", "running"}]}], "skipped": [{"config",
 * "error"}], "last": null | {"boot_id", "this_boot", "started", "finished", "domains":
 * [{"name", "config", "result", "reason", "time"}]}}. Caller puts. */
json_object *kxl_autostart_list(const kxl_paths *p, const char *const *extra_dirs);
/* Pure: autostart-list's text of such an object. Caller frees. */
char *kxl_autostart_list_text(json_object *list);

/* Puts ROOT/etc/kxl/auto/NAME.cfg, a symlink to the domain's config: config_file when given
 * (an absolute path), else the running domain's own. The config must name the domain. */
int kxl_autostart_enable(const kxl_paths *p, const char *dom, const char *config_file);
/* Removes the symlink of domain dom from ROOT/etc/kxl/auto/ (a config file there, not a link,
 * is refused: removing it would lose the config). */
int kxl_autostart_disable(const kxl_paths *p, const char *dom);

/* ---- host shutdown (kxl shutdown-host) ---- */

/* Told of each domain once it is done: what happened ("shut down (2.5 s)", "destroyed: it did
 * not shut down within 60 s", "saved to FILE"), or with failed, what went wrong. */
typedef void (*kxl_shutdown_host_fn)(const char *dom, bool failed, const char *what,
                                     void *opaque);
/* Stops every running domain: first those that do not start at boot (together), then the
 * autostart ones in the reverse of their start order (a batch together). Each is shut down
 * cleanly within its down timeout and destroyed if it has not, or, with on_host_shutdown =
 * "save", saved to kxl_autostart_save_file (restored by the next boot's autostart). Settings
 * come from the config in the autostart directory, else from the config the domain runs with.
 * -1 when any failed (each told). */
int kxl_shutdown_host(const kxl_paths *p, const char *const *extra_dirs,
                      kxl_shutdown_host_fn told, void *opaque);
