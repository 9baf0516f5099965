/* mig_proto.h - the line protocol of kxl migrate over a transport (ssh HOST kxl
 * migrate-receive, or any command), after xl's: each side speaks in whole lines, and the
 * binary parts (kxl's header, then QEMU's stream) go from the sender at fixed points.
 *
 *   receiver                                   sender
 *   MIG_BANNER                          ->
 *                                       <-     kxl header (mig_header: config, QEMU, machine, CPU)
 *   MIG_PREFLIGHT_OK                    ->     (or MIG_PREFLIGHT_REFUSED JSON-array, and the end)
 *   MIG_COPY JSON-array                 ->     only when the header asked to copy storage: the
 *                                              disks the receiver made empty; when there are
 *                                              any, both sides frame the transport from here on
 *                                              (mig_mux.h), channel 0 carrying the rest
 *   MIG_STORAGE_READY                   ->     (its NBD server exports them)
 *                                       <-     the disks, through NBD (channels 1..n), until the
 *                                              sending QEMU's mirrors have converged
 *                                       <-     QEMU's live migration stream
 *   MIG_RECEIVED                        ->     (or MIG_ERROR text: it could not load it)
 *                                       <-     MIG_GO or MIG_GO_PAUSED (only after the sender's
 *                                              QEMU completed and released the images)
 *   MIG_RESULT "ok running|paused"      ->     (or MIG_RESULT "failed gone: text")
 *
 * Nothing else is sent: after its stream, the sender writes only once the receiver spoke, so
 * the receiver's QEMU never reads a protocol line as part of the stream. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MIG_BANNER "kxl migration receiver ready, send the domain's header"
#define MIG_PREFLIGHT_OK "preflight passed, send the domain"
#define MIG_PREFLIGHT_REFUSED "preflight refused: "
#define MIG_COPY "copy storage: "
#define MIG_STORAGE_READY "storage ready, mirror the disks"
#define MIG_RECEIVED "domain received, ready to unpause"
#define MIG_GO "domain is yours, you are cleared to unpause"
#define MIG_GO_PAUSED "domain is yours, keep it paused"
#define MIG_RESULT "my copy unpause results are as follows: "
#define MIG_ERROR "error: "
/* kxld's relocation server, before MIG_BANNER: QEMU's stream goes to this TCP port of the
 * same address, as a connection of its own that QEMU's TLS wraps (not through the protocol's
 * connection, so no kxl process copies the guest's memory) */
#define MIG_RELOC_STREAM "kxl relocation server: QEMU's stream with TLS to port "
#define MIG_LINE_MAX 65536

/* Writes the text and a newline to fd (waiting while a non-blocking pipe is full). 0, or -1
 * with kx_err naming peer. */
int mig_write_line(int fd, const char *peer, const char *text);
/* Reads one line (without its newline) and nothing after it, waiting up to timeout_ms for
 * each part of it (< 0: no limit). The line (caller frees), or NULL with kx_err naming peer
 * (its end, a timeout, a line too long). */
char *mig_read_line(int fd, const char *peer, int timeout_ms);
/* The transport's pipe of fd made 1 MiB large (the kernel's pipe-max-size), if it is a pipe:
 * with the default 64 KiB, the QEMU writing the stream and ssh reading it take turns every
 * 64 KiB, a pair of context switches each time on a busy host. Best effort, reports nothing. */
void mig_pipe_grow(int fd);
/* --debug's trace: "who: HH:MM:SS.mmm what" at notice level, the wall clock's time so that
 * both sides' lines (the receiver's come back through ssh's stderr) fall into one timeline. */
void mig_debug(const char *who, const char *what);
/* Reads exactly len bytes into buf; as mig_read_line. 0 or -1. */
int mig_read_exact(int fd, const char *peer, void *buf, size_t len, int timeout_ms);
