/* sv_fds.c - files QEMU needs after it has started. QEMU opens what its command line names as
 * root and then becomes an unprivileged user (-runas), which cannot open the host's images or
 * write a dump under var/lib/kxl. So the supervisor, still root, opens such files itself and
 * passes the descriptors over the monitor: images into an fd set (QEMU opens "/dev/fdset/N",
 * picking the descriptor with the access mode it needs), dumps by name (getfd). The same path
 * is taken when QEMU runs as root, so there is one way of doing it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

static int open_for_qemu(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0600);
    if (fd < 0)
        kx_err_errno(KXL_ERR_INVALID, "cannot open '%s'", path);
    return fd;
}

/* Adds fd to fd set *set_id (-1: a new set, whose id is stored there). */
static int add_fd(sv *s, int fd, const char *opaque, long long *set_id)
{
    json_object *a = json_object_new_object();
    if (*set_id >= 0)
        json_object_object_add(a, "fdset-id", json_object_new_int64(*set_id));
    json_object_object_add(a, "opaque", json_object_new_string(opaque));
    json_object *ret = NULL;
    if (qmp_execute_fd(s->qmp, "add-fd", a, fd, &ret, 5000) < 0)
        return -1;
    json_object *id = NULL;
    bool ok = json_object_object_get_ex(ret, "fdset-id", &id);
    if (ok)
        *set_id = json_object_get_int64(id);
    json_object_put(ret);
    if (!ok) {
        kx_err(KXL_ERR_QEMU, "QEMU's reply to add-fd has no fdset-id");
        return -1;
    }
    return 0;
}

static void remove_set(sv *s, long long set_id)
{
    json_object *a = json_object_new_object();
    json_object_object_add(a, "fdset-id", json_object_new_int64(set_id));
    qmp_execute(s->qmp, "remove-fd", a, NULL, 5000);
}

static long long set_of(const char *fdset)
{
    return fdset && kx_startswith(fdset, "/dev/fdset/") ? atoll(fdset + strlen("/dev/fdset/"))
                                                        : -1;
}

void sv_fdset_remove(sv *s, const char *fdset)
{
    if (set_of(fdset) >= 0)
        remove_set(s, set_of(fdset));
}

char *sv_fdset_open(sv *s, const char *path, const char *opaque)
{
    AUTOCLOSE int fd = open_for_qemu(path, O_RDONLY);
    return fd < 0 ? NULL : sv_fdset_add(s, &fd, 1, opaque);
}

char *sv_fdset_add(sv *s, const int *fds, size_t n, const char *opaque)
{
    long long set_id = -1;
    for (size_t i = 0; i < n; i++) {
        if (add_fd(s, fds[i], opaque, &set_id) < 0) {
            if (set_id >= 0)
                remove_set(s, set_id);
            return NULL;
        }
    }
    return kx_asprintf("/dev/fdset/%lld", set_id);
}

void sv_fdset_drop(sv *s, const char *opaque, const char *keep)
{
    json_object *sets = NULL;
    if (qmp_execute(s->qmp, "query-fdsets", NULL, &sets, 5000) < 0)
        return;
    for (size_t i = 0; i < json_object_array_length(sets); i++) {
        json_object *set = json_object_array_get_idx(sets, i), *fds = NULL, *id = NULL;
        if (!json_object_object_get_ex(set, "fdset-id", &id) ||
            !json_object_object_get_ex(set, "fds", &fds))
            continue;
        long long set_id = json_object_get_int64(id);
        bool ours = false;
        for (size_t k = 0; k < json_object_array_length(fds); k++)
            ours |= kx_streq(kx_json_str(json_object_array_get_idx(fds, k), "opaque", ""),
                             opaque);
        if (ours && set_id != set_of(keep))
            remove_set(s, set_id);
    }
    json_object_put(sets);
}

int sv_fd_give_for_writing(sv *s, const char *path, const char *fdname)
{
    AUTOCLOSE int fd = open_for_qemu(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW);
    return fd < 0 ? -1 : sv_fd_give(s, fd, fdname);
}

int sv_fd_give(sv *s, int fd, const char *fdname)
{
    json_object *g = json_object_new_object();
    json_object_object_add(g, "fdname", json_object_new_string(fdname));
    return qmp_execute_fd(s->qmp, "getfd", g, fd, NULL, 5000);
}
