/* forwarding.c - IPv4 forwarding, which routed and NAT networks and vif-route need: kxl turns
 * it on, remembers the value it found, and puts that back once the last of them is gone, so
 * a host that did not forward before kxl does not keep forwarding after it. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/network.h"
#include "lib/runtime.h"
#include "net/sysctl.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

#define FORWARD "ipv4/ip_forward"

static char *saved_file(const kxl_paths *p)
{
    return kx_asprintf("%s/.networks/.ip_forward", p->run_dir);
}

/* Turning forwarding on and deciding to put it back read and write the same state: one at
 * a time, or a domain starting while another ends could be left without forwarding. */
static int lock_forwarding(const kxl_paths *p)
{
    AUTOFREE char *dir = kx_asprintf("%s/.networks", p->run_dir);
    AUTOFREE char *path = kx_asprintf("%s/.ip_forward.lock", dir);
    if (kx_mkdir_p(dir, 0700) < 0)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot lock '%s'", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int network_forwarding_on(const kxl_paths *p)
{
    AUTOCLOSE int lock = lock_forwarding(p);
    AUTOFREE char *saved = saved_file(p);
    AUTOFREE char *was = NULL;
    if (lock < 0)
        return -1;
    if (!kx_path_exists(saved)) {
        if (net_sysctl_get(FORWARD, &was) < 0 ||
            kx_write_file_atomic(saved, was, strlen(was), 0600) < 0)
            return -1;
    }
    return net_sysctl_set(FORWARD, "1");
}

/* A started network that forwards (routed or NAT), by its state file. */
static bool forwarding_network_started(const kxl_paths *p)
{
    AUTOFREE char *dir = kx_asprintf("%s/.networks", p->run_dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    while (!found && d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        AUTOPTR(kxl_network) n = network_find(p, e->d_name);
        found = n && (n->type == KXL_NET_ROUTE || n->type == KXL_NET_NAT);
    }
    if (d)
        closedir(d);
    kx_err_clear();
    return found;
}

static int uses_vif_route(const char *name, const kxl_domcfg *cfg, void *opaque)
{
    (void)name;
    (void)opaque;
    for (size_t i = 0; i < cfg->n_vifs; i++)
        if (!cfg->vifs[i].unplugged && kx_streq(cfg->vifs[i].script, "vif-route"))
            return 1;
    return 0;
}

void network_forwarding_release(const kxl_paths *p, const char *gone)
{
    AUTOFREE char *saved = saved_file(p);
    /* nothing kxl turned on (most domains' end): no lock, no directory made for it; one
     * turned on meanwhile belongs to a live domain, which keeps it anyway */
    if (!kx_path_exists(saved))
        return;
    AUTOCLOSE int lock = lock_forwarding(p);
    if (lock < 0) {
        kx_err_clear();
        return;
    }
    AUTOFREE char *was = kx_read_file(saved, NULL);
    kx_err_clear();
    /* GONE still looks live while its supervisor tears it down: its vifs do not count */
    if (!was || forwarding_network_started(p) || runtime_each_config(p, gone, uses_vif_route,
                                                                     NULL) != 0)
        return;
    if (net_sysctl_set(FORWARD, was) == 0)
        unlink(saved);
    kx_err_clear();
}
