/* sv_tls.c - QEMU's own TLS on a migration stream (kxl migrate --relocation): the guest's
 * memory is encrypted and authenticated by QEMU itself, with the host's relocation
 * certificates (ROOT/etc/kxl/tls, kxl tls-setup), so no kxl process copies it. QEMU reads
 * credentials from a directory when the tls-creds-x509 object is made, and it runs chrooted
 * (as the domain's own uid) by then: the files are copied for that moment into a directory
 * inside its root (seen through /proc/PID/root), readable by its uid alone, and removed once
 * the object holds them. Both ends verify the peer (the CA); the client also checks that the
 * server's certificate names the host it was asked to reach. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "kxl/tls.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

#define TLS_OBJECT "kxl-migrate-tls"

typedef struct {
    char *host_dir;    /* where this process writes the files */
    char *qemu_dir;    /* the same directory as QEMU names it */
    uid_t uid;         /* QEMU's */
} creds_dir;

/* QEMU's uid, from its status (its /proc directory is root's: it is not dumpable). */
static int qemu_uid(pid_t pid, uid_t *uid_r)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    AUTOFREE char *text = pid > 0 ? kx_read_file(path, NULL) : NULL;
    const char *line = text ? strstr(text, "\nUid:") : NULL;
    unsigned long uid = 0;
    if (!line || sscanf(line, "\nUid: %lu", &uid) != 1)
        return -1;
    *uid_r = (uid_t)uid;
    return 0;
}

/* Inside QEMU's root when it has one of its own, else in the runtime directory. */
static int creds_dir_init(sv *s, creds_dir *d)
{
    char link[64], root[PATH_MAX];
    if (qemu_uid(s->qemu_pid, &d->uid) < 0) {
        kx_err_clear();
        kx_err(KXL_ERR_STATE, "the QEMU of '%s' is gone", s->name);
        return -1;
    }
    snprintf(link, sizeof(link), "/proc/%d/root", (int)s->qemu_pid);
    ssize_t n = readlink(link, root, sizeof(root) - 1);
    bool jailed = n > 0 && !(n == 1 && root[0] == '/');
    /* the empty root is made 0555 (host_jail_root), but under the supervisor's umask 077 it
     * becomes 0500: QEMU's uid could not reach a directory in it */
    struct stat st;
    if (jailed && stat(link, &st) == 0 && (st.st_mode & 0555) != 0555 &&
        chmod(link, (st.st_mode & 07777) | 0555) < 0) {
        kx_err_errno(KXL_ERR_PERMISSION, "cannot let QEMU into its root '%s'", link);
        return -1;
    }
    AUTOFREE char *name = kx_asprintf("kxl-tls-%d", (int)getpid());
    d->host_dir = jailed ? kx_asprintf("%s/%s", link, name) : kx_path_join(s->dir, name);
    d->qemu_dir = jailed ? kx_asprintf("/%s", name) : kx_strdup(d->host_dir);
    return 0;
}

static void creds_dir_remove(creds_dir *d)
{
    if (d->host_dir)
        kx_rm_dir_flat(d->host_dir);
    free(d->host_dir);
    free(d->qemu_dir);
    *d = (creds_dir){0};
}

/* The server end's Diffie-Hellman group: RFC 7919's ffdhe2048 (what `openssl genpkey
 * -genparam -algorithm DH -pkeyopt group:ffdhe2048` prints). Without a dh-params.pem QEMU
 * generates a 2048-bit group each time the object is made: 0.2 s on an idle host here and
 * seconds on a busy one, all of it while the sender waits to send the guest's memory. */
static const char ffdhe2048_pem[] =
    "-----BEGIN DH PARAMETERS-----\n"
    "MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz\n"
    "+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a\n"
    "87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7\n"
    "YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi\n"
    "7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD\n"
    "ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==\n"
    "-----END DH PARAMETERS-----\n";

/* data as dir/to, mode 0400, owned by QEMU's uid. */
static int give_one(const char *data, size_t len, const creds_dir *d, const char *to)
{
    AUTOFREE char *dst = kx_path_join(d->host_dir, to);
    if (kx_write_file_atomic(dst, data, len, 0400) < 0)
        return -1;
    if (chown(dst, d->uid, (gid_t)-1) < 0) {
        kx_err_errno(KXL_ERR_PERMISSION, "cannot give '%s' to QEMU", dst);
        return -1;
    }
    return 0;
}

/* tls_dir/from as dir/to (give_one). */
static int copy_one(const char *tls_dir, const char *from, const creds_dir *d, const char *to)
{
    AUTOFREE char *src = kx_path_join(tls_dir, from);
    size_t len = 0;
    AUTOFREE char *data = kx_read_file(src, &len);
    return data ? give_one(data, len, d, to) : -1;
}

static int creds_dir_fill(sv *s, const creds_dir *d, bool server)
{
    AUTOFREE char *tls_dir = kxl_tls_dir(&s->paths);
    const char *end = server ? "server" : "client";
    AUTOFREE char *cert = kx_asprintf("%s-cert.pem", end);
    AUTOFREE char *key = kx_asprintf("%s-key.pem", end);
    if (mkdir(d->host_dir, 0500) < 0 && errno != EEXIST) {
        kx_err_errno(KXL_ERR_HOST, "cannot create '%s'", d->host_dir);
        return -1;
    }
    if (chmod(d->host_dir, 0700) < 0 || chown(d->host_dir, d->uid, (gid_t)-1) < 0) {
        kx_err_errno(KXL_ERR_PERMISSION, "cannot give '%s' to QEMU", d->host_dir);
        return -1;
    }
    if (copy_one(tls_dir, "ca-cert.pem", d, "ca-cert.pem") < 0 ||
        copy_one(tls_dir, "host-cert.pem", d, cert) < 0 ||
        copy_one(tls_dir, "host-key.pem", d, key) < 0)
        return -1;
    return server ? give_one(ffdhe2048_pem, sizeof(ffdhe2048_pem) - 1, d, "dh-params.pem") : 0;
}

static int creds_object(sv *s, const creds_dir *d, bool server)
{
    json_object *del = json_object_new_object();
    json_object_object_add(del, "id", json_object_new_string(TLS_OBJECT));
    qmp_execute(s->qmp, "object-del", del, NULL, 5000);   /* a failed attempt's: no matter */
    kx_err_clear();
    json_object *a = json_object_new_object();
    json_object_object_add(a, "qom-type", json_object_new_string("tls-creds-x509"));
    json_object_object_add(a, "id", json_object_new_string(TLS_OBJECT));
    json_object_object_add(a, "dir", json_object_new_string(d->qemu_dir));
    json_object_object_add(a, "endpoint", json_object_new_string(server ? "server" : "client"));
    json_object_object_add(a, "verify-peer", json_object_new_boolean(true));
    return qmp_execute(s->qmp, "object-add", a, NULL, 10000);
}

int sv_tls_on(sv *s, const char *hostname)
{
    bool server = hostname == NULL;
    creds_dir d = {0};
    int r = creds_dir_init(s, &d);
    if (r == 0)
        r = creds_dir_fill(s, &d, server);
    if (r == 0)
        r = creds_object(s, &d, server);
    creds_dir_remove(&d);   /* QEMU holds them now, or failed */
    if (r < 0) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        kx_err(KXL_ERR_HOST, "cannot give QEMU the relocation certificates: %s", why);
        return -1;
    }
    sv_event(s, "migrate: QEMU's own TLS on the stream (%s end)", server ? "server" : "client");
    json_object *p = json_object_new_object();
    json_object_object_add(p, "tls-creds", json_object_new_string(TLS_OBJECT));
    if (hostname)
        json_object_object_add(p, "tls-hostname", json_object_new_string(hostname));
    return qmp_execute(s->qmp, "migrate-set-parameters", p, NULL, 5000);
}

void sv_tls_off(sv *s)
{
    if (!s->qmp)
        return;
    /* a later save or ssh migration writes a plain stream again */
    json_object *p = json_object_new_object();
    json_object_object_add(p, "tls-creds", json_object_new_string(""));
    json_object_object_add(p, "tls-hostname", json_object_new_string(""));
    qmp_send_command(s->qmp, "migrate-set-parameters", p, NULL, NULL);
    json_object *del = json_object_new_object();
    json_object_object_add(del, "id", json_object_new_string(TLS_OBJECT));
    qmp_send_command(s->qmp, "object-del", del, NULL, NULL);
}
