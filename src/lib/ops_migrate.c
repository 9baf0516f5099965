/* ops_migrate.c - kxl migrate, the sending side: runs the transport (xl's "ssh HOST kxl
 * migrate-receive", or any command, or a kxld relocation server's TLS connection,
 * migrate_reloc.c), sends the header the supervisor describes (as a save file's), and hands
 * the transport (for a relocation server, a connection of QEMU's stream's own, which QEMU
 * encrypts) to the supervisor's migrate job (sv_migrate.c), whose events are the progress.
 * Then xl's handover: the receiver says it has the domain, is told to go only once this
 * host's QEMU has completed and released the disks, and reports; this copy goes only after
 * that report. The protocol is in migrate/mig_proto.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_keys.h"
#include "lib/control.h"
#include "lib/migrate.h"
#include "lib/ops_call.h"
#include "lib/runtime.h"
#include "migrate/mig_header.h"
#include "migrate/mig_proto.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

#define REPLY_MS 60000   /* the receiver's answers: a preflight, starting QEMU, a cont */

typedef struct {
    const kxl_paths *p;
    const char *name;          /* the domain's (borrowed) */
    const char *host;
    const kxl_migrate_opts *o;
    kxl_migrate_progress_fn progress;
    void *opaque;
    pid_t pid;                 /* the transport */
    int to, from;              /* its stdin and stdout (with a relay: the relay's channel 0) */
    /* --copy-storage: the relay (mig_mux.h) between the transport and channel 0 and the
     * mirrors' NBD connections, and the transport's own ends, which it holds */
    pid_t relay;
    int transport_to, transport_from;
    json_object *copy;         /* the disks the receiver made empty (its MIG_COPY list) */
    int stream_port;           /* --relocation: QEMU's stream goes to this port of the host */
    int stream;                /* ... on this connection of its own, or -1 */
    char *tls_host;            /* ... whose TLS must name this host */
    int watch, job;            /* the supervisor's event stream; the migrate request's reply */
    bool handover;             /* QEMU completed: the guest stopped, its disks released */
    bool received;             /* the receiver said it has the domain */
    char peer[160];            /* "the receiver on HOST", for messages */
    kx_buf header;             /* the domain's header, asked before the transport starts */
} mig_send;

static void debug_step(const mig_send *m, const char *what)
{
    if (m->o->debug)
        mig_debug("migrate", what);
}

/* The transport's command line, as xl builds it. */
static char *transport_rune(const mig_send *m)
{
    const char *ssh = m->o->ssh_command ? m->o->ssh_command : "ssh";
    if (!*ssh)
        return kx_strdup(m->host);
    return kx_asprintf("exec %s %s kxl migrate-receive%s", ssh, m->host,
                       m->o->debug ? " --debug" : "");
}

static int transport_start(mig_send *m)
{
    if (m->o->relocation) {
        if (migrate_reloc_start(m->p, m->host, &m->pid, &m->to, &m->from, &m->stream_port) < 0)
            return -1;
        debug_step(m, "connected to the relocation server (mutual TLS)");
        return 0;
    }
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a pipe");
        return -1;
    }
    AUTOFREE char *rune = transport_rune(m);
    m->pid = fork();
    if (m->pid == 0) {
        kx_child_reset_signals();
        dup2(to[0], 0);
        dup2(from[1], 1);
        execl("/bin/sh", "sh", "-c", rune, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    m->to = to[1];
    m->from = from[0];
    mig_pipe_grow(m->to);   /* QEMU's stream goes into it */
    if (m->pid < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork");
        m->pid = 0;
        return -1;
    }
    debug_step(m, rune);
    return 0;
}

/* Closes our ends; the transport has 5 s to end on its own, then it is killed. */
static void transport_end(mig_send *m)
{
    if (m->to >= 0)
        close(m->to);
    if (m->from >= 0)
        close(m->from);
    m->to = m->from = -1;
    if (m->relay) {
        AUTOFREE char *sock = kxl_domain_file(m->p, m->name, "mirror.sock");
        migrate_mux_end(m->relay, false);
        close(m->transport_to);
        close(m->transport_from);
        unlink(sock);
        m->relay = 0;
    }
    json_object_put(m->copy);
    m->copy = NULL;
    if (m->pid <= 0)
        return;
    for (int i = 0; i < 500 && waitpid(m->pid, NULL, WNOHANG) == 0; i++)
        usleep(10000);
    if (waitpid(m->pid, NULL, WNOHANG) == 0) {
        kill(m->pid, SIGKILL);
        waitpid(m->pid, NULL, 0);
    }
    m->pid = 0;
}

/* The config the receiver starts: -C's file, or the domain's own (the supervisor's). */
static json_object *header_args(const mig_send *m)
{
    json_object *args = json_object_new_object();
    if (m->o->copy_storage)
        json_object_object_add(args, "copy_storage", json_object_new_boolean(true));
    if (m->o->postcopy)
        json_object_object_add(args, "postcopy", json_object_new_boolean(true));
    if (!m->o->config_file)
        return args;
    AUTOPTR(kxl_domcfg) cfg = cfg_load(m->o->config_file, NULL, kxl_host_cpus(), 0);
    if (!cfg) {
        json_object_put(args);
        return NULL;
    }
    json_object_object_add(args, "config", cfg_domcfg_to_json(cfg));
    return args;
}

/* The header, from the supervisor, before any transport starts: a domain that cannot go
 * (its QEMU stopped, a bad -C file) fails without a receiver started on the other host. */
static int make_header(mig_send *m)
{
    json_object *args = header_args(m);
    AUTOPTR(json_object) ret = NULL;
    if (!args || control_call(m->p, m->name, "migrate-header", args, &ret, 15000) < 0)
        return -1;
    mig_header h = {0};
    if (mig_header_from_json(ret, m->name, &h) < 0)
        return -1;
    mig_header_encode(&h, &m->header);
    mig_header_dispose(&h);
    return 0;
}

static int send_header(mig_send *m)
{
    int r = kx_write_all(m->to, m->header.s, m->header.len);
    if (r < 0)
        kx_err_errno(KXL_ERR_STATE, "cannot write to %s", m->peer);
    return r;
}

/* A line from the receiver that should be expect: its error line says why not. */
static int expect_line(mig_send *m, const char *expect, const char *doing)
{
    AUTOFREE char *line = mig_read_line(m->from, m->peer, REPLY_MS);
    if (!line) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        kx_err(KXL_ERR_STATE, "%s: %s", doing, why);
        return -1;
    }
    if (kx_streq(line, expect))
        return 0;
    kx_err(KXL_ERR_STATE, "%s: %s %s", doing, m->peer,
           kx_startswith(line, MIG_ERROR) ? line + strlen(MIG_ERROR) : "spoke out of turn");
    return -1;
}

/* The receiver's preflight: everything it lacks, in one error. */
static int preflight(mig_send *m)
{
    AUTOFREE char *line = mig_read_line(m->from, m->peer, REPLY_MS);
    if (line && kx_streq(line, MIG_PREFLIGHT_OK))
        return 0;
    if (!line || !kx_startswith(line, MIG_PREFLIGHT_REFUSED)) {
        AUTOFREE char *why = line ? kx_strdup(line) : kx_strdup(kx_err_msg());
        kx_err(KXL_ERR_STATE, "%s did not check the domain: %s", m->peer, why);
        return -1;
    }
    AUTOPTR(json_object) list = json_tokener_parse(line + strlen(MIG_PREFLIGHT_REFUSED));
    kx_buf b = KX_BUF_INIT;
    size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < n; i++)
        kx_buf_printf(&b, "%s%s", i ? "; " : "",
                      json_object_get_string(json_object_array_get_idx(list, i)));
    kx_err(KXL_ERR_HOST, "%s cannot run '%s', nothing was moved: %s", m->peer, m->name,
           kx_buf_str(&b));
    kx_buf_dispose(&b);
    return -1;
}

/* The relay of mig_mux.h between the transport and channel 0 (m->to, m->from from now on),
 * with n NBD channels (the supervisor connects to mirror.sock) or, for --postcopy, QEMU's
 * stream on a socket pair of its own (m->stream). */
static int start_relay(mig_send *m, size_t n)
{
    int sp[2] = {-1, -1};
    AUTOCLOSE int listen_fd = n ? migrate_storage_listen(m->p, m->name) : -1;
    if (n && listen_fd < 0)
        return -1;
    if (!n && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a socket pair");
        return -1;
    }
    mig_mux mm = {.transport_in = m->from, .transport_out = m->to, .n = n,
                  .listen_fd = listen_fd, .stream_fd = sp[1]};
    int r = migrate_mux_start(&mm, &m->relay, &m->to, &m->from);
    if (sp[1] >= 0)
        close(sp[1]);
    if (r < 0) {
        if (sp[0] >= 0)
            close(sp[0]);
        return -1;
    }
    if (sp[0] >= 0)
        m->stream = sp[0];   /* else: --relocation's own connection, if any, stays */
    m->transport_to = mm.transport_out;
    m->transport_from = mm.transport_in;
    return 0;
}

/* --copy-storage: the receiver's list of the disks it made empty; when there are any, or
 * --postcopy goes through pipes (QEMU needs a socket: the receiver asks for pages back on
 * it), the relay frames the transport from here on, and with disks the receiver says when
 * its NBD server is there. */
static int storage_steps(mig_send *m)
{
    AUTOFREE char *line = m->o->copy_storage ? mig_read_line(m->from, m->peer, REPLY_MS) : NULL;
    if (!m->o->copy_storage)
        return m->o->postcopy && !m->o->relocation ? start_relay(m, 0) : 0;
    if (!line || !kx_startswith(line, MIG_COPY) ||
        !(m->copy = json_tokener_parse(line + strlen(MIG_COPY))) ||
        !json_object_is_type(m->copy, json_type_array)) {
        AUTOFREE char *why = line ? kx_strdup(line) : kx_strdup(kx_err_msg());
        kx_err(KXL_ERR_STATE, "%s did not say which disks to copy: %s", m->peer, why);
        return -1;
    }
    size_t n = json_object_array_length(m->copy);
    debug_step(m, line);
    if (!n)
        return 0;
    return start_relay(m, n) < 0 ? -1
           : expect_line(m, MIG_STORAGE_READY, "the receiver did not export the disks");
}

static int open_watch(mig_send *m)
{
    AUTOCLOSE int fd = control_connect(m->p, m->name, "control.sock");
    json_object *args = json_object_new_object();
    json_object_object_add(args, "history", json_object_new_boolean(false));
    if (fd < 0 || control_request(fd, m->name, "watch", args, NULL, 15000) < 0)
        return -1;
    m->watch = TAKE_FD(fd);
    return 0;
}

/* --relocation: QEMU's stream gets a connection of its own, which the supervisor has QEMU
 * wrap in TLS; made before the disks are copied, as the receiver waits for it before it
 * starts the domain. */
static int connect_stream(mig_send *m)
{
    if (!m->o->relocation)
        return 0;
    m->stream = migrate_reloc_stream(m->host, m->stream_port, &m->tls_host);
    return m->stream < 0 ? -1 : 0;
}

static int start_job(mig_send *m)
{
    const char *tls_host = m->tls_host;
    int stream = m->stream;
    AUTOCLOSE int fd = control_connect(m->p, m->name, "control.sock");
    json_object *args = json_object_new_object();
    json_object_object_add(args, "host", json_object_new_string(m->host));
    json_object_object_add(args, "downtime_ms", json_object_new_int64(m->o->downtime_ms));
    json_object_object_add(args, "bandwidth_mib", json_object_new_int64(m->o->bandwidth_mib));
    if (m->o->postcopy)
        json_object_object_add(args, "postcopy", json_object_new_boolean(true));
    if (tls_host)
        json_object_object_add(args, "tls_hostname", json_object_new_string(tls_host));
    if (m->copy && json_object_array_length(m->copy))
        json_object_object_add(args, "mirror", json_object_get(m->copy));
    if (fd < 0 || control_send(fd, m->name, "migrate", args, stream >= 0 ? stream : m->to) < 0)
        return -1;
    m->job = TAKE_FD(fd);
    return 0;
}

static uint64_t stat_u(json_object *stats, const char *key)
{
    int64_t v = kx_json_int(stats, key, 0);
    return v > 0 ? (uint64_t)v : 0;
}

/* QEMU's figures (sv_migrate.c's stats) as progress of phase. */
static void report_figures(mig_send *m, const char *phase, int percent, json_object *st)
{
    kxl_migrate_progress pr = {
        .phase = phase, .percent = percent,
        .transferred = stat_u(st, "transferred"), .remaining = stat_u(st, "remaining"),
        .total = stat_u(st, "total"), .rate = stat_u(st, "rate"),
        .dirty_rate = stat_u(st, "dirty_rate"), .pass = (unsigned)stat_u(st, "pass"),
        .expected_downtime_ms = (unsigned)stat_u(st, "expected_downtime_ms"),
        .downtime_ms = (unsigned)stat_u(st, "downtime_ms"),
        .total_time_ms = (unsigned)stat_u(st, "total_time_ms"),
        .postcopy = kx_json_bool(st, "postcopy", false),
        .postcopy_ms = (unsigned)stat_u(st, "postcopy_ms")};
    m->progress(&pr, m->opaque);
}

/* A "job" event of the migration: progress, and the handover once QEMU completed. */
static void job_event(mig_send *m, json_object *data)
{
    if (!kx_streq(kx_json_str(data, "kind", ""), "migrate"))
        return;
    const char *phase = kx_json_str(data, "phase", "");
    json_object *st = NULL;
    json_object_object_get_ex(data, "stats", &st);
    if (kx_streq(phase, "handover"))
        m->handover = true;
    if (m->progress && kx_streq(phase, "mirroring")) {
        kxl_migrate_progress pr = {.phase = phase,
                                   .percent = (int)kx_json_int(data, "progress", 0)};
        m->progress(&pr, m->opaque);
    }
    if (m->progress && st)
        report_figures(m, phase, (int)kx_json_int(data, "progress", 0), st);
}

/* The event lines the watch has; -1 when it ended (the supervisor went). */
static int read_events(mig_send *m)
{
    AUTOFREE char *line = mig_read_line(m->watch, "the supervisor's events", 5000);
    if (!line)
        return -1;
    AUTOPTR(json_object) ev = json_tokener_parse(line);
    json_object *data = NULL;
    if (kx_streq(kx_json_str(ev, "event", ""), "job") &&
        json_object_object_get_ex(ev, "data", &data))
        job_event(m, data);
    return 0;
}

/* The job's reply: before the handover, only its failure comes (it resumed the guest). */
static int job_reply(mig_send *m)
{
    AUTOPTR(json_object) ret = NULL;
    if (control_read_reply(m->job, m->name, &ret, 15000) == 0)
        kx_err(KXL_ERR_INTERNAL, "the migration of '%s' ended before its handover", m->name);
    close(m->job);
    m->job = -1;
    return -1;
}

/* Calls the migration off: the job resumes the guest here and answers. */
static void call_off(mig_send *m)
{
    kxl_errcode code = kx_err_code();
    AUTOFREE char *why = kx_strdup(kx_err_msg());
    if (m->job >= 0) {
        control_call(m->p, m->name, "job-cancel", NULL, NULL, 15000);
        AUTOPTR(json_object) ret = NULL;
        control_read_reply(m->job, m->name, &ret, 60000);
    }
    kx_err(code, "%s", why);
}

/* Memory moves while the guest runs, until QEMU completes (the handover), fails, or the
 * receiver speaks before its turn (its error, or its end). */
static int stream(mig_send *m)
{
    while (!m->handover) {
        /* the receiver may say it has the domain before the handover event is read */
        struct pollfd fds[3] = {{.fd = m->watch, .events = POLLIN},
                                {.fd = m->job, .events = POLLIN},
                                {.fd = m->received ? -1 : m->from, .events = POLLIN}};
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            kx_err_errno(KXL_ERR_INTERNAL, "poll");
            return -1;
        }
        if (fds[1].revents)
            return job_reply(m);
        if (fds[0].revents && read_events(m) < 0)
            return -1;
        if (fds[2].revents && !m->handover) {
            if (expect_line(m, MIG_RECEIVED, "the migration failed while memory moved") < 0) {
                call_off(m);
                return -1;
            }
            m->received = true;
        }
    }
    return 0;
}

/* After the go: the receiver's result decides what becomes of this copy. */
static int after_go(mig_send *m)
{
    AUTOFREE char *line = mig_read_line(m->from, m->peer, REPLY_MS);
    const char *res = line && kx_startswith(line, MIG_RESULT) ? line + strlen(MIG_RESULT) : NULL;
    if (res && kx_startswith(res, "ok")) {
        debug_step(m, res);
        AUTOPTR(json_object) ret = NULL;
        AUTOPTR(json_object) final = NULL;
        /* --postcopy: answered once the receiver has all the memory, with QEMU's figures
         * then and postcopy_ms (QEMU measures no downtime for postcopy) */
        if (control_call(m->p, m->name, "migrate-commit", NULL, &final,
                         m->o->postcopy ? 3600000 : 15000) < 0 ||
            control_read_reply(m->job, m->name, &ret, 15000) < 0)
            return -1;
        if (m->o->postcopy && m->progress && final &&
            json_object_object_get_ex(final, "postcopy_ms", NULL))
            report_figures(m, "done", 100, final);
        return runtime_wait_gone(m->p, m->name);
    }
    if (res && kx_startswith(res, "failed gone")) {
        call_off(m);
        kx_err(KXL_ERR_STATE, "failure after the go: %s could not run '%s' (%s) and destroyed "
               "its copy; it runs here again", m->peer, m->name, res);
        return -1;
    }
    AUTOFREE char *why = line ? kx_strdup(line) : kx_strdup(kx_err_msg());
    kx_err(KXL_ERR_STATE, "failure after the go: no result from %s (%s): '%s' stays paused here "
           "with its disks released, and the copy there is in a state unknown to this host: "
           "look there before you unpause or destroy it here", m->peer, why, m->name);
    return -1;
}

static int handover(mig_send *m)
{
    if (!m->received && expect_line(m, MIG_RECEIVED, "the receiver did not take the domain") < 0) {
        call_off(m);
        return -1;
    }
    debug_step(m, MIG_RECEIVED);
    if (mig_write_line(m->to, m->peer, m->o->paused ? MIG_GO_PAUSED : MIG_GO) < 0) {
        call_off(m);   /* no go reached the receiver: it destroys its copy */
        return -1;
    }
    return after_go(m);
}

static int migrate_steps(mig_send *m)
{
    if (make_header(m) < 0 || transport_start(m) < 0)
        return -1;
    if (expect_line(m, MIG_BANNER, "the receiver did not start") < 0)
        return -1;
    debug_step(m, MIG_BANNER);
    if (send_header(m) < 0 || preflight(m) < 0)
        return -1;
    debug_step(m, MIG_PREFLIGHT_OK);
    if (connect_stream(m) < 0 || storage_steps(m) < 0 || open_watch(m) < 0 || start_job(m) < 0)
        return -1;
    debug_step(m, "QEMU was asked to migrate");
    if (stream(m) < 0)
        return -1;
    debug_step(m, "QEMU sent the domain (handover)");
    if (handover(m) < 0)
        return -1;
    debug_step(m, "the domain is gone here");
    return 0;
}

/* With ssh, HOST goes into a shell command line: a host name, [user@]host, or an address. */
static bool host_is_valid(const char *host)
{
    size_t n = strlen(host);
    return n && n < 256 && host[0] != '-' &&
           strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "._-@:[]%") == n;
}

bool kxl_migrate_progress_final(const kxl_migrate_progress *pr)
{
    return (strcmp(pr->phase, "handover") == 0 && !pr->postcopy) ||
           strcmp(pr->phase, "done") == 0;
}

char *kxl_migrate_summary(const kxl_migrate_progress *pr)
{
    double mib = (double)pr->transferred / (1 << 20), s = pr->total_time_ms / 1000.0;
    if (pr->postcopy)
        return kx_asprintf("%.1f MiB sent in %.1f s over %u passes, postcopy for %u ms (the "
                           "guest ran on the receiver from the switch, fetching the pages it "
                           "lacked; QEMU measures no downtime for postcopy)", mib, s, pr->pass,
                           pr->postcopy_ms);
    return kx_asprintf("%.1f MiB sent in %.1f s over %u passes, downtime %u ms", mib, s,
                       pr->pass, pr->downtime_ms);
}

int kxl_domain_migrate(const kxl_paths *p, const char *dom, const char *host,
                       const kxl_migrate_opts *o, kxl_migrate_progress_fn progress, void *opaque)
{
    kxl_dominfo info;
    bool whole_command = !o->relocation && o->ssh_command && !*o->ssh_command;
    if (!whole_command && !host_is_valid(host)) {
        kx_err(KXL_ERR_INVALID, "migrate: '%s' is not a host name (with -s \"\", HOST is the "
               "whole command)", host);
        return -1;
    }
    if (kxl_domain_lookup(p, dom, &info) < 0)
        return -1;
    mig_send m = {.p = p, .name = info.name, .host = host, .o = o, .progress = progress,
                  .opaque = opaque, .to = -1, .from = -1, .watch = -1, .job = -1,
                  .stream = -1, .header = KX_BUF_INIT};
    snprintf(m.peer, sizeof(m.peer), o->relocation ? "the relocation server on '%s'"
                                                   : "the receiver on '%s'", host);
    /* the transport may die under us: its end is read as EPIPE, not a signal */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    int r = migrate_steps(&m);
    kxl_errcode code = kx_err_code();
    AUTOFREE char *why = r < 0 ? kx_strdup(kx_err_msg()) : NULL;
    if (m.watch >= 0)
        close(m.watch);
    if (m.job >= 0)
        close(m.job);
    if (m.stream >= 0)
        close(m.stream);
    free(m.tls_host);
    kx_buf_dispose(&m.header);
    transport_end(&m);
    sigaction(SIGPIPE, &old, NULL);
    if (why)
        kx_err(code, "%s", why);
    return r;
}
