/* test_pvh.c - PVH boot's kernel unpacking: a small ELF with and without Xen's PHYS32_ENTRY
 * note, compressed here with each codec a kernel may use (gzip, xz, lzma, lz4 legacy, zstd)
 * and wrapped in a bzImage header as the kernel's build does it (size trailer included); every
 * truncation and corruption of them is refused without reading out of bounds (ASan build);
 * and the cache: first use unpacks, later uses hit, kernels without the note are remembered,
 * an ELF is used as it is, and the cache keeps only the most recently used entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "boot/pvh.h"
#include "unit_tmpdir.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static char tmp[] = "/tmp/kxl-pvh-XXXXXX";

typedef struct {
    uint8_t *p;
    size_t len;
} blob;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An x86-64 ELF executable with one PT_NOTE segment holding a Xen note of type note_type,
 * followed by filler that compresses (so that lz4's blocks and the codecs have work). */
static blob make_elf(uint32_t note_type, size_t filler)
{
    size_t note_off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    size_t note_len = sizeof(Elf64_Nhdr) + 4 + 8;
    blob b = {.len = note_off + note_len + filler};
    b.p = calloc(1, b.len);
    Elf64_Ehdr eh = {.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                     .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
                     .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    Elf64_Phdr ph = {.p_type = PT_NOTE, .p_offset = note_off, .p_filesz = note_len};
    Elf64_Nhdr nh = {.n_namesz = 4, .n_descsz = 8, .n_type = note_type};
    memcpy(b.p, &eh, sizeof(eh));
    memcpy(b.p + sizeof(eh), &ph, sizeof(ph));
    memcpy(b.p + note_off, &nh, sizeof(nh));
    memcpy(b.p + note_off + sizeof(nh), "Xen", 4);
    for (size_t i = 0; i < filler; i++)
        b.p[note_off + note_len + i] = (uint8_t)((i * 7) % 251 < 200 ? 0 : i);
    return b;
}

static blob compress_gzip(const blob *in)
{
    blob out = {.p = malloc(in->len + 1024)};
    z_stream z = {.next_in = in->p, .avail_in = (uInt)in->len, .next_out = out.p,
                  .avail_out = (uInt)in->len + 1024};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = z.total_out;
    deflateEnd(&z);
    return out;   /* gzip's own trailer ends with the size */
}

static void append_size(blob *b, size_t size)
{
    b->p = realloc(b->p, b->len + 4);
    put32(b->p + b->len, (uint32_t)size);
    b->len += 4;
}

static blob compress_xz(const blob *in)
{
    blob out = {.p = malloc(in->len + 1024)};
    assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in->p, in->len, out.p,
                                             &out.len, in->len + 1024), LZMA_OK);
    append_size(&out, in->len);
    return out;
}

static blob compress_lzma(const blob *in)
{
    blob out = {.p = malloc(in->len + 1024)};
    lzma_options_lzma opt;
    lzma_lzma_preset(&opt, 6);
    lzma_stream s = LZMA_STREAM_INIT;
    assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
    s.next_in = in->p;
    s.avail_in = in->len;
    s.next_out = out.p;
    s.avail_out = in->len + 1024;
    assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
    out.len = (size_t)s.total_out;
    lzma_end(&s);
    append_size(&out, in->len);
    return out;
}

/* lz4's legacy format in blocks of 8 MiB; block_in makes smaller blocks to test the loop. */
static blob compress_lz4(const blob *in, size_t block_in)
{
    blob out = {.p = malloc(4 + in->len + in->len / 8 + 1024)};
    put32(out.p, 0x184c2102);
    out.len = 4;
    for (size_t pos = 0; pos < in->len; pos += block_in) {
        size_t n = in->len - pos < block_in ? in->len - pos : block_in;
        int k = LZ4_compress_default((const char *)in->p + pos, (char *)out.p + out.len + 4,
                                     (int)n, LZ4_compressBound((int)n));
        assert_true(k > 0);
        put32(out.p + out.len, (uint32_t)k);
        out.len += 4 + (size_t)k;
    }
    append_size(&out, in->len);
    return out;
}

static blob compress_zstd(const blob *in)
{
    blob out = {.p = malloc(ZSTD_compressBound(in->len))};
    out.len = ZSTD_compress(out.p, ZSTD_compressBound(in->len), in->p, in->len, 19);
    assert_false(ZSTD_isError(out.len));
    append_size(&out, in->len);
    return out;
}

/* A bzImage as the kernel's build lays it out: setup sectors with the "HdrS" header, then the
 * protected-mode part, whose payload_offset points at the compressed kernel. */
static blob make_bzimage(const blob *payload)
{
    size_t setup = (4 + 1) * 512, pm_head = 0x300;
    blob b = {.len = setup + pm_head + payload->len + 64};
    b.p = calloc(1, b.len);
    b.p[0x1f1] = 4;
    memcpy(b.p + 0x202, "HdrS", 4);
    b.p[0x206] = 0x0f;
    b.p[0x207] = 0x02;
    put32(b.p + 0x248, (uint32_t)pm_head);
    put32(b.p + 0x24c, (uint32_t)payload->len);
    memcpy(b.p + setup + pm_head, payload->p, payload->len);
    return b;
}

static void blob_free(blob *b)
{
    free(b->p);
    b->p = NULL;
}

static void roundtrip(blob comp, pvh_codec want, const blob *elf)
{
    blob bz = make_bzimage(&comp);
    size_t off, len;
    assert_int_equal(pvh_bzimage_payload(bz.p, bz.len, &off, &len), 0);
    assert_int_equal(len, comp.len);
    assert_int_equal(pvh_payload_codec(bz.p + off, len), want);
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(pvh_decompress(want, bz.p + off, len, &out, &out_len), 0);
    assert_int_equal(out_len, elf->len);
    assert_memory_equal(out, elf->p, elf->len);
    assert_true(pvh_elf_has_entry(out, out_len));
    free(out);

    /* every truncation of the payload and one flipped byte in its middle are refused */
    for (size_t cut = 0; cut < len; cut += 1 + len / 97) {
        out = NULL;
        int rc = pvh_decompress(want, bz.p + off, cut, &out, &out_len);
        assert_int_equal(rc, -1);
        assert_null(out);
    }
    bz.p[off + len / 2] ^= 0x55;
    out = NULL;
    if (pvh_decompress(want, bz.p + off, len, &out, &out_len) == 0) {
        /* a codec without a checksum may decode garbage of the right size: never the ELF */
        assert_int_equal(out_len, elf->len);
        assert_memory_not_equal(out, elf->p, elf->len);
        free(out);
    }
    blob_free(&bz);
    blob_free(&comp);
}

static void test_codecs(void **state)
{
    (void)state;
    blob elf = make_elf(18, 300000);
    roundtrip(compress_gzip(&elf), PVH_CODEC_GZIP, &elf);
    roundtrip(compress_xz(&elf), PVH_CODEC_XZ, &elf);
    roundtrip(compress_lzma(&elf), PVH_CODEC_LZMA, &elf);
    roundtrip(compress_lz4(&elf, 8u << 20), PVH_CODEC_LZ4, &elf);
    roundtrip(compress_lz4(&elf, 4096), PVH_CODEC_LZ4, &elf);
    roundtrip(compress_zstd(&elf), PVH_CODEC_ZSTD, &elf);
    blob_free(&elf);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    blob elf = make_elf(18, 1000);
    blob z = compress_zstd(&elf);
    uint8_t *out = NULL;
    size_t out_len;
    put32(z.p + z.len - 4, (uint32_t)elf.len + 1);     /* a size the data does not have */
    assert_int_equal(pvh_decompress(PVH_CODEC_ZSTD, z.p, z.len, &out, &out_len), -1);
    assert_non_null(strstr(kx_err_msg(), "zstd kernel payload: corrupt"));
    put32(z.p + z.len - 4, 0);
    assert_int_equal(pvh_decompress(PVH_CODEC_ZSTD, z.p, z.len, &out, &out_len), -1);
    assert_non_null(strstr(kx_err_msg(), "implausible size 0"));
    assert_int_equal(pvh_decompress(PVH_CODEC_UNSUPPORTED, z.p, z.len, &out, &out_len), -1);
    assert_null(out);
    uint8_t bz2[] = "BZh91AY&SY", junk[] = "not compressed";
    assert_int_equal(pvh_payload_codec(bz2, sizeof(bz2)), PVH_CODEC_UNSUPPORTED);
    assert_int_equal(pvh_payload_codec(junk, sizeof(junk)), -1);
    blob_free(&z);
    blob_free(&elf);
}

static void test_elf_note(void **state)
{
    (void)state;
    blob with = make_elf(18, 16), without = make_elf(17, 16);
    assert_true(pvh_elf_has_entry(with.p, with.len));
    assert_false(pvh_elf_has_entry(without.p, without.len));
    for (size_t cut = 0; cut < with.len - 16; cut++)      /* the note cut short */
        assert_false(pvh_elf_has_entry(with.p, cut));
    Elf64_Ehdr *eh = (Elf64_Ehdr *)with.p;
    eh->e_phnum = 60000;                                   /* headers beyond the end */
    assert_false(pvh_elf_has_entry(with.p, with.len));
    eh->e_phnum = 1;
    eh->e_machine = EM_386;
    assert_false(pvh_elf_has_entry(with.p, with.len));
    eh->e_machine = EM_X86_64;
    Elf64_Phdr *ph = (Elf64_Phdr *)(with.p + sizeof(*eh));
    ph->p_filesz = (Elf64_Xword)-8;                        /* a segment past the end */
    assert_false(pvh_elf_has_entry(with.p, with.len));
    blob_free(&with);
    blob_free(&without);
}

static void test_bzimage_header(void **state)
{
    (void)state;
    blob elf = make_elf(18, 100), gz = compress_gzip(&elf), bz = make_bzimage(&gz);
    size_t off, len;
    for (size_t cut = 0; cut < bz.len - 64; cut += 7)
        if (pvh_bzimage_payload(bz.p, cut, &off, &len) == 0)
            assert_true(off + len <= cut);
    bz.p[0x202] = 'X';
    assert_int_equal(pvh_bzimage_payload(bz.p, bz.len, &off, &len), -1);
    bz.p[0x202] = 'H';
    bz.p[0x206] = 0x07;                                    /* boot protocol 2.07 */
    assert_int_equal(pvh_bzimage_payload(bz.p, bz.len, &off, &len), -1);
    bz.p[0x206] = 0x0f;
    put32(bz.p + 0x24c, 0xfffffff0);
    assert_int_equal(pvh_bzimage_payload(bz.p, bz.len, &off, &len), -1);
    blob_free(&bz);
    blob_free(&gz);
    blob_free(&elf);
}

static char *write_tmp(const char *name, const blob *b)
{
    char *path = kx_path_join(tmp, name);
    assert_int_equal(kx_write_file_atomic(path, (const char *)b->p, b->len, 0644), 0);
    return path;
}

static size_t count_files(const char *dir)
{
    AUTOFREE char *cmd = kx_asprintf("ls '%s' | wc -l", dir);   /* entries, not .stat- links */
    FILE *f = popen(cmd, "r");
    size_t n = 0;
    assert_int_equal(fscanf(f, "%zu", &n), 1);
    pclose(f);
    return n;
}

static void test_cache(void **state)
{
    (void)state;
    AUTOFREE char *cache = kx_path_join(tmp, "cache");
    blob elf = make_elf(18, 5000), comp = compress_lz4(&elf, 8u << 20), bz = make_bzimage(&comp);
    AUTOFREE char *kernel = write_tmp("vmlinuz", &bz);
    char *out = NULL, *why = NULL;
    assert_int_equal(pvh_kernel_prepare(kernel, cache, &out, &why), 1);
    assert_null(why);
    size_t len = 0;
    AUTOFREE char *got = kx_read_file(out, &len);
    assert_int_equal(len, elf.len);
    assert_memory_equal(got, elf.p, elf.len);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(truncate(out, 0), 0);      /* a hit reads nothing more: proven by... */
    char *again = NULL;
    assert_int_equal(pvh_kernel_prepare(kernel, cache, &again, &why), 1);
    assert_string_equal(again, out);            /* ...the same (now emptied) entry */
    free(again);
    free(out);

    /* the same path rewritten in place (same inode) with another kernel is not taken for
     * the old one: the stat link names the file's times, and they changed */
    blob elf2 = make_elf(18, 7000), comp2 = compress_zstd(&elf2), bz2 = make_bzimage(&comp2);
    AUTOFREE char *cmd = kx_asprintf("cat > '%s'", kernel);
    FILE *f = popen(cmd, "w");
    assert_int_equal(fwrite(bz2.p, 1, bz2.len, f), bz2.len);
    assert_int_equal(pclose(f), 0);
    assert_int_equal(pvh_kernel_prepare(kernel, cache, &out, &why), 1);
    AUTOFREE char *got2 = kx_read_file(out, &len);
    assert_int_equal(len, elf2.len);
    assert_memory_equal(got2, elf2.p, elf2.len);
    free(out);
    AUTOFREE char *links = kx_asprintf("ls -A '%s' | grep -c '^.stat-'", cache);
    f = popen(links, "r");
    int n_links = 0;
    assert_int_equal(fscanf(f, "%d", &n_links), 1);
    pclose(f);
    assert_int_equal(n_links, 2);
    blob_free(&elf2);
    blob_free(&comp2);
    blob_free(&bz2);

    /* an ELF with the note is used as it is; one without is remembered as such */
    AUTOFREE char *elf_path = write_tmp("vmlinux", &elf);
    assert_int_equal(pvh_kernel_prepare(elf_path, cache, &out, &why), 1);
    assert_string_equal(out, elf_path);
    free(out);
    blob plain = make_elf(17, 5000), pcomp = compress_gzip(&plain), pbz = make_bzimage(&pcomp);
    AUTOFREE char *nonote = write_tmp("vmlinuz-nopvh", &pbz);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pvh_kernel_prepare(nonote, cache, &out, &why), 0);
        assert_null(out);
        assert_non_null(strstr(why, "CONFIG_PVH"));
        free(why);
        why = NULL;
    }
    assert_int_equal(count_files(cache), 3);

    /* not a kernel; and a missing file */
    AUTOFREE char *junk = write_tmp("junk", &(blob){(uint8_t *)"hello, world", 12});
    assert_int_equal(pvh_kernel_prepare(junk, cache, &out, &why), 0);
    assert_non_null(strstr(why, "neither a bzImage"));
    free(why);
    AUTOFREE char *missing = kx_path_join(tmp, "missing");
    assert_int_equal(pvh_kernel_prepare(missing, cache, &out, &why), -1);
    assert_non_null(strstr(kx_err_msg(), "missing"));

    /* the cache keeps the PVH_CACHE_KEEP most recently used entries */
    for (int i = 0; i < PVH_CACHE_KEEP + 3; i++) {
        blob e = make_elf(18, 100 + (size_t)i), c = compress_zstd(&e), z = make_bzimage(&c);
        AUTOFREE char *k = write_tmp("many", &z);
        assert_int_equal(pvh_kernel_prepare(k, cache, &out, &why), 1);
        free(out);
        blob_free(&e);
        blob_free(&c);
        blob_free(&z);
    }
    assert_int_equal(count_files(cache), PVH_CACHE_KEEP);
    blob_free(&plain);
    blob_free(&pcomp);
    blob_free(&pbz);
    blob_free(&elf);
    blob_free(&comp);
    blob_free(&bz);
}

UNIT_TMPDIR_FIXTURES(tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codecs),      cmocka_unit_test(test_bad_sizes),
        cmocka_unit_test(test_elf_note),    cmocka_unit_test(test_bzimage_header),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
