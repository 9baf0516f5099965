/* http_server_ws.c - kxld's WebSocket upgrades (http_server_int.h): the route of an upgrade
 * and its refusal as an HTTP answer, the route's session (ws.h) once upgraded, and the end of
 * a WebSocket that lives by a browser session when that session ends. */
#include <string.h>

#include "daemon/http_route.h"
#include "daemon/http_server_int.h"
#include "util/cleanup.h"
#include "util/err.h"

void ws_close_reason(struct lws *wsi, enum lws_close_status status, const char *msg)
{
    size_t n = strlen(msg);
    lws_close_reason(wsi, status, (unsigned char *)msg, n > 123 ? 123 : n);
}

/* The WebSocket route of an upgrade's path, with its parameters; NULL when it has none. */
static const ws_kind *ws_route(struct lws *wsi, http_params *params_r)
{
    char path[1024];
    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
        return NULL;
    size_t n, i;
    const kxld_route *routes = kxld_routes(&n);
    if (http_route_find(kxld_route_specs(), n, "GET", path, &i, params_r, NULL) != HTTP_MATCH_OK)
        return NULL;
    return routes[i].ws;
}

/* An upgrade is asked: answered with an HTTP error instead, the JSON a request would get,
 * when its path has no WebSocket (404), the client is not authenticated (401) or is another
 * site's (403), or the route's check refuses it (a host that is no peer: 404), before anything
 * starts for it. 1 when it was refused so (libwebsockets ends the transaction), 0 to go on. */
int http_ws_confirm(struct lws *wsi, http_server *srv)
{
    http_params params;
    http_job j = {.srv = srv};
    const ws_kind *k = ws_route(wsi, &params);
    http_auth_result auth = k ? http_request_auth(srv, wsi, NULL, false, true) : HTTP_AUTH_OK;
    kx_err_clear();
    if (!k)
        http_job_set_refusal(&j, 404, KXL_ERR_NOT_FOUND, "no WebSocket at this path");
    else if (auth != HTTP_AUTH_OK)
        http_job_set_unauthorized(&j, auth);
    else if (k->check && k->check(srv, &params) < 0)
        http_job_set_error(&j);
    else
        return 0;
    kx_info("WebSocket refused: %d %.*s", j.status, (int)j.reply_len, j.reply + LWS_PRE);
    /* HTTP/1.1 (the TCP listener offers no other): headers and body in one write */
    size_t size = LWS_PRE + 1024 + j.reply_len;
    AUTOFREE unsigned char *buf = kx_malloc0(size);
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + size - 1;
    int rc =
        http_reply_headers(wsi, &j, &p, end) < 0 || lws_finalize_http_header(wsi, &p, end) ? -1 : 1;
    if (rc > 0) {
        memcpy(p, j.reply + LWS_PRE, j.reply_len);
        p += j.reply_len;
        if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP) < (int)(p - start))
            rc = -1;
    }
    free(j.reply);
    return rc;
}

/* An upgrade is asked: refused (nonzero) unless its path is a WebSocket route and the client
 * is authenticated (ws_confirm has answered the others already). */
int http_ws_filter(struct lws *wsi, http_server *srv)
{
    http_params params;
    if (!ws_route(wsi, &params)) {
        kx_info("WebSocket refused: no WebSocket at this path");
        return 1;
    }
    if (!http_server_ws_authorized(srv, wsi)) {
        kx_info("WebSocket refused: no or a wrong bearer token or session, or another site's");
        return 1;
    }
    return 0;
}

/* A WebSocket let in by a session cookie alone ends with the session: its timer checks the
 * session every WS_SESSION_CHECK_US (a logout, or idle expiry: output the page only reads
 * does not keep a session alive; the user's input does). */
static void ws_bind_session(struct lws *wsi, http_server *srv, http_conn *c)
{
    if (http_request_auth(srv, wsi, c, false, true) != HTTP_AUTH_OK || !c->by_session)
        return;
    memcpy(c->ws_session, c->session_id, sizeof(c->ws_session));
    lws_set_timer_usecs(wsi, WS_SESSION_CHECK_US);
}

/* 0 while c's session (if it lives by one) is live; else the first writable closes it. */
static int ws_session_check(struct lws *wsi, http_server *srv, http_conn *c, bool touch)
{
    if (!c->ws_session[0] || c->ws_refusal)
        return 0;
    if (http_session_alive(srv->sessions, c->ws_session, http_session_now(), touch))
        return 0;
    kx_info("WebSocket %s closed: its session ended", c->ws ? c->ws->name : "?");
    if (c->ws_sess)
        c->ws->close(TAKE_PTR(c->ws_sess));
    c->ws_refusal = kx_strdup("the session ended (logged out, or idle too long): log in again");
    c->ws_session_ended = true;
    lws_callback_on_writable(wsi);
    return -1;
}

int http_ws_timer(struct lws *wsi, http_server *srv, http_conn *c)
{
    if (ws_session_check(wsi, srv, c, false) == 0 && c->ws_session[0])
        lws_set_timer_usecs(wsi, WS_SESSION_CHECK_US);
    return 0;
}

int http_ws_receive(struct lws *wsi, http_server *srv, http_conn *c, void *in, size_t len)
{
    if (ws_session_check(wsi, srv, c, true) < 0 || !c->ws_sess)
        return c->ws_refusal ? 0 : -1; /* ended: its close is on the way */
    return c->ws->receive(c->ws_sess, in, len);
}

/* The session of the route; when it cannot start, the first writable closes the connection
 * saying why (returning -1 here would drop it without a word). */
int http_ws_established(struct lws *wsi, http_server *srv, http_conn *c)
{
    http_params params;
    http_conn_dispose(c); /* what the connection had as HTTP */
    *c = (http_conn){0};
    c->ws = ws_route(wsi, &params);
    ws_bind_session(wsi, srv, c);
    kx_err_clear();
    if (c->ws && (c->ws_sess = c->ws->open(srv, wsi, &params)))
        return 0;
    kx_info("WebSocket %s refused: %s", c->ws ? c->ws->name : "?", kx_err_msg());
    c->ws_refusal = kx_strdup(kx_err_msg());
    lws_callback_on_writable(wsi);
    return 0;
}

int http_ws_writable(struct lws *wsi, http_conn *c)
{
    if (c->ws_sess)
        return c->ws->writable(c->ws_sess);
    ws_close_reason(wsi,
                    c->ws_session_ended ? LWS_CLOSE_STATUS_POLICY_VIOLATION
                                        : LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                    c->ws_refusal ? c->ws_refusal : "no session");
    return -1;
}
