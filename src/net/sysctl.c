/* sysctl.c - network sysctls as files under /proc/sys/net. */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define SYSCTL_NET "/proc/sys/net/"

/* Why PATH is not a relative path of plain parts, or NULL if it is. */
static const char *path_problem(const char *path)
{
    const char *p = path;

    if (!*path)
        return "is empty";
    if (*path == '/')
        return "is absolute";
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.'))
            return "has an empty or '.' part";
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return "has a '..' part";
        p += n;
        if (*p == '/' && !*++p)
            return "has an empty or '.' part";
    }
    return NULL;
}

static int path_check(const char *path, const char *verb)
{
    const char *why = path_problem(path);

    if (why) {
        kx_err(KXL_ERR_INVALID, "cannot %s net sysctl '%s': the path %s", verb, path, why);
        return -1;
    }
    return 0;
}

int net_sysctl_set(const char *path, const char *value)
{
    AUTOFREE char *file = NULL;
    AUTOCLOSE int fd = -1;
    size_t len = strlen(value);
    ssize_t n = -1;

    if (path_check(path, "set") < 0)
        return -1;
    file = kx_asprintf(SYSCTL_NET "%s", path);
    fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        do
            n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n >= 0 && (size_t)n != len) {
            n = -1;
            errno = EIO;
        }
    }
    if (fd < 0 || n < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : errno == EINVAL ? KXL_ERR_INVALID
                                                                           : KXL_ERR_INTERNAL,
                     "cannot set net sysctl '%s' to '%s'", path, value);
        return -1;
    }
    kx_debug("sysctl %s = %s", file, value);
    return 0;
}

int net_sysctl_get(const char *path, char **value_r)
{
    AUTOFREE char *file = NULL;
    AUTOCLOSE int fd = -1;
    char buf[4096];
    ssize_t n = -1;

    if (path_check(path, "read") < 0)
        return -1;
    file = kx_asprintf(SYSCTL_NET "%s", path);
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        do
            n = read(fd, buf, sizeof(buf) - 1); /* sysctl values are short: one read */
        while (n < 0 && errno == EINTR);
    }
    if (fd < 0 || n < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                     "cannot read net sysctl '%s'", path);
        return -1;
    }
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    *value_r = kx_strndup(buf, (size_t)n);
    return 0;
}
