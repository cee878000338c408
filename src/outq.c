/* The output queue: chunks that never move once written, a pool per
 * context so that a warm connection allocates nothing and an idle one holds
 * nothing. */
#include "outq.h"

#include <string.h>

/* ------------------------------------------------------------ chunks */

/* A chunk for at least `need` bytes: small for the first bytes of a
 * queue, large after, or exactly `need` for a frame bigger than that. */
static ws6455__chunk *chunk_new(ws6455_context *ctx, size_t need, int first)
{
    ws6455__chunk *k;
    ws6455__chunk **pool;
    size_t *count, cap;
    if (first && need <= WS6455__CHUNK_SMALL) {
        pool = &ctx->pool_small;
        count = &ctx->pool_small_count;
        cap = WS6455__CHUNK_SMALL;
    } else {
        pool = &ctx->pool_large;
        count = &ctx->pool_large_count;
        cap = need > WS6455__CHUNK_LARGE ? need : WS6455__CHUNK_LARGE;
    }
    if (cap <= WS6455__CHUNK_LARGE && *pool) {
        k = *pool;
        *pool = k->next;
        (*count)--;
    } else if (cap > WS6455__CHUNK_LARGE && ctx->big_spare && ctx->big_spare->cap >= cap) {
        /* Big frames one after the other (a stream of 64 KiB messages)
         * reuse one chunk instead of allocating each. */
        k = ctx->big_spare;
        ctx->big_spare = NULL;
    } else {
        if (cap > SIZE_MAX - sizeof *k)
            return NULL;
        k = ws6455__alloc(&ctx->alloc, sizeof *k + cap);
        if (!k)
            return NULL;
        k->cap = cap;
    }
    k->next = NULL;
    k->msg = NULL;
    k->off = k->len = 0;
    return k;
}

static ws6455__chunk *ref_chunk_new(ws6455_context *ctx)
{
    ws6455__chunk *k = ctx->refs_pool;
    if (k) {
        ctx->refs_pool = k->next;
        ctx->refs_pool_count--;
    } else {
        k = ws6455__alloc(&ctx->alloc, sizeof *k);
        if (!k)
            return NULL;
    }
    k->cap = 0;
    k->next = NULL;
    k->off = k->len = 0;
    return k;
}

/* Back to its pool (standard sizes, up to the pool's limit) or freed. */
static void chunk_release(ws6455_context *ctx, ws6455__chunk *k)
{
    ws6455__chunk **pool = NULL;
    size_t *count = NULL;
    if (k->msg) {
        ws6455__message_unref(k->msg);
        k->msg = NULL;
        pool = &ctx->refs_pool;
        count = &ctx->refs_pool_count;
    } else if (k->cap == WS6455__CHUNK_SMALL) {
        pool = &ctx->pool_small;
        count = &ctx->pool_small_count;
    } else if (k->cap == WS6455__CHUNK_LARGE) {
        pool = &ctx->pool_large;
        count = &ctx->pool_large_count;
    } else if (k->cap > WS6455__CHUNK_LARGE && k->cap <= WS6455__BIG_SPARE_MAX &&
               (!ctx->big_spare || ctx->big_spare->cap < k->cap)) {
        ws6455__free(&ctx->alloc, ctx->big_spare);
        ctx->big_spare = k;
        return;
    }
    if (pool && *count < WS6455__POOL_MAX) {
        k->next = *pool;
        *pool = k;
        (*count)++;
        return;
    }
    ws6455__free(&ctx->alloc, k);
}

static void link_tail(ws6455__outq *q, ws6455__chunk *k)
{
    if (q->tail)
        q->tail->next = k;
    else
        q->head = k;
    q->tail = k;
}

/* ------------------------------------------------------------ writing */

size_t ws6455__outq_room(const ws6455__outq *q)
{
    const ws6455__chunk *t = q->tail;
    return t ? t->cap - t->len : 0; /* a reference is full */
}

int ws6455__outq_ensure(ws6455__outq *q, ws6455_context *ctx, size_t n)
{
    size_t room = ws6455__outq_room(q);
    if (n <= room || q->spare)
        return WS6455_OK;
    /* The frame fills the tail's room and goes on in one new chunk: memory
     * stays close to what is queued, whatever the frame sizes. */
    q->spare = chunk_new(ctx, n - room, q->head == NULL);
    return q->spare ? WS6455_OK : WS6455_ERR_NOMEM;
}

void ws6455__outq_put(ws6455__outq *q, const uint8_t *p, size_t n, const uint8_t *key,
                      uint64_t offset)
{
    while (n) {
        ws6455__chunk *t = q->tail;
        size_t room = ws6455__outq_room(q);
        if (room == 0) {
            link_tail(q, q->spare);
            q->spare = NULL;
            continue;
        }
        size_t take = n < room ? n : room;
        if (key)
            ws6455_mask(t->bytes + t->len, p, take, key, offset);
        else
            memcpy(t->bytes + t->len, p, take);
        t->len += take;
        q->len += take;
        p += take;
        n -= take;
        offset += take;
    }
}

void ws6455__outq_settle(ws6455__outq *q, ws6455_context *ctx)
{
    if (q->spare) {
        chunk_release(ctx, q->spare);
        q->spare = NULL;
    }
}

int ws6455__outq_append(ws6455__outq *q, ws6455_context *ctx, const void *p, size_t n)
{
    if (n == 0)
        return WS6455_OK;
    if (ws6455__outq_ensure(q, ctx, n) < 0)
        return WS6455_ERR_NOMEM;
    ws6455__outq_put(q, p, n, NULL, 0);
    ws6455__outq_settle(q, ctx);
    return WS6455_OK;
}

int ws6455__outq_push_message(ws6455__outq *q, ws6455_context *ctx, ws6455_message *m)
{
    size_t frame = ws6455__message_frame_len(m);
    if (frame <= WS6455__CHUNK_SMALL || frame <= ws6455__outq_room(q)) {
        /* Copied, not referenced: a small frame costs less as bytes than
         * as a reference (a chunk header each), and one that fits the
         * tail's room costs no allocation. It also bounds the queue's
         * memory: a reference ends the byte chunk before it, so that
         * chunk's unused room is wasted; referencing only frames larger
         * than that room keeps the waste below the bytes queued. */
        if (ws6455__outq_ensure(q, ctx, frame) < 0)
            return WS6455_ERR_NOMEM;
        const uint8_t *p;
        for (size_t off = 0, n; off < frame; off += n) {
            n = ws6455__message_run(m, off, &p);
            ws6455__outq_put(q, p, n, NULL, 0);
        }
        ws6455__outq_settle(q, ctx);
        return WS6455_OK;
    }
    ws6455__chunk *k = ref_chunk_new(ctx);
    if (!k)
        return WS6455_ERR_NOMEM;
    ws6455__message_ref(m);
    k->msg = m;
    k->len = k->cap = frame;
    link_tail(q, k);
    q->len += k->len;
    return WS6455_OK;
}

/* ------------------------------------------------------------ reading */

static size_t chunk_run(const ws6455__chunk *k, const uint8_t **p)
{
    if (k->msg)
        return ws6455__message_run(k->msg, k->off, p);
    *p = k->bytes + k->off;
    return k->len - k->off;
}

size_t ws6455__outq_peek(const ws6455__outq *q, const uint8_t **p)
{
    for (const ws6455__chunk *k = q->head; k; k = k->next)
        if (k->off < k->len)
            return chunk_run(k, p);
    *p = (const uint8_t *)"";
    return 0;
}

size_t ws6455__outq_peek_iov(const ws6455__outq *q, ws6455_iovec *iov, size_t max, size_t *total)
{
    size_t count = 0, bytes = 0;
    for (const ws6455__chunk *k = q->head; k && count < max; k = k->next) {
        size_t off = k->off;
        while (off < k->len && count < max) {
            const uint8_t *p;
            size_t n;
            if (k->msg) {
                n = ws6455__message_run(k->msg, off, &p);
            } else {
                p = k->bytes + off;
                n = k->len - off;
            }
            iov[count].base = p;
            iov[count].len = n;
            count++;
            bytes += n;
            off += n;
        }
    }
    if (total)
        *total = bytes;
    return count;
}

void ws6455__outq_consume(ws6455__outq *q, ws6455_context *ctx, size_t n)
{
    q->len -= n;
    /* n <= what is queued (the callers cap it), so a chunk is always there;
     * the head test only makes that visible to readers and analysers. */
    while (n && q->head) {
        ws6455__chunk *k = q->head;
        size_t left = k->len - k->off;
        if (n < left) {
            k->off += n;
            return;
        }
        n -= left;
        /* A spent chunk goes at once, the tail included: an empty queue
         * owns nothing. */
        q->head = k->next;
        if (!q->head)
            q->tail = NULL;
        chunk_release(ctx, k);
    }
}

void ws6455__outq_clear(ws6455__outq *q, ws6455_context *ctx)
{
    ws6455__outq_settle(q, ctx);
    while (q->head) {
        ws6455__chunk *k = q->head;
        q->head = k->next;
        chunk_release(ctx, k);
    }
    q->tail = NULL;
    q->len = 0;
}

static void free_list(ws6455_context *ctx, ws6455__chunk **list, size_t *count)
{
    while (*list) {
        ws6455__chunk *k = *list;
        *list = k->next;
        ws6455__free(&ctx->alloc, k);
    }
    *count = 0;
}

void ws6455__outq_pool_free(ws6455_context *ctx)
{
    free_list(ctx, &ctx->pool_small, &ctx->pool_small_count);
    free_list(ctx, &ctx->pool_large, &ctx->pool_large_count);
    free_list(ctx, &ctx->refs_pool, &ctx->refs_pool_count);
    ws6455__free(&ctx->alloc, ctx->big_spare);
    ctx->big_spare = NULL;
}
