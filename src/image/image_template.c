/* image_template.c - the cached base system of a dist and arch: the first image debootstraps
 * into ROOT/var/lib/kxl/templates/DIST-ARCH/root (then renamed into place whole, so a
 * template is either complete or absent), later ones copy it. A lock file next to it keeps
 * two runs from building it at once, and a copy from racing a --refresh. */
#include "image/image_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fileio.h"

/* What a guest needs beyond debootstrap's minbase: a kernel and initramfs that pygrub's
 * replacement can boot, systemd, the network (ifupdown, DHCP) and an SSH server. */
static const char base_packages[] =
    "systemd-sysv,udev,kmod,initramfs-tools,openssh-server,ifupdown,isc-dhcp-client,"
    "iproute2,netbase,iputils-ping,procps,less";

static const char *kernel_package(const char *arch)
{
    return strcmp(arch, "i386") == 0 ? "linux-image-686-pae" : "linux-image-cloud-amd64";
}

/* Takes the template's lock (LOCK_SH or LOCK_EX), saying so when it has to wait. */
static int lock_template(int fd, int how, const char *name)
{
    if (flock(fd, how | LOCK_NB) == 0)
        return 0;
    kx_notice("kxl: waiting for another create-image to finish with the %s template", name);
    while (flock(fd, how) < 0) {
        if (errno != EINTR) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot lock the %s template", name);
            return -1;
        }
        if (image_interrupted())
            return -1;
    }
    return 0;
}

/* Leftovers of runs that were killed (SIGKILL) while building: we hold the lock, so
 * every ".NAME.*" directory is one. */
static void remove_stale(const char *dir, const char *name)
{
    AUTOFREE char *prefix = kx_asprintf(".%s.", name);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (kx_startswith(e->d_name, prefix)) {
            AUTOFREE char *p = kx_path_join(dir, e->d_name);
            image_rm_tree(p);
        }
    }
    closedir(d);
    kx_err_clear();
}

static int write_apt_sources(const image_opts *o, const char *root)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_printf(&b, "deb %s %s main\n", o->mirror, o->dist);
    bool rolling = !strcmp(o->dist, "sid") || !strcmp(o->dist, "unstable") ||
                   !strcmp(o->dist, "testing") || !strcmp(o->dist, "experimental");
    size_t n = strlen(o->mirror);
    if (!rolling) {
        kx_buf_printf(&b, "deb %s %s-updates main\n", o->mirror, o->dist);
        if (n > 7 && strcmp(o->mirror + n - 7, "/debian") == 0)
            kx_buf_printf(&b, "deb %s-security %s-security main\n", o->mirror, o->dist);
    }
    int r = image_tree_write(root, "etc/apt/sources.list", kx_buf_str(&b), 0644);
    kx_buf_dispose(&b);
    return r;
}

/* What every guest gets fresh is taken out of the template: SSH host keys, the machine id,
 * downloaded packages and indexes. */
static int clean_template(const image_opts *o, const char *root)
{
    static const char *const rm[] = {
        "etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_rsa_key.pub",
        "etc/ssh/ssh_host_ecdsa_key", "etc/ssh/ssh_host_ecdsa_key.pub",
        "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ed25519_key.pub",
        "var/lib/dbus/machine-id", "etc/hostname",
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(rm); i++)
        if (image_tree_unlink(root, rm[i]) < 0)
            return -1;
    AUTOFREE char *archives = kx_path_join(root, "var/cache/apt/archives");
    AUTOFREE char *lists = kx_path_join(root, "var/lib/apt/lists");
    if (image_runl(o, "find", archives, lists, "-maxdepth", "1", "-type", "f", "(", "-name",
                   "*.deb", "-o", "-name", "*_*", ")", "-delete", NULL) < 0)
        return -1;
    if (image_tree_write(root, "etc/machine-id", "", 0444) < 0 ||
        image_tree_write(root, "etc/resolv.conf", "", 0644) < 0)
        return -1;
    return write_apt_sources(o, root);
}

/* debootstrap's own words when the archive could not be reached, as opposed to a bad dist,
 * a full disk or a package that fails to install: only these are worth another attempt. */
static bool download_failed(const char *msg)
{
    return strstr(msg, "Failed getting release file") || strstr(msg, "Couldn't download") ||
           strstr(msg, "Failed getting release signature file");
}

static int debootstrap_once(image_job *j, const char *tmp_root)
{
    const image_opts *o = j->o;
    AUTOFREE char *include = kx_asprintf("--include=%s,%s", base_packages, kernel_package(o->arch));
    AUTOFREE char *arch = kx_asprintf("--arch=%s", o->arch);
    AUTOFREE char *what = kx_asprintf("debootstrap %s", o->dist);
    image_cmd c = {
        .argv = (char *const[]){"debootstrap", "--variant=minbase", arch, include, o->dist,
                                (char *)tmp_root, o->mirror, NULL},
        .what = what,
        .env = (char *const[]){"DEBIAN_FRONTEND=noninteractive", NULL},
        .verbose = o->verbose,
    };
    return image_run(&c);
}

/* A mirror that drops a connection now and then must not cost the administrator a
 * 10-minute run: a failed download is tried twice more, from an empty root each time. */
static int debootstrap(image_job *j, const char *tmp_root)
{
    static const unsigned wait_seconds[] = {5, 20};
    for (unsigned attempt = 0;; attempt++) {
        if (debootstrap_once(j, tmp_root) == 0)
            return 0;
        if (attempt >= KX_ARRAY_SIZE(wait_seconds) || !download_failed(kx_err_msg()))
            return -1;
        kx_warn("%s; trying again in %u s (attempt %u of %zu)", kx_err_msg(),
                wait_seconds[attempt], attempt + 2, KX_ARRAY_SIZE(wait_seconds) + 1);
        image_rm_tree(tmp_root);
        for (unsigned s = 0; s < wait_seconds[attempt]; s++) {
            if (image_interrupted())
                return -1;
            sleep(1);
        }
    }
}

/* Builds NAME under templates/.NAME.XXXXXX, then renames it over templates/NAME. */
static int build_template(image_job *j, const char *dir, const char *name, const char *final)
{
    const image_opts *o = j->o;
    AUTOFREE char *tmp = kx_asprintf("%s/.%s.XXXXXX", dir, name);
    if (!mkdtemp(tmp)) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a directory in '%s'", dir);
        return -1;
    }
    chmod(tmp, 0755);
    AUTOFREE char *root = kx_path_join(tmp, "root");
    double start = kx_mono_s();
    int r = debootstrap(j, root);
    if (r == 0)
        r = clean_template(o, root);
    j->r->template_seconds = kx_mono_s() - start;
    if (r == 0) {
        time_t t = time(NULL);
        char date[64];
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
        AUTOFREE char *info_path = kx_path_join(tmp, "info");
        AUTOFREE char *info = kx_asprintf("dist=%s\narch=%s\nmirror=%s\nbuilt=%s\nseconds=%.0f\n",
                                          o->dist, o->arch, o->mirror, date,
                                          j->r->template_seconds);
        r = kx_write_file_atomic(info_path, info, strlen(info), 0644);
    }
    AUTOFREE char *old = kx_asprintf("%s/.%s.old", dir, name);
    if (r == 0 && kx_path_exists(final) && rename(final, old) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot move '%s' aside", final);
        r = -1;
    }
    if (r == 0 && rename(tmp, final) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot rename '%s' to '%s'", tmp, final);
        rename(old, final);
        r = -1;
    }
    image_rm_tree(old);
    image_rm_tree(tmp);
    return r;
}

/* "built 2025-05-20 10:00:00 UTC" from the template's info file, or "". */
static char *built_when(const char *final)
{
    AUTOFREE char *path = kx_path_join(final, "info");
    AUTOFREE char *info = kx_read_file(path, NULL);
    kx_err_clear();
    const char *b = info ? strstr(info, "built=") : NULL;
    return b ? kx_asprintf(", built %.*s", (int)strcspn(b + 6, "\n"), b + 6) : kx_strdup("");
}

int image_template_copy(image_job *j)
{
    const image_opts *o = j->o;
    AUTOFREE char *dir = kx_path_join(o->lib_dir, "templates");
    AUTOFREE char *name = kx_asprintf("%s-%s", o->dist, o->arch);
    AUTOFREE char *final = kx_path_join(dir, name);
    AUTOFREE char *lock_path = kx_asprintf("%s.lock", final);
    AUTOFREE char *root = kx_path_join(final, "root");
    AUTOFREE char *boot = kx_path_join(root, "boot");
    if (kx_mkdir_p(dir, 0700) < 0)
        return -1;
    j->template_lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (j->template_lock_fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s'", lock_path);
        return -1;
    }
    /* shared while it is used; exclusive only to build it */
    int fd = j->template_lock_fd;
    if (lock_template(fd, o->refresh ? LOCK_EX : LOCK_SH, name) < 0)
        return -1;
    if (!o->refresh && !kx_path_exists(boot) && lock_template(fd, LOCK_EX, name) < 0)
        return -1;
    j->r->from_cache = kx_path_exists(boot) && !o->refresh;   /* built meanwhile? */
    if (j->r->from_cache) {
        AUTOFREE char *when = built_when(final);
        image_step(j, "Using the cached %s template (%s%s)", name, final, when);
    } else {
        image_step(j, "debootstrap %s (%s) from %s into the template cache %s ...", o->dist,
                   o->arch, o->mirror, final);
        remove_stale(dir, name);
        if (build_template(j, dir, name, final) < 0)
            return -1;
    }
    if (lock_template(fd, LOCK_SH, name) < 0)
        return -1;
    image_step(j, "Preparing a work tree over the template ...");
    return image_base_tree(j, root);
}
