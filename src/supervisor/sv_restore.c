/* sv_restore.c - the guest's state from a save file, while the domain starts: QEMU was started
 * with -incoming defer (and the machine type the file names); the supervisor, which may open
 * the file where QEMU (an unprivileged user) may not, hands it over positioned after kxl's
 * header (getfd), and QEMU loads the stream from there (migrate-incoming fd:). The supervisor
 * waits for the end as it waits for QEMU's start, before it serves anyone: the domain shows as
 * starting meanwhile. QEMU 7.2 exits when it cannot load a stream, so a damaged one leaves
 * nothing running, and QEMU's own words say what it found wrong. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "migrate/mig_header.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/json.h"

/* how often QEMU is asked whether it has loaded the stream: what the guest waits at the end
 * of an incoming migration, before it can run there */
#define RESTORE_POLL_MS 5
/* An incoming stream that has not begun by then will not: QEMU 7.2 reports a failed TLS
 * handshake on its stream only in its log, and waits on (query-migrate answers no status
 * until the stream begins) */
#define INCOMING_SETUP_MS 30000

/* A stream from a newer QEMU does not load into an older one. */
static int restore_check_version(sv *s, const char *file)
{
    AUTOFREE char *here = sv_qemu_version(s);
    if (!here)
        return -1;
    const char *saved = kx_json_str(s->restore, "qemu_version", "0");
    if (mig_version_cmp(saved, here) <= 0)
        return 0;
    kx_err(KXL_ERR_HOST, "'%s' was saved by QEMU %s; this host's QEMU %s cannot load it: "
           "restore it on a host with QEMU %s or newer", file, saved, here, saved);
    return -1;
}

/* QEMU is gone (it exits on a stream it cannot load), waiting up to wait_ms for it. */
static bool qemu_gone(sv *s, int wait_ms)
{
    struct pollfd p = {.fd = s->qemu_pidfd, .events = POLLIN};
    return s->qemu_pidfd < 0 || poll(&p, 1, wait_ms) > 0;
}

static int restore_refused(sv *s, const char *file, const char *why)
{
    kx_err(KXL_ERR_QEMU, "cannot restore '%s' from '%s': QEMU could not load the saved state "
           "(%s); the file is damaged or was written by an incompatible QEMU", s->name, file,
           why);
    return -1;
}

/* Polls query-migrate until QEMU has loaded the stream, failed, or died; an incoming
 * migration also ends when its receiving command went away. */
static int restore_wait(sv *s, const char *file)
{
    long long since = kx_mono_ms();   /* the stream has not begun since */
    unsigned polls = 0;
    for (;;) {
        AUTOPTR(json_object) st = NULL;
        if (sv_incoming_receiver_gone(s)) {
            kx_err(KXL_ERR_STATE, "cannot receive '%s': the receiving command went away",
                   s->name);
            return -1;
        }
        if (qemu_gone(s, 0) || qmp_execute(s->qmp, "query-migrate", NULL, &st, 10000) < 0) {
            if (!qemu_gone(s, 2000))
                return -1;   /* the monitor failed, QEMU lives: kx_err says why */
            AUTOFREE char *words = sv_qemu_words(s, 2);
            return restore_refused(s, file, words);
        }
        const char *status = kx_json_str(st, "status", "");
        /* --postcopy: the rest of the memory comes while the guest runs, after the go */
        if (kx_streq(status, "completed") ||
            (kx_streq(status, "postcopy-active") && kx_json_bool(s->restore, "postcopy", false)))
            return 0;
        if (kx_streq(status, "failed"))
            return restore_refused(s, file, kx_json_str(st, "error-desc", "no reason given"));
        /* --copy-storage: the disks are copied before the memory comes */
        if ((*status && !kx_streq(status, "setup")) ||
            (s->nbd_disks && ++polls % (1000 / RESTORE_POLL_MS) == 0 && sv_nbd_busy(s)))
            since = kx_mono_ms();
        else if (s->incoming && kx_mono_ms() - since > INCOMING_SETUP_MS) {
            AUTOFREE char *words = sv_qemu_words(s, 2);
            AUTOFREE char *why = kx_asprintf("the stream did not begin in %d s: %s",
                                             INCOMING_SETUP_MS / 1000, words);
            return restore_refused(s, file, why);
        }
        usleep(RESTORE_POLL_MS * 1000);
    }
}

/* The stream: the save file positioned after kxl's header, or the migration's transport
 * (inherited as the descriptor "fd", already past the header). */
static int restore_open(sv *s, const char *file)
{
    if (s->incoming) {
        int fd = (int)kx_json_int(s->restore, "fd", -1);
        if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
            kx_err(KXL_ERR_INTERNAL, "the migration stream's descriptor is missing");
            return -1;
        }
        return fd;
    }
    off_t offset = (off_t)kx_json_int(s->restore, "offset", 0);
    AUTOCLOSE int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || lseek(fd, offset, SEEK_SET) != offset) {
        kx_err_errno(KXL_ERR_NOT_FOUND, "cannot read the save file '%s'", file);
        return -1;
    }
    return TAKE_FD(fd);
}

int sv_restore(sv *s)
{
    /* the images are taken at cont, after the sender released them */
    static const char *const incoming_caps[] = {"late-block-activate"};
    const char *file = kx_json_str(s->restore, "file", "the migration stream");
    if (restore_check_version(s, file) < 0)
        return -1;
    AUTOCLOSE int fd = restore_open(s, file);
    if (fd < 0 || sv_fd_give(s, fd, "kxl-restore") < 0)
        return -1;
    static const char *const postcopy_caps[] = {"late-block-activate", "postcopy-ram"};
    bool postcopy = s->incoming && kx_json_bool(s->restore, "postcopy", false);
    if (s->incoming && sv_migrate_capabilities(s, postcopy ? postcopy_caps : incoming_caps,
                                               postcopy ? 2 : 1) < 0)
        return -1;
    /* kxl migrate --copy-storage: the sender mirrors these disks first */
    json_object *nbd = NULL;
    if (s->incoming && json_object_object_get_ex(s->restore, "nbd_export", &nbd) &&
        sv_nbd_export(s, nbd) < 0)
        return -1;
    /* a relocation server's stream: QEMU's own TLS, the sender's certificate checked */
    bool tls = s->incoming && kx_json_bool(s->restore, "tls", false);
    if (tls && sv_tls_on(s, NULL) < 0) {
        sv_nbd_stop(s);
        return -1;
    }
    sv_event(s, "restoring from '%s'%s", file, tls ? " (QEMU's TLS)" : "");
    json_object *a = json_object_new_object();
    json_object_object_add(a, "uri", json_object_new_string("fd:kxl-restore"));
    int r = qmp_execute(s->qmp, "migrate-incoming", a, NULL, 10000) < 0 ? -1
                                                                      : restore_wait(s, file);
    if (tls)
        sv_tls_off(s);
    sv_nbd_stop(s);
    if (r < 0)
        return -1;
    sv_event(s, "restored from '%s'", file);
    return 0;
}
