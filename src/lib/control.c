/* control.c - client side of a supervisor's control socket. */
#include "lib/control.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

int control_connect(const kxl_paths *p, const char *name, const char *sock)
{
    AUTOFREE char *path = kxl_domain_file(p, name, sock);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        kx_err(KXL_ERR_INVALID, "socket path '%s' is too long (KXL_ROOT is too deep)", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    AUTOCLOSE int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        kx_err_errno(errno == ENOENT || errno == ECONNREFUSED ? KXL_ERR_STATE : KXL_ERR_INTERNAL,
                     "cannot reach the supervisor of '%s'", name);
        return -1;
    }
    return TAKE_FD(fd);
}

static int send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one line (without the newline) within timeout_ms, and nothing after it: what follows
 * may be a stream (watch). A chunk is peeked and only its part up to the newline consumed,
 * rather than a system call per byte (top asks every domain every frame). */
static char *read_line(int fd, int timeout_ms, const char *name)
{
    kx_buf b = KX_BUF_INIT;
    char buf[4096];
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        ssize_t n = r > 0 ? recv(fd, buf, sizeof(buf), MSG_PEEK) : -1;
        char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
        size_t take = nl ? (size_t)(nl - buf) + 1 : n > 0 ? (size_t)n : 0;
        if (take && read(fd, buf, take) == (ssize_t)take) {
            kx_buf_addn(&b, buf, nl ? take - 1 : take);
            if (nl)
                return kx_buf_steal(&b);
            continue;
        }
        kx_err(KXL_ERR_STATE, r == 0 ? "the supervisor of '%s' did not answer in time"
                                     : "the supervisor of '%s' hung up", name);
        kx_buf_dispose(&b);
        return NULL;
    }
}

json_object *control_error_json(void)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(kxl_errcode_name(kx_err_code())));
    json_object_object_add(e, "desc", json_object_new_string(kx_err_msg()));
    return e;
}

void control_error_restore(json_object *err)
{
    if (json_object_is_type(err, json_type_string))   /* a supervisor older than the codes */
        kx_err(KXL_ERR_STATE, "%s", json_object_get_string(err));
    else
        kx_err(kxl_errcode_from_name(kx_json_str(err, "code", NULL)), "%s",
               kx_json_str(err, "desc", "the supervisor gave no reason"));
}

int control_call(const kxl_paths *p, const char *name, const char *cmd, json_object *args,
                 json_object **ret_r, int timeout_ms)
{
    if (runtime_ensure_supervisor(p, name) < 0) {
        json_object_put(args);
        return -1;
    }
    AUTOCLOSE int fd = control_connect(p, name, "control.sock");
    if (fd < 0) {
        json_object_put(args);
        return -1;
    }
    return control_request(fd, name, cmd, args, ret_r, timeout_ms);
}

/* The line's first byte carries the descriptor, the rest follows as usual. */
static int send_with_fd(int fd, const char *s, size_t n, int pass_fd)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof(u));
    struct iovec iov = {.iov_base = (void *)s, .iov_len = 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space,
                       .msg_controllen = sizeof(u.space)};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &pass_fd, sizeof(int));
    ssize_t w;
    while ((w = sendmsg(fd, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return w == 1 ? send_all(fd, s + 1, n - 1) : -1;
}

int control_send(int fd, const char *name, const char *cmd, json_object *args, int pass_fd)
{
    AUTOPTR(json_object) req = json_object_new_object();
    json_object_object_add(req, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(req, "arguments", args);
    AUTOFREE char *line = kx_asprintf("%s\n", kx_json_text(req));
    int r = pass_fd >= 0 ? send_with_fd(fd, line, strlen(line), pass_fd)
                         : send_all(fd, line, strlen(line));
    if (r < 0)
        kx_err_errno(KXL_ERR_STATE, "cannot talk to the supervisor of '%s'", name);
    return r;
}

int control_request(int fd, const char *name, const char *cmd, json_object *args,
                    json_object **ret_r, int timeout_ms)
{
    if (control_send(fd, name, cmd, args, -1) < 0)
        return -1;
    return control_read_reply(fd, name, ret_r, timeout_ms);
}

int control_read_reply(int fd, const char *name, json_object **ret_r, int timeout_ms)
{
    AUTOFREE char *reply_text = read_line(fd, timeout_ms, name);
    return reply_text ? control_parse_reply(reply_text, ret_r) : -1;
}

int control_parse_reply(const char *reply_text, json_object **ret_r)
{
    AUTOPTR(json_object) reply = kx_json_parse(reply_text, "supervisor reply");
    if (!reply)
        return -1;
    json_object *err;
    if (json_object_object_get_ex(reply, "error", &err)) {
        control_error_restore(err);
        return -1;
    }
    json_object *ret;
    if (ret_r && json_object_object_get_ex(reply, "return", &ret))
        *ret_r = json_object_get(ret);
    return 0;
}
