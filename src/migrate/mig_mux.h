/* mig_mux.h - more than one stream through a migration's one transport (ssh's pipe, or a
 * relocation server's TLS connection), for kxl migrate --copy-storage: the disks go as NBD
 * connections beside the protocol and QEMU's memory stream, so they are encrypted and
 * authenticated as the rest is, and no NBD server ever listens on a network address. Each
 * side runs mig_mux_run in a child process between the transport and local descriptors, from
 * the receiver's MIG_COPY line on.
 *
 * A frame: 4 bytes big-endian, the channel in the top 8 bits and the length in the low 24,
 * then that many bytes; length 0: the channel's stream in that direction has ended. Channel 0
 * carries what the transport carried alone before (the protocol's lines and QEMU's stream);
 * channels 1..n are NBD connections, each from the sending QEMU's mirror to the receiving
 * QEMU's NBD server (any channel serves any disk: the client names its export). With
 * stream_fd, channel MIG_MUX_STREAM carries QEMU's migration stream both ways (postcopy's
 * page requests come back on it), and channel 0 only the protocol's lines. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define MIG_MUX_MAX_CHANNELS 64
#define MIG_MUX_FRAME_MAX 65536
#define MIG_MUX_STREAM (MIG_MUX_MAX_CHANNELS - 1)

typedef struct {
    int transport_in, transport_out;
    int ch0_in;          /* read here: goes out as channel 0 */
    int ch0_out;         /* channel 0 as it comes in is written here */
    size_t n;            /* NBD channels (1..n), at most MIG_MUX_MAX_CHANNELS - 1 */
    /* the sender: the k-th connection accepted on this listening socket is channel k (the
     * supervisor connects one for each disk and hands it to QEMU); -1 on the receiver */
    int listen_fd;
    /* the receiver: n connections to this Unix socket (the receiving QEMU's NBD server),
     * tried until connect_ms has passed, as the supervisor makes it only once its exports
     * are there; when all are made, ready_line is sent on channel 0. NULL on the sender */
    const char *connect_path;
    int connect_ms;
    const char *ready_line;
    /* kxl migrate --postcopy over a pipe: a connected socket of QEMU's stream (the other end
     * of a socket pair QEMU has), or -1 */
    int stream_fd;
} mig_mux;

/* Relays until the transport ends, or channel 0 has ended both ways. 0 at such an end, -1
 * with kx_err on a broken frame or a failed write to the transport. Closes nothing of *m. */
int mig_mux_run(const mig_mux *m);

/* The 4-byte frame header of channel ch and len bytes (len <= 0xffffff). */
void mig_mux_frame_header(unsigned ch, size_t len, unsigned char out[4]);
