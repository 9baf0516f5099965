/* kxl.h - public API of libkxl: host paths, domain create/destroy/list,
 * the accelerator choice, host facts. Errors: -1/NULL with the message in
 * kxl_last_error(); nothing here prints or exits. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kxl/domcfg.h"
#include "kxl/errors.h"

/* Where kxl keeps its state: everything under one root (KXL_ROOT, default /). */
typedef struct {
    char *root;
    char *etc_dir;   /* ROOT/etc/kxl */
    char *run_dir;   /* ROOT/run/kxl      (0700: sockets live here) */
    char *lib_dir;   /* ROOT/var/lib/kxl */
    char *log_dir;   /* ROOT/var/log/kxl */
} kxl_paths;

/* Fills p from root (NULL: $KXL_ROOT or "/") and creates the directories. */
int kxl_paths_init(kxl_paths *p, const char *root);
void kxl_paths_dispose(kxl_paths *p);
/* ROOT/run/kxl/NAME[/FILE]; caller frees. */
char *kxl_domain_dir(const kxl_paths *p, const char *name);
char *kxl_domain_file(const kxl_paths *p, const char *name, const char *file);

const char *kxl_last_error(void);
kxl_errcode kxl_last_error_code(void);

/* ---- host facts ---- */

/* Whether KVM can run a normal guest here; *why_r (caller frees) says why not. */
bool kxl_kvm_usable(char **why_r);
/* Resolves the accelerator for a requested one (auto -> kvm or tcg). With
 * auto and no usable KVM, *notice_r gets the one-line notice to show. */
int kxl_accel_resolve(kxl_accel want, kxl_accel *got_r, char **notice_r);
unsigned kxl_host_cpus(void);
/* The QEMU binary: $KXL_QEMU or qemu-system-x86_64 from PATH. Caller frees. */
char *kxl_qemu_binary(void);
/* The user QEMU becomes once it has opened what it needs: $KXL_QEMU_USER, by default
 * "kxl-qemu" (tools/install-deps.sh creates it, as a package would). NULL when QEMU must
 * stay root: the variable says "root", or the user does not exist (*why_r, caller frees,
 * says which). Caller frees. */
char *kxl_qemu_user(char **why_r);

/* Each domain's QEMU runs as a uid and gid of its own, with no passwd entry, from a range
 * outside those systemd and distributions hand out (0x7E000000 + 0 .. 65535): one guest's
 * QEMU cannot signal, trace or read another's. The slot is the domain id's. */
#define KXL_QEMU_JAIL_UID_BASE 0x7E000000u
#define KXL_QEMU_JAIL_UIDS 65536u
unsigned kxl_qemu_jail_uid(unsigned domid);

/* What a domain's QEMU gets from this host: probed once by each start, and by the dry run
 * (create -n), so the dry run shows the command line QEMU really gets. */
typedef struct {
    char *qemu_binary;
    char *qemu_user;      /* the user QEMU becomes (-runas); NULL: it stays root ... */
    char *why_root;       /* ... for this reason */
    kxl_accel accel;      /* resolved: KVM or TCG */
    char *accel_notice;   /* the one-line notice when auto fell back to TCG, or NULL */
    bool sandbox;         /* QEMU's seccomp sandbox */
    bool vhost;           /* /dev/vhost-net carries virtio-net (KVM only) */
} kxl_host_facts;
/* Fills *f_r for a domain that asks for accelerator want; -1 with kxl_last_error() when it
 * cannot have it. kxl_host_facts_dispose frees it. */
int kxl_host_probe(kxl_accel want, kxl_host_facts *f_r);
void kxl_host_facts_dispose(kxl_host_facts *f);

/* ---- domains ---- */

/* The state of a domain as seen from outside its supervisor. */
typedef enum {
    KXL_STATE_STARTING,
    KXL_STATE_RUNNING,
    KXL_STATE_PAUSED,
    KXL_STATE_SHUTDOWN,   /* guest shut down, kept by on_* = preserve */
    KXL_STATE_CRASHED,
    KXL_STATE_DYING,
} kxl_state;
const char *kxl_state_to_string(kxl_state s);
int kxl_state_from_string(const char *s);

/* What list shows for one domain. */
typedef struct {
    char name[KXL_NAME_MAX + 1];
    char uuid[37];
    unsigned domid;
    kxl_state state;
    bool running;            /* a vCPU thread is on a CPU right now */
    bool blocked;            /* all vCPU threads sleep */
    uint64_t memory_mib;
    unsigned vcpus;
    double cpu_seconds;      /* guest CPU time (the vCPU threads) */
    pid_t qemu_pid;
    pid_t sv_pid;
    bool sv_alive;
    double started;          /* wall-clock time of creation */
} kxl_dominfo;

/* All domains, sorted by domid. *infos_r is freed by the caller. */
int kxl_domain_list(const kxl_paths *p, kxl_dominfo **infos_r, size_t *n_r);
/* One domain by name or numeric id. */
int kxl_domain_lookup(const kxl_paths *p, const char *name_or_id, kxl_dominfo *info_r);

typedef struct {
    bool paused;               /* -p: leave the guest paused after creation */
    const char *supervisor;    /* path of kxl-supervisor; NULL: next to this binary */
    /* a restore (kxl_domain_restore): the guest starts from a saved state instead of a boot */
    const char *restore_file;  /* absolute; NULL: a boot */
    uint64_t restore_offset;   /* where QEMU's stream starts in it */
    const char *restore_qemu;  /* the QEMU version that wrote it */
    const char *machine;       /* the concrete machine type it needs; NULL: QEMU's newest */
    /* an incoming migration (kxl_domain_migrate_receive): the stream from this descriptor,
     * already past kxl's header; the domain starts paused and waits for incoming-commit */
    bool incoming;
    int incoming_fd;
    bool incoming_tls;         /* QEMU's own TLS on it (server end, a client certificate of
                                * ROOT/etc/kxl/tls's CA demanded): kxl migrate --relocation */
    int *lifeline_r;           /* gets the pipe whose closing before the go destroys it */
    /* kxl migrate --copy-storage: the disks (vdevs, NULL-terminated) the sender copies in
     * before its stream, which QEMU's NBD server exports on the domain's nbd.sock; NULL */
    char *const *nbd_export;
    bool incoming_postcopy;    /* kxl migrate --postcopy: the guest runs before all its memory
                                * came (the domain is started once QEMU switched to postcopy) */
} kxl_create_opts;

/* Starts the domain; returns once the guest runs (or is paused, with -p).
 * *domid_r gets its id. On failure nothing is left behind. cfg->uuid is
 * generated when empty. */
int kxl_domain_create(const kxl_paths *p, kxl_domcfg *cfg, const kxl_create_opts *o,
                      unsigned *domid_r);
/* Ends the domain at once (QEMU killed) and waits until it is gone. */
int kxl_domain_destroy(const kxl_paths *p, const char *name);

/* Connects to the domain's console socket; returns the fd or -1. */
int kxl_console_connect(const kxl_paths *p, const char *name);
/* Connects to the domain's VNC server where its `display` says it listens (its Unix socket, or
 * the address QEMU reports for vnclisten); returns the fd (a stream of RFB) or -1. */
int kxl_vnc_connect(const kxl_paths *p, const char *name);
