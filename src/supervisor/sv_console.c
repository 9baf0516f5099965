/* sv_console.c - the serial console: the supervisor reads QEMU's serial
 * socket, keeps the last 64 KiB as scrollback, appends everything to the
 * console log, and fans it out to any number of attached clients, whose
 * keystrokes go back to the guest. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qemu/qemu_argv.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static void ring_add(sv_ring *r, const char *data, size_t n)
{
    while (n) {
        size_t chunk = SV_RING_SIZE - r->head;
        if (chunk > n)
            chunk = n;
        memcpy(r->data + r->head, data, chunk);
        r->head += chunk;
        data += chunk;
        n -= chunk;
        if (r->head == SV_RING_SIZE) {
            r->head = 0;
            r->wrapped = true;
        }
    }
}

/* Best effort: a client that cannot keep up loses output rather than
 * stalling the guest's console for everyone. */
static void send_some(int fd, const char *data, size_t n)
{
    while (n) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        data += w;
        n -= (size_t)w;
    }
}

static void ring_send(const sv_ring *r, int fd)
{
    if (r->wrapped)
        send_some(fd, r->data + r->head, SV_RING_SIZE - r->head);
    send_some(fd, r->data, r->head);
}

static void drop_client(sv *s, int slot)
{
    kx_loop_del(s->loop, s->console_fds[slot]);
    close(s->console_fds[slot]);
    s->console_fds[slot] = -1;
}

static void on_serial(int fd, uint32_t events, void *opaque)
{
    sv *s = opaque;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0 || (events & (EPOLLHUP | EPOLLERR) && n <= 0)) {
        /* QEMU is going away; its exit is handled through its pidfd */
        kx_loop_del(s->loop, fd);
        return;
    }
    ring_add(&s->ring, buf, (size_t)n);
    if (s->console_log) {
        fwrite(buf, 1, (size_t)n, s->console_log);
        fflush(s->console_log);
    }
    for (int i = 0; i < SV_MAX_CLIENTS; i++)
        if (s->console_fds[i] >= 0)
            send_some(s->console_fds[i], buf, (size_t)n);
}

static void on_client(int fd, uint32_t events, void *opaque)
{
    (void)events;
    sv *s = opaque;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n > 0 && s->serial_fd >= 0) {
        if (write(s->serial_fd, buf, (size_t)n) < 0)
            sv_event(s, "console input lost: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < SV_MAX_CLIENTS; i++)
        if (s->console_fds[i] == fd)
            drop_client(s, i);
}

static void on_accept(int fd, uint32_t events, void *opaque)
{
    (void)events;
    sv *s = opaque;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    int slot = -1;
    for (int i = 0; i < SV_MAX_CLIENTS && slot < 0; i++)
        if (s->console_fds[i] < 0)
            slot = i;
    if (slot < 0 || kx_loop_add(s->loop, c, EPOLLIN, on_client, s) < 0) {
        static const char full[] = "kxl: too many console clients\r\n";
        send_some(c, full, sizeof(full) - 1);
        close(c);
        return;
    }
    s->console_fds[slot] = c;
    ring_send(&s->ring, c);
}

static int connect_serial(sv *s)
{
    AUTOFREE char *path = kx_path_join(s->dir, s->console_sock);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    s->serial_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->serial_fd < 0 || connect(s->serial_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        kx_err_errno(KXL_ERR_QEMU, "cannot connect to the serial console of '%s'", s->name);
        return -1;
    }
    return kx_loop_add(s->loop, s->serial_fd, EPOLLIN, on_serial, s);
}

/* An adopted console shows what the guest printed before, as a fresh one would. */
static void seed_ring(sv *s, const char *log)
{
    FILE *f = fopen(log, "re");
    if (!f)
        return;
    if (fseek(f, -(long)SV_RING_SIZE, SEEK_END) < 0)
        rewind(f);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        ring_add(&s->ring, buf, n);
    fclose(f);
}

int sv_console_reconnect(sv *s)
{
    if (s->console_listen_fd < 0)
        return sv_console_init(s, false);
    if (s->serial_fd >= 0) {
        kx_loop_del(s->loop, s->serial_fd);
        close(s->serial_fd);
        s->serial_fd = -1;
    }
    return s->console_sock ? connect_serial(s) : 0;
}

void sv_console_choose(sv *s)
{
    free(s->console_sock);
    s->console_sock = qemu_console_socket(s->cfg);
    AUTOFREE char *path = kx_path_join(s->dir, "console");
    const char *text = s->console_sock ? s->console_sock : "";
    if (kx_write_file_atomic(path, text, strlen(text), 0600) < 0)
        sv_event(s, "%s", kx_err_msg());
}

void sv_console_recall(sv *s)
{
    /* an adopted domain's console is the one its first supervisor chose (a pygrub entry's
     * console=hvc0 is not in domain.json); one from before the record: by the config */
    AUTOFREE char *path = kx_path_join(s->dir, "console");
    AUTOFREE char *text = kx_read_file(path, NULL);
    kx_err_clear();
    free(s->console_sock);
    s->console_sock = text ? (*text ? kx_strdup(text) : NULL) : qemu_console_socket(s->cfg);
}

int sv_console_init(sv *s, bool fresh)
{
    if (!s->console_sock)
        return 0;
    AUTOFREE char *log = kx_asprintf("%s/%s.console.log", s->paths.log_dir, s->name);
    if (!fresh)
        seed_ring(s, log);
    s->console_log = fopen(log, fresh ? "we" : "ae");
    if (connect_serial(s) < 0)
        return -1;
    s->console_listen_fd = sv_listen(s, "console.sock");
    if (s->console_listen_fd < 0)
        return -1;
    return kx_loop_add(s->loop, s->console_listen_fd, EPOLLIN, on_accept, s);
}

void sv_console_dispose(sv *s)
{
    for (int i = 0; i < SV_MAX_CLIENTS; i++)
        if (s->console_fds[i] >= 0)
            drop_client(s, i);
    if (s->serial_fd >= 0)
        close(s->serial_fd);
    if (s->console_listen_fd >= 0)
        close(s->console_listen_fd);
    if (s->console_log)
        fclose(s->console_log);
    s->serial_fd = s->console_listen_fd = -1;
    s->console_log = NULL;
    free(s->console_sock);
    s->console_sock = NULL;
}
