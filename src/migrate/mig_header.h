/* mig_header.h - the header kxl puts in front of QEMU's migration stream: in a save file
 * (kxl save/restore) and, later, at the start of a migration's memory channel. It says what
 * the stream is and what is needed to load it: the domain's resolved config, the QEMU version
 * and the concrete machine type that wrote it, the CPU model and the accelerator. Pure: no I/O,
 * so every way a file can be damaged is unit-tested (tests/unit/test_mig_header.c).
 *
 * Layout (integers little-endian):
 *   0   8  magic "KXLSAVE\n"
 *   8   4  format version (MIG_FORMAT_VERSION)
 *   12  4  length J of the JSON text that follows the fixed part
 *   16  8  length of the QEMU stream after the header; 0: not known (a pipe, a migration)
 *   24  J  JSON: {"config", "qemu_version", "machine", "cpu_model", "accel", "saved_at",
 *              and a migration's "copy_storage" when --copy-storage was asked}
 *   24+J 4 CRC-32 (zlib's) of bytes 0 .. 24+J
 * The QEMU stream starts right after the checksum. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define MIG_MAGIC "KXLSAVE\n"
#define MIG_FORMAT_VERSION 1
#define MIG_FIXED_LEN 24                /* magic, version, JSON length, stream length */
#define MIG_JSON_MAX (16u << 20)        /* a config is a few KiB; more is damage */

typedef struct {
    unsigned version;        /* of the format (decode: as read) */
    json_object *config;     /* the domain's resolved config (cfg_domcfg_to_json); owned */
    char *qemu_version;      /* "7.2.22" */
    char *machine;           /* concrete machine type: "pc-i440fx-7.2", never an alias */
    char *cpu_model;         /* "qemu64", "host" */
    char *accel;             /* "tcg" or "kvm": a stream loads under the accelerator it left */
    long long saved_at;      /* seconds since the epoch */
    uint64_t stream_len;     /* bytes of QEMU stream after the header; 0: not known */
    /* kxl migrate --copy-storage: the sender's writable disks, [{vdev, size (bytes the guest
     * sees), format}], for the receiver to make empty where it has none; owned; NULL: not
     * asked (the disks must be shared) */
    json_object *copy_storage;
    bool postcopy;           /* kxl migrate --postcopy: the receiver's QEMU must allow it too */
} mig_header;

/* The header's JSON part (new): {config, qemu_version, machine, cpu_model, accel, saved_at}. */
json_object *mig_header_to_json(const mig_header *h);
/* Fills the members the JSON part o holds (the rest of *h is left as it is); -1 with
 * kx_err(KXL_ERR_INVALID) naming what and the first member missing. */
int mig_header_from_json(json_object *o, const char *what, mig_header *h);

/* Appends the encoded header to *out. The config is borrowed. */
void mig_header_encode(const mig_header *h, kx_buf *out);

/* Reads a header from the first len bytes of buf (what names the source in messages: the
 * file's name). Returns 0 with *h_r filled (mig_header_dispose) and *used_r the header's
 * length (the stream starts there); 1 when buf holds too little to tell, with *used_r the
 * number of bytes needed (more than len: a file that has no more is truncated); -1 with
 * kx_err(KXL_ERR_INVALID) when it is not a kxl save, is damaged, or is of a newer format. */
int mig_header_decode(const void *buf, size_t len, const char *what, mig_header *h_r,
                      size_t *used_r);

/* Whether the bytes that follow a header begin QEMU's migration stream (its magic and stream
 * version 3); -1 with kx_err(KXL_ERR_INVALID) naming what when they do not. */
int mig_stream_check(const void *buf, size_t len, const char *what);

/* Compares dotted versions ("7.2.22"): <0, 0, >0 like strcmp; missing parts count as 0. */
int mig_version_cmp(const char *a, const char *b);

void mig_header_dispose(mig_header *h);

/* zlib's CRC-32 of len bytes, continuing from crc (start with 0). */
uint32_t mig_crc32(uint32_t crc, const void *buf, size_t len);
