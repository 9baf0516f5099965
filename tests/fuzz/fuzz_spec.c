/* fuzz_spec.c - libFuzzer target: the mini-languages inside xl.cfg values (cfg_spec.h): disk
 * specs (cfg_disk.c), vif specs and rates (cfg_vif.c), cpus pinning specs (cfg_cpus.c) and
 * virtual device names.
 *
 * Input: one byte naming the parser ('d' disk, 'v' vif, 'c' cpus, anything else a vdev),
 * then the spec. Checked besides crashes, leaks and undefined behaviour:
 * - a disk that parses has a vdev that cfg_vdev_parse maps to the same index (and bus, unless
 *   the spec asked for virtio), a target unless it is an empty cdrom, and a cdrom is read-only;
 * - a vif's rate, once accepted, parses with cfg_vif_rate_parse; its MAC is six hex bytes;
 * - a cpus set is not empty, and formats (cfg_cpus_format) to a spec that parses back to the
 *   same set. */
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_spec.h"
#include "fuzz.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define MAX_INPUT 4096
#define HOST_CPUS 64

static void fuzz_disk(const char *spec)
{
    kxl_disk d;
    if (cfg_disk_parse(spec, "fuzz.cfg:1", &d) == 0) {
        kxl_disk_bus bus;
        int index, partition;
        FUZZ_CHECK(d.vdev && cfg_vdev_parse(d.vdev, "fuzz", &bus, &index, &partition) == 0,
                   "disk '%s': vdev '%s' does not parse", spec, d.vdev ? d.vdev : "NULL");
        FUZZ_CHECK(index == d.index && (bus == d.bus || d.bus == KXL_DISK_BUS_VIRTIO),
                   "disk '%s': vdev '%s' is bus %d index %d, the disk bus %d index %d", spec,
                   d.vdev, bus, index, d.bus, d.index);
        FUZZ_CHECK(d.target || (d.cdrom && d.format == KXL_DISK_FMT_EMPTY),
                   "disk '%s': no target, yet not an empty cdrom", spec);
        FUZZ_CHECK(!d.cdrom || d.readonly, "disk '%s': a writable cdrom", spec);
        FUZZ_CHECK(kxl_disk_format_to_string(d.format) && kxl_disk_bus_to_string(d.bus),
                   "disk '%s': format %d or bus %d has no name", spec, d.format, d.bus);
    } else {
        FUZZ_CHECK(*kx_err_msg(), "disk '%s' refused without a message", spec);
    }
    kxl_disk_dispose(&d);
}

static bool mac_ok(const char *mac)
{
    if (strlen(mac) != 17)
        return false;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? mac[i] != ':' : !strchr("0123456789abcdefABCDEF", mac[i]))
            return false;
    return true;
}

static void fuzz_vif(const char *spec)
{
    kxl_vif v;
    if (cfg_vif_parse(spec, "fuzz.cfg:1", &v) == 0) {
        uint64_t rate, interval;
        FUZZ_CHECK(!v.rate || cfg_vif_rate_parse(v.rate, &rate, &interval) == 0,
                   "vif '%s': accepted rate '%s' does not parse", spec, v.rate);
        FUZZ_CHECK(!v.mac || mac_ok(v.mac), "vif '%s': MAC '%s'", spec, v.mac);
        FUZZ_CHECK(v.mtu >= 0, "vif '%s': MTU %d", spec, v.mtu);
    } else {
        FUZZ_CHECK(*kx_err_msg(), "vif '%s' refused without a message", spec);
    }
    char mac[18];
    cfg_vif_default_mac(spec, (int)strlen(spec), mac);
    FUZZ_CHECK(mac_ok(mac) && kx_startswith(mac, "00:16:3e:"), "default MAC '%s'", mac);
    kxl_vif_dispose(&v);
}

static void fuzz_cpus(const char *spec)
{
    kxl_cpuset set, back;
    memset(&set, 0, sizeof(set));
    if (cfg_cpus_parse(spec, "fuzz.cfg:1", HOST_CPUS, &set) < 0) {
        FUZZ_CHECK(*kx_err_msg(), "cpus '%s' refused without a message", spec);
        return;
    }
    AUTOFREE char *text = cfg_cpus_format(&set);
    memset(&back, 0, sizeof(back));
    FUZZ_CHECK(*text, "cpus '%s' accepted as an empty set", spec);
    FUZZ_CHECK(cfg_cpus_parse(text, "fuzz", HOST_CPUS, &back) == 0,
               "cpus '%s': its format '%s' does not parse: %s", spec, text, kx_err_msg());
    FUZZ_CHECK(memcmp(&set, &back, sizeof(set)) == 0, "cpus '%s' -> '%s' is another set", spec,
               text);
}

static void fuzz_vdev(const char *vdev)
{
    kxl_disk_bus bus;
    int index, partition;
    if (cfg_vdev_parse(vdev, "fuzz", &bus, &index, &partition) == 0)
        FUZZ_CHECK(index >= 0 && kxl_disk_bus_to_string(bus) && partition >= 0 &&
                   partition <= 255, "vdev '%s': bus %d index %d partition %d", vdev, bus,
                   index, partition);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_INPUT)
        return 0;
    AUTOFREE char *spec = fuzz_string(data + 1, size - 1);
    kx_err_clear();
    switch (data[0]) {
    case 'd':
        fuzz_disk(spec);
        break;
    case 'v':
        fuzz_vif(spec);
        break;
    case 'c':
        fuzz_cpus(spec);
        break;
    default:
        fuzz_vdev(spec);
    }
    return 0;
}
