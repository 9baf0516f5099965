/* migrate.h - what kxl restore and kxl migrate-receive share: a saved or received domain's
 * config made ready to start here, and the receiver's preflight. */
#pragma once

#include "kxl/kxl.h"
#include "migrate/mig_header.h"
#include "util/buf.h"

/* Tap names the old domain's id made ("vif5.0") are made afresh from the new id. */
void restore_forget_tap_names(kxl_domcfg *cfg);

/* Everything this host lacks to run the domain of header h (config cfg, as received): the
 * name free, its bridges or networks, its disks (the same paths: shared storage), free memory,
 * a QEMU as new as the sender's with its machine type and CPU model, the accelerator. Each
 * problem is one sentence appended to *missing; 0 when there is none, else -1 (no kx_err:
 * the list is the answer). */
int migrate_preflight(const kxl_paths *p, const mig_header *h, const kxl_domcfg *cfg,
                      kx_strv *missing);

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
