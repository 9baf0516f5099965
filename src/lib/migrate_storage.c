/* migrate_storage.c - kxl migrate --copy-storage, what both commands do for it: the
 * receiver's check and making of the disks it lacks (empty, of the sender's size and format,
 * removed again if the migration fails before the go), and the relay of mig_mux.h in a child
 * process on each side, which from the MIG_COPY line on carries the protocol (channel 0) and
 * the NBD connections of the mirrors through the one transport. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/migrate.h"
#include "migrate/mig_mux.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/sock.h"
#include "util/json.h"
#include "util/spawn.h"

/* The sender's entry for vdev in the header's copy_storage, or NULL. */
static json_object *copy_entry(json_object *copy, const char *vdev)
{
    size_t n = json_object_is_type(copy, json_type_array) ? json_object_array_length(copy) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(copy, i);
        if (kx_streq(kx_json_str(e, "vdev", ""), vdev))
            return e;
    }
    return NULL;
}

int migrate_storage_check(const kxl_disk *d, json_object *copy, kx_strv *missing)
{
    json_object *e = copy_entry(copy, d->vdev);
    if (!e) {
        kx_strv_pushf(missing, "disk %s: '%s' does not exist here, and the sender does not copy "
                      "it (a read-only disk or CD must be shared)", d->vdev, d->target);
        return -1;
    }
    int64_t size = kx_json_int(e, "size", 0);
    const char *fmt = kx_json_str(e, "format", "");
    if (d->format != KXL_DISK_FMT_RAW && d->format != KXL_DISK_FMT_QCOW2) {
        kx_strv_pushf(missing, "disk %s: --copy-storage makes raw and qcow2 images only, not %s",
                      d->vdev, kxl_disk_format_to_string(d->format));
        return -1;
    }
    if (size <= 0 || !kx_streq(fmt, kxl_disk_format_to_string(d->format))) {
        kx_strv_pushf(missing, "disk %s: the sender's is a %s image of %lld bytes; this config "
                      "says %s", d->vdev, fmt, (long long)size,
                      kxl_disk_format_to_string(d->format));
        return -1;
    }
    AUTOFREE char *copy_path = kx_strdup(d->target);
    const char *dir = dirname(copy_path);
    struct statvfs vfs;
    if (statvfs(dir, &vfs) < 0) {
        kx_strv_pushf(missing, "disk %s: its directory '%s' does not exist here", d->vdev, dir);
        return -1;
    }
    unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
    if (avail < (unsigned long long)size) {
        kx_strv_pushf(missing, "disk %s: '%s' has %llu MiB free, the copy needs %lld MiB",
                      d->vdev, dir, avail >> 20, (long long)(size >> 20));
        return -1;
    }
    return 0;
}

/* The image is made under a name of this receive's own beside the disk's path, with O_EXCL,
 * and linked to that path (link fails where a file is) only once filled: what is removed
 * again on a failure was made here, and a file that appears meanwhile at the path is refused,
 * never overwritten (qemu-img create would truncate it) and never removed. The record
 * (migrate_made.c) names the temporary file before it exists and the image's identity before
 * the link, so a receiver killed at any step leaves only what the next reap removes. */
static int fill(const kxl_disk *d, int fd, const char *tmp, int64_t size)
{
    if (d->format != KXL_DISK_FMT_QCOW2) {
        if (ftruncate(fd, size) == 0)
            return 0;
        kx_err_errno(KXL_ERR_HOST, "disk %s: cannot make '%s'", d->vdev, tmp);
        return -1;
    }
    AUTOFREE char *bytes = kx_asprintf("%lld", (long long)size);
    char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", (char *)tmp, bytes, NULL};
    return kx_run(argv);
}

/* The made image, filled, goes on record with its identity, then to the disk's path. */
static int place(const kxl_paths *p, const char *name, const kxl_disk *d, int fd,
                 const char *tmp, kx_strv *entries)
{
    char *entry = migrate_made_entry(fd, tmp, d->target);
    if (!entry) {
        kx_err_errno(KXL_ERR_HOST, "disk %s: cannot stat '%s'", d->vdev, tmp);
        return -1;
    }
    free(entries->v[entries->n - 1]);
    entries->v[entries->n - 1] = entry;
    if (migrate_made_note(p, name, entries) < 0)
        return -1;
    if (link(tmp, d->target) == 0)
        return 0;
    if (errno == EEXIST)
        kx_err(KXL_ERR_EXISTS, "disk %s: '%s' appeared meanwhile: remove it, or migrate "
               "without copying that disk", d->vdev, d->target);
    else
        kx_err_errno(KXL_ERR_HOST, "disk %s: cannot make '%s'", d->vdev, d->target);
    return -1;
}

static int make_one(const kxl_paths *p, const char *name, const kxl_disk *d, int64_t size,
                    kx_strv *entries)
{
    const char *slash = strrchr(d->target, '/');
    int dir_len = slash ? (int)(slash - d->target) + 1 : 0;
    AUTOFREE char *tmp = kx_asprintf("%.*s.%s.kxl-incoming-%d", dir_len, d->target,
                                     d->target + dir_len, (int)getpid());
    kx_strv_take(entries, migrate_made_entry(-1, tmp, d->target));
    if (migrate_made_note(p, name, entries) < 0)
        return -1;
    AUTOCLOSE int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_HOST, "disk %s: cannot make '%s'", d->vdev, tmp);
        return -1;
    }
    int rc = fill(d, fd, tmp, size) < 0 ? -1 : place(p, name, d, fd, tmp, entries);
    unlink(tmp);   /* the image is at the disk's path now, or nowhere */
    return rc;
}

int migrate_storage_make(const kxl_paths *p, const kxl_domcfg *cfg, json_object *copy,
                         const kx_strv *vdevs, kx_strv *made)
{
    kx_strv entries = KX_STRV_INIT;
    for (size_t k = 0; k < vdevs->n; k++) {
        for (size_t i = 0; i < cfg->n_disks; i++) {
            const kxl_disk *d = &cfg->disks[i];
            if (d->unplugged || !d->target || !kx_streq(d->vdev, vdevs->v[k]))
                continue;
            if (make_one(p, cfg->name, d, kx_json_int(copy_entry(copy, d->vdev), "size", 0),
                         &entries) < 0) {
                migrate_storage_unmake(made);
                migrate_made_forget(p, cfg->name);
                kx_strv_dispose(&entries);
                return -1;
            }
            kx_strv_push(made, d->target);
        }
    }
    kx_strv_dispose(&entries);
    return 0;
}

void migrate_storage_unmake(kx_strv *made)
{
    for (size_t i = 0; i < made->n; i++)
        unlink(made->v[i]);
    kx_strv_dispose(made);
}

int migrate_storage_listen(const kxl_paths *p, const char *name)
{
    AUTOFREE char *path = kxl_domain_file(p, name, "mirror.sock");
    return kx_unix_listen(path, MIG_MUX_MAX_CHANNELS);
}

/* The relay runs in a program of its own: the caller may be threaded (kxld's migrate job,
 * once its API takes copy_storage or postcopy: today it passes neither), and a forked child of
 * a threaded process may not allocate until it execs, which a relay must. The child moves
 * the relay's descriptors to fixed numbers (MUX_FD + k, so its argv is made before the fork)
 * and execs this same program (kxl or kxld) as MIGRATE_MUX_ARG. */
enum { MUX_TRANSPORT_IN, MUX_TRANSPORT_OUT, MUX_CH0_IN, MUX_CH0_OUT, MUX_LISTEN, MUX_STREAM,
       MUX_NFDS };
#define MUX_FD 3
#define MUX_FD_HIGH 64   /* above MUX_FD + MUX_NFDS: moved there first, none overwrites another */

typedef struct {
    int fds[MUX_NFDS];   /* -1: none */
    char *const *argv;
} mux_exec;

static void exec_relay(void *arg, int in_fd, int out_fd)
{
    mux_exec *x = arg;
    int high[MUX_NFDS];
    x->fds[MUX_CH0_IN] = in_fd;
    x->fds[MUX_CH0_OUT] = out_fd;
    for (int k = 0; k < MUX_NFDS; k++)
        high[k] = x->fds[k] >= 0 ? fcntl(x->fds[k], F_DUPFD_CLOEXEC, MUX_FD_HIGH) : -1;
    for (int k = 0; k < MUX_NFDS; k++)
        if (high[k] >= 0 && dup2(high[k], MUX_FD + k) < 0)
            _exit(127);
    close_range(MUX_FD + MUX_NFDS, ~0U, 0);   /* the relay holds only its own */
    execv("/proc/self/exe", x->argv);
    kx_child_fail(STDERR_FILENO, "kxl: the migration's disk relay: cannot run it: ");
}

int migrate_mux_start(mig_mux *m, pid_t *pid_r, int *to_r, int *from_r)
{
    if (m->n >= MIG_MUX_MAX_CHANNELS) {
        kx_err(KXL_ERR_INVALID, "too many disks to copy (%zu, at most %d)", m->n,
               MIG_MUX_MAX_CHANNELS - 1);
        return -1;
    }
    AUTOFREE char *n = kx_asprintf("%zu", m->n);
    AUTOFREE char *ms = kx_asprintf("%d", m->connect_ms);
    char *path = (char *)(m->connect_path ? m->connect_path : "");
    char *ready = (char *)(m->ready_line ? m->ready_line : "");
    char *argv[] = {"kxl", MIGRATE_MUX_ARG, n, m->listen_fd >= 0 ? "1" : "0",
                    m->stream_fd >= 0 ? "1" : "0", ms, path, ready, NULL};
    mux_exec x = {{m->transport_in, m->transport_out, -1, -1, m->listen_fd, m->stream_fd}, argv};
    return kx_fork_piped(exec_relay, &x, "the migration's disk relay", pid_r, to_r, from_r);
}

/* One decimal argument of the relay's command line within [lo, hi], or -1. */
static long mux_arg(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

int migrate_mux_main(int argc, char **argv)
{
    long n = argc == 8 ? mux_arg(argv[2], 0, MIG_MUX_MAX_CHANNELS - 1) : -1;
    long listening = argc == 8 ? mux_arg(argv[3], 0, 1) : -1;
    long stream = argc == 8 ? mux_arg(argv[4], 0, 1) : -1;
    long ms = argc == 8 ? mux_arg(argv[5], 0, INT_MAX) : -1;
    if (n < 0 || listening < 0 || stream < 0 || ms < 0) {
        fprintf(stderr, "kxl: %s is for kxl's own use (the migration's disk relay)\n",
                MIGRATE_MUX_ARG);
        return -1;
    }
    mig_mux m = {.transport_in = MUX_FD + MUX_TRANSPORT_IN,
                 .transport_out = MUX_FD + MUX_TRANSPORT_OUT,
                 .ch0_in = MUX_FD + MUX_CH0_IN, .ch0_out = MUX_FD + MUX_CH0_OUT, .n = (size_t)n,
                 .listen_fd = listening ? MUX_FD + MUX_LISTEN : -1,
                 .connect_path = *argv[6] ? argv[6] : NULL, .connect_ms = (int)ms,
                 .ready_line = *argv[7] ? argv[7] : NULL,
                 .stream_fd = stream ? MUX_FD + MUX_STREAM : -1};
    if (mig_mux_run(&m) < 0) {
        fprintf(stderr, "kxl: the migration's disk relay: %s\n", kx_err_msg());
        return -1;
    }
    return 0;
}

void migrate_mux_end(pid_t pid, bool patient)
{
    if (pid <= 0)
        return;
    if (patient) {
        waitpid(pid, NULL, 0);
        return;
    }
    for (int i = 0; i < 500 && waitpid(pid, NULL, WNOHANG) == 0; i++)
        usleep(10000);
    if (waitpid(pid, NULL, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}
