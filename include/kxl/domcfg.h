/* domcfg.h - the typed configuration of a domain, as resolved from an xl.cfg file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KXL_NAME_MAX 64
#define KXL_MAX_HOST_CPUS 1024
/* xl's credit weights: 1..65535, 256 by default */
#define KXL_CPU_WEIGHT_MIN 1
#define KXL_CPU_WEIGHT_MAX 65535
#define KXL_CPU_WEIGHT_DEFAULT 256
/* the least memory a domain may have (config memory, mem-set), MiB */
#define KXL_MEMORY_MIN_MIB 16
#define KXL_RTC_OFFSET_MAX (366 * 86400)

typedef enum { KXL_TYPE_HVM, KXL_TYPE_PV, KXL_TYPE_PVH } kxl_domtype;
typedef enum { KXL_ACCEL_AUTO, KXL_ACCEL_KVM, KXL_ACCEL_TCG } kxl_accel;

/* xl.cfg's on_poweroff / on_reboot / on_crash actions. */
typedef enum {
    KXL_ACTION_DESTROY,
    KXL_ACTION_RESTART,
    KXL_ACTION_RENAME_RESTART,
    KXL_ACTION_PRESERVE,
    KXL_ACTION_COREDUMP_DESTROY,
    KXL_ACTION_COREDUMP_RESTART,
    KXL_ACTION_SOFT_RESET,
} kxl_action;

/* on_host_shutdown: what host shutdown (kxl shutdown-host) does with a running domain. */
typedef enum {
    KXL_HOST_SHUTDOWN_SHUTDOWN,   /* shut down cleanly within its down timeout, then destroyed */
    KXL_HOST_SHUTDOWN_SAVE,       /* saved to var/lib/kxl/save/NAME.save, restored at next boot */
} kxl_host_shutdown;

typedef enum { KXL_DISK_FMT_RAW, KXL_DISK_FMT_QCOW2, KXL_DISK_FMT_QCOW, KXL_DISK_FMT_VHD,
               KXL_DISK_FMT_EMPTY } kxl_disk_format;
typedef enum { KXL_DISK_BACKEND_AUTO, KXL_DISK_BACKEND_PHY, KXL_DISK_BACKEND_FILE,
               KXL_DISK_BACKEND_TAP, KXL_DISK_BACKEND_QDISK } kxl_disk_backend;
/* The bus a virtual device name (xvda, hdc, sdb, vdb) asks for. */
typedef enum { KXL_DISK_BUS_VIRTIO, KXL_DISK_BUS_IDE, KXL_DISK_BUS_SCSI } kxl_disk_bus;

/* One entry of `disk = [ ... ]` (xl-disk-configuration(5)). */
typedef struct {
    char *target;            /* path of the image or device; NULL for an empty cdrom */
    char *vdev;              /* guest device name as written: xvda, hdc, sdb, vdb */
    kxl_disk_format format;
    kxl_disk_backend backend;
    kxl_disk_bus bus;
    int index;               /* position on its bus: xvda=0, xvdb=1, hdc=2 */
    int partition;           /* xvda2: 2, an image that was a partition of a Xen disk (a
                              * virtio disk of its own here); 0: a whole disk */
    bool readonly;
    bool cdrom;
    bool discard;            /* default true, as xl */
    bool unplugged;          /* hot-unplugged: keeps its index until a restart */
} kxl_disk;

/* One entry of `vif = [ ... ]` (xl-network-configuration(5)); attached by a later layer. */
typedef struct {
    char *mac;               /* NULL: derived from the uuid and index */
    char *bridge;
    char *model;             /* NULL: virtio */
    char *vifname;
    char *ip;
    char *rate;
    char *type;
    char *script;
    char *gatewaydev;
    int mtu;                 /* 0: default */
    bool unplugged;          /* hot-unplugged: keeps its index (device id) until a restart */
} kxl_vif;

/* The emulated graphics card (xl's vga / stdvga). */
typedef enum { KXL_VGA_DEFAULT, KXL_VGA_NONE, KXL_VGA_STD, KXL_VGA_CIRRUS, KXL_VGA_QXL } kxl_vga;

/* Graphics: xl's vnc* keys (or a PV config's vfb = [ ... ]), vga, videoram, keymap. With vnc
 * off and no vga key the domain is headless: no graphics card, no display. */
typedef struct {
    bool vnc;                /* a VNC server */
    char *listen;            /* vnclisten without its :display; NULL: the domain's Unix socket */
    int display;             /* vncdisplay; -1: not given (0) */
    bool unused;             /* vncunused (default on): the first free display from `display` */
    char *password;          /* vncpasswd; NULL or "": none */
    char *keymap;            /* keymap: QEMU's -k; NULL: its default (en-us) */
    kxl_vga vga;
    unsigned videoram_mib;   /* videoram; 0: the card's default */
} kxl_gfx;

/* USB: controllers (usb = 1, usbversion, usbctrl) and the emulated devices on them. */
typedef enum { KXL_USBDEV_TABLET, KXL_USBDEV_MOUSE, KXL_USBDEV_KEYBOARD } kxl_usbdev;
typedef struct {
    int version;     /* 1: UHCI (Xen's usb = 1), 2: EHCI, 3: xHCI */
    int ports;       /* 0: the controller's own number */
} kxl_usbctrl;
typedef struct {
    bool enabled;            /* usb = 1 */
    int version;             /* usbversion; 0: 1 */
    kxl_usbctrl *ctrls;
    size_t n_ctrls;
    kxl_usbdev *devs;
    size_t n_devs;
} kxl_usb;

/* A host PCI device given to the guest (pci = [ ... ]): vfio-pci. */
typedef struct {
    char bdf[13];        /* "0000:01:00.0" */
    int vslot;           /* @VSLOT: the guest's slot; -1: QEMU's choice */
    bool seize;          /* seize=1: made assignable (bound to vfio-pci) at start */
} kxl_pcidev;

/* A set of host CPUs. */
typedef struct {
    uint64_t bits[KXL_MAX_HOST_CPUS / 64];
} kxl_cpuset;

typedef struct {
    char *name;
    char uuid[37];
    kxl_domtype type;
    uint64_t memory_mib;
    uint64_t maxmem_mib;        /* >= memory_mib */
    /* a virtio balloon: maxmem was above memory when the domain was made, and it stays when
     * mem-set later brings memory up to maxmem (so that a restart can shrink it again) */
    bool balloon;
    /* kxl mem-max's ceiling for mem-set, at most maxmem; 0: maxmem. Unlike maxmem it does not
     * change the RAM a QEMU boots with (a restore's must be the saved one's). */
    uint64_t mem_max_mib;
    unsigned vcpus;
    unsigned maxvcpus;          /* >= vcpus */

    /* Pinning: n_cpus == 0 means all CPUs; 1 means one set for all vCPUs;
     * more means set i for vCPU i (vCPUs past the end run anywhere). */
    kxl_cpuset *cpus;
    size_t n_cpus;
    /* cpus_soft: the same shape; the vCPU threads' affinity where cpus gives none (Linux has
     * no soft affinity: kxl applies it as the hard one) */
    kxl_cpuset *cpus_soft;
    size_t n_cpus_soft;

    /* xl's credit scheduler, as the domain's cgroup's CPU controller: weight 1..65535
     * (default 256) and cap in percent of one CPU (0: none) */
    unsigned cpu_weight;
    unsigned cap;

    char *kernel;
    char *ramdisk;
    char *cmdline;              /* resolved from cmdline / root / extra */
    char *bootloader;           /* "pygrub": kernel and initrd read from the first disk */
    char *bootloader_kernel;    /* with bootloader: kernel = and ramdisk = as xl passes them to
                                 * pygrub, paths inside the guest's file system */
    char *bootloader_ramdisk;
    char *boot;                 /* hvm firmware boot order: "c" disk, "d" CD-ROM, "n" */
    char *firmware;             /* hvm: "bios" (SeaBIOS) */
    char *cpu_features;         /* cpuid: QEMU's properties after the model ("aes=off"), or NULL */
    char *cpu;                  /* CPU model: "host" or a QEMU model name; NULL: kxl's default
                                 * (qemu_cpu_model) */

    kxl_disk *disks;
    size_t n_disks;
    kxl_vif *vifs;
    size_t n_vifs;

    char **serial;              /* NULL-terminated; default { "pty" } */
    kxl_gfx gfx;
    bool vtpm;                  /* vtpm = [ ... ]: a TPM 2.0 emulated by swtpm */
    char vtpm_uuid[37];         /* its uuid= (names its state, var/lib/kxl/tpm/UUID); "": the
                                 * domain's uuid */
    kxl_pcidev *pci;
    size_t n_pci;
    char **channels;            /* NULL-terminated channel = entries as written (checked) */
    char **dm_args;             /* device_model_args (with _hvm or _pv's, for the type): QEMU
                                 * arguments appended as written, where the host allows it
                                 * (kxl.conf); NULL-terminated, NULL for none */
    char *soundhw;              /* hda, ac97, es1370, sb16; NULL: no sound card */
    kxl_usb usb;
    bool localtime;             /* the RTC keeps local time (Windows), not UTC */
    int64_t rtc_timeoffset;     /* seconds the RTC is ahead of UTC (or of local time) */

    kxl_action on_poweroff;
    kxl_action on_reboot;
    kxl_action on_crash;
    kxl_accel accel;
    unsigned shutdown_timeout;  /* seconds; default 60 */

    /* Autostart and host shutdown (startup = "order=N,up=S,down=S", as Proxmox has it). */
    int startup_order;          /* lower starts first, equal in parallel; -1: none (last) */
    unsigned startup_up;        /* seconds to wait after the start before the next batch */
    unsigned startup_down;      /* shutdown timeout at host shutdown; 0: shutdown_timeout */
    char *startup_ready;        /* POSIX ERE: started once a console line matches (up: the
                                 * longest wait); NULL: none */
    kxl_host_shutdown on_host_shutdown;

    char *source_file;          /* the file it was read from, for messages */
} kxl_domcfg;

/* Allocates an empty config with xl's defaults; never NULL. */
kxl_domcfg *kxl_domcfg_new(void);
/* Frees everything the config owns; NULL-safe. */
void kxl_domcfg_free(kxl_domcfg *cfg);

void kxl_disk_dispose(kxl_disk *d);
void kxl_vif_dispose(kxl_vif *v);

/* Enum <-> string, NULL / -1 for unknown. */
const char *kxl_action_to_string(kxl_action a);
int kxl_action_from_string(const char *s);
const char *kxl_domtype_to_string(kxl_domtype t);
int kxl_domtype_from_string(const char *s);
const char *kxl_accel_to_string(kxl_accel a);
int kxl_accel_from_string(const char *s);
const char *kxl_disk_format_to_string(kxl_disk_format f);
int kxl_disk_format_from_string(const char *s);
const char *kxl_disk_bus_to_string(kxl_disk_bus b);
const char *kxl_vga_to_string(kxl_vga v);
int kxl_vga_from_string(const char *s);
int kxl_disk_bus_from_string(const char *s);
const char *kxl_host_shutdown_to_string(kxl_host_shutdown h);
int kxl_host_shutdown_from_string(const char *s);

/* True when name is letters, digits and ._- , 1..64 characters, not starting with '.' or
 * '-', and not all digits (that reads as a domain id). KXL_NAME_RULE says so to a user. */
#define KXL_NAME_RULE "1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-', " \
                      "not all digits"
bool kxl_name_is_valid(const char *name);

/* An interface name as the kernel takes it (1 to 15 bytes, no '/', ':' or blanks), and
 * narrower: letters, digits and ._- , not starting with '.' or '-'. Such names go into
 * nftables rules, dnsmasq's options and files kxl writes, so nothing that quotes, comments or
 * separates there. */
bool kxl_ifname_is_valid(const char *s);
#define KXL_IFNAME_RULE "1 to 15 letters, digits, '.', '_' or '-', not starting with '.' or '-'"

/* Whether the domain's QEMU has a virtio balloon (cfg->balloon, or maxmem above memory). */
bool kxl_domcfg_has_balloon(const kxl_domcfg *cfg);

/* The most memory mem-set may give the domain: mem_max_mib, else maxmem_mib. */
uint64_t kxl_domcfg_mem_ceiling(const kxl_domcfg *cfg);

/* cpuset helpers */
void kxl_cpuset_set(kxl_cpuset *s, unsigned cpu);
bool kxl_cpuset_test(const kxl_cpuset *s, unsigned cpu);
bool kxl_cpuset_is_empty(const kxl_cpuset *s);
