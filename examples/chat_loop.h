/*
 * chat_loop — the pieces of chat_server's epoll loop that its modules
 * share: one epoll descriptor whose events carry a chat_watch (so each
 * descriptor's owner handles its own events), the timer heap, and the
 * loop's idea of the current time.
 */
#ifndef CHAT_LOOP_H
#define CHAT_LOOP_H

#include "chat_timers.h"

#include <stddef.h>
#include <stdint.h>

typedef struct chat_watch chat_watch;
/* Put a chat_watch in every struct registered with epoll; the loop calls
 * on_event with the epoll event mask. */
struct chat_watch {
    void (*on_event)(chat_watch *w, uint32_t events);
};

typedef struct chat_loop {
    int epfd;
    chat_timers timers;
    uint64_t now; /* CLOCK_MONOTONIC milliseconds, read once per wakeup */
} chat_loop;

uint64_t chat_clock_ms(void);
/* n unpredictable bytes from the OS; -1 when it has none. */
int chat_random(void *buf, size_t n);

int chat_loop_init(chat_loop *l);
void chat_loop_close(chat_loop *l);
/* epoll_ctl ADD / MOD / DEL with the watch as the event's data. */
int chat_loop_add(chat_loop *l, int fd, chat_watch *w, uint32_t events);
int chat_loop_mod(chat_loop *l, int fd, chat_watch *w, uint32_t events);
void chat_loop_del(chat_loop *l, int fd);
/* Waits at most until the earliest timer (or max_ms), dispatches events,
 * then runs due timers. Returns the number of events, -1 on error. */
int chat_loop_run_once(chat_loop *l, int max_ms);

#endif
