/* cfg_channel.h - xl's channel = [ ... ]: named virtio-serial ports (the QEMU guest agent's
 * org.qemu.guest_agent.0, for one) on a host socket. Pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *name;      /* the port's name in the guest (/dev/virtio-ports/NAME) */
    char *path;      /* connection=socket: the socket QEMU listens on; NULL for pty: a
                      * socket channelN.sock in the domain's runtime directory */
} cfg_channel;

/* Reads one entry ("name=org.qemu.guest_agent.0,connection=socket,path=/run/qga.sock");
 * where ("FILE:LINE") places the error. 0, or -1 with kx_err. cfg_channel_dispose frees. */
int cfg_channel_parse(const char *spec, const char *where, cfg_channel *c_r);
void cfg_channel_dispose(cfg_channel *c);
