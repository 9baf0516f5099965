/* migrate_reloc.c - the sending side's transport to a kxld relocation server: the kxl-tls
 * helper (tls/tls_client.c) connects with mutual TLS and relays between the connection and
 * its stdin/stdout, so that the line protocol goes through it exactly as through ssh's pipes
 * (and kxl itself never loads OpenSSL). QEMU's stream goes apart, on a second TCP
 * connection to the port the server names first (MIG_RELOC_STREAM), which QEMU's own TLS
 * wraps. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kxl/tls.h"
#include "lib/helpers.h"
#include "lib/migrate.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/sock.h"

#define CONNECT_MS 15000
/* kxl-tls connects, shakes hands and hears the server's first line within this */
#define RELAY_READY_MS 35000

/* HOST, HOST:PORT, [ADDRESS]:PORT, [ADDRESS] or a bare IPv6 address into *host_r (caller
 * frees) and *port_r. */
static int split_target(const char *target, char **host_r, char **port_r)
{
    const char *colon = strrchr(target, ':');
    if (target[0] == '[') {
        const char *end = strchr(target, ']');
        if (!end || (end[1] && end[1] != ':')) {
            kx_err(KXL_ERR_INVALID, "'%s' is not HOST[:PORT] or [ADDRESS]:PORT", target);
            return -1;
        }
        *host_r = kx_strndup(target + 1, (size_t)(end - target - 1));
        colon = end[1] ? end + 1 : NULL;
    } else if (colon && strchr(target, ':') != colon) {
        colon = NULL;   /* an IPv6 address without brackets: no port */
        *host_r = kx_strdup(target);
    } else {
        *host_r = colon ? kx_strndup(target, (size_t)(colon - target)) : kx_strdup(target);
    }
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : KXL_RELOCATION_PORT;
    if (!**host_r || (colon && (!colon[1] || *end || port < 1 || port > 65535))) {
        kx_err(KXL_ERR_INVALID, "'%s' is not HOST[:PORT] (PORT from 1 to 65535)", target);
        free(*host_r);
        return -1;
    }
    *port_r = kx_asprintf("%ld", port);
    return 0;
}

int migrate_reloc_stream(const char *target, int port, char **host_r)
{
    AUTOFREE char *ignored = NULL;
    char service[16];
    if (split_target(target, host_r, &ignored) < 0)
        return -1;
    snprintf(service, sizeof(service), "%d", port);
    int fd = kx_tcp_connect("the relocation server's stream", *host_r, service, CONNECT_MS);
    if (fd < 0) {
        free(*host_r);
        *host_r = NULL;
    }
    return fd;
}

/* The stream's port from kxl-tls's "OK PORT". */
static int stream_port_of(const char *rest, int *port_r)
{
    char *end = NULL;
    long v = strtol(rest, &end, 10);
    if (v <= 0 || v >= 65536 || !end || *end) {
        kx_err(KXL_ERR_INTERNAL, "kxl-tls named no stream port ('%s')", rest);
        return -1;
    }
    *port_r = (int)v;
    return 0;
}

int migrate_reloc_start(const kxl_paths *p, const char *target, pid_t *pid_r, int *to_r,
                        int *from_r, int *stream_port_r)
{
    AUTOFREE char *host = NULL;
    AUTOFREE char *port = NULL;
    AUTOFREE char *dir = kxl_tls_dir(p);
    if (split_target(target, &host, &port) < 0)
        return -1;
    const char *args[] = {"relay", dir, host, port, NULL};
    if (tls_helper_start(args, pid_r, to_r, from_r) < 0)
        return -1;
    AUTOFREE char *rest = NULL;
    if (tls_helper_answer(*from_r, RELAY_READY_MS, &rest) == 0 &&
        stream_port_of(rest, stream_port_r) == 0)
        return 0;
    close(*to_r);
    close(*from_r);
    kill(*pid_r, SIGKILL);   /* it may hang: no answer in time */
    waitpid(*pid_r, NULL, 0);
    return -1;
}
