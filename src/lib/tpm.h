/* tpm.h - vtpm: where a domain's emulated TPM keeps its state, and whether this host has the
 * emulator (swtpm). */
#pragma once

#include "kxl/kxl.h"

/* ROOT/var/lib/kxl/tpm/UUID (vtpm's uuid=, else the domain's); NULL while the domain has no
 * uuid yet (a dry run before create). Caller frees. */
char *host_vtpm_dir(const kxl_paths *p, const kxl_domcfg *cfg);

/* 0 for a config without vtpm or a host with swtpm; else -1 with kx_err saying what to
 * install. */
int host_vtpm_check(const kxl_domcfg *cfg);
