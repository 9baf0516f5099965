/* create_image.c - kxl create-image as a list of steps: the base system into a work tree
 * (from the cached template, or --install-source), this guest's settings, the role script,
 * the root and swap disks, then the disks renamed into place and the config written. What a
 * step makes is recorded, so a failure or a signal at any point removes all of it. */
#include "image/create_image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

void image_step(image_job *j, const char *fmt, ...)
{
    j->step++;
    if (!j->o->progress)
        return;
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    j->o->progress(j->step, j->steps, kx_buf_str(&b), j->o->progress_opaque);
    kx_buf_dispose(&b);
}

/* mkdir -p that records each directory it creates, so a failed run removes them again. */
static int mkdir_recorded(image_job *j, const char *path, mode_t mode)
{
    AUTOFREE char *p = kx_strdup(path);
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (!end && *s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, end ? mode : 0755) == 0)
            kx_strv_pushf(&j->made, "%s/", p);
        else if (errno != EEXIST) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot create directory '%s'", p);
            return -1;
        }
        if (end)
            return 0;
        *s = '/';
    }
}

static int refuse_existing(const image_opts *o, const char *path)
{
    if (!path || o->force || !kx_path_exists(path))
        return 0;
    kx_err(KXL_ERR_EXISTS, "'%s' exists (use --force to overwrite it)", path);
    return -1;
}

/* Where everything goes, checked before any work is done. */
static int plan_paths(image_job *j)
{
    const image_opts *o = j->o;
    image_result *r = j->r;
    if (o->lvm) {
        j->disk_final = kx_asprintf("/dev/%s/%s-disk", o->lvm, o->hostname);
        j->disk_tmp = kx_asprintf("%s-disk-kxlnew", o->hostname);
        if (o->swap_mib) {
            j->swap_final = kx_asprintf("/dev/%s/%s-swap", o->lvm, o->hostname);
            j->swap_tmp = kx_asprintf("%s-swap-kxlnew", o->hostname);
        }
    } else {
        const char *ext = o->format == IMG_FORMAT_QCOW2 ? "qcow2" : "img";
        j->domain_dir = kx_asprintf("%s/domains/%s", o->dir, o->hostname);
        j->disk_final = kx_asprintf("%s/disk.%s", j->domain_dir, ext);
        j->disk_tmp = kx_asprintf("%s/.disk.%s.kxl-new", j->domain_dir, ext);
        if (o->swap_mib) {
            j->swap_final = kx_asprintf("%s/swap.%s", j->domain_dir, ext);
            j->swap_tmp = kx_asprintf("%s/.swap.%s.kxl-new", j->domain_dir, ext);
        }
    }
    r->cfg_path = kx_asprintf("%s/%s.cfg", o->output, o->hostname);
    r->disk = kx_strdup(j->disk_final);
    r->swap = j->swap_final ? kx_strdup(j->swap_final) : NULL;
    r->mac = kx_strdup(o->mac);
    return refuse_existing(o, r->cfg_path) < 0 || refuse_existing(o, j->disk_final) < 0 ||
                   refuse_existing(o, j->swap_final) < 0
               ? -1
               : 0;
}

/* Work trees of runs that were killed (SIGKILL): create-image.HOST.PID.XXXXXX whose PID is
 * gone. */
static void remove_stale_work(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *last = strrchr(e->d_name, '.');
        const char *p = last;
        while (p && p > e->d_name && p[-1] != '.')
            p--;
        if (!kx_startswith(e->d_name, "create-image.") || !p || p == last)
            continue;
        long pid = strtol(p, NULL, 10);
        if (pid > 0 && !kx_pid_alive((pid_t)pid)) {
            AUTOFREE char *path = kx_path_join(tmp, e->d_name);
            image_rm_tree(path);
        }
    }
    closedir(d);
    kx_err_clear();
}

/* The directories, the lock on this guest and the work tree. */
static int prepare(image_job *j)
{
    const image_opts *o = j->o;
    if (plan_paths(j) < 0 || mkdir_recorded(j, o->output, 0755) < 0)
        return -1;
    if (j->domain_dir) {
        if (mkdir_recorded(j, j->domain_dir, 0755) < 0)
            return -1;
        j->domain_lock_fd = open(j->domain_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (j->domain_lock_fd < 0 || flock(j->domain_lock_fd, LOCK_EX | LOCK_NB) < 0) {
            kx_err(KXL_ERR_EXISTS, "another kxl create-image is making '%s' right now",
                   o->hostname);
            return -1;
        }
    }
    AUTOFREE char *tmp = kx_path_join(o->lib_dir, "tmp");
    if (kx_mkdir_p(tmp, 0700) < 0)
        return -1;
    remove_stale_work(tmp);
    j->work = kx_asprintf("%s/create-image.%s.%d.XXXXXX", tmp, o->hostname, (int)getpid());
    if (!mkdtemp(j->work)) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a directory in '%s'", tmp);
        free(j->work);
        j->work = NULL;
        return -1;
    }
    j->tree = kx_path_join(j->work, "root");
    j->root_uuid = image_random_uuid();
    j->swap_uuid = o->swap_mib ? image_random_uuid() : NULL;
    j->steps = (o->method == IMG_INSTALL_DEBOOTSTRAP ? 2 : 1) + 1 + (o->role != NULL) + 1 +
               (o->swap_mib > 0) + 1;
    return 0;
}

static int write_config(image_job *j)
{
    image_step(j, "Writing the domain config %s ...", j->r->cfg_path);
    if (image_interrupted() || image_disk_commit(j) < 0)
        return -1;
    AUTOFREE char *text = image_config_text(j->o, j->r);
    if (kx_write_file_atomic(j->r->cfg_path, text, strlen(text), 0644) < 0)
        return -1;
    kx_strv_push(&j->made, j->r->cfg_path);
    return 0;
}

static int run_steps(image_job *j)
{
    const image_opts *o = j->o;
    if (image_source_copy(j) < 0 || image_interrupted())
        return -1;
    if (image_install(j) < 0 || image_interrupted())
        return -1;
    if (o->role && (image_run_role(j) < 0 || image_interrupted()))
        return -1;
    if (image_disk_root(j) < 0 || image_interrupted())
        return -1;
    if (o->swap_mib && (image_disk_swap(j) < 0 || image_interrupted()))
        return -1;
    return write_config(j);
}

/* Removes what the run made, newest first, keeping the error that made it fail. */
static void undo(image_job *j)
{
    AUTOFREE char *msg = kx_strdup(kx_err_msg());
    kxl_errcode code = kx_err_code();
    for (size_t i = j->made.n; i-- > 0;) {
        const char *m = j->made.v[i];
        size_t n = strlen(m);
        if (kx_startswith(m, "lv:")) {
            image_cmd c = {.argv = (char *const[]){"lvremove", "-q", "-f", (char *)m + 3, NULL},
                           .cleanup = true};
            image_run(&c);
        } else if (n > 1 && m[n - 1] == '/') {
            rmdir(m);
        } else {
            unlink(m);
        }
    }
    kx_err(code, "%s", msg);
}

static void job_dispose(image_job *j)
{
    if (j->work) {
        AUTOFREE char *msg = kx_strdup(kx_err_msg());
        kxl_errcode code = kx_err_code();
        image_rm_tree(j->work);
        kx_err(code, "%s", msg);
    }
    if (j->domain_lock_fd >= 0)
        close(j->domain_lock_fd);
    if (j->template_lock_fd >= 0)
        close(j->template_lock_fd);
    char *strs[] = {j->work, j->tree, j->domain_dir, j->disk_final, j->swap_final,
                    j->disk_tmp, j->swap_tmp, j->root_uuid, j->swap_uuid, j->kernel};
    for (size_t i = 0; i < KX_ARRAY_SIZE(strs); i++)
        free(strs[i]);
    kx_strv_dispose(&j->made);
}

int image_job_run(const image_opts *o, bool private_mounts, image_result *r)
{
    memset(r, 0, sizeof(*r));
    image_job j = {.o = o, .r = r, .domain_lock_fd = -1, .template_lock_fd = -1,
                   .private_mounts = private_mounts};
    int rc = prepare(&j) == 0 && !image_interrupted() ? run_steps(&j) : -1;
    if (rc < 0)
        undo(&j);
    job_dispose(&j);
    if (rc < 0)
        image_result_dispose(r);
    return rc;
}

void image_result_dispose(image_result *r)
{
    if (r->password)
        explicit_bzero(r->password, strlen(r->password));
    free(r->cfg_path);
    free(r->disk);
    free(r->swap);
    free(r->mac);
    free(r->kernel);
    free(r->password);
    kx_strv_dispose(&r->fingerprints);
    double seconds = r->seconds;
    memset(r, 0, sizeof(*r));
    r->seconds = seconds;
}
