/* boot_parts.c - the partitions of a guest's disk, for the built-in pygrub: an MBR's primary
 * and logical partitions (the EBR chain), or a GPT's entries when the MBR is protective, each
 * checked (signature, CRCs, bounds) since the disk is the guest's. */
#include "boot/boot_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"

#ifndef BLKSSZGET
#define BLKSSZGET _IO(0x12, 104) /* <linux/fs.h>, which clashes with <sys/mount.h> */
#endif

#define MBR_SIZE 512
#define MAX_EBRS 64           /* logical partitions followed, so a looping chain ends */
#define GPT_MAX_ENTRIES_SIZE (1 << 20)

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool read_at(int fd, uint64_t off, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

static void parts_add(bl_disk *d, unsigned num, uint64_t offset)
{
    if (d->nparts < BL_MAX_PARTS && offset > 0)
        d->parts[d->nparts++] = (bl_part){num, offset};
}

static bool mbr_valid(const unsigned char *sec)
{
    return sec[510] == 0x55 && sec[511] == 0xaa;
}

static bool mbr_extended(unsigned type)
{
    return type == 0x05 || type == 0x0f || type == 0x85;
}

/* Logical partitions (5, 6, ...): a chain of EBRs, each giving one partition relative to
 * itself and the next EBR relative to the extended partition, numbered as Linux does. */
static void mbr_logical(bl_disk *d, int fd, uint64_t ext_lba, unsigned ssz)
{
    unsigned char sec[MBR_SIZE];
    uint64_t ebr = ext_lba;
    unsigned num = 5;
    for (int i = 0; i < MAX_EBRS; i++) {
        if (!read_at(fd, ebr * ssz, sec, sizeof(sec)) || !mbr_valid(sec))
            return;
        const unsigned char *data = sec + 446, *next = sec + 446 + 16;
        if (data[4] != 0 && !mbr_extended(data[4]) && le32(data + 8) != 0)
            parts_add(d, num++, (ebr + le32(data + 8)) * ssz);
        if (!mbr_extended(next[4]) || le32(next + 8) == 0)
            return;
        ebr = ext_lba + le32(next + 8);
    }
}

static void mbr_read(bl_disk *d, int fd, const unsigned char *mbr, unsigned ssz)
{
    uint64_t ext_lba = 0;
    for (unsigned i = 0; i < 4; i++) {
        const unsigned char *e = mbr + 446 + 16 * i;
        if (e[4] != 0 && mbr_extended(e[4]) && !ext_lba)
            ext_lba = le32(e + 8);
        else if (e[4] != 0)
            parts_add(d, i + 1, (uint64_t)le32(e + 8) * ssz);
    }
    if (ext_lba)
        mbr_logical(d, fd, ext_lba, ssz);
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* The primary GPT at LBA 1; a header or entry array failing its CRC counts as no table. */
static void gpt_read(bl_disk *d, int fd, unsigned ssz)
{
    static const unsigned char unused[16];
    unsigned char hdr[MBR_SIZE];
    if (!read_at(fd, ssz, hdr, sizeof(hdr)) || memcmp(hdr, "EFI PART", 8) != 0)
        return;
    uint32_t hsize = le32(hdr + 12), hcrc = le32(hdr + 16);
    uint32_t count = le32(hdr + 80), esize = le32(hdr + 84);
    if (hsize < 92 || hsize > sizeof(hdr) || esize < 128 || esize % 8 != 0 || count == 0 ||
        (uint64_t)count * esize > GPT_MAX_ENTRIES_SIZE)
        return;
    memset(hdr + 16, 0, 4);
    if (crc32_ieee(hdr, hsize) != hcrc) {
        kx_debug("'%s': GPT header has a bad CRC", d->image);
        return;
    }
    size_t len = (size_t)count * esize;
    AUTOFREE unsigned char *ents = kx_malloc0(len);
    if (!read_at(fd, le64(hdr + 72) * ssz, ents, len) || crc32_ieee(ents, len) != le32(hdr + 88)) {
        kx_debug("'%s': GPT partition entries unreadable or with a bad CRC", d->image);
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = ents + (size_t)i * esize;
        if (memcmp(e, unused, sizeof(unused)) != 0)
            parts_add(d, i + 1, le64(e + 32) * ssz);
    }
}

/* The logical sector size: the device's for a block device, 512 for an image file. */
static unsigned sector_size(int fd)
{
    struct stat st;
    int ssz = 0;
    if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) && ioctl(fd, BLKSSZGET, &ssz) == 0 &&
        ssz >= 512 && ssz <= 65536)
        return (unsigned)ssz;
    return 512;
}

void bl_parts_read(bl_disk *d)
{
    unsigned char mbr[MBR_SIZE];
    int fd = d->fd;
    unsigned ssz = sector_size(fd);
    d->nparts = 0;
    if (!read_at(fd, 0, mbr, sizeof(mbr)) || !mbr_valid(mbr))
        return;
    for (unsigned i = 0; i < 4; i++) {
        if (mbr[446 + 16 * i + 4] == 0xee) {
            gpt_read(d, fd, ssz);
            return;
        }
    }
    mbr_read(d, fd, mbr, ssz);
}
