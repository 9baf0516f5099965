/* ops.h - libkxl's domain operations: one function per operation, called the same way by the
 * command line, kxld and migration. DOM is a domain's name or numeric id. Every function
 * returns 0 (or a result through a _r parameter) or -1 with kxl_last_error() and
 * kxl_last_error_code() set; none prints. Progress worth telling a user (a forced shutdown,
 * say) goes through the log sink at notice level. */
#pragma once

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "kxl/kxl.h"

/* ---- the table that names each operation once ---- */

typedef enum {
    KXL_OP_PAUSE,
    KXL_OP_UNPAUSE,
    KXL_OP_SHUTDOWN,
    KXL_OP_REBOOT,
    KXL_OP_RENAME,
    KXL_OP_TRIGGER,
    KXL_OP_SYSRQ,
    KXL_OP_DUMP_CORE,
    KXL_OP_MONITOR,
    KXL_OP_BLOCK_ATTACH,
    KXL_OP_BLOCK_DETACH,
    KXL_OP_BLOCK_LIST,
    KXL_OP_CD_INSERT,
    KXL_OP_CD_EJECT,
    KXL_OP_NETWORK_ATTACH,
    KXL_OP_NETWORK_DETACH,
    KXL_OP_SNAPSHOT_CREATE,
    KXL_OP_SNAPSHOT_LIST,
    KXL_OP_SNAPSHOT_REVERT,
    KXL_OP_SNAPSHOT_DELETE,
    KXL_OP_JOB_CANCEL,
    KXL_OP_VCPU_LIST,
    KXL_OP_VCPU_PIN,
    KXL_OP_STATS,
    KXL_OP_SAVE,
    KXL_OP_RESTORE,
    KXL_OP_VCPU_SET,
    KXL_OP_MEM_SET,
    KXL_OP_MEM_MAX,
    KXL_OP_SCHED_CREDIT,
    KXL_OP_SCHED_CREDIT2,
    KXL_OP_DISPLAY,
    KXL_OP_AUTOSTART_LIST,
    KXL_OP_AUTOSTART_ENABLE,
    KXL_OP_AUTOSTART_DISABLE,
    KXL_OP_SHUTDOWN_HOST,
    KXL_OP_USB_LIST,
    KXL_OP_PCI_ASSIGNABLE_ADD,
    KXL_OP_PCI_ASSIGNABLE_REMOVE,
    KXL_OP_PCI_ASSIGNABLE_LIST,
    KXL_OP_MIGRATE,
    KXL_OP_MIGRATE_RECEIVE,
    KXL_OP_CHANNEL_LIST,
    KXL_OP_CONFIG_UPDATE,
    KXL_OP_PCI_ATTACH,
    KXL_OP_PCI_DETACH,
    KXL_OP__COUNT
} kxl_op;

typedef struct {
    kxl_op op;
    const char *cli;      /* the command: "kxl cd-insert" */
    const char *verb;     /* the supervisor's control verb; NULL: done without the supervisor */
    const char *route;    /* kxld's route; NULL: none yet */
    int timeout_ms;       /* how long the supervisor may take to answer */
} kxl_op_desc;

/* The row of op (never NULL for a valid op). */
const kxl_op_desc *kxl_op_describe(kxl_op op);
/* The row whose command is cli, or NULL. */
const kxl_op_desc *kxl_op_by_cli(const char *cli);

/* ---- host PCI devices (xl's pci-assignable-*) ---- */

/* Makes the device ([DDDD:]BB:DD.F) assignable: bound to vfio-pci, its driver kept for its
 * return. Already assignable: nothing to do. */
int kxl_pci_assignable_add(const kxl_paths *p, const char *device);
/* Gives it back: unbound from vfio-pci; with rebind, the kernel's own driver takes it. */
int kxl_pci_assignable_remove(const kxl_paths *p, const char *device, bool rebind);
/* The devices bound to vfio-pci, NULL-terminated (caller frees each and the array). */
int kxl_pci_assignable_list(char ***bdfs_r);

/* ---- lifecycle ---- */

int kxl_domain_pause(const kxl_paths *p, const char *dom);
int kxl_domain_unpause(const kxl_paths *p, const char *dom);

/* xl's shutdown and reboot options. */
typedef struct {
    bool wait;    /* -w: return once it is done */
    bool force;   /* -H: shutdown destroys after the domain's shutdown_timeout; reboot resets
                   * after 60 s */
} kxl_power_opts;
/* Presses the ACPI power button; with wait/force, returns when the domain is gone, preserved
 * as shut down, or restarted (on_poweroff = restart). */
int kxl_domain_shutdown(const kxl_paths *p, const char *dom, const kxl_power_opts *o);
/* Ctrl+Alt+Del; with wait/force, returns when the domain runs on a new QEMU or is gone. */
int kxl_domain_reboot(const kxl_paths *p, const char *dom, const kxl_power_opts *o);

/* Told of each domain an _all operation failed on, with the error set (kxl_last_error); dom
 * is NULL when the domains could not be listed. */
typedef void (*kxl_failure_fn)(const char *dom, void *opaque);
/* Every domain: all are asked first, then waited for (as xl shutdown -a); a domain that cannot
 * be asked (paused, shut down) does not stop the others. -1 when any failed; each failure was
 * told to failed (may be NULL). */
int kxl_domain_shutdown_all(const kxl_paths *p, const kxl_power_opts *o, kxl_failure_fn failed,
                            void *opaque);
int kxl_domain_reboot_all(const kxl_paths *p, const kxl_power_opts *o, kxl_failure_fn failed,
                          void *opaque);

int kxl_domain_rename(const kxl_paths *p, const char *dom, const char *new_name);
/* xl trigger: nmi, reset, power, sleep, s3resume. */
int kxl_domain_trigger(const kxl_paths *p, const char *dom, const char *trigger);
/* One SysRq key, a letter or digit. */
int kxl_domain_sysrq(const kxl_paths *p, const char *dom, const char *key);
/* The guest's memory as an ELF core; a relative file is relative to the caller's directory. */
int kxl_domain_dump_core(const kxl_paths *p, const char *dom, const char *file);
/* A QEMU human-monitor command; *out_r (caller frees) gets QEMU's answer. */
int kxl_domain_monitor(const kxl_paths *p, const char *dom, const char *command, char **out_r);

/* Cancels the domain's running job (a snapshot being taken, a dump); the job's own caller then
 * fails with "... was cancelled". A revert or a delete cannot be cancelled. */
int kxl_domain_job_cancel(const kxl_paths *p, const char *dom);

/* pci-attach: SPEC as in pci = [ ... ] ("01:00.0@8,seize=1"), checked and made assignable as
 * at create, hot-plugged as vfio-pci; pci-detach asks the guest to let the device go (it
 * stays bound to vfio-pci). */
int kxl_domain_pci_attach(const kxl_paths *p, const char *dom, const char *spec);
int kxl_domain_pci_detach(const kxl_paths *p, const char *dom, const char *bdf);

/* config-update: cfg (checked as create checks one; its name must be the domain's) replaces
 * the domain's config at its next restart; until then the running domain is unchanged. The
 * domain keeps its uuid. A second update replaces the first. */
int kxl_domain_config_update(const kxl_paths *p, const char *dom, kxl_domcfg *cfg);

/* The domain's resolved config as its supervisor keeps it (with hot-plugged devices and the
 * names the host gave them). *cfg_r: kxl_domcfg_free. */
int kxl_domain_config(const kxl_paths *p, const char *dom, kxl_domcfg **cfg_r);

/* Where the domain's VNC server listens, as QEMU says: {vnc: {family: "unix" | "ipv4" |
 * "ipv6", path (unix) or host and port, password: whether one is asked}}. KXL_ERR_STATE for a
 * domain without vnc. *display_r: caller puts. */
int kxl_domain_display(const kxl_paths *p, const char *dom, json_object **display_r);

/* usb-list: the domain's USB controllers and what is on their ports, in xl's layout
 * ("Devid  Type  BE  state usb-ver ports", then "  Port N: DEVICE"). Caller frees. */
int kxl_domain_usb_list(const kxl_paths *p, const char *dom, char **text_r);
/* channel-list: xl's header, and the domain's channels one a line (Idx, BE, state, evt-ch and
 * ring-ref as xl's, connection pty|socket, the host socket and the port's name). Caller
 * frees the lines. */
const char *kxl_channel_list_header(void);
int kxl_domain_channel_list(const kxl_paths *p, const char *dom, char **text_r);

/* The runtime record of the domain as the supervisor keeps it: the resolved config as JSON
 * (cfg_domcfg_to_json's shape) plus domid, accel_resolved and start_paused. Caller puts. */
int kxl_domain_record(const kxl_paths *p, const char *dom, json_object **record_r);

/* create -n: the QEMU command line the domain would start with on this host, as the supervisor
 * builds it (its disks' fd sets as stand-ins: the real ones also hold a qcow2 image's backing
 * files). *argv_r is NULL-terminated (kxl_argv_free); *notice_r (caller frees) gets the
 * accelerator notice, or NULL. Starts nothing; may fill the PVH kernel cache. */
int kxl_domain_qemu_argv(const kxl_paths *p, const kxl_domcfg *cfg, char ***argv_r,
                         char **notice_r);
void kxl_argv_free(char **argv);

/* ---- devices ---- */

/* DISK-SPEC as in a config's disk list. */
int kxl_block_attach(const kxl_paths *p, const char *dom, const char *spec);
int kxl_block_detach(const kxl_paths *p, const char *dom, const char *vdev);
/* The plugged disks; *disks_r: kxl_disks_free. */
int kxl_block_list(const kxl_paths *p, const char *dom, kxl_disk **disks_r, size_t *n_r);
void kxl_disks_free(kxl_disk *disks, size_t n);
/* A disk as block-list --json and the API show it: vdev, type, bus, format, mode, target
 * (null for an empty CD-ROM), discard. */
json_object *kxl_disk_to_json(const kxl_disk *d);
/* A CD-ROM's medium; file is made absolute. */
int kxl_cd_insert(const kxl_paths *p, const char *dom, const char *vdev, const char *file);
int kxl_cd_eject(const kxl_paths *p, const char *dom, const char *vdev);

/* VIF-SPEC as in a config's vif list ("" for the defaults); *devid_r (caller frees, may be
 * NULL) gets the new vif's index. */
int kxl_network_attach(const kxl_paths *p, const char *dom, const char *spec, char **devid_r);
/* The vif by index or MAC. */
int kxl_network_detach(const kxl_paths *p, const char *dom, const char *vif);

/* A plugged vif with its tap's counters (RX: what the guest received). */
typedef struct {
    unsigned devid;
    kxl_vif vif;
    uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
} kxl_vif_info;
/* {devid, vifname, rx_bytes, rx_packets, tx_bytes, tx_packets}, as list -l shows it. */
json_object *kxl_vif_counters_to_json(const kxl_vif_info *v);
/* *vifs_r: kxl_vif_infos_free. */
int kxl_vif_list(const kxl_paths *p, const char *dom, kxl_vif_info **vifs_r, size_t *n_r);
void kxl_vif_infos_free(kxl_vif_info *vifs, size_t n);

/* ---- how domains and the host look to scripts (kxl list --json, kxl info --json, kxld) ---- */

/* xl's six state columns of list: r b p s c d ("------" when none applies). */
void kxl_dominfo_state_letters(const kxl_dominfo *d, char out[7]);
/* A row of list --json: name, domid, uuid, state, state_letters, memory_mib, vcpus, cpu_time,
 * qemu_pid, supervisor_alive. Caller puts. */
json_object *kxl_dominfo_to_json(const kxl_dominfo *d);
/* A domain of list -l: {domid, info (the row above), vif_counters, config (kxl_domain_record,
 * null when the domain went away meanwhile)}. Caller puts. */
json_object *kxl_domain_detail_json(const kxl_paths *p, const kxl_dominfo *d);
/* A domain as xl list -l shows it: {"domid", "config": {"c_info", "b_info", "disks", "nics",
 * "on_poweroff", "on_reboot", "on_crash"}} in libxl's shape (memory in KiB). Caller puts. */
json_object *kxl_domain_xl_json(unsigned domid, const kxl_domcfg *cfg);
/* The host as list's first row, as xl shows Domain-0: ID 0, the host's memory (MemTotal)
 * and CPUs, running, and the CPU seconds the host has spent busy (/proc/stat). */
void kxl_host_dominfo(kxl_dominfo *r);
/* Seconds since the host booted (/proc/uptime): Domain-0's uptime. */
unsigned long kxl_host_uptime(void);
/* The host: host, release, version, machine, nr_cpus, total_memory and free_memory (MiB),
 * accelerator ("tcg (why)"), kvm_usable, qemu_version, qemu_user, kxl_version, kxl_root.
 * Caller puts; NULL with kxl_last_error(). Runs QEMU once (its version). */
json_object *kxl_host_info(const kxl_paths *p);

/* ---- snapshots ---- */

/* TARGET is a running domain (its qcow2 disks and memory, through its supervisor) or a config
 * file whose domain is shut down (its qcow2 disks, with qemu-img; a create that fails on one
 * disk is taken back from the others). A path (with a '/'), or the name of an existing file
 * that no running domain has, is a config file. */
int kxl_snapshot_create(const kxl_paths *p, const char *target, const char *name);
int kxl_snapshot_revert(const kxl_paths *p, const char *target, const char *name);
int kxl_snapshot_delete(const kxl_paths *p, const char *target, const char *name);
/* A snapshot as the disks hold it (QEMU's SnapshotInfo of the first disk that has it). */
typedef struct {
    char *name;               /* QEMU's tag */
    char *id;                 /* its id in that disk */
    uint64_t vm_state_size;   /* bytes of memory and device state; 0: disks only */
    int64_t date_sec;         /* when it was taken: seconds since the epoch... */
    uint32_t date_nsec;       /* ...and nanoseconds */
    uint64_t vm_clock_ns;     /* how long the guest had run then */
    int64_t icount;           /* QEMU's instruction count (record/replay); -1: none */
    char **disks;             /* the vdevs that hold it, NULL-terminated */
    bool on_all_disks;        /* every writable disk holds it: only then can it be reverted */
} kxl_snapshot;
/* The snapshots, those on every disk first, each group in the first disk's order.
 * *snaps_r: kxl_snapshots_free. */
int kxl_snapshot_list(const kxl_paths *p, const char *target, kxl_snapshot **snaps_r,
                      size_t *n_r);
void kxl_snapshots_free(kxl_snapshot *snaps, size_t n);
/* {name, id, vm_state_size, date (seconds since the epoch, with fraction), vm_clock_ns,
 * icount (null: none), disks, on_all_disks}: a row of snapshot-list --json and of
 * GET /api/v1/domains/{name}/snapshots. Caller puts. */
json_object *kxl_snapshot_to_json(const kxl_snapshot *s);
/* snapshot-list's table, qemu-img's columns (ID TAG VM SIZE DATE VM CLOCK ICOUNT, the date in
 * local time), those on every disk under one heading and the others under another. Caller
 * frees. */
char *kxl_snapshot_table(const kxl_snapshot *snaps, size_t n);
/* The target the functions above take for the domain called dom whatever its state: dom when
 * it runs (its supervisor's snapshots), else its config file ETC/DOM.cfg when that holds a
 * config of dom (its disks' snapshots, with qemu-img), as kxld's routes ask. KXL_ERR_NOT_FOUND
 * when neither. Caller frees. */
char *kxl_snapshot_target(const kxl_paths *p, const char *dom);

/* ---- save and restore ---- */

/* xl save's options. Without -c or -p the domain is destroyed once its file is complete. */
typedef struct {
    bool checkpoint;          /* -c: it goes on as it was, running or paused */
    bool paused;              /* -p: it stays, paused */
    const char *config_file;  /* CFG: the config the file records instead of the domain's */
} kxl_save_opts;
/* Saves the domain's state (memory, devices) into file (a relative one is relative to the
 * caller's directory), as a job of its supervisor (progress and job-cancel as for any job).
 * The file appears under its name only when complete; on failure there is none and the domain
 * is as it was. Returns once the file is complete and, without -c/-p, the domain gone. */
int kxl_domain_save(const kxl_paths *p, const char *dom, const char *file,
                    const kxl_save_opts *o);

typedef struct {
    bool paused;              /* -p: leave the restored domain paused */
    const char *config_file;  /* CFG: start with this config instead of the one in the file
                               * (its devices must be the saved domain's) */
    const char *supervisor;   /* path of kxl-supervisor; NULL: next to this binary */
} kxl_restore_opts;
/* Starts a domain from a save file: its header is checked first (a foreign, damaged,
 * truncated or newer file is refused before QEMU starts), then QEMU loads the stream; a stream
 * QEMU refuses leaves nothing running. The domain keeps the saved name and UUID; a domain of
 * that name must not exist. *name_r (caller frees; may be NULL) and *domid_r (may be NULL)
 * get the new domain's. */
int kxl_domain_restore(const kxl_paths *p, const char *file, const kxl_restore_opts *o,
                       char **name_r, unsigned *domid_r);

/* ---- resources: vCPUs, memory, CPU weight and cap ---- */

/* xl vcpu-set: the domain runs n vCPUs (1..maxvcpus), by hot-plugging CPUs into QEMU or asking
 * the guest to let the highest ones go (returns once it did: the guest must cooperate, within
 * 30 s). Hot-plugged CPUs are online once the guest brings them online. */
int kxl_domain_vcpu_set(const kxl_paths *p, const char *dom, unsigned n);
/* xl mem-set: the balloon's target, 16 MiB to the domain's maxmem (the guest's memory follows
 * as its balloon driver gives pages back or takes them). Needs a balloon: maxmem above memory
 * when the domain was created. */
int kxl_domain_mem_set(const kxl_paths *p, const char *dom, uint64_t mib);
/* xl mem-max: the ceiling of later mem-sets, from the domain's memory to its maxmem (the RAM
 * its QEMU boots with, which stays: a restore's QEMU must have the saved one's). */
int kxl_domain_mem_max(const kxl_paths *p, const char *dom, uint64_t mib);
/* xl's size syntax for mem-set and mem-max: a number with an optional suffix b, k, m, g or t
 * (any case; none means m), as a whole number of MiB. -1 with kx_err (KXL_ERR_INVALID). */
int kxl_mem_size_parse(const char *text, uint64_t *mib_r);

/* A domain's credit-scheduler parameters, as xl sched-credit shows and sets them. */
typedef struct {
    char name[KXL_NAME_MAX + 1];
    unsigned domid;
    int weight;   /* 1..65535; in a request, KXL_SCHED_UNCHANGED: left as it is */
    int cap;      /* percent of one CPU, 0: none; in a request, KXL_SCHED_UNCHANGED */
} kxl_sched_info;
#define KXL_SCHED_UNCHANGED INT_MIN
/* xl sched-credit -d DOM -w W -c C: the weight and cap given to the domain's cgroup's CPU
 * controller, and kept (list -l, a restart). Values out of range are refused (nothing changes). */
int kxl_domain_sched_set(const kxl_paths *p, const char *dom, const kxl_sched_info *set);
/* The parameters of dom, or of every domain when dom is NULL (by domain id). *infos_r: free. */
int kxl_sched_list(const kxl_paths *p, const char *dom, kxl_sched_info **infos_r, size_t *n_r);
/* xl's table: the header ("Name ID Weight Cap") and a domain's row; caller frees the row. */
const char *kxl_sched_header(void);
char *kxl_sched_line(const kxl_sched_info *s);
/* A domain's parameters as JSON: {name, domid, weight, cap}. Caller puts. */
json_object *kxl_sched_to_json(const kxl_sched_info *s);
/* ---- live migration (xl's ssh transport) ---- */

typedef struct {
    /* the transport: NULL runs "ssh HOST kxl migrate-receive"; another command replaces ssh;
     * "" makes HOST the whole command (any transport: "env KXL_ROOT=/b kxl migrate-receive") */
    const char *ssh_command;
    /* --relocation: HOST is HOST[:PORT] of a kxld relocation server (mutual TLS with the
     * certificates of kxl tls-setup) and ssh_command is not used */
    bool relocation;
    const char *config_file;  /* -C: the config the receiver starts instead of the domain's */
    bool paused;              /* -p: leave it paused on the receiver */
    bool debug;               /* --debug: each protocol step told through the log sink */
    unsigned downtime_ms;     /* the longest pause at switchover; 0: QEMU's 300 ms */
    unsigned bandwidth_mib;   /* MiB/s at most; 0: as fast as the transport takes it */
    /* --copy-storage: the writable disks the receiver does not have (no file at their path)
     * are made there empty and copied through the transport before the memory moves */
    bool copy_storage;
    /* --postcopy: after the first pass over memory the guest runs on the receiver, which
     * fetches the pages it lacks from this host: a bounded downtime whatever the guest
     * dirties, but a failure from then on (the link, either host) loses the guest */
    bool postcopy;
} kxl_migrate_opts;

/* A migration's progress as the sending QEMU reports it (query-migrate), every half second
 * while memory moves, then once at the handover (phase "handover": the final figures), and
 * with --postcopy once more when QEMU sent the rest (phase "done": the final figures, the
 * downtime among them). */
typedef struct {
    const char *phase;        /* "mirroring" (--copy-storage), "transferring", "handover",
                               * "cancelling", "done" (--postcopy) */
    int percent;
    uint64_t transferred, remaining, total;   /* bytes of guest memory */
    uint64_t rate, dirty_rate;                /* bytes per second */
    unsigned pass;                            /* passes over memory so far */
    unsigned expected_downtime_ms;
    unsigned downtime_ms, total_time_ms;      /* known at the handover */
    /* the guest switched to postcopy: at the handover QEMU has no figures yet; they come
     * with phase "done", where downtime_ms is 0 (QEMU measures no downtime for postcopy)
     * and postcopy_ms is the time from the switch to postcopy until the receiver had all the
     * guest's memory (the guest ran there meanwhile, fetching the pages it lacked) */
    bool postcopy;
    unsigned postcopy_ms;
} kxl_migrate_progress;
typedef void (*kxl_migrate_progress_fn)(const kxl_migrate_progress *pr, void *opaque);
/* Whether pr carries the migration's final figures, downtime included: the handover's, or
 * with postcopy the "done" that follows it. */
bool kxl_migrate_progress_final(const kxl_migrate_progress *pr);
/* Pure: the final figures of pr as one line, "N MiB sent in S s over P passes, downtime D ms",
 * or with postcopy "..., postcopy for D ms (the guest ran on the receiver from the switch,
 * fetching the pages it lacked; QEMU measures no downtime for postcopy)". Caller frees. */
char *kxl_migrate_summary(const kxl_migrate_progress *pr);

/* Moves the running (or paused) domain DOM to host while it runs: the receiver checks first
 * that it can run it (a refusal lists everything missing, and nothing moves), then QEMU's live
 * migration goes through the transport, and the receiver's copy runs only once this one has
 * stopped and released its disks. On success the domain is gone here and runs (or is paused)
 * there under its name. A failure before the receiver is told to go leaves the domain here as
 * it was and nothing there; a failure after it is reported as such, with each side's state.
 * progress (may be NULL) is called from this thread. */
int kxl_domain_migrate(const kxl_paths *p, const char *dom, const char *host,
                       const kxl_migrate_opts *o, kxl_migrate_progress_fn progress,
                       void *opaque);

typedef struct {
    bool paused;              /* -p: leave the domain paused once received */
    bool debug;
    const char *supervisor;   /* path of kxl-supervisor; NULL: next to this binary */
    /* kxld's relocation server: QEMU's stream comes apart from the protocol, as a TCP
     * connection to stream_listen_fd from the address stream_peer, which QEMU's own TLS
     * wraps; without stream_apart it follows the header on in_fd */
    bool stream_apart;
    int stream_listen_fd;
    const char *stream_peer;
} kxl_migrate_receive_opts;
/* The receiving side: speaks the protocol on in_fd (from the sender) and out_fd (to it),
 * checks the domain's header before anything starts, and starts the domain from the stream.
 * Nothing is left when it fails before the sender's go. *name_r (caller frees; may be NULL)
 * gets the domain's name. */
int kxl_domain_migrate_receive(const kxl_paths *p, int in_fd, int out_fd,
                               const kxl_migrate_receive_opts *o, char **name_r);
/* Removes the disk files that receivers killed before their domain's supervisor took over
 * made for --copy-storage (their record under ROOT/var/lib/kxl/incoming/), each only while it
 * is the file made; a notice for each. kxld calls it at its start and after each relocation;
 * kxl_domain_migrate_receive at its own start. */
void kxl_migrate_clean_leftovers(const kxl_paths *p);
