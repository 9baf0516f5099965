/* migrate.h - what kxl restore and kxl migrate-receive share: a saved or received domain's
 * config made ready to start here, and the receiver's preflight. */
#pragma once

#include "kxl/kxl.h"
#include "migrate/mig_header.h"
#include "migrate/mig_mux.h"
#include "util/buf.h"

/* Tap names the old domain's id made ("vif5.0") are made afresh from the new id. */
void restore_forget_tap_names(kxl_domcfg *cfg);

/* Everything this host lacks to run the domain of header h (config cfg, as received): the
 * name free, its bridges or networks, its disks (the same paths: shared storage; or, when the
 * header has copy_storage, missing ones that can be made here: their vdevs pushed on *copy),
 * free memory,
 * a QEMU as new as the sender's with its machine type and CPU model, the accelerator. Each
 * problem is one sentence appended to *missing; 0 when there is none, else -1 (no kx_err:
 * the list is the answer). */
int migrate_preflight(const kxl_paths *p, const mig_header *h, const kxl_domcfg *cfg,
                      kx_strv *missing, kx_strv *copy);

/* ---- migrate_storage.c: --copy-storage ---- */
/* Whether disk d, missing here, can be made from the sender's copy_storage entry: 0, or -1
 * with the reason pushed on *missing. */
int migrate_storage_check(const kxl_disk *d, json_object *copy, kx_strv *missing);
/* Makes the disks of vdevs empty at their paths (raw: a sparse file; qcow2: qemu-img), each
 * of the size copy_storage gives, 0600; their paths pushed on *made, and each recorded as it
 * is made (migrate_made_note), for whoever comes after a receiver that dies. -1 with kx_err,
 * none left (nor a record). */
int migrate_storage_make(const kxl_paths *p, const kxl_domcfg *cfg, json_object *copy,
                         const kx_strv *vdevs, kx_strv *made);
/* Removes the files of *made (and empties it). */
void migrate_storage_unmake(kx_strv *made);
/* The sender's socket for its QEMU's NBD connections: ROOT/run/kxl/NAME/mirror.sock,
 * listening, 0600. The descriptor, or -1 with kx_err. */
int migrate_storage_listen(const kxl_paths *p, const char *name);
/* Starts mig_mux_run(m) in a child, its channel 0 the pipes *to_r (written here) and *from_r
 * (read here); m's own ch0 members are ignored. The child execs this program with
 * MIGRATE_MUX_ARG: its main() must hand such a command line to migrate_mux_main. 0, or -1
 * with kx_err. */
int migrate_mux_start(mig_mux *m, pid_t *pid_r, int *to_r, int *from_r);
/* The hidden first argument of kxl and kxld that runs the relay migrate_mux_start starts. */
#define MIGRATE_MUX_ARG "--internal-migration-relay"
/* The relay of such a command line: 0 at its end, -1 once it printed why it failed. */
int migrate_mux_main(int argc, char **argv);

/* Waits up to 5 s for the relay pid to end (its transport closed), then kills it; patient:
 * as long as it takes (--postcopy's receiver: the rest of the memory still goes through it
 * after the protocol's end, until the sender closes the transport). */
void migrate_mux_end(pid_t pid, bool patient);

/* kxld's relocation server listens here unless relocation_port says otherwise (xend's). */
#define KXL_RELOCATION_PORT 8002

/* The transport of kxl migrate --relocation: connects to target (HOST, HOST:PORT or
 * [ADDRESS]:PORT) with this host's certificate, checks that the server's certificate names
 * HOST and comes from this host's CA, reads where QEMU's stream goes (*stream_port_r), and
 * starts a child that relays the protocol between the TLS connection and two pipes: *to_r
 * (written: goes to the receiver) and *from_r (read). *pid_r: the child, as an ssh
 * transport's. -1 with kx_err (nothing left) otherwise, the server's refusal quoted. */
int migrate_reloc_start(const kxl_paths *p, const char *target, pid_t *pid_r, int *to_r,
                        int *from_r, int *stream_port_r);
/* A TCP connection to target's HOST, port: QEMU's stream, which QEMU's TLS wraps. *host_r
 * (caller frees) gets HOST, the name QEMU checks the receiver's certificate against. */
int migrate_reloc_stream(const char *target, int port, char **host_r);

/* ---- migrate_made.c: the record of the files a receive made (var/lib/kxl/incoming/) ---- */
/* A record's line for the image made as tmp (this receive's own name) for path: with fd
 * (open on tmp) its identity, "DEV INO BTIME\tTMP\tPATH"; with fd -1 "-\tTMP\tPATH", written
 * before tmp exists. NULL when fd cannot be stat'ed. Caller frees. */
char *migrate_made_entry(int fd, const char *tmp, const char *path);
/* Writes name's record anew (atomically): this process as its receiver, and entries (lines
 * of migrate_made_entry). 0, or -1 with kx_err. */
int migrate_made_note(const kxl_paths *p, const char *name, const kx_strv *entries);
/* Removes name's record: the files are no longer the receiver's to remove (it removed them,
 * or the domain's supervisor has them). */
void migrate_made_forget(const kxl_paths *p, const char *name);
/* Removes the files of name's record (name NULL: of every record) whose receiver is gone and
 * whose domain does not live here, each only if it is still the file that was made (same
 * device and inode), then the record; a notice for each file removed. Never fails. */
void migrate_made_reap(const kxl_paths *p, const char *name);
