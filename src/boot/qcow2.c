/* qcow2.c - a qcow2 header's backing file name and format (QEMU's
 * docs/interop/qcow2.txt): the fixed header, then header extensions up to
 * the backing file name, all within the first cluster. Every offset and
 * length is checked against that cluster before it is used. */
#include "boot/qcow2.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define QCOW2_MAGIC 0x514649fbu           /* "QFI\xfb" */
#define EXT_END 0u
#define EXT_BACKING_FORMAT 0xe2792acau
#define INCOMPAT_DATA_FILE (1ull << 2)    /* guest data lives in another file */
#define BACKING_NAME_MAX 1023             /* QEMU's own limit */
#define FORMAT_NAME_MAX 32

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int corrupt(const char *path, const char *what)
{
    kx_err(KXL_ERR_INVALID, "'%s': corrupt qcow2 header (%s)", path, what);
    return -1;
}

static bool read_exact(int fd, void *buf, size_t len, uint64_t off)
{
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* A name stored in the header: no NUL inside, and for a format a plain word. */
static char *take_name(const uint8_t *p, size_t len, bool word)
{
    if (len == 0 || memchr(p, '\0', len))
        return NULL;
    for (size_t i = 0; word && i < len; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_' ||
              p[i] == '-'))
            return NULL;
    return kx_strndup((const char *)p, len);
}

/* The backing format extension among those in [start, end); *format_r stays
 * NULL when there is none. */
static int read_extensions(int fd, const char *path, uint64_t start, uint64_t end,
                           char **format_r)
{
    if (end <= start)
        return 0;
    AUTOFREE uint8_t *ext = kx_malloc0(end - start);
    if (!read_exact(fd, ext, end - start, start))
        return corrupt(path, "header extensions cut short");
    for (uint64_t off = 0; off + 8 <= end - start;) {
        uint32_t type = be32(ext + off), len = be32(ext + off + 4);
        if (type == EXT_END)
            break;
        if (len > end - start - off - 8)
            return corrupt(path, "a header extension runs past its end");
        if (type == EXT_BACKING_FORMAT) {
            free(*format_r);
            *format_r = len <= FORMAT_NAME_MAX ? take_name(ext + off + 8, len, true) : NULL;
            if (!*format_r)
                return corrupt(path, "backing format");
        }
        off += 8 + (((uint64_t)len + 7) & ~7ull);
    }
    return 0;
}

/* The fixed header: *header_len_r and *cluster_r, where the extensions start
 * and the cluster everything must lie in. */
static int read_header(int fd, const char *path, uint8_t h[104], uint64_t *header_len_r,
                       uint64_t *cluster_r)
{
    ssize_t n = pread(fd, h, 104, 0);
    if (n < 72 || be32(h) != QCOW2_MAGIC) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a qcow2 image", path);
        return -1;
    }
    uint32_t version = be32(h + 4), bits = be32(h + 20);
    if (version != 2 && version != 3) {
        kx_err(KXL_ERR_INVALID, "'%s': qcow2 version %u is not supported", path, version);
        return -1;
    }
    if (bits < 9 || bits > 21)
        return corrupt(path, "cluster size");
    *cluster_r = 1ull << bits;
    *header_len_r = 72;
    if (version == 3) {
        *header_len_r = n < 104 ? 0 : be32(h + 100);
        if (*header_len_r < 104 || *header_len_r > *cluster_r)
            return corrupt(path, "header length");
        if (be64(h + 72) & INCOMPAT_DATA_FILE) {
            kx_err(KXL_ERR_INVALID, "'%s' keeps its data in an external data file, which kxl "
                   "does not hot-plug", path);
            return -1;
        }
    }
    return 0;
}

static int read_backing_name(int fd, const char *path, const uint8_t h[104],
                             uint64_t header_len, uint64_t cluster, char **file_r)
{
    uint64_t off = be64(h + 8);
    uint32_t len = be32(h + 16);
    if (off == 0)
        return 0;
    uint8_t name[BACKING_NAME_MAX];
    if (off < header_len || off > cluster || len == 0 || len > BACKING_NAME_MAX ||
        len > cluster - off ||
        !read_exact(fd, name, len, off) || !(*file_r = take_name(name, len, false)))
        return corrupt(path, "backing file name");
    return 0;
}

int qcow2_read_backing(int fd, const char *path, char **file_r, char **format_r)
{
    *file_r = *format_r = NULL;
    uint8_t h[104] = {0};
    uint64_t header_len, cluster;
    if (read_header(fd, path, h, &header_len, &cluster) < 0)
        return -1;
    /* the extensions end where the backing file name starts, or with the cluster (or the
     * file, when it is shorter than a cluster) */
    uint64_t name_off = be64(h + 8), end = name_off ? name_off : cluster;
    struct stat st;
    if (!name_off && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < end)
        end = (uint64_t)st.st_size;
    if (read_backing_name(fd, path, h, header_len, cluster, file_r) < 0 ||
        read_extensions(fd, path, header_len, end, format_r) < 0) {
        free(*file_r);
        free(*format_r);
        *file_r = *format_r = NULL;
        return -1;
    }
    return 0;
}

bool qcow2_probe(int fd)
{
    uint8_t m[4];
    return read_exact(fd, m, sizeof(m), 0) && be32(m) == QCOW2_MAGIC;
}

char *qcow2_backing_path(const char *path, const char *name)
{
    if (name[0] == '/')
        return kx_strdup(name);
    const char *slash = strrchr(path, '/');
    if (!slash)
        return kx_strdup(name);
    return kx_asprintf("%.*s/%s", (int)(slash - path), path, name);
}
