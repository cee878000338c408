/* Allocator hooks and the growable byte buffer used for queues. */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

static void *libc_alloc(size_t n, void *user)
{
    (void)user;
    return malloc(n);
}

static void *libc_resize(void *p, size_t n, void *user)
{
    (void)user;
    return realloc(p, n);
}

static void libc_release(void *p, void *user)
{
    (void)user;
    free(p);
}

void ws6455__allocator_resolve(ws6455_allocator *out, const ws6455_allocator *in)
{
    if (in && in->alloc && in->resize && in->release) {
        *out = *in;
    } else {
        out->alloc = libc_alloc;
        out->resize = libc_resize;
        out->release = libc_release;
        out->user = NULL;
    }
}

void *ws6455__alloc(const ws6455_allocator *a, size_t n)
{
    return a->alloc(n ? n : 1, a->user);
}

void *ws6455__resize(const ws6455_allocator *a, void *p, size_t n)
{
    return a->resize(p, n ? n : 1, a->user);
}

void ws6455__free(const ws6455_allocator *a, void *p)
{
    if (p)
        a->release(p, a->user);
}

uint8_t *ws6455__buf_reserve(ws6455__buf *b, const ws6455_allocator *a, size_t extra)
{
    if (b->len == 0)
        b->off = 0;
    if (extra > SIZE_MAX - b->len)
        return NULL;
    size_t need = b->len + extra;
    if (b->off + need <= b->cap)
        return b->data + b->off + b->len;
    /* No room after the data: reclaim the consumed front first, which may
     * be enough; else grow (resize keeps the bytes, as realloc does). */
    if (b->off) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) {
                cap = need;
                break;
            }
            cap *= 2;
        }
        /* A capped buffer (a queue with a configured limit) must not hold
         * up to twice its limit just because growth is geometric. */
        if (b->max && cap > b->max)
            cap = need > b->max ? need : b->max;
        uint8_t *p = ws6455__resize(a, b->data, cap);
        if (!p)
            return NULL;
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

int ws6455__buf_append(ws6455__buf *b, const ws6455_allocator *a, const void *p, size_t n)
{
    if (n == 0)
        return WS6455_OK;
    uint8_t *dst = ws6455__buf_reserve(b, a, n);
    if (!dst)
        return WS6455_ERR_NOMEM;
    memcpy(dst, p, n);
    b->len += n;
    return WS6455_OK;
}

void ws6455__buf_consume(ws6455__buf *b, size_t n)
{
    b->off += n;
    b->len -= n;
    if (b->len == 0)
        b->off = 0;
}

void ws6455__buf_free(ws6455__buf *b, const ws6455_allocator *a)
{
    ws6455__free(a, b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
