/* migrate_reloc.c - the sending side's transport to a kxld relocation server: a TCP
 * connection with mutual TLS (tls/tls_conn.c), then a child process that relays between it
 * and a pair of pipes, so that the line protocol goes through it exactly as through ssh's
 * pipes. QEMU's stream goes apart, on a second TCP connection to the port the server names
 * first (MIG_RELOC_STREAM), which QEMU's own TLS wraps. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kxl/tls.h"
#include "lib/migrate.h"
#include "migrate/mig_proto.h"
#include "tls/tls_conn.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/spawn.h"

#define CONNECT_MS 15000
#define HANDSHAKE_MS 15000

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

/* A non-blocking connect, waited for at most CONNECT_MS. */
static int connect_one(const struct addrinfo *ai)
{
    AUTOCLOSE int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
        return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);
    if (poll(&p, 1, CONNECT_MS) <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        errno = err ? err : errno;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    /* the protocol's short lines go at once: the guest is stopped while the handover's
     * lines go back and forth, and Nagle's wait for an ACK would add to its downtime */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    return TAKE_FD(fd);
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        kx_err(KXL_ERR_NOT_FOUND, "cannot find the host '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai);
    freeaddrinfo(res);
    if (fd < 0)
        kx_err_errno(KXL_ERR_STATE, "cannot connect to the relocation server on '%s' port %s "
                     "(is relocation_server = 1 in its kxld.conf?)", host, port);
    return fd;
}

static int tls_relay_fn(void *arg, int in_fd, int out_fd)
{
    return tls_relay(arg, in_fd, out_fd);
}

/* The server's first line: the stream's port, or its refusal. */
static int read_stream_port(SSL *ssl, const char *host, const char *port, int *port_r)
{
    char line[512];
    size_t n = 0;
    struct timeval tv = {.tv_sec = HANDSHAKE_MS / 1000};
    setsockopt(SSL_get_fd(ssl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (n < sizeof(line) - 1 && SSL_read(ssl, line + n, 1) == 1 && line[n] != '\n')
        n++;
    line[n] = '\0';
    tv.tv_sec = 0;
    setsockopt(SSL_get_fd(ssl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char *end = NULL;
    long v = kx_startswith(line, MIG_RELOC_STREAM)
                 ? strtol(line + strlen(MIG_RELOC_STREAM), &end, 10) : 0;
    if (v > 0 && v < 65536 && end && !*end) {
        *port_r = (int)v;
        return 0;
    }
    const char *why = kx_startswith(line, MIG_ERROR) ? line + strlen(MIG_ERROR)
                      : n ? "it spoke out of turn" : "it hung up";
    kx_err(KXL_ERR_PERMISSION, "the relocation server on '%s' port %s refused the migration: %s",
           host, port, why);
    return -1;
}

int migrate_reloc_stream(const char *target, int port, char **host_r)
{
    AUTOFREE char *ignored = NULL;
    char service[16];
    if (split_target(target, host_r, &ignored) < 0)
        return -1;
    snprintf(service, sizeof(service), "%d", port);
    int fd = connect_to(*host_r, service);
    if (fd < 0) {
        free(*host_r);
        *host_r = NULL;
    }
    return fd;
}

int migrate_reloc_start(const kxl_paths *p, const char *target, pid_t *pid_r, int *to_r,
                        int *from_r, int *stream_port_r)
{
    AUTOFREE char *host = NULL;
    AUTOFREE char *port = NULL;
    AUTOFREE char *dir = kxl_tls_dir(p);
    if (split_target(target, &host, &port) < 0)
        return -1;
    SSL_CTX *ctx = tls_ctx_new(dir, false);
    if (!ctx)
        return -1;
    AUTOCLOSE int fd = connect_to(host, port);
    SSL *ssl = fd >= 0 ? tls_handshake(ctx, fd, host, HANDSHAKE_MS) : NULL;
    if (fd >= 0 && !ssl) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        kx_err(KXL_ERR_PERMISSION, "the relocation server on '%s' port %s: %s", host, port,
               why);
    }
    int r = ssl ? read_stream_port(ssl, host, port, stream_port_r) : -1;
    if (r == 0)
        r = migrate_relay_start(tls_relay_fn, ssl, "the relocation transport", pid_r, to_r,
                                from_r);
    SSL_free(ssl);   /* the child has its copy; this one sends nothing */
    SSL_CTX_free(ctx);
    return r;
}
