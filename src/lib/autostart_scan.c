/* autostart_scan.c - finding the autostart configs (ROOT/etc/kxl/auto/ and the extra
 * directories), the boot id that makes autostart run once per boot, and where host shutdown
 * saves a domain. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg/cfg_keys.h"
#include "kxl/autostart.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* Editors' and package managers' leftovers are not configs. */
static bool is_config_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && name[n - 1] != '~' && !strstr(name, ".dpkg-");
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The entry of one file: its config, or why it cannot start. */
static void load_entry(const char *path, kxl_autostart_entry *e)
{
    struct stat st;
    e->config = kx_strdup(path);
    if (stat(path, &st) < 0) {
        kx_err_errno(KXL_ERR_NOT_FOUND, "%s: a link to nothing", path);
    } else if (!S_ISREG(st.st_mode)) {
        kx_err(KXL_ERR_INVALID, "%s: not a file", path);
    } else if ((e->cfg = cfg_load(path, NULL, kxl_host_cpus(), CFG_LOAD_CHECK_FILES))) {
        return;
    }
    e->error = kx_strdup(kx_err_msg());
    kx_err_clear();
}

/* Appends the configs of dir to *entries_r; a missing directory has none. */
static int scan_dir(const char *dir, kxl_autostart_entry **entries_r, size_t *n_r)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    if (n < 0) {
        if (errno == ENOENT)
            return 0;
        kx_err_errno(KXL_ERR_INTERNAL, "cannot read the autostart directory '%s'", dir);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        AUTOFREE char *path = kx_path_join(dir, list[i]->d_name);
        struct stat st;
        bool dir_entry = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        if (is_config_name(list[i]->d_name) && !dir_entry) {
            *entries_r = kx_realloc(*entries_r, (*n_r + 1) * sizeof(**entries_r));
            (*entries_r)[*n_r] = (kxl_autostart_entry){0};
            load_entry(path, &(*entries_r)[(*n_r)++]);
        }
        free(list[i]);
    }
    free(list);
    return 0;
}

int kxl_autostart_scan(const kxl_paths *p, const char *const *extra_dirs,
                       kxl_autostart_plan *plan_r)
{
    kxl_autostart_entry *entries = NULL;
    size_t n = 0;
    AUTOFREE char *auto_dir = kx_path_join(p->etc_dir, "auto");
    int r = scan_dir(auto_dir, &entries, &n);
    for (size_t i = 0; r == 0 && extra_dirs && extra_dirs[i]; i++)
        r = scan_dir(extra_dirs[i], &entries, &n);
    kxl_autostart_plan_build(entries, n, plan_r);
    if (r < 0)
        kxl_autostart_plan_dispose(plan_r);
    return r;
}

char *kxl_boot_id(void)
{
    const char *file = getenv("KXL_BOOT_ID_FILE");
    AUTOFREE char *text = kx_read_file(file && *file ? file : "/proc/sys/kernel/random/boot_id",
                                       NULL);
    if (!text)
        return NULL;
    text[strcspn(text, "\n")] = '\0';
    if (!*text) {
        kx_err(KXL_ERR_HOST, "the boot id is empty");
        return NULL;
    }
    return TAKE_PTR(text);
}

char *kxl_autostart_save_file(const kxl_paths *p, const char *name)
{
    return kx_asprintf("%s/save/%s.save", p->lib_dir, name);
}
