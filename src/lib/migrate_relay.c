/* migrate_relay.c - the child process that both of kxl migrate's relays run in (the
 * relocation transport's TLS relay, migrate_reloc.c, and --copy-storage's or --postcopy's
 * framing, mig_mux.h): two pipes, a fork, and the child's ends handed to the relay. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/migrate.h"
#include "util/err.h"
#include "util/spawn.h"

/* The child: it never returns. */
static void relay_child(migrate_relay_fn fn, void *arg, const char *what, int in_fd, int out_fd)
{
    kx_child_reset_signals();
    signal(SIGPIPE, SIG_IGN);
    int r = fn(arg, in_fd, out_fd);
    if (r < 0)
        fprintf(stderr, "kxl: %s: %s\n", what, kx_err_msg());
    _exit(r < 0 ? 1 : 0);
}

int migrate_relay_start(migrate_relay_fn fn, void *arg, const char *what, pid_t *pid_r,
                        int *to_r, int *from_r)
{
    int to[2], from[2];
    pid_t pid;
    if (pipe2(to, O_CLOEXEC) < 0)
        goto undo_nothing;
    if (pipe2(from, O_CLOEXEC) < 0)
        goto undo_to;
    pid = fork();
    if (pid == 0) {
        close(to[1]);
        close(from[0]);
        relay_child(fn, arg, what, to[0], from[1]);
    }
    close(to[0]);
    close(from[1]);
    if (pid < 0) {
        close(to[1]);
        close(from[0]);
        goto undo_nothing;
    }
    *pid_r = pid;
    *to_r = to[1];
    *from_r = from[0];
    return 0;
undo_to:
    close(to[0]);
    close(to[1]);
undo_nothing:
    kx_err_errno(KXL_ERR_INTERNAL, "cannot start %s", what);
    return -1;
}
