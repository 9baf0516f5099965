/* image_internal.h - what the parts of create-image share: the job being run (in a child
 * process, image_child.c), the command runner (process group, private mount namespace, signal
 * forwarding), files written inside the guest's tree without following its symlinks out of it,
 * and host facts. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/create_image.h"
#include "util/buf.h"
#include "util/json.h"

/* One run of create-image. */
typedef struct {
    const image_opts *o;
    image_result *r;
    char *work;          /* ROOT/var/lib/kxl/tmp/create-image.HOST.XXXXXX, removed at the end */
    char *tree;          /* WORK/root: the guest's root file system being built */
    char *domain_dir;    /* DIR/domains/HOST, for file images */
    char *disk_final, *swap_final;   /* where the disks end up */
    char *disk_tmp, *swap_tmp;       /* what is written, renamed over *_final at the end */
    char *root_uuid, *swap_uuid;
    char *kernel;        /* the kernel version in the tree's /boot */
    kx_strv made;        /* removed if the run fails: paths, "lv:VG/NAME" for volumes, newest
                          * last; a path ending in '/' is a directory removed if empty */
    int step, steps;
    int domain_lock_fd;
    int template_lock_fd;   /* shared while the template is in use, so --refresh waits */
    bool private_mounts;    /* the run has a mount namespace of its own: mounts vanish with it */
} image_job;

/* The run itself, in the calling process: what image_create runs in its child process
 * (image_child.c), which has already entered a private mount namespace if private_mounts and
 * catches the signals. Same contract as image_create, without r->seconds. */
int image_job_run(const image_opts *o, bool private_mounts, image_result *r);

/* image_opts_json.c: *o as JSON, every field as it is, and "progress": whether o->progress
 * is set (the caller's reference)... */
json_object *image_opts_to_json(const image_opts *o);
/* ...and back into *o (initialised here; the caller disposes it), o->progress left NULL. */
void image_opts_of_json(json_object *j, image_opts *o);

/* Announces the next step through o->progress. */
void image_step(image_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- running tools (image_run.c) ---- */

typedef struct {
    char *const *argv;
    const char *what;          /* names the command in errors (default: the command line) */
    const char *chroot;        /* run inside this root */
    const char *stdin_data;    /* NULL: /dev/null */
    kx_buf *out_r;             /* gets stdout; NULL: dropped (echoed to stderr if verbose) */
    char *const *env;          /* "K=V" added to the environment, NULL-terminated, or NULL */
    bool passthrough;          /* stdout and stderr go straight to ours (role scripts) */
    bool verbose;              /* echo what it prints to stderr */
    bool cleanup;              /* runs even after a signal was caught (undoing the run) */
} image_cmd;

/* Runs a command in its own process group and mount namespace (mounts it leaves vanish with
 * it) and waits. A SIGINT/SIGTERM/SIGHUP caught meanwhile is passed on to the group (a
 * second one kills it). Returns 0 when it exited with 0; otherwise -1 with kx_err: what
 * failed and the line of its error output that says why, or "interrupted". */
int image_run(const image_cmd *c);
/* image_run of the NULL-terminated arguments after arg0, with o->verbose. */
int image_runl(const image_opts *o, const char *arg0, ...) __attribute__((sentinel));

/* Catches SIGINT, SIGTERM and SIGHUP (without SA_RESTART) and ignores SIGPIPE, for good:
 * only create-image's child process calls it. */
void image_signals_catch(void);
/* True once one was caught; then sets kx_err ("interrupted by SIGINT"). */
bool image_interrupted(void);

/* Removes a tree without crossing into other file systems, after unmounting what is mounted
 * below it. Missing is fine. */
int image_rm_tree(const char *path);
/* Bytes used by the files of a tree (st_blocks), for the size check. */
uint64_t image_tree_bytes(const char *path);

/* ---- files inside the guest's tree (image_tree.c) ---- */

/* Writes TREE/rel (replacing it, a symlink included, through a rename) with symlinks in its
 * parent path resolved inside the tree, so a hostile tree cannot redirect the write onto the
 * host. Parents must exist. */
int image_tree_write(const char *tree, const char *rel, const char *data, unsigned mode);
int image_tree_writef(const char *tree, const char *rel, unsigned mode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* mkdir -p of TREE/rel, resolved inside the tree. */
int image_tree_mkdir(const char *tree, const char *rel, unsigned mode);
/* Makes TREE/rel a symlink to target (replacing what is there). */
int image_tree_symlink(const char *tree, const char *rel, const char *target);
/* Removes TREE/rel if it exists (not a directory). */
int image_tree_unlink(const char *tree, const char *rel);
/* open(2) of TREE/rel resolved inside the tree; -1 with kx_err. */
int image_tree_open(const char *tree, const char *rel, int flags);
/* True when TREE/rel exists (resolved inside the tree). */
bool image_tree_exists(const char *tree, const char *rel);
/* Reads TREE/rel; NULL with kx_err when missing. Caller frees. */
char *image_tree_read(const char *tree, const char *rel);

/* ---- host facts (image_host.c) ---- */

/* VERSION_CODENAME of /etc/os-release; NULL with kx_err. Caller frees. */
char *image_host_codename(void);
/* The first Debian archive URI (not a -security one) in the host's apt sources
 * (sources.list and sources.list.d/ *.list, *.sources) that lists suite dist, else one
 * that lists any plain suite; NULL with kx_err. Caller frees. */
char *image_host_mirror(const char *etc_apt, const char *dist);
/* The nameservers of the host's resolv.conf that a guest can reach (not loopback ones),
 * space-separated, or NULL. Caller frees. */
char *image_host_nameservers(void);
/* True when the program is found in PATH. */
bool image_have_tool(const char *name);
/* True when the host has device-mapper (LVM volumes can be activated). */
bool image_have_device_mapper(void);

/* ---- the steps (image_template.c, image_source.c, image_install.c, image_disk.c) ---- */

/* Debootstrap method: makes sure the DIST-ARCH template exists (building it under a lock
 * the first time or with --refresh) and copies it to j->tree. */
int image_template_copy(image_job *j);
/* copy, tar and image methods: fills j->tree from --install-source. */
int image_source_copy(image_job *j);
/* Makes j->tree a writable view of the directory base: an overlay mount (base stays
 * untouched, nothing is copied) when the run has a private mount namespace, else a copy. */
int image_base_tree(image_job *j, const char *base);
/* Customises j->tree for this guest; finds the kernel (j->kernel). */
int image_install(image_job *j);
/* Runs --role SCRIPT on j->tree. */
int image_run_role(image_job *j);
/* Makes the root disk (file system populated from j->tree) and the swap disk, as temporary
 * files or volumes that image_disk_commit puts in place. */
int image_disk_root(image_job *j);
int image_disk_swap(image_job *j);
/* Renames the temporary disks over the final ones (removing a replaced volume first). */
int image_disk_commit(image_job *j);

/* ---- helpers (image_summary.c) ---- */

/* A random UUID (version 4), or a locally administered-free Xen MAC 00:16:3e:xx:xx:xx.
 * Caller frees. */
char *image_random_uuid(void);
char *image_random_mac(void);
/* A random password of n letters and digits without look-alikes. Caller frees (after
 * clearing it). */
char *image_random_password(size_t n);
/* "4 GiB" or "256 MiB". Caller frees. */
char *image_mib_text(uint64_t mib);
