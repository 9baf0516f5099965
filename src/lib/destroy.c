/* destroy.c - ending a domain at once. The supervisor does it when it runs;
 * without one (it was killed), QEMU is killed here and the directory removed. */
#include <signal.h>
#include <unistd.h>

#include "kxl/kxl.h"
#include "lib/cgroup.h"
#include "lib/control.h"
#include "lib/network.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

static int destroy_without_supervisor(const kxl_paths *p, const char *name, const kx_status *st)
{
    /* the pidfd first, while the pid is that QEMU's: its exit is complete (every thread gone,
     * so out of its cgroup) when the pidfd polls readable, even if its leader is a zombie
     * before that */
    AUTOCLOSE int pfd = status_qemu_alive(st) ? kx_pidfd_open(st->qemu_pid) : -1;
    if (pfd >= 0 && kx_pid_starttime(st->qemu_pid) == st->qemu_start) {
        kill(st->qemu_pid, SIGKILL);
        if (!kx_pidfd_wait(pfd, 10000)) {
            kx_err(KXL_ERR_INTERNAL, "QEMU of '%s' (pid %d) did not die", name, st->qemu_pid);
            return -1;
        }
    }
    network_forwarding_release(p, name);  /* its taps went with QEMU */
    AUTOFREE char *dir = kxl_domain_dir(p, name);
    /* QEMU's exit is complete (its pidfd polled): its groups are empty; one another domain is in
     * stays for that domain (said, not waited for) */
    if (cgroup_remove_recorded(dir, CGROUP_REMOVE_MS) < 0)
        kx_warn("destroy '%s': %s", name, kx_err_msg());
    kx_err_clear();
    return runtime_remove(p, name);
}

int kxl_domain_destroy(const kxl_paths *p, const char *name)
{
    kxl_dominfo info;
    /* what a create killed early leaves is not a domain, but destroy is what users reach
     * for to remove it */
    if (kxl_name_is_valid(name)) {
        int cleared = runtime_clear_half_created(p, name);
        if (cleared != 0)
            return cleared < 0 ? -1 : 0;
    }
    if (kxl_domain_lookup(p, name, &info) < 0)
        return -1;
    AUTOFREE char *dir = kxl_domain_dir(p, info.name);
    kx_status st;
    if (status_read(dir, &st) < 0)
        return -1;
    /* control_call adopts a domain whose supervisor was killed; only if even
     * that fails is QEMU killed from here */
    if (control_call(p, info.name, "destroy", NULL, NULL, 15000) < 0) {
        kx_info("destroying '%s' without its supervisor: %s", info.name, kx_err_msg());
        return destroy_without_supervisor(p, info.name, &st);
    }
    return runtime_wait_gone(p, info.name);
}

int kxl_console_connect(const kxl_paths *p, const char *name)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(p, name, &info) < 0)
        return -1;
    if (runtime_ensure_supervisor(p, info.name) < 0)
        return -1;
    AUTOFREE char *sock = kxl_domain_file(p, info.name, "console.sock");
    if (!kx_path_exists(sock)) {
        kx_err(KXL_ERR_STATE, "domain '%s' has no console: its config has no serial = \"pty\"",
               info.name);
        return -1;
    }
    return control_connect(p, info.name, "console.sock");
}
