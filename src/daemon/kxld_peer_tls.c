/* kxld_peer_tls.c - this host's certificate files as kxld shows them to its peers. */
#include "daemon/kxld_peer_tls.h"

#include <stdlib.h>
#include <unistd.h>

#include "util/err.h"
#include "util/fileio.h"

int kxld_peer_tls_files(const char *tls_dir, kxld_peer_tls *t_r)
{
    *t_r = (kxld_peer_tls){
        .cert = kx_path_join(tls_dir, "host-cert.pem"),
        .key = kx_path_join(tls_dir, "host-key.pem"),
        .ca = kx_path_join(tls_dir, "ca-cert.pem"),
    };
    if (access(t_r->cert, R_OK) < 0 || access(t_r->key, R_OK) < 0 || access(t_r->ca, R_OK) < 0) {
        kx_err(KXL_ERR_HOST, "this host has no certificate to show its peers ('%s'): make it "
               "with kxl tls-setup", t_r->cert);
        return -1;
    }
    return 0;
}

void kxld_peer_tls_dispose(kxld_peer_tls *t)
{
    free(t->cert);
    free(t->key);
    free(t->ca);
    *t = (kxld_peer_tls){0};
}
