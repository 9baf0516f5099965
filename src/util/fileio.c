/* fileio.c - whole-file reads, atomic writes, directories and paths. */
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "err.h"

int kx_read_all(int fd, kx_buf *b, size_t max)
{
    char chunk[8192];
    while (b->len < max) {
        size_t want = max - b->len < sizeof(chunk) ? max - b->len : sizeof(chunk);
        ssize_t n = read(fd, chunk, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -1 : 0;
        kx_buf_addn(b, chunk, (size_t)n);
    }
    return 0;
}

char *kx_read_file(const char *path, size_t *len_r)
{
    AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                     "cannot read '%s'", path);
        return NULL;
    }
    kx_buf b = KX_BUF_INIT;
    if (kx_read_all(fd, &b, SIZE_MAX) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot read '%s'", path);
        kx_buf_dispose(&b);
        return NULL;
    }
    if (len_r)
        *len_r = b.len;
    return kx_buf_steal(&b);
}

int kx_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int kx_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    AUTOFREE char *tmp = kx_asprintf("%s.tmp", path);
    AUTOCLOSE int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot write '%s'", tmp);
        return -1;
    }
    if (kx_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot write '%s'", tmp);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot rename '%s' to '%s'", tmp, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int kx_mkdir_p(const char *path, mode_t mode)
{
    AUTOFREE char *p = kx_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot create directory '%s'", p);
            return -1;
        }
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create directory '%s'", p);
        return -1;
    }
    return 0;
}

int kx_rm_dir_flat(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open directory '%s'", path);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    if (rmdir(path) < 0 && errno != ENOENT) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot remove directory '%s'", path);
        return -1;
    }
    return 0;
}

bool kx_path_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

bool kx_is_block_device(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

char *kx_path_join(const char *a, const char *b)
{
    size_t n = strlen(a);
    while (n > 1 && a[n - 1] == '/')
        n--;
    while (*b == '/')
        b++;
    if (n == 1 && a[0] == '/')
        n = 0;  /* "/" + "etc" is "/etc", not "//etc" */
    return kx_asprintf("%.*s/%s", (int)n, a, b);
}

int kx_read_long(const char *path, long long *v_r)
{
    AUTOFREE char *s = kx_read_file(path, NULL);
    if (!s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || (*end && *end != '\n')) {
        kx_err(KXL_ERR_INTERNAL, "'%s' does not hold a number", path);
        return -1;
    }
    *v_r = v;
    return 0;
}
