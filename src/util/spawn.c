/* spawn.c - process helpers: pidfds, liveness, child subreaping. */
#include "spawn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "err.h"
#include "fileio.h"

int kx_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Returns the text of /proc/PID/stat after the command name, or NULL. */
static char *stat_fields(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    AUTOFREE char *s = kx_read_file(path, NULL);
    if (!s) {
        kx_err_clear();
        return NULL;
    }
    char *p = strrchr(s, ')');
    return p && p[1] ? kx_strdup(p + 2) : NULL;
}

bool kx_pid_alive(pid_t pid)
{
    if (pid <= 0)
        return false;
    AUTOFREE char *f = stat_fields(pid);
    return f && f[0] != 'Z' && f[0] != 'X';
}

unsigned long long kx_pid_starttime(pid_t pid)
{
    AUTOFREE char *f = stat_fields(pid);
    if (!f || f[0] == 'Z' || f[0] == 'X')
        return 0;
    /* f starts at field 3 (state); starttime is field 22 */
    char *p = f;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

int kx_become_subreaper(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot become a child subreaper");
        return -1;
    }
    return 0;
}
