/* tls_files.h - kxl tls-setup's work on the certificate files of a directory (ROOT/etc/kxl/tls),
 * done in the kxl-tls helper so that kxl itself never loads OpenSSL (see tls_main.c). The
 * meaning of each is that of its kxl_tls_* counterpart in kxl/tls.h. */
#pragma once

#include <stdbool.h>

#include "kxl/tls.h"

int tls_files_setup(const char *dir, const kxl_tls_opts *o);
int tls_files_sign(const char *dir, const kxl_tls_opts *o, const char *out_dir);
int tls_files_import(const char *dir, const char *from, bool force);
