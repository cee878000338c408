/* hiredis on epoll; see chat_redis_ev.h. */
#include "chat_redis_ev.h"

#include <sys/epoll.h>

static void apply(chat_redis_ev *ev, uint32_t events)
{
    if (!ev->ac || events == ev->events)
        return;
    ev->events = events;
    /* With no interest left the descriptor stays registered with an empty
     * mask: epoll still reports errors and hang-ups, which hiredis then
     * notices on its next read. */
    chat_loop_mod(ev->loop, ev->fd, &ev->watch, events);
}

static void add_read(void *p)
{
    chat_redis_ev *ev = p;
    apply(ev, ev->events | EPOLLIN);
}

static void del_read(void *p)
{
    chat_redis_ev *ev = p;
    apply(ev, ev->events & ~(uint32_t)EPOLLIN);
}

static void add_write(void *p)
{
    chat_redis_ev *ev = p;
    apply(ev, ev->events | EPOLLOUT);
}

static void del_write(void *p)
{
    chat_redis_ev *ev = p;
    apply(ev, ev->events & ~(uint32_t)EPOLLOUT);
}

/* The context is being freed: forget it. (Its descriptor is closed right
 * after this, which also takes it out of the epoll set; DEL first anyway,
 * in case the descriptor is shared.) */
static void cleanup(void *p)
{
    chat_redis_ev *ev = p;
    if (ev->added)
        chat_loop_del(ev->loop, ev->fd);
    ev->added = 0;
    ev->events = 0;
    ev->ac = NULL;
}

static void on_event(chat_watch *w, uint32_t events)
{
    chat_redis_ev *ev = (chat_redis_ev *)w;
    if (ev->ac && events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        redisAsyncHandleRead(ev->ac);
    /* HandleRead may have freed the context (cleanup cleared ev->ac). */
    if (ev->ac && events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        redisAsyncHandleWrite(ev->ac);
}

int chat_redis_ev_attach(chat_redis_ev *ev, chat_loop *loop, redisAsyncContext *ac)
{
    ev->watch.on_event = on_event;
    ev->loop = loop;
    ev->ac = ac;
    ev->fd = ac->c.fd;
    /* The connect is in progress: writability says it finished. */
    ev->events = EPOLLOUT;
    if (chat_loop_add(loop, ev->fd, &ev->watch, ev->events) < 0) {
        ev->ac = NULL;
        return -1;
    }
    ev->added = 1;
    ac->ev.data = ev;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return 0;
}
