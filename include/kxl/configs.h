/* configs.h - the config files in etc/kxl/ as whole texts, for front ends that edit them (kxld's
 * /api/v1/configs/{file}, the web UI's editor and create form). FILE is a file name of that
 * directory: "NAME.cfg", no slash, no leading dot. Every function returns 0 (or a result) or
 * -1/NULL with kxl_last_error() set. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kxl/kxl.h"

/* Fails, saying why, unless file is a name these functions take. */
int kxl_config_name_check(const char *file);

/* ETC/FILE (caller frees), or NULL when the name is not one these functions take. */
char *kxl_config_path(const kxl_paths *p, const char *file);

/* The text of ETC/FILE (caller frees; *len_r its length, may be NULL). */
char *kxl_config_read(const kxl_paths *p, const char *file, size_t *len_r);

/* The checker of `kxl create -n`: whether text is a config kxl would start, its messages
 * naming source ("SOURCE:LINE: ..."); *cfg_r (may be NULL; caller frees) gets the result. */
int kxl_config_check(const char *source, const char *text, size_t len, kxl_domcfg **cfg_r);

/* Writes text as ETC/FILE once kxl_config_check accepts it: through a temporary file in the
 * same directory, renamed over the old one, so a reader sees the old or the new text and a
 * refused text leaves the old one as it was. With replace false an existing file is an error
 * (KXL_ERR_EXISTS) and stays. The file keeps its mode (a new one is 0600: a config may hold a
 * VNC password). */
int kxl_config_write(const kxl_paths *p, const char *file, const char *text, size_t len,
                     bool replace);
