/* cfg_serial.c - xl passes serial = ... to QEMU's -serial; kxl accepts the forms that keep
 * its rules: no listener on the network (a serial console is a root shell), nothing that
 * needs the terminal `kxl create` ran from (the domain outlives it). */
#include "cfg/cfg_serial.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"

#define PORT_MAX 65535

static int refuse(const char *entry, const char *where, const char *why)
{
    kx_err(KXL_ERR_CONFIG, "%s: serial '%s' %s", where, entry, why);
    return -1;
}

/* unix:PATH[,server][,nowait] (also server=on, wait=off as QEMU spells them now). */
static int parse_unix(const char *entry, const char *where, cfg_serial *s)
{
    const char *path = entry + strlen("unix:");
    s->kind = CFG_SERIAL_UNIX;
    s->path = path;
    s->path_len = strcspn(path, ",");
    if (path[0] != '/' || s->path_len < 2)
        return refuse(entry, where, "needs an absolute socket path (unix:/run/NAME.sock)");
    for (const char *o = path + s->path_len; *o == ',';) {
        o++;
        size_t n = strcspn(o, ",");
        if ((n == 6 && !strncmp(o, "server", 6)) || (n == 9 && !strncmp(o, "server=on", 9)))
            s->server = true;
        else if ((n == 6 && !strncmp(o, "nowait", 6)) || (n == 8 && !strncmp(o, "wait=off", 8)))
            s->nowait = true;
        else
            return refuse(entry, where, "has an option other than server and nowait");
        o += n;
    }
    return 0;
}

/* tcp:HOST:PORT, QEMU connecting out. A server would be a console on the network that
 * anyone reaching it may use. */
static int parse_tcp(const char *entry, const char *where, cfg_serial *s)
{
    const char *hp = entry + strlen("tcp:");
    if (strstr(hp, "server"))
        return refuse(entry, where, "would listen on the network with no authentication: use "
                                    "'pty' (kxl console, kxld's console over TLS) or "
                                    "'unix:PATH,server'");
    const char *colon = strrchr(hp, ':');
    size_t end = strcspn(hp, ",");
    char *stop;
    unsigned long port = colon ? strtoul(colon + 1, &stop, 10) : 0;
    if (!colon || colon == hp || colon - hp > 255 || (size_t)(colon - hp) > end || port == 0 ||
        port > PORT_MAX || stop != hp + end || hp[end])
        return refuse(entry, where, "is not tcp:HOST:PORT");
    if (strspn(hp, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") <
        (size_t)(colon - hp))
        return refuse(entry, where, "names no host");
    s->kind = CFG_SERIAL_TCP;
    s->host = hp;
    s->host_len = (size_t)(colon - hp);
    s->port = (unsigned)port;
    return 0;
}

int cfg_serial_parse(const char *entry, const char *where, cfg_serial *s_r)
{
    *s_r = (cfg_serial){.kind = CFG_SERIAL_NONE};
    if (strcmp(entry, "pty") == 0) {
        s_r->kind = CFG_SERIAL_PTY;
        return 0;
    }
    if (strcmp(entry, "none") == 0)
        return 0;
    if (strcmp(entry, "vc") == 0 || kx_startswith(entry, "vc:")) {
        s_r->on_display = true;
        return 0;
    }
    if (strcmp(entry, "null") == 0) {
        s_r->kind = CFG_SERIAL_NULL;
        return 0;
    }
    if (kx_startswith(entry, "file:")) {
        s_r->kind = CFG_SERIAL_FILE;
        s_r->path = entry + strlen("file:");
        s_r->path_len = strlen(s_r->path);
        return s_r->path_len ? 0 : refuse(entry, where, "names no file");
    }
    if (kx_startswith(entry, "unix:"))
        return parse_unix(entry, where, s_r);
    if (kx_startswith(entry, "tcp:"))
        return parse_tcp(entry, where, s_r);
    if (strcmp(entry, "stdio") == 0 || strcmp(entry, "mon:stdio") == 0)
        return refuse(entry, where, "needs the terminal kxl create runs in, and a domain "
                                    "outlives it: use 'pty' and kxl console (or create -c)");
    if (kx_startswith(entry, "telnet:") || kx_startswith(entry, "udp:") ||
        kx_startswith(entry, "websocket:"))
        return refuse(entry, where, "is a serial port on the network with no authentication: "
                                    "use 'pty' (kxl console) or 'unix:PATH'");
    return refuse(entry, where, "is not supported (use pty, none, null, file:PATH, "
                                "unix:PATH[,server][,nowait] or tcp:HOST:PORT)");
}
