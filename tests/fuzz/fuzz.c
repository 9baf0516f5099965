/* fuzz.c - the helpers every libFuzzer target links (fuzz.h). */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"

void fuzz_fail(const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz: invariant failed: %s: ", cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static void drop_line(kx_loglevel level, const char *msg, void *opaque)
{
    (void)level, (void)msg, (void)opaque;
}

void fuzz_quiet_log(void)
{
    kx_log_set_sink(drop_line, NULL);
    kx_log_set_level(KX_LOG_DEBUG);
}

__attribute__((weak)) void fuzz_setup(void)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    fuzz_setup();
    return 0;
}

char *fuzz_string(const uint8_t *data, size_t size)
{
    return kx_strndup((const char *)data, size);
}

int fuzz_memfd(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    size_t off = 0;
    if (fd < 0) {
        perror("fuzz: memfd_create");
        abort();
    }
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            perror("fuzz: write to memfd");
            abort();
        }
        off += (size_t)n;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

bool fuzz_next_piece(const uint8_t **data, size_t *size, char **s_r)
{
    if (*size == 0)
        return false;
    const uint8_t *nul = memchr(*data, '\0', *size);
    size_t len = nul ? (size_t)(nul - *data) : *size;
    *s_r = kx_strndup((const char *)*data, len);
    *data += len + (nul ? 1 : 0);
    *size -= len + (nul ? 1 : 0);
    return true;
}
