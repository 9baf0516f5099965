/* spawn.h - process helpers: pidfds, liveness, child subreaping. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* pidfd_open(2); -1 with errno set. */
int kx_pidfd_open(pid_t pid);
/* pidfd_send_signal(2): sig to the process of pidfd, never to a later one that reuses its
 * pid; -1 with errno set. */
int kx_pidfd_signal(int pidfd, int sig);
/* Waits up to timeout_ms for the process of pidfd to end; true once it has (its last thread
 * is gone: a zombie leader whose threads still exit has not). */
bool kx_pidfd_wait(int pidfd, int timeout_ms);
/* True when a process with this pid exists (zombies count as gone). */
bool kx_pid_alive(pid_t pid);
/* True when pid is stopped (SIGSTOP, or traced): it runs nothing until it is continued. */
bool kx_pid_stopped(pid_t pid);
/* The start time of pid (field 22 of /proc/PID/stat), 0 if gone or a zombie; with the pid
 * it identifies a process across pid reuse. */
unsigned long long kx_pid_starttime(pid_t pid);
/* Runs argv[0] (searched in PATH) with argv, stdin from /dev/null, and waits.
 * Returns 0 when it exited with status 0; otherwise -1 with kx_err saying
 * what = "tc ..." failed and the first line it printed on stderr. */
int kx_run(char *const argv[]);
/* As kx_run; returns what the command printed on its standard output (caller frees), or
 * NULL with kx_err. */
char *kx_run_capture(char *const argv[]);

/* In a forked child before exec: no blocked signals, SIGPIPE at its default, whatever the
 * parent chose for itself (kxld blocks SIGTERM in every thread and ignores SIGPIPE; an exec
 * keeps both). Async-signal-safe. */
void kx_child_reset_signals(void);
/* In a forked child whose exec failed: prefix, the text of errno and a newline to fd, then
 * _exit(127). Async-signal-safe. */
_Noreturn void kx_child_fail(int fd, const char *prefix);

/* The child started by kx_fork_piped, between in_fd (what the parent writes to *to_r) and
 * out_fd (what it reads from *from_r): it execs a program, or _exits. The caller may be
 * threaded (kxld): it calls only async-signal-safe functions, whatever it needs prepared in
 * arg before the fork. Should it return, the child ends with status 127. */
typedef void (*kx_piped_fn)(void *arg, int in_fd, int out_fd);
/* Starts fn(arg, ...) in a child process with two pipes: *to_r (written here) and *from_r
 * (read here); *pid_r the child, for the caller to reap. The child starts with the signal
 * state kx_child_reset_signals gives, SIGPIPE ignored (a relay sees EPIPE instead). what
 * names it in errors ("the relocation transport"). 0, or -1 with kx_err and nothing left. */
int kx_fork_piped(kx_piped_fn fn, void *arg, const char *what, pid_t *pid_r, int *to_r,
                  int *from_r);

/* Makes the caller a child subreaper (PID 1 here reaps slowly, see DESIGN.md). */
int kx_become_subreaper(void);
