/* vnc_connect.c - a connection to a domain's VNC server, found where the supervisor's `display`
 * verb (QMP query-vnc) says it listens: what kxld's VNC WebSocket relays to a browser. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kxl/kxl.h"
#include "kxl/ops.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

static int unix_connect(const char *name, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        kx_err(KXL_ERR_INVALID, "VNC socket '%s' is too long a path (KXL_ROOT is too deep)",
               path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    AUTOCLOSE int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        kx_err_errno(KXL_ERR_STATE, "cannot reach the VNC server of '%s' at '%s'", name, path);
        return -1;
    }
    return TAKE_FD(fd);
}

/* A listener on every address ("0.0.0.0", "::") is reached on the loopback. */
static int tcp_connect(const char *name, const char *host, int port)
{
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || !*host)
        host = strchr(host, ':') ? "::1" : "127.0.0.1";
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai = NULL;
    int rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0) {
        kx_err(KXL_ERR_QEMU, "VNC server of '%s': address '%s': %s", name, host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        kx_err_errno(KXL_ERR_STATE, "cannot reach the VNC server of '%s' at %s port %d", name,
                     host, port);
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int kxl_vnc_connect(const kxl_paths *p, const char *name)
{
    AUTOPTR(json_object) display = NULL;
    if (kxl_domain_display(p, name, &display) < 0)
        return -1;
    json_object *vnc = NULL;
    json_object_object_get_ex(display, "vnc", &vnc);
    if (strcmp(kx_json_str(vnc, "family", ""), "unix") == 0)
        return unix_connect(name, kx_json_str(vnc, "path", ""));
    return tcp_connect(name, kx_json_str(vnc, "host", ""), (int)kx_json_int(vnc, "port", 0));
}
