/* tls_setup.c - kxl tls-setup (kxl/tls.h): each call runs the kxl-tls helper, which does the
 * work with OpenSSL (tls/tls_files.c), so that the library's other callers never load it. */
#include "kxl/tls.h"

#include <stdio.h>

#include "lib/helpers.h"
#include "util/buf.h"
#include "util/cleanup.h"

/* The helper's options for o (names, addresses, days, force) after its fixed words. */
static void push_opts(kx_strv *args, const kxl_tls_opts *o, bool with_force)
{
    for (const char *const *n = o->names; n && *n; n++) {
        kx_strv_push(args, "--name");
        kx_strv_push(args, *n);
    }
    for (const char *const *a = o->ips; a && *a; a++) {
        kx_strv_push(args, "--ip");
        kx_strv_push(args, *a);
    }
    if (o->days)
        kx_strv_pushf(args, "--days=%u", o->days);
    if (with_force && o->force)
        kx_strv_push(args, "--force");
}

static int run(kx_strv *args)
{
    int r = tls_helper_run((const char *const *)args->v);
    kx_strv_dispose(args);
    return r;
}

int kxl_tls_setup(const kxl_paths *p, const kxl_tls_opts *o)
{
    AUTOFREE char *dir = kxl_tls_dir(p);
    kx_strv args = KX_STRV_INIT;
    kx_strv_push(&args, "setup");
    kx_strv_push(&args, dir);
    push_opts(&args, o, true);
    return run(&args);
}

int kxl_tls_sign(const kxl_paths *p, const kxl_tls_opts *o, const char *out_dir)
{
    AUTOFREE char *dir = kxl_tls_dir(p);
    kx_strv args = KX_STRV_INIT;
    kx_strv_push(&args, "sign");
    kx_strv_push(&args, dir);
    kx_strv_push(&args, out_dir);
    push_opts(&args, o, false);
    return run(&args);
}

int kxl_tls_import(const kxl_paths *p, const char *from, bool force)
{
    AUTOFREE char *dir = kxl_tls_dir(p);
    kx_strv args = KX_STRV_INIT;
    kx_strv_push(&args, "import");
    kx_strv_push(&args, dir);
    kx_strv_push(&args, from);
    if (force)
        kx_strv_push(&args, "--force");
    return run(&args);
}
