/* sv_control.c - the control socket: each request is one JSON line
 * {"execute": CMD, "arguments": {...}}, answered by one line {"return": ...}
 * or {"error": {"code": CODE, "desc": "sentence"}} (CODE: kxl_errcode_name). Commands are a
 * table; a command that makes no sense in the domain's current state is refused with a clear
 * error, and one that needs QEMU while a job runs with "busy". A long operation (snapshot,
 * dump-core) answers when its job ends: the client's reply waits (its further requests too)
 * while the loop serves everyone else. "watch" turns the connection into a stream of event
 * lines (sv_watch.c) after its reply. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/control.h"
#include "lib/runtime.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

#define CONTROL_LINE_MAX 65536

typedef struct control_client {
    sv *s;
    int fd;
    unsigned long long id;   /* its number, for a deferred reply */
    bool waiting;            /* its reply is deferred: further requests wait for it */
    bool answered;           /* the deferred reply went out before its command returned */
    int passed_fd;           /* a descriptor sent with its request (SCM_RIGHTS), or -1 */
    kx_buf in;
    json_tokener *tok;       /* parses its request lines: one allocation per connection */
    struct control_client *next;
} control_client;

static char deferred_marker;
json_object *const sv_deferred = (json_object *)&deferred_marker;

/* A handler returns a new "return" value, or NULL with kx_err set. */
typedef json_object *(*control_fn)(sv *s, json_object *args);

typedef struct {
    const char *name;
    control_fn fn;
    bool when_dying;   /* allowed while the domain is being destroyed */
    bool needs_qemu;   /* refused while QEMU is gone (a preserved crash), and while a job
                        * runs: QEMU's monitor may be busy with it, and there is one job */
    bool stream;       /* after its reply, the connection carries events (watch) */
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
    if (s->lc != SV_LC_RUNNING) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s, not running", s->name, sv_lc_state_name(s->lc));
        return NULL;
    }
    json_object *r = qmp_simple(s, "stop");
    if (r)
        sv_guest_runs(s, false);   /* unless QEMU's STOP event came first */
    return r;
}

static json_object *cmd_unpause(sv *s, json_object *args)
{
    (void)args;
    if (s->lc != SV_LC_PAUSED) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s, not paused", s->name, sv_lc_state_name(s->lc));
        return NULL;
    }
    json_object *r = qmp_simple(s, "cont");
    if (r)
        sv_guest_runs(s, true);   /* unless QEMU's RESUME event came first */
    return r;
}

/* The ACPI power button: the guest decides what to do; on_poweroff applies
 * when it has powered off. */
static json_object *cmd_shutdown(sv *s, json_object *args)
{
    (void)args;
    if (s->lc != SV_LC_RUNNING) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s: only a running guest can be shut down",
               s->name, sv_lc_state_name(s->lc));
        return NULL;
    }
    sv_event(s, "power button pressed");
    return qmp_simple(s, "system_powerdown");
}

static bool require_running(sv *s, const char *what)
{
    if (s->lc == SV_LC_RUNNING || s->lc == SV_LC_PAUSED)
        return true;
    kx_err(KXL_ERR_STATE, "domain '%s' is %s: cannot %s", s->name, sv_lc_state_name(s->lc),
           what);
    return false;
}

/* Keys as QEMU's send-key takes them: {"type": "qcode", "data": KEY}. */
static json_object *send_keys(sv *s, const char *const *keys)
{
    json_object *list = json_object_new_array();
    for (; *keys; keys++) {
        json_object *k = json_object_new_object();
        json_object_object_add(k, "type", json_object_new_string("qcode"));
        json_object_object_add(k, "data", json_object_new_string(*keys));
        json_object_array_add(list, k);
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "keys", list);
    if (qmp_execute(s->qmp, "send-key", args, NULL, 5000) < 0)
        return NULL;
    return json_object_new_object();
}

/* Ctrl+Alt+Del: a guest asked this way reboots itself cleanly (there is no
 * ACPI reboot button); on_reboot applies when it has. */
static json_object *cmd_reboot(sv *s, json_object *args)
{
    (void)args;
    if (s->lc != SV_LC_RUNNING) {
        kx_err(KXL_ERR_STATE, "domain '%s' is %s: only a running guest can be rebooted", s->name,
               sv_lc_state_name(s->lc));
        return NULL;
    }
    sv_event(s, "reboot requested (Ctrl+Alt+Del)");
    static const char *const keys[] = {"ctrl", "alt", "delete", NULL};
    return send_keys(s, keys);
}

static json_object *cmd_sysrq(sv *s, json_object *args)
{
    const char *key = kx_json_str(args, "key", "");
    if (strlen(key) != 1 || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", key[0])) {
        kx_err(KXL_ERR_INVALID, "sysrq key '%s' must be one letter or digit", key);
        return NULL;
    }
    if (!require_running(s, "send a SysRq"))
        return NULL;
    sv_event(s, "SysRq %s", key);
    const char *keys[] = {"alt", "sysrq", key, NULL};
    return send_keys(s, keys);
}

/* xl trigger: nmi, reset, power, sleep, s3resume. */
static json_object *cmd_trigger(sv *s, json_object *args)
{
    const char *what = kx_json_str(args, "trigger", "");
    if (!require_running(s, "trigger anything"))
        return NULL;
    sv_event(s, "trigger %s", what);
    if (strcmp(what, "nmi") == 0)
        return qmp_simple(s, "inject-nmi");
    if (strcmp(what, "power") == 0)
        return qmp_simple(s, "system_powerdown");
    if (strcmp(what, "s3resume") == 0)
        return qmp_simple(s, "system_wakeup");
    if (strcmp(what, "reset") == 0) {
        sv_hard_reset(s, "reset triggered");
        return json_object_new_object();
    }
    if (strcmp(what, "sleep") == 0)
        kx_err(KXL_ERR_INVALID, "QEMU has no ACPI sleep button: put the guest to sleep from "
               "inside it; 'trigger s3resume' wakes it");
    else
        kx_err(KXL_ERR_INVALID, "unknown trigger '%s' (use nmi, reset, power, sleep or s3resume)",
               what);
    return NULL;
}

static json_object *cmd_dump_core(sv *s, json_object *args)
{
    const char *file = kx_json_str(args, "file", NULL);
    if (!file || file[0] != '/') {
        kx_err(KXL_ERR_INVALID, "dump-core needs an absolute file name");
        return NULL;
    }
    if (!require_running(s, "dump its memory") ||
        sv_dump_start(s, file, sv_control_job_done, sv_control_defer(s)) < 0)
        return NULL;
    return SV_DEFERRED;
}

/* The human monitor, for what kxl has no command for: a job, as the command may take long
 * (savevm through it, say), whose answer is QEMU's. */
static void monitor_answered(json_object *ret, void *opaque)
{
    sv_job_finish(opaque, ret ? json_object_get(ret) : NULL);
}

static void monitor_timed_out(sv *s)
{
    kx_err(KXL_ERR_QEMU, "QEMU did not answer the monitor command of '%s' within 30 s",
           s->name);
}

static const sv_job_ops monitor_ops = {
    .kind = "monitor",
    .noun = "a monitor command",
    .timeout_ms = 30000,
    .timed_out = monitor_timed_out,
};

static json_object *cmd_monitor(sv *s, json_object *args)
{
    const char *line = kx_json_str(args, "command", NULL);
    if (!line || !s->qmp) {
        kx_err(KXL_ERR_INVALID, line ? "QEMU is not running" : "no monitor command given");
        return NULL;
    }
    sv_event(s, "monitor command: %s", line);
    json_object *a = json_object_new_object();
    json_object_object_add(a, "command-line", json_object_new_string(line));
    sv_job_start(s, &monitor_ops, NULL, sv_obj2("command", line, NULL, NULL),
                 sv_control_job_done, sv_control_defer(s));
    if (qmp_send_command(s->qmp, "human-monitor-command", a, monitor_answered, s) < 0)
        sv_job_finish(s, NULL);
    return SV_DEFERRED;
}

/* Moves a log file along with the domain's name; a missing one is fine. */
static void rename_log(sv *s, const char *old, const char *new, const char *suffix)
{
    AUTOFREE char *from = kx_asprintf("%s/%s%s", s->paths.log_dir, old, suffix);
    AUTOFREE char *to = kx_asprintf("%s/%s%s", s->paths.log_dir, new, suffix);
    if (rename(from, to) < 0 && errno != ENOENT)
        sv_event(s, "cannot rename '%s': %s", from, strerror(errno));
}

static int rewrite_domain_json(sv *s, const char *new)
{
    AUTOFREE char *path = kx_path_join(s->dir, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    if (!o)
        return -1;
    json_object_object_add(o, "name", json_object_new_string(new));
    const char *out = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
    return kx_write_file_atomic(path, out, strlen(out), 0600);
}

/* The runtime directory moves in one rename(2), under the host-wide lock and
 * never over another domain; QEMU's sockets inside it keep working. */
static json_object *cmd_rename(sv *s, json_object *args)
{
    const char *new = kx_json_str(args, "name", "");
    if (!kxl_name_is_valid(new)) {
        kx_err(KXL_ERR_INVALID, "invalid domain name '%s'", new);
        return NULL;
    }
    AUTOCLOSE int lock = runtime_lock(&s->paths);
    AUTOFREE char *newdir = kxl_domain_dir(&s->paths, new);
    if (lock < 0)
        return NULL;
    if (kx_path_exists(newdir) && !runtime_is_live(&s->paths, new))
        kx_rm_dir_flat(newdir);  /* left by a domain that is gone */
    if (renameat2(AT_FDCWD, s->dir, AT_FDCWD, newdir, RENAME_NOREPLACE) < 0) {
        if (errno == EEXIST)
            kx_err(KXL_ERR_EXISTS, "domain '%s' already exists", new);
        else
            kx_err_errno(KXL_ERR_INTERNAL, "cannot rename '%s'", s->dir);
        return NULL;
    }
    free(s->dir);
    s->dir = TAKE_PTR(newdir);
    rewrite_domain_json(s, new);
    if (s->cgroup.dirs.n && cgroup_rename(&s->cgroup, new, s->dir) < 0)
        sv_event(s, "%s", kx_err_msg());
    rename_log(s, s->name, new, ".console.log");
    rename_log(s, s->name, new, ".qemu.log");
    rename_log(s, s->name, new, ".log");
    sv_event(s, "renamed from '%s'", s->name);
    free(s->name);
    s->name = kx_strdup(new);
    free(s->cfg->name);
    s->cfg->name = kx_strdup(new);
    return json_object_new_object();
}

static json_object *cmd_status(sv *s, json_object *args)
{
    (void)args;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "state", json_object_new_string(kxl_state_to_string(s->st.state)));
    json_object_object_add(o, "lifecycle", json_object_new_string(sv_lc_state_name(s->lc)));
    json_object_object_add(o, "domid", json_object_new_int64(s->st.domid));
    json_object_object_add(o, "qemu_pid", json_object_new_int64(s->qemu_pid));
    json_object_object_add(o, "job", sv_job_status(s));
    return o;
}

/* The reply says where the domain stands; the events follow it (the table's stream). */
static json_object *cmd_watch(sv *s, json_object *args)
{
    json_object *o = cmd_status(s, NULL);
    json_object_object_add(o, "domain", json_object_new_string(s->name));
    json_object_object_add(o, "history", json_object_new_boolean(kx_json_bool(args, "history",
                                                                                false)));
    return o;
}

/* The job's own requester hears that it was cancelled, when it has ended. */
static json_object *cmd_job_cancel(sv *s, json_object *args)
{
    (void)args;
    return sv_job_cancel(s) < 0 ? NULL : json_object_new_object();
}

static const control_cmd commands[] = {
    {"block-attach", sv_block_attach, false, true, false},
    {"block-detach", sv_block_detach, false, true, false},
    {"cd-change", sv_cd_change, false, true, false},
    {"config-update", sv_config_update, false, false, false},
    {"destroy", cmd_destroy, true, false, false},
    {"display", sv_display, false, true, false},
    {"dump-core", cmd_dump_core, false, true, false},
    {"mem-max", sv_mem_max, false, true, false},
    {"mem-set", sv_mem_set, false, true, false},
    {"incoming-commit", sv_incoming_commit, false, false, false},
    {"job-cancel", cmd_job_cancel, false, false, false},
    {"migrate", sv_migrate, false, true, false},
    {"migrate-commit", sv_migrate_commit, false, false, false},
    {"migrate-header", sv_migrate_header, false, true, false},
    {"monitor", cmd_monitor, false, true, false},
    {"network-attach", sv_net_attach, false, true, false},
    {"network-detach", sv_net_detach, false, true, false},
    {"pause", cmd_pause, false, true, false},
    {"pci-attach", sv_pci_attach, false, true, false},
    {"pci-detach", sv_pci_detach, false, true, false},
    {"reboot", cmd_reboot, false, true, false},
    {"rename", cmd_rename, false, false, false},
    {"save", sv_save, false, true, false},
    {"sched", sv_sched, false, false, false},
    {"shutdown", cmd_shutdown, false, true, false},
    {"snapshot", sv_snapshot, false, true, false},
    {"stats", sv_stats, false, false, false},
    {"status", cmd_status, true, false, false},
    {"sysrq", cmd_sysrq, false, true, false},
    {"trigger", cmd_trigger, false, true, false},
    {"unpause", cmd_unpause, false, true, false},
    {"vcpu-pin", sv_vcpu_pin, false, false, false},
    {"vcpu-set", sv_vcpu_set, false, true, false},
    {"watch", cmd_watch, true, false, true},
};

static json_object *dispatch(sv *s, control_client *c, const char *line,
                             const control_cmd **cmd_r)
{
    if (!c->tok && !(c->tok = json_tokener_new())) {
        kx_err(KXL_ERR_HOST, "control request: out of memory");
        return NULL;
    }
    AUTOPTR(json_object) req = kx_json_parse_with(c->tok, line, "control request");
    const char *name = req ? kx_json_str(req, "execute", NULL) : NULL;
    if (!req || !name) {
        if (req)
            kx_err(KXL_ERR_INVALID, "control request without \"execute\"");
        return NULL;
    }
    for (size_t i = 0; i < KX_ARRAY_SIZE(commands); i++) {
        if (strcmp(commands[i].name, name) != 0)
            continue;
        if (sv_lc_ending(s->lc) && !commands[i].when_dying) {
            kx_err(KXL_ERR_STATE, "domain '%s' is being destroyed", s->name);
            return NULL;
        }
        if (commands[i].needs_qemu && !s->qmp) {
            kx_err(KXL_ERR_STATE, "domain '%s' has no running QEMU (it is %s): destroy it",
                   s->name, sv_lc_state_name(s->lc));
            return NULL;
        }
        if (commands[i].needs_qemu && sv_job_check_idle(s) < 0)
            return NULL;
        json_object *args = NULL;
        json_object_object_get_ex(req, "arguments", &args);
        *cmd_r = &commands[i];
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
        json_object_object_add(o, "error", control_error_json());
    AUTOFREE char *line = kx_asprintf("%s\n", kx_json_text(o));
    if (send(c->fd, line, strlen(line), MSG_NOSIGNAL) < 0)
        sv_event(c->s, "cannot answer a control client: %s", strerror(errno));
}

static void client_close(control_client *c)
{
    if (c->waiting) {
        sv_event(c->s, "control client %llu hung up before its reply", c->id);
        sv_job_owner_gone(c->s, (void *)(uintptr_t)c->id);
    }
    if (c->passed_fd >= 0)
        close(c->passed_fd);
    for (control_client **p = &c->s->control_clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    if (c->fd >= 0) {
        kx_loop_del(c->s->loop, c->fd);
        close(c->fd);
    }
    kx_buf_dispose(&c->in);
    if (c->tok)
        json_tokener_free(c->tok);
    free(c);
}

/* The connection leaves the control socket's clients and carries events from now on. */
static void client_to_watcher(control_client *c, json_object *args)
{
    sv *s = c->s;
    bool history = kx_json_bool(args, "history", false);
    int fd = TAKE_FD(c->fd);
    kx_loop_del(s->loop, fd);
    c->waiting = false;
    client_close(c);
    if (sv_watch_add(s, fd, history) < 0)
        sv_event(s, "%s", kx_err_msg());
}

/* Handles one request line; false when the client is no longer one (it became a watcher). */
static bool serve_line(control_client *c, const char *line)
{
    sv *s = c->s;
    const control_cmd *cmd = NULL;
    control_client *outer = s->serving;   /* a reply that ends a wait may serve c inside */
    kx_err_clear();
    c->answered = false;
    s->serving = c;
    json_object *ret = dispatch(s, c, line, &cmd);
    s->serving = outer;
    if (ret == SV_DEFERRED) {
        c->waiting = !c->answered;
        return true;
    }
    bool stream = ret && cmd && cmd->stream;
    reply(c, ret);
    if (!stream)
        return true;
    AUTOPTR(json_object) req = kx_json_parse(line, "control request");
    client_to_watcher(c, json_object_object_get(req, "arguments"));
    return false;
}

/* Serves the complete request lines received, one at a time: none while a reply waits. */
static void serve(control_client *c)
{
    char *nl;
    while (!c->waiting && c->in.s && (nl = memchr(c->in.s, '\n', c->in.len))) {
        *nl = '\0';
        AUTOFREE char *line = kx_strdup(c->in.s);
        size_t rest = c->in.len - (size_t)(nl + 1 - c->in.s);
        memmove(c->in.s, nl + 1, rest);
        c->in.len = rest;
        c->in.s[rest] = '\0';
        if (!serve_line(c, line))
            return;
    }
}

/* Reads what came, and a descriptor sent along (the last one kept). */
static ssize_t client_recv(control_client *c, char *buf, size_t len)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } u;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space,
                       .msg_controllen = sizeof(u.space)};
    ssize_t n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);
    for (struct cmsghdr *h = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; h; h = CMSG_NXTHDR(&m, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
            h->cmsg_len != CMSG_LEN(sizeof(int)))
            continue;
        if (c->passed_fd >= 0)
            close(c->passed_fd);
        memcpy(&c->passed_fd, CMSG_DATA(h), sizeof(int));
    }
    return n;
}

int sv_control_take_fd(sv *s)
{
    if (!s->serving)
        return -1;
    int fd = s->serving->passed_fd;
    s->serving->passed_fd = -1;
    return fd;
}

static void on_client(int fd, uint32_t events, void *opaque)
{
    (void)fd;
    (void)events;
    control_client *c = opaque;
    char buf[4096];
    ssize_t n = client_recv(c, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0 || c->in.len + (size_t)n > CONTROL_LINE_MAX) {
        client_close(c);
        return;
    }
    kx_buf_addn(&c->in, buf, (size_t)n);
    serve(c);
}

void *sv_control_defer(sv *s)
{
    assert(s->serving);
    return (void *)(uintptr_t)s->serving->id;
}

void sv_control_answer(sv *s, void *token, json_object *ret)
{
    unsigned long long id = (uintptr_t)token;
    control_client *c = s->control_clients;
    while (c && c->id != id)
        c = c->next;
    if (!c) {
        sv_event(s, "control client %llu is gone: its reply is dropped", id);
        json_object_put(ret);
        return;
    }
    reply(c, ret);
    if (c == s->serving) {
        c->answered = true;   /* before its command returned: nothing waits */
        return;
    }
    c->waiting = false;
    serve(c);
}

void sv_control_job_done(sv *s, json_object *ret, void *opaque)
{
    sv_control_answer(s, opaque, ret);
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
    c->passed_fd = -1;
    c->id = ++s->control_seq;
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
