/*
 * chat_redis_ev — hiredis' asynchronous API on chat_server's epoll loop.
 * hiredis tells its event library when it wants to read or write (the
 * addRead/delRead/addWrite/delWrite hooks) and when the context goes away
 * (cleanup); this file turns those into epoll interest, and epoll events
 * into redisAsyncHandleRead/Write calls.
 */
#ifndef CHAT_REDIS_EV_H
#define CHAT_REDIS_EV_H

#include "chat_loop.h"

#include <hiredis/async.h>

typedef struct chat_redis_ev {
    chat_watch watch;         /* first: the loop dispatches on it */
    chat_loop *loop;
    redisAsyncContext *ac;    /* NULL once hiredis cleaned up */
    int fd;
    uint32_t events;          /* EPOLLIN / EPOLLOUT wanted */
    int added;                /* registered with epoll */
} chat_redis_ev;

/* Hooks ac into the loop (ac must have no event library yet). Returns 0,
 * or -1 when epoll refuses the descriptor. */
int chat_redis_ev_attach(chat_redis_ev *ev, chat_loop *loop, redisAsyncContext *ac);

#endif
