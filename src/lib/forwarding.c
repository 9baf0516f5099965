/* forwarding.c - IPv4 forwarding, which routed and NAT networks and vif-route need: kxl turns
 * it on, remembers the value it found, and puts that back once the last of them is gone, so
 * a host that did not forward before kxl does not keep forwarding after it. */
#include <dirent.h>
#include <string.h>
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

int network_forwarding_on(const kxl_paths *p)
{
    AUTOFREE char *saved = saved_file(p);
    AUTOFREE char *dir = kx_asprintf("%s/.networks", p->run_dir);
    AUTOFREE char *was = NULL;
    if (!kx_path_exists(saved)) {
        if (net_sysctl_get(FORWARD, &was) < 0 || kx_mkdir_p(dir, 0700) < 0 ||
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
