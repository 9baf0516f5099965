/* err.h - the last error of this thread (reported once, where it happens) and the log sink. */
#pragma once

#include <stdarg.h>

#include "kxl/errors.h"

/* Records an error message for the caller's caller to show; logs it at debug level. */
void kx_err(kxl_errcode code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As kx_err, with ": strerror(errno)" appended; KXL_ERR_INTERNAL becomes KXL_ERR_PERMISSION
 * for EACCES/EPERM and KXL_ERR_HOST for ENOSPC, EDQUOT, ENOMEM, EMFILE, ENFILE. */
void kx_err_errno(kxl_errcode code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last recorded error (never NULL; "" if none) and its code. */
const char *kx_err_msg(void);
kxl_errcode kx_err_code(void);
void kx_err_clear(void);

typedef enum { KX_LOG_DEBUG, KX_LOG_INFO, KX_LOG_NOTICE, KX_LOG_WARN, KX_LOG_ERROR } kx_loglevel;
typedef void (*kx_log_sink)(kx_loglevel level, const char *msg, void *opaque);

/* Installs the sink all log lines go through (default: stderr, notices and up). */
void kx_log_set_sink(kx_log_sink sink, void *opaque);
void kx_log_set_level(kx_loglevel min);
int kx_log_enabled(kx_loglevel level);
void kx_log_msg(kx_loglevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The level check comes first so that debug formatting costs nothing when off. */
#define kx_log(level, ...)                                                                         \
    do {                                                                                           \
        if (kx_log_enabled(level))                                                                 \
            kx_log_msg(level, __VA_ARGS__);                                                        \
    } while (0)
#define kx_debug(...) kx_log(KX_LOG_DEBUG, __VA_ARGS__)
#define kx_info(...) kx_log(KX_LOG_INFO, __VA_ARGS__)
#define kx_notice(...) kx_log(KX_LOG_NOTICE, __VA_ARGS__)
#define kx_warn(...) kx_log(KX_LOG_WARN, __VA_ARGS__)
