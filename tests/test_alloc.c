/* The allocator hooks and the growable queue buffer: NULL hooks mean libc,
 * consuming from the front reclaims space, growth keeps the bytes (also
 * when it fails), growth stops at the cap, and a length that would
 * overflow is refused without touching the buffer. */
#include "testutil.h"

#include "alloc.h"

#include <stdlib.h>
#include <string.h>

static size_t calls;

static void *count_alloc(size_t n, void *u)
{
    (void)u;
    calls++;
    return malloc(n);
}

static void *count_resize(void *p, size_t n, void *u)
{
    (void)u;
    return realloc(p, n);
}

static void count_release(void *p, void *u)
{
    (void)u;
    free(p);
}

static void test_null_or_partial_hooks_mean_libc(void **state)
{
    (void)state;
    ws6455_allocator a;
    ws6455__allocator_resolve(&a, NULL);
    void *p = ws6455__alloc(&a, 10);
    assert_non_null(p);
    ws6455__free(&a, p);
    ws6455__free(&a, NULL);
    ws6455_allocator partial = {count_alloc, NULL, NULL, NULL};
    ws6455__allocator_resolve(&a, &partial);
    calls = 0;
    p = ws6455__alloc(&a, 10);
    ws6455__free(&a, p);
    assert_int_equal(calls, 0); /* incomplete hooks are not half-used */
    ws6455_allocator full = {count_alloc, count_resize, count_release, NULL};
    ws6455__allocator_resolve(&a, &full);
    p = ws6455__alloc(&a, 10);
    ws6455__free(&a, p);
    assert_int_equal(calls, 1);
}

static void test_append_consume_reclaims_front(void **state)
{
    (void)state;
    ws6455_allocator a;
    ws6455__allocator_resolve(&a, NULL);
    ws6455__buf b = {0};
    uint8_t chunk[100];
    memset(chunk, 'x', sizeof chunk);
    assert_int_equal(ws6455__buf_append(&b, &a, chunk, 100), 0);
    assert_int_equal(ws6455__buf_append(&b, &a, "abc", 3), 0);
    size_t cap = b.cap;
    ws6455__buf_consume(&b, 100);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data + b.off, "abc", 3);
    /* refilling to the capacity reuses the consumed front instead of growing */
    for (size_t i = 0; i + 3 + 100 <= cap; i += 100)
        assert_int_equal(ws6455__buf_append(&b, &a, chunk, 100), 0);
    assert_int_equal(b.cap, cap);
    assert_memory_equal(b.data + b.off, "abc", 3);
    ws6455__buf_consume(&b, b.len);
    assert_int_equal(b.off, 0);
    ws6455__buf_free(&b, &a);
    assert_null(b.data);
}

static void test_growth_stops_at_the_cap(void **state)
{
    (void)state;
    ws6455_allocator a;
    ws6455__allocator_resolve(&a, NULL);
    ws6455__buf b = {0};
    b.max = 1000;
    uint8_t chunk[100] = {0};
    for (int i = 0; i < 10; i++)
        assert_int_equal(ws6455__buf_append(&b, &a, chunk, 100), 0);
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.cap, 1000); /* not 1024: geometric growth is capped */
    /* past the cap the buffer grows only to what is needed */
    assert_int_equal(ws6455__buf_append(&b, &a, chunk, 1), 0);
    assert_int_equal(b.cap, 1001);
    ws6455__buf_free(&b, &a);
}

/* Growing a buffer whose front was consumed: the bytes still held come
 * out whole at the front of the grown buffer. */
static void test_growth_after_consume_keeps_the_bytes(void **state)
{
    (void)state;
    ws6455_allocator a;
    ws6455__allocator_resolve(&a, NULL);
    ws6455__buf b = {0};
    uint8_t chunk[300];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)i;
    assert_int_equal(ws6455__buf_append(&b, &a, chunk, 200), 0);
    ws6455__buf_consume(&b, 150); /* 50 left, at offset 150 of 256 */
    assert_int_equal(ws6455__buf_append(&b, &a, chunk, 300), 0); /* 350 > 256: grows */
    assert_true(b.cap >= 350);
    assert_int_equal(b.len, 350);
    assert_memory_equal(b.data + b.off, chunk + 150, 50);
    assert_memory_equal(b.data + b.off + 50, chunk, 300);
    ws6455__buf_free(&b, &a);
}

static void *refuse_resize(void *p, size_t n, void *user)
{
    (void)p, (void)n, (void)user;
    return NULL;
}

/* An allocator that cannot grow the buffer: the reserve fails with the
 * bytes kept, readable where the buffer says they are. */
static void test_failed_growth_keeps_the_bytes(void **state)
{
    (void)state;
    ws6455_allocator libc;
    ws6455__allocator_resolve(&libc, NULL);
    ws6455_allocator a = libc;
    ws6455__buf b = {0};
    uint8_t chunk[300];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)(i * 7);
    assert_int_equal(ws6455__buf_append(&b, &a, chunk, 200), 0);
    ws6455__buf_consume(&b, 150);
    a.resize = refuse_resize;
    assert_int_equal(ws6455__buf_append(&b, &a, chunk, 300), WS6455_ERR_NOMEM);
    assert_int_equal(b.len, 50);
    assert_memory_equal(b.data + b.off, chunk + 150, 50);
    ws6455__buf_free(&b, &libc);
}

static void test_overflowing_reserve_refused(void **state)
{
    (void)state;
    ws6455_allocator a;
    ws6455__allocator_resolve(&a, NULL);
    ws6455__buf b = {0};
    assert_int_equal(ws6455__buf_append(&b, &a, "ab", 2), 0);
    assert_null(ws6455__buf_reserve(&b, &a, SIZE_MAX));
    assert_null(ws6455__buf_reserve(&b, &a, SIZE_MAX - 1));
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data + b.off, "ab", 2);
    ws6455__buf_free(&b, &a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_or_partial_hooks_mean_libc),
        cmocka_unit_test(test_append_consume_reclaims_front),
        cmocka_unit_test(test_growth_after_consume_keeps_the_bytes),
        cmocka_unit_test(test_failed_growth_keeps_the_bytes),
        cmocka_unit_test(test_growth_stops_at_the_cap),
        cmocka_unit_test(test_overflowing_reserve_refused),
    };
    return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
