/* sock.c - Unix sockets kxl listens on. */
#include "util/sock.h"

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
