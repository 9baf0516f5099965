/* test_qcow2.c - the qcow2 header reader behind hot-plugged backing chains:
 * images made by qemu-img (v3 with a backing format, none, a raw file) and
 * headers written here field by field (v2 without a format, and every kind of
 * corruption: truncation, offsets and lengths out of the first cluster,
 * extensions running past their end, NULs and odd bytes in names, unknown
 * versions, external data files). Each bad header gives a one-line error
 * naming the file, and nothing is read out of bounds (ASan build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/qcow2.h"
#include "unit_tmpdir.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

static char tmp[] = "/tmp/kxl-qcow2-XXXXXX";

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* A qcow2 header of the given version with 64 KiB clusters, the backing
 * name at 512 and, when fmt is set, a backing format extension. */
typedef struct {
    uint8_t b[4096];
    size_t len;
} hdr;

static void make_header(hdr *h, uint32_t version, const char *name, const char *fmt)
{
    memset(h, 0, sizeof(*h));
    put32(h->b, 0x514649fb);
    put32(h->b + 4, version);
    put32(h->b + 20, 16);
    uint32_t header_len = version == 3 ? 112 : 72;
    if (version == 3) {
        put32(h->b + 96, 4);
        put32(h->b + 100, header_len);
    }
    if (name) {
        put64(h->b + 8, 512);
        put32(h->b + 16, (uint32_t)strlen(name));
        memcpy(h->b + 512, name, strlen(name));
    }
    if (fmt) {
        put32(h->b + header_len, 0xe2792aca);
        put32(h->b + header_len + 4, (uint32_t)strlen(fmt));
        memcpy(h->b + header_len + 8, fmt, strlen(fmt));
    }
    h->len = 1024;
}

/* Writes len bytes to a fresh file; its fd open for reading. */
static int file_of(const void *data, size_t len)
{
    AUTOFREE char *path = kx_asprintf("%s/img", tmp);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    return fd;
}

/* Reads h; returns 0/-1 and fills *file_r, *fmt_r. */
static int read_hdr(const hdr *h, char **file_r, char **fmt_r)
{
    int fd = file_of(h->b, h->len);
    int r = qcow2_read_backing(fd, "img", file_r, fmt_r);
    close(fd);
    return r;
}

static void expect_refused(const hdr *h, const char *message)
{
    char *file = (char *)1, *fmt = (char *)1;
    assert_int_equal(read_hdr(h, &file, &fmt), -1);
    assert_null(file);
    assert_null(fmt);
    if (!strstr(kx_err_msg(), message))
        fail_msg("'%s' does not say '%s'", kx_err_msg(), message);
    assert_non_null(strstr(kx_err_msg(), "'img'"));
}

static void run_qemu_img(const char *args)
{
    AUTOFREE char *cmd = kx_asprintf("cd %s && qemu-img %s >/dev/null", tmp, args);
    assert_int_equal(system(cmd), 0);
}

static void read_image(const char *name, char **file_r, char **fmt_r, int expect)
{
    AUTOFREE char *path = kx_asprintf("%s/%s", tmp, name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(qcow2_read_backing(fd, path, file_r, fmt_r), expect);
    close(fd);
}

static void test_qemu_img_images(void **state)
{
    (void)state;
    char *file, *fmt;
    run_qemu_img("create -q -f raw base.raw 1M");
    run_qemu_img("create -q -f qcow2 -b base.raw -F raw mid.qcow2");
    run_qemu_img("create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2");
    run_qemu_img("create -q -f qcow2 plain.qcow2 1M");
    read_image("top.qcow2", &file, &fmt, 0);
    assert_string_equal(file, "mid.qcow2");
    assert_string_equal(fmt, "qcow2");
    free(file), free(fmt);
    read_image("mid.qcow2", &file, &fmt, 0);
    assert_string_equal(file, "base.raw");
    assert_string_equal(fmt, "raw");
    free(file), free(fmt);
    read_image("plain.qcow2", &file, &fmt, 0);
    assert_null(file);
    assert_null(fmt);
    read_image("base.raw", &file, &fmt, -1);
    assert_non_null(strstr(kx_err_msg(), "is not a qcow2 image"));
}

static void test_hand_made_headers(void **state)
{
    (void)state;
    hdr h;
    char *file, *fmt;
    make_header(&h, 2, "/srv/base.img", NULL);   /* v2: no format given */
    assert_int_equal(read_hdr(&h, &file, &fmt), 0);
    assert_string_equal(file, "/srv/base.img");
    assert_null(fmt);
    free(file);
    make_header(&h, 3, NULL, NULL);               /* no backing, file shorter than a cluster */
    assert_int_equal(read_hdr(&h, &file, &fmt), 0);
    assert_null(file);
    assert_null(fmt);
    make_header(&h, 3, "b.qcow2", "qcow2");
    assert_int_equal(read_hdr(&h, &file, &fmt), 0);
    assert_string_equal(file, "b.qcow2");
    assert_string_equal(fmt, "qcow2");
    free(file), free(fmt);
}

static void test_corrupt_headers(void **state)
{
    (void)state;
    hdr h;
    make_header(&h, 3, "b", "raw");
    h.len = 40;
    expect_refused(&h, "not a qcow2 image");                     /* truncated */
    make_header(&h, 3, "b", "raw");
    h.len = 512;
    expect_refused(&h, "backing file name");                     /* name cut short */
    make_header(&h, 4, "b", NULL);
    expect_refused(&h, "version 4 is not supported");
    make_header(&h, 3, "b", NULL);
    put32(h.b + 20, 30);
    expect_refused(&h, "cluster size");
    make_header(&h, 3, "b", NULL);
    put32(h.b + 100, 70000);
    expect_refused(&h, "header length");
    make_header(&h, 3, "b", NULL);
    put64(h.b + 72, 1ull << 2);
    expect_refused(&h, "external data file");
    make_header(&h, 3, "b", NULL);
    put64(h.b + 8, 65535);                                       /* name crosses the cluster */
    put32(h.b + 16, 2);
    expect_refused(&h, "backing file name");
    make_header(&h, 3, "b", NULL);
    put32(h.b + 16, 2000);                                       /* name longer than 1023 */
    expect_refused(&h, "backing file name");
    make_header(&h, 3, "b", NULL);
    put64(h.b + 8, 80);                                          /* name inside the header */
    expect_refused(&h, "backing file name");
    make_header(&h, 3, "a\0b", NULL);
    put32(h.b + 16, 3);                                          /* NUL inside the name */
    expect_refused(&h, "backing file name");
    make_header(&h, 3, "b", "raw");
    put32(h.b + 112 + 4, 500);                                   /* extension past the name */
    expect_refused(&h, "runs past its end");
    make_header(&h, 3, "b", "ra w");
    expect_refused(&h, "backing format");
    make_header(&h, 3, "b", "raw");
    put32(h.b + 112 + 4, 0);                                     /* empty format */
    expect_refused(&h, "backing format");
}

static void test_probe_and_paths(void **state)
{
    (void)state;
    hdr h;
    make_header(&h, 3, NULL, NULL);
    int fd = file_of(h.b, h.len);
    assert_true(qcow2_probe(fd));
    close(fd);
    fd = file_of("QFI", 3);
    assert_false(qcow2_probe(fd));
    close(fd);
    AUTOFREE char *a = qcow2_backing_path("/srv/vm/top.qcow2", "base.raw");
    AUTOFREE char *b = qcow2_backing_path("/srv/vm/top.qcow2", "/img/base.raw");
    AUTOFREE char *c = qcow2_backing_path("top.qcow2", "../base.raw");
    AUTOFREE char *d = qcow2_backing_path("/top.qcow2", "sub/base.raw");
    assert_string_equal(a, "/srv/vm/base.raw");
    assert_string_equal(b, "/img/base.raw");
    assert_string_equal(c, "../base.raw");
    assert_string_equal(d, "/sub/base.raw");
}

UNIT_TMPDIR_FIXTURES(tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_img_images),
        cmocka_unit_test(test_hand_made_headers),
        cmocka_unit_test(test_corrupt_headers),
        cmocka_unit_test(test_probe_and_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
