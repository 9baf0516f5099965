/* host.c - facts about the host: can KVM run a normal guest, how many CPUs,
 * which QEMU. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kxl/kxl.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* vmx/svm in the CPU flags: without them /dev/kvm may exist (a paravirtual
 * KVM such as PVM) and still hang an ordinary guest kernel. */
static bool cpu_has_virt_flags(void)
{
    AUTOFREE char *info = kx_read_file("/proc/cpuinfo", NULL);
    if (!info) {
        kx_err_clear();
        return false;
    }
    char *save = NULL;   /* strtok_r: kxld calls this from several threads */
    for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!kx_startswith(line, "flags"))
            continue;
        return strstr(line, " vmx") || strstr(line, " svm");
    }
    return false;
}

bool kxl_kvm_usable(char **why_r)
{
    const char *why = NULL;
    AUTOCLOSE int fd = -1;
    if (!cpu_has_virt_flags())
        why = "the CPU has no vmx/svm flag, so /dev/kvm cannot run a normal guest here";
    else if ((fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
        why = errno == ENOENT ? "/dev/kvm does not exist" : "/dev/kvm cannot be opened";
    else if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        why = "/dev/kvm speaks an unexpected API version";
    if (why_r)
        *why_r = kx_strdup(why ? why : "vmx/svm present and /dev/kvm usable");
    return why == NULL;
}

int kxl_accel_resolve(kxl_accel want, kxl_accel *got_r, char **notice_r)
{
    *notice_r = NULL;
    if (want == KXL_ACCEL_TCG) {
        *got_r = KXL_ACCEL_TCG;
        return 0;
    }
    if (want == KXL_ACCEL_KVM) {
        if (access("/dev/kvm", R_OK | W_OK) < 0) {
            kx_err_errno(KXL_ERR_INVALID, "accel = \"kvm\" but /dev/kvm is not usable");
            return -1;
        }
        *got_r = KXL_ACCEL_KVM;
        return 0;
    }
    AUTOFREE char *why = NULL;
    if (kxl_kvm_usable(&why)) {
        *got_r = KXL_ACCEL_KVM;
        return 0;
    }
    *got_r = KXL_ACCEL_TCG;
    *notice_r = kx_asprintf("kxl: using TCG (software emulation): %s", why);
    return 0;
}

unsigned kxl_host_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? (unsigned)n : 1;
}

char *kxl_qemu_binary(void)
{
    const char *env = getenv("KXL_QEMU");
    if (env && *env)
        return kx_strdup(env);
    const char *path = getenv("PATH");
    AUTOFREE char *dirs = kx_strdup(path && *path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *p = kx_path_join(d, "qemu-system-x86_64");
        if (access(p, X_OK) == 0)
            return p;
        free(p);
    }
    return kx_strdup("/usr/bin/qemu-system-x86_64");
}

unsigned kxl_qemu_jail_uid(unsigned domid)
{
    return KXL_QEMU_JAIL_UID_BASE + domid % KXL_QEMU_JAIL_UIDS;
}

char *kxl_qemu_user(char **why_r)
{
    *why_r = NULL;
    const char *env = getenv("KXL_QEMU_USER");
    const char *name = env && *env ? env : "kxl-qemu";
    if (strcmp(name, "root") == 0) {
        *why_r = kx_strdup("KXL_QEMU_USER=root");
        return NULL;
    }
    struct passwd pw, *found = NULL;
    char buf[4096];
    if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) != 0 || !found) {
        *why_r = kx_asprintf("there is no user '%s' (tools/install-deps.sh creates it)", name);
        return NULL;
    }
    if (found->pw_uid == 0) {
        *why_r = kx_asprintf("user '%s' is root", name);
        return NULL;
    }
    return kx_strdup(name);
}
