/* fuzz_parts.c - libFuzzer target: the built-in pygrub's partition tables (src/boot/
 * boot_parts.c): an MBR with its EBR chain of logical partitions, or the GPT behind a
 * protective MBR. The disk is the guest's.
 *
 * Input: the start of a disk image (sectors of 512 bytes). Checked besides crashes, leaks,
 * undefined behaviour and time (a looping EBR chain must end): at most BL_MAX_PARTS
 * partitions, each at a non-zero offset that is a whole number of sectors, numbered as Linux
 * does (primaries 1-4, logicals from 5 in order; GPT entries by their index, ascending). */
#include <string.h>
#include <unistd.h>

#include "boot/boot_internal.h"
#include "fuzz.h"
#include "util/cleanup.h"

#define MAX_INPUT (1 << 20)

static bool has_protective_mbr(const uint8_t *data, size_t size)
{
    if (size < 512 || data[510] != 0x55 || data[511] != 0xaa)
        return false;
    for (int i = 0; i < 4; i++)
        if (data[446 + 16 * i + 4] == 0xee)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    AUTOCLOSE int fd = fuzz_memfd(data, size);
    bl_disk d = {.image = "fuzz.img", .fd = fd};
    bl_parts_read(&d);
    bool gpt = has_protective_mbr(data, size);
    FUZZ_CHECK(d.nparts <= BL_MAX_PARTS, "%zu partitions", d.nparts);
    for (size_t i = 0; i < d.nparts; i++) {
        const bl_part *p = &d.parts[i];
        FUZZ_CHECK(p->offset > 0 && p->offset % 512 == 0, "partition %u at offset %llu", p->num,
                   (unsigned long long)p->offset);
        FUZZ_CHECK(i == 0 || p->num > d.parts[i - 1].num, "partition %u after %u", p->num,
                   d.parts[i - 1].num);
        unsigned prev = i ? d.parts[i - 1].num : 0;
        FUZZ_CHECK(gpt || p->num <= 4 || p->num == (prev > 4 ? prev + 1 : 5),
                   "logical partition %u after %u", p->num, prev);
    }
    return 0;
}
