/* migrate_storage.c - kxl migrate --copy-storage, what both commands do for it: the
 * receiver's check and making of the disks it lacks (empty, of the sender's size and format,
 * removed again if the migration fails before the go), and the relay of mig_mux.h in a child
 * process on each side, which from the MIG_COPY line on carries the protocol (channel 0) and
 * the NBD connections of the mirrors through the one transport. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

/* The file is made with O_EXCL in both formats, so that what is removed again on a failure
 * was made here: a file that appears meanwhile at that path is refused, never overwritten
 * (qemu-img create would truncate it) and never removed. Its record entry (migrate_made.c)
 * is written as soon as it exists, before it is filled: a receiver killed while qemu-img
 * runs leaves a file that the next receive removes. */
static int make_one(const kxl_paths *p, const char *name, const kxl_disk *d, int64_t size,
                    kx_strv *entries)
{
    AUTOCLOSE int fd = open(d->target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        kx_err(KXL_ERR_EXISTS, "disk %s: '%s' appeared meanwhile: remove it, or migrate "
               "without copying that disk", d->vdev, d->target);
        return -1;
    }
    AUTOFREE char *entry = fd >= 0 ? migrate_made_entry(fd, d->target) : NULL;
    if (entry)
        kx_strv_push(entries, entry);
    if (fd < 0 || !entry || migrate_made_note(p, name, entries) < 0 ||
        (d->format != KXL_DISK_FMT_QCOW2 && ftruncate(fd, size) < 0)) {
        kx_err_errno(KXL_ERR_HOST, "disk %s: cannot make '%s'", d->vdev, d->target);
        if (fd >= 0)
            unlink(d->target);
        return -1;
    }
    if (d->format != KXL_DISK_FMT_QCOW2)
        return 0;
    AUTOFREE char *bytes = kx_asprintf("%lld", (long long)size);
    char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", d->target, bytes, NULL};
    if (kx_run(argv) < 0) {
        unlink(d->target);
        return -1;
    }
    return 0;
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

static int mux_relay(void *arg, int in_fd, int out_fd)
{
    mig_mux *m = arg;
    m->ch0_in = in_fd;
    m->ch0_out = out_fd;
    return mig_mux_run(m);
}

int migrate_mux_start(mig_mux *m, pid_t *pid_r, int *to_r, int *from_r)
{
    return kx_fork_piped(mux_relay, m, "the migration's disk relay", pid_r, to_r, from_r);
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
