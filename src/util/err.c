/* err.c - thread-local last error and the pluggable log sink. */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "text.h"

static __thread char err_msg[1024];
static __thread kxl_errcode err_code;

static void stderr_sink(kx_loglevel level, const char *msg, void *opaque)
{
    (void)opaque;
    /* messages carry their own location and "warning:" word where they need one */
    (void)level;
    fprintf(stderr, "%s\n", msg);
}

static kx_log_sink log_sink = stderr_sink;
static void *log_opaque;
static kx_loglevel log_min = KX_LOG_NOTICE;

static void err_set(kxl_errcode code, const char *fmt, va_list ap, int errnum)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_vprintf(&b, fmt, ap);
    if (errnum)
        kx_buf_printf(&b, ": %s", strerror(errnum));
    /* messages quote config text, guest data and QEMU's words: none of it may reach a
     * terminal as a control sequence, or JSON as invalid UTF-8 */
    AUTOFREE char *safe = kx_printable(kx_buf_str(&b), false);   /* one line, always */
    size_t len = strlen(safe);
    if (len >= sizeof(err_msg)) {          /* cut where a character starts, not inside one */
        len = sizeof(err_msg) - 1;
        while (len > 0 && ((unsigned char)safe[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(err_msg, safe, len);
    err_msg[len] = '\0';
    err_code = code;
    kx_buf_dispose(&b);
    kx_debug("error: %s", err_msg);
}

void kx_err(kxl_errcode code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_set(code, fmt, ap, 0);
    va_end(ap);
}

/* A failed system call says more than "internal": the caller lacks a right, or the host
 * lacks room. */
static kxl_errcode code_of_errno(kxl_errcode code, int errnum)
{
    if (code != KXL_ERR_INTERNAL)
        return code;
    switch (errnum) {
    case EACCES:
    case EPERM:
        return KXL_ERR_PERMISSION;
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
        return KXL_ERR_HOST;
    default:
        return code;
    }
}

void kx_err_errno(kxl_errcode code, const char *fmt, ...)
{
    int errnum = errno;
    va_list ap;
    va_start(ap, fmt);
    err_set(code_of_errno(code, errnum), fmt, ap, errnum);
    va_end(ap);
    errno = errnum;
}

/* Sorted by code; the names are part of the control socket's and the API's contract. */
static const char *const errcode_names[KXL_ERR__COUNT] = {
    [KXL_ERR_NONE] = "none",           [KXL_ERR_INTERNAL] = "internal",
    [KXL_ERR_CONFIG] = "config",       [KXL_ERR_INVALID] = "invalid",
    [KXL_ERR_NOT_FOUND] = "not-found", [KXL_ERR_EXISTS] = "exists",
    [KXL_ERR_STATE] = "state",         [KXL_ERR_BUSY] = "busy",
    [KXL_ERR_PERMISSION] = "permission", [KXL_ERR_HOST] = "host",
    [KXL_ERR_QEMU] = "qemu",
};

const char *kxl_errcode_name(kxl_errcode code)
{
    return (unsigned)code < KXL_ERR__COUNT ? errcode_names[code] : "internal";
}

kxl_errcode kxl_errcode_from_name(const char *name)
{
    for (int c = 0; c < KXL_ERR__COUNT && name; c++)
        if (strcmp(errcode_names[c], name) == 0)
            return (kxl_errcode)c;
    return KXL_ERR_INTERNAL;
}

const char *kx_err_msg(void)
{
    return err_msg;
}

kxl_errcode kx_err_code(void)
{
    return err_code;
}

void kx_err_clear(void)
{
    err_msg[0] = '\0';
    err_code = KXL_ERR_NONE;
}

void kx_log_set_sink(kx_log_sink sink, void *opaque)
{
    log_sink = sink ? sink : stderr_sink;
    log_opaque = opaque;
}

void kx_log_set_level(kx_loglevel min)
{
    log_min = min;
}

int kx_log_enabled(kx_loglevel level)
{
    return level >= log_min;
}

void kx_log_msg(kx_loglevel level, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    /* debug output may be a multi-line dump of kxl's own; what users read is one line */
    AUTOFREE char *safe = kx_printable(kx_buf_str(&b), level == KX_LOG_DEBUG);
    log_sink(level, safe, log_opaque);
    kx_buf_dispose(&b);
}
