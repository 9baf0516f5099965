/* loop.c - a minimal epoll event loop. Watches removed during a dispatch round
 * are only marked dead and freed after it, so pending events never touch
 * freed memory. */
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"

typedef struct watch {
    int fd;
    bool dead;
    kx_loop_fn fn;
    void *opaque;
    struct watch *next;
} watch;

struct kx_loop {
    int epfd;
    bool quit;
    watch *watches;
};

kx_loop *kx_loop_new(void)
{
    kx_loop *l = kx_malloc0(sizeof(*l));
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create an epoll instance");
        free(l);
        return NULL;
    }
    return l;
}

static void reap_dead(kx_loop *l)
{
    for (watch **w = &l->watches; *w;) {
        if ((*w)->dead) {
            watch *d = *w;
            *w = d->next;
            free(d);
        } else {
            w = &(*w)->next;
        }
    }
}

void kx_loop_free(kx_loop *l)
{
    if (!l)
        return;
    for (watch *w = l->watches; w; w = w->next)
        w->dead = true;
    reap_dead(l);
    close(l->epfd);
    free(l);
}

int kx_loop_add(kx_loop *l, int fd, uint32_t events, kx_loop_fn fn, void *opaque)
{
    watch *w = kx_malloc0(sizeof(*w));
    *w = (watch){.fd = fd, .fn = fn, .opaque = opaque, .next = l->watches};
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot watch fd %d", fd);
        free(w);
        return -1;
    }
    l->watches = w;
    return 0;
}

int kx_loop_mod(kx_loop *l, int fd, uint32_t events)
{
    for (watch *w = l->watches; w; w = w->next) {
        if (w->fd != fd || w->dead)
            continue;
        struct epoll_event ev = {.events = events, .data.ptr = w};
        if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
            kx_err_errno(KXL_ERR_INTERNAL, "cannot change the watch of fd %d", fd);
            return -1;
        }
        return 0;
    }
    kx_err(KXL_ERR_INTERNAL, "fd %d is not watched", fd);
    return -1;
}

void kx_loop_del(kx_loop *l, int fd)
{
    for (watch *w = l->watches; w; w = w->next) {
        if (w->fd == fd && !w->dead) {
            epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
            w->dead = true;
        }
    }
}

int kx_loop_run(kx_loop *l)
{
    struct epoll_event evs[16];
    while (!l->quit) {
        int n = epoll_wait(l->epfd, evs, 16, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            kx_err_errno(KXL_ERR_INTERNAL, "epoll_wait failed");
            return -1;
        }
        for (int i = 0; i < n; i++) {
            watch *w = evs[i].data.ptr;
            if (!w->dead)
                w->fn(w->fd, evs[i].events, w->opaque);
        }
        reap_dead(l);
    }
    return 0;
}

void kx_loop_quit(kx_loop *l)
{
    l->quit = true;
}
