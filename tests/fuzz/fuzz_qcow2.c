/* fuzz_qcow2.c - libFuzzer target: the qcow2 header reader (src/boot/qcow2.c), which the
 * supervisor runs as root on a hot-plugged image the guest may have written.
 *
 * Input: the image file (its first cluster matters). Checked besides crashes, leaks and
 * undefined behaviour: a backing file name has 1..1023 bytes, a backing format is a plain word
 * of at most 32 bytes; a failure leaves both NULL and says why; qcow2_probe agrees with the
 * magic; qcow2_backing_path keeps an absolute name and puts a relative one in the image's
 * directory. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/qcow2.h"
#include "fuzz.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define MAX_INPUT (1 << 20)

static void check_names(const char *file, const char *format)
{
    if (file) {
        size_t len = strlen(file);
        FUZZ_CHECK(len >= 1 && len <= 1023, "backing file name of %zu bytes", len);
        AUTOFREE char *p = qcow2_backing_path("/srv/kxl/img.qcow2", file);
        FUZZ_CHECK(file[0] == '/' ? strcmp(p, file) == 0
                                  : kx_startswith(p, "/srv/kxl/") && strcmp(p + 9, file) == 0,
                   "backing path of '%s' is '%s'", file, p);
    }
    if (format) {
        size_t len = strlen(format);
        FUZZ_CHECK(len >= 1 && len <= 32 && strspn(format, "abcdefghijklmnopqrstuvwxyz"
                                                           "0123456789_-") == len,
                   "backing format '%s'", format);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    AUTOCLOSE int fd = fuzz_memfd(data, size);
    AUTOFREE char *file = NULL;
    AUTOFREE char *format = NULL;
    bool magic = size >= 4 && memcmp(data, "QFI\xfb", 4) == 0;
    FUZZ_CHECK(qcow2_probe(fd) == magic, "qcow2_probe says %d", !magic);
    kx_err_clear();
    if (qcow2_read_backing(fd, "/srv/kxl/img.qcow2", &file, &format) == 0)
        check_names(file, format);
    else
        FUZZ_CHECK(!file && !format && *kx_err_msg(), "a failure left names or no message");
    return 0;
}
