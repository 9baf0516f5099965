/* text.c - text from outside (configs, guests, QEMU) made safe for a terminal and for JSON:
 * UTF-8 validation and escaping of control bytes. */
#include "text.h"

#include <stdint.h>

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one:
 * no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp_r)
{
    size_t len;
    uint32_t cp, min;
    if (s[0] < 0x80) {
        *cp_r = s[0];
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        len = 2, cp = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, cp = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, cp = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *cp_r = cp;
    return len;
}

bool kx_utf8_valid(const char *s, size_t n, size_t *bad_r)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_seq(u + i, n - i, &cp);
        if (!len) {
            if (bad_r)
                *bad_r = i;
            return false;
        }
        i += len;
    }
    return true;
}

/* C0 controls but tab (and newline where kept), DEL, and the C1 controls: what moves a
 * cursor, sets a title, clears a screen or makes one message look like two. */
static bool is_control(uint32_t cp, bool keep_newlines)
{
    return (cp < 0x20 && cp != '\t' && !(cp == '\n' && keep_newlines)) ||
           (cp >= 0x7f && cp < 0xa0);
}

void kx_buf_add_printable(kx_buf *b, const char *s, bool keep_newlines)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_seq(u + i, n - i, &cp);
        if (!len || is_control(cp, keep_newlines)) {
            kx_buf_printf(b, "\\x%02x", u[i]);   /* one byte at a time: all of it is seen */
            i++;
            continue;
        }
        kx_buf_addn(b, s + i, len);
        i += len;
    }
}

char *kx_printable(const char *s, bool keep_newlines)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_add_printable(&b, s, keep_newlines);
    return b.s ? kx_buf_steal(&b) : kx_strdup("");
}
