/* The output queue: bytes never move once queued, frames may span chunks,
 * chunks come from and go back to the context's pool, an empty queue owns
 * nothing, and memory stays within the queued bytes plus a fixed slack. */
#include "testutil.h"
#include "outq.h"

#include <stdlib.h>
#include <string.h>

static ws6455_context *ctx_new(void)
{
    ws6455_context *ctx = ws6455_context_new(NULL, NULL);
    assert_non_null(ctx);
    return ctx;
}

/* Reads the whole queue out through peek/consume into dst. */
static size_t drain(ws6455__outq *q, ws6455_context *ctx, uint8_t *dst, size_t step)
{
    size_t total = 0;
    const uint8_t *p;
    size_t n;
    while ((n = ws6455__outq_peek(q, &p)) > 0) {
        if (step && n > step)
            n = step;
        memcpy(dst + total, p, n);
        total += n;
        ws6455__outq_consume(q, ctx, n);
    }
    return total;
}

static void test_bytes_in_order_across_chunks(void **state)
{
    (void)state;
    ws6455_context *ctx = ws6455_context_new(NULL, NULL);
    ws6455__outq q = {0};
    tu_rng r;
    tu_rng_seed(&r, 42);
    static uint8_t want[1 << 20], got[1 << 20];
    tu_rng_fill(&r, want, sizeof want);
    size_t off = 0;
    while (off < sizeof want) {
        size_t n = (size_t)tu_rng_below(&r, 20000);
        if (n > sizeof want - off)
            n = sizeof want - off;
        assert_int_equal(ws6455__outq_append(&q, ctx, want + off, n), 0);
        off += n;
    }
    assert_int_equal(q.len, sizeof want);
    assert_int_equal(drain(&q, ctx, got, 777), sizeof want);
    assert_memory_equal(got, want, sizeof want);
    assert_null(q.head);
    assert_null(q.tail);
    ws6455_context_free(ctx);
}

/* An address handed out stays valid while anything is appended. */
static void test_peeked_bytes_never_move(void **state)
{
    (void)state;
    ws6455_context *ctx = ctx_new();
    ws6455__outq q = {0};
    assert_int_equal(ws6455__outq_append(&q, ctx, "abc", 3), 0);
    const uint8_t *p0;
    assert_int_equal(ws6455__outq_peek(&q, &p0), 3);
    static uint8_t big[100000];
    for (int i = 0; i < 50; i++)
        assert_int_equal(ws6455__outq_append(&q, ctx, big, (size_t)i * 1000), 0);
    const uint8_t *p1;
    assert_true(ws6455__outq_peek(&q, &p1) >= 3);
    assert_ptr_equal(p0, p1);
    assert_memory_equal(p1, "abc", 3);
    ws6455__outq_clear(&q, ctx);
    assert_int_equal(q.len, 0);
    ws6455_context_free(ctx);
}

/* Memory held by a queue is what it holds plus WS6455__OUTQ_SLACK, for any
 * mix of frame sizes (no chunk is left mostly empty behind the tail). */
typedef struct counting {
    size_t live, peak;
} counting;
typedef struct block {
    size_t size;
    max_align_t align;
} block;
static void *c_alloc(size_t n, void *u)
{
    counting *k = u;
    block *b = malloc(sizeof(block) + n);
    b->size = n;
    k->live += n;
    if (k->live > k->peak)
        k->peak = k->live;
    return b + 1;
}
static void c_release(void *p, void *u)
{
    if (!p)
        return;
    block *b = (block *)p - 1;
    ((counting *)u)->live -= b->size;
    free(b);
}
static void *c_resize(void *p, size_t n, void *u)
{
    (void)p;
    (void)n;
    (void)u;
    fail_msg("the queue never resizes");
    return NULL;
}

static void test_memory_is_bytes_plus_slack(void **state)
{
    (void)state;
    counting k = {0, 0};
    ws6455_allocator a = {c_alloc, c_resize, c_release, &k};
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.allocator = &a;
    ws6455_context *ctx = ws6455_context_new(&cfg, NULL);
    size_t base = k.live;
    ws6455__outq q = {0};
    static uint8_t data[20000];
    /* sizes chosen to defeat a chunk-per-frame scheme: just over half a chunk */
    const size_t sizes[] = {WS6455__CHUNK_LARGE / 2 + 1, 7, WS6455__CHUNK_SMALL + 1, 12345, 1};
    for (int i = 0; i < 200; i++) {
        assert_int_equal(ws6455__outq_append(&q, ctx, data, sizes[i % 5]), 0);
        /* plus one chunk header per append at worst */
        assert_true(k.live - base <= q.len + WS6455__OUTQ_SLACK + (size_t)(i + 1) * sizeof(ws6455__chunk));
    }
    uint8_t *sink = malloc(q.len);
    drain(&q, ctx, sink, 0);
    free(sink);
    /* what is left lives in the context's pool, not in the queue */
    assert_null(q.head);
    ws6455_context_free(ctx);
    assert_int_equal(k.live, 0);
}

/* Masked puts across a chunk boundary keep the mask's phase. */
static void test_masked_put_across_chunks(void **state)
{
    (void)state;
    ws6455_context *ctx = ctx_new();
    ws6455__outq q = {0};
    uint8_t pad[WS6455__CHUNK_SMALL - 3];
    memset(pad, 0, sizeof pad);
    assert_int_equal(ws6455__outq_append(&q, ctx, pad, sizeof pad), 0);
    static const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
    uint8_t plain[50];
    for (int i = 0; i < 50; i++)
        plain[i] = (uint8_t)i;
    assert_int_equal(ws6455__outq_ensure(&q, ctx, sizeof plain), 0);
    ws6455__outq_put(&q, plain, sizeof plain, key, 0);
    ws6455__outq_settle(&q, ctx);
    uint8_t all[sizeof pad + sizeof plain];
    assert_int_equal(drain(&q, ctx, all, 0), sizeof all);
    uint8_t back[50];
    ws6455_mask(back, all + sizeof pad, 50, key, 0);
    assert_memory_equal(back, plain, 50);
    ws6455_context_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_in_order_across_chunks),
        cmocka_unit_test(test_peeked_bytes_never_move),
        cmocka_unit_test(test_memory_is_bytes_plus_slack),
        cmocka_unit_test(test_masked_put_across_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
