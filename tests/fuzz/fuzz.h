/* fuzz.h - what the libFuzzer targets (tests/fuzz/fuzz_*.c) share: libFuzzer's entry points,
 * a log that formats every message (debug ones too) but prints none, invariant checks that
 * abort with a message (so libFuzzer keeps the input as a crash), and the input as a string
 * or as a file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libFuzzer calls these (the second once, before the first input). fuzz.c's
 * LLVMFuzzerInitialize makes the log quiet (fuzz_quiet_log), then runs fuzz_setup. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A target's own set-up, if it has one (the default does nothing). */
void fuzz_setup(void);

/* Aborts with "fuzz: invariant failed: COND: MESSAGE" when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(#cond, __VA_ARGS__);                                                         \
    } while (0)
void fuzz_fail(const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Every log level on, through a sink that drops the formatted line: message formatting is
 * part of what is tested, the terminal is spared. */
void fuzz_quiet_log(void);

/* data[0..size) as a NUL-terminated string (cut at the first NUL); caller frees. */
char *fuzz_string(const uint8_t *data, size_t size);

/* A memfd holding data[0..size), read-only from its start: the input as an image file.
 * Caller closes. Aborts when no memfd can be made (the machine's fault, not the input's). */
int fuzz_memfd(const uint8_t *data, size_t size);

/* Takes the next piece of *data (up to a NUL byte, which is consumed, or to the end) as a
 * string; false when nothing is left. The caller frees *s_r. */
bool fuzz_next_piece(const uint8_t **data, size_t *size, char **s_r);
