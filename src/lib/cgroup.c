/* cgroup.c - each domain's QEMU in a cgroup of its own (cgroup.h). */
#include "lib/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fileio.h"

/* v1: the controllers a domain's group is made in, where the host mounts them */
static const char *const v1_controllers[] = {"cpu", "cpuacct", "memory", "blkio", "pids"};
/* v2: the controllers kxl.slice hands its children, where the root offers them */
static const char *const v2_controllers[] = {"cpu", "memory", "io", "pids"};

static const char *cgroup_root(void)
{
    const char *env = getenv("KXL_CGROUP_ROOT");
    return env && *env ? env : "/sys/fs/cgroup";
}

/* This process's group in the v1 hierarchy that has controller, from /proc/self/cgroup
 * ("4:memory:/a/b", "1:cpu,cpuacct:/"); "/" when it is not listed. Caller frees. */
static char *own_v1_group(const char *controller)
{
    AUTOFREE char *text = kx_read_file("/proc/self/cgroup", NULL);
    kx_err_clear();
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *ctrls = strchr(line, ':'), *path = ctrls ? strchr(ctrls + 1, ':') : NULL;
        if (!path)
            continue;
        *path++ = '\0';
        for (char *s2 = NULL, *c = strtok_r(ctrls + 1, ",", &s2); c; c = strtok_r(NULL, ",", &s2))
            if (strcmp(c, controller) == 0)
                return kx_strdup(path);
    }
    return kx_strdup("/");
}

int cgroup_locate(const char *name, kx_cgroup *cg_r)
{
    *cg_r = (kx_cgroup){KX_CGROUP_NONE, KX_STRV_INIT};
    const char *root = cgroup_root();
    AUTOFREE char *unified = kx_path_join(root, "cgroup.controllers");
    if (kx_path_exists(unified)) {
        cg_r->version = KX_CGROUP_V2;
        kx_strv_pushf(&cg_r->dirs, "%s/kxl.slice/kxl-%s.scope", root, name);
        return 0;
    }
    for (size_t i = 0; i < KX_ARRAY_SIZE(v1_controllers); i++) {
        AUTOFREE char *procs = kx_asprintf("%s/%s/cgroup.procs", root, v1_controllers[i]);
        if (!kx_path_exists(procs))
            continue;
        AUTOFREE char *own = own_v1_group(v1_controllers[i]);
        AUTOFREE char *dir = kx_asprintf("%s/%s%s/kxl/%s", root, v1_controllers[i],
                                         strcmp(own, "/") == 0 ? "" : own, name);
        cg_r->version = KX_CGROUP_V1;
        kx_strv_push(&cg_r->dirs, dir);
    }
    return 0;
}

/* One write, as the kernel takes a cgroup file's commands (O_APPEND: a fake tree of plain
 * files, in the tests, keeps every one). */
static int write_text(const char *path, const char *text)
{
    AUTOCLOSE int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        return -1;
    return 0;
}

/* kxl.slice hands its children what the root offers of the controllers kxl uses (the root
 * itself must have them in its subtree_control, which systemd does). */
static int v2_prepare_slice(const char *slice)
{
    if (mkdir(slice, 0755) < 0 && errno != EEXIST) {
        kx_err_errno(KXL_ERR_HOST, "cannot create the cgroup '%s'", slice);
        return -1;
    }
    AUTOFREE char *avail_path = kx_path_join(slice, "cgroup.controllers");
    AUTOFREE char *avail = kx_read_file(avail_path, NULL);
    kx_err_clear();
    AUTOFREE char *control = kx_path_join(slice, "cgroup.subtree_control");
    for (size_t i = 0; avail && i < KX_ARRAY_SIZE(v2_controllers); i++) {
        const char *c = v2_controllers[i];
        const char *hit = strstr(avail, c);
        size_t n = strlen(c);
        if (!hit || (hit != avail && hit[-1] != ' ') || (hit[n] && !strchr(" \n", hit[n])))
            continue;
        AUTOFREE char *plus = kx_asprintf("+%s\n", c);
        if (write_text(control, plus) < 0) {
            kx_err_errno(KXL_ERR_HOST, "cannot enable the %s controller in '%s'", c, control);
            return -1;
        }
    }
    return 0;
}

int cgroup_create(const kx_cgroup *cg)
{
    if (cg->version == KX_CGROUP_V2) {
        AUTOFREE char *slice = kx_strdup(cg->dirs.v[0]);
        *strrchr(slice, '/') = '\0';
        if (v2_prepare_slice(slice) < 0)
            return -1;
    }
    for (size_t i = 0; i < cg->dirs.n; i++) {
        if (kx_mkdir_p(cg->dirs.v[i], 0755) < 0) {
            kx_err_errno(KXL_ERR_HOST, "cannot create the cgroup '%s'", cg->dirs.v[i]);
            return -1;
        }
    }
    return 0;
}

int cgroup_enter(const kx_cgroup *cg)
{
    char path[4096];
    for (size_t i = 0; i < cg->dirs.n; i++) {
        int n = snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dirs.v[i]);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) < 0) {      /* "0": the writing process itself */
            int e = errno;
            if (fd >= 0)
                close(fd);
            errno = e;
            return -1;
        }
        close(fd);
    }
    return 0;
}

int cgroup_save(const kx_cgroup *cg, const char *dir)
{
    AUTOFREE char *path = kx_path_join(dir, "cgroup");
    AUTOFREE char *text = kx_strv_join(&cg->dirs, "\n");
    AUTOFREE char *line = kx_asprintf("%s\n", text ? text : "");
    return kx_write_file_atomic(path, line, strlen(line), 0600);
}

int cgroup_load(const char *dir, kx_cgroup *cg_r)
{
    *cg_r = (kx_cgroup){KX_CGROUP_NONE, KX_STRV_INIT};
    AUTOFREE char *path = kx_path_join(dir, "cgroup");
    AUTOFREE char *text = kx_read_file(path, NULL);
    if (!text)
        return -1;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        if (l[0] == '/')
            kx_strv_push(&cg_r->dirs, l);
    cg_r->version = cg_r->dirs.n == 1 && strstr(cg_r->dirs.v[0], "/kxl.slice/") ? KX_CGROUP_V2
                                                                               : KX_CGROUP_V1;
    return 0;
}

/* The pids listed in the group at dir's cgroup.procs, space-separated (for a message), or
 * NULL when it lists none or cannot be read. */
static char *group_pids(const char *dir)
{
    AUTOFREE char *path = kx_path_join(dir, "cgroup.procs");
    AUTOFREE char *procs = kx_read_file(path, NULL);
    kx_err_clear();
    if (!procs || !procs[strspn(procs, " \n")])
        return NULL;
    for (char *c = procs; *c; c++)
        if (*c == '\n')
            *c = ' ';
    size_t n = strlen(procs);
    while (n && procs[n - 1] == ' ')
        procs[--n] = '\0';
    return TAKE_PTR(procs);
}

/* rmdir of one group: 1 gone (or never made), 0 still in use, -1 another failure (errno). A
 * group with a process in it is EBUSY; ENOTEMPTY is the same on a tree of plain files. */
static int remove_one(const char *dir)
{
    if (rmdir(dir) == 0 || errno == ENOENT)
        return 1;
    return errno == EBUSY || errno == ENOTEMPTY ? 0 : -1;
}

int cgroup_remove(const kx_cgroup *cg, int wait_ms)
{
    /* one deadline for every directory: the same processes are in all of them (v1 has a
     * group per controller), so waiting per directory would only multiply the wait */
    long long deadline = kx_mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    for (;;) {
        const char *busy = NULL;
        for (size_t i = 0; i < cg->dirs.n; i++) {
            int r = remove_one(cg->dirs.v[i]);
            if (r < 0) {
                kx_err_errno(KXL_ERR_HOST, "cannot remove the cgroup '%s'", cg->dirs.v[i]);
                return -1;
            }
            if (r == 0 && !busy)
                busy = cg->dirs.v[i];
        }
        if (!busy)
            return 0;
        if (kx_mono_ms() >= deadline) {
            AUTOFREE char *pids = group_pids(busy);
            if (pids)
                kx_err(KXL_ERR_BUSY, "the cgroup '%s' is left in place: process %s is in it "
                       "(a domain of the same name under another KXL_ROOT?), and the group "
                       "goes when that domain ends", busy, pids);
            else
                kx_err(KXL_ERR_BUSY, "the cgroup '%s' is left in place: it is still in use "
                       "(a child group?); remove it with rmdir once it is empty", busy);
            return -1;
        }
        usleep(10000);
    }
}
int cgroup_rename(kx_cgroup *cg, const char *new_name, const char *dir)
{
    kx_cgroup to;
    cgroup_locate(new_name, &to);
    int r = 0;
    for (size_t i = 0; i < cg->dirs.n && i < to.dirs.n; i++) {
        /* the same parent: only the last part changes */
        AUTOFREE char *parent = kx_strdup(cg->dirs.v[i]);
        *strrchr(parent, '/') = '\0';
        const char *last = strrchr(to.dirs.v[i], '/');
        AUTOFREE char *target = kx_asprintf("%s%s", parent, last);
        if (rename(cg->dirs.v[i], target) < 0) {
            kx_err_errno(KXL_ERR_HOST, "cannot rename the cgroup '%s'", cg->dirs.v[i]);
            r = -1;
            continue;
        }
        free(cg->dirs.v[i]);
        cg->dirs.v[i] = TAKE_PTR(target);
    }
    cgroup_dispose(&to);
    return cgroup_save(cg, dir) < 0 ? -1 : r;
}

int cgroup_remove_recorded(const char *dir, int wait_ms)
{
    kx_cgroup cg;
    if (cgroup_load(dir, &cg) < 0) {
        kx_err_clear();      /* none recorded: a domain from before cgroups, or no host's */
        cgroup_dispose(&cg);
        return 0;
    }
    int r = cgroup_remove(&cg, wait_ms);
    cgroup_dispose(&cg);
    return r;
}

void cgroup_dispose(kx_cgroup *cg)
{
    kx_strv_dispose(&cg->dirs);
    cg->version = KX_CGROUP_NONE;
}

unsigned cgroup_weight_v2(unsigned xl_weight)
{
    /* rounded to the nearest: 256 -> 100, 128 -> 50, 1 -> 1 */
    unsigned long long w = ((unsigned long long)xl_weight * 100 + 128) / 256;
    return w < 1 ? 1 : w > 10000 ? 10000 : (unsigned)w;
}

unsigned cgroup_shares_v1(unsigned xl_weight)
{
    unsigned long long s = (unsigned long long)xl_weight * 4;
    return s < 2 ? 2 : s > 262144 ? 262144 : (unsigned)s;
}

/* Writes text into file name of dir; -1 with kx_err. */
static int set_file(const char *dir, const char *name, const char *text)
{
    AUTOFREE char *path = kx_path_join(dir, name);
    if (write_text(path, text) == 0)
        return 0;
    kx_err_errno(KXL_ERR_HOST, "cannot write '%s' into '%s'", text, path);
    return -1;
}

/* The domain's group that has the CPU controller's file probe, or NULL with kx_err. */
static const char *cpu_dir(const kx_cgroup *cg, const char *probe)
{
    for (size_t i = 0; i < cg->dirs.n; i++) {
        AUTOFREE char *path = kx_path_join(cg->dirs.v[i], probe);
        if (kx_path_exists(path))
            return cg->dirs.v[i];
    }
    kx_err(KXL_ERR_HOST, "the domain's cgroup has no CPU controller (no %s in %s)", probe,
           cg->dirs.n ? cg->dirs.v[0] : "any group: the host has no cgroup file system");
    return NULL;
}

int cgroup_set_cpu(const kx_cgroup *cg, unsigned weight, unsigned cap)
{
    bool v2 = cg->version == KX_CGROUP_V2;
    const char *dir = cpu_dir(cg, v2 ? "cpu.weight" : "cpu.shares");
    if (!dir)
        return -1;
    unsigned long long quota = (unsigned long long)cap * CGROUP_CAP_PERIOD_US / 100;
    if (v2) {
        AUTOFREE char *w = kx_asprintf("%u\n", cgroup_weight_v2(weight));
        AUTOFREE char *max = cap ? kx_asprintf("%llu %u\n", quota, CGROUP_CAP_PERIOD_US)
                                 : kx_asprintf("max %u\n", CGROUP_CAP_PERIOD_US);
        return set_file(dir, "cpu.weight", w) < 0 || set_file(dir, "cpu.max", max) < 0 ? -1 : 0;
    }
    AUTOFREE char *shares = kx_asprintf("%u\n", cgroup_shares_v1(weight));
    AUTOFREE char *period = kx_asprintf("%u\n", CGROUP_CAP_PERIOD_US);
    AUTOFREE char *q = cap ? kx_asprintf("%llu\n", quota) : kx_strdup("-1\n");
    return set_file(dir, "cpu.shares", shares) < 0 || set_file(dir, "cpu.cfs_period_us", period) < 0 ||
                   set_file(dir, "cpu.cfs_quota_us", q) < 0
               ? -1
               : 0;
}
