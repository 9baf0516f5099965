/* reloc_server.c - the relocation listener: a thread that accepts and starts one child per
 * connection (kxld itself again, exec'd with --relocation-peer: the child starts with no
 * thread or lock of kxld's, and does the TLS handshake itself), at most RELOC_MAX_PEERS at
 * once, and reaps them. */
#include "daemon/reloc_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/host_probe.h"
#include "tls/tls_conn.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/spawn.h"

#define RELOC_MAX_PEERS 4

struct reloc_server {
    reloc_server_opts o;
    int listen_fd;
    int stop[2];                      /* a byte on stop[1] ends the thread */
    pid_t peers[RELOC_MAX_PEERS];     /* 0: a free slot */
    pthread_t thread;
};

static int bind_one(const struct addrinfo *ai)
{
    AUTOCLOSE int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1, off = 0;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ai->ai_family == AF_INET6)   /* "every address": IPv4 too */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0)
        return -1;
    return TAKE_FD(fd);
}

static int listen_on(const char *address, int port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(address ? address : "::", service, &hints, &res);
    if (rc != 0 && !address)
        rc = getaddrinfo("0.0.0.0", service, &hints, &res);   /* a host without IPv6 */
    if (rc != 0) {
        kx_err(KXL_ERR_CONFIG, "relocation_address '%s': %s", address ? address : "::",
               gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = bind_one(ai);
    freeaddrinfo(res);
    if (fd < 0)
        kx_err_errno(KXL_ERR_HOST, "the relocation server cannot listen on %s port %d",
                     address ? address : "every address", port);
    return fd;
}

static void reap(reloc_server *r)
{
    for (size_t i = 0; i < RELOC_MAX_PEERS; i++)
        if (r->peers[i] > 0 && waitpid(r->peers[i], NULL, WNOHANG) == r->peers[i])
            r->peers[i] = 0;
}

static size_t free_slot(const reloc_server *r)
{
    size_t i = 0;
    while (i < RELOC_MAX_PEERS && r->peers[i] > 0)
        i++;
    return i;
}

/* In the child: the peer's socket as fd 0, the log as fd 2, then kxld again. The listener is
 * one of kxld's threads: async-signal-safe calls only, its argv made before the fork. */
static void exec_peer(const reloc_server *r, int fd, char **argv)
{
    kx_child_reset_signals();
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDWR);
    dup2(fd, 0);
    dup2(null, 1);
    dup2(r->o.log_fd, 2);
    for (int i = 3; i < 1024; i++)
        close(i);
    execv("/proc/self/exe", argv);
    kx_child_fail(2, "kxld: relocation: cannot run kxld for a peer: ");
}

static void serve_peer(reloc_server *r, int fd)
{
    size_t slot = free_slot(r);
    if (slot == RELOC_MAX_PEERS) {
        kx_notice("kxld: relocation: a connection refused: %d relocations are under way "
                  "already", RELOC_MAX_PEERS);
        return;
    }
    /* built before the fork: the child calls nothing that allocates */
    char *argv[] = {"kxld", "--relocation-peer", "--root", (char *)r->o.root, "--config",
                    (char *)r->o.config, r->o.verbose ? "-v" : NULL, NULL};
    pid_t pid = fork();
    if (pid == 0)
        exec_peer(r, fd, argv);
    if (pid < 0)
        kx_log(KX_LOG_ERROR, "kxld: relocation: cannot fork: %s", strerror(errno));
    else
        r->peers[slot] = pid;
}

/* The receiver's preflight asks QEMU three questions on every migration; asked here once,
 * while the first peer can already connect, they are cached before it needs them. */
static void warm_qemu_answers(const reloc_server *r)
{
    kxl_paths paths;
    if (kxl_paths_init(&paths, r->o.root) == 0) {
        AUTOFREE char *qemu = kxl_qemu_binary();
        host_qemu_answers a;
        host_qemu_answers_get(&paths, qemu, &a);
        host_qemu_answers_dispose(&a);
        kxl_paths_dispose(&paths);
    }
    kx_err_clear();
}

static void *listen_thread(void *arg)
{
    reloc_server *r = arg;
    warm_qemu_answers(r);
    for (;;) {
        struct pollfd p[2] = {{.fd = r->listen_fd, .events = POLLIN},
                              {.fd = r->stop[0], .events = POLLIN}};
        int n = poll(p, 2, 1000);
        reap(r);
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        if (p[1].revents)
            break;
        AUTOCLOSE int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        int on = 1;   /* the protocol's short lines go at once (the handover waits on them) */
        if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0)
            serve_peer(r, fd);
    }
    return NULL;
}

reloc_server *reloc_server_start(const reloc_server_opts *o)
{
    /* the certificates are checked now, so that a kxld that cannot serve does not start */
    SSL_CTX *ctx = tls_ctx_new(o->tls_dir, true);
    if (!ctx) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        kx_err(KXL_ERR_CONFIG, "relocation_server = 1: %s", why);
        return NULL;
    }
    SSL_CTX_free(ctx);
    reloc_server *r = kx_malloc0(sizeof(*r));
    r->o = *o;
    r->listen_fd = listen_on(o->address, o->port);
    if (r->listen_fd < 0)
        goto undo_alloc;
    if (pipe2(r->stop, O_CLOEXEC) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a pipe");
        goto undo_listen;
    }
    if (pthread_create(&r->thread, NULL, listen_thread, r) != 0)
        goto undo_pipe;
    return r;
undo_pipe:
    close(r->stop[0]);
    close(r->stop[1]);
    kx_err(KXL_ERR_INTERNAL, "cannot start the relocation server's thread");
undo_listen:
    close(r->listen_fd);
undo_alloc:
    free(r);
    return NULL;
}

void reloc_server_stop(reloc_server *r)
{
    if (!r)
        return;
    if (write(r->stop[1], "x", 1) < 0) {
        /* the pipe cannot be full: the thread still sees it */
    }
    pthread_join(r->thread, NULL);
    close(r->listen_fd);
    close(r->stop[0]);
    close(r->stop[1]);
    /* a peer's end fails its migration before the go: nothing of it stays here */
    for (size_t i = 0; i < RELOC_MAX_PEERS; i++)
        if (r->peers[i] > 0 && kill(r->peers[i], SIGTERM) == 0)
            waitpid(r->peers[i], NULL, 0);
    free(r);
}
