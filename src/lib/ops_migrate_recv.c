/* ops_migrate_recv.c - kxl migrate-receive, the receiving side (protocol in
 * migrate/mig_proto.h): the header is read and checked before anything starts (it is
 * untrusted input), the preflight answered with everything missing, and the domain created
 * from the stream as a restore is (its supervisor feeds the transport to QEMU) but paused and
 * held by a lifeline: it runs only on the sender's go, and nothing of it stays when this
 * command fails or dies before that. Every failure is also told to the sender as one line. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "kxl/ops.h"
#include "lib/control.h"
#include "lib/migrate.h"
#include "migrate/mig_header.h"
#include "migrate/mig_proto.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

#define SENDER "the migration's sender"
#define HEADER_MS 60000   /* the header follows the banner at once */

typedef struct {
    const kxl_paths *p;
    int in, out;
    const kxl_migrate_receive_opts *o;
    mig_header h;
    kxl_domcfg *cfg;
    int lifeline;          /* held until the go: its closing destroys the domain */
    int stream;            /* QEMU's stream when it comes apart (stream_apart, or --postcopy
                            * through the relay), else -1 */
    bool created;
    /* --copy-storage */
    kx_strv copy;          /* the disks the sender copies in (vdevs) */
    kx_strv made;          /* their files, made here empty: removed unless the go comes */
    pid_t relay;           /* the relay (mig_mux.h) that in and out go through, or 0 */
} mig_recv;

static void debug_step(const mig_recv *r, const char *what)
{
    if (r->o->debug)
        mig_debug("migrate-receive", what);
}

/* The header, read to its exact end: QEMU's stream follows it in the pipe. */
static int read_header(mig_recv *r)
{
    size_t want = MIG_FIXED_LEN, have = 0;
    AUTOFREE unsigned char *buf = NULL;
    for (;;) {
        buf = kx_realloc(buf, want);
        if (mig_read_exact(r->in, SENDER, buf + have, want - have, HEADER_MS) < 0) {
            AUTOFREE char *why = kx_strdup(kx_err_msg());
            kx_err(KXL_ERR_INVALID, "the migration stream is truncated: %s before the end of "
                   "its header", why);
            return -1;
        }
        have = want;
        int d = mig_header_decode(buf, have, "the migration stream", &r->h, &want);
        if (d <= 0)
            return d;
    }
}

static int config_from_header(mig_recv *r)
{
    r->cfg = cfg_domcfg_from_json(r->h.config);
    if (!r->cfg)
        return -1;
    restore_forget_tap_names(r->cfg);
    r->cfg->accel = (kxl_accel)kxl_accel_from_string(r->h.accel);
    return 0;
}

/* Answers the preflight: OK, or everything missing as a JSON array (and an error here). */
static int answer_preflight(mig_recv *r)
{
    kx_strv missing = KX_STRV_INIT;
    int ok = migrate_preflight(r->p, &r->h, r->cfg, &missing, &r->copy);
    if (ok == 0) {
        kx_strv_dispose(&missing);
        return mig_write_line(r->out, SENDER, MIG_PREFLIGHT_OK);
    }
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < missing.n; i++)
        json_object_array_add(list, json_object_new_string(missing.v[i]));
    AUTOFREE char *line = kx_asprintf("%s%s", MIG_PREFLIGHT_REFUSED, kx_json_text(list));
    json_object_put(list);
    mig_write_line(r->out, SENDER, line);
    AUTOFREE char *all = kx_strv_join(&missing, "; ");
    kx_strv_dispose(&missing);
    kx_err(KXL_ERR_HOST, "cannot receive '%s': %s", r->cfg->name, all);
    return -1;
}

/* The peer's address on a socket, as text (an IPv4-mapped address unwrapped). */
static void peer_text(int fd, char *text, size_t len)
{
    struct sockaddr_in6 sa;
    socklen_t sl = sizeof(sa);
    text[0] = '\0';
    if (getpeername(fd, (struct sockaddr *)&sa, &sl) < 0)
        return;
    if (sa.sin6_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, text, (socklen_t)len);
    else if (IN6_IS_ADDR_V4MAPPED(&sa.sin6_addr))
        inet_ntop(AF_INET, &sa.sin6_addr.s6_addr[12], text, (socklen_t)len);
    else
        inet_ntop(AF_INET6, &sa.sin6_addr, text, (socklen_t)len);
}

/* The stream's connection, apart from the protocol: from the sender's address only (others
 * are closed), within HEADER_MS. */
static int accept_stream(mig_recv *r)
{
    for (;;) {
        struct pollfd p = {.fd = r->o->stream_listen_fd, .events = POLLIN};
        int n = poll(&p, 1, HEADER_MS);
        if (n <= 0) {
            kx_err(KXL_ERR_STATE, "the sender did not connect QEMU's stream in time");
            return -1;
        }
        AUTOCLOSE int fd = accept4(r->o->stream_listen_fd, NULL, NULL, SOCK_CLOEXEC);
        char from[INET6_ADDRSTRLEN] = "";
        if (fd >= 0)
            peer_text(fd, from, sizeof(from));
        if (fd >= 0 && kx_streq(from, r->o->stream_peer)) {
            r->stream = TAKE_FD(fd);
            return 0;
        }
        if (fd >= 0)
            kx_notice("migrate-receive: a stream connection from %s (not the sender %s) closed",
                      from, r->o->stream_peer);
    }
}

/* The relay of mig_mux.h between the transport and channel 0 (r->in, r->out from now on),
 * with the NBD channels of the disks to copy, or QEMU's stream on a socket pair of its own
 * (--postcopy: the receiving QEMU asks for pages back on it). */
static int start_relay(mig_recv *r)
{
    int sp[2] = {-1, -1};
    AUTOFREE char *sock = kxl_domain_file(r->p, r->cfg->name, "nbd.sock");
    if (!r->copy.n && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a socket pair");
        return -1;
    }
    mig_mux m = {.transport_in = r->in, .transport_out = r->out, .n = r->copy.n,
                 .listen_fd = -1, .connect_path = r->copy.n ? sock : NULL,
                 .connect_ms = HEADER_MS, .ready_line = MIG_STORAGE_READY, .stream_fd = sp[1]};
    int rc = migrate_mux_start(&m, &r->relay, &r->out, &r->in);
    if (sp[1] >= 0)
        close(sp[1]);
    if (rc < 0) {
        if (sp[0] >= 0)
            close(sp[0]);
        return -1;
    }
    if (sp[0] >= 0)
        r->stream = sp[0];
    debug_step(r, "the relay runs");
    return 0;
}

/* --copy-storage: the disks to copy are made empty here and named to the sender; then the
 * transport is framed (the relay connects to the NBD server the domain's supervisor starts,
 * and says when it is there). */
static int prepare_storage(mig_recv *r)
{
    if (!r->h.copy_storage)   /* --postcopy needs a socket for QEMU: the relay gives one */
        return r->h.postcopy && !r->o->stream_apart ? start_relay(r) : 0;
    if (r->copy.n &&
        migrate_storage_make(r->p, r->cfg, r->h.copy_storage, &r->copy, &r->made) < 0)
        return -1;
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < r->copy.n; i++)
        json_object_array_add(list, json_object_new_string(r->copy.v[i]));
    AUTOFREE char *line = kx_asprintf("%s%s", MIG_COPY, kx_json_text(list));
    json_object_put(list);
    if (mig_write_line(r->out, SENDER, line) < 0)
        return -1;
    return r->copy.n ? start_relay(r) : 0;
}

static int create_domain(mig_recv *r)
{
    if (r->o->stream_apart && accept_stream(r) < 0)
        return -1;
    kxl_create_opts c = {.paused = true, .supervisor = r->o->supervisor,
                         .restore_qemu = r->h.qemu_version, .machine = r->h.machine,
                         .incoming = true, .incoming_fd = r->stream >= 0 ? r->stream : r->in,
                         .incoming_tls = r->o->stream_apart, .lifeline_r = &r->lifeline,
                         .nbd_export = r->copy.n ? r->copy.v : NULL,
                         .incoming_postcopy = r->h.postcopy};
    int rc = kxl_domain_create(r->p, r->cfg, &c, NULL);
    if (r->stream >= 0)
        close(r->stream);   /* the supervisor has its own */
    r->stream = -1;
    if (rc < 0)
        return -1;
    r->created = true;
    return 0;
}

/* The sender's go: anything else (its end, a timeout) means no go. */
static int wait_go(mig_recv *r, bool *paused_r)
{
    AUTOFREE char *line = mig_read_line(r->in, SENDER, -1);
    if (line && (kx_streq(line, MIG_GO) || kx_streq(line, MIG_GO_PAUSED))) {
        *paused_r = r->o->paused || kx_streq(line, MIG_GO_PAUSED);
        return 0;
    }
    AUTOFREE char *why = line ? kx_asprintf("it said '%.80s'", line) : kx_strdup(kx_err_msg());
    kx_err(KXL_ERR_STATE, "the sender gave no go (%s): the received copy of '%s' is destroyed",
           why, r->cfg->name);
    return -1;
}

static int commit(mig_recv *r, bool paused)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "paused", json_object_new_boolean(paused));
    /* from here the made disks are the supervisor's: it removes them if the go never
     * reaches it (this command dies), and they are the domain's once it has it */
    if (r->made.n)
        migrate_made_forget(r->p, r->cfg->name);
    if (control_call(r->p, r->cfg->name, "incoming-commit", args, NULL, 30000) < 0) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        kxl_domain_destroy(r->p, r->cfg->name);
        r->created = false;
        AUTOFREE char *line = kx_asprintf("%sfailed gone: %s", MIG_RESULT, why);
        mig_write_line(r->out, SENDER, line);
        kx_err(KXL_ERR_QEMU, "cannot run '%s' after the go (%s): it is destroyed here",
               r->cfg->name, why);
        return -1;
    }
    r->created = false;   /* it is this host's domain now, and its disks */
    kx_strv_dispose(&r->made);
    AUTOFREE char *line = kx_asprintf("%sok %s", MIG_RESULT, paused ? "paused" : "running");
    return mig_write_line(r->out, SENDER, line);
}

static int receive_steps(mig_recv *r)
{
    bool paused = false;
    if (mig_write_line(r->out, SENDER, MIG_BANNER) < 0 || read_header(r) < 0 ||
        config_from_header(r) < 0)
        return -1;
    debug_step(r, r->cfg->name);
    if (answer_preflight(r) < 0 || prepare_storage(r) < 0)
        return -1;
    debug_step(r, "starting the domain from the stream");
    if (create_domain(r) < 0)
        return -1;
    debug_step(r, MIG_RECEIVED);
    if (mig_write_line(r->out, SENDER, MIG_RECEIVED) < 0 || wait_go(r, &paused) < 0)
        return -1;
    debug_step(r, paused ? MIG_GO_PAUSED : MIG_GO);
    if (commit(r, paused) < 0)
        return -1;
    debug_step(r, paused ? "the domain stays paused here" : "the domain runs here");
    return 0;
}

int kxl_domain_migrate_receive(const kxl_paths *p, int in_fd, int out_fd,
                               const kxl_migrate_receive_opts *o, char **name_r)
{
    mig_recv r = {.p = p, .in = in_fd, .out = out_fd, .o = o, .lifeline = -1, .stream = -1};
    mig_pipe_grow(in_fd);   /* ssh's pipe, which QEMU reads the stream from */
    migrate_made_reap(p, NULL);   /* what receivers killed before their supervisor made */
    int rc = receive_steps(&r);
    kxl_errcode code = kx_err_code();
    AUTOFREE char *why = rc < 0 ? kx_strdup(kx_err_msg()) : NULL;
    if (r.created)
        kxl_domain_destroy(p, r.cfg->name);   /* before the go: nothing stays */
    if (r.lifeline >= 0)
        close(r.lifeline);
    if (r.stream >= 0)
        close(r.stream);
    if (r.made.n)   /* the copies, unless the domain is ours now */
        migrate_made_forget(p, r.cfg->name);
    migrate_storage_unmake(&r.made);
    if (why) {
        AUTOFREE char *line = kx_asprintf("%s%s", MIG_ERROR, why);
        mig_write_line(r.out, SENDER, line);   /* the sender may be gone: no matter */
    }
    if (r.relay) {   /* the relay ends with the transport, once the sender closes it */
        close(r.in);
        close(r.out);
        migrate_mux_end(r.relay, rc == 0 && r.h.postcopy);
    }
    if (why)
        kx_err(code, "%s", why);
    if (rc == 0 && name_r)
        *name_r = kx_strdup(r.cfg->name);
    kxl_domcfg_free(r.cfg);
    mig_header_dispose(&r.h);
    kx_strv_dispose(&r.copy);
    return rc;
}
