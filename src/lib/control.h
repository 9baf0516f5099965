/* control.h - client side of a supervisor's control socket: one JSON request
 * line ({"execute": CMD, "arguments": {...}}), one JSON reply line. */
#pragma once

#include <json-c/json.h>

#include "kxl/kxl.h"

/* Sends cmd (args taken, may be NULL) to the supervisor of name and waits up
 * to timeout_ms for the reply. *ret_r (may be NULL) gets "return" (caller
 * puts it). An "error" reply becomes kx_err with its code and text. */
int control_call(const kxl_paths *p, const char *name, const char *cmd, json_object *args,
                 json_object **ret_r, int timeout_ms);
/* Sends cmd (args taken, may be NULL) on fd, connected to the control socket of name, and
 * reads its one reply line (nothing after it) within timeout_ms; as control_call. */
int control_request(int fd, const char *name, const char *cmd, json_object *args,
                    json_object **ret_r, int timeout_ms);
/* The two halves of control_request: the request (args taken), with pass_fd (>= 0) sent
 * along for the supervisor to take (SCM_RIGHTS) ... */
int control_send(int fd, const char *name, const char *cmd, json_object *args, int pass_fd);
/* ... and its reply (timeout_ms < 0: no limit). */
int control_read_reply(int fd, const char *name, json_object **ret_r, int timeout_ms);
/* A reply line already read (without its newline): 0 with *ret_r (when not NULL; caller
 * puts), or -1 with the supervisor's error restored as kx_err. */
int control_parse_reply(const char *reply_text, json_object **ret_r);
/* The wire form of the error kx_err recorded: {"code": NAME, "desc": SENTENCE} (new). */
json_object *control_error_json(void);
/* Records a reply's "error" member as if it had happened here (its code and sentence). */
void control_error_restore(json_object *err);
/* Connects to ROOT/run/kxl/NAME/SOCK; the fd or -1 with kx_err set. */
int control_connect(const kxl_paths *p, const char *name, const char *sock);
