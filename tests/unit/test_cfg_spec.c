/* test_cfg_spec.c - table-driven tests of the disk, vdev, vif and cpus spec parsers:
 * valid specs with the fields they give, invalid ones with their exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg/cfg_spec.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define WHERE "guest.cfg:7"

/* Fails the test naming the case, so one bad row in a table is easy to find. */
#define CHECK(cond, name)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_error("%s:%d: case '%s': check '%s' failed\n", __FILE__, __LINE__, name,         \
                        #cond);                                                                    \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want, name)                                                                 \
    do {                                                                                           \
        if (!kx_streq(got, want)) {                                                                \
            print_error("%s:%d: case '%s': %s is '%s', expected '%s'\n", __FILE__, __LINE__,       \
                        name, #got, (got) ? (got) : "(null)", (want) ? (want) : "(null)");         \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* An expected failure: returned -1 with exactly this message, as a config error. */
static void check_failure(int rc, const char *spec, const char *want)
{
    CHECK(rc == -1, spec);
    CHECK_STR(kx_err_msg(), want, spec);
    CHECK(kx_err_code() == KXL_ERR_CONFIG, spec);
}

static void check_success(int rc, const char *spec)
{
    if (rc != 0) {
        print_error("case '%s': unexpected failure: %s\n", spec, kx_err_msg());
        fail();
    }
}

/* ---- disk -------------------------------------------------------------------------------- */

enum { RAW = KXL_DISK_FMT_RAW, QCOW2 = KXL_DISK_FMT_QCOW2, QCOW = KXL_DISK_FMT_QCOW,
       VHD = KXL_DISK_FMT_VHD, EMPTY = KXL_DISK_FMT_EMPTY };
enum { AUTO = KXL_DISK_BACKEND_AUTO, PHY = KXL_DISK_BACKEND_PHY, FILE_ = KXL_DISK_BACKEND_FILE,
       TAP = KXL_DISK_BACKEND_TAP, QDISK = KXL_DISK_BACKEND_QDISK };
enum { VIRTIO = KXL_DISK_BUS_VIRTIO, IDE = KXL_DISK_BUS_IDE, SCSI = KXL_DISK_BUS_SCSI };
enum { RW = 0, RO = 1 };
enum { DISK = 0, CDROM = 1 };
enum { DISCARD = 1, NO_DISCARD = 0 };

static const struct {
    const char *spec;
    const char *target;
    const char *vdev;
    int format, backend, bus, index, readonly, cdrom, discard;
} disk_ok[] = {
    /* the equivalent forms of xl-disk-configuration(5) */
    {"/dev/vg/guest-volume,,hda", "/dev/vg/guest-volume", "hda", RAW, AUTO, IDE, 0, RW, DISK,
     DISCARD},
    {"/dev/vg/guest-volume,raw,hda,rw", "/dev/vg/guest-volume", "hda", RAW, AUTO, IDE, 0, RW,
     DISK, DISCARD},
    {"format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume", "/dev/vg/guest-volume",
     "hda", RAW, AUTO, IDE, 0, RW, DISK, DISCARD},
    {"raw:/dev/vg/guest-volume,hda,w", "/dev/vg/guest-volume", "hda", RAW, AUTO, IDE, 0, RW,
     DISK, DISCARD},
    {"/root/image.iso,,hdc,cdrom", "/root/image.iso", "hdc", RAW, AUTO, IDE, 2, RO, CDROM,
     DISCARD},
    {"/root/image.iso,,hdc,,cdrom", "/root/image.iso", "hdc", RAW, AUTO, IDE, 2, RO, CDROM,
     DISCARD},
    {"/root/image.iso,raw,hdc,devtype=cdrom", "/root/image.iso", "hdc", RAW, AUTO, IDE, 2, RO,
     CDROM, DISCARD},
    {"format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso",
     "/root/image.iso", "hdc", RAW, AUTO, IDE, 2, RO, CDROM, DISCARD},
    {"raw:/root/image.iso,hdc:cdrom,ro", "/root/image.iso", "hdc", RAW, AUTO, IDE, 2, RO, CDROM,
     DISCARD},
    /* legacy prefixes: target,vdev,access */
    {"file:/srv/guest.img,xvda,w", "/srv/guest.img", "xvda", RAW, FILE_, VIRTIO, 0, RW, DISK,
     DISCARD},
    {"phy:/dev/sdb1,xvdb,r", "/dev/sdb1", "xvdb", RAW, PHY, VIRTIO, 1, RO, DISK, DISCARD},
    {"tap:aio:/srv/a.img,xvda,w", "/srv/a.img", "xvda", RAW, TAP, VIRTIO, 0, RW, DISK, DISCARD},
    {"tap:qcow2:/srv/a.qcow2,xvdc,w", "/srv/a.qcow2", "xvdc", QCOW2, TAP, VIRTIO, 2, RW, DISK,
     DISCARD},
    {"tap2:tapdisk:aio:/srv/a.img,xvdd,w", "/srv/a.img", "xvdd", RAW, TAP, VIRTIO, 3, RW, DISK,
     DISCARD},
    {"aio:/srv/a.img,xvda,w", "/srv/a.img", "xvda", RAW, AUTO, VIRTIO, 0, RW, DISK, DISCARD},
    {"tap:aio:qcow:/srv/a.img,xvda", "/srv/a.img", "xvda", QCOW, TAP, VIRTIO, 0, RW, DISK,
     DISCARD},
    {"vhd:/srv/a.vhd,xvde,r", "/srv/a.vhd", "xvde", VHD, AUTO, VIRTIO, 4, RO, DISK, DISCARD},
    {"phy:/dev/vg/x,ioemu:hda,w", "/dev/vg/x", "hda", RAW, PHY, IDE, 0, RW, DISK, DISCARD},
    {"file:/srv/x.img,xvda,w,backendtype=phy", "/srv/x.img", "xvda", RAW, PHY, VIRTIO, 0, RW,
     DISK, DISCARD},
    /* empty cdrom drives */
    {",hdc:cdrom,r", NULL, "hdc", EMPTY, AUTO, IDE, 2, RO, CDROM, DISCARD},
    {",,hdc,cdrom", NULL, "hdc", EMPTY, AUTO, IDE, 2, RO, CDROM, DISCARD},
    {"vdev=hdc,devtype=cdrom", NULL, "hdc", EMPTY, AUTO, IDE, 2, RO, CDROM, DISCARD},
    {"phy:,hdd:cdrom,r", NULL, "hdd", EMPTY, PHY, IDE, 3, RO, CDROM, DISCARD},
    {"format=empty,vdev=hdc:cdrom", NULL, "hdc", EMPTY, AUTO, IDE, 2, RO, CDROM, DISCARD},
    /* vdev names */
    {"/srv/a.qcow2,qcow2,xvdaa", "/srv/a.qcow2", "xvdaa", QCOW2, AUTO, VIRTIO, 26, RW, DISK,
     DISCARD},
    {"/srv/a.img,,xvdtq", "/srv/a.img", "xvdtq", RAW, AUTO, VIRTIO, 536, RW, DISK, DISCARD},
    {"/srv/a.img,vhd,sdb,ro", "/srv/a.img", "sdb", VHD, AUTO, SCSI, 1, RO, DISK, DISCARD},
    {"/srv/a.img,qcow,vdz", "/srv/a.img", "vdz", QCOW, AUTO, VIRTIO, 25, RW, DISK, DISCARD},
    {"/srv/a.img,,hdd,ro", "/srv/a.img", "hdd", RAW, AUTO, IDE, 3, RO, DISK, DISCARD},
    {"/srv/a.iso,,xvdc,cdrom", "/srv/a.iso", "xvdc", RAW, AUTO, VIRTIO, 2, RO, CDROM, DISCARD},
    /* flags and keys in any order */
    {"/srv/a.img,,xvda,,no-discard", "/srv/a.img", "xvda", RAW, AUTO, VIRTIO, 0, RW, DISK,
     NO_DISCARD},
    {"/srv/a.img,,xvda,discard,direct-io-safe", "/srv/a.img", "xvda", RAW, AUTO, VIRTIO, 0, RW,
     DISK, DISCARD},
    {"backendtype=qdisk,/srv/a.img,,xvda", "/srv/a.img", "xvda", RAW, QDISK, VIRTIO, 0, RW, DISK,
     DISCARD},
    {"backendtype=tap,/srv/a.img,,xvda", "/srv/a.img", "xvda", RAW, TAP, VIRTIO, 0, RW, DISK,
     DISCARD},
    {"vdev=xvdb,/srv/a.img,qcow2,ro", "/srv/a.img", "xvdb", QCOW2, AUTO, VIRTIO, 1, RO, DISK,
     DISCARD},
    {"format=,/srv/a.img,xvda", "/srv/a.img", "xvda", RAW, AUTO, VIRTIO, 0, RW, DISK, DISCARD},
    {"/srv/a.img,,hda,specification=virtio", "/srv/a.img", "hda", RAW, AUTO, VIRTIO, 0, RW, DISK,
     DISCARD},
    {"/srv/a.img,,hda,specification=xen", "/srv/a.img", "hda", RAW, AUTO, IDE, 0, RW, DISK,
     DISCARD},
    {"/srv/a.img,,xvda,access=", "/srv/a.img", "xvda", RAW, AUTO, VIRTIO, 0, RW, DISK, DISCARD},
    /* target= takes the rest, commas, colons and trailing spaces included */
    {"vdev=xvda,target=/srv/a,b:c.img ", "/srv/a,b:c.img ", "xvda", RAW, AUTO, VIRTIO, 0, RW,
     DISK, DISCARD},
    {",,xvda,target=/srv/x.img", "/srv/x.img", "xvda", RAW, AUTO, VIRTIO, 0, RW, DISK, DISCARD},
    /* whitespace before parameters, trailing commas */
    {"  /srv/a.img, raw,\txvda, rw", "/srv/a.img", "xvda", RAW, AUTO, VIRTIO, 0, RW, DISK,
     DISCARD},
    {"/srv/a.img,,xvda,", "/srv/a.img", "xvda", RAW, AUTO, VIRTIO, 0, RW, DISK, DISCARD},
    {"/srv/a b.img,,xvda, ", "/srv/a b.img", "xvda", RAW, AUTO, VIRTIO, 0, RW, DISK, DISCARD},
};

static void test_disk_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(disk_ok); i++) {
        const char *spec = disk_ok[i].spec;
        kxl_disk d = {0};
        check_success(cfg_disk_parse(spec, WHERE, &d), spec);
        CHECK_STR(d.target, disk_ok[i].target, spec);
        CHECK_STR(d.vdev, disk_ok[i].vdev, spec);
        CHECK((int)d.format == disk_ok[i].format, spec);
        CHECK((int)d.backend == disk_ok[i].backend, spec);
        CHECK((int)d.bus == disk_ok[i].bus, spec);
        CHECK(d.index == disk_ok[i].index, spec);
        CHECK(d.readonly == disk_ok[i].readonly, spec);
        CHECK(d.cdrom == disk_ok[i].cdrom, spec);
        CHECK(d.discard == disk_ok[i].discard, spec);
        kxl_disk_dispose(&d);
    }
}

#define DISK_ERR(spec, msg) {spec, WHERE ": disk '" spec "': " msg}

static const struct {
    const char *spec;
    const char *msg;
} disk_bad[] = {
    DISK_ERR("file:/x,xvda,q", "unknown access mode 'q' (use r, ro, w or rw)"),
    DISK_ERR("/x,qed,xvda", "unknown format 'qed' (use raw, qcow2, qcow, vhd or empty)"),
    DISK_ERR("/x,xvda,w", "unknown format 'xvda': the second item is the format (write "
             "'TARGET,,xvda,...' or use a prefix such as 'file:')"),
    DISK_ERR("/x,,xvda0", "vdev 'xvda0': partition '0' must be 1 to 255"),
    DISK_ERR("/x,,hdc256", "vdev 'hdc256': partition '256' must be 1 to 255"),
    DISK_ERR("/x,,hde", "vdev 'hde': IDE has only hda, hdb, hdc and hdd (use xvdX for more "
             "disks)"),
    DISK_ERR("/x,,hdaa", "vdev 'hdaa': IDE has only hda, hdb, hdc and hdd (use xvdX for more "
             "disks)"),
    DISK_ERR("/x,,xvdzzzzz", "vdev 'xvdzzzzz': disk number too large (at most 1048575)"),
    DISK_ERR("/x,,d0p1", "vdev 'd0p1': the d<N>p<P> form is not supported (name the disk "
             "xvda, xvdb, ...)"),
    DISK_ERR("/x,,51712", "vdev '51712': numeric device numbers are not supported (name the "
             "disk xvda, xvdb, ...)"),
    DISK_ERR("/x,,floppy", "unknown vdev 'floppy' (use xvdX, hdX, sdX or vdX, e.g. xvda)"),
    DISK_ERR("/x,,XVDA", "unknown vdev 'XVDA' (use xvdX, hdX, sdX or vdX, e.g. xvda)"),
    DISK_ERR("/x,,xvd", "unknown vdev 'xvd' (use xvdX, hdX, sdX or vdX, e.g. xvda)"),
    DISK_ERR("/x,,xvda2b", "unknown vdev 'xvda2b' (use xvdX, hdX, sdX or vdX, e.g. xvda)"),
    DISK_ERR("/x,,hdc:disk", "unknown device type 'disk' in vdev 'hdc:disk' (only ':cdrom' is "
             "known)"),
    DISK_ERR("/x,raw", "no vdev given (e.g. '/srv/guest.img,raw,xvda,rw' or vdev=xvda)"),
    DISK_ERR("", "no vdev given (e.g. '/srv/guest.img,raw,xvda,rw' or vdev=xvda)"),
    DISK_ERR("target=/x.img,vdev=xvda", "no vdev given (e.g. '/srv/guest.img,raw,xvda,rw' or "
             "vdev=xvda)"),
    DISK_ERR(",,xvda", "no target given (only a cdrom drive may be empty)"),
    DISK_ERR("vdev=xvda", "no target given (only a cdrom drive may be empty)"),
    DISK_ERR("/x,,xvda,rw,extra", "unexpected 'extra' (target, format, vdev and access are all "
             "given)"),
    DISK_ERR("file:/x,xvda,w,extra", "unexpected 'extra' (target, format, vdev and access are "
             "all given)"),
    DISK_ERR("/x,,xvda,script=block-iscsi", "script= is not supported (kxl runs no block "
             "scripts; give the device or image path as target)"),
    DISK_ERR("/x,,xvda,backend=driverdom", "backend= is not supported on KVM (there are no "
             "driver domains)"),
    DISK_ERR("/x,,xvda,colo-host=a", "unknown parameter 'colo-host' (known: target, format, "
             "vdev, access, devtype, backendtype, specification)"),
    DISK_ERR("/x,,xvda,cdrom=1", "unknown parameter 'cdrom' (known: target, format, vdev, "
             "access, devtype, backendtype, specification)"),
    DISK_ERR("/x,raw,xvda,format=qcow2", "'format' is given more than once"),
    DISK_ERR("vdev=xvda,vdev=xvdb,/x", "'vdev' is given more than once"),
    DISK_ERR("/x,,xvda,ro,access=rw", "'access' is given more than once"),
    DISK_ERR("/x,,xvda,discard,no-discard", "'discard' or 'no-discard' is given more than once"),
    DISK_ERR("/x,,hdc,cdrom,devtype=cdrom", "'devtype' (or 'cdrom') is given more than once"),
    DISK_ERR("/x.img,,xvda,target=/y.img", "'target' is given more than once"),
    DISK_ERR("/x,,xvda,devtype=disk", "unknown devtype 'disk' (only 'cdrom' is known)"),
    DISK_ERR("/x,,xvda,backendtype=file", "unknown backendtype 'file' (use phy, qdisk or tap)"),
    DISK_ERR("/x,,xvda,specification=foo", "unknown specification 'foo' (use xen or virtio)"),
    DISK_ERR("nbd:host:1234,xvda,w", "prefix 'nbd:' asks for the block-nbd script, but kxl runs "
             "no block scripts"),
    DISK_ERR("iscsi:iqn.2001-05.com.example:disk,xvda,w", "prefix 'iscsi:' asks for the "
             "block-iscsi script, but kxl runs no block scripts"),
    DISK_ERR("rbd:pool/img,xvda,w", "unknown prefix 'rbd:' (known: aio, file, phy, qcow, qcow2, "
             "raw, tap, tap2, tapdisk, vhd; a path with ':' needs target=PATH, last)"),
    DISK_ERR("/x,empty,hdc,cdrom", "format 'empty' is for an empty cdrom drive, but target '/x' "
             "is given"),
};

static void test_disk_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(disk_bad); i++) {
        kxl_disk d = {0};
        kx_err_clear();
        check_failure(cfg_disk_parse(disk_bad[i].spec, WHERE, &d), disk_bad[i].spec,
                      disk_bad[i].msg);
        kxl_disk_dispose(&d);
    }
}

/* ---- vdev -------------------------------------------------------------------------------- */

static const struct {
    const char *vdev;
    int bus, index, partition;
} vdev_ok[] = {
    {"xvda", VIRTIO, 0, 0},   {"xvdz", VIRTIO, 25, 0}, {"xvdaa", VIRTIO, 26, 0},
    {"xvdaz", VIRTIO, 51, 0}, {"xvdba", VIRTIO, 52, 0}, {"xvdtq", VIRTIO, 536, 0},
    {"hda", IDE, 0, 0},       {"hdd", IDE, 3, 0},      {"sda", SCSI, 0, 0},
    {"sdp", SCSI, 15, 0},     {"sdaa", SCSI, 26, 0},   {"vda", VIRTIO, 0, 0},
    {"vdc", VIRTIO, 2, 0},    {"xvdbgqcv", VIRTIO, 1048575, 0},
    /* xen-tools' partition-style disks: each a virtio disk of its own */
    {"xvda1", VIRTIO, 0, 1},  {"xvda2", VIRTIO, 0, 2}, {"sdb15", VIRTIO, 1, 15},
    {"hdc2", VIRTIO, 2, 2},   {"xvdb255", VIRTIO, 1, 255},
};

static const struct {
    const char *vdev;
    const char *msg;
} vdev_bad[] = {
    {"xvda01", WHERE ": vdev 'xvda01': partition '01' must be 1 to 255"},
    {"sda999999999999999999999", WHERE ": vdev 'sda999999999999999999999': partition "
                                 "'999999999999999999999' must be 1 to 255"},
    {"xvda1b", WHERE ": unknown vdev 'xvda1b' (use xvdX, hdX, sdX or vdX, e.g. xvda)"},
    {"xvdbgqcw", WHERE ": vdev 'xvdbgqcw': disk number too large (at most 1048575)"},
    {"hde", WHERE ": vdev 'hde': IDE has only hda, hdb, hdc and hdd (use xvdX for more disks)"},
    {"d0", WHERE ": vdev 'd0': the d<N>p<P> form is not supported (name the disk xvda, xvdb, "
           "...)"},
    {"d536p37", WHERE ": vdev 'd536p37': the d<N>p<P> form is not supported (name the disk "
                "xvda, xvdb, ...)"},
    {"0xca00", WHERE ": vdev '0xca00': numeric device numbers are not supported (name the "
               "disk xvda, xvdb, ...)"},
    {"", WHERE ": unknown vdev '' (use xvdX, hdX, sdX or vdX, e.g. xvda)"},
    {"fd0", WHERE ": unknown vdev 'fd0' (use xvdX, hdX, sdX or vdX, e.g. xvda)"},
    {"xvdA", WHERE ": unknown vdev 'xvdA' (use xvdX, hdX, sdX or vdX, e.g. xvda)"},
    {"hd", WHERE ": unknown vdev 'hd' (use xvdX, hdX, sdX or vdX, e.g. xvda)"},
};

static void test_vdev(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(vdev_ok); i++) {
        kxl_disk_bus bus = KXL_DISK_BUS_SCSI;
        int index = -1, partition = -1;
        check_success(cfg_vdev_parse(vdev_ok[i].vdev, WHERE, &bus, &index, &partition),
                      vdev_ok[i].vdev);
        CHECK((int)bus == vdev_ok[i].bus, vdev_ok[i].vdev);
        CHECK(index == vdev_ok[i].index, vdev_ok[i].vdev);
        CHECK(partition == vdev_ok[i].partition, vdev_ok[i].vdev);
    }
    for (size_t i = 0; i < KX_ARRAY_SIZE(vdev_bad); i++) {
        kxl_disk_bus bus;
        int index, partition;
        check_failure(cfg_vdev_parse(vdev_bad[i].vdev, WHERE, &bus, &index, &partition),
                      vdev_bad[i].vdev, vdev_bad[i].msg);
    }
}

/* ---- vif --------------------------------------------------------------------------------- */

static const struct {
    const char *spec;
    const char *mac, *bridge, *model, *vifname, *ip, *rate, *type, *script, *gatewaydev;
    int mtu;
} vif_ok[] = {
    {"", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"mac=00:16:3E:74:3d:76,model=rtl8139,bridge=xenbr0", "00:16:3e:74:3d:76", "xenbr0",
     "rtl8139", NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"mac=00:16:3E:74:34:32", "00:16:3e:74:34:32", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, 0},
    {"mac=02:00:00:00:00:01", "02:00:00:00:00:01", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, 0},
    {"bridge=br0, model=virtio-net, vifname=vm1-eth0", NULL, "br0", "virtio", "vm1-eth0", NULL,
     NULL, NULL, NULL, NULL, 0},
    {"model=virtio", NULL, NULL, "virtio", NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"model=e1000", NULL, NULL, "e1000", NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"model=ioemu", NULL, NULL, "rtl8139", NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"vifname=abcdefghijklmno", NULL, NULL, NULL, "abcdefghijklmno", NULL, NULL, NULL, NULL,
     NULL, 0},
    {"ip=192.168.1.10", NULL, NULL, NULL, NULL, "192.168.1.10", NULL, NULL, NULL, NULL, 0},
    {"ip=192.168.1.10 10.0.0.0/24  fe80::1 2001:db8::/32", NULL, NULL, NULL, NULL,
     "192.168.1.10 10.0.0.0/24  fe80::1 2001:db8::/32", NULL, NULL, NULL, NULL, 0},
    {"rate=10Mb/s", NULL, NULL, NULL, NULL, NULL, "10Mb/s", NULL, NULL, NULL, 0},
    {"rate=250KB/s", NULL, NULL, NULL, NULL, NULL, "250KB/s", NULL, NULL, NULL, 0},
    {"rate=100kB/s", NULL, NULL, NULL, NULL, NULL, "100kB/s", NULL, NULL, NULL, 0},
    {"rate=1MB/s@20ms", NULL, NULL, NULL, NULL, NULL, "1MB/s@20ms", NULL, NULL, NULL, 0},
    {"rate=1Gb/s@1s", NULL, NULL, NULL, NULL, NULL, "1Gb/s@1s", NULL, NULL, NULL, 0},
    {"rate=8b/s@500us", NULL, NULL, NULL, NULL, NULL, "8b/s@500us", NULL, NULL, NULL, 0},
    {"rate=4294967295B/s", NULL, NULL, NULL, NULL, NULL, "4294967295B/s", NULL, NULL, NULL, 0},
    {"mtu=9000", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 9000},
    {"mtu=68", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 68},
    {"mtu=65535", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 65535},
    {"type=ioemu", NULL, NULL, NULL, NULL, NULL, NULL, "ioemu", NULL, NULL, 0},
    {"type=vif", NULL, NULL, NULL, NULL, NULL, NULL, "vif", NULL, NULL, 0},
    {"script=vif-bridge", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "vif-bridge", NULL, 0},
    {"script=vif-route,gatewaydev=eth0", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "vif-route",
     "eth0", 0},
    {"netdev=eth1", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "eth1", 0},
    {",bridge=xenbr0,,mac=00:16:3e:00:00:01,", "00:16:3e:00:00:01", "xenbr0", NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, 0},
    {"mac=aa:bb:cc:dd:ee:ff,bridge=br0,model=e1000,vifname=web0,ip=10.0.0.2,rate=1MB/s,"
     "mtu=1400,type=vif,script=vif-nat,gatewaydev=eth0",
     "aa:bb:cc:dd:ee:ff", "br0", "e1000", "web0", "10.0.0.2", "1MB/s", "vif", "vif-nat", "eth0",
     1400},
};

static void test_vif_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(vif_ok); i++) {
        const char *spec = vif_ok[i].spec;
        kxl_vif v = {0};
        check_success(cfg_vif_parse(spec, WHERE, &v), spec);
        CHECK_STR(v.mac, vif_ok[i].mac, spec);
        CHECK_STR(v.bridge, vif_ok[i].bridge, spec);
        CHECK_STR(v.model, vif_ok[i].model, spec);
        CHECK_STR(v.vifname, vif_ok[i].vifname, spec);
        CHECK_STR(v.ip, vif_ok[i].ip, spec);
        CHECK_STR(v.rate, vif_ok[i].rate, spec);
        CHECK_STR(v.type, vif_ok[i].type, spec);
        CHECK_STR(v.script, vif_ok[i].script, spec);
        CHECK_STR(v.gatewaydev, vif_ok[i].gatewaydev, spec);
        CHECK(v.mtu == vif_ok[i].mtu, spec);
        kxl_vif_dispose(&v);
    }
}

#define VIF_ERR(spec, msg) {spec, WHERE ": vif '" spec "': " msg}
#define KEYS "mac, bridge, model, vifname, ip, rate, mtu, type, script, gatewaydev"
#define MAC_FORM "is not six hex bytes separated by colons (e.g. 00:16:3e:12:34:56)"
#define IFNAME_FORM "is not a valid interface name (1 to 15 letters, digits, '.', '_' or " \
                    "'-', not starting with '.' or '-')"
#define RATE_FORM "is not RATE/s or RATE/s@INTERVAL (e.g. 10Mb/s, 250KB/s, 1MB/s@20ms; RATE in " \
                  "B, kB, MB, GB or b, kb, Mb, Gb; INTERVAL in us, ms or s)"
#define RATE_RANGE "is out of range (RATE and INTERVAL count from 1 to 4294967295, and RATE " \
                   "must be at least one byte per second)"
#define SCRIPT_FORM "must be a plain name such as vif-bridge (kxl runs scripts only from its " \
                    "own script directory)"

static const struct {
    const char *spec;
    const char *msg;
} vif_bad[] = {
    VIF_ERR("mac=00:16:3e:74:3d", "mac '00:16:3e:74:3d' " MAC_FORM),
    VIF_ERR("mac=00-16-3e-74-3d-76", "mac '00-16-3e-74-3d-76' " MAC_FORM),
    VIF_ERR("mac=0:16:3e:74:3d:76", "mac '0:16:3e:74:3d:76' " MAC_FORM),
    VIF_ERR("mac=00:16:3e:74:3d:7g", "mac '00:16:3e:74:3d:7g' " MAC_FORM),
    VIF_ERR("mac=00:16:3e:74:3d:761", "mac '00:16:3e:74:3d:761' " MAC_FORM),
    VIF_ERR("mac=01:00:5e:00:00:01", "mac '01:00:5e:00:00:01' is a multicast address (the first "
            "byte must be even)"),
    VIF_ERR("mac=ff:ff:ff:ff:ff:ff", "mac 'ff:ff:ff:ff:ff:ff' is a multicast address (the first "
            "byte must be even)"),
    VIF_ERR("mac=00:00:00:00:00:00", "mac '00:00:00:00:00:00' is all zeros"),
    VIF_ERR("model=ne2k_pci", "unknown model 'ne2k_pci' (use virtio, e1000 or rtl8139)"),
    VIF_ERR("vifname=abcdefghijklmnop", "vifname 'abcdefghijklmnop' " IFNAME_FORM),
    VIF_ERR("vifname=a/b", "vifname 'a/b' " IFNAME_FORM),
    VIF_ERR("vifname=a b", "vifname 'a b' " IFNAME_FORM),
    VIF_ERR("vifname=eth0:1", "vifname 'eth0:1' " IFNAME_FORM),
    VIF_ERR("vifname=..", "vifname '..' " IFNAME_FORM),
    VIF_ERR("vifname=a\"b;#", "vifname 'a\"b;#' " IFNAME_FORM),
    VIF_ERR("bridge=br0 ", "bridge 'br0 ' " IFNAME_FORM),
    VIF_ERR("gatewaydev=a/b", "gatewaydev 'a/b' " IFNAME_FORM),
    VIF_ERR("bridge=", "'bridge' needs a value"),
    VIF_ERR("mac=", "'mac' needs a value"),
    VIF_ERR("ip=1.2.3.4 300.1.1.1", "ip '1.2.3.4 300.1.1.1': '300.1.1.1' is not an IPv4 or IPv6 "
            "address"),
    VIF_ERR("ip=1.2.3.4/33", "ip '1.2.3.4/33': '1.2.3.4/33' is not an IPv4 or IPv6 address"),
    VIF_ERR("ip=fe80::1/", "ip 'fe80::1/': 'fe80::1/' is not an IPv4 or IPv6 address"),
    VIF_ERR("ip=host.example", "ip 'host.example': 'host.example' is not an IPv4 or IPv6 "
            "address"),
    VIF_ERR("ip= ", "ip ' ' has no address"),
    VIF_ERR("rate=10Mb", "rate '10Mb' " RATE_FORM),
    VIF_ERR("rate=10M/s", "rate '10M/s' " RATE_FORM),
    VIF_ERR("rate=10Xb/s", "rate '10Xb/s' " RATE_FORM),
    VIF_ERR("rate=Mb/s", "rate 'Mb/s' " RATE_FORM),
    VIF_ERR("rate=10Mb/s@20", "rate '10Mb/s@20' " RATE_FORM),
    VIF_ERR("rate=10Mb/s@ms", "rate '10Mb/s@ms' " RATE_FORM),
    VIF_ERR("rate=10Mb/sec", "rate '10Mb/sec' " RATE_FORM),
    VIF_ERR("rate=-1Mb/s", "rate '-1Mb/s' " RATE_FORM),
    VIF_ERR("rate=0Mb/s", "rate '0Mb/s' " RATE_RANGE),
    VIF_ERR("rate=1b/s", "rate '1b/s' " RATE_RANGE),
    VIF_ERR("rate=4294967296B/s", "rate '4294967296B/s' " RATE_RANGE),
    VIF_ERR("rate=1MB/s@0ms", "rate '1MB/s@0ms' " RATE_RANGE),
    VIF_ERR("rate=4294967295GB/s", "rate '4294967295GB/s' " RATE_RANGE),
    VIF_ERR("rate=1MB/s@5000s", "rate '1MB/s@5000s' " RATE_RANGE),
    VIF_ERR("mtu=67", "mtu '67' is not a number from 68 to 65535"),
    VIF_ERR("mtu=65536", "mtu '65536' is not a number from 68 to 65535"),
    VIF_ERR("mtu=1500000", "mtu '1500000' is not a number from 68 to 65535"),
    VIF_ERR("mtu=-1", "mtu '-1' is not a number from 68 to 65535"),
    VIF_ERR("mtu=1500b", "mtu '1500b' is not a number from 68 to 65535"),
    VIF_ERR("type=pv", "unknown type 'pv' (use ioemu or vif)"),
    VIF_ERR("script=/etc/xen/scripts/vif-bridge", "script '/etc/xen/scripts/vif-bridge' "
            SCRIPT_FORM),
    VIF_ERR("script=../vif-bridge", "script '../vif-bridge' " SCRIPT_FORM),
    VIF_ERR("script=.hidden", "script '.hidden' " SCRIPT_FORM),
    VIF_ERR("script=vif bridge", "script 'vif bridge' " SCRIPT_FORM),
    VIF_ERR("backend=netdom", "backend= is not supported on KVM (there are no driver domains)"),
    VIF_ERR("devid=1", "unknown key 'devid' (known: " KEYS ")"),
    VIF_ERR("accel=x", "unknown key 'accel' (known: " KEYS ")"),
    VIF_ERR("bridge", "'bridge' is not KEY=VALUE (keys: " KEYS ")"),
    VIF_ERR("bridge=br0,bridge=br1", "'bridge' is given more than once"),
    VIF_ERR("gatewaydev=eth0,netdev=eth1", "'netdev' is given more than once"),
    VIF_ERR("mac=00:16:3e:00:00:01,mtu=9000,mtu=1500", "'mtu' is given more than once"),
};

static void test_vif_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(vif_bad); i++) {
        kxl_vif v = {0};
        kx_err_clear();
        check_failure(cfg_vif_parse(vif_bad[i].spec, WHERE, &v), vif_bad[i].spec,
                      vif_bad[i].msg);
        kxl_vif_dispose(&v);
    }
}

/* ---- cpus -------------------------------------------------------------------------------- */

static const struct {
    const char *spec;
    unsigned host_cpus;
    const char *canonical;
} cpus_ok[] = {
    {"all", 8, "0-7"},
    {"all", 1, "0"},
    {"all", 4096, "0-1023"},
    {"3", 8, "3"},
    {"7", 8, "7"},
    {"0-3,5", 8, "0-3,5"},
    {"0-3,5,^1", 8, "0,2-3,5"},
    {"^1,0-3,5", 8, "0,2-3,5"},
    {"all,^7", 8, "0-6"},
    {"^7,all", 8, "0-6"},
    {"0-3,^2-3,2", 8, "0-1"},
    {"1,1,2", 8, "1-2"},
    {"5-5", 8, "5"},
    {"0-1, 4", 8, "0-1,4"},
    {"0,,2", 8, "0,2"},
    {"6,4,2,0", 8, "0,2,4,6"},
    {"1023", 1024, "1023"},
};

static void test_cpus_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(cpus_ok); i++) {
        kxl_cpuset set;
        memset(&set, 0xff, sizeof(set));   /* the parser must clear what it is given */
        check_success(cfg_cpus_parse(cpus_ok[i].spec, WHERE, cpus_ok[i].host_cpus, &set),
                      cpus_ok[i].spec);
        AUTOFREE char *s = cfg_cpus_format(&set);
        CHECK_STR(s, cpus_ok[i].canonical, cpus_ok[i].spec);
    }
}

#define CPUS_ERR(spec, msg) spec, WHERE ": cpus '" spec "': " msg
#define CPUS_FORM "is not a CPU number or range (use N, A-B, ^N, ^A-B or all)"

static const struct {
    unsigned host_cpus;
    const char *spec;
    const char *msg;
} cpus_bad[] = {
    {2, CPUS_ERR("0-9", "CPU 9 does not exist on this host (it has 2)")},
    {2, CPUS_ERR("2", "CPU 2 does not exist on this host (it has 2)")},
    {2, CPUS_ERR("all,^5", "CPU 5 does not exist on this host (it has 2)")},
    {8, CPUS_ERR("99999999999999999999", "CPU 99999999999999999999 does not exist on this host "
                 "(it has 8)")},
    {2048, CPUS_ERR("1500", "CPU 1500 is beyond the 1024 CPUs kxl can pin to")},
    {8, CPUS_ERR("0,^0", "no CPU is left once the ^ entries are taken out")},
    {8, CPUS_ERR("^3", "no CPU is left once the ^ entries are taken out")},
    {8, CPUS_ERR("", "no CPU given (use e.g. all, 3, 0-3 or 0-3,^1)")},
    {8, CPUS_ERR(", ,", "no CPU given (use e.g. all, 3, 0-3 or 0-3,^1)")},
    {8, CPUS_ERR("nodes:0", "NUMA node specs ('nodes:0') are not supported; list the CPUs "
                 "instead")},
    {8, CPUS_ERR("0-3,^node:1", "NUMA node specs ('node:1') are not supported; list the CPUs "
                 "instead")},
    {8, CPUS_ERR("^all", "'^all' would exclude every CPU")},
    {8, CPUS_ERR("3-1", "range '3-1' ends before it starts")},
    {8, CPUS_ERR("a", "'a' " CPUS_FORM)},
    {8, CPUS_ERR("1-", "'1-' " CPUS_FORM)},
    {8, CPUS_ERR("-1", "'-1' " CPUS_FORM)},
    {8, CPUS_ERR("1-2-3", "'1-2-3' " CPUS_FORM)},
    {8, CPUS_ERR("0x1", "'0x1' " CPUS_FORM)},
    {8, CPUS_ERR("1 2", "'1 2' " CPUS_FORM)},
    {8, CPUS_ERR("^", "'^' " CPUS_FORM)},
    {8, CPUS_ERR("all,^^1", "'^^1' " CPUS_FORM)},
    {8, CPUS_ERR("^x", "'^x' " CPUS_FORM)},
};

static void test_cpus_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(cpus_bad); i++) {
        kxl_cpuset set;
        kx_err_clear();
        check_failure(cfg_cpus_parse(cpus_bad[i].spec, WHERE, cpus_bad[i].host_cpus, &set),
                      cpus_bad[i].spec, cpus_bad[i].msg);
    }
}

static void test_cpus_format(void **state)
{
    (void)state;
    static const struct {
        unsigned cpus[8];
        size_t n;
        const char *want;
    } cases[] = {
        {{0}, 0, ""},
        {{0}, 1, "0"},
        {{0, 1}, 2, "0-1"},
        {{1023}, 1, "1023"},
        {{63, 64}, 2, "63-64"},
        {{0, 2, 3, 4, 7, 1022, 1023}, 7, "0,2-4,7,1022-1023"},
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++) {
        kxl_cpuset set = {{0}};
        for (size_t j = 0; j < cases[i].n; j++)
            kxl_cpuset_set(&set, cases[i].cpus[j]);
        AUTOFREE char *s = cfg_cpus_format(&set);
        CHECK_STR(s, cases[i].want, cases[i].want);
    }
    kxl_cpuset full;
    memset(&full, 0xff, sizeof(full));
    AUTOFREE char *s = cfg_cpus_format(&full);
    CHECK_STR(s, "0-1023", "full");
}

/* vif-openvswitch's bridge=BRIDGE[.VLAN][:TRUNK...], as Xen's script reads it. */
static void test_vif_ovs_bridge(void **state)
{
    (void)state;
    char name[16], trunks[128];
    int tag = -1;
    assert_true(cfg_vif_ovs_bridge("ovsbr0", name, &tag, trunks));
    assert_string_equal(name, "ovsbr0");
    assert_int_equal(tag, 0);
    assert_string_equal(trunks, "");
    assert_true(cfg_vif_ovs_bridge("ovsbr0.100:200:4094", name, &tag, trunks));
    assert_int_equal(tag, 100);
    assert_string_equal(trunks, "200,4094");
    assert_true(cfg_vif_ovs_bridge("br:7", name, &tag, trunks));
    assert_int_equal(tag, 0);
    assert_string_equal(trunks, "7");
    static const char *const bad[] = {"", ".100", "br.0", "br.4095", "br.", "br.1x",
                                      "br:", "br::5", "br.5.6", "a-name-too-long-x.5",
                                      "br/x.5", "br.10:20:99999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(cfg_vif_ovs_bridge(bad[i], name, &tag, trunks));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_ok),  cmocka_unit_test(test_disk_bad),
        cmocka_unit_test(test_vdev),     cmocka_unit_test(test_vif_ok),
        cmocka_unit_test(test_vif_bad),  cmocka_unit_test(test_vif_ovs_bridge),
        cmocka_unit_test(test_cpus_ok),
        cmocka_unit_test(test_cpus_bad), cmocka_unit_test(test_cpus_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
