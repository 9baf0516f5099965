/* config_files.c - the config files of etc/kxl/ read, checked and written as whole texts
 * (include/kxl/configs.h): what kxld's config routes and the web UI's editor call. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/cfg_keys.h"
#include "kxl/configs.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/text.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

/* Longest name (200 in the message): room for the temporary ".NAME.XXXXXX" within NAME_MAX. */
#define CONFIG_NAME_MAX 200

int kxl_config_name_check(const char *file)
{
    size_t n = file ? strlen(file) : 0;
    bool printable = true;
    for (size_t i = 0; i < n; i++)
        printable = printable && (unsigned char)file[i] >= 0x20 && file[i] != 0x7f;
    const char *why = NULL;
    if (n <= 4 || strcmp(file + n - 4, ".cfg") != 0)
        why = "a config file's name is NAME.cfg";
    else if (n > CONFIG_NAME_MAX)
        why = "longer than 200 bytes";
    else if (file[0] == '.')
        why = "it starts with a dot";
    else if (strchr(file, '/'))
        why = "a name has no slash: files are in etc/kxl/ itself";
    else if (!printable || !kx_utf8_valid(file, n, NULL))
        why = "control characters or invalid UTF-8";
    if (!why)
        return 0;
    AUTOFREE char *shown = kx_printable(file ? file : "", false);
    kx_err(KXL_ERR_INVALID, "config file name '%s': %s", shown, why);
    return -1;
}

char *kxl_config_path(const kxl_paths *p, const char *file)
{
    return kxl_config_name_check(file) < 0 ? NULL : kx_path_join(p->etc_dir, file);
}

char *kxl_config_read(const kxl_paths *p, const char *file, size_t *len_r)
{
    AUTOFREE char *path = kxl_config_path(p, file);
    if (!path)
        return NULL;
    AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL, "cannot read '%s'",
                     path);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a regular file", path);
        return NULL;
    }
    kx_buf b = KX_BUF_INIT;
    if (kx_read_all(fd, &b, CFG_MAX_BYTES + 1) < 0 || b.len > CFG_MAX_BYTES) {
        kx_err(KXL_ERR_INVALID, "cannot read '%s': not readable or larger than %d KiB", path,
               CFG_MAX_BYTES / 1024);
        kx_buf_dispose(&b);
        return NULL;
    }
    if (len_r)
        *len_r = b.len;
    return b.s ? kx_buf_steal(&b) : kx_strdup("");
}

int kxl_config_check(const char *source, const char *text, size_t len, kxl_domcfg **cfg_r)
{
    AUTOPTR(kxl_domcfg) cfg = cfg_load_text(source, text, len, kxl_host_cpus(), 0);
    if (!cfg)
        return -1;
    if (cfg_r)
        *cfg_r = TAKE_PTR(cfg);
    return 0;
}

/* The mode path's file keeps (a new one: 0600); fails when it exists and may not be replaced
 * or is not a regular file. */
static int target_mode(const char *path, bool replace, mode_t *mode_r)
{
    struct stat st;
    *mode_r = 0600;
    if (lstat(path, &st) < 0)
        return 0;
    if (!replace) {
        kx_err(KXL_ERR_EXISTS, "'%s' exists already: choose another name or edit that one",
               path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a regular file: kxl does not write over it", path);
        return -1;
    }
    *mode_r = st.st_mode & 07777;
    return 0;
}

/* Writes text to a new temporary file of dir (its name into tmp_r), flushed to the disk. */
static int write_temp(const char *dir, const char *file, const char *text, size_t len,
                      mode_t mode, char **tmp_r)
{
    char *tmp = kx_asprintf("%s/.%s.XXXXXX", dir, file);
    AUTOCLOSE int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a file in '%s'", dir);
        free(tmp);
        return -1;
    }
    if (fchmod(fd, mode) < 0 || kx_write_all(fd, text, len) < 0 || fsync(fd) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot write '%s'", tmp);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    *tmp_r = tmp;
    return 0;
}

int kxl_config_write(const kxl_paths *p, const char *file, const char *text, size_t len,
                     bool replace)
{
    AUTOFREE char *path = kxl_config_path(p, file);
    AUTOFREE char *tmp = NULL;
    mode_t mode;
    if (!path || kxl_config_check(path, text, len, NULL) < 0 ||
        target_mode(path, replace, &mode) < 0 ||
        write_temp(p->etc_dir, file, text, len, mode, &tmp) < 0)
        return -1;
    /* link() fails with EEXIST when another writer came first: nothing is overwritten */
    int rc = replace ? rename(tmp, path) : link(tmp, path);
    if (rc < 0)
        kx_err_errno(errno == EEXIST ? KXL_ERR_EXISTS : KXL_ERR_INTERNAL,
                     "cannot write '%s'", path);
    if (rc < 0 || !replace)
        unlink(tmp);
    return rc < 0 ? -1 : 0;
}
