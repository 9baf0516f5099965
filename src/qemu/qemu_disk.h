/* qemu_disk.h - a disk as QEMU's block layer holds it. One description serves
 * the disks a domain starts with (-blockdev) and those hot-plugged later
 * (blockdev-add), so both get the same cache, I/O mode, discard and locking.
 * Pure: the caller says whether the image is a block device. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "kxl/domcfg.h"

/* The node name of the i-th disk of a domain's config: "driveI". Devices name
 * it as their drive=; block-detach deletes it. */
#define QEMU_DISK_NODE_MAX 32
void qemu_disk_node(size_t i, char node[QEMU_DISK_NODE_MAX]);

/* QEMU's block driver for an image format ("vpc" for vhd). */
const char *qemu_disk_driver(kxl_disk_format format);

/* The blockdev of disk d: a format node called node (NULL: QEMU names it) over a
 * protocol node that opens filename (a path, or /dev/fdset/N), "host_device"
 * when host_device is set, else "file"; over backing (a reference is taken;
 * NULL: QEMU opens what the image's header names, if anything). A new reference
 * for the caller. */
json_object *qemu_blockdev(const kxl_disk *d, const char *node, const char *filename,
                           bool host_device, json_object *backing);
