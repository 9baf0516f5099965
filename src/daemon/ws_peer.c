/* ws_peer.c - a peer's WebSockets relayed (ws_peer.h): GET /api/v1/hosts/{host}/events,
 * GET /api/v1/hosts/{host}/domains/{name}/console and .../vnc. The browser's WebSocket is upgraded here
 * (authenticated as any route, the peer checked to be one of api_peers); then a libwebsockets
 * client connection goes to the peer's kxld with this host's certificate of kxl tls-setup
 * (http_server_peer_vhost), and frames pass both ways as they came, fragments and all:
 * libwebsockets frames them on each side. Each way has a queue with a high mark: a side whose
 * queue is full is not read (lws_rx_flow_control) until the other side has taken it down to
 * the low mark, so nothing is buffered without bound. The reading stops at the side's next
 * writable, never inside its receive callback: libwebsockets 4.1 then keeps the rest of what it
 * read in its own cache, and with TLS data pending it spins on that cache for ever (seen here:
 * kxld at 100 % CPU, its memory growing). Either side closing closes the other; the peer's
 * close code and reason reach the browser. */
#include "daemon/ws_peer.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/kxld_relay_url.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define PEER_HIGH (256 * 1024)   /* bytes waiting for one side: stop reading the other */
#define PEER_LOW (64 * 1024)     /* ...and read it again once they are down to this */

/* A piece of a message waiting to be written, with its lws_write flags. */
typedef struct chunk {
    struct chunk *next;
    int flags;
    size_t len;
    unsigned char data[];   /* LWS_PRE bytes, then len */
} chunk;

typedef struct {
    chunk *head, **tail;
    size_t bytes;
    bool pausing;    /* above the high mark: its sender stops being read at its next writable */
    bool paused;     /* its sender is not read */
} chunk_queue;

typedef struct {
    const ws_peer_spec *spec;
    struct lws *wsi;          /* the browser's WebSocket */
    struct lws *peer;         /* the client connection to the peer, while it lives */
    char host[HTTP_PARAM_MAX];
    char address[HTTP_PARAM_MAX];   /* the peer's HOST:PORT (api_peers) */
    char *path;               /* on the peer: /api/v1/...?query */
    chunk_queue to_browser;   /* sent by the peer */
    chunk_queue to_peer;      /* sent by the browser */
    bool peer_up;             /* the peer's upgrade succeeded */
    bool ended;               /* the peer's connection is gone: close once to_browser is sent */
    int close_code;
    char close_reason[124];
} peer_sess;

/* ---- queues ---- */

static void queue_init(chunk_queue *q)
{
    *q = (chunk_queue){.tail = &q->head};
}

static void queue_push(chunk_queue *q, int flags, const void *in, size_t len)
{
    chunk *c = kx_malloc0(sizeof(*c) + LWS_PRE + len);
    c->flags = flags;
    c->len = len;
    if (len)
        memcpy(c->data + LWS_PRE, in, len);
    *q->tail = c;
    q->tail = &c->next;
    q->bytes += len;
}

static void queue_drop(chunk_queue *q)
{
    chunk *c = q->head;
    q->head = c->next;
    if (!q->head)
        q->tail = &q->head;
    q->bytes -= c->len;
    free(c);
}

static void queue_dispose(chunk_queue *q)
{
    while (q->head)
        queue_drop(q);
}

/* The flags to pass on the piece of a message that wsi has just received. */
static int received_flags(struct lws *wsi)
{
    return (int)lws_write_ws_flags(lws_frame_is_binary(wsi) ? LWS_WRITE_BINARY : LWS_WRITE_TEXT,
                                   lws_is_first_fragment(wsi), lws_is_final_fragment(wsi));
}

/* Queues what from received on q; above the high mark, from is to stop being read. */
static void relay_in(chunk_queue *q, struct lws *from, const void *in, size_t len)
{
    queue_push(q, received_flags(from), in, len);
    if (q->bytes >= PEER_HIGH && !q->paused && !q->pausing) {
        q->pausing = true;
        lws_callback_on_writable(from);
    }
}

/* At from's writable: from stops being read when q, its queue, asked for it (relay_in). */
static void hold_sender(chunk_queue *q, struct lws *from)
{
    if (!q->pausing)
        return;
    q->pausing = false;
    q->paused = true;
    lws_rx_flow_control(from, 0);
}

/* Writes q's first piece to wsi (one write per writable); from, q's sender, is read again
 * once q is down to the low mark. 0, or -1 when the write failed. */
static int relay_out(chunk_queue *q, struct lws *wsi, struct lws *from)
{
    chunk *c = q->head;
    /* what the socket does not take now, libwebsockets keeps and sends before the next
     * writable */
    if (lws_write(wsi, c->data + LWS_PRE, c->len, (enum lws_write_protocol)c->flags) < (int)c->len)
        return -1;
    queue_drop(q);
    if (q->bytes <= PEER_LOW) {
        q->pausing = false;
        if (q->paused && from) {
            q->paused = false;
            lws_rx_flow_control(from, 1);
        }
    }
    if (q->head)
        lws_callback_on_writable(wsi);
    return 0;
}

static void sess_free(peer_sess *s)
{
    queue_dispose(&s->to_browser);
    queue_dispose(&s->to_peer);
    free(s->path);
    free(s);
}

/* The peer's connection is gone (closed, or never made): the browser's closes with why once
 * what the peer sent is through. */
static void peer_gone(peer_sess *s, int code, const char *why)
{
    s->peer = NULL;
    s->ended = true;
    if (!s->close_code) {
        s->close_code = code;
        snprintf(s->close_reason, sizeof(s->close_reason), "%s", why);
    }
    lws_callback_on_writable(s->wsi);
}

/* ---- the client connection to the peer ---- */

/* The peer's close frame: its code and reason, for the browser. */
static void peer_closing(peer_sess *s, const unsigned char *in, size_t len)
{
    if (len < 2 || s->close_code)
        return;
    s->close_code = in[0] << 8 | in[1];
    snprintf(s->close_reason, sizeof(s->close_reason), "%.*s", (int)(len - 2), in + 2);
}

int ws_peer_client_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                            void *in, size_t len)
{
    (void)user;
    peer_sess *s = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1;   /* a WebSocket naming this protocol: it is no server's */
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!s)
            return -1;
        s->peer_up = true;
        kx_info("%s WebSocket of host '%s' relayed (%s)", s->spec->what, s->host, s->path);
        if (s->to_peer.head)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!s)
            return -1;
        relay_in(&s->to_browser, wsi, in, len);
        lws_callback_on_writable(s->wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!s)
            return 0;
        hold_sender(&s->to_browser, wsi);
        return s->to_peer.head ? relay_out(&s->to_peer, wsi, s->wsi) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (s)
            peer_closing(s, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (s) {
            AUTOFREE char *why = kx_asprintf("host '%s' (%s) is unreachable: %s", s->host,
                                             s->address, in ? (const char *)in : "no answer");
            kx_info("%s WebSocket of host '%s': %s", s->spec->what, s->host, why);
            peer_gone(s, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, why);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    /* closed after the upgrade was asked and before the peer answered it: libwebsockets tells
     * it as an HTTP client's close (its role was not yet the WebSocket's) */
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (s)
            peer_gone(s, LWS_CLOSE_STATUS_GOINGAWAY, "the peer closed the WebSocket");
        return 0;
    default:
        return 0;
    }
}

/* Connects to the peer for s, a child of the browser's WebSocket (closed with it). */
static int peer_connect(peer_sess *s, http_server *srv)
{
    struct lws_vhost *vh = http_server_peer_vhost(srv);
    if (!vh)
        return -1;
    /* api_peers' HOST:PORT; an IPv6 HOST in brackets */
    AUTOFREE char *addr = kx_strdup(s->address);
    char *colon = strrchr(addr, ':');
    *colon = '\0';
    const char *name = addr;
    if (name[0] == '[' && colon > addr + 1 && colon[-1] == ']') {
        colon[-1] = '\0';
        name++;
    }
    struct lws_client_connect_info ci = {
        .context = lws_get_context(s->wsi), .vhost = vh, .address = name,
        .port = atoi(colon + 1), .ssl_connection = LCCSCF_USE_SSL, .path = s->path,
        .host = s->address, .alpn = "http/1.1", .local_protocol_name = WS_PEER_PROTOCOL,
        .parent_wsi = s->wsi, .opaque_user_data = s, .pwsi = &s->peer,
    };
    /* no Origin: the peer takes this host's certificate as the client's will */
    if (!lws_client_connect_via_info(&ci) && !s->ended) {
        kx_err(KXL_ERR_HOST, "cannot connect to host '%s' (%s) (libwebsockets said why in "
               "kxld's log)", s->host, s->address);
        return -1;
    }
    return 0;
}

/* ---- the browser's WebSocket ---- */

/* The peer's path of the route's parameters (and the browser's query), or NULL with kx_err:
 * 404 for a host that is no peer, 400 for a path that would leave its /api/v1/. */
static char *peer_path(const ws_peer_spec *spec, const char *const *api_peers,
                       const http_params *params, const char *query)
{
    const char *host = http_param(params, "host");
    const char *name = http_param(params, "name");
    AUTOFREE char *rest = name ? kx_asprintf("domains/%s/%s", name, spec->rest)
                               : kx_strdup(spec->rest);
    AUTOFREE char *url = kxld_relay_url(api_peers, host, rest, query);
    if (!url)
        return NULL;
    /* https://HOST:PORT/api/v1/...: the path from the third '/' */
    return kx_strdup(strchr(url + strlen("https://"), '/'));
}

int ws_peer_check(const ws_peer_spec *spec, http_server *srv, const http_params *params)
{
    AUTOFREE char *path = peer_path(spec, http_server_api_peers(srv), params, NULL);
    return path ? 0 : -1;
}

void *ws_peer_open(const ws_peer_spec *spec, http_server *srv, struct lws *wsi,
                   const http_params *params)
{
    char query[512];
    http_server_query(wsi, query, sizeof(query));
    const char *const *api_peers = http_server_api_peers(srv);
    peer_sess *s = kx_malloc0(sizeof(*s));
    s->spec = spec;
    s->wsi = wsi;
    queue_init(&s->to_browser);
    queue_init(&s->to_peer);
    snprintf(s->host, sizeof(s->host), "%s", http_param(params, "host"));
    if (!(s->path = peer_path(spec, api_peers, params, spec->query ? query : NULL))) {
        sess_free(s);
        return NULL;
    }
    snprintf(s->address, sizeof(s->address), "%s", kxld_peer_address(api_peers, s->host));
    if (peer_connect(s, srv) < 0) {
        sess_free(s);
        return NULL;
    }
    return s;
}

int ws_peer_receive(void *sess, const void *in, size_t len)
{
    peer_sess *s = sess;
    if (s->ended)
        return 0;   /* the peer is gone: the close is on its way */
    relay_in(&s->to_peer, s->wsi, in, len);
    if (s->peer && s->peer_up)
        lws_callback_on_writable(s->peer);
    return 0;
}

int ws_peer_writable(void *sess)
{
    peer_sess *s = sess;
    hold_sender(&s->to_peer, s->wsi);
    if (s->to_browser.head)
        return relay_out(&s->to_browser, s->wsi, s->peer);
    if (s->ended) {
        ws_close_reason(s->wsi, (enum lws_close_status)s->close_code, s->close_reason);
        return -1;
    }
    return 0;
}

void ws_peer_close(void *sess)
{
    peer_sess *s = sess;
    /* (libwebsockets closes the peer's connection, a child, before the browser's: s->peer is
     * NULL by then unless a close of it went untold; only a live child is touched) */
    if (s->peer && lws_get_child(s->wsi) == s->peer) {
        /* libwebsockets closes the peer's connection with its parent, the browser's: it must
         * not find the session then */
        lws_set_opaque_user_data(s->peer, NULL);
        lws_set_timeout(s->peer, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    kx_info("%s WebSocket of host '%s' closed", s->spec->what, s->host);
    sess_free(s);
}
