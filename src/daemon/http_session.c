/* http_session.c - browser sessions for the web UI (http_session.h). The id is the only
 * secret a cookie carries; it is compared in constant time, as the bearer tokens are, and a
 * session lives only in kxld's memory (a restart logs everyone out, which is the safe way). */
#include "daemon/http_session.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "daemon/http_auth.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct {
    char id[HTTP_SESSION_HEX];
    char csrf[HTTP_SESSION_HEX];
    char user[256];
    char host[256];
    double last;            /* its last request */
} session;

struct http_sessions {
    pthread_mutex_t mu;
    int idle_s;
    session *v;
    size_t n;
};

http_sessions *http_sessions_new(int idle_s)
{
    http_sessions *s = kx_malloc0(sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->idle_s = idle_s;
    s->v = kx_malloc0(HTTP_SESSIONS_MAX * sizeof(*s->v));
    return s;
}

void http_sessions_free(http_sessions *s)
{
    if (!s)
        return;
    explicit_bzero(s->v, HTTP_SESSIONS_MAX * sizeof(*s->v));
    free(s->v);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

double http_session_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int http_sessions_idle_s(const http_sessions *s)
{
    return s->idle_s;
}

/* 32 random bytes as 64 hex digits. */
static int random_hex(char out[HTTP_SESSION_HEX])
{
    unsigned char b[32];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        kx_err_errno(KXL_ERR_INTERNAL, "no random bytes for a session");
        return -1;
    }
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

static void drop(http_sessions *s, size_t i)
{
    s->v[i] = s->v[--s->n];
    explicit_bzero(&s->v[s->n], sizeof(s->v[s->n]));
}

static void drop_expired(http_sessions *s, double now)
{
    for (size_t i = s->n; i-- > 0;)
        if (now - s->v[i].last > s->idle_s)
            drop(s, i);
}

/* The slot of a new session: a free one, else the longest idle's. */
static session *slot(http_sessions *s)
{
    if (s->n < HTTP_SESSIONS_MAX)
        return &s->v[s->n++];
    size_t oldest = 0;
    for (size_t i = 1; i < s->n; i++)
        if (s->v[i].last < s->v[oldest].last)
            oldest = i;
    return &s->v[oldest];
}

int http_session_create(http_sessions *s, const char *user, const char *host, double now,
                        char id_r[HTTP_SESSION_HEX], char csrf_r[HTTP_SESSION_HEX])
{
    session new = {.last = now};
    if (random_hex(new.id) < 0 || random_hex(new.csrf) < 0)
        return -1;
    snprintf(new.user, sizeof(new.user), "%s", user);
    snprintf(new.host, sizeof(new.host), "%s", host ? host : "");
    pthread_mutex_lock(&s->mu);
    drop_expired(s, now);
    *slot(s) = new;
    pthread_mutex_unlock(&s->mu);
    memcpy(id_r, new.id, HTTP_SESSION_HEX);
    memcpy(csrf_r, new.csrf, HTTP_SESSION_HEX);
    explicit_bzero(&new, sizeof(new));
    return 0;
}

/* The index of id among the live sessions, or -1; every session is compared, whole. */
static ssize_t find(const http_sessions *s, const char *id)
{
    ssize_t found = -1;
    for (size_t i = 0; i < s->n; i++)
        if (http_equal_ct(id, s->v[i].id))
            found = (ssize_t)i;
    return found;
}

bool http_session_check(http_sessions *s, const char *id, double now,
                        char csrf_r[HTTP_SESSION_HEX], char *user_r, char *host_r)
{
    if (!id || strlen(id) != HTTP_SESSION_HEX - 1)
        return false;
    pthread_mutex_lock(&s->mu);
    drop_expired(s, now);
    ssize_t i = find(s, id);
    if (i >= 0) {
        s->v[i].last = now;
        if (csrf_r)
            memcpy(csrf_r, s->v[i].csrf, HTTP_SESSION_HEX);
        if (user_r)
            snprintf(user_r, 256, "%s", s->v[i].user);
        if (host_r)
            snprintf(host_r, 256, "%s", s->v[i].host);
    }
    pthread_mutex_unlock(&s->mu);
    return i >= 0;
}

bool http_session_alive(http_sessions *s, const char *id, double now, bool touch)
{
    pthread_mutex_lock(&s->mu);
    drop_expired(s, now);
    ssize_t i = find(s, id);
    if (i >= 0 && touch)
        s->v[i].last = now;
    pthread_mutex_unlock(&s->mu);
    return i >= 0;
}

void http_session_remove(http_sessions *s, const char *id)
{
    if (!id)
        return;
    pthread_mutex_lock(&s->mu);
    ssize_t i = find(s, id);
    if (i >= 0)
        drop(s, (size_t)i);
    pthread_mutex_unlock(&s->mu);
}

bool http_cookie_value(const char *header, const char *name, char *buf, size_t len)
{
    size_t name_len = strlen(name);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " \t;");
        size_t pair = strcspn(p, ";");
        if (pair > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            size_t vlen = pair - name_len - 1;
            while (vlen > 0 && (p[name_len + vlen] == ' ' || p[name_len + vlen] == '\t'))
                vlen--;
            if (vlen >= len)
                return false;
            memcpy(buf, p + name_len + 1, vlen);
            buf[vlen] = '\0';
            return true;
        }
        p += pair;
    }
    return false;
}

bool http_origin_ok(const char *origin, const char *host, bool tls)
{
    if (!origin || !host || !*host)
        return false;
    const char *site = kx_startswith(origin, "https://") ? origin + 8
                       : !tls && kx_startswith(origin, "http://") ? origin + 7
                                                                  : NULL;
    return site && strcasecmp(site, host) == 0;
}

/* A cookie session's request: the Host it was made with, an Origin on an upgrade (a browser
 * always sends one), the CSRF token for a change. */
static http_auth_result cookie_decide(const http_auth_in *in)
{
    if (in->websocket && !in->origin)
        return HTTP_AUTH_FORBIDDEN;
    if (!in->host || !in->session_host || strcasecmp(in->host, in->session_host) != 0)
        return HTTP_AUTH_FORBIDDEN;
    if (in->changes && !in->websocket && !in->csrf_ok)
        return HTTP_AUTH_FORBIDDEN;
    return HTTP_AUTH_OK;
}

http_auth_result http_auth_decide(const http_auth_in *in)
{
    /* a browser sends no Authorization header of its own (and another site's script may not
     * without a CORS preflight, which kxld never answers): a token is the client's will,
     * whatever Origin a non-browser client sends */
    if (in->bearer_ok)
        return HTTP_AUTH_OK;
    /* otherwise another site's page never acts here: not with a cookie, not at the login,
     * not on the Unix socket (a browser behind a local reverse proxy) */
    if (in->origin && !http_origin_ok(in->origin, in->host, in->tcp))
        return HTTP_AUTH_FORBIDDEN;
    if (in->cert_ok)
        return HTTP_AUTH_OK;
    if (in->session_ok)
        return cookie_decide(in);
    /* the Unix socket: its permissions are the authentication */
    return in->tcp ? HTTP_AUTH_NONE : HTTP_AUTH_OK;
}
