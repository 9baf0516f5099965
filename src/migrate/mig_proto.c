/* mig_proto.c - whole lines and exact byte counts over the transport of a migration (the
 * messages are in mig_proto.h). Reads go a byte at a time where a line ends: what follows a
 * line may be QEMU's stream, which must stay in the pipe for QEMU. The descriptors may be
 * non-blocking (QEMU shares them), so every read and write waits with poll. */
#include "migrate/mig_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    return r;
}

void mig_pipe_grow(int fd)
{
    fcntl(fd, F_SETPIPE_SZ, 1 << 20);   /* a socket or file: EBADF, ignored */
}

void mig_debug(const char *who, const char *what)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    kx_notice("%s: %02d:%02d:%02d.%03ld %s", who, tm.tm_hour, tm.tm_min, tm.tm_sec,
              ts.tv_nsec / 1000000, what);
}

int mig_write_line(int fd, const char *peer, const char *text)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, text);
    kx_buf_addc(&b, '\n');
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(fd, b.s + off, b.len - off);
        if (w < 0 && (errno == EAGAIN || errno == EINTR) && wait_fd(fd, POLLOUT, 30000) > 0)
            continue;
        if (w <= 0) {
            kx_err_errno(KXL_ERR_STATE, "cannot write to %s", peer);
            kx_buf_dispose(&b);
            return -1;
        }
        off += (size_t)w;
    }
    kx_buf_dispose(&b);
    return 0;
}

/* One read of up to len bytes, waiting for them (a blocking descriptor too: the wait comes
 * first): >0, or 0 at the end, -1 on an error or timeout (errno ETIMEDOUT). */
static ssize_t read_some(int fd, void *buf, size_t len, int timeout_ms)
{
    for (;;) {
        int r = wait_fd(fd, POLLIN, timeout_ms);
        if (r == 0)
            errno = ETIMEDOUT;
        if (r <= 0)
            return -1;
        ssize_t n = read(fd, buf, len);
        if (n >= 0 || (errno != EAGAIN && errno != EINTR))
            return n;
    }
}

static void read_failed(ssize_t n, const char *peer)
{
    if (n == 0)
        kx_err(KXL_ERR_STATE, "%s hung up", peer);
    else if (errno == ETIMEDOUT)
        kx_err(KXL_ERR_STATE, "%s did not answer in time", peer);
    else
        kx_err_errno(KXL_ERR_STATE, "cannot read from %s", peer);
}

char *mig_read_line(int fd, const char *peer, int timeout_ms)
{
    kx_buf b = KX_BUF_INIT;
    for (;;) {
        char c;
        ssize_t n = read_some(fd, &c, 1, timeout_ms);
        if (n <= 0) {
            read_failed(n, peer);
            kx_buf_dispose(&b);
            return NULL;
        }
        if (c == '\n')
            return kx_buf_steal(&b);
        if (b.len >= MIG_LINE_MAX) {
            kx_err(KXL_ERR_INVALID, "%s sent a line longer than %d bytes", peer, MIG_LINE_MAX);
            kx_buf_dispose(&b);
            return NULL;
        }
        kx_buf_addc(&b, c);
    }
}

int mig_read_exact(int fd, const char *peer, void *buf, size_t len, int timeout_ms)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = read_some(fd, (char *)buf + off, len - off, timeout_ms);
        if (n <= 0) {
            read_failed(n, peer);
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}
