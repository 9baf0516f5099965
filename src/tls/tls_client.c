/* tls_client.c - kxl-tls relay: the sending side's transport to a kxld relocation server, run
 * by kxl migrate --relocation (lib/migrate_reloc.c). It connects with mutual TLS, reads the
 * server's first line (the port of QEMU's own TLS stream, or a refusal), answers its caller
 * "OK PORT", then relays the line protocol between its stdin/stdout and the connection,
 * exactly as ssh does for kxl migrate. */
#include "tls/tls_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migrate/mig_proto.h"
#include "tls/tls_conn.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/sock.h"

#define CONNECT_MS 15000
#define HANDSHAKE_MS 15000

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

int tls_client_relay(const char *dir, const char *host, const char *port)
{
    SSL_CTX *ctx = tls_ctx_new(dir, false);
    if (!ctx)
        return -1;
    AUTOCLOSE int fd = kx_tcp_connect("the relocation server (relocation_server = 1 in its "
                                      "kxld.conf)", host, port, CONNECT_MS);
    SSL *ssl = fd >= 0 ? tls_handshake(ctx, fd, host, HANDSHAKE_MS) : NULL;
    if (fd >= 0 && !ssl) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        kx_err(KXL_ERR_PERMISSION, "the relocation server on '%s' port %s: %s", host, port,
               why);
    }
    int stream_port = 0;
    int r = ssl ? read_stream_port(ssl, host, port, &stream_port) : -1;
    if (r == 0) {
        printf("OK %d\n", stream_port);
        fflush(stdout);
        r = tls_relay(ssl, STDIN_FILENO, STDOUT_FILENO);
        if (r < 0)   /* the caller reads the relay's stream now: the error goes to stderr */
            fprintf(stderr, "kxl: relocation transport: %s\n", kx_err_msg());
        r = r < 0 ? 1 : 0;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return r;
}
