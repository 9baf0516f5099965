/* boot_child.c - the built-in pygrub's deprivileged reader, as Xen's pygrub: a child that
 * becomes an unprivileged user for good reads the guest's file system and answers in bounded
 * JSON; its parent adopts only regular files that the child made. */
#include "boot/boot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

/* The child's warnings, for its parent to log (a child's log sink may be in memory). */
static void collect_warnings(kx_loglevel level, const char *msg, void *opaque)
{
    if (level >= KX_LOG_WARN)
        json_object_array_add(opaque, json_object_new_string(msg));
}

/* In the child: becomes uid/gid for good, runs bl_extract into tmp, and writes the outcome to
 * out_fd as JSON ({"error", "code"} or the entry's strings, and "warnings"). Never returns. */
static void extract_child(uid_t uid, gid_t gid, const char *image, int fd, const char *tmp,
                          const kx_bootentry *wanted, int out_fd)
{
    kx_bootentry e = {.kernel = wanted->kernel ? kx_strdup(wanted->kernel) : NULL,
                      .initrd = wanted->initrd ? kx_strdup(wanted->initrd) : NULL};
    json_object *o = json_object_new_object();
    json_object *warnings = json_object_new_array();
    json_object_object_add(o, "warnings", warnings);
    kx_log_set_sink(collect_warnings, warnings);
    /* tmp's parents are root's: the files are written relative to it, entered as root */
    if (chdir(tmp) < 0 || setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        getuid() != uid) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot drop privileges to read disk '%s'", image);
    } else if (bl_extract(image, fd, ".", &e) == 0) {
        kx_err_clear();
        const char *fields[] = {"kernel", e.kernel, "initrd", e.initrd, "cmdline", e.cmdline,
                                "title", e.title};
        for (size_t i = 0; i < 8; i += 2)
            if (fields[i + 1])
                json_object_object_add(o, fields[i], json_object_new_string(fields[i + 1]));
    }
    if (kx_err_code() != KXL_ERR_NONE) {
        json_object_object_add(o, "error", json_object_new_string(kx_err_msg()));
        json_object_object_add(o, "code", json_object_new_int(kx_err_code()));
    }
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    int ok = kx_write_all(out_fd, text, strlen(text)) == 0;
    _exit(ok ? 0 : 1);
}

/* Moves tmp/name into out_dir, as root's: only a regular file that the reader made. */
static int adopt_output(const char *tmp, const char *out_dir, const char *name, uid_t uid,
                        bool wanted)
{
    AUTOFREE char *src = kx_path_join(tmp, name);
    AUTOFREE char *dst = kx_path_join(out_dir, name);
    struct stat st;
    if (!wanted) {
        unlink(dst);
        return 0;
    }
    if (lstat(src, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != uid || st.st_nlink != 1) {
        kx_err(KXL_ERR_INTERNAL, "the bootloader left no regular file '%s'", src);
        return -1;
    }
    if (chown(src, 0, 0) < 0 || rename(src, dst) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot move '%s' to '%s'", src, dst);
        return -1;
    }
    return 0;
}

/* The entry from the child's JSON: 0, or -1 with the child's error. */
static int read_outcome(const char *text, kx_bootentry *e)
{
    AUTOPTR(json_object) o = text && *text ? kx_json_parse(text, "bootloader") : NULL;
    if (!o) {
        kx_err(KXL_ERR_INTERNAL, "the bootloader process ended without an answer");
        return -1;
    }
    json_object *warnings = NULL;
    json_object_object_get_ex(o, "warnings", &warnings);
    for (size_t n = 0; warnings && n < json_object_array_length(warnings); n++)
        kx_warn("%s", json_object_get_string(json_object_array_get_idx(warnings, n)));
    if (kx_json_str(o, "error", NULL)) {
        kx_err((kxl_errcode)kx_json_int(o, "code", KXL_ERR_INTERNAL), "%s",
               kx_json_str(o, "error", ""));
        return -1;
    }
    const char *k = kx_json_str(o, "kernel", NULL), *i = kx_json_str(o, "initrd", NULL);
    const char *c = kx_json_str(o, "cmdline", NULL), *t = kx_json_str(o, "title", NULL);
    kx_bootentry_dispose(e);   /* what was asked for, answered now */
    e->kernel = k ? kx_strdup(k) : NULL;
    e->initrd = i ? kx_strdup(i) : NULL;
    e->cmdline = c ? kx_strdup(c) : NULL;
    e->title = t ? kx_strdup(t) : NULL;
    if (!e->kernel) {
        kx_err(KXL_ERR_INTERNAL, "the bootloader process named no kernel");
        return -1;
    }
    return 0;
}

int bl_extract_as(uid_t uid, gid_t gid, const char *image, int fd, const char *out_dir,
                  kx_bootentry *e)
{
    AUTOFREE char *tmp = kx_path_join(out_dir, ".bootloader-XXXXXX");
    int pipefd[2] = {-1, -1};
    if (!mkdtemp(tmp) || chown(tmp, uid, gid) < 0 ||
        pipe2(pipefd, O_CLOEXEC) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot prepare '%s' for the bootloader", tmp);
        rmdir(tmp);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        extract_child(uid, gid, image, fd, tmp, e, pipefd[1]);
    }
    close(pipefd[1]);
    kx_buf out = KX_BUF_INIT;
    kx_read_all(pipefd[0], &out, BL_TEXT_MAX);   /* the child is the guest's reader: bounded */
    close(pipefd[0]);
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    int r = pid > 0 ? read_outcome(kx_buf_str(&out), e) : -1;
    if (pid < 0)
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork the bootloader");
    if (r == 0 && (adopt_output(tmp, out_dir, "vmlinuz", uid, true) < 0 ||
                   adopt_output(tmp, out_dir, "initrd.img", uid, e->initrd) < 0))
        r = -1;
    kx_buf_dispose(&out);
    kx_rm_dir_flat(tmp);
    return r;
}
