/* fuzz_mig_header.c - libFuzzer target: the header in front of a save file's (and later a
 * migration stream's) QEMU stream (src/migrate/mig_header.c), which restore and the relocation
 * server read from files and peers they do not control.
 *
 * Input: the file's first bytes. Checked besides crashes, leaks and undefined behaviour:
 * - decode answers 0, 1 or -1; 1 asks for more bytes than it was given; -1 says why;
 * - a header decoded from the input is exactly the input's first *used bytes: encoding it
 *   again gives the same length and a header that decodes to the same fields (a damaged
 *   header never passes as another);
 * - any prefix of an accepted header shorter than it is "need more", never accepted. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "migrate/mig_header.h"
#include "util/buf.h"
#include "util/err.h"

#define HEADER_MAX_INPUT (1 << 20)

static void same_fields(const mig_header *a, const mig_header *b)
{
    FUZZ_CHECK(a->version == b->version && a->stream_len == b->stream_len &&
                   a->saved_at == b->saved_at,
               "numbers changed in a round trip");
    const char *sa[] = {a->qemu_version, a->machine, a->cpu_model, a->accel};
    const char *sb[] = {b->qemu_version, b->machine, b->cpu_model, b->accel};
    for (size_t i = 0; i < 4; i++)
        FUZZ_CHECK(kx_streq(sa[i], sb[i]), "field %zu changed: '%s' -> '%s'", i, sa[i], sb[i]);
    FUZZ_CHECK(json_object_equal(a->config, b->config), "the config changed in a round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HEADER_MAX_INPUT)
        return 0;
    mig_header h = {0};
    size_t used = 0;
    kx_err_clear();
    int r = mig_header_decode(data, size, "fuzz.save", &h, &used);
    FUZZ_CHECK(r == 0 || r == 1 || r == -1, "decode returned %d", r);
    if (r == 1)
        FUZZ_CHECK(used > size, "needs %zu bytes but has %zu", used, size);
    if (r == -1)
        FUZZ_CHECK(kx_err_msg()[0], "refused without a reason");
    if (r != 0)
        return 0;
    FUZZ_CHECK(used <= size, "used %zu of %zu bytes", used, size);
    kx_buf again = KX_BUF_INIT;
    mig_header_encode(&h, &again);
    mig_header back = {0};
    size_t used_back = 0;
    FUZZ_CHECK(mig_header_decode(again.s, again.len, "again", &back, &used_back) == 0,
               "a decoded header does not decode again once encoded: %s", kx_err_msg());
    same_fields(&h, &back);
    size_t cut = used / 2;
    mig_header part = {0};
    size_t need = 0;
    FUZZ_CHECK(mig_header_decode(data, cut, "cut", &part, &need) != 0,
               "half a header (%zu of %zu bytes) was accepted", cut, used);
    mig_header_dispose(&part);
    mig_header_dispose(&back);
    mig_header_dispose(&h);
    kx_buf_dispose(&again);
    return 0;
}
