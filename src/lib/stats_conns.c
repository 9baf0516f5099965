/* stats_conns.c - top asks every domain's supervisor every frame: the connection is kept
 * (one per supervisor process, known by its pid and start time), so a frame costs each
 * supervisor one request and one reply rather than an accept, a request and a close. */
#include "lib/stats_conns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/control.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct {
    char name[KXL_NAME_MAX + 1];
    pid_t sv_pid;
    unsigned long long sv_start;
    int fd;
    bool used;      /* asked through since the last sweep */
} stats_conn;

struct stats_conns {
    stats_conn *v;
    size_t n, cap;
};

stats_conns *stats_conns_new(void)
{
    return kx_malloc0(sizeof(stats_conns));
}

void stats_conns_free(stats_conns *c)
{
    for (size_t i = 0; c && i < c->n; i++)
        close(c->v[i].fd);
    if (c)
        free(c->v);
    free(c);
}

static void drop(stats_conns *c, size_t i)
{
    close(c->v[i].fd);
    c->v[i] = c->v[--c->n];
}

static stats_conn *find(stats_conns *c, const list_entry *e)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].sv_pid == e->st.sv_pid && c->v[i].sv_start == e->st.sv_start &&
            strcmp(c->v[i].name, e->info.name) == 0)
            return &c->v[i];
    return NULL;
}

static stats_conn *open_conn(stats_conns *c, const kxl_paths *p, const list_entry *e)
{
    int fd = control_connect(p, e->info.name, "control.sock");
    if (fd < 0)
        return NULL;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = kx_realloc(c->v, c->cap * sizeof(*c->v));
    }
    stats_conn *s = &c->v[c->n++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", e->info.name);
    s->sv_pid = e->st.sv_pid;
    s->sv_start = e->st.sv_start;
    s->fd = fd;
    return s;
}

int stats_conns_ask(stats_conns *c, const kxl_paths *p, const list_entry *e, const char *verb,
                    int timeout_ms, json_object **ret_r)
{
    stats_conn *s = find(c, e);
    bool kept = s != NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s && !(s = open_conn(c, p, e)))
            return -1;
        s->used = true;
        if (control_request(s->fd, e->info.name, verb, NULL, ret_r, timeout_ms) == 0)
            return 0;
        drop(c, (size_t)(s - c->v));
        s = NULL;
        if (!kept)   /* a fresh connection that failed: the supervisor is not answering */
            return -1;
        kept = false;   /* a kept one may have been closed by its end: once more, afresh */
        kx_err_clear();
    }
    return -1;
}

void stats_conns_sweep(stats_conns *c)
{
    for (size_t i = c->n; i-- > 0;) {
        if (!c->v[i].used)
            drop(c, i);
        else
            c->v[i].used = false;
    }
}
