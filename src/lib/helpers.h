/* helpers.h - kxl's helper programs (kxl-supervisor, kxl-tls): where they are, and running
 * kxl-tls, which does in a process of its own the little that needs OpenSSL, so that no kxl
 * command and no supervisor loads it. */
#pragma once

#include <sys/types.h>

/* The helper called name (caller frees): $ENV_VAR when set, else next to this program, in
 * the build tree's BUILD_DIR beside it (../BUILD_DIR/NAME), in ../libexec/kxl, or
 * /usr/libexec/kxl/NAME. */
char *kxl_helper_path(const char *name, const char *build_dir, const char *env_var);

/* Starts kxl-tls with args (NULL-terminated, without the program's name), its stdin and
 * stdout on two pipes: *to_r to write to it, *from_r to read from it. */
int tls_helper_start(const char *const *args, pid_t *pid_r, int *to_r, int *from_r);
/* Reads kxl-tls's answer, one line on from_fd within timeout_ms: "OK[ REST]" gives 0 (REST,
 * or "", into *rest_r when not NULL; caller frees), "ERROR CODE MESSAGE" -1 with that error
 * as kx_err, and so does silence or a hang-up. */
int tls_helper_answer(int from_fd, int timeout_ms, char **rest_r);
/* Runs kxl-tls with args to its end: 0 when it answered OK, else -1 with its error. */
int tls_helper_run(const char *const *args);
