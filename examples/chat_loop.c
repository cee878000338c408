/* chat_server's epoll loop; see chat_loop.h. */
#define _GNU_SOURCE
#include "chat_loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t chat_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int chat_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int chat_loop_init(chat_loop *l)
{
    chat_timers_init(&l->timers);
    l->now = chat_clock_ms();
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    return l->epfd < 0 ? -1 : 0;
}

void chat_loop_close(chat_loop *l)
{
    chat_timers_free(&l->timers);
    if (l->epfd >= 0)
        close(l->epfd);
    l->epfd = -1;
}

int chat_loop_add(chat_loop *l, int fd, chat_watch *w, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = w};
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e);
}

int chat_loop_mod(chat_loop *l, int fd, chat_watch *w, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = w};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &e);
}

void chat_loop_del(chat_loop *l, int fd)
{
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int chat_loop_run_once(chat_loop *l, int max_ms)
{
    l->now = chat_clock_ms();
    uint64_t next = chat_timers_next(&l->timers);
    int timeout = max_ms;
    if (next != CHAT_NEVER) {
        uint64_t wait = next <= l->now ? 0 : next - l->now;
        if (max_ms < 0 || wait < (uint64_t)max_ms)
            timeout = (int)wait;
    }
    struct epoll_event evs[256];
    int n = epoll_wait(l->epfd, evs, 256, timeout);
    if (n < 0 && errno != EINTR)
        return -1;
    l->now = chat_clock_ms();
    for (int i = 0; i < n; i++) {
        chat_watch *w = evs[i].data.ptr;
        w->on_event(w, evs[i].events);
    }
    chat_timers_run(&l->timers, l->now);
    return n < 0 ? 0 : n;
}
