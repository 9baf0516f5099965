/* image_tree.c - files written into a guest's root tree. Paths are resolved with openat2's
 * RESOLVE_IN_ROOT, so a symlink in a copied or unpacked tree (/etc -> /host/etc) is followed
 * as the guest would follow it, never out onto the host; a file is replaced through a
 * rename, so writing /etc/hostname replaces a symlink there instead of its target. */
#include "image/image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static int open_in_root(int root_fd, const char *rel, int flags, unsigned mode)
{
    struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .mode = mode,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    while (*rel == '/')
        rel++;
    return (int)syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how, sizeof(how));
}

static int open_root(const char *tree)
{
    int fd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s'", tree);
    return fd;
}

/* Opens the parent directory of rel inside the tree; *name_r points at rel's last part. */
static int open_parent(const char *tree, const char *rel, const char **name_r)
{
    AUTOCLOSE int root = open_root(tree);
    if (root < 0)
        return -1;
    const char *slash = strrchr(rel, '/');
    AUTOFREE char *dir = slash ? kx_strndup(rel, (size_t)(slash - rel)) : kx_strdup("");
    *name_r = slash ? slash + 1 : rel;
    int fd = open_in_root(root, dir, O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s' in the guest's tree", *dir ? dir : "/");
    return fd;
}

int image_tree_write(const char *tree, const char *rel, const char *data, unsigned mode)
{
    const char *name;
    AUTOCLOSE int dir = open_parent(tree, rel, &name);
    if (dir < 0)
        return -1;
    AUTOFREE char *tmp = kx_asprintf(".%s.kxl-new", name);
    unlinkat(dir, tmp, 0);
    AUTOCLOSE int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                              (mode_t)mode);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot write '%s' in the guest's tree", rel);
        return -1;
    }
    if (kx_write_all(fd, data, strlen(data)) < 0 || fchmod(fd, (mode_t)mode) < 0 ||
        renameat(dir, tmp, dir, name) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot write '%s' in the guest's tree", rel);
        unlinkat(dir, tmp, 0);
        return -1;
    }
    return 0;
}

int image_tree_writef(const char *tree, const char *rel, unsigned mode, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    int r = image_tree_write(tree, rel, kx_buf_str(&b), mode);
    kx_buf_dispose(&b);
    return r;
}

int image_tree_mkdir(const char *tree, const char *rel, unsigned mode)
{
    AUTOFREE char *path = kx_strdup(rel);
    for (char *s = path + 1; ; s++) {
        bool end = *s == '\0';
        if (!end && *s != '/')
            continue;
        *s = '\0';
        const char *name;
        AUTOCLOSE int dir = open_parent(tree, path, &name);
        if (dir < 0)
            return -1;
        if (*name && mkdirat(dir, name, (mode_t)mode) < 0 && errno != EEXIST) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot create '%s' in the guest's tree", path);
            return -1;
        }
        if (end)
            break;
        *s = '/';
    }
    return 0;
}

int image_tree_symlink(const char *tree, const char *rel, const char *target)
{
    const char *name;
    AUTOCLOSE int dir = open_parent(tree, rel, &name);
    if (dir < 0)
        return -1;
    if ((unlinkat(dir, name, 0) < 0 && errno != ENOENT) || symlinkat(target, dir, name) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot make '%s' a symlink in the guest's tree", rel);
        return -1;
    }
    return 0;
}

int image_tree_unlink(const char *tree, const char *rel)
{
    const char *name;
    AUTOCLOSE int dir = open_parent(tree, rel, &name);
    if (dir < 0) {
        kx_err_clear();
        return 0;   /* no parent, nothing to remove */
    }
    if (unlinkat(dir, name, 0) < 0 && errno != ENOENT) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot remove '%s' in the guest's tree", rel);
        return -1;
    }
    return 0;
}

int image_tree_open(const char *tree, const char *rel, int flags)
{
    AUTOCLOSE int root = open_root(tree);
    if (root < 0)
        return -1;
    int fd = open_in_root(root, rel, flags, 0);
    if (fd < 0)
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                     "cannot open '%s' in the guest's tree", rel);
    return fd;
}

bool image_tree_exists(const char *tree, const char *rel)
{
    AUTOCLOSE int root = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return false;
    AUTOCLOSE int fd = open_in_root(root, rel, O_PATH, 0);
    return fd >= 0;
}

char *image_tree_read(const char *tree, const char *rel)
{
    AUTOCLOSE int root = open_root(tree);
    if (root < 0)
        return NULL;
    AUTOCLOSE int fd = open_in_root(root, rel, O_RDONLY, 0);
    if (fd < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                     "cannot read '%s' in the guest's tree", rel);
        return NULL;
    }
    kx_buf b = KX_BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            kx_buf_addn(&b, chunk, (size_t)n);
    return kx_buf_steal(&b);
}
