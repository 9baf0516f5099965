/* mig_mux.c - the relay of mig_mux.h: one poll loop between the transport and the local
 * descriptors. Frames from the transport are written out whole before the next is read, so a
 * slow local reader holds the others up (QEMU reads its sockets without blocking, so none
 * waits on another); bytes for an NBD channel that is not connected yet (the server's
 * greeting comes before the sending QEMU connects) wait in a buffer. */
#include "migrate/mig_mux.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "migrate/mig_proto.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"

#define CONNECT_RETRY_MS 50
#define TRANSPORT "the migration's transport"

typedef struct {
    int fd;            /* -1: not connected yet */
    bool rd, wr;       /* each direction still open */
    kx_buf pending;    /* bytes that came before the connection */
} mux_chan;

typedef struct {
    const mig_mux *m;
    mux_chan ch[MIG_MUX_MAX_CHANNELS];
    bool in_open, out_open;   /* channel 0 */
    size_t linked;            /* NBD channels accepted or connected */
    bool connecting;          /* the receiver, until linked == n or its time is up */
    long long connect_until;
    unsigned char buf[MIG_MUX_FRAME_MAX];
} mux;

void mig_mux_frame_header(unsigned ch, size_t len, unsigned char out[4])
{
    uint32_t w = ((uint32_t)ch << 24) | ((uint32_t)len & 0xffffffu);
    out[0] = (unsigned char)(w >> 24);
    out[1] = (unsigned char)(w >> 16);
    out[2] = (unsigned char)(w >> 8);
    out[3] = (unsigned char)w;
}

/* All of len bytes to fd, waiting while it is full; -1 (errno) when it cannot take them. */
static int write_all(int fd, const void *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 1000);
            continue;
        }
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

static int send_frame(mux *x, unsigned ch, const void *data, size_t len)
{
    unsigned char h[4];
    mig_mux_frame_header(ch, len, h);
    if (write_all(x->m->transport_out, h, 4) < 0 ||
        (len && write_all(x->m->transport_out, data, len) < 0)) {
        kx_err_errno(KXL_ERR_STATE, "cannot write to %s", TRANSPORT);
        return -1;
    }
    return 0;
}

static void link_chan(mux *x, int fd)
{
    mux_chan *c = &x->ch[++x->linked];
    c->fd = fd;
    c->rd = c->wr = true;
    if (c->pending.len && write_all(fd, c->pending.s, c->pending.len) < 0)
        c->wr = false;
    kx_buf_dispose(&c->pending);
}

static int connect_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* The receiver's connections to its QEMU's NBD server; the ready line once all are made. */
static int try_connect(mux *x)
{
    while (x->linked < x->m->n) {
        int fd = connect_path(x->m->connect_path);
        if (fd < 0)
            break;
        link_chan(x, fd);
    }
    if (x->linked == x->m->n) {
        x->connecting = false;
        size_t len = strlen(x->m->ready_line);
        char line[256];
        if (len + 1 > sizeof(line))
            return 0;
        memcpy(line, x->m->ready_line, len);
        line[len] = '\n';
        return send_frame(x, 0, line, len + 1);
    }
    if (kx_mono_ms() > x->connect_until)
        x->connecting = false;   /* no ready line: the receiver reports its own failure */
    return 0;
}

/* A frame's bytes for channel 0 or an NBD channel. */
static void deliver(mux *x, unsigned ch, size_t len)
{
    if (ch == 0) {
        if (!x->out_open)
            return;
        if (!len || write_all(x->m->ch0_out, x->buf, len) < 0) {
            close(x->m->ch0_out);   /* the local reader sees the channel's end */
            x->out_open = false;
        }
        return;
    }
    mux_chan *c = &x->ch[ch];
    if (c->fd < 0) {
        kx_buf_addn(&c->pending, (const char *)x->buf, len);
        return;
    }
    if (!c->wr)
        return;
    if (!len || write_all(c->fd, x->buf, len) < 0) {
        shutdown(c->fd, SHUT_WR);
        c->wr = false;
    }
}

/* One frame from the transport: 1 at its end, 0, or -1 with kx_err. */
static int from_transport(mux *x)
{
    unsigned char h[4];
    ssize_t n = read(x->m->transport_in, h, 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0)
        return 1;
    if (mig_read_exact(x->m->transport_in, TRANSPORT, h + 1, 3, -1) < 0)
        return -1;
    unsigned ch = h[0];
    size_t len = ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
    bool stream = ch == MIG_MUX_STREAM && x->m->stream_fd >= 0;
    if ((ch > x->m->n && !stream) || len > MIG_MUX_FRAME_MAX) {
        kx_err(KXL_ERR_INVALID, "%s sent a broken frame (channel %u, %zu bytes)", TRANSPORT, ch,
               len);
        return -1;
    }
    if (len && mig_read_exact(x->m->transport_in, TRANSPORT, x->buf, len, -1) < 0)
        return -1;
    deliver(x, ch, len);
    return 0;
}

/* What a local descriptor has, as a frame of channel ch; its end as the empty frame. */
static int from_local(mux *x, int fd, unsigned ch, bool *open)
{
    ssize_t n = read(fd, x->buf, sizeof(x->buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        *open = false;
        if (ch)
            shutdown(fd, SHUT_RD);
        return send_frame(x, ch, NULL, 0);
    }
    return send_frame(x, ch, x->buf, (size_t)n);
}

static size_t fill_poll(mux *x, struct pollfd *p, unsigned *who)
{
    size_t k = 0;
    p[k] = (struct pollfd){.fd = x->m->transport_in, .events = POLLIN};
    who[k++] = 1000;
    if (x->in_open) {
        p[k] = (struct pollfd){.fd = x->m->ch0_in, .events = POLLIN};
        who[k++] = 0;
    }
    if (x->m->listen_fd >= 0 && x->linked < x->m->n) {
        p[k] = (struct pollfd){.fd = x->m->listen_fd, .events = POLLIN};
        who[k++] = 1001;
    }
    for (unsigned c = 1; c < MIG_MUX_MAX_CHANNELS; c++)
        if (x->ch[c].fd >= 0 && x->ch[c].rd) {
            p[k] = (struct pollfd){.fd = x->ch[c].fd, .events = POLLIN};
            who[k++] = c;
        }
    return k;
}

static int mux_step(mux *x)
{
    struct pollfd p[MIG_MUX_MAX_CHANNELS + 3];
    unsigned who[MIG_MUX_MAX_CHANNELS + 3];
    size_t k = fill_poll(x, p, who);
    if (poll(p, k, x->connecting ? CONNECT_RETRY_MS : -1) < 0)
        return errno == EINTR ? 0 : -1;
    if (x->connecting && try_connect(x) < 0)
        return -1;
    for (size_t i = 0; i < k; i++) {
        if (!p[i].revents)
            continue;
        int r = 0;
        if (who[i] == 1000)
            r = from_transport(x);
        else if (who[i] == 1001) {
            int fd = accept4(x->m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                link_chan(x, fd);
        } else if (who[i] == 0)
            r = from_local(x, x->m->ch0_in, 0, &x->in_open);
        else
            r = from_local(x, x->ch[who[i]].fd, who[i], &x->ch[who[i]].rd);
        if (r != 0)
            return r;
    }
    return 0;
}

int mig_mux_run(const mig_mux *m)
{
    if (m->n >= MIG_MUX_MAX_CHANNELS) {
        kx_err(KXL_ERR_INVALID, "too many disks to copy (%zu, at most %d)", m->n,
               MIG_MUX_MAX_CHANNELS - 1);
        return -1;
    }
    mux *x = calloc(1, sizeof(*x));
    if (!x)
        return -1;
    x->m = m;
    x->in_open = x->out_open = true;
    x->connecting = m->connect_path != NULL && m->n > 0;
    x->connect_until = kx_mono_ms() + m->connect_ms;
    for (size_t c = 0; c < MIG_MUX_MAX_CHANNELS; c++)
        x->ch[c].fd = -1;
    if (m->stream_fd >= 0)
        x->ch[MIG_MUX_STREAM] = (mux_chan){.fd = m->stream_fd, .rd = true, .wr = true};
    int r = 0;
    while (r == 0 && (x->in_open || x->out_open))
        r = mux_step(x);
    for (size_t c = 1; c < MIG_MUX_MAX_CHANNELS; c++) {
        if (x->ch[c].fd >= 0 && x->ch[c].fd != m->stream_fd)
            close(x->ch[c].fd);
        kx_buf_dispose(&x->ch[c].pending);
    }
    free(x);
    return r < 0 ? -1 : 0;
}
