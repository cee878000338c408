/*
 * chat_timers — a binary min-heap of timers, so a loop iteration looks at
 * the earliest deadline only: the cost of time does not grow with the
 * number of idle connections. Timers are embedded in their owners (no
 * allocation per timer); the heap array grows as needed.
 */
#ifndef CHAT_TIMERS_H
#define CHAT_TIMERS_H

#include <stddef.h>
#include <stdint.h>

#define CHAT_NEVER UINT64_MAX

typedef struct chat_timer chat_timer;
/* Called when the timer is due; it is disarmed first, so fire may set it
 * again. */
typedef void (*chat_timer_fn)(chat_timer *t, uint64_t now);

struct chat_timer {
    uint64_t at;   /* when, in the loop's milliseconds */
    size_t index;  /* position in the heap; CHAT_TIMER_IDLE when not armed */
    uint64_t seq;  /* when it was armed, in chat_timers.seq */
    chat_timer_fn fire;
};

#define CHAT_TIMER_IDLE SIZE_MAX

typedef struct chat_timers {
    chat_timer **heap;
    size_t len, cap;
    uint64_t seq; /* counts arming calls */
} chat_timers;

void chat_timer_init(chat_timer *t, chat_timer_fn fire);
static inline int chat_timer_armed(const chat_timer *t)
{
    return t->index != CHAT_TIMER_IDLE;
}

void chat_timers_init(chat_timers *h);
void chat_timers_free(chat_timers *h);
/* Arms t for `at`, or moves it there when armed. CHAT_NEVER disarms.
 * Returns 0, or -1 when the heap cannot grow (t is left as it was). */
int chat_timers_set(chat_timers *h, chat_timer *t, uint64_t at);
void chat_timers_cancel(chat_timers *h, chat_timer *t);
/* The earliest deadline, or CHAT_NEVER. */
uint64_t chat_timers_next(const chat_timers *h);
/* Fires the timers due at `now`, earliest first; returns how many. Timers
 * armed during the call wait for the next call, and so do the due timers
 * behind them: no callback can keep this loop spinning. */
size_t chat_timers_run(chat_timers *h, uint64_t now);

#endif
