/* create_image.h - kxl create-image, the equivalent of xen-tools' xen-create-image: builds a
 * Debian guest's root file system (debootstrap into a cached template, or a copy of a
 * directory, a tarball or another image), customises it (hostname, network, fstab, serial
 * console, fresh SSH host keys, root password), makes a whole-disk ext4 image of it with
 * mke2fs -d (nothing is mounted), a swap disk, and writes the domain's xl.cfg file. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum {
    IMG_INSTALL_DEBOOTSTRAP,
    IMG_INSTALL_COPY,    /* --install-source DIR: a copy of a directory tree */
    IMG_INSTALL_TAR,     /* --install-source FILE: a tarball of a root file system */
    IMG_INSTALL_IMAGE,   /* --install-source IMG: the file system of another disk image */
} image_method;

typedef enum { IMG_FORMAT_RAW, IMG_FORMAT_QCOW2 } image_format;

/* Called at the start of each step: "[step/total] what ..." */
typedef void (*image_progress_fn)(int step, int total, const char *what, void *opaque);

/* The options of one create-image run. Strings are owned; image_opts_dispose frees them. */
/* (a new field goes into image_opts_json.c's table too: image_create hands the options to
 * its child, a program of its own, as JSON) */
typedef struct {
    char *hostname;        /* required; also the domain's name */
    char *dist;            /* debootstrap suite; default: the host's VERSION_CODENAME */
    char *arch;            /* amd64 (default) or i386 */
    char *mirror;          /* default: the first Debian URI in the host's apt sources */
    uint64_t size_mib;     /* root disk; default 4 GiB */
    uint64_t swap_mib;     /* 0: no swap disk; default 256 MiB */
    uint64_t memory_mib;   /* default 512 MiB */
    unsigned vcpus;        /* default 1 */
    char *fs;              /* ext4 (default), ext3, ext2 */
    bool full;             /* --image full: allocate every block now */
    image_format format;
    char *dir;             /* images under DIR/domains/HOSTNAME/ */
    char *lvm;             /* or logical volumes HOSTNAME-disk, -swap in this volume group */
    char *ip;              /* static address, without the prefix */
    unsigned prefix;       /* its prefix length (from --netmask or --ip A.B.C.D/N) */
    char *gateway;
    char *nameserver;      /* space-separated addresses */
    bool dhcp;
    char *bridge;
    char *mac;             /* default: a random 00:16:3e:xx:xx:xx */
    char *password;        /* clear text, hashed inside the guest */
    bool genpass;
    char *hash;            /* an already hashed password (crypt(3) form) */
    char *ssh_key;         /* a public key file for root's authorized_keys */
    char *role;            /* a script run with the guest's root tree as $1 */
    image_method method;
    char *source;          /* --install-source for copy, tar and image */
    bool force;            /* overwrite an existing image and config */
    bool refresh;          /* rebuild the cached template */
    char *output;          /* where HOSTNAME.cfg goes; default ROOT/etc/kxl */
    /* set by the caller, not by options */
    char *lib_dir;         /* ROOT/var/lib/kxl: templates/, tmp/ and the default image dir */
    bool verbose;          /* echo what the tools print */
    image_progress_fn progress;
    void *progress_opaque;
    int cancel_fd;         /* -1, or the caller's (not closed here): a signalfd(2), or any fd
                            * that yields struct signalfd_siginfo records; each signal read
                            * from it is passed on to the run, which stops and undoes itself */
} image_opts;

/* What a successful run made, for the summary. Strings are owned. */
typedef struct {
    char *cfg_path;
    char *disk;            /* image file or logical volume */
    char *swap;            /* NULL without swap */
    char *mac;
    char *kernel;          /* the kernel version the guest boots */
    char *password;        /* the generated password (--genpass), else NULL */
    kx_strv fingerprints;  /* "256 SHA256:... root@host (ED25519)" */
    bool from_cache;       /* the template existed already */
    double template_seconds; /* time spent building the template (0 when cached) */
    double seconds;        /* the whole run */
} image_result;

/* Sets the defaults that need no host look-up. */
void image_opts_init(image_opts *o);
/* Frees the strings; idempotent. */
void image_opts_dispose(image_opts *o);

/* Parses create-image's command line (argv[0] is the command name) into *o. Returns 0, or -1
 * with kx_err (KXL_ERR_INVALID) naming the option, e.g. "--size 'x': not a size". */
int image_opts_parse(image_opts *o, int argc, char **argv);
/* Sets one option by its long name without the dashes ("hostname"), as image_opts_parse would
 * for --NAME=VALUE (value NULL: a flag, --NAME). Thread-safe (no getopt): for kxld. Returns 0,
 * or -1 with kx_err (KXL_ERR_INVALID) naming the option. */
int image_opts_set(image_opts *o, const char *name, const char *value);
/* Fills the defaults that come from the host (dist, mirror, output, MAC, dir) and checks the
 * options against each other and the host (files exist, tools are installed). etc_dir is
 * ROOT/etc/kxl. Returns 0, or -1 with kx_err (KXL_ERR_INVALID for a bad option,
 * KXL_ERR_NOT_FOUND for a missing file or tool, KXL_ERR_STATE for what the host cannot do). */
int image_opts_finish(image_opts *o, const char *etc_dir);
/* 0 when h is a host name create-image accepts, else -1 with kx_err saying why. */
int image_check_hostname(const char *h);

/* Creates the images and the config as *o says, in a child process of its own: the caller's
 * mount namespace, signal dispositions and signal mask are as they were when it returns, so a
 * daemon can run it. o->progress and log lines (through the caller's log sink) are called in
 * the caller, in order. On failure, on a SIGINT/SIGTERM/SIGHUP read from o->cancel_fd, or when
 * the caller dies, nothing of this run is left: no work tree, partial image, logical volume or
 * config ("interrupted by SIGINT; nothing was left behind"); an existing image or config
 * replaced with --force is only replaced once everything else is done. Returns 0 and fills *r,
 * or -1 with kx_err. */
int image_create(const image_opts *o, image_result *r);
void image_result_dispose(image_result *r);
/* image_create's child execs the calling program with this first argument (its caller may
 * be threaded: kxld): every main() that can call image_create hands such a command line to
 * image_child_main, which never returns. */
#define IMAGE_CHILD_ARG "--internal-create-image"
_Noreturn void image_child_main(int argc, char **argv);

/* Pure: the domain's xl.cfg text for o and the paths in r. Caller frees. */
char *image_config_text(const image_opts *o, const image_result *r);
/* Pure: the Installation Summary printed after a successful run. Caller frees. */
char *image_summary_text(const image_opts *o, const image_result *r);
