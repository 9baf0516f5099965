/* migrate_made.c - the record of the disk files a `kxl migrate-receive --copy-storage` made
 * (ROOT/var/lib/kxl/incoming/NAME.made), so that a receiver killed before its domain's
 * supervisor took them over (kill -9, a cut ssh session) leaves nothing for good: the next
 * receive, kxld's start and its relocation server, and a `kxl create` of the name remove
 * them. The record names its receiver (pid and start time: while it lives the files are its
 * own) and each image by the temporary name it is made under (migrate_storage.c: written
 * before it exists; a name of that receiver's own), then with its device, inode and birth
 * time once made, before it is linked to the disk's path: a file put at that path since is
 * not the one kxl made, and stays (the birth time tells it from a new file that got the same
 * inode number, where the file system keeps one). Under var/lib, not run/: the files outlive a
 * reboot, so their record must too. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kxl/ops.h"
#include "lib/migrate.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

#define SUFFIX ".made"

static char *made_dir(const kxl_paths *p)
{
    return kx_path_join(p->lib_dir, "incoming");
}

static char *made_file(const kxl_paths *p, const char *name)
{
    return kx_asprintf("%s/incoming/%s%s", p->lib_dir, name, SUFFIX);
}

int migrate_made_note(const kxl_paths *p, const char *name, const kx_strv *entries)
{
    AUTOFREE char *dir = made_dir(p);
    AUTOFREE char *file = made_file(p, name);
    if (!kx_path_exists(dir) && kx_mkdir_p(dir, 0700) < 0)
        return -1;
    kx_buf b = KX_BUF_INIT;
    kx_buf_printf(&b, "%d %llu\n", (int)getpid(), kx_pid_starttime(getpid()));
    for (size_t i = 0; i < entries->n; i++)
        kx_buf_printf(&b, "%s\n", entries->v[i]);
    int rc = kx_write_file_atomic(file, b.s, b.len, 0600);
    kx_buf_dispose(&b);
    return rc;
}

/* "DEV INO BTIME_S.BTIME_NS" of fd (or of path, not followed, with fd -1); BTIME 0.0 where the
 * file system has none. -1 when it cannot be stat'ed. */
static int identity(int fd, const char *path, char *text, size_t len)
{
    struct statx stx;
    int rc = fd >= 0 ? statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME | STATX_TYPE, &stx)
                     : statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW,
                             STATX_INO | STATX_BTIME | STATX_TYPE, &stx);
    if (rc < 0 || !S_ISREG(stx.stx_mode))
        return -1;
    bool born = stx.stx_mask & STATX_BTIME;
    snprintf(text, len, "%ju %ju %lld.%u",
             (uintmax_t)makedev(stx.stx_dev_major, stx.stx_dev_minor), (uintmax_t)stx.stx_ino,
             born ? (long long)stx.stx_btime.tv_sec : 0LL, born ? stx.stx_btime.tv_nsec : 0u);
    return 0;
}

char *migrate_made_entry(int fd, const char *tmp, const char *path)
{
    char id[96] = "-";
    if (fd >= 0 && identity(fd, NULL, id, sizeof(id)) < 0)
        return NULL;
    return kx_asprintf("%s\t%s\t%s", id, tmp, path);
}

void migrate_made_forget(const kxl_paths *p, const char *name)
{
    AUTOFREE char *file = made_file(p, name);
    unlink(file);
}

static void remove_made(const char *path)
{
    if (unlink(path) == 0)
        kx_notice("kxl: '%s' removed: it was made for a disk's copy by a migration that did "
                  "not complete", path);
}

/* Whether path is the file of identity id. */
static bool is_made(const char *path, const char *id)
{
    char now[96];
    return identity(-1, path, now, sizeof(now)) == 0 && strcmp(now, id) == 0;
}

/* One record's line "ID\tTMP\tPATH": the temporary file (the dead receiver's own name)
 * removed, and the image at the disk's path if it is still the one made (ID "-": it was
 * never linked there). */
static void reap_entry(char *line)
{
    char *tmp = strchr(line, '\t');
    char *path = tmp ? strchr(tmp + 1, '\t') : NULL;
    if (!path)
        return;
    *tmp++ = '\0';
    *path++ = '\0';
    if (strcmp(line, "-") == 0 || is_made(tmp, line))
        remove_made(tmp);
    if (strcmp(line, "-") != 0 && is_made(path, line))
        remove_made(path);   /* else gone already (the supervisor removed it), or not ours */
}

/* Reaps the record of name unless its receiver still runs or the domain lives here (its
 * supervisor, noting the files, removes them itself if no go comes). */
static void reap_one(const kxl_paths *p, const char *name)
{
    AUTOFREE char *file = made_file(p, name);
    AUTOFREE char *text = kx_read_file(file, NULL);
    if (!text) {
        kx_err_clear();
        return;
    }
    int pid = 0;
    unsigned long long start = 0;
    if (sscanf(text, "%d %llu", &pid, &start) == 2 && pid > 0 &&
        kx_pid_starttime(pid) == start && start != 0)
        return;
    if (runtime_is_live(p, name))
        return;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);   /* the receiver's line */
    while ((line = strtok_r(NULL, "\n", &save)))
        reap_entry(line);
    unlink(file);
}

void migrate_made_reap(const kxl_paths *p, const char *name)
{
    if (name) {
        reap_one(p, name);
        return;
    }
    AUTOFREE char *dir = made_dir(p);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name), s = strlen(SUFFIX);
        if (e->d_name[0] == '.' || n <= s || strcmp(e->d_name + n - s, SUFFIX) != 0)
            continue;
        AUTOFREE char *one = kx_strndup(e->d_name, n - s);
        reap_one(p, one);
    }
    closedir(d);
}

void kxl_migrate_clean_leftovers(const kxl_paths *p)
{
    migrate_made_reap(p, NULL);
}
