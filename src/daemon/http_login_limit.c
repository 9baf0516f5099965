/* http_login_limit.c - a fixed table of the addresses that failed lately (http_login_limit.h).
 * When it is full, the entry whose window began first gives way: an attacker cycling through
 * addresses can only make the table forget, never make it grow. */
#include "daemon/http_login_limit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define SLOTS 256

typedef struct {
    char addr[64];
    long long since;     /* the window's first failure */
    unsigned failures;
} slot;

struct http_login_limit {
    pthread_mutex_t mu;
    slot slots[SLOTS];
};

http_login_limit *http_login_limit_new(void)
{
    http_login_limit *l = kx_malloc0(sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void http_login_limit_free(http_login_limit *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* addr's slot, or NULL; a slot whose window has passed is emptied on the way. */
static slot *find(http_login_limit *l, const char *addr, long long now)
{
    for (size_t i = 0; i < SLOTS; i++) {
        slot *s = &l->slots[i];
        if (s->addr[0] && now - s->since >= HTTP_LOGIN_WINDOW_S)
            memset(s, 0, sizeof(*s));
        if (s->addr[0] && strcmp(s->addr, addr) == 0)
            return s;
    }
    return NULL;
}

long long http_login_limit_wait(http_login_limit *l, const char *addr, long long now)
{
    pthread_mutex_lock(&l->mu);
    slot *s = find(l, addr, now);
    long long wait = s && s->failures >= HTTP_LOGIN_MAX_FAILURES
                         ? s->since + HTTP_LOGIN_WINDOW_S - now : 0;
    pthread_mutex_unlock(&l->mu);
    return wait;
}

void http_login_limit_failed(http_login_limit *l, const char *addr, long long now)
{
    pthread_mutex_lock(&l->mu);
    slot *s = find(l, addr, now);
    if (!s) {
        s = &l->slots[0];
        for (size_t i = 0; i < SLOTS && s->addr[0]; i++)
            if (!l->slots[i].addr[0] || l->slots[i].since < s->since)
                s = &l->slots[i];
        *s = (slot){.since = now};
        snprintf(s->addr, sizeof(s->addr), "%s", addr);
    }
    s->failures++;
    pthread_mutex_unlock(&l->mu);
}

void http_login_limit_succeeded(http_login_limit *l, const char *addr)
{
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < SLOTS; i++)
        if (strcmp(l->slots[i].addr, addr) == 0)
            memset(&l->slots[i], 0, sizeof(l->slots[i]));
    pthread_mutex_unlock(&l->mu);
}
