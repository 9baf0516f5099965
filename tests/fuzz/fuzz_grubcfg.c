/* fuzz_grubcfg.c - libFuzzer target: the built-in pygrub's grub.cfg reader (src/boot/grubcfg.c).
 * grub.cfg and grubenv come from the guest's disk: guest-controlled text read by the host.
 *
 * Input: grub.cfg's text; after a NUL byte, grubenv's. Checked besides crashes, leaks and
 * undefined behaviour: a chosen entry has a kernel (no variables in it, nor in its initrds),
 * a title and a cmdline; a refusal says why in a "grub.cfg..." message and leaves the entry
 * empty; the entry is disposed before it is filled (a second call on it leaks nothing). */
#include <stdlib.h>
#include <string.h>

#include "boot/bootloader.h"
#include "fuzz.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define MAX_INPUT (256 << 10)

static void check(int r, const kx_bootentry *e)
{
    if (r == 0) {
        FUZZ_CHECK(e->kernel && *e->kernel && !strchr(e->kernel, '$'), "kernel '%s'",
                   e->kernel ? e->kernel : "NULL");
        FUZZ_CHECK(!e->initrd || (*e->initrd && !strchr(e->initrd, '$')), "initrd '%s'",
                   e->initrd);
        FUZZ_CHECK(e->title && e->cmdline, "title or cmdline missing");
    } else {
        FUZZ_CHECK(r == -1 && kx_startswith(kx_err_msg(), "grub.cfg"), "returned %d, '%s'", r,
                   kx_err_msg());
        FUZZ_CHECK(!e->kernel && !e->initrd && !e->cmdline && !e->title,
                   "a refusal left a filled entry");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    AUTOFREE char *cfg = NULL;
    AUTOFREE char *env = NULL;
    kx_bootentry e = {0};
    fuzz_next_piece(&data, &size, &cfg);
    fuzz_next_piece(&data, &size, &env);
    kx_err_clear();
    check(grubcfg_default_entry_env(cfg ? cfg : "", env, &e), &e);
    /* again on the filled entry, without grubenv */
    kx_err_clear();
    check(grubcfg_default_entry(cfg ? cfg : "", &e), &e);
    kx_bootentry_dispose(&e);
    return 0;
}
