/* cfg_keys.h - the meaning of xl.cfg keys: generic tree -> typed kxl_domcfg. */
#pragma once

#include "cfg/cfg_parse.h"
#include "kxl/domcfg.h"

/* Maps t into a new config through the key table. Unknown keys and keys that
 * cannot mean the same on KVM are warned about (kx_warn, "FILE:LINE: ...");
 * wrong types, bad values and a missing name are errors. host_cpus bounds
 * `cpus`. Pure: no I/O. Returns NULL with kx_err set. */
kxl_domcfg *cfg_domcfg_from_tree(const cfg_tree *t, unsigned host_cpus);

/* Checks that the files the config names exist and can be opened as needed
 * (kernel, ramdisk, disk targets), with FILE:LINE in the message. */
int cfg_check_files(const kxl_domcfg *cfg, const cfg_tree *t);

enum { CFG_LOAD_CHECK_FILES = 1 };
/* Reads path, applies the KEY=VALUE overrides (NULL-terminated, may be NULL),
 * maps the result and, with CFG_LOAD_CHECK_FILES, checks its files.
 * Returns NULL with kx_err set. */
kxl_domcfg *cfg_load(const char *path, char *const *overrides, unsigned host_cpus, int flags);
/* As cfg_load without overrides, for a config given as text (len bytes, need not be
 * NUL-terminated) that is not a file (yet): the checker of the web UI's editor (flags 0) and
 * of kxld's create from a config's text (CFG_LOAD_CHECK_FILES). source names it in every
 * message ("SOURCE:LINE: ...") and becomes the config's source_file. Returns NULL with kx_err
 * set. */
kxl_domcfg *cfg_load_text(const char *source, const char *text, size_t len, unsigned host_cpus,
                          int flags);
