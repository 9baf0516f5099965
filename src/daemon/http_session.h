/* http_session.h - the web UI's browser sessions: a table of sessions (a random 256-bit id
 * in an HttpOnly cookie, a CSRF token, an idle expiry), the Cookie header's parsing, the
 * Origin check, and the one decision of whether a request is let in. Pure but for the random
 * bytes (getrandom); thread-safe (the routes run in worker threads). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define HTTP_SESSION_COOKIE "kxld_session"
#define HTTP_CSRF_HEADER "x-csrf-token"    /* lower case, as libwebsockets matches it */
#define HTTP_SESSION_HEX 65                /* 32 random bytes as hex, with the NUL */
#define HTTP_SESSIONS_MAX 1024             /* more sessions at once: the oldest idle goes */

typedef struct http_sessions http_sessions;

/* A table whose sessions expire after idle_s seconds without a request. Never NULL. */
http_sessions *http_sessions_new(int idle_s);
/* NULL-safe. */
void http_sessions_free(http_sessions *s);
int http_sessions_idle_s(const http_sessions *s);

/* The clock of the sessions' times: CLOCK_MONOTONIC seconds. */
double http_session_now(void);

/* A new session for user, asked with Host host (later requests of the session must name the
 * same host): its id and CSRF token (64 hex digits each). now: seconds of a monotonic clock.
 * 0, or -1 with kx_err when no random bytes could be had. */
int http_session_create(http_sessions *s, const char *user, const char *host, double now,
                        char id_r[HTTP_SESSION_HEX], char csrf_r[HTTP_SESSION_HEX]);
/* Whether id is a live session: it is then touched (its idle time starts again) and its CSRF
 * token, user and host copied out (each may be NULL; user_r and host_r hold 256 bytes). An
 * expired session is removed. The comparison takes the same time wherever ids differ. */
bool http_session_check(http_sessions *s, const char *id, double now,
                        char csrf_r[HTTP_SESSION_HEX], char *user_r, char *host_r);
/* Ends the session id (nothing when it is not one). */
void http_session_remove(http_sessions *s, const char *id);
/* Whether the session id is still live at now, without the CSRF or user a request needs;
 * touch counts now as its last use (a WebSocket's input is the user's; its output is not). */
bool http_session_alive(http_sessions *s, const char *id, double now, bool touch);

/* The value of cookie name in a Cookie header ("a=1; b=2"), copied to buf (at most len - 1
 * bytes; a longer value is not taken); false when the header does not have it. */
bool http_cookie_value(const char *header, const char *name, char *buf, size_t len);

/* Whether a browser's Origin header names the page's own site: "https://HOST", or on the Unix
 * socket (behind a local reverse proxy, which may or may not end TLS) also "http://HOST";
 * HOST is the request's Host header (with its port, as the browser sends both). */
bool http_origin_ok(const char *origin, const char *host, bool tls);

/* What a request brings to the decision. */
typedef struct {
    bool tcp;               /* on the TCP listener (TLS), not the Unix socket */
    bool bearer_ok;         /* a right "Authorization: Bearer TOKEN" */
    bool cert_ok;           /* a client certificate of tls_client_ca (TCP only) */
    bool session_ok;        /* a live session cookie */
    const char *session_host;   /* the Host the session was made with */
    bool changes;           /* not GET or HEAD: needs the CSRF token with a cookie */
    bool websocket;         /* an upgrade: a browser sends Origin, never a CSRF header */
    bool csrf_ok;           /* the CSRF header is the session's token */
    const char *origin;     /* the Origin header, or NULL */
    const char *host;       /* the Host header, or NULL */
} http_auth_in;

typedef enum {
    HTTP_AUTH_OK,
    HTTP_AUTH_NONE,         /* 401: no credentials */
    HTTP_AUTH_FORBIDDEN,    /* 403: another site's request, a missing CSRF token */
} http_auth_result;

/* The decision: a bearer token needs nothing else (no browser sends one by itself); without
 * one, a request with another site's Origin is refused; then a client certificate is enough
 * (a browser may send one by itself, as it does a cookie, so only the Origin check precedes
 * it; a page's scripts cannot send it elsewhere without an Origin); a cookie needs the Host it was made
 * with, an Origin on an upgrade, and the CSRF token for a change; the Unix socket lets in the
 * rest. */
http_auth_result http_auth_decide(const http_auth_in *in);
