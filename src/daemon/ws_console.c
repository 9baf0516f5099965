/* ws_console.c - GET /api/v1/domains/{name}/console: a domain's serial console on a
 * WebSocket, both ways. The library's kxl_console_connect (the call `kxl console` makes; it
 * may have to start a supervisor, so it runs in a worker) gives a socket to the supervisor,
 * which sends its scrollback first and takes any number of clients. The event loop adopts that
 * socket as a raw child of the WebSocket: the guest's output goes out as binary frames, text or
 * binary frames from the client go to the guest. A client slower than the guest pauses the
 * reading of its own console socket (the supervisor then drops output for it alone); the
 * WebSocket closes when the console does (the domain ended). */
#include <string.h>

#include "daemon/ws.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define CONSOLE_FRAME 4096          /* bytes of output per frame */
#define CONSOLE_HIGH (256 * 1024)   /* output waiting: stop reading the console socket */
#define CONSOLE_LOW (64 * 1024)     /* ...and read again once it is down to this */
#define CONSOLE_IN_MAX (64 * 1024)  /* input waiting for the console socket: more is dropped */

typedef struct {
    const kxl_paths *paths;
    struct lws *wsi;        /* the WebSocket; NULL once it closed while the connect ran */
    struct lws *sock;       /* the console socket, once adopted, until it closes */
    char name[HTTP_PARAM_MAX];
    bool connecting;        /* a worker runs the connect: it owns the session meanwhile */
    int fd;                 /* the connect's result */
    char *error;            /* ... or why it failed; then the WebSocket closes with it */
    kx_buf out;             /* from the guest, not yet sent */
    kx_buf in;              /* to the guest, not yet written */
    bool paused;            /* the console socket is not read (too much output waits) */
    bool ended;             /* the console socket closed */
} console_sess;

static void sess_free(console_sess *s)
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

static void console_connect(void *arg)
{
    console_sess *s = arg;
    kx_err_clear();
    s->fd = kxl_console_connect(s->paths, s->name);
    if (s->fd < 0)
        s->error = kx_strdup(kx_err_msg());
}

/* Adopts the console socket as a raw child of the WebSocket (closed with it). */
static void console_connected(void *arg)
{
    console_sess *s = arg;
    s->connecting = false;
    if (!s->wsi) {
        sess_free(s);   /* the client left meanwhile */
        return;
    }
    if (s->fd >= 0) {
        lws_adopt_desc_t ad = {.vh = lws_get_vhost(s->wsi), .type = LWS_ADOPT_SOCKET,
                               .fd.sockfd = TAKE_FD(s->fd), .vh_prot_name = WS_CONSOLE_PROTOCOL,
                               .parent = s->wsi, .opaque = s};
        if (!(s->sock = lws_adopt_descriptor_vhost_via_info(&ad)))
            s->error = kx_asprintf("cannot follow the console of '%s' (libwebsockets said why "
                                   "in kxld's log)", s->name);
        else if (s->in.len)
            lws_callback_on_writable(s->sock);
    }
    lws_callback_on_writable(s->wsi);
}

/* ---- the console socket ---- */

int ws_console_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                            void *in, size_t len)
{
    (void)user;
    console_sess *s = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1;   /* a WebSocket naming this protocol: it is not one */
    case LWS_CALLBACK_RAW_RX:
        if (!s || !s->wsi)
            return -1;
        kx_buf_addn(&s->out, in, len);
        if (s->out.len >= CONSOLE_HIGH && !s->paused) {
            s->paused = true;
            lws_rx_flow_control(wsi, 0);
        }
        lws_callback_on_writable(s->wsi);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (!s || !s->in.len)
            return 0;
        {
            AUTOFREE unsigned char *buf = kx_malloc0(LWS_PRE + s->in.len);
            memcpy(buf + LWS_PRE, s->in.s, s->in.len);
            /* what the socket does not take now, libwebsockets keeps and sends on */
            if (lws_write(wsi, buf + LWS_PRE, s->in.len, LWS_WRITE_RAW) < 0)
                return -1;
            kx_buf_clear(&s->in);
        }
        return 0;
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

static void *console_open(http_server *srv, struct lws *wsi, const http_params *params)
{
    console_sess *s = kx_malloc0(sizeof(*s));
    s->paths = http_server_paths(srv);
    s->wsi = wsi;
    s->fd = -1;
    snprintf(s->name, sizeof(s->name), "%s", http_param(params, "name"));
    s->connecting = true;
    if (http_server_defer(srv, console_connect, console_connected, s) < 0) {
        sess_free(s);
        return NULL;
    }
    kx_info("console WebSocket opened for '%s'", s->name);
    return s;
}

static int console_receive(void *sess, const void *in, size_t len)
{
    console_sess *s = sess;
    if (s->in.len + len > CONSOLE_IN_MAX) {
        kx_notice("console of '%s': input dropped: %zu bytes wait already", s->name, s->in.len);
        return 0;
    }
    kx_buf_addn(&s->in, in, len);
    if (s->sock)
        lws_callback_on_writable(s->sock);
    return 0;
}

/* Sends a frame of output; closes once the console closed and all of it went. */
static int console_writable(void *sess)
{
    console_sess *s = sess;
    if (s->error) {
        ws_close_reason(s->wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, s->error);
        return -1;
    }
    if (s->out.len) {
        size_t n = s->out.len < CONSOLE_FRAME ? s->out.len : CONSOLE_FRAME;
        unsigned char buf[LWS_PRE + CONSOLE_FRAME];
        memcpy(buf + LWS_PRE, s->out.s, n);
        if (lws_write(s->wsi, buf + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n)
            return -1;
        buf_consume(&s->out, n);
        if (s->paused && s->out.len <= CONSOLE_LOW && s->sock) {
            s->paused = false;
            lws_rx_flow_control(s->sock, 1);
        }
        lws_callback_on_writable(s->wsi);
        return 0;
    }
    if (s->ended) {
        ws_close_reason(s->wsi, LWS_CLOSE_STATUS_NORMAL, "the console closed: the domain ended");
        return -1;
    }
    return 0;
}

static void console_close(void *sess)
{
    console_sess *s = sess;
    if (s->sock)   /* libwebsockets closes it with its parent: it must not find us then */
        lws_set_opaque_user_data(s->sock, NULL);
    if (s->connecting)
        s->wsi = NULL;   /* console_connected frees it */
    else
        sess_free(s);
}

const ws_kind ws_console_kind = {"console", console_open, console_receive, console_writable,
                                 console_close};
