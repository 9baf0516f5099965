/* buf.c - growable string buffer, string vectors and aborting allocators. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void kx_oom(void)
{
    fputs("kxl: out of memory\n", stderr);
    abort();
}

void *kx_malloc0(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        kx_oom();
    return p;
}

void *kx_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        kx_oom();
    return q;
}

char *kx_strdup(const char *s)
{
    return kx_strndup(s, strlen(s));
}

char *kx_strndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (!p)
        kx_oom();
    return p;
}

char *kx_asprintf(const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return kx_buf_steal(&b);
}

bool kx_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool kx_startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void kx_buf_reserve(kx_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->s = kx_realloc(b->s, cap);
    b->cap = cap;
}

void kx_buf_addn(kx_buf *b, const char *s, size_t n)
{
    kx_buf_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void kx_buf_add(kx_buf *b, const char *s)
{
    kx_buf_addn(b, s, strlen(s));
}

void kx_buf_addc(kx_buf *b, char c)
{
    kx_buf_addn(b, &c, 1);
}

/* Formats into the room the buffer has, and only when that is too small once more into a
 * larger one: most calls format once (`kxl top` formats some twenty cells a domain a frame). */
void kx_buf_vprintf(kx_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap2);
    va_end(ap2);
    if (n >= 0 && (size_t)n >= room) {
        kx_buf_reserve(b, (size_t)n);
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    }
    if (n >= 0)
        b->len += (size_t)n;
    else if (room)
        b->s[b->len] = '\0';   /* what a failed format left is not kept */
}

void kx_buf_printf(kx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *kx_buf_steal(kx_buf *b)
{
    char *s = b->s ? b->s : kx_strdup("");
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

const char *kx_buf_str(const kx_buf *b)
{
    return b->s ? b->s : "";
}

void kx_buf_clear(kx_buf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

void kx_buf_dispose(kx_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void kx_strv_take(kx_strv *sv, char *s)
{
    if (sv->n + 2 > sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = kx_realloc(sv->v, sv->cap * sizeof(char *));
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

void kx_strv_push(kx_strv *sv, const char *s)
{
    kx_strv_take(sv, kx_strdup(s));
}

void kx_strv_pushf(kx_strv *sv, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    kx_strv_take(sv, kx_buf_steal(&b));
}

void kx_strv_dispose(kx_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

char *kx_strv_join(const kx_strv *sv, const char *sep)
{
    kx_buf b = KX_BUF_INIT;
    for (size_t i = 0; i < sv->n; i++) {
        if (i)
            kx_buf_add(&b, sep);
        kx_buf_add(&b, sv->v[i]);
    }
    return kx_buf_steal(&b);
}
