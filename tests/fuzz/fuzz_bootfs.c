/* fuzz_bootfs.c - libFuzzer target: the built-in pygrub on a whole guest disk (src/boot:
 * boot_parts.c, boot_ext.c, boot_choose.c, grubcfg.c): partitions, the ext2/3/4 file system
 * with the kernels (read by libext2fs through the disk's descriptor, here a memfd), grub.cfg
 * and grubenv read from it, or the newest vmlinuz-*, and the default cmdline. Only the
 * copying out (boot_copy.c) is left out: it writes files.
 *
 * libext2fs itself is not built to resist a hostile file system (which is why kxl runs this
 * in a deprivileged child, boot_child.c); a crash inside it is reported as its own, not ours.
 *
 * Input: a disk image. Checked besides crashes, leaks and undefined behaviour: a found file
 * system has a kernel directory of "/boot" or ""; a chosen entry has a kernel path that is a
 * regular file in that file system when it came from the newest-kernel scan; a failure to find
 * one says why. */
#include <string.h>
#include <unistd.h>

#include <et/com_err.h>

#include "boot/boot_internal.h"
#include "fuzz.h"
#include "util/cleanup.h"
#include "util/err.h"

#define MAX_INPUT (4 << 20)

void fuzz_setup(void)
{
    initialize_ext2_error_table();
}

static void choose(const bl_disk *d, ext2_filsys fs, const bl_where *w)
{
    kx_bootentry e = {0};
    AUTOFREE char *why = NULL;
    if (bl_grub_entry(fs, w->dir, &e, &why) != 0) {
        FUZZ_CHECK(!e.kernel, "bl_grub_entry failed with a kernel");
        if (bl_newest_entry(fs, w->dir, &e) == 0)
            FUZZ_CHECK(e.kernel && bl_ext_is_file(fs, e.kernel, NULL),
                       "newest kernel '%s' is no file", e.kernel ? e.kernel : "NULL");
    } else {
        FUZZ_CHECK(e.kernel && !why, "grub entry without a kernel, or with a reason");
    }
    if (e.kernel) {
        ext2_ino_t ino;
        if (bl_ext_is_file(fs, e.kernel, &ino))
            (void)bl_ext_size(fs, ino);
    }
    AUTOFREE char *cmdline = bl_default_cmdline(d, w);
    FUZZ_CHECK(cmdline && *cmdline, "no default cmdline");
    kx_bootentry_dispose(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    AUTOCLOSE int fd = fuzz_memfd(data, size);
    bl_disk d = {.image = "fuzz.img", .fd = fd, .out_dir = "/nonexistent"};
    bl_where w;
    bl_parts_read(&d);
    kx_err_clear();
    AUTOPTR(bl_extfs) fs = bl_find_fs(&d, &w);
    if (!fs) {
        FUZZ_CHECK(kx_err_code() == KXL_ERR_NOT_FOUND, "no file system, and '%s'", kx_err_msg());
        return 0;
    }
    FUZZ_CHECK(strcmp(w.dir, "/boot") == 0 || strcmp(w.dir, "") == 0, "kernel dir '%s'", w.dir);
    choose(&d, fs, &w);
    return 0;
}
