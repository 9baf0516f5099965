/* cleanup.h - scope-based freeing: AUTOFREE, AUTOCLOSE, AUTOPTR and hand-over macros. */
#pragma once

#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

static inline void kx_freep(void *p)
{
    free(*(void **)p);
}

static inline void kx_closep(const int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

/* Frees with free() when the variable leaves scope. */
#define AUTOFREE __attribute__((cleanup(kx_freep)))
/* Closes a file descriptor (if >= 0) when the variable leaves scope. */
#define AUTOCLOSE __attribute__((cleanup(kx_closep)))

/* DEFINE_AUTOPTR(type, free_fn) once per type, then AUTOPTR(type) p = NULL; */
#define DEFINE_AUTOPTR(type, fn)                                                                   \
    static inline void kx_autoptr_##type(type **p)                                                 \
    {                                                                                              \
        fn(*p);                                                                                    \
    }
#define AUTOPTR(type) __attribute__((cleanup(kx_autoptr_##type))) type *

/* Hands ownership over: returns the value and clears the variable. */
#define TAKE_PTR(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) kx_tmp_ = (p);                                                               \
        (p) = NULL;                                                                                \
        kx_tmp_;                                                                                   \
    })
#define TAKE_FD(fd)                                                                                \
    ({                                                                                             \
        int kx_tmpfd_ = (fd);                                                                      \
        (fd) = -1;                                                                                 \
        kx_tmpfd_;                                                                                 \
    })

#define KX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
