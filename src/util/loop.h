/* loop.h - a minimal epoll event loop: one callback per file descriptor. */
#pragma once

#include <stdint.h>
#include <sys/epoll.h>

typedef struct kx_loop kx_loop;
typedef void (*kx_loop_fn)(int fd, uint32_t events, void *opaque);

kx_loop *kx_loop_new(void);
/* NULL-safe; does not close the watched fds. */
void kx_loop_free(kx_loop *l);
/* Watches fd for events (EPOLLIN, ...); fn runs when they occur. */
int kx_loop_add(kx_loop *l, int fd, uint32_t events, kx_loop_fn fn, void *opaque);
/* Changes the events fd is watched for (EPOLLIN | EPOLLOUT while output waits, ...). */
int kx_loop_mod(kx_loop *l, int fd, uint32_t events);
/* Stops watching fd; safe from inside a callback, also for other fds. */
void kx_loop_del(kx_loop *l, int fd);
/* Dispatches until kx_loop_quit (no timers: everything is an fd, e.g. a
 * timerfd). Returns 0, or -1 if epoll fails. */
int kx_loop_run(kx_loop *l);
void kx_loop_quit(kx_loop *l);
