/* text.h - text from outside (configs, guests, QEMU) made safe for a terminal and for JSON. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "util/buf.h"

/* True when s[0..n) is valid UTF-8 (RFC 3629: no overlongs, surrogates or code points above
 * U+10FFFF); else false and, when bad_r is given, the offset of the first bad byte. */
bool kx_utf8_valid(const char *s, size_t n, size_t *bad_r);
/* Appends s to b with every byte that could steer a terminal (C0 controls but tab, and
 * newline when keep_newlines; DEL; C1 controls) and every byte of invalid UTF-8 written as
 * \xHH. */
void kx_buf_add_printable(kx_buf *b, const char *s, bool keep_newlines);
/* The same as a new string; caller frees. */
char *kx_printable(const char *s, bool keep_newlines);
