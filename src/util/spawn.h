/* spawn.h - process helpers: pidfds, liveness, child subreaping. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* pidfd_open(2); -1 with errno set. */
int kx_pidfd_open(pid_t pid);
/* True when a process with this pid exists (zombies count as gone). */
bool kx_pid_alive(pid_t pid);
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

/* Makes the caller a child subreaper (PID 1 here reaps slowly, see DESIGN.md). */
int kx_become_subreaper(void);
