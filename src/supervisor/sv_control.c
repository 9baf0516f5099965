/* sv_control.c - the control socket: each request is one JSON line
 * {"execute": CMD, "arguments": {...}}, answered by one line {"return": ...}
 * or {"error": "sentence"}. Commands are a table; a command that makes no
 * sense in the domain's current state is refused with a clear error. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

#define CONTROL_LINE_MAX 65536

typedef struct control_client {
    sv *s;
    int fd;
    kx_buf in;
    struct control_client *next;
} control_client;

/* A handler returns a new "return" value, or NULL with kx_err set. */
typedef json_object *(*control_fn)(sv *s, json_object *args);

typedef struct {
    const char *name;
    control_fn fn;
    bool when_dying;   /* allowed while the domain is being destroyed */
} control_cmd;

static json_object *cmd_destroy(sv *s, json_object *args)
{
    (void)args;
    sv_destroy(s, "destroy requested");
    return json_object_new_object();
}

static json_object *qmp_simple(sv *s, const char *cmd)
{
    if (qmp_execute(s->qmp, cmd, NULL, NULL, 10000) < 0)
        return NULL;
    return json_object_new_object();
}

static json_object *cmd_pause(sv *s, json_object *args)
{
    (void)args;
    if (s->st.state != KXL_STATE_RUNNING) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s, not running", s->name,
               kxl_state_to_string(s->st.state));
        return NULL;
    }
    json_object *r = qmp_simple(s, "stop");
    if (r)
        sv_set_state(s, KXL_STATE_PAUSED);
    return r;
}

static json_object *cmd_unpause(sv *s, json_object *args)
{
    (void)args;
    if (s->st.state != KXL_STATE_PAUSED) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s, not paused", s->name,
               kxl_state_to_string(s->st.state));
        return NULL;
    }
    json_object *r = qmp_simple(s, "cont");
    if (r)
        sv_set_state(s, KXL_STATE_RUNNING);
    return r;
}

/* The ACPI power button: the guest decides what to do; on_poweroff applies
 * when it has powered off. */
static json_object *cmd_shutdown(sv *s, json_object *args)
{
    (void)args;
    if (s->st.state != KXL_STATE_RUNNING) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s: only a running guest can be shut down",
               s->name, kxl_state_to_string(s->st.state));
        return NULL;
    }
    sv_event(s, "power button pressed");
    return qmp_simple(s, "system_powerdown");
}

static json_object *cmd_status(sv *s, json_object *args)
{
    (void)args;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "state", json_object_new_string(kxl_state_to_string(s->st.state)));
    json_object_object_add(o, "domid", json_object_new_int64(s->st.domid));
    json_object_object_add(o, "qemu_pid", json_object_new_int64(s->qemu_pid));
    return o;
}

static const control_cmd commands[] = {
    {"destroy", cmd_destroy, true},
    {"pause", cmd_pause, false},
    {"shutdown", cmd_shutdown, false},
    {"status", cmd_status, true},
    {"unpause", cmd_unpause, false},
};

static json_object *dispatch(sv *s, const char *line)
{
    AUTOPTR(json_object) req = kx_json_parse(line, "control request");
    const char *name = req ? kx_json_str(req, "execute", NULL) : NULL;
    if (!req || !name) {
        if (req)
            kx_err(KXL_ERR_INVALID, "control request without \"execute\"");
        return NULL;
    }
    for (size_t i = 0; i < KX_ARRAY_SIZE(commands); i++) {
        if (strcmp(commands[i].name, name) != 0)
            continue;
        if (s->destroying && !commands[i].when_dying) {
            kx_err(KXL_ERR_STATE, "domain '%s' is being destroyed", s->name);
            return NULL;
        }
        json_object *args = NULL;
        json_object_object_get_ex(req, "arguments", &args);
        return commands[i].fn(s, args);
    }
    kx_err(KXL_ERR_INVALID, "unknown control command '%s'", name);
    return NULL;
}

static void reply(control_client *c, json_object *ret)
{
    AUTOPTR(json_object) o = json_object_new_object();
    if (ret)
        json_object_object_add(o, "return", ret);
    else
        json_object_object_add(o, "error", json_object_new_string(kx_err_msg()));
    AUTOFREE char *line = kx_asprintf("%s\n", kx_json_text(o));
    if (send(c->fd, line, strlen(line), MSG_NOSIGNAL) < 0)
        sv_event(c->s, "cannot answer a control client: %s", strerror(errno));
}

static void client_close(control_client *c)
{
    for (control_client **p = &c->s->control_clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    kx_loop_del(c->s->loop, c->fd);
    close(c->fd);
    kx_buf_dispose(&c->in);
    free(c);
}

static void on_client(int fd, uint32_t events, void *opaque)
{
    (void)events;
    control_client *c = opaque;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0 || c->in.len + (size_t)n > CONTROL_LINE_MAX) {
        client_close(c);
        return;
    }
    kx_buf_addn(&c->in, buf, (size_t)n);
    char *nl;
    while (c->in.s && (nl = memchr(c->in.s, '\n', c->in.len))) {
        *nl = '\0';
        kx_err_clear();
        reply(c, dispatch(c->s, c->in.s));
        size_t rest = c->in.len - (size_t)(nl + 1 - c->in.s);
        memmove(c->in.s, nl + 1, rest);
        c->in.len = rest;
        c->in.s[rest] = '\0';
    }
}

static void on_accept(int fd, uint32_t events, void *opaque)
{
    (void)events;
    sv *s = opaque;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    control_client *c = kx_malloc0(sizeof(*c));
    c->s = s;
    c->fd = cfd;
    if (kx_loop_add(s->loop, cfd, EPOLLIN, on_client, c) < 0) {
        close(cfd);
        free(c);
        return;
    }
    c->next = s->control_clients;
    s->control_clients = c;
}

void sv_control_dispose(sv *s)
{
    while (s->control_clients)
        client_close(s->control_clients);
    if (s->control_listen_fd >= 0)
        close(s->control_listen_fd);
    s->control_listen_fd = -1;
}

int sv_control_init(sv *s)
{
    s->control_listen_fd = sv_listen(s, "control.sock");
    if (s->control_listen_fd < 0)
        return -1;
    return kx_loop_add(s->loop, s->control_listen_fd, EPOLLIN, on_accept, s);
}
