/* cfg_serial.h - xl's serial ports (xl.cfg serial = ...): which are kxl's, which are QEMU
 * character devices, which are refused and why. Pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CFG_SERIAL_PTY,    /* "pty": a socket the supervisor serves as the console */
    CFG_SERIAL_NONE,   /* "none", and "vc" without a display: no port */
    CFG_SERIAL_NULL,   /* "null": a port whose output goes nowhere */
    CFG_SERIAL_FILE,   /* "file:PATH" */
    CFG_SERIAL_UNIX,   /* "unix:PATH[,server][,nowait]" */
    CFG_SERIAL_TCP,    /* "tcp:HOST:PORT": QEMU connects out; never a listener */
} cfg_serial_kind;

typedef struct {
    cfg_serial_kind kind;
    const char *path;      /* FILE, UNIX: into the entry's text (path_len bytes) */
    size_t path_len;
    const char *host;      /* TCP (host_len bytes), and the port */
    size_t host_len;
    unsigned port;
    bool server;           /* UNIX: QEMU makes the socket and listens */
    bool nowait;           /* UNIX server: QEMU does not wait for a client to start */
    bool on_display;       /* "vc": a console on the graphical display (NONE here) */
} cfg_serial;

/* Reads one entry; where ("FILE:LINE") places the error. 0, or -1 with kx_err naming the
 * entry and what to use instead. */
int cfg_serial_parse(const char *entry, const char *where, cfg_serial *s_r);
