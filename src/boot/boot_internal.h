/* boot_internal.h - what the parts of the built-in pygrub share: the disk being read and its
 * partitions, the file system that has the kernels, and one function per step (partition
 * tables, ext2/3/4 access, the choice of kernel, copying out, the raw view of a qcow2 image,
 * the deprivileged child). The public contract is bootloader.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ext2fs/ext2fs.h>

#include "boot/bootloader.h"
#include "util/buf.h"
#include "util/cleanup.h"

#define BL_MAX_PARTS 128
#define BL_TEXT_MAX (1 << 20)   /* grub.cfg, grubenv and the child's answer */

typedef struct {
    unsigned num;     /* the guest's partition number: /dev/vdaN */
    uint64_t offset;  /* bytes from the start of the disk */
} bl_part;

typedef struct {
    const char *image;     /* as the caller named it, for messages */
    int fd;                /* what is read (the image, a FUSE export or a raw copy), read-only */
    const char *out_dir;
    bl_part parts[BL_MAX_PARTS];
    size_t nparts;
} bl_disk;

/* The file system that has the kernels. */
typedef struct {
    unsigned part;    /* 0: the whole disk */
    const char *dir;  /* where kernels and grub/ are: "/boot", or "" on a separate /boot */
} bl_where;

typedef struct struct_ext2_filsys bl_extfs;

/* ---- the whole job (bootloader.c) ---- */

/* Partitions, file system, entry, copy and cmdline, on a raw view of the disk open as fd;
 * fills *e (which the caller disposes). 0, or -1 with kx_err. */
int bl_extract(const char *image, int fd, const char *out_dir, kx_bootentry *e);

/* ---- partition tables (boot_parts.c) ---- */

/* Fills d->parts from d->fd's MBR (primary and logical partitions), or its GPT when the MBR
 * is protective. A missing or damaged table gives no partitions; nothing is reported. */
void bl_parts_read(bl_disk *d);

/* ---- ext2/3/4 through libext2fs (boot_ext.c) ---- */

/* The file system at byte offset off of d->fd, read-only; NULL (quietly) if none. Free with
 * bl_ext_close (NULL-safe). */
bl_extfs *bl_ext_open(const bl_disk *d, uint64_t off);
void bl_ext_close(bl_extfs *fs);
DEFINE_AUTOPTR(bl_extfs, bl_ext_close)
/* Whether path (after symlinks within fs) is a regular file; its inode in *ino_r if not NULL. */
bool bl_ext_is_file(ext2_filsys fs, const char *path, ext2_ino_t *ino_r);
bool bl_ext_file_in_dir(ext2_filsys fs, const char *dir, const char *name);
/* Streams a file to out_fd if >= 0, else into *text (up to max bytes). 0 or an errcode_t,
 * which for a failed write is the errno (error_message gives strerror for those). */
errcode_t bl_ext_read(ext2_filsys fs, ext2_ino_t ino, int out_fd, kx_buf *text, size_t max);
/* A small text file (up to BL_TEXT_MAX) as a string; NULL when it is missing, or unreadable
 * (with a warning). Caller frees. */
char *bl_ext_read_text(ext2_filsys fs, const char *path);
/* Appends to *names_r the names in directory dir ("" for the root) that start with prefix. */
void bl_ext_list(ext2_filsys fs, const char *dir, const char *prefix, kx_strv *names_r);
/* A file's size; 0 when its inode cannot be read. */
uint64_t bl_ext_size(ext2_filsys fs, ext2_ino_t ino);

/* ---- choosing the kernel (boot_choose.c) ---- */

/* Opens the first file system with kernels: the whole disk, then each partition in order;
 * NULL with kx_err (KXL_ERR_NOT_FOUND) when there is none. */
bl_extfs *bl_find_fs(const bl_disk *d, bl_where *w_r);
/* The default entry of grub.cfg in dir (with grubenv's saved_entry): 0; 1 when there is no
 * grub.cfg, or (*why_r, the caller's, says why: "PATH: ...") it has no usable entry. */
int bl_grub_entry(ext2_filsys fs, const char *dir, kx_bootentry *e, char **why_r);
/* Without (usable) grub.cfg: the newest kernel in dir and its initrd; cmdline stays NULL.
 * -1 (quietly) when dir has no kernel. */
int bl_newest_entry(ext2_filsys fs, const char *dir, kx_bootentry *e);
/* The cmdline when grub.cfg gave none. Caller frees. */
char *bl_default_cmdline(const bl_disk *d, const bl_where *w);
/* "partition N" or "the whole-disk file system", for messages. Caller frees. */
char *bl_where_str(unsigned part);

/* ---- copying out (boot_copy.c) ---- */

/* Copies e's kernel and initrds into d->out_dir as vmlinuz and initrd.img (removing a stale
 * initrd.img when e has none), replacing e's paths with those found in fs. 0, or -1 with
 * kx_err (a file missing, over its size limit, or a failed write). */
int bl_copy_files(const bl_disk *d, ext2_filsys fs, const bl_where *w, kx_bootentry *e);

/* ---- a raw view of a qcow2 image (boot_raw.c) ---- */

typedef struct {
    char *path;  /* what to read as a raw disk */
    char *mnt;   /* FUSE mountpoint (a regular file) to unmount and remove */
    char *copy;  /* raw copy to remove */
    pid_t pid;   /* qemu-storage-daemon, or -1 */
} bl_raw;

/* Fills r->path with something to read as a raw disk: the image itself for format raw (or
 * NULL), else a read-only FUSE export by qemu-storage-daemon, else a sparse raw copy made in
 * out_dir. 0, or -1 with kx_err. r starts as {.pid = -1}; bl_raw_close it either way. */
int bl_raw_open(bl_raw *r, const char *image, const char *format, const char *out_dir);
/* Stops the daemon and removes what bl_raw_open made; idempotent. */
void bl_raw_close(bl_raw *r);

/* ---- the deprivileged child (boot_child.c) ---- */

/* bl_extract in a child that has become uid and gid for good, reading the disk open as fd;
 * its output files are moved into out_dir as root's. 0, or -1 with kx_err (the child's). */
int bl_extract_as(uid_t uid, gid_t gid, const char *image, int fd, const char *out_dir,
                  kx_bootentry *e);
