/* Min-heap of timers; see chat_timers.h. */
#include "chat_timers.h"

#include <stdlib.h>

void chat_timer_init(chat_timer *t, chat_timer_fn fire)
{
    t->at = CHAT_NEVER;
    t->index = CHAT_TIMER_IDLE;
    t->fire = fire;
}

void chat_timers_init(chat_timers *h)
{
    h->heap = NULL;
    h->len = h->cap = 0;
    h->seq = 0;
}

void chat_timers_free(chat_timers *h)
{
    for (size_t i = 0; i < h->len; i++)
        h->heap[i]->index = CHAT_TIMER_IDLE;
    free(h->heap);
    chat_timers_init(h);
}

static void place(chat_timers *h, chat_timer *t, size_t i)
{
    h->heap[i] = t;
    t->index = i;
}

static void sift_up(chat_timers *h, size_t i)
{
    chat_timer *t = h->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->heap[parent]->at <= t->at)
            break;
        place(h, h->heap[parent], i);
        i = parent;
    }
    place(h, t, i);
}

static void sift_down(chat_timers *h, size_t i)
{
    chat_timer *t = h->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        uint64_t best = t->at;
        if (l < h->len && h->heap[l]->at < best)
            m = l, best = h->heap[l]->at;
        if (l + 1 < h->len && h->heap[l + 1]->at < best)
            m = l + 1;
        if (m == i)
            break;
        place(h, h->heap[m], i);
        i = m;
    }
    place(h, t, i);
}

void chat_timers_cancel(chat_timers *h, chat_timer *t)
{
    if (!chat_timer_armed(t))
        return;
    size_t i = t->index;
    t->index = CHAT_TIMER_IDLE;
    chat_timer *last = h->heap[--h->len];
    if (last == t)
        return;
    place(h, last, i);
    if (i > 0 && h->heap[(i - 1) / 2]->at > last->at)
        sift_up(h, i);
    else
        sift_down(h, i);
}

int chat_timers_set(chat_timers *h, chat_timer *t, uint64_t at)
{
    if (at == CHAT_NEVER) {
        chat_timers_cancel(h, t);
        return 0;
    }
    t->seq = h->seq++;
    if (chat_timer_armed(t)) {
        uint64_t old = t->at;
        t->at = at;
        if (at < old)
            sift_up(h, t->index);
        else if (at > old)
            sift_down(h, t->index);
        return 0;
    }
    if (h->len == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        chat_timer **heap = realloc(h->heap, cap * sizeof(chat_timer *));
        if (!heap)
            return -1;
        h->heap = heap;
        h->cap = cap;
    }
    t->at = at;
    place(h, t, h->len++);
    sift_up(h, t->index);
    return 0;
}

uint64_t chat_timers_next(const chat_timers *h)
{
    return h->len ? h->heap[0]->at : CHAT_NEVER;
}

size_t chat_timers_run(chat_timers *h, uint64_t now)
{
    uint64_t start = h->seq;
    size_t fired = 0;
    while (h->len && h->heap[0]->at <= now && h->heap[0]->seq < start) {
        chat_timer *t = h->heap[0];
        chat_timers_cancel(h, t);
        fired++;
        t->fire(t, now);
    }
    return fired;
}
