/* qemu_argv.h - the QEMU command line of a domain: a pure function of its
 * config and the host facts, golden-tested (tests/data/cfg2argv). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "kxl/domcfg.h"
#include "util/buf.h"

/* A disk's image as the supervisor hands it to QEMU: the fd set QEMU opens instead of the
 * path, whether it is a block device, and the node of the files below it (NULL: none). */
typedef struct {
    const char *filename;      /* "/dev/fdset/N"; NULL: QEMU opens the path itself */
    bool block;
    json_object *backing;      /* borrowed */
} kx_disk_source;

/* What the argv depends on besides the config; filled by the caller (lib),
 * fixed by the golden tests. */
typedef struct {
    const char *qemu_binary;   /* e.g. /usr/bin/qemu-system-x86_64 */
    const char *run_dir;       /* the domain's runtime directory (sockets) */
    kxl_accel accel;           /* resolved: KVM or TCG, never AUTO */
    bool sandbox;              /* QEMU has seccomp support (-sandbox) */
    bool vhost;                /* /dev/vhost-net can carry virtio-net (KVM only) */
    const char *qemu_user;     /* the user QEMU runs as once set up (-runas); NULL: root */
    unsigned jail_uid;         /* with qemu_user: the domain's own uid and gid instead of
                                  qemu_user's (kxl_qemu_jail_uid); 0: qemu_user's */
    const char *jail_root;     /* the empty directory QEMU chroots into once set up; NULL:
                                  none */
    const char *ovmf_code;     /* firmware = "ovmf": the firmware image (read-only) ... */
    const char *ovmf_vars;     /* ... and the domain's own copy of its variable store;
                                  NULL: the host has no OVMF */
    const char *pvh_kernel;    /* the ELF to load instead of cfg->kernel, booted at its PVH
                                  entry point (boot/pvh.h); NULL: cfg->kernel as it is */
    bool (*is_block_device)(const char *path); /* which disk images are block devices
                                                  (kx_is_block_device); NULL: those in /dev */
    const kx_disk_source *disk_sources;  /* one per cfg->disks entry, or NULL */
    const kx_strv *add_fds;              /* -add-fd values that make those fd sets */
    const char *machine;       /* the concrete machine type a restored stream needs
                                  ("pc-i440fx-7.2"); NULL: "pc", QEMU's newest */
    long long now;             /* the time QEMU starts (time(2)): the RTC's base when the
                                  config offsets it */
    const char *tpm_socket;    /* vtpm: the control socket of the domain's swtpm; NULL: the
                                  placeholder <tpm-socket> (a dry run) */
    bool incoming;             /* QEMU waits for a migration stream (-incoming defer): a
                                  restore, later a migration's target */
} kx_host;

/* What a TCG guest gets beyond its memory. QEMU before 9.0 (Debian bookworm's 7.2) loses
 * guest writes in a live migration under TCG: the fast path of its dirty-bitmap sync clears
 * the bits of a RAM block whose size is a multiple of 64 pages without making the vCPUs'
 * TLBs catch the next write, so a page the guest writes through a TLB entry it already had
 * is never sent again (fixed upstream by "physmem: Fix migration dirty bitmap coherency with
 * TCG memory access"). Seen here as a guest that oopses or hangs on the receiver. A RAM
 * block of another size takes the page-by-page path, which resets the TLBs; two pages
 * more, as QEMU rounds -m to 8 KiB, are invisible in MiB figures (the balloon's target
 * and every size kxl shows are whole MiB). Its cost: the first sync walks every page with
 * the main lock held (QEMU's setup-time 92 ms against 2-7 ms for 256 MiB here, so the guest's
 * devices wait that long as a migration or save starts); later syncs walk only the dirty pages.
 * Not under KVM, whose dirty log has no such hole and whose page-by-page path would cost a
 * KVM_CLEAR_DIRTY_LOG call a page. */
#define QEMU_TCG_RAM_PAD_KIB 8

/* A host PCI device's QEMU id, from its address ("hostdev-0000-01-00.0"): stable across
 * hot-plugs, unlike a position. */
void qemu_pci_id(const char *bdf, char id_r[32]);

/* The supervisor hands QEMU the taps of the (plugged) vifs, in order, as
 * these file descriptors. */
#define QEMU_TAP_FD(i) (3 + (i))

/* The highest VNC display: its port, 5900 + display, must be a port number. */
#define QEMU_VNC_DISPLAY_MAX (65535 - 5900)

/* Appends the full argv (argv[0] first) for cfg to *argv_r.
 * Returns 0, or -1 with kx_err set when cfg asks for what QEMU cannot do. */
int qemu_build_argv(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv_r);

/* The index N of the serial port the supervisor offers as the console
 * (socket serialN.sock): the first "pty" entry; -1 when there is none. */
int qemu_console_serial(const kxl_domcfg *cfg);
/* Whether the kernel command line names hvc0 as a console (QEMU then gets a virtio console
 * that Linux names hvc0), and whether hvc0 is its last console=, the one Linux makes
 * /dev/console and so the one `kxl console` attaches to. */
bool qemu_wants_hvc(const kxl_domcfg *cfg);
bool qemu_console_on_hvc(const kxl_domcfg *cfg);
/* The socket in the runtime directory the supervisor serves as the console: "hvc0.sock" or
 * "serialN.sock"; NULL when the domain has no console. Caller frees. */
char *qemu_console_socket(const kxl_domcfg *cfg);

/* The -cpu model a domain gets under accel (resolved): its config's cpu (cfg may be NULL),
 * else "host" under KVM and "qemu64" under TCG. What a save file records, since a stream
 * loads only into the same model. */
const char *qemu_cpu_model(const kxl_domcfg *cfg, kxl_accel accel);

/* Whether QEMU runs under its seccomp sandbox: yes unless KXL_QEMU_SANDBOX=0
 * (for a QEMU built without seccomp). */
bool qemu_sandbox_wanted(void);

/* Escapes a value for QEMU's option syntax (',' becomes ',,'); caller frees. */
char *qemu_opt_escape(const char *value);
