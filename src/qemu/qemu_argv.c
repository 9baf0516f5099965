/* qemu_argv.c - builds QEMU's argv for a domain. Pure: no I/O; everything
 * host-specific comes in through kx_host (qemu_sandbox_wanted is the one
 * environment read, kept apart for the callers that fill kx_host). One step per device class. */
#include "qemu/qemu_argv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg/cfg_channel.h"
#include "cfg/cfg_gfx.h"
#include "cfg/cfg_serial.h"
#include "cfg/cfg_spec.h"
#include "cfg/cfg_usb.h"
#include "qemu/qemu_disk.h"
#include "util/cleanup.h"
#include "util/err.h"

bool qemu_sandbox_wanted(void)
{
    const char *v = getenv("KXL_QEMU_SANDBOX");
    return !v || strcmp(v, "0") != 0;
}

char *qemu_opt_escape(const char *value)
{
    kx_buf b = KX_BUF_INIT;
    for (const char *p = value; *p; p++) {
        if (*p == ',')
            kx_buf_addc(&b, ',');
        kx_buf_addc(&b, *p);
    }
    return kx_buf_steal(&b);
}

static void add_opt(kx_strv *argv, const char *opt, const char *value)
{
    kx_strv_push(argv, opt);
    kx_strv_push(argv, value);
}

const char *qemu_cpu_model(const kxl_domcfg *cfg, kxl_accel accel)
{
    if (cfg && cfg->cpu)
        return cfg->cpu;
    return accel == KXL_ACCEL_KVM ? "host" : "qemu64";
}

static void add_machine(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    /* debug-threads names the vCPU threads ("CPU 0/TCG"), which `list` reads */
    kx_strv_push(argv, "-name");
    kx_strv_pushf(argv, "guest=%s,debug-threads=on", cfg->name);
    if (cfg->uuid[0])
        add_opt(argv, "-uuid", cfg->uuid);
    /* pc boots reliably under TCG here (microvm with ACPI hangs, see DESIGN.md) */
    kx_strv_push(argv, "-machine");
    kx_strv_pushf(argv, "%s,usb=off,dump-guest-core=off", host->machine ? host->machine : "pc");
    add_opt(argv, "-accel", host->accel == KXL_ACCEL_KVM ? "kvm" : "tcg");
    kx_strv_push(argv, "-cpu");
    if (cfg->cpu_features)
        kx_strv_pushf(argv, "%s,%s", qemu_cpu_model(cfg, host->accel), cfg->cpu_features);
    else
        kx_strv_push(argv, qemu_cpu_model(cfg, host->accel));
    /* maxmem above memory is reached by the balloon, as Xen's populate-on-demand */
    kx_strv_push(argv, "-m");
    if (host->accel == KXL_ACCEL_KVM)
        kx_strv_pushf(argv, "%lluM", (unsigned long long)cfg->maxmem_mib);
    else
        kx_strv_pushf(argv, "%lluk", (unsigned long long)cfg->maxmem_mib * 1024 +
                                         QEMU_TCG_RAM_PAD_KIB);
    kx_strv_push(argv, "-smp");
    kx_strv_pushf(argv, "%u,maxcpus=%u", cfg->vcpus, cfg->maxvcpus);
}

static void add_defaults(const kx_host *host, kx_strv *argv)
{
    kx_strv_push(argv, "-nodefaults");
    kx_strv_push(argv, "-no-user-config");
    add_opt(argv, "-display", "none");
    /* start paused: the supervisor connects the console before the guest runs */
    kx_strv_push(argv, "-S");
    /* a restore: the guest's state comes from the stream the supervisor hands over
     * (migrate-incoming), not from a boot */
    if (host->incoming)
        add_opt(argv, "-incoming", "defer");
    /* guest poweroff and reboot only stop the guest and raise an event: the
     * supervisor applies on_poweroff / on_reboot / on_crash */
    add_opt(argv, "-action", "reboot=shutdown,shutdown=pause,panic=pause");
    add_opt(argv, "-msg", "timestamp=on");
    /* pvpanic reports a guest kernel panic to the supervisor (on_crash) */
    add_opt(argv, "-device", "pvpanic");
    /* QEMU opens what the config names (kernel, /dev/kvm, its sockets; images only when no fd
     * sets are given) as root, then becomes the unprivileged user for good; files it needs
     * later are passed to it as fds.
     * -runas calls setuid after the sandbox is installed, so set*id must stay allowed there:
     * a process that is no longer root and has no capabilities cannot use them to gain any. */
    if (host->qemu_user && host->jail_uid) {
        kx_strv_push(argv, "-runas");
        kx_strv_pushf(argv, "%u:%u", host->jail_uid, host->jail_uid);
    } else if (host->qemu_user) {
        add_opt(argv, "-runas", host->qemu_user);
    }
    /* the chroot comes with the drop: by then QEMU has opened all it needs, and what it
     * gets later (disks, taps, dump and migration files) comes as descriptors */
    if (host->qemu_user && host->jail_root)
        add_opt(argv, "-chroot", host->jail_root);
    if (host->sandbox)
        add_opt(argv, "-sandbox", host->qemu_user
                                      ? "on,obsolete=deny,spawn=deny,resourcecontrol=deny"
                                      : "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                                        "resourcecontrol=deny");
}

/* xl's localtime and rtc_timeoffset: QEMU's RTC starts at local time, or at the time the
 * offset gives (a date, as QEMU takes no offset). */
static void add_rtc(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    if (!cfg->localtime && !cfg->rtc_timeoffset)
        return;
    if (!cfg->rtc_timeoffset) {
        add_opt(argv, "-rtc", "base=localtime");
        return;
    }
    time_t t = (time_t)(host->now + cfg->rtc_timeoffset);
    struct tm tm;
    char base[32];
    if (cfg->localtime)
        localtime_r(&t, &tm);
    else
        gmtime_r(&t, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    kx_strv_push(argv, "-rtc");
    kx_strv_pushf(argv, "base=%s", base);
}

static void add_monitor(const kx_host *host, kx_strv *argv)
{
    AUTOFREE char *dir = qemu_opt_escape(host->run_dir);
    kx_strv_push(argv, "-chardev");
    kx_strv_pushf(argv, "socket,id=qmp,path=%s/qmp.sock,server=on,wait=off", dir);
    add_opt(argv, "-mon", "chardev=qmp,mode=control");
}

/* The port an entry of serial = ... gives (config already checked). */
static cfg_serial serial_port(const char *entry)
{
    cfg_serial port;
    if (cfg_serial_parse(entry, "serial", &port) < 0)
        port.kind = CFG_SERIAL_NONE;
    return port;
}

int qemu_console_serial(const kxl_domcfg *cfg)
{
    int n = 0;
    for (char **s = cfg->serial; s && *s; s++) {
        cfg_serial port = serial_port(*s);
        if (port.kind == CFG_SERIAL_PTY)
            return n;
        if (port.kind != CFG_SERIAL_NONE)
            n++;
    }
    return -1;
}

/* The value of each console= word of cmdline, in order, to fn until it returns true. */
static bool each_console(const char *cmdline, bool (*fn)(const char *v, size_t n, void *o),
                         void *opaque)
{
    for (const char *w = cmdline; w && *w;) {
        w += strspn(w, " \t");
        size_t len = strcspn(w, " \t");
        if (len > 8 && strncmp(w, "console=", 8) == 0 && fn(w + 8, strcspn(w + 8, ", \t"), opaque))
            return true;
        w += len;
    }
    return false;
}

static bool is_hvc0(const char *v, size_t n, void *opaque)
{
    (void)opaque;
    return n == 4 && strncmp(v, "hvc0", 4) == 0;
}

static bool remember(const char *v, size_t n, void *opaque)
{
    const char **last = opaque;
    last[0] = v;
    last[1] = v + n;
    return false;
}

bool qemu_wants_hvc(const kxl_domcfg *cfg)
{
    return each_console(cfg->cmdline, is_hvc0, NULL);
}

bool qemu_console_on_hvc(const kxl_domcfg *cfg)
{
    /* Linux makes the last console= its /dev/console, where init and its shell talk */
    const char *last[2] = {NULL, NULL};
    each_console(cfg->cmdline, remember, last);
    return last[0] && is_hvc0(last[0], (size_t)(last[1] - last[0]), NULL);
}

char *qemu_console_socket(const kxl_domcfg *cfg)
{
    if (qemu_console_on_hvc(cfg))
        return kx_strdup("hvc0.sock");
    int index = qemu_console_serial(cfg);
    return index < 0 ? NULL : kx_asprintf("serial%d.sock", index);
}

/* Xen's PV console: a virtio console that Linux names hvc0, on a socket the supervisor
 * connects to as to a serial port. */
static void add_hvc(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    bool hvc = qemu_wants_hvc(cfg);
    if (!hvc && !cfg->channels)
        return;
    AUTOFREE char *dir = qemu_opt_escape(host->run_dir);
    add_opt(argv, "-device", "virtio-serial-pci,id=vser0");
    if (hvc) {
        kx_strv_push(argv, "-chardev");
        kx_strv_pushf(argv, "socket,id=hvc0,path=%s/hvc0.sock,server=on,wait=off", dir);
        add_opt(argv, "-device", "virtconsole,chardev=hvc0,id=hvc0,bus=vser0.0");
    }
    /* xl's channels on the same virtio-serial device: a listening socket each */
    for (size_t i = 0; cfg->channels && cfg->channels[i]; i++) {
        cfg_channel c;
        if (cfg_channel_parse(cfg->channels[i], "channel", &c) < 0)
            continue;   /* checked when the config was read */
        AUTOFREE char *path = c.path ? qemu_opt_escape(c.path)
                                     : kx_asprintf("%s/channel%zu.sock", dir, i);
        kx_strv_push(argv, "-chardev");
        kx_strv_pushf(argv, "socket,id=channel%zu,path=%s,server=on,wait=off", i, path);
        kx_strv_push(argv, "-device");
        kx_strv_pushf(argv, "virtserialport,chardev=channel%zu,id=channel%zu,name=%s,"
                      "bus=vser0.0", i, i, c.name);
        cfg_channel_dispose(&c);
    }
}

/* soundhw: the card, and an audio back end that discards (kxl has no audio path). */
static void add_sound(const kxl_domcfg *cfg, kx_strv *argv)
{
    if (!cfg->soundhw)
        return;
    add_opt(argv, "-audiodev", "none,id=snd0");
    if (strcmp(cfg->soundhw, "hda") == 0) {
        add_opt(argv, "-device", "intel-hda,id=sound0");
        add_opt(argv, "-device", "hda-duplex,bus=sound0.0,audiodev=snd0");
        return;
    }
    kx_strv_push(argv, "-device");
    kx_strv_pushf(argv, "%s,id=sound0,audiodev=snd0",
                  strcmp(cfg->soundhw, "ac97") == 0      ? "AC97"
                  : strcmp(cfg->soundhw, "es1370") == 0 ? "ES1370"
                                                         : "sb16");
}

/* The -chardev of serial port n. */
static void add_serial_chardev(const cfg_serial *port, int n, const char *run_dir, kx_strv *argv)
{
    kx_strv_push(argv, "-chardev");
    switch (port->kind) {
    case CFG_SERIAL_PTY:
        /* the supervisor connects here and keeps the scrollback */
        kx_strv_pushf(argv, "socket,id=serial%d,path=%s/serial%d.sock,server=on,wait=off", n,
                      run_dir, n);
        break;
    case CFG_SERIAL_NULL:
        kx_strv_pushf(argv, "null,id=serial%d", n);
        break;
    case CFG_SERIAL_FILE:
    case CFG_SERIAL_UNIX: {
        AUTOFREE char *raw = kx_strndup(port->path, port->path_len);
        AUTOFREE char *path = qemu_opt_escape(raw);
        /* a listening socket never holds up the start: QEMU does not wait for a client */
        kx_strv_pushf(argv, "%s,id=serial%d,path=%s%s", port->kind == CFG_SERIAL_FILE
                                                          ? "file" : "socket", n, path,
                      port->server ? ",server=on,wait=off" : "");
        break;
    }
    case CFG_SERIAL_TCP: {
        bool v6 = port->host[0] == '[';
        kx_strv_pushf(argv, "socket,id=serial%d,host=%.*s,port=%u", n,
                      (int)port->host_len - (v6 ? 2 : 0), port->host + v6, port->port);
        break;
    }
    case CFG_SERIAL_NONE:
        break;
    }
}

static void add_serials(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    AUTOFREE char *dir = qemu_opt_escape(host->run_dir);
    int n = 0;
    for (char **s = cfg->serial; s && *s; s++) {
        cfg_serial port = serial_port(*s);
        if (port.kind == CFG_SERIAL_NONE)
            continue;
        add_serial_chardev(&port, n, dir, argv);
        kx_strv_push(argv, "-device");
        kx_strv_pushf(argv, "isa-serial,chardev=serial%d,id=serial%d", n, n);
        n++;
    }
}

/* UEFI (OVMF) as two flash chips: the firmware, read-only and shared, and the domain's own
 * variable store (boot entries), which persists across starts. */
static int add_firmware(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    if (!kx_streq(cfg->firmware, "ovmf"))
        return 0;
    if (!host->ovmf_code || !host->ovmf_vars) {
        kx_err(KXL_ERR_HOST, "firmware \"ovmf\" needs OVMF on the host: install Debian's ovmf "
               "package (tools/install-deps.sh does)");
        return -1;
    }
    AUTOFREE char *code = qemu_opt_escape(host->ovmf_code);
    AUTOFREE char *vars = qemu_opt_escape(host->ovmf_vars);
    kx_strv_push(argv, "-drive");
    kx_strv_pushf(argv, "if=pflash,format=raw,unit=0,readonly=on,file=%s", code);
    kx_strv_push(argv, "-drive");
    kx_strv_pushf(argv, "if=pflash,format=raw,unit=1,file=%s", vars);
    return 0;
}

static void add_kernel(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    if (!cfg->kernel) {
        /* firmware boot (SeaBIOS) from the disk, or what `boot` says */
        if (cfg->boot) {
            kx_strv_push(argv, "-boot");
            kx_strv_pushf(argv, "order=%s", cfg->boot);
        }
        return;
    }
    add_opt(argv, "-kernel", host->pvh_kernel ? host->pvh_kernel : cfg->kernel);
    if (cfg->ramdisk)
        add_opt(argv, "-initrd", cfg->ramdisk);
    if (cfg->cmdline)
        add_opt(argv, "-append", cfg->cmdline);
}

/* A disk with an image gets its block node (qemu_disk.c); an empty CD-ROM has
 * none, its device starts without a medium. */
static void add_blockdev(const kxl_disk *d, int i, const kx_host *host, kx_strv *argv)
{
    if (!d->target)
        return;
    char node[QEMU_DISK_NODE_MAX];
    qemu_disk_node((size_t)i, node);
    const kx_disk_source *src = host->disk_sources ? &host->disk_sources[i] : NULL;
    json_object *o;
    if (src && src->filename) {
        o = qemu_blockdev(d, node, src->filename, src->block, src->backing);
    } else {
        bool blk = host->is_block_device ? host->is_block_device(d->target)
                                         : kx_startswith(d->target, "/dev/");
        o = qemu_blockdev(d, node, d->target, blk, NULL);
    }
    /* JSON: no path needs escaping */
    kx_strv_push(argv, "-blockdev");
    kx_strv_push(argv, json_object_to_json_string_ext(
                           o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

/* ",drive=driveI" when the disk has a block node. */
static char *drive_prop(const kxl_disk *d, int i)
{
    return d->target ? kx_asprintf(",drive=drive%d", i) : kx_strdup("");
}

static void add_disk_device(const kxl_disk *d, int i, bool *scsi_added, kx_strv *argv)
{
    AUTOFREE char *drive = drive_prop(d, i);
    kx_strv_push(argv, "-device");
    if (d->bus == KXL_DISK_BUS_IDE) {
        kx_strv_pushf(argv, "%s%s,id=%s,bus=ide.%d,unit=%d", d->cdrom ? "ide-cd" : "ide-hd",
                      drive, d->vdev, d->index / 2, d->index % 2);
        return;
    }
    if (d->bus == KXL_DISK_BUS_VIRTIO && !d->cdrom) {
        /* a disk named as under Xen carries that name as its serial, for the guest's udev
         * to link /dev/xvda2 to it (boot_xennames.c); vdX needs no such help */
        bool xen = !kx_startswith(d->vdev, "vd");
        kx_strv_pushf(argv, "virtio-blk-pci%s,id=%s%s%s", drive, d->vdev,
                      xen ? ",serial=" : "", xen ? d->vdev : "");
        return;
    }
    /* SCSI disks, and CD-ROMs on the virtio bus (virtio-blk has no CD-ROM) */
    if (!*scsi_added) {
        kx_strv_push(argv, "virtio-scsi-pci,id=scsi0");
        kx_strv_push(argv, "-device");
        *scsi_added = true;
    }
    kx_strv_pushf(argv, "%s%s,id=%s,bus=scsi0.0,scsi-id=%d", d->cdrom ? "scsi-cd" : "scsi-hd",
                  drive, d->vdev, d->index);
}

static int add_disks(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    bool scsi_added = false;
    for (size_t i = 0; host->add_fds && i < host->add_fds->n; i++)
        add_opt(argv, "-add-fd", host->add_fds->v[i]);
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const kxl_disk *d = &cfg->disks[i];
        if (d->unplugged)
            continue;
        if (d->bus == KXL_DISK_BUS_IDE && d->index > 3) {
            kx_err(KXL_ERR_CONFIG, "disk '%s': the IDE bus has only hda to hdd", d->vdev);
            return -1;
        }
        add_blockdev(d, (int)i, host, argv);
        add_disk_device(d, (int)i, &scsi_added, argv);
    }
    return 0;
}

static const char *nic_device(const kxl_vif *v)
{
    if (!v->model || strcmp(v->model, "virtio") == 0)
        return "virtio-net-pci";
    return v->model;  /* e1000, rtl8139: QEMU's device names */
}

/* Each vif is a tap the supervisor opened and passes as fd QEMU_TAP_FD(i):
 * QEMU itself needs no network privileges. */
static void add_nics(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    int fd = QEMU_TAP_FD(0);
    for (size_t i = 0; i < cfg->n_vifs; i++) {
        const kxl_vif *v = &cfg->vifs[i];
        char mac[18];
        if (v->unplugged)
            continue;
        if (!v->mac)
            cfg_vif_default_mac(cfg->uuid, (int)i, mac);
        kx_strv_push(argv, "-netdev");
        kx_strv_pushf(argv, "tap,id=net%zu,fd=%d%s", i, fd++,
                      host->vhost && strcmp(nic_device(v), "virtio-net-pci") == 0 ? ",vhost=on"
                                                                                : "");
        kx_strv_push(argv, "-device");
        kx_strv_pushf(argv, "%s,netdev=net%zu,id=nic%zu,mac=%s", nic_device(v), i, i,
                      v->mac ? v->mac : mac);
    }
}

static const char *const card_devices[] = {
    [KXL_VGA_STD] = "VGA",
    [KXL_VGA_CIRRUS] = "cirrus-vga",
    [KXL_VGA_QXL] = "qxl-vga",
};

/* -vnc's address: the domain's Unix socket, or ADDRESS:DISPLAY on the network (a password is
 * then always set: cfg_gfx_finish moved a listener without one to the socket). */
static void add_vnc(const kxl_gfx *g, const kx_host *host, kx_strv *argv)
{
    kx_buf b = KX_BUF_INIT;
    if (!g->listen) {
        AUTOFREE char *dir = qemu_opt_escape(host->run_dir);
        kx_buf_printf(&b, "unix:%s/vnc.sock", dir);
    } else {
        bool v6 = strchr(g->listen, ':') != NULL;
        int display = g->display < 0 ? 0 : g->display;
        kx_buf_printf(&b, "%s%s%s:%d", v6 ? "[" : "", g->listen, v6 ? "]" : "", display);
        /* vncunused: QEMU takes the first free display from `display` up */
        if (g->unused)
            kx_buf_printf(&b, ",to=%d", display + 99 > QEMU_VNC_DISPLAY_MAX
                                            ? QEMU_VNC_DISPLAY_MAX
                                            : display + 99);
    }
    /* the password itself goes over QMP (set_password) before the guest runs: a command
     * line is readable by every user in /proc */
    if (g->password)
        kx_buf_printf(&b, ",password=on");
    kx_strv_push(argv, "-vnc");
    kx_strv_push(argv, kx_buf_str(&b));
    kx_buf_dispose(&b);
    if (g->keymap)
        add_opt(argv, "-k", g->keymap);
}

/* The graphics card and display: none at all for a headless domain (the default). */
static void add_graphics(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    kxl_vga card = cfg_gfx_card(&cfg->gfx);
    if (card == KXL_VGA_NONE)
        return;
    kx_strv_push(argv, "-device");
    if (cfg->gfx.videoram_mib)
        kx_strv_pushf(argv, "%s,id=video0,vgamem_mb=%u", card_devices[card],
                      cfg->gfx.videoram_mib);
    else
        kx_strv_pushf(argv, "%s,id=video0", card_devices[card]);
    if (cfg->gfx.vnc)
        add_vnc(&cfg->gfx, host, argv);
}

/* Controllers usb0, usb1 ...; the devices on the first, as xl puts them. */
static void add_usb(const kxl_domcfg *cfg, kx_strv *argv)
{
    for (size_t i = 0; i < cfg->usb.n_ctrls; i++) {
        const kxl_usbctrl *c = &cfg->usb.ctrls[i];
        kx_strv_push(argv, "-device");
        if (c->version == 3 && c->ports)
            kx_strv_pushf(argv, "qemu-xhci,id=usb%zu,p2=%d,p3=%d", i, c->ports, c->ports);
        else
            kx_strv_pushf(argv, "%s,id=usb%zu", cfg_usb_controller_device(c->version), i);
    }
    static const char *const qemu_names[] = {
        [KXL_USBDEV_TABLET] = "usb-tablet",
        [KXL_USBDEV_MOUSE] = "usb-mouse",
        [KXL_USBDEV_KEYBOARD] = "usb-kbd",
    };
    for (size_t i = 0; i < cfg->usb.n_devs; i++) {
        kx_strv_push(argv, "-device");
        kx_strv_pushf(argv, "%s,id=usbdev%zu,bus=usb0.0", qemu_names[cfg->usb.devs[i]], i);
    }
}

/* pci = [ ... ]: each host device through vfio (the host check made it assignable). */
void qemu_pci_id(const char *bdf, char id_r[32])
{
    snprintf(id_r, 32, "hostdev-%s", bdf);
    for (char *c = id_r; *c; c++)
        if (*c == ':')
            *c = '-';
}

static void add_pci(const kxl_domcfg *cfg, kx_strv *argv)
{
    for (size_t i = 0; i < cfg->n_pci; i++) {
        const kxl_pcidev *d = &cfg->pci[i];
        char id[32];
        qemu_pci_id(d->bdf, id);
        kx_strv_push(argv, "-device");
        if (d->vslot >= 0)
            kx_strv_pushf(argv, "vfio-pci,host=%s,id=%s,addr=0x%x", d->bdf, id, d->vslot);
        else
            kx_strv_pushf(argv, "vfio-pci,host=%s,id=%s", d->bdf, id);
    }
}

/* vtpm: QEMU's TPM on the domain's swtpm (the control socket; the data channel is a
 * socketpair QEMU hands over on it). TIS, which SeaBIOS, OVMF and Linux all drive. */
static void add_tpm(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv)
{
    if (!cfg->vtpm)
        return;
    AUTOFREE char *path = qemu_opt_escape(host->tpm_socket ? host->tpm_socket
                                                           : "<tpm-socket>");
    kx_strv_push(argv, "-chardev");
    kx_strv_pushf(argv, "socket,id=tpmctrl0,path=%s", path);
    add_opt(argv, "-tpmdev", "emulator,id=tpm0,chardev=tpmctrl0");
    add_opt(argv, "-device", "tpm-tis,tpmdev=tpm0,id=tpmdev0");
}

int qemu_build_argv(const kxl_domcfg *cfg, const kx_host *host, kx_strv *argv_r)
{
    if (host->accel == KXL_ACCEL_AUTO) {
        kx_err(KXL_ERR_INTERNAL, "the accelerator must be resolved before building argv");
        return -1;
    }
    /* TCG emulates named models; "host" passes the real CPU through, which only KVM can */
    if (kx_streq(cfg->cpu, "host") && host->accel != KXL_ACCEL_KVM) {
        kx_err(KXL_ERR_CONFIG, "cpu = \"host\" needs KVM, and this domain runs under TCG: "
               "name a CPU model (e.g. cpu = \"qemu64\"), or use accel = \"kvm\" on a KVM host");
        return -1;
    }
    kx_strv_push(argv_r, host->qemu_binary);
    add_machine(cfg, host, argv_r);
    add_defaults(host, argv_r);
    add_rtc(cfg, host, argv_r);
    add_monitor(host, argv_r);
    add_serials(cfg, host, argv_r);
    add_hvc(cfg, host, argv_r);
    if (add_firmware(cfg, host, argv_r) < 0)
        return -1;
    add_kernel(cfg, host, argv_r);
    if (add_disks(cfg, host, argv_r) < 0)
        return -1;
    if (kxl_domcfg_has_balloon(cfg))
        add_opt(argv_r, "-device", "virtio-balloon-pci,id=balloon0");
    add_nics(cfg, host, argv_r);
    add_pci(cfg, argv_r);
    add_tpm(cfg, host, argv_r);
    add_usb(cfg, argv_r);
    add_sound(cfg, argv_r);
    add_graphics(cfg, host, argv_r);
    /* last, so they can add to what kxl gave; whether they may is the host's (kxl.conf) */
    for (char **a = cfg->dm_args; a && *a; a++)
        kx_strv_push(argv_r, *a);
    return 0;
}
