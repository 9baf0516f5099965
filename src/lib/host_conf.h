/* host_conf.h - the host's own settings for every domain, ROOT/etc/kxl/kxl.conf (xl.conf's
 * counterpart, in the xl.cfg syntax). */
#pragma once

#include <stdbool.h>

#include "kxl/kxl.h"

typedef struct {
    bool allow_device_model_args;   /* device_model_args reach QEMU (else refused) */
} host_conf;

/* Reads kxl.conf; a missing file gives the defaults. -1 with kx_err (FILE:LINE) for a
 * syntax error, an unknown key or a bad value. */
int host_conf_load(const kxl_paths *p, host_conf *c_r);

/* A config's device_model_args against kxl.conf: refused unless the host allows them, and
 * then passed with a warning naming them. 0 for a config without any. */
int host_dm_args_check(const kxl_paths *p, const kxl_domcfg *cfg);
