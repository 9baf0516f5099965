/* paths.c - where kxl keeps its state, all under KXL_ROOT so that tests and a
 * second simulated host can run side by side. */
#include <stdlib.h>
#include <string.h>

#include "kxl/kxl.h"
#include "kxl/tls.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fileio.h"

int kxl_paths_init(kxl_paths *p, const char *root)
{
    memset(p, 0, sizeof(*p));
    if (!root)
        root = getenv("KXL_ROOT");
    if (!root || !*root)
        root = "/";
    if (root[0] != '/') {
        kx_err(KXL_ERR_INVALID, "KXL_ROOT '%s' must be an absolute path", root);
        return -1;
    }
    p->root = kx_strdup(root);
    p->etc_dir = kx_path_join(root, "etc/kxl");
    p->run_dir = kx_path_join(root, "run/kxl");
    p->lib_dir = kx_path_join(root, "var/lib/kxl");
    p->log_dir = kx_path_join(root, "var/log/kxl");
    /* the runtime directory holds the control sockets: owner only */
    /* every command comes here: create only what is missing */
    if ((!kx_path_exists(p->run_dir) && kx_mkdir_p(p->run_dir, 0700) < 0) ||
        (!kx_path_exists(p->lib_dir) && kx_mkdir_p(p->lib_dir, 0700) < 0) ||
        (!kx_path_exists(p->log_dir) && kx_mkdir_p(p->log_dir, 0750) < 0)) {
        kxl_paths_dispose(p);
        return -1;
    }
    return 0;
}

void kxl_paths_dispose(kxl_paths *p)
{
    free(p->root);
    free(p->etc_dir);
    free(p->run_dir);
    free(p->lib_dir);
    free(p->log_dir);
    memset(p, 0, sizeof(*p));
}

char *kxl_domain_dir(const kxl_paths *p, const char *name)
{
    return kx_path_join(p->run_dir, name);
}

char *kxl_domain_file(const kxl_paths *p, const char *name, const char *file)
{
    return kx_asprintf("%s/%s/%s", p->run_dir, name, file);
}

const char *kxl_last_error(void)
{
    return kx_err_msg();
}

kxl_errcode kxl_last_error_code(void)
{
    return (int)kx_err_code();
}

/* Here, not in tls_setup.c: the supervisor names the directory for QEMU's TLS objects, and
 * taking it from tls_setup.c would link OpenSSL into every supervisor (1.4 MiB of resident
 * libcrypto pages and 150 page faults at each start) for a path. */
char *kxl_tls_dir(const kxl_paths *p)
{
    return kx_path_join(p->etc_dir, "tls");
}
