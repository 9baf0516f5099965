/* cfg_channel.c - xl's channels: connection=socket makes QEMU listen on path (owner-only,
 * never holding up the start), connection=pty a socket of the domain's own, since kxl gives
 * QEMU no terminals. */
#include "cfg/cfg_channel.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define CHANNEL_NAME_MAX 128

/* Port names as virtio-serial carries them: printable, no spaces, commas or slashes. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= CHANNEL_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:") == n;
}

static int bad(const char *spec, const char *where, const char *why)
{
    kx_err(KXL_ERR_CONFIG, "%s: channel '%s': %s", where, spec, why);
    return -1;
}

int cfg_channel_parse(const char *spec, const char *where, cfg_channel *c_r)
{
    *c_r = (cfg_channel){0};
    AUTOFREE char *copy = kx_strdup(spec);
    const char *connection = NULL, *path = NULL, *name = NULL;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq)
            return bad(spec, where, "settings are KEY=VALUE (name, connection, path)");
        *eq = '\0';
        if (strcmp(item, "name") == 0)
            name = eq + 1;
        else if (strcmp(item, "connection") == 0)
            connection = eq + 1;
        else if (strcmp(item, "path") == 0)
            path = eq + 1;
        else if (strcmp(item, "backend") != 0)   /* a driver domain: there is none */
            return bad(spec, where, "use name=, connection=pty|socket and path=");
    }
    if (!name || !name_ok(name))
        return bad(spec, where, "needs name=NAME (letters, digits and ._-:)");
    if (!connection || (strcmp(connection, "pty") != 0 && strcmp(connection, "socket") != 0))
        return bad(spec, where, "needs connection=pty or connection=socket");
    bool socket = strcmp(connection, "socket") == 0;
    if (socket && (!path || path[0] != '/'))
        return bad(spec, where, "connection=socket needs an absolute path=");
    if (!socket && path)
        return bad(spec, where, "path= is for connection=socket");
    c_r->name = kx_strdup(name);
    c_r->path = socket ? kx_strdup(path) : NULL;
    return 0;
}

void cfg_channel_dispose(cfg_channel *c)
{
    free(c->name);
    free(c->path);
    *c = (cfg_channel){0};
}
