/* http_listen.c - kxld's listeners: one libwebsockets context with explicit vhosts, the Unix
 * socket first (one kxld per socket, born owner-only, then 0660 for the group), and a TCP
 * vhost only when kxld.conf configures one, then always with TLS. */
#include "daemon/http_listen.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* Routes libwebsockets' own warnings and errors to the log. */
static void lws_log_to_kx(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    kx_log(level == LLL_ERR ? KX_LOG_ERROR : KX_LOG_WARN, "libwebsockets: %.*s", (int)n, line);
}

/* One kxld per socket: a lock beside it, held for the process's life (kill -9 frees it). A
 * socket file without a holder of the lock is a dead kxld's and is removed. */
static int lock_socket(http_listeners *l, const char *path)
{
    AUTOFREE char *lock = kx_asprintf("%s.lock", path);
    l->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l->lock_fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s'", lock);
        return -1;
    }
    if (flock(l->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            kx_err(KXL_ERR_BUSY, "another kxld listens on '%s'", path);
        else
            kx_err_errno(KXL_ERR_INTERNAL, "cannot lock '%s'", lock);
        return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot remove the stale socket '%s'", path);
        return -1;
    }
    return 0;
}

/* 0660 with the group when it exists (its members may use the API: filesystem permission is
 * the authentication), else 0600; the socket's directory then lets the group through. */
static int set_socket_access(const char *path, const char *group)
{
    struct group gr, *found = NULL;
    char buf[4096];
    if (getgrnam_r(group, &gr, buf, sizeof(buf), &found) != 0 || !found) {
        kx_info("no group '%s': the API socket '%s' is for root only (0600)", group, path);
        if (chmod(path, 0600) < 0) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot chmod '%s'", path);
            return -1;
        }
        return 0;
    }
    AUTOFREE char *dir = kx_strdup(path);
    *strrchr(dir, '/') = '\0';
    struct stat st;
    if (chown(path, 0, found->gr_gid) < 0 || chmod(path, 0660) < 0 ||
        stat(*dir ? dir : "/", &st) < 0 ||
        (!(st.st_mode & S_IXGRP) &&
         (chown(dir, st.st_uid, found->gr_gid) < 0 || chmod(dir, (st.st_mode & 07777) | 0010) < 0))) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot give group '%s' the API socket '%s'", group, path);
        return -1;
    }
    return 0;
}

/* The settings both vhosts share. */
static void vhost_info(const http_server_opts *o, const struct lws_protocols *protocols,
                       struct lws_context_creation_info *info)
{
    *info = (struct lws_context_creation_info){0};
    info->protocols = protocols;
    info->keepalive_timeout = o->idle_timeout_s;
    info->gid = (gid_t)-1;
    info->uid = (uid_t)-1;
}

static int listen_unix(http_listeners *l, const http_server_opts *o,
                       const struct lws_protocols *protocols)
{
    struct lws_context_creation_info info;
    vhost_info(o, protocols, &info);
    info.vhost_name = "unix";
    info.options = LWS_SERVER_OPTION_UNIX_SOCK | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.iface = o->unix_socket;
    /* no moment at which the socket is open to all: it is born owner-only */
    mode_t old = umask(0177);
    l->unix_vh = lws_create_vhost(l->ctx, &info);
    umask(old);
    if (!l->unix_vh) {
        kx_err(KXL_ERR_INTERNAL, "cannot listen on '%s' (libwebsockets said why, above)",
               o->unix_socket);
        return -1;
    }
    return set_socket_access(o->unix_socket, o->socket_group);
}

/* The TCP listener, only with TLS (a plain connection to it fails its handshake) and only
 * when configured; requests on it need a bearer token or a client certificate of the
 * configured CA (request_auth in http_server.c). */
static int listen_tcp(http_listeners *l, const http_server_opts *o,
                      const struct lws_protocols *protocols)
{
    if (!o->tcp_port)
        return 0;
    const char *names[] = {"tls_cert", "tls_key", "tls_client_ca"};
    const char *files[] = {o->tls_cert, o->tls_key, o->tls_client_ca};
    for (size_t i = 0; i < KX_ARRAY_SIZE(files); i++)
        if ((i < 2 || files[i]) && (!files[i] || access(files[i], R_OK) < 0)) {
            kx_err_errno(KXL_ERR_CONFIG, "%s '%s'", names[i], files[i] ? files[i] : "");
            return -1;
        }
    assert((o->tokens && o->tokens->n > 0) || o->tls_client_ca);
    struct lws_context_creation_info info;
    vhost_info(o, protocols, &info);
    info.vhost_name = "tcp";
    info.port = o->tcp_port;
    info.iface = o->tcp_address;
    info.ssl_cert_filepath = o->tls_cert;
    info.ssl_private_key_filepath = o->tls_key;
    /* HTTP/1.1 only: libwebsockets 4.1 keeps no custom header (X-CSRF-Token, Prefer) of an
     * HTTP/2 request, and a browser would choose HTTP/2 */
    info.alpn = "http/1.1";
    /* libwebsockets reads this from the vhost's own options: without it, no TLS at all */
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (!strchr(o->tcp_address, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    /* a client certificate is asked for, not required (a token does as well); one that the CA
     * did not sign ends the handshake (http_server.c's verification callback) */
    if (o->tls_client_ca) {
        info.ssl_ca_filepath = o->tls_client_ca;
        info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT |
                        LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
    }
    if (!(l->tcp_vh = lws_create_vhost(l->ctx, &info))) {
        kx_err(KXL_ERR_CONFIG, "cannot listen on %s port %d with TLS (libwebsockets said why, "
               "above)", o->tcp_address, o->tcp_port);
        return -1;
    }
    return 0;
}

int http_listen_peer_vhost(http_listeners *l, SSL_CTX *client_ctx,
                           const struct lws_protocols *protocols)
{
    if (l->peer_vh)
        return 0;
    struct lws_context_creation_info info = {0};
    info.protocols = protocols;
    info.vhost_name = "peers";
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    /* the client's TLS context is made only with this in the vhost's own options */
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    /* kxld's own (kxld_peer_tls.h): its certificate and CA change with the files */
    info.provided_client_ssl_ctx = client_ctx;
    l->peer_vh = lws_create_vhost(l->ctx, &info);
    if (!l->peer_vh)
        kx_err(KXL_ERR_INTERNAL, "cannot make the client connections to peers "
               "(libwebsockets said why in kxld's log)");
    return l->peer_vh ? 0 : -1;
}

int http_listen(const http_server_opts *o, const struct lws_protocols *protocols, void *user,
                http_listeners *l_r)
{
    *l_r = (http_listeners){.lock_fd = -1};
    if (lock_socket(l_r, o->unix_socket) < 0)
        goto undo_lock;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_kx);
    struct lws_context_creation_info info;
    vhost_info(o, protocols, &info);
    /* OpenSSL only for the TLS listener and the peers' WebSockets: initialised, it alone keeps
     * 3 MiB resident (a third of an idle kxld on the Unix socket) */
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (o->tcp_port || (o->api_peers && o->api_peers[0]))
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.user = user;
    if (!(l_r->ctx = lws_create_context(&info))) {
        kx_err(KXL_ERR_INTERNAL, "cannot start libwebsockets (it said why, above)");
        goto undo_lock;
    }
    /* the TCP port first: once the Unix socket is there (what a client or a test waits
     * for), every listener is */
    if (listen_tcp(l_r, o, protocols) < 0 || listen_unix(l_r, o, protocols) < 0)
        goto undo_context;
    return 0;
undo_context:
    lws_context_destroy(TAKE_PTR(l_r->ctx));
    unlink(o->unix_socket);
undo_lock:
    if (l_r->lock_fd >= 0)
        close(TAKE_FD(l_r->lock_fd));
    return -1;
}

void http_listen_close(http_listeners *l, const http_server_opts *o)
{
    if (l->ctx) {
        lws_context_destroy(TAKE_PTR(l->ctx));
        unlink(o->unix_socket);
    }
    if (l->lock_fd >= 0)
        close(TAKE_FD(l->lock_fd));
    l->unix_vh = l->tcp_vh = l->peer_vh = NULL;
}
