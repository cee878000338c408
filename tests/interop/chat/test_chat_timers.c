/* chat_timers: the min-heap behind chat_server's deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chat_timers.h"

#include <stdlib.h>

typedef struct item {
    chat_timer t;
    int id;
    int fired;
} item;

static int order[4096], norder;
static chat_timers *rearm_heap;
static uint64_t rearm_at;

static void fire(chat_timer *t, uint64_t now)
{
    (void)now;
    item *it = (item *)t;
    it->fired++;
    order[norder++] = it->id;
}

static void fire_rearm(chat_timer *t, uint64_t now)
{
    fire(t, now);
    chat_timers_set(rearm_heap, t, rearm_at);
}

static void check_heap(const chat_timers *h)
{
    for (size_t i = 0; i < h->len; i++) {
        assert_int_equal(h->heap[i]->index, i);
        if (i)
            assert_true(h->heap[(i - 1) / 2]->at <= h->heap[i]->at);
    }
}

static void test_order_and_moves(void **state)
{
    (void)state;
    chat_timers h;
    chat_timers_init(&h);
    enum { N = 1000 };
    item *items = calloc(N, sizeof *items);
    srand(7);
    for (int i = 0; i < N; i++) {
        chat_timer_init(&items[i].t, fire);
        items[i].id = i;
        assert_int_equal(chat_timers_set(&h, &items[i].t, 1000 + (uint64_t)(rand() % 5000)), 0);
    }
    check_heap(&h);
    /* move half of them, cancel a tenth */
    for (int i = 0; i < N; i += 2)
        chat_timers_set(&h, &items[i].t, (uint64_t)(rand() % 8000));
    for (int i = 0; i < N; i += 10)
        chat_timers_cancel(&h, &items[i].t);
    chat_timers_cancel(&h, &items[0].t); /* twice is fine */
    check_heap(&h);
    assert_int_equal(h.len, N - N / 10);
    norder = 0;
    uint64_t last = 0;
    for (uint64_t now = 0; now <= 8000; now += 250) {
        chat_timers_run(&h, now);
        check_heap(&h);
        assert_true(chat_timers_next(&h) > now);
    }
    assert_int_equal(norder, N - N / 10);
    for (int i = 0; i < norder; i++) {
        assert_true(items[order[i]].t.at >= last);
        last = items[order[i]].t.at;
        assert_int_equal(items[order[i]].fired, 1);
        assert_false(chat_timer_armed(&items[order[i]].t));
    }
    for (int i = 0; i < N; i += 10)
        assert_int_equal(items[i].fired, 0);
    assert_int_equal(chat_timers_next(&h), CHAT_NEVER);
    chat_timers_free(&h);
    free(items);
}

static void test_rearm_does_not_spin(void **state)
{
    (void)state;
    chat_timers h;
    chat_timers_init(&h);
    item a = {.id = 1}, b = {.id = 2};
    chat_timer_init(&a.t, fire_rearm);
    chat_timer_init(&b.t, fire);
    rearm_heap = &h;
    rearm_at = 5; /* "due again at once" */
    chat_timers_set(&h, &a.t, 5);
    chat_timers_set(&h, &b.t, 6);
    norder = 0;
    assert_int_equal(chat_timers_run(&h, 10), 1); /* a, then a's new arming stops the run */
    assert_int_equal(chat_timers_run(&h, 10), 1);
    assert_int_equal(a.fired, 2);
    chat_timers_cancel(&h, &a.t);
    assert_int_equal(chat_timers_run(&h, 10), 1);
    assert_int_equal(b.fired, 1);
    /* CHAT_NEVER disarms */
    chat_timers_set(&h, &b.t, 3);
    chat_timers_set(&h, &b.t, CHAT_NEVER);
    assert_false(chat_timer_armed(&b.t));
    assert_int_equal(h.len, 0);
    chat_timers_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_moves),
        cmocka_unit_test(test_rearm_does_not_spin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
