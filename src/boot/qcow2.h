/* qcow2.h - what a qcow2 image's header says about the image below it (its
 * backing file), read without QEMU. The supervisor opens a hot-plugged
 * image's backing chain itself: QEMU runs unprivileged by then, and it gets
 * the image as /dev/fdset/N, against which no relative name resolves. */
#pragma once

#include <stdbool.h>

/* Reads the header of the qcow2 image open on fd: *file_r gets its backing
 * file's name as stored (NULL: the image has none) and *format_r the format
 * the header gives for it (NULL: none given). Both are the caller's.
 * Returns 0, or -1 with kx_err set for a file that is not a qcow2 image
 * this reader understands (its message names path). */
int qcow2_read_backing(int fd, const char *path, char **file_r, char **format_r);

/* Whether the file open on fd starts as a qcow2 image does (its magic). */
bool qcow2_probe(int fd);

/* The path of backing file name of the image at path: name itself when it is
 * absolute, else name in the image's directory. Caller frees. */
char *qcow2_backing_path(const char *path, const char *name);
