/* pvh.h - booting a Linux kernel at its PVH entry point, as Xen boots a PVH guest.
 *
 * A bzImage carries the real kernel (an ELF "vmlinux") compressed inside it; booted as a
 * bzImage, the guest first runs the kernel's own decompressor. Under TCG that is hundreds of
 * milliseconds of emulated work (a third of a second for Debian's 6.1 kernel here), and on KVM
 * it is still work done at every boot. A vmlinux with the XEN_ELFNOTE_PHYS32_ENTRY note (every
 * kernel built with CONFIG_PVH, as Debian's are) can instead be loaded by QEMU at that entry
 * point, already decompressed. kxl unpacks the ELF once on the host and caches it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The compressions a kernel's payload may use; the ones kxl can unpack come first. */
typedef enum {
    PVH_CODEC_GZIP,
    PVH_CODEC_XZ,
    PVH_CODEC_LZMA,
    PVH_CODEC_LZ4,
    PVH_CODEC_ZSTD,
    PVH_CODEC_UNSUPPORTED, /* bzip2, lzo: rare; such kernels boot as bzImages */
} pvh_codec;

/* Pure: the compressed payload inside a bzImage (boot protocol >= 2.08: "HdrS" at 0x202,
 * payload_offset/payload_length at 0x248). Returns 0 with *off_r and *len_r inside the buffer,
 * or -1 (nothing reported) when img is no such bzImage. */
int pvh_bzimage_payload(const uint8_t *img, size_t len, size_t *off_r, size_t *len_r);

/* Pure: the codec of a payload from its magic bytes; -1 when none is known. */
int pvh_payload_codec(const uint8_t *p, size_t len);

/* Pure: decompresses a kernel payload. The kernel's build appends the uncompressed size as
 * the last 4 bytes (little endian) of every payload, so the output is sized exactly and is
 * refused when larger than 1 GiB or 64 times the payload, or when the data does not decompress
 * to that size.
 * Returns 0 with *out_r (caller frees) or -1 with kx_err ("... kernel payload ..."). */
int pvh_decompress(pvh_codec codec, const uint8_t *p, size_t len, uint8_t **out_r,
                   size_t *out_len_r);

/* Pure predicate: img is a 64-bit x86 ELF executable with a PT_NOTE segment holding the Xen
 * note XEN_ELFNOTE_PHYS32_ENTRY (the PVH entry point QEMU jumps to). Bounds-checked: any
 * buffer is safe to pass. */
bool pvh_elf_has_entry(const uint8_t *img, size_t len);

/* The file QEMU should load to boot KERNEL at its PVH entry point:
 *   - KERNEL itself when it already is such an ELF;
 *   - for a bzImage whose vmlinux has the note: cache_dir/SHA256.elf (SHA-256 of the
 *     bzImage's contents), unpacked on first use (written to a temporary file, then renamed,
 *     so concurrent starts are safe), its mtime refreshed on every use; the cache keeps the
 *     PVH_CACHE_KEEP most recently used entries. A link cache_dir/.stat-DEV-INO-SIZE-MTIME-
 *     CTIME names the entry of a kernel file already seen, so that an unchanged file is
 *     neither read nor hashed again.
 * Returns 1 with *elf_r (caller frees), 0 when the kernel cannot boot that way (*why_r, owned
 * by the caller, says why: no note, unknown compression...), -1 with kx_err when the kernel
 * cannot be read or the cache cannot be written. */
#define PVH_CACHE_KEEP 8
int pvh_kernel_prepare(const char *kernel, const char *cache_dir, char **elf_r, char **why_r);
