/* sv.h - the per-domain supervisor: one process per running domain that owns
 * QEMU (as its child), the QMP connection, the serial console with its
 * scrollback, the control socket and the lifecycle policy. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kxl/kxl.h"
#include "lib/cgroup.h"
#include "lib/status.h"
#include "migrate/mig_header.h"
#include "qemu/qemu_argv.h"
#include "qemu/qmp.h"
#include "supervisor/sv_lifecycle.h"
#include "util/loop.h"

#define SV_RING_SIZE (64 * 1024)
#define SV_MAX_CLIENTS 16

typedef struct {
    char data[SV_RING_SIZE];
    size_t head;      /* next write position */
    bool wrapped;
} sv_ring;

typedef struct sv {
    kxl_paths paths;
    char *name;                /* owned */
    char *dir;                 /* runtime directory */
    kxl_domcfg *cfg;
    char *extra;               /* with pygrub: the config's own command line, appended */
    kxl_accel accel;
    bool start_paused;
    char *machine;             /* the concrete machine type a restore needs; NULL: "pc" */
    json_object *restore;      /* {file, offset, qemu_version}: the state to start from, until
                                * it is loaded (domain.json's "restore"); NULL: a boot */
    kx_status st;
    kx_loop *loop;

    sv_lc_state lc;            /* the lifecycle state; only sv_transition moves it */
    pid_t qemu_pid;
    pid_t tpm_pid;             /* vtpm: the swtpm of this QEMU, 0: none (sv_tpm.c) */
    int qemu_pidfd;
    qmp_conn *qmp;
    /* QEMU is not our child: this supervisor took it over from one that died, so its exit is
     * seen through the pidfd only, with no waitpid and no exit status. A fact about the
     * process rather than a lifecycle state: an adopted QEMU runs, pauses, crashes and is
     * restarted (as our child, then) like any other. */
    bool adopted;
    /* The pipe to the command that created the domain, for its verdict; an incoming
     * migration keeps it until the sender's go (sv_migrate.c), -1 otherwise. */
    int lifeline_fd;
    bool incoming;             /* started from a migration stream, waiting for the go */
    json_object *nbd_disks;    /* --copy-storage: the disks QEMU's NBD server exports, or NULL */
    kx_strv incoming_made;     /* ... their files, which the receiving command made empty:
                                * removed when the domain ends before the go */
    long long nbd_blocks;      /* their files' blocks when last looked at (sv_nbd_busy) */
    int kill_timer_fd;         /* armed while QEMU was asked to quit: kills it if it does not */
    struct sv_job *job;        /* the long operation running, or NULL (sv_job.c) */
    unsigned qemu_jobs;        /* QEMU jobs started, for their ids */
    struct sv_watch *watch;    /* event subscribers and kept events (sv_watch.c) */
    struct sv_stats_req *stats_waiting;  /* stats requests waiting for QEMU (sv_stats.c) */
    uint64_t balloon_bytes;    /* the guest's memory as QEMU's last BALLOON_CHANGE said; 0: none */

    char *console_sock;        /* the console's socket in dir ("serial0.sock", "hvc0.sock"),
                                  chosen at each start (sv_console_choose); NULL: none */
    int serial_fd;             /* QEMU's console socket */
    int console_listen_fd;
    int console_fds[SV_MAX_CLIENTS];
    sv_ring ring;
    FILE *console_log;

    int control_listen_fd;
    struct control_client *control_clients;  /* list, owned */
    struct control_client *serving;          /* whose request is being handled, or NULL */
    unsigned long long control_seq;          /* the last client's number */
    FILE *event_log;
    int exit_code;
    kx_cgroup cgroup;          /* QEMU's own cgroup (lib/cgroup.h); no dirs: none */
} sv;

/* sv_qemu.c */
int sv_qemu_start(sv *s);
/* Connects to QEMU's monitor and watches QEMU's exit; with report_start, a
 * failure quotes QEMU's own last words as the reason it did not start. */
int sv_qemu_attach(sv *s, bool report_start);
/* The running QEMU's version, "7.2.22" (caller frees), or NULL with kx_err. */
char *sv_qemu_version(sv *s);
/* Before a job's synchronous QMP calls: 0 when QEMU answers query-status within
 * SV_QEMU_ANSWER_MS; else -1 with kx_err saying that it cannot `what` and why, at once when
 * QEMU's process is stopped (SIGSTOP), whose calls would each wait out their timeouts. */
#define SV_QEMU_ANSWER_MS 2000
int sv_qemu_answering(sv *s, const char *what);
/* QEMU's last lines (up to lines) in its log, joined by "; ", without its prefixes: why it
 * refused to start or to load a stream. Caller frees. */
char *sv_qemu_words(sv *s, int lines);
/* Records the vCPU threads (status file) and pins them as cpus / cpus_soft ask: at start and
 * after a vCPU hot-plug. */
void sv_vcpus_record_and_pin(sv *s);
/* Settings applied once to a fresh QEMU: vCPU pinning, balloon target. */
void sv_qemu_configure(sv *s);
/* A fresh QEMU for the domain once the old one is gone, started, configured and running the
 * guest; 0, or -1 with kx_err. */
int sv_qemu_start_again(sv *s);

/* sv_policy.c: the lifecycle policy */
/* Moves the lifecycle by ev as the table allows (sv_lifecycle.c), records the state the
 * domain shows in its status file and tells subscribers ("state"); a job that cannot go on
 * in the new state ends. -1 with kx_err, and an event-log line, when the table refuses ev in
 * the current state (nothing changes then). */
int sv_transition(sv *s, sv_lc_event ev);
/* The domain ends with QEMU gone: the lifecycle reaches its end ("destroyed") and the loop
 * stops. */
void sv_end(sv *s);
/* QEMU has exited (how: "signal 9" and the like, NULL when not known): a restart, the end
 * asked for, or a crash. */
void sv_qemu_exited(sv *s, const char *how);
/* QEMU is gone without being asked to go: on_crash decides. */
void sv_qemu_died(sv *s);
/* The guest was paused (runs false) or let run again, by a command or QEMU on its own: a
 * running or paused domain moves to match; others stay as they are. */
void sv_guest_runs(sv *s, bool runs);
/* An event from QEMU's monitor: the running job's, or the guest's doing. */
void sv_qmp_event(sv *s, const char *event, json_object *data);
/* Runs the lifecycle action for a guest-initiated stop. */
void sv_apply_action(sv *s, kxl_action action, const char *why);
void sv_destroy(sv *s, const char *why);
/* Resets the guest the hard way: a fresh QEMU (xl trigger reset, reboot -F). */
void sv_hard_reset(sv *s, const char *why);

/* sv_console.c */
/* Connects the serial console and listens for clients; fresh truncates the
 * console log, otherwise (adoption) its tail becomes the scrollback. */
int sv_console_init(sv *s, bool fresh);
/* After QEMU was restarted: connects to the new QEMU's serial port. */
int sv_console_reconnect(sv *s);
/* Picks the console for this start from the final kernel command line (a pygrub entry's
 * included) and records it in the runtime directory; an adopter recalls the record. */
void sv_console_choose(sv *s);
void sv_console_recall(sv *s);
void sv_console_dispose(sv *s);

/* sv_control.c */
int sv_control_init(sv *s);
/* Closes the listening socket and every client. */
void sv_control_dispose(sv *s);
/* What a command returns when its reply comes later, through sv_control_answer. */
extern json_object *const sv_deferred;
#define SV_DEFERRED sv_deferred
/* The client whose request is being handled, as a token for sv_control_answer (for a command
 * that returns SV_DEFERRED). */
void *sv_control_defer(sv *s);
/* The deferred reply to the client of token: ret (taken) or, when NULL, the error kx_err
 * holds. A client that hung up meanwhile gets nothing. */
void sv_control_answer(sv *s, void *token, json_object *ret);
/* A job's end as the deferred reply to the client that started it (opaque: its token). */
void sv_control_job_done(sv *s, json_object *ret, void *opaque);
/* The descriptor sent along with the request being served (SCM_RIGHTS), now the caller's; -1
 * when none came. */
int sv_control_take_fd(sv *s);

/* sv_watch.c: event subscribers */
/* Sends the event NAME with data (taken; NULL: {}) to every subscriber; with keep, it is also
 * kept for subscribers that ask for the history. */
void sv_notify(sv *s, const char *name, json_object *data, bool keep);
/* The connected client fd (taken) becomes a subscriber; with history it first gets the kept
 * events. 0, or -1 with kx_err (fd closed). */
int sv_watch_add(sv *s, int fd, bool history);
/* Sends what the sockets take of the last events and closes every subscriber. */
void sv_watch_dispose(sv *s);

/* sv_job.c: long operations, one at a time */
/* Called once when a job ends: ret (taken; the reply value) when it completed, NULL with
 * kx_err when it failed, was cancelled or did not finish. */
typedef void (*sv_job_done_fn)(sv *s, json_object *ret, void *opaque);
/* What a kind of job does in QEMU. Replies to the commands a job sends without waiting go to
 * opaque s; they are forgotten when the job ends. */
typedef struct {
    const char *kind;     /* "snapshot", "dump": on the wire */
    const char *noun;     /* "a snapshot", "a memory dump": in sentences */
    const char *query;    /* QMP query asked for progress, or NULL ... */
    int poll_ms;          /* ... this often (0: every half second) */
    /* The phase once QEMU accepted the command that starts the job (sv_job_accepted). */
    const char *accepted_phase;
    /* The reply to query: calls sv_job_progress. */
    void (*progress)(sv *s, json_object *ret);
    bool holds_guest;     /* QEMU's STOP and RESUME meanwhile are the job's, not a pause */
    int timeout_ms;       /* the job fails after this long (0: never) ... */
    void (*timed_out)(sv *s);   /* ... with the error this records */
    /* A QMP event while the job runs; true when it was the job's. */
    bool (*event)(sv *s, const char *event, json_object *data);
    /* Makes the job end as cancelled; -1 with kx_err when it cannot (NULL: never). */
    int (*cancel)(sv *s);
    /* The client waiting for the job's end hung up (NULL: the job is cancelled when it can
     * be, through cancel, and goes on otherwise). */
    void (*owner_gone)(sv *s);
    void (*dispose)(void *priv);
} sv_job_ops;
/* 0 when no job runs, else -1 with kx_err(KXL_ERR_BUSY, "domain 'X' is busy: a snapshot is
 * running (saving, 42%)"). */
int sv_job_check_idle(sv *s);
/* Records the job (s->job; no other may run) of ops with priv (taken, ops->dispose) working on
 * info (taken: its members show in the job's status); done runs at its end. The caller then
 * sets it going in QEMU; once started, the job ends only through sv_job_finish. */
void sv_job_start(sv *s, const sv_job_ops *ops, void *priv, json_object *info,
                  sv_job_done_fn done, void *opaque);
/* The running job's kind ("save", "migrate"), or NULL. */
const char *sv_job_kind(sv *s);
/* The running job's priv, or NULL. */
void *sv_job_priv(sv *s);
/* A cancel was asked for (sv_job_cancel accepted it). */
bool sv_job_cancelling(sv *s);
/* The running job reached phase (a static string) and percent (-1: unchanged). */
void sv_job_progress(sv *s, const char *phase, int percent);
/* The running job's own figures (stats, taken), shown in its status and sent to subscribers
 * in a "job" event at once. */
void sv_job_stats(sv *s, json_object *stats);
/* The control client of token (sv_control_defer) hung up: the job it waits for, if any, is
 * told (ops->owner_gone), or cancelled: nobody would learn how it ended (a kxld killed while
 * its worker waited, a command killed), so what it made must not stay. */
void sv_job_owner_gone(sv *s, void *token);
/* QMP reply callback (opaque s) for the command that sets a job going and ends with an event:
 * an error ends the job, an acceptance moves it to its ops' accepted_phase. */
void sv_job_accepted(json_object *ret, void *opaque);
/* Ends the running job: completed with ret (taken), or failed/cancelled with kx_err when NULL. */
void sv_job_finish(sv *s, json_object *ret);
/* Ends the running job, if any, as not finished because of why (QEMU or the domain went). */
void sv_job_abort(sv *s, const char *why);
/* job-cancel: 0 when the running job will end as cancelled, -1 with kx_err. */
int sv_job_cancel(sv *s);
/* Hands a QMP event to the running job; true when it was the job's. */
bool sv_job_event(sv *s, const char *event, json_object *data);
/* The running job as `status` shows it (new), or NULL. */
json_object *sv_job_status(sv *s);

/* sv_snapshot.c: snapshot-create/-revert/-delete as jobs, snapshot-list */
json_object *sv_snapshot(sv *s, json_object *args);

/* sv_unplug.c: hot-unplug as a job */
/* Called once the device is gone, to release what it used. */
typedef void (*sv_unplugged_fn)(sv *s, size_t index);
/* Starts a job that asks the guest to let the device id go (device_del) and waits for QEMU's
 * DEVICE_DELETED, at most 15 s ("the guest did not release WHAT within 15 s"); then
 * unplugged(s, index) runs and the control client being served gets its reply. 0, or -1 with
 * kx_err. */
int sv_unplug_start(sv *s, const char *id, const char *what, size_t index,
                    sv_unplugged_fn unplugged);

/* sv_save.c: kxl save as a job */
/* save {file (absolute), after: "destroy" | "pause" | "keep", config (optional: what the
 * header records instead of the running config)}: answered when the file is complete. */
json_object *sv_save(sv *s, json_object *args);
/* What the header of a save file or migration stream says about this domain (*h, zeroed by
 * the caller; mig_header_dispose): QEMU's version, the concrete machine type, the CPU model,
 * the accelerator, and config (borrowed) or, when NULL, the domain's own config. */
int sv_state_header(sv *s, json_object *config, mig_header *h);
/* Adopting a domain whose supervisor died during a save: the save is cancelled in QEMU, its
 * temporary file removed, and the guest let run again if it ran (was_running). */
void sv_save_recover(sv *s, bool was_running);

/* sv_migrate.c: kxl migrate, sending and receiving */
/* migrate-header {config (optional)}: the stream header's JSON part (mig_header_to_json). */
json_object *sv_migrate_header(sv *s, json_object *args);
/* migrate {host, downtime_ms, bandwidth_mib} with the transport's descriptor: a job answered
 * when the migration is handed over (migrate-commit) or called off (job-cancel, a failure). */
json_object *sv_migrate(sv *s, json_object *args);
/* migrate-commit: the receiver runs the domain; this copy is destroyed. */
json_object *sv_migrate_commit(sv *s, json_object *args);
/* Turns on QEMU's migration capabilities names[0..n). 0, or -1 with kx_err. */
int sv_migrate_capabilities(sv *s, const char *const *names, size_t n);
/* sv_mirror.c: kxl migrate --copy-storage, the sending side's disks */
typedef struct sv_mirror sv_mirror;
/* The writable disks, as a migration header's copy_storage: [{vdev, size, format}] (new), or
 * NULL with kx_err. */
json_object *sv_mirror_disks(sv *s);
/* The set of mirrors of the disks of vdevs (a JSON array of names), not started; NULL with
 * kx_err when the domain has no such writable disk. */
sv_mirror *sv_mirror_new(sv *s, json_object *vdevs);
/* Mirrors each disk into an NBD node on a connection of its own to the relay socket
 * mirror.sock of the runtime directory (the sending command's); speed: bytes/s at most (0: no
 * limit). Their events may come meanwhile. 0, or -1 with kx_err (the started ones cancelled). */
int sv_mirror_start(sv *s, sv_mirror *m, int64_t speed);
/* A QMP event of one of the set's jobs (true) or not (false). */
bool sv_mirror_event(sv_mirror *m, const char *event, json_object *data);
bool sv_mirror_ready(const sv_mirror *m);    /* every mirror converged */
bool sv_mirror_done(const sv_mirror *m);     /* every mirror completed: the copies identical */
bool sv_mirror_active(const sv_mirror *m);   /* some job still runs */
const char *sv_mirror_error(const sv_mirror *m);   /* the first failure, or NULL */
/* Ends each (ready) mirror as complete: the guest must be stopped. */
void sv_mirror_complete(sv *s, sv_mirror *m);
/* Cancels the jobs that still run (the copies are abandoned). */
void sv_mirror_abort(sv *s, sv_mirror *m);
void sv_mirror_free(sv_mirror *m);
/* Any QMP event: a kxl mirror job that ended has its NBD node removed. */
void sv_mirror_reap(sv *s, const char *event, json_object *data);
/* Asks QEMU how far the mirrors are; the migrate job's progress follows ("mirroring"). */
void sv_mirror_progress(sv *s);
/* sv_nbd.c: kxl migrate --copy-storage, the receiving side's disks */
/* Before the incoming stream: QEMU's NBD server on a Unix socket of the runtime directory,
 * listening (nbd.sock, 0600, QEMU given the listening descriptor) only once every disk of
 * vdevs (a JSON array) is exported writable, for the relay of the receiving command to
 * connect to. 0, or -1 with kx_err. */
int sv_nbd_export(sv *s, json_object *vdevs);
/* The disks' files grew or changed since the last call (the copy goes on). */
bool sv_nbd_busy(sv *s);
/* Stops the NBD server (the copies are complete once the stream is) and removes its socket. */
void sv_nbd_stop(sv *s);
/* sv_tls.c: QEMU's own TLS on the next migration stream, with the host's relocation
 * certificates: the client end checking that the server's certificate names hostname, or
 * (hostname NULL) the server end; both demand the CA's certificate from the peer. 0, or -1
 * with kx_err. sv_tls_off (asynchronous, never failing) makes the next stream plain again. */
int sv_tls_on(sv *s, const char *hostname);
void sv_tls_off(sv *s);
/* The domain runs (or is paused): "OK" to its creator; an incoming migration keeps the pipe
 * as its lifeline, whose loss before the go destroys the domain. */
void sv_incoming_started(sv *s);
/* Whether the receiving command went away (its end of the lifeline is closed). */
bool sv_incoming_receiver_gone(sv *s);
void sv_incoming_drop_lifeline(sv *s);
/* --copy-storage: the files of the disks restore's "nbd_export" names (the receiving command
 * made them empty for the sender's mirrors) are noted, and removed by sv_incoming_unmake at
 * the domain's end if no go came: also when the receiving command was killed, which would
 * otherwise leave them behind. */
void sv_incoming_note_made(sv *s, json_object *restore);
void sv_incoming_unmake(sv *s);
/* incoming-commit {paused}: the sender gave the go; the guest runs unless paused. */
json_object *sv_incoming_commit(sv *s, json_object *args);

/* sv_restore.c: the guest's state from a save file, while the domain starts */
/* Feeds the saved stream to a QEMU started with -incoming defer and waits until it is
 * loaded (the guest stays paused). 0, or -1 with kx_err: QEMU refused it (it exits then). */
int sv_restore(sv *s);

/* sv_dump.c: guest memory as an ELF core */
/* Starts a memory dump job into path (created 0600, an existing file truncated); done runs at
 * its end. 0, or -1 with kx_err when it did not start. */
int sv_dump_start(sv *s, const char *path, sv_job_done_fn done, void *opaque);

/* sv_stats.c: what top asks each frame */
/* stats: {memory_kib, maxmem_kib, vifs: [tap names], disks: [{vdev, rd_operations,
 * wr_operations, rd_bytes, wr_bytes, failed_operations}]}; the disks from one
 * query-blockstats, answered later (SV_DEFERRED); at once when QEMU is gone or there are no
 * disks to ask about. */
json_object *sv_stats(sv *s, json_object *args);
/* QEMU's BALLOON_CHANGE event. */
void sv_balloon_changed(sv *s, json_object *data);
/* Answers the stats requests still waiting, without disks: QEMU or the supervisor goes. */
void sv_stats_flush(sv *s);

/* sv_display.c: the VNC password to QEMU (at each start of QEMU); the `display` verb:
 * {vnc: {family, host, port | path, password: bool}} */
void sv_display_configure(sv *s);
json_object *sv_display(sv *s, json_object *args);

/* sv_vcpu.c: vcpu-pin {vcpu: "all"|N, cpus: SPEC} */
json_object *sv_vcpu_pin(sv *s, json_object *args);

/* sv_resource.c: vcpu-set {vcpus}, mem-set {memory_mib}, mem-max {maxmem_mib},
 * sched {weight?, cap?} */
json_object *sv_vcpu_set(sv *s, json_object *args);
json_object *sv_mem_set(sv *s, json_object *args);
json_object *sv_mem_max(sv *s, json_object *args);
json_object *sv_sched(sv *s, json_object *args);
/* A new QEMU for the domain: what the last one's CPU unplugs barred is allowed again. */
void sv_vcpus_fresh_qemu(sv *s);

/* sv_net.c: control commands network-attach / network-detach */
json_object *sv_net_attach(sv *s, json_object *args);
json_object *sv_net_detach(sv *s, json_object *args);

/* sv_block.c: block-attach/-detach, cd-insert/-eject, snapshots */
json_object *sv_block_attach(sv *s, json_object *args);
json_object *sv_block_detach(sv *s, json_object *args);
json_object *sv_cd_change(sv *s, json_object *args);

/* sv_chain.c: a disk's image and the files below it, as descriptors */
/* Hands descriptors fds[0..n) (the caller keeps them) to QEMU as one fd set tagged tag;
 * returns the set's "/dev/fdset/N" (caller frees), or NULL with kx_err. */
typedef char *(*sv_fd_place_fn)(void *ctx, const int *fds, size_t n, const char *tag);
typedef struct {
    char *fdset;            /* the image's set, "/dev/fdset/N" */
    bool block;             /* the image is a block device */
    json_object *backing;   /* the node of the files below it; NULL: none */
} sv_image;
/* Opens d's image (read-only, and read-write unless d is read-only) and its backing chain,
 * each file below as the owner of the image naming it, places them through place, and fills
 * *img_r (sv_image_dispose). 0, or -1 with kx_err (sets already placed stay: the caller
 * drops those tagged tag). */
int sv_image_open(const kxl_disk *d, const char *tag, sv_fd_place_fn place, void *ctx,
                  sv_image *img_r);
void sv_image_dispose(sv_image *img);

/* sv_disks.c: the disks QEMU starts with, handed over as descriptors */
typedef struct {
    int first_fd;               /* QEMU finds fds[k] as descriptor first_fd + k */
    int *fds;
    size_t n_fds;
    int next_set;
    kx_strv add_fds;            /* the -add-fd values that make the fd sets */
    kx_disk_source *sources;    /* one per cfg->disks entry (kx_host.disk_sources) */
    sv_image *images;           /* what the sources point into */
    size_t n_disks;
} sv_boot_disks;
/* Opens every plugged disk's image and backing chain; 0, or -1 with kx_err. */
int sv_boot_disks_open(const kxl_domcfg *cfg, int first_fd, sv_boot_disks *b);
/* Closes the supervisor's copies (QEMU has its own once it runs) and frees the rest. */
void sv_boot_disks_dispose(sv_boot_disks *b);

/* sv_fds.c: files opened by the supervisor for a QEMU that no longer may (see there) */
/* Opens path read-only into a new fd set tagged opaque (a CD-ROM's medium); "/dev/fdset/N"
 * (caller frees), or NULL with kx_err. */
char *sv_fdset_open(sv *s, const char *path, const char *opaque);
/* Puts fds[0..n) (the caller keeps them) into a new fd set tagged opaque; "/dev/fdset/N"
 * (caller frees) or NULL with kx_err. */
char *sv_fdset_add(sv *s, const int *fds, size_t n, const char *opaque);
/* Removes the fd sets tagged opaque, except keep ("/dev/fdset/N" or NULL); errors ignored
 * (kx_err may be set). */
void sv_fdset_drop(sv *s, const char *opaque, const char *keep);
/* Removes one fd set ("/dev/fdset/N"). */
void sv_fdset_remove(sv *s, const char *fdset);
/* Opens path for writing (created 0600, an existing file truncated) and gives it to QEMU as
 * the descriptor named fdname (getfd). 0, or -1 with kx_err. */
int sv_fd_give_for_writing(sv *s, const char *path, const char *fdname);
/* Gives QEMU a copy of fd (the caller keeps its own, sharing the file offset) as the
 * descriptor named fdname (getfd). 0, or -1 with kx_err. */
int sv_fd_give(sv *s, int fd, const char *fdname);

/* sv_main.c */
/* Appends a timestamped line to the domain's event log. */
void sv_event(sv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Rewrites one list of domain.json ("disks", "vifs") from s->cfg after a
 * hot-plug, so list, block-list/network-list and an adopting supervisor see it. */
int sv_save_config_list(sv *s, const char *key);
/* The same for the members keys (NULL-terminated) of domain.json: "memory", "vcpus". */
int sv_save_config_keys(sv *s, const char *const *keys);

/* sv_pci.c: pci-attach {bdf, vslot} of a device the caller made assignable, and pci-detach
 * {bdf} as a hot-unplug job. */
json_object *sv_pci_attach(sv *s, json_object *args);
json_object *sv_pci_detach(sv *s, json_object *args);

/* sv_tpm.c: vtpm's swtpm, as uid (0: root, as QEMU); *socket_r gets the control socket
 * QEMU connects to (NULL without vtpm). Stopped when QEMU is gone. */
int sv_tpm_start(sv *s, uid_t uid, char **socket_r);
void sv_tpm_stop(sv *s);

/* sv_config.c: config-update's verb keeps the new config; a restart takes it first. */
json_object *sv_config_update(sv *s, json_object *args);
void sv_config_take_update(sv *s);
/* A new object {k1: v1} or, with k2, {k1: v1, k2: v2} (string values). */
json_object *sv_obj2(const char *k1, const char *v1, const char *k2, const char *v2);
/* Records in s->st (not yet in the file) the plugged disks and vifs and the balloon. */
void sv_status_devices(sv *s);
/* A listening Unix socket at DIR/name, owner-only. */
int sv_listen(sv *s, const char *name);
