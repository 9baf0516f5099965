/* qemu_disk.c - the block node of a disk, for -blockdev at start and
 * blockdev-add at hot-plug: a format node over a protocol node, as libvirt
 * builds them, so kxl's and libvirt's guests sit on the same block graph. */
#include "qemu/qemu_disk.h"

#include <stdio.h>

void qemu_disk_node(size_t i, char node[QEMU_DISK_NODE_MAX])
{
    snprintf(node, QEMU_DISK_NODE_MAX, "drive%zu", i);
}

const char *qemu_disk_driver(kxl_disk_format format)
{
    /* QEMU calls Xen's and Hyper-V's vhd "vpc" */
    return format == KXL_DISK_FMT_VHD ? "vpc" : kxl_disk_format_to_string(format);
}

/* The options every node of a disk has. Writeback through the host's page
 * cache, with the guest's flushes passed down as fdatasync (no-flush off): a
 * flush the guest saw complete is on disk, and images on file systems without
 * O_DIRECT (tmpfs) work. Discards reach the image unless the disk is
 * read-only; QEMU's image locking stays at its default (on), so a second
 * domain cannot open a disk this one writes. */
static void add_common(json_object *o, const kxl_disk *d)
{
    bool readonly = d->readonly || d->cdrom;
    json_object *cache = json_object_new_object();
    json_object_object_add(cache, "direct", json_object_new_boolean(false));
    json_object_object_add(cache, "no-flush", json_object_new_boolean(false));
    json_object_object_add(o, "cache", cache);
    json_object_object_add(o, "read-only", json_object_new_boolean(readonly));
    json_object_object_add(o, "discard",
                           json_object_new_string(d->discard && !readonly ? "unmap" : "ignore"));
}

json_object *qemu_blockdev(const kxl_disk *d, const char *node, const char *filename,
                           bool host_device, json_object *backing)
{
    json_object *file = json_object_new_object();
    json_object_object_add(file, "driver",
                           json_object_new_string(host_device ? "host_device" : "file"));
    json_object_object_add(file, "filename", json_object_new_string(filename));
    /* a pool of threads does the I/O: it works on every file system and
     * kernel, and under TCG io_uring measured no faster (bench/README.md) */
    json_object_object_add(file, "aio", json_object_new_string("threads"));
    add_common(file, d);

    json_object *fmt = json_object_new_object();
    json_object_object_add(fmt, "driver",
                           json_object_new_string(qemu_disk_driver(d->format)));
    if (node)
        json_object_object_add(fmt, "node-name", json_object_new_string(node));
    add_common(fmt, d);
    json_object_object_add(fmt, "file", file);
    if (backing)
        json_object_object_add(fmt, "backing", json_object_get(backing));
    return fmt;
}
