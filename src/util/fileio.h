/* fileio.h - whole-file reads, atomic writes, directories and paths. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Reads a whole file (NUL-terminated; *len_r gets its length if not NULL).
 * Returns NULL with kx_err set ("cannot read 'PATH': ..."). Caller frees. */
char *kx_read_file(const char *path, size_t *len_r);
/* Appends what fd gives until EOF, or until b holds max bytes; -1 with errno set. */
int kx_read_all(int fd, kx_buf *b, size_t max);
/* write(2) until all of data is written (EINTR retried); -1 with errno set. */
int kx_write_all(int fd, const char *data, size_t len);
/* Writes data to PATH.tmp and renames it over path, so readers never see half a file. */
int kx_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* mkdir -p; existing directories are fine. */
int kx_mkdir_p(const char *path, mode_t mode);
/* Removes a directory and the files directly in it (runtime dirs are flat). */
int kx_rm_dir_flat(const char *path);
bool kx_path_exists(const char *path);
/* Whether path (followed through links) is a block device; false if it cannot be stat'ed. */
bool kx_is_block_device(const char *path);
/* Joins two path parts with one '/'; caller frees. */
char *kx_path_join(const char *a, const char *b);
/* Reads a small file holding a decimal number. */
int kx_read_long(const char *path, long long *v_r);
