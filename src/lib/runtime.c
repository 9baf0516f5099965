/* runtime.c - the runtime directory of domains: host-wide lock, name
 * reservation, domain ids, stale-state cleanup. */
#include "lib/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "lib/cgroup.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

static int lock_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open lock '%s'", path);
        return -1;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot lock '%s'", path);
            close(fd);
            return -1;
        }
    }
    return fd;
}

int runtime_lock(const kxl_paths *p)
{
    AUTOFREE char *path = kx_path_join(p->run_dir, ".lock");
    return lock_file(path);
}

bool runtime_is_live(const kxl_paths *p, const char *name)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    kx_status st;
    if (status_read(dir, &st) < 0) {
        kx_err_clear();
        return false;
    }
    /* during a create, sv_pid is the creating process until the supervisor runs */
    return status_qemu_alive(&st) || status_sv_alive(&st);
}

/* Marks a fresh directory as held by this process until its supervisor takes over. */
static int claim(const char *dir)
{
    kx_status st = {.state = KXL_STATE_STARTING, .sv_pid = getpid()};
    st.sv_start = kx_pid_starttime(st.sv_pid);
    if (status_write(dir, &st) < 0) {
        kx_rm_dir_flat(dir);
        return -1;
    }
    return 0;
}

int runtime_reserve_name(const kxl_paths *p, const char *name)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    if (mkdir(dir, 0700) == 0)
        return claim(dir);
    if (errno != EEXIST) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create '%s'", dir);
        return -1;
    }
    if (runtime_is_live(p, name)) {
        kx_err(KXL_ERR_EXISTS, "domain '%s' already exists", name);
        return -1;
    }
    kx_debug("removing stale runtime directory '%s'", dir);
    /* its QEMU is gone or a zombie whose last threads may still be exiting */
    if (cgroup_remove_recorded(dir, CGROUP_REMOVE_STALE_MS) < 0)
        kx_debug("%s", kx_err_msg());
    kx_err_clear();
    if (kx_rm_dir_flat(dir) < 0)
        return -1;
    if (mkdir(dir, 0700) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create '%s'", dir);
        return -1;
    }
    return claim(dir);
}

static bool is_half_created(const kxl_paths *p, const char *name)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    kx_status st;
    struct stat sb;
    /* only a directory is a domain's: kxld's socket and its lock live in run/kxl/ too */
    if (lstat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return false;
    if (status_read(dir, &st) < 0) {
        kx_err_clear();
        return true;           /* made, never claimed: the creator died in between */
    }
    return !st.domid && !status_qemu_alive(&st) && !status_sv_alive(&st);
}

int runtime_clear_half_created(const kxl_paths *p, const char *name)
{
    if (!is_half_created(p, name))
        return 0;
    /* again under the lock: a create holds it from mkdir until its claim is written */
    AUTOCLOSE int lock = runtime_lock(p);
    if (lock < 0)
        return -1;
    if (!is_half_created(p, name))
        return 0;
    kx_info("removing what a create of '%s' that was killed left behind", name);
    return runtime_remove(p, name) < 0 ? -1 : 1;
}

unsigned runtime_peek_domid(const kxl_paths *p)
{
    AUTOFREE char *path = kx_path_join(p->lib_dir, "domid");
    AUTOFREE char *text = kx_read_file(path, NULL);
    kx_err_clear();
    return (text ? (unsigned)strtoul(text, NULL, 10) : 0) + 1;
}

/* Whether a live domain other than name has a domain id whose QEMU jail uid is that of
 * domid (kxl_qemu_jail_uid: ids 65536 apart share one). */
static bool jail_uid_taken(const kxl_paths *p, const char *name, unsigned domid)
{
    DIR *d = opendir(p->run_dir);
    struct dirent *e;
    bool taken = false;
    while (!taken && d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !kxl_name_is_valid(e->d_name) || kx_streq(e->d_name, name))
            continue;
        AUTOFREE char *dir = kx_path_join(p->run_dir, e->d_name);
        kx_status st;
        if (status_read(dir, &st) == 0 && st.domid &&
            kxl_qemu_jail_uid(st.domid) == kxl_qemu_jail_uid(domid) &&
            (status_qemu_alive(&st) || status_sv_alive(&st)))
            taken = true;
        kx_err_clear();
    }
    if (d)
        closedir(d);
    return taken;
}

int runtime_take_domid(const kxl_paths *p, const char *name, unsigned *domid_r)
{
    /* no two live QEMUs share a jail uid: skip the ids whose uid is in use (a domain that
     * has lived through 65536 creates) */
    for (unsigned tries = 0; tries < 64; tries++) {
        if (runtime_next_domid(p, domid_r) < 0)
            return -1;
        if (!jail_uid_taken(p, name, *domid_r))
            return 0;
    }
    kx_err(KXL_ERR_HOST, "no free QEMU uid for a new domain: 64 domain ids in a row have theirs "
           "in use");
    return -1;
}

int runtime_next_domid(const kxl_paths *p, unsigned *domid_r)
{
    AUTOFREE char *path = kx_path_join(p->lib_dir, "domid");
    AUTOCLOSE int fd = lock_file(path);
    if (fd < 0)
        return -1;
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    unsigned last = n > 0 ? (unsigned)strtoul(buf, NULL, 10) : 0;
    int len = snprintf(buf, sizeof(buf), "%u\n", last + 1);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot update '%s'", path);
        return -1;
    }
    *domid_r = last + 1;
    return 0;
}

int runtime_remove(const kxl_paths *p, const char *name)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    return kx_rm_dir_flat(dir);
}

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

kxl_domcfg *runtime_read_config(const kxl_paths *p, const char *name)
{
    AUTOFREE char *path = kxl_domain_file(p, name, "domain.json");
    AUTOFREE char *text = kx_read_file(path, NULL);
    AUTOPTR(json_object) o = text ? kx_json_parse(text, path) : NULL;
    return o ? cfg_domcfg_from_json(o) : NULL;
}

int runtime_each_config(const kxl_paths *p, const char *skip,
                        int (*fn)(const char *name, const kxl_domcfg *cfg, void *opaque),
                        void *opaque)
{
    DIR *d = opendir(p->run_dir);
    struct dirent *e;
    int r = 0;
    while (r == 0 && d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !kxl_name_is_valid(e->d_name) || kx_streq(e->d_name, skip) ||
            !runtime_is_live(p, e->d_name))
            continue;
        AUTOPTR(kxl_domcfg) cfg = runtime_read_config(p, e->d_name);
        kx_err_clear();   /* a domain being created or removed has none: not ours to judge */
        if (cfg)
            r = fn(e->d_name, cfg, opaque);
    }
    if (d)
        closedir(d);
    return r;
}

int runtime_wait_gone(const kxl_paths *p, const char *name)
{
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    for (int i = 0; i < 150 && kx_path_exists(dir); i++)
        usleep(20000);
    if (kx_path_exists(dir)) {
        kx_err(KXL_ERR_INTERNAL, "domain '%s' did not go away", name);
        return -1;
    }
    return 0;
}
