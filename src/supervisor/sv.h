/* sv.h - the per-domain supervisor: one process per running domain that owns
 * QEMU (as its child), the QMP connection, the serial console with its
 * scrollback, the control socket and the lifecycle policy. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "kxl/kxl.h"
#include "lib/status.h"
#include "qemu/qemu_argv.h"
#include "qemu/qmp.h"
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
    kx_status st;
    kx_loop *loop;

    pid_t qemu_pid;
    int qemu_pidfd;
    qmp_conn *qmp;
    bool destroying;           /* QEMU's exit is expected */
    bool adopted;
    bool restarting;           /* QEMU ends for a restart: start a new one */
    struct sv_qevent *events;  /* QMP events waiting to be handled, in order */
    bool handling_event;
    char *deleted_device;      /* id of the last DEVICE_DELETED event */        /* we asked QEMU for a reset; continue on its RESET event */              /* QEMU is not our child: no waitpid, no exit status */

    int serial_fd;             /* QEMU's serial0 socket */
    int console_listen_fd;
    int console_fds[SV_MAX_CLIENTS];
    sv_ring ring;
    FILE *console_log;

    int control_listen_fd;
    struct control_client *control_clients;  /* list, owned */
    FILE *event_log;
    int exit_code;
} sv;

/* sv_qemu.c */
int sv_qemu_start(sv *s);
/* Connects to QEMU's monitor and watches QEMU's exit; with report_start, a
 * failure quotes QEMU's own last words as the reason it did not start. */
int sv_qemu_attach(sv *s, bool report_start);
/* Settings applied once to a fresh QEMU: vCPU pinning, balloon target. */
void sv_qemu_configure(sv *s);
/* QEMU is gone without being asked to go: on_crash decides. */
void sv_qemu_died(sv *s);
/* Runs the lifecycle action for a guest-initiated stop. */
void sv_apply_action(sv *s, kxl_action action, const char *why);
void sv_destroy(sv *s, const char *why);
/* Resets the guest the hard way: a fresh QEMU (xl trigger reset, reboot -F). */
void sv_hard_reset(sv *s, const char *why);
void sv_set_state(sv *s, kxl_state state);

/* sv_console.c */
/* Connects the serial console and listens for clients; fresh truncates the
 * console log, otherwise (adoption) its tail becomes the scrollback. */
int sv_console_init(sv *s, bool fresh);
/* After QEMU was restarted: connects to the new QEMU's serial port. */
int sv_console_reconnect(sv *s);
void sv_console_dispose(sv *s);

/* sv_control.c */
int sv_control_init(sv *s);
/* Closes the listening socket and every client. */
void sv_control_dispose(sv *s);

/* sv_net.c: control commands network-attach / network-detach */
json_object *sv_net_attach(sv *s, json_object *args);
json_object *sv_net_detach(sv *s, json_object *args);

/* sv_block.c: block-attach/-detach, cd-insert/-eject, snapshots */
json_object *sv_block_attach(sv *s, json_object *args);
json_object *sv_block_detach(sv *s, json_object *args);
json_object *sv_cd_change(sv *s, json_object *args);
json_object *sv_snapshot(sv *s, json_object *args);

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
/* dump-guest-memory into path (created 0600, an existing file is truncated). */
int sv_dump_guest_memory(sv *s, const char *path, int timeout_ms);

/* sv_main.c */
/* Appends a timestamped line to the domain's event log. */
void sv_event(sv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Rewrites one list of domain.json ("disks", "vifs") from s->cfg after a
 * hot-plug, so list, block-list/network-list and an adopting supervisor see it. */
int sv_save_config_list(sv *s, const char *key);
/* A listening Unix socket at DIR/name, owner-only. */
int sv_listen(sv *s, const char *name);
