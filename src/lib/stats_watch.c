/* stats_watch.c - top (and kxld's sampler) read every domain every frame; on a host of 50
 * domains at a 1 s interval that must stay under 1% of a CPU, and system calls are most of
 * it. So each domain is read once in full (list's own code), and then kept:
 *   - its status file's identity: the supervisor replaces the file by rename on every change,
 *     so the same inode, mtime and size mean the same contents, and one fstatat says so;
 *   - descriptors of QEMU's and the supervisor's /proc/PID/stat and of its vCPU threads',
 *     read with pread: a descriptor names the process it was opened for, not its number, so
 *     a reused pid reads as gone rather than as someone else; QEMU's text is read once a
 *     frame and serves both "is it alive" and its CPU time and memory;
 *   - a connection to its supervisor, asked without waiting so that every supervisor works
 *     on its answer at once, then answered in turn (a blocking read with a receive timeout:
 *     one system call for an answer, not a try, a poll and a read). While it answers, the
 *     supervisor is known to live without reading its /proc stat: one that dies fails to
 *     answer, and that has its domain read in full the next frame.
 * A domain whose status changed, or one of whose processes ended, is read in full again. */
#include "lib/stats_watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/control.h"
#include "lib/vcpus.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/err.h"

/* vCPU threads read through kept descriptors; more are read by path. It bounds what a
 * watcher holds open (with the other three: 11 a domain, 550 for 50 domains). */
#define WATCH_VCPU_FDS 8
#define PROC_STAT_MAX 1024

typedef struct {
    char name[KXL_NAME_MAX + 1];
    struct stat status;            /* the status file list_entry_read read */
    list_entry e;
    int qemu_fd, sv_fd;            /* /proc/PID/stat, -1: not alive when read */
    int vcpu_fds[WATCH_VCPU_FDS];
    char qemu_stat[PROC_STAT_MAX]; /* QEMU's stat as read this frame ("" when gone) */
    int ctl_fd;                    /* the supervisor's control socket, -1: not connected */
    unsigned replies;              /* taken on ctl_fd: > 0 means a kept connection */
    int rcvtimeo_ms;               /* ctl_fd's SO_RCVTIMEO, 0: none set yet */
    bool answered;                 /* its supervisor answered last frame: it lives */
    const char *verb;              /* the request sent and not yet answered */
    const kxl_paths *paths;
    kx_buf in;                     /* reply bytes read and not yet taken */
    bool seen;                     /* listed this frame */
} watched;

struct stats_watch {
    watched **v;
    size_t n, cap;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_proc(watched *d)
{
    close_fd(&d->qemu_fd);
    close_fd(&d->sv_fd);
    for (size_t i = 0; i < WATCH_VCPU_FDS; i++)
        close_fd(&d->vcpu_fds[i]);
}

static void close_ctl(watched *d)
{
    close_fd(&d->ctl_fd);
    d->replies = 0;
    d->rcvtimeo_ms = 0;
    d->verb = NULL;
    kx_buf_clear(&d->in);
}

static void watched_free(watched *d)
{
    close_proc(d);
    close_ctl(d);
    kx_buf_dispose(&d->in);
    free(d);
}

stats_watch *stats_watch_new(void)
{
    return kx_malloc0(sizeof(stats_watch));
}

void stats_watch_free(stats_watch *w)
{
    for (size_t i = 0; w && i < w->n; i++)
        watched_free(w->v[i]);
    if (w)
        free(w->v);
    free(w);
}

static watched *find(stats_watch *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->v[i]->name, name) == 0)
            return w->v[i];
    return NULL;
}

static watched *add(stats_watch *w, const char *name)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->v = kx_realloc(w->v, w->cap * sizeof(*w->v));
    }
    watched *d = kx_malloc0(sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->qemu_fd = d->sv_fd = d->ctl_fd = -1;
    for (size_t i = 0; i < WATCH_VCPU_FDS; i++)
        d->vcpu_fds[i] = -1;
    w->v[w->n++] = d;
    return d;
}

/* The text of a kept /proc stat descriptor into buf: false when the process is gone (the
 * read fails with ESRCH) or is a zombie. */
static bool pread_stat(int fd, char *buf, size_t size)
{
    buf[0] = '\0';
    ssize_t n = fd >= 0 ? pread(fd, buf, size - 1, 0) : -1;
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Field k of a /proc/PID/stat text (k >= 3, numbered as proc(5) does), or NULL. */
static const char *stat_field(const char *text, int k)
{
    const char *p = strrchr(text, ')');
    if (!p || p[1] != ' ')
        return NULL;
    p += 2;
    for (int field = 3; field < k && p; field++)
        if ((p = strchr(p, ' ')))
            p++;
    return p;
}

/* /proc/PID/stat of the process pid started at start (its starttime, field 22), open; -1
 * when that process is gone (or the pid is someone else's by now). */
static int open_stat(const char *path, unsigned long long start)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char buf[PROC_STAT_MAX];
    const char *f = pread_stat(fd, buf, sizeof(buf)) ? stat_field(buf, 22) : NULL;
    if (!f || strtoull(f, NULL, 10) != start)
        close_fd(&fd);
    return fd;
}

static void open_proc(watched *d)
{
    const kx_status *st = &d->e.st;
    char path[96];
    if (d->e.qemu_alive) {
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)st->qemu_pid);
        d->qemu_fd = open_stat(path, st->qemu_start);
    }
    if (d->e.info.sv_alive) {
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)st->sv_pid);
        d->sv_fd = open_stat(path, st->sv_start);
    }
    for (unsigned i = 0; d->qemu_fd >= 0 && i < st->n_vcpu_tids && i < WATCH_VCPU_FDS; i++) {
        snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)st->qemu_pid,
                 (int)st->vcpu_tids[i]);
        d->vcpu_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (!pread_stat(d->qemu_fd, d->qemu_stat, sizeof(d->qemu_stat)))
        d->qemu_stat[0] = '\0';
    kx_err_clear();
}

/* The domain read afresh (list's code) and its descriptors opened again: false when it is
 * no live domain. A new supervisor gets a new connection. */
static bool read_full(watched *d, const kxl_paths *p, const struct stat *status)
{
    pid_t old_sv = d->e.st.sv_pid;
    unsigned long long old_start = d->e.st.sv_start;
    close_proc(d);
    if (!list_entry_read(p, d->name, false, &d->e))
        return false;
    if (d->e.st.sv_pid != old_sv || d->e.st.sv_start != old_start || !d->e.info.sv_alive)
        close_ctl(d);
    d->status = *status;
    open_proc(d);
    return true;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The domain name, as list would find it now: true with d's entry current. */
static bool refresh(stats_watch *w, const kxl_paths *p, int run_fd, const char *name)
{
    char rel[KXL_NAME_MAX + 16];
    snprintf(rel, sizeof(rel), "%s/status", name);
    struct stat status;
    if (fstatat(run_fd, rel, &status, 0) < 0)
        memset(&status, 0, sizeof(status));   /* read in full: list decides what it is */
    watched *d = find(w, name);
    if (!d)
        d = add(w, name);
    d->seen = true;
    bool answered = d->answered;   /* last frame's answer: this frame's is still to come */
    d->answered = false;
    if (d->status.st_ino && same_file(&d->status, &status)) {
        bool qemu = pread_stat(d->qemu_fd, d->qemu_stat, sizeof(d->qemu_stat));
        char buf[PROC_STAT_MAX];
        bool sv = answered ? d->e.info.sv_alive : pread_stat(d->sv_fd, buf, sizeof(buf));
        if (qemu == d->e.qemu_alive && sv == d->e.info.sv_alive)
            return true;
    }
    memset(&d->status, 0, sizeof(d->status));
    return read_full(d, p, &status);
}

/* Forgets the domains not listed this frame (gone), and clears the mark of the others. */
static void sweep(stats_watch *w)
{
    for (size_t i = w->n; i-- > 0;) {
        if (w->v[i]->seen) {
            w->v[i]->seen = false;
            continue;
        }
        watched_free(w->v[i]);
        w->v[i] = w->v[--w->n];
    }
}

int stats_watch_list(stats_watch *w, const kxl_paths *p, list_entry **entries_r, size_t *n_r)
{
    DIR *dir = opendir(p->run_dir);
    if (!dir) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot read '%s'", p->run_dir);
        return -1;
    }
    list_entry *entries = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.' || !kxl_name_is_valid(de->d_name) ||
            !refresh(w, p, dirfd(dir), de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            entries = kx_realloc(entries, cap * sizeof(*entries));
        }
        entries[n++] = find(w, de->d_name)->e;
    }
    closedir(dir);
    sweep(w);
    list_entries_sort(entries, n);
    *entries_r = entries;
    *n_r = n;
    return 0;
}

bool stats_watch_qemu(stats_watch *w, const list_entry *e, unsigned long long *ticks_r,
                      unsigned long long *rss_pages_r)
{
    watched *d = find(w, e->info.name);
    const char *t = d && d->qemu_stat[0] ? d->qemu_stat : NULL;
    const char *utime = t ? stat_field(t, 14) : NULL;
    const char *stime = t ? stat_field(t, 15) : NULL;
    const char *rss = t ? stat_field(t, 24) : NULL;
    if (!utime || !stime || !rss)
        return false;
    *ticks_r = strtoull(utime, NULL, 10) + strtoull(stime, NULL, 10);
    *rss_pages_r = strtoull(rss, NULL, 10);
    return true;
}

typedef struct {
    watched *d;
} vcpu_reading;

static bool read_kept_vcpu(unsigned i, pid_t tid, kxl_vcpu_info *v, void *opaque)
{
    watched *d = ((vcpu_reading *)opaque)->d;
    char buf[PROC_STAT_MAX];
    if (i < WATCH_VCPU_FDS)
        return pread_stat(d->vcpu_fds[i], buf, sizeof(buf)) && vcpu_from_stat(buf, tid, v);
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)d->e.st.qemu_pid, (int)tid);
    AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    return pread_stat(fd, buf, sizeof(buf)) && vcpu_from_stat(buf, tid, v);
}

void stats_watch_vcpus(stats_watch *w, const list_entry *e, kxl_vcpu_info **v, size_t *n)
{
    vcpu_reading r = {.d = find(w, e->info.name)};
    kx_status none = {0};
    vcpus_read_with(&e->info, r.d && e->qemu_alive ? &e->st : &none, read_kept_vcpu, &r, v, n);
}

static int send_request(watched *d, const kxl_paths *p, const char *verb)
{
    if (d->ctl_fd < 0 && (d->ctl_fd = control_connect(p, d->name, "control.sock")) < 0)
        return -1;
    if (control_send(d->ctl_fd, d->name, verb, NULL, -1) < 0) {
        close_ctl(d);
        return -1;
    }
    d->verb = verb;
    d->paths = p;
    return 0;
}

/* The next frame reads d in full: its supervisor did not answer (it may be gone, which its
 * /proc stat, not read while it answers, then says). */
static void forget_status(watched *d)
{
    memset(&d->status, 0, sizeof(d->status));
}

int stats_watch_ask(stats_watch *w, const kxl_paths *p, const list_entry *e, const char *verb)
{
    watched *d = find(w, e->info.name);
    if (!d) {
        kx_err(KXL_ERR_INTERNAL, "'%s' is not watched", e->info.name);
        return -1;
    }
    bool kept = d->ctl_fd >= 0;
    if (send_request(d, p, verb) == 0)
        return 0;
    if (kept) {
        kx_err_clear();   /* a kept connection its supervisor had closed: once more, afresh */
        if (send_request(d, p, verb) == 0)
            return 0;
    }
    forget_status(d);
    return -1;
}

/* Reads on ctl_fd wait at most timeout_ms (set once per connection). */
static int set_rcvtimeo(watched *d, int timeout_ms)
{
    if (d->rcvtimeo_ms == timeout_ms)
        return 0;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
    if (setsockopt(d->ctl_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot bound the wait for the supervisor of '%s'",
                     d->name);
        return -1;
    }
    d->rcvtimeo_ms = timeout_ms;
    return 0;
}

/* One reply line into *line_r (caller frees) within timeout_ms (give or take one receive
 * timeout): the connection carries nothing but replies, so what is read past a newline is the
 * next one's. */
static int read_reply_line(watched *d, int timeout_ms, char **line_r)
{
    if (timeout_ms < 1)
        timeout_ms = 1;   /* a receive timeout of 0 would wait for ever */
    long long deadline = kx_mono_ms() + timeout_ms;
    if (set_rcvtimeo(d, timeout_ms) < 0)
        return -1;
    for (;;) {
        char *nl = d->in.len ? memchr(d->in.s, '\n', d->in.len) : NULL;
        if (nl) {
            size_t len = (size_t)(nl - d->in.s);
            *line_r = kx_strndup(d->in.s, len);
            d->in.len -= len + 1;
            memmove(d->in.s, nl + 1, d->in.len + 1);   /* with the NUL */
            return 0;
        }
        char buf[4096];
        ssize_t r = recv(d->ctl_fd, buf, sizeof(buf), 0);
        if (r > 0) {
            kx_buf_addn(&d->in, buf, (size_t)r);
            continue;
        }
        if (r < 0 && errno == EINTR && deadline > kx_mono_ms())
            continue;
        kx_err(KXL_ERR_STATE, r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)
                                  ? "the supervisor of '%s' hung up"
                                  : "the supervisor of '%s' did not answer in time",
               d->name);
        return -1;
    }
}

int stats_watch_reply(stats_watch *w, const list_entry *e, int timeout_ms, json_object **ret_r)
{
    watched *d = find(w, e->info.name);
    if (!d || !d->verb || d->ctl_fd < 0) {
        kx_err(KXL_ERR_INTERNAL, "no request is waiting for '%s''s supervisor", e->info.name);
        return -1;
    }
    AUTOFREE char *line = NULL;
    if (read_reply_line(d, timeout_ms, &line) < 0 && d->replies > 0) {
        /* a kept connection its supervisor closed before the request reached it */
        const char *verb = d->verb;
        close_ctl(d);
        kx_err_clear();
        if (send_request(d, d->paths, verb) < 0)
            return -1;
        read_reply_line(d, timeout_ms, &line);
    }
    if (!line) {
        close_ctl(d);
        forget_status(d);
        return -1;
    }
    d->verb = NULL;
    d->replies++;
    d->answered = true;
    return control_parse_reply(line, ret_r);
}
