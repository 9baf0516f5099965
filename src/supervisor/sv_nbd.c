/* sv_nbd.c - kxl migrate --copy-storage, the receiving side: the disks the receiving command
 * made empty (the same size and format as the sender's) are exported writable by QEMU's own
 * NBD server while the domain waits for its stream, for the sender's mirrors (sv_mirror.c).
 * The server listens only on a Unix socket of the runtime directory (0600, root's), which the
 * receiving command's relay connects to (mig_mux.h): the disks travel through the
 * migration's encrypted transport, never through a listener on the network. Exporting the
 * nodes makes QEMU take them for writing at once; the sender's copy of each is not open
 * for writing by this QEMU's guest until the go. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "qemu/qemu_disk.h"
#include "supervisor/sv.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/sock.h"
#include "util/json.h"

#define NBD_FDNAME "kxl-nbd"

static const kxl_disk *find_disk(sv *s, const char *vdev, size_t *index_r)
{
    for (size_t i = 0; vdev && i < s->cfg->n_disks; i++) {
        const kxl_disk *d = &s->cfg->disks[i];
        if (!d->unplugged && d->target && !d->cdrom && !d->readonly && kx_streq(d->vdev, vdev)) {
            *index_r = i;
            return d;
        }
    }
    kx_err(KXL_ERR_INVALID, "domain '%s' has no writable disk '%s' to receive", s->name,
           vdev ? vdev : "?");
    return NULL;
}

static int export_one(sv *s, const char *vdev)
{
    size_t i;
    if (!find_disk(s, vdev, &i))
        return -1;
    char node[QEMU_DISK_NODE_MAX];
    qemu_disk_node(i, node);
    AUTOFREE char *id = kx_asprintf(NBD_FDNAME "-%s", vdev);
    json_object *a = sv_obj2("type", "nbd", "id", id);
    json_object_object_add(a, "node-name", json_object_new_string(node));
    json_object_object_add(a, "name", json_object_new_string(vdev));
    json_object_object_add(a, "writable", json_object_new_boolean(true));
    return qmp_execute(s->qmp, "block-export-add", a, NULL, 10000);
}

/* QEMU's NBD server on the listening socket fd (QEMU gets its own copy). */
static int server_start(sv *s, int fd)
{
    if (sv_fd_give(s, fd, NBD_FDNAME) < 0)
        return -1;
    json_object *addr = json_object_new_object(), *data = json_object_new_object();
    json_object_object_add(data, "str", json_object_new_string(NBD_FDNAME));
    json_object_object_add(addr, "type", json_object_new_string("fd"));
    json_object_object_add(addr, "data", data);
    json_object *a = json_object_new_object();
    json_object_object_add(a, "addr", addr);
    return qmp_execute(s->qmp, "nbd-server-start", a, NULL, 10000);
}

int sv_nbd_export(sv *s, json_object *vdevs)
{
    AUTOFREE char *tmp = kx_asprintf("%s/nbd.sock.new", s->dir);
    AUTOFREE char *path = kx_asprintf("%s/nbd.sock", s->dir);
    AUTOCLOSE int fd = kx_unix_listen(tmp, 16);
    if (fd < 0)
        return -1;
    if (server_start(s, fd) < 0) {
        unlink(tmp);
        return -1;
    }
    s->nbd_disks = json_object_get(vdevs);
    for (size_t k = 0; k < json_object_array_length(vdevs); k++)
        if (export_one(s, json_object_get_string(json_object_array_get_idx(vdevs, k))) < 0)
            goto undo_server;
    /* the relay connects once this name exists: every disk is exported by then */
    if (rename(tmp, path) < 0) {
        kx_err_errno(KXL_ERR_HOST, "cannot rename '%s'", tmp);
        goto undo_server;
    }
    sv_event(s, "migrate: QEMU's NBD server exports %s for their copy",
             json_object_to_json_string(vdevs));
    return 0;

undo_server: {
        kxl_errcode code = kx_err_code();
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        sv_nbd_stop(s);
        unlink(tmp);
        kx_err(code, "%s", why);
        return -1;
    }
}

bool sv_nbd_busy(sv *s)
{
    long long blocks = 0;
    size_t n = s->nbd_disks ? json_object_array_length(s->nbd_disks) : 0;
    for (size_t k = 0; k < n; k++) {
        size_t i;
        struct stat st;
        const kxl_disk *d =
            find_disk(s, json_object_get_string(json_object_array_get_idx(s->nbd_disks, k)), &i);
        if (d && stat(d->target, &st) == 0)
            blocks += (long long)st.st_blocks + (long long)st.st_mtime;
    }
    kx_err_clear();
    bool busy = blocks != s->nbd_blocks;
    s->nbd_blocks = blocks;
    return busy;
}

void sv_nbd_stop(sv *s)
{
    if (!s->nbd_disks)
        return;
    AUTOFREE char *path = kx_asprintf("%s/nbd.sock", s->dir);
    unlink(path);
    if (s->qmp && qmp_execute(s->qmp, "nbd-server-stop", NULL, NULL, 10000) < 0)
        sv_event(s, "migrate: cannot stop QEMU's NBD server: %s", kx_err_msg());
    json_object_put(s->nbd_disks);
    s->nbd_disks = NULL;
}
