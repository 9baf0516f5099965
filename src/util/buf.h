/* buf.h - growable NUL-terminated string buffer and NULL-terminated string vectors. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *s;    /* always NUL-terminated once anything was added; NULL when empty */
    size_t len;
    size_t cap;
} kx_buf;

#define KX_BUF_INIT {NULL, 0, 0}

/* Appends; allocation failure aborts (we do not limp on without memory). */
void kx_buf_add(kx_buf *b, const char *s);
void kx_buf_addn(kx_buf *b, const char *s, size_t n);
void kx_buf_addc(kx_buf *b, char c);
void kx_buf_printf(kx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kx_buf_vprintf(kx_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Returns the string ("" if empty) and leaves the buffer empty; caller frees. */
char *kx_buf_steal(kx_buf *b);
/* Returns the current contents ("" if empty); the buffer keeps ownership. */
const char *kx_buf_str(const kx_buf *b);
void kx_buf_clear(kx_buf *b);
void kx_buf_dispose(kx_buf *b);

/* NULL-terminated vector of owned strings. */
typedef struct {
    char **v;
    size_t n;
    size_t cap;
} kx_strv;

#define KX_STRV_INIT {NULL, 0, 0}

void kx_strv_push(kx_strv *sv, const char *s);
void kx_strv_pushf(kx_strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of s. */
void kx_strv_take(kx_strv *sv, char *s);
void kx_strv_dispose(kx_strv *sv);
/* Joins with sep; caller frees. */
char *kx_strv_join(const kx_strv *sv, const char *sep);

/* Allocation helpers that abort on failure. */
void *kx_malloc0(size_t n);
void *kx_realloc(void *p, size_t n);
char *kx_strdup(const char *s);
char *kx_strndup(const char *s, size_t n);
char *kx_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool kx_streq(const char *a, const char *b);
bool kx_startswith(const char *s, const char *prefix);
