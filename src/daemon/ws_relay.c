/* ws_relay.c - a WebSocket relaying a domain's byte stream both ways (ws_relay.h). The stream's
 * output goes out as binary frames; text or binary frames from the client go to the stream. A
 * client slower than the stream pauses the reading of its socket (the console's supervisor then
 * drops output for it alone; a VNC server waits); a stream slower than the client pauses the
 * reading of the WebSocket, so no input is lost (one lost byte would break an RFB stream). The
 * WebSocket closes when the stream does. */
#include "daemon/ws_relay.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define RELAY_HIGH (256 * 1024)   /* output waiting: stop reading the stream's socket */
#define RELAY_LOW (64 * 1024)     /* ...and read again once it is down to this */
#define RELAY_IN_HIGH (64 * 1024) /* input waiting for the stream: stop reading the client */
#define RELAY_IN_LOW (16 * 1024)  /* ...and read it again once it is down to this */

typedef struct {
    const ws_relay_spec *spec;
    const kxl_paths *paths;
    struct lws *wsi;        /* the WebSocket; NULL once it closed while the connect ran */
    struct lws *sock;       /* the stream's socket, once adopted, until it closes */
    char name[HTTP_PARAM_MAX];
    bool connecting;        /* a worker runs the connect: it owns the session meanwhile */
    int fd;                 /* the connect's result */
    char *error;            /* ... or why it failed; then the WebSocket closes with it */
    kx_buf out;             /* from the stream, not yet sent */
    kx_buf in;              /* to the stream, not yet written */
    bool paused;            /* the stream's socket is not read (too much output waits) */
    bool in_paused;         /* the WebSocket is not read (too much input waits) */
    bool ended;             /* the stream's socket closed */
} relay_sess;

static void sess_free(relay_sess *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->error);
    kx_buf_dispose(&s->out);
    kx_buf_dispose(&s->in);
    free(s);
}

/* Drops the first n bytes of b. */
static void buf_consume(kx_buf *b, size_t n)
{
    memmove(b->s, b->s + n, b->len - n);
    b->len -= n;
    b->s[b->len] = '\0';
}

/* ---- connecting (a worker, then the loop) ---- */

static void relay_connect(void *arg)
{
    relay_sess *s = arg;
    kx_err_clear();
    s->fd = s->spec->connect(s->paths, s->name);
    if (s->fd < 0)
        s->error = kx_strdup(kx_err_msg());
}

/* Adopts the stream's socket as a raw child of the WebSocket (closed with it). */
static void relay_connected(void *arg)
{
    relay_sess *s = arg;
    s->connecting = false;
    if (!s->wsi) {
        sess_free(s);   /* the client left meanwhile */
        return;
    }
    if (s->fd >= 0) {
        lws_adopt_desc_t ad = {.vh = lws_get_vhost(s->wsi), .type = LWS_ADOPT_SOCKET,
                               .fd.sockfd = TAKE_FD(s->fd), .vh_prot_name = WS_RELAY_PROTOCOL,
                               .parent = s->wsi, .opaque = s};
        if (!(s->sock = lws_adopt_descriptor_vhost_via_info(&ad)))
            s->error = kx_asprintf("cannot follow the %s of '%s' (libwebsockets said why in "
                                   "kxld's log)", s->spec->what, s->name);
        else if (s->in.len)
            lws_callback_on_writable(s->sock);
    }
    lws_callback_on_writable(s->wsi);
}

/* ---- the stream's socket ---- */

/* Writes what the stream's socket takes of the input that waits, keeping the rest for its next
 * writable; reads the client again once little waits. Not lws_write: libwebsockets keeps what a
 * raw socket does not take and, while it holds that, answers the socket's POLLIN with nothing
 * but a return to poll(), which returns at once again: kxld spun at 100% CPU for as long as a
 * large paste took to reach a slow serial console, through every client's requests. */
static int write_input(struct lws *wsi, relay_sess *s)
{
    ssize_t n = send(lws_get_socket_fd(wsi), s->in.s, s->in.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return -1;
    if (n > 0)
        buf_consume(&s->in, (size_t)n);
    if (s->in.len)
        lws_callback_on_writable(wsi);
    if (s->in_paused && s->in.len <= RELAY_IN_LOW && s->wsi) {
        s->in_paused = false;
        lws_rx_flow_control(s->wsi, 1);
    }
    return 0;
}

int ws_relay_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                          void *in, size_t len)
{
    (void)user;
    relay_sess *s = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1;   /* a WebSocket naming this protocol: it is not one */
    case LWS_CALLBACK_RAW_RX:
        if (!s || !s->wsi)
            return -1;
        kx_buf_addn(&s->out, in, len);
        if (s->out.len >= RELAY_HIGH && !s->paused) {
            s->paused = true;
            lws_rx_flow_control(wsi, 0);
        }
        lws_callback_on_writable(s->wsi);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        return s && s->in.len ? write_input(wsi, s) : 0;
    case LWS_CALLBACK_RAW_CLOSE:
        if (s) {
            s->sock = NULL;
            s->ended = true;
            if (s->wsi)
                lws_callback_on_writable(s->wsi);
        }
        return 0;
    default:
        return 0;
    }
}

/* ---- the WebSocket ---- */

void *ws_relay_open(const ws_relay_spec *spec, http_server *srv, struct lws *wsi,
                    const http_params *params)
{
    relay_sess *s = kx_malloc0(sizeof(*s));
    s->spec = spec;
    s->paths = http_server_paths(srv);
    s->wsi = wsi;
    s->fd = -1;
    snprintf(s->name, sizeof(s->name), "%s", http_param(params, "name"));
    s->connecting = true;
    if (http_server_defer(srv, relay_connect, relay_connected, s) < 0) {
        sess_free(s);
        return NULL;
    }
    kx_info("%s WebSocket opened for '%s'", spec->what, s->name);
    return s;
}

int ws_relay_receive(void *sess, const void *in, size_t len)
{
    relay_sess *s = sess;
    kx_buf_addn(&s->in, in, len);
    if (s->in.len >= RELAY_IN_HIGH && !s->in_paused) {
        s->in_paused = true;
        lws_rx_flow_control(s->wsi, 0);
    }
    if (s->sock)
        lws_callback_on_writable(s->sock);
    return 0;
}

/* Sends a frame of output; closes once the stream closed and all of it went. */
int ws_relay_writable(void *sess)
{
    relay_sess *s = sess;
    if (s->error) {
        ws_close_reason(s->wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, s->error);
        return -1;
    }
    if (s->out.len) {
        size_t n = s->out.len < s->spec->frame ? s->out.len : s->spec->frame;
        AUTOFREE unsigned char *buf = kx_malloc0(LWS_PRE + n);
        memcpy(buf + LWS_PRE, s->out.s, n);
        if (lws_write(s->wsi, buf + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n)
            return -1;
        buf_consume(&s->out, n);
        if (s->paused && s->out.len <= RELAY_LOW && s->sock) {
            s->paused = false;
            lws_rx_flow_control(s->sock, 1);
        }
        lws_callback_on_writable(s->wsi);
        return 0;
    }
    if (s->ended) {
        ws_close_reason(s->wsi, LWS_CLOSE_STATUS_NORMAL, s->spec->ended);
        return -1;
    }
    return 0;
}

void ws_relay_close(void *sess)
{
    relay_sess *s = sess;
    if (s->sock)   /* libwebsockets closes it with its parent: it must not find us then */
        lws_set_opaque_user_data(s->sock, NULL);
    if (s->connecting)
        s->wsi = NULL;   /* relay_connected frees it */
    else
        sess_free(s);
}
