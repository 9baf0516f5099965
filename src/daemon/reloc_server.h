/* reloc_server.h - kxld's relocation server (xend's, made safe): a TCP listener whose every
 * connection is served by a child process of its own (kxld --relocation-peer, reloc_peer.c),
 * which demands mutual TLS, checks relocation_hosts_allow and runs the same receiver as
 * `kxl migrate-receive`. kxld's own threads never wait on a peer or a migration. */
#pragma once

#include "kxl/kxl.h"

typedef struct reloc_server reloc_server;

typedef struct {
    const char *address;       /* NULL: every address */
    int port;
    const char *tls_dir;       /* ROOT/etc/kxl/tls: checked before anything listens */
    const char *root;          /* for the child's --root... */
    const char *config;        /* ...and --config */
    int verbose;
    int log_fd;                /* the child's stderr: kxld's log */
} reloc_server_opts;

/* Checks the certificates (a missing or unreadable file: NULL with kx_err naming it), binds,
 * and starts the listener thread. NULL with kx_err. */
reloc_server *reloc_server_start(const reloc_server_opts *o);
/* Stops listening, and waits for the peers being served (their migrations end as a lost
 * transport ends them). NULL-safe. */
void reloc_server_stop(reloc_server *r);

/* The child's work (kxld --relocation-peer): the peer's socket is fd 0. The exit status. */
int reloc_peer_main(const kxl_paths *paths, const char *conf_path);
