/* reloc_peer.c - one relocation peer, in a child process of kxld (kxld --relocation-peer,
 * the peer's socket as fd 0): the TLS handshake demanding a certificate from the CA, then
 * relocation_hosts_allow against the certificate's names and the peer's address; only then
 * does a byte of the migration protocol move. The receiver is the library's (the same as
 * `kxl migrate-receive`), in a process of its own on a socket pair that this one relays to
 * and from the TLS connection. QEMU's stream does not come this way: the peer is told a port
 * (MIG_RELOC_STREAM) that the receiver accepts one connection on, from the peer's address,
 * and that QEMU's own TLS wraps with the same certificates (the supervisor's sv_tls.c).
 * Every refusal and outcome is one line in kxld's log. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/kxld_conf.h"
#include "daemon/reloc_server.h"
#include "kxl/ops.h"
#include "kxl/tls.h"
#include "migrate/mig_proto.h"
#include "tls/reloc_allow.h"
#include "tls/tls_conn.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define HANDSHAKE_MS 10000
#define RECEIVER_GRACE_S 30

/* The peer's address as text ("10.0.0.1": an IPv4-mapped address unwrapped). */
static void peer_address(int fd, char *text, size_t len)
{
    struct sockaddr_in6 sa;
    socklen_t sl = sizeof(sa);
    snprintf(text, len, "an unknown address");
    if (getpeername(fd, (struct sockaddr *)&sa, &sl) < 0)
        return;
    if (sa.sin6_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, text, (socklen_t)len);
    } else if (IN6_IS_ADDR_V4MAPPED(&sa.sin6_addr)) {
        inet_ntop(AF_INET, &sa.sin6_addr.s6_addr[12], text, (socklen_t)len);
    } else {
        inet_ntop(AF_INET6, &sa.sin6_addr, text, (socklen_t)len);
    }
}

/* A listener for QEMU's stream on the address the peer reached, on a port of the kernel's
 * choice; *port_r gets it. -1 with kx_err. */
static int stream_listener(int *port_r)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);
    if (getsockname(0, (struct sockaddr *)&sa, &sl) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "getsockname");
        return -1;
    }
    if (sa.ss_family == AF_INET)
        ((struct sockaddr_in *)&sa)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)&sa)->sin6_port = 0;
    AUTOCLOSE int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sl) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        kx_err_errno(KXL_ERR_HOST, "cannot listen for QEMU's stream");
        return -1;
    }
    *port_r = ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
                                            : ((struct sockaddr_in6 *)&sa)->sin6_port);
    return TAKE_FD(fd);
}

/* The receiver, in its own process: the exit status. */
static int receive(const kxl_paths *paths, int fd, int stream_fd, const char *addr,
                   const char *peer)
{
    kxl_migrate_receive_opts o = {.stream_apart = true, .stream_listen_fd = stream_fd,
                                  .stream_peer = addr};
    char *name = NULL;
    if (kxl_domain_migrate_receive(paths, fd, fd, &o, &name) < 0) {
        kx_notice("kxld: relocation from %s failed: %s", peer, kx_err_msg());
        return 1;
    }
    kx_notice("kxld: relocation from %s: domain '%s' received and running here", peer, name);
    free(name);
    return 0;
}

/* The receiver's exit status. Once the peer has gone it reads the end at its next step; one
 * that still waits (on a stream that never began) is ended after RECEIVER_GRACE_S, and the
 * domain it was starting goes with it (the supervisor's lifeline). */
static int wait_receiver(pid_t pid, const char *peer)
{
    int status = 1;
    for (int i = 0; i < RECEIVER_GRACE_S * 10; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        usleep(100000);
    }
    kx_notice("kxld: relocation from %s: the peer is gone: its receiver is ended", peer);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return 1;
}

/* Tells the peer where QEMU's stream goes, then relays the protocol between ssl and a
 * receiver process until either ends. */
static int relay_to_receiver(const kxl_paths *paths, SSL *ssl, const char *addr,
                             const char *peer)
{
    int sp[2], port = 0;
    AUTOCLOSE int stream_fd = stream_listener(&port);
    AUTOFREE char *where = kx_asprintf("%s%d\n", MIG_RELOC_STREAM, port);
    if (stream_fd < 0 || SSL_write(ssl, where, (int)strlen(where)) <= 0) {
        kx_log(KX_LOG_ERROR, "kxld: relocation from %s: %s", peer,
               stream_fd < 0 ? kx_err_msg() : "cannot write to it");
        return 1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        kx_log(KX_LOG_ERROR, "kxld: relocation from %s: cannot create a socket pair", peer);
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(sp[0]);
        /* the TLS connection is the relay's alone; fd 0 stays taken (what the receiver
         * spawns must not get a pipe there) */
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        close(null);
        _exit(receive(paths, sp[1], stream_fd, addr, peer));
    }
    close(sp[1]);
    close(TAKE_FD(stream_fd));   /* the receiver's alone: a stray connection finds none */
    if (pid < 0) {
        close(sp[0]);
        kx_log(KX_LOG_ERROR, "kxld: relocation from %s: cannot fork", peer);
        return 1;
    }
    if (tls_relay(ssl, sp[0], sp[0]) < 0)
        kx_notice("kxld: relocation from %s: %s", peer, kx_err_msg());
    shutdown(sp[0], SHUT_RDWR);   /* the receiver sees the end: nothing it began stays */
    close(sp[0]);
    int status = wait_receiver(pid, peer);
    kxl_migrate_clean_leftovers(paths);   /* a receiver killed before its supervisor ran */
    return status;
}

/* The peer proves a name hosts_allow lists: its certificate's or its address. */
static bool peer_allowed(const kxld_conf *conf, SSL *ssl, const char *addr, const char *peer)
{
    reloc_allow allow;
    if (reloc_allow_init(&allow, conf->relocation_hosts_allow) < 0) {
        kx_notice("kxld: relocation from %s refused: %s", peer, kx_err_msg());
        return false;
    }
    kx_strv names = KX_STRV_INIT;
    tls_peer_names(ssl, &names);
    bool listed = false;
    for (size_t i = 0; i < names.n; i++)
        listed = listed || kx_streq(names.v[i], addr);
    if (!listed)
        kx_strv_push(&names, addr);
    const char *pattern = "";
    bool ok = reloc_allow_match(&allow, &names, &pattern);
    AUTOFREE char *all = kx_strv_join(&names, ", ");
    if (!ok) {
        kx_notice("kxld: relocation from %s refused: its names (%s) match no pattern of "
                  "relocation_hosts_allow", peer, all);
        /* the peer proved who it is: it may learn why (the protocol's error line) */
        AUTOFREE char *line = kx_asprintf("%sthe receiving host's relocation_hosts_allow does "
                                          "not list this host (%s)\n", MIG_ERROR, all);
        SSL_write(ssl, line, (int)strlen(line));
    }
    else
        kx_notice("kxld: relocation from %s: accepted (%s)%s%s%s", peer, all,
                  *pattern ? " by the pattern '" : "", pattern, *pattern ? "'" : "");
    kx_strv_dispose(&names);
    reloc_allow_dispose(&allow);
    return ok;
}

static int serve(const kxl_paths *paths, const kxld_conf *conf)
{
    char addr[INET6_ADDRSTRLEN + 8];
    peer_address(0, addr, sizeof(addr));
    AUTOFREE char *peer = kx_strdup(addr);
    AUTOFREE char *dir = kxl_tls_dir(paths);
    SSL_CTX *ctx = tls_ctx_new(dir, true);
    if (!ctx) {
        kx_log(KX_LOG_ERROR, "kxld: relocation from %s refused: %s", peer, kx_err_msg());
        return 1;
    }
    SSL *ssl = tls_handshake(ctx, 0, NULL, HANDSHAKE_MS);
    int status = 1;
    if (!ssl)
        kx_notice("kxld: relocation from %s refused: %s", peer, kx_err_msg());
    else if (!peer_allowed(conf, ssl, addr, peer))
        SSL_shutdown(ssl);
    else
        status = relay_to_receiver(paths, ssl, addr, peer);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return status;
}

int reloc_peer_main(const kxl_paths *paths, const char *conf_path)
{
    signal(SIGPIPE, SIG_IGN);
    kxld_conf conf;
    if (kxld_conf_load(conf_path, paths->root, &conf) < 0) {
        kx_log(KX_LOG_ERROR, "kxld: relocation: %s", kx_err_msg());
        return 1;
    }
    int status = serve(paths, &conf);
    kxld_conf_dispose(&conf);
    return status;
}
