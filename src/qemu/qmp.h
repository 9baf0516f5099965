/* qmp.h - QMP wire protocol: greeting, capabilities negotiation, synchronous
 * commands and asynchronous events over one Unix-socket connection. */
#pragma once

#include <json-c/json.h>

typedef struct qmp_conn qmp_conn;

/* Called for each event, in arrival order; data may be NULL. The callee does
 * not own data (json_object_get it to keep it). It may run commands on the
 * connection (not close it) and is not entered again meanwhile: events that
 * arrive during those commands are delivered after it has returned. */
typedef void (*qmp_event_fn)(const char *event, json_object *data, void *opaque);

/* Connects to the QMP socket at path, retrying for up to timeout_ms while it
 * does not exist yet, reads the greeting and negotiates capabilities.
 * Returns NULL with kx_err set. */
qmp_conn *qmp_connect(const char *path, int timeout_ms);
/* Takes ownership of an already connected fd and performs the handshake. */
qmp_conn *qmp_open_fd(int fd);
/* Closes; NULL-safe. */
void qmp_close(qmp_conn *c);

/* The fd, for a poll/epoll loop: when readable, call qmp_dispatch(). */
int qmp_fd(const qmp_conn *c);
void qmp_set_event_handler(qmp_conn *c, qmp_event_fn fn, void *opaque);

/* Reads what is available and delivers complete events. Returns 0, or -1 when
 * the peer hung up or sent garbage (kx_err set). */
int qmp_dispatch(qmp_conn *c);

/* Runs cmd with args (taken; may be NULL) and waits up to timeout_ms for its
 * reply; events arriving meanwhile are delivered to the handler after the
 * reply is returned. On success *ret_r (may be NULL) gets the "return" value
 * (caller puts it). On an error reply: -1 with kx_err(KXL_ERR_QEMU,
 * "QEMU refused 'CMD': DESC"). */
int qmp_execute(qmp_conn *c, const char *cmd, json_object *args, json_object **ret_r,
                int timeout_ms);

/* Called with the reply to a command sent by qmp_send_command: ret is its "return" value
 * (borrowed), or NULL with kx_err(KXL_ERR_QEMU, "QEMU refused 'CMD': DESC"). Like the event
 * handler, it may run commands on the connection (not close it). */
typedef void (*qmp_reply_fn)(json_object *ret, void *opaque);

/* Sends cmd with args (taken; may be NULL) without waiting: its reply goes to fn (NULL: it is
 * dropped) from qmp_dispatch or a later qmp_execute, in order with the events. A command QEMU
 * takes long over (a job's start, a query while QEMU is busy) so blocks nobody. Replies not
 * yet delivered when the connection closes are dropped, fn uncalled. 0, or -1 with kx_err
 * when the command could not be sent. */
int qmp_send_command(qmp_conn *c, const char *cmd, json_object *args, qmp_reply_fn fn,
                     void *opaque);
/* The replies still due to commands sent with opaque go nowhere (their owner is gone). */
void qmp_forget_replies(qmp_conn *c, void *opaque);

/* Like qmp_execute, but also passes fd with SCM_RIGHTS (for getfd/add-fd). */
int qmp_execute_fd(qmp_conn *c, const char *cmd, json_object *args, int fd,
                   json_object **ret_r, int timeout_ms);
