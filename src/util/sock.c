/* sock.c - Unix sockets kxl listens on, TCP connections it makes. */
#include "util/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"

int kx_unix_listen(const char *path, int backlog)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        kx_err(KXL_ERR_HOST, "'%s' is too long a socket path", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    AUTOCLOSE int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, backlog) < 0) {
        kx_err_errno(KXL_ERR_HOST, "cannot listen on '%s'", path);
        return -1;
    }
    return TAKE_FD(fd);
}

/* A non-blocking connect, waited for at most timeout_ms; the socket back in blocking mode. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    AUTOCLOSE int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
        return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);
    if (poll(&p, 1, timeout_ms) <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        errno = err ? err : errno;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    return TAKE_FD(fd);
}

int kx_tcp_connect(const char *what, const char *host, const char *port, int timeout_ms)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        kx_err(KXL_ERR_NOT_FOUND, "cannot find the host '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, timeout_ms);
        err = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = err;   /* the last address's reason, not freeaddrinfo's leftovers */
        kx_err_errno(KXL_ERR_STATE, "cannot connect to %s on '%s' port %s", what, host, port);
    }
    return fd;
}
