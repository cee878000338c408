/* mmap(MAP_ANONYMOUS) and sysconf() for the guard pages: not in POSIX or C11. */
#define _DEFAULT_SOURCE

#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void tu_rng_seed(tu_rng *r, uint64_t seed)
{
    r->s = seed ? seed : 0x9E3779B97F4A7C15ull;
}

uint64_t tu_rng_next(tu_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

uint64_t tu_rng_below(tu_rng *r, uint64_t bound)
{
    return tu_rng_next(r) % bound;
}

void tu_rng_fill(tu_rng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(tu_rng_next(r) >> 56);
}

/* Each block carries its size in front, aligned like malloc's. */
typedef struct tu_block {
    size_t size;
    max_align_t align;
} tu_block;

static void *tu_c_alloc(size_t n, void *u)
{
    tu_counting *k = u;
    k->allocations++;
    if (k->fail_at && (long)k->allocations == k->fail_at)
        return NULL;
    tu_block *b = malloc(sizeof(tu_block) + n);
    if (!b)
        return NULL;
    b->size = n;
    k->live_bytes += n;
    if (k->live_bytes > k->peak_bytes)
        k->peak_bytes = k->live_bytes;
    return b + 1;
}

static void tu_c_release(void *p, void *u)
{
    tu_counting *k = u;
    if (!p)
        return;
    tu_block *b = (tu_block *)p - 1;
    k->live_bytes -= b->size;
    free(b);
}

/* Always moves the block, so a caller that keeps a stale pointer trips
 * ASan. */
static void *tu_c_resize(void *p, size_t n, void *u)
{
    void *q = tu_c_alloc(n, u);
    if (q && p) {
        tu_block *b = (tu_block *)p - 1;
        memcpy(q, p, b->size < n ? b->size : n);
        tu_c_release(p, u);
    }
    return q;
}

ws6455_allocator tu_counting_allocator(tu_counting *k)
{
    memset(k, 0, sizeof *k);
    ws6455_allocator a = {tu_c_alloc, tu_c_resize, tu_c_release, k};
    return a;
}

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Layout: [pad ... data][guard page]. The mapping covers whole pages. */
uint8_t *tu_guard_copy(const void *p, size_t n)
{
    size_t ps = page_size();
    size_t data_pages = (n + ps - 1) / ps;
    size_t total = (data_pages + 1) * ps;
    uint8_t *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(base != MAP_FAILED);
    assert_int_equal(mprotect(base + data_pages * ps, ps, PROT_NONE), 0);
    uint8_t *dst = base + data_pages * ps - n;
    if (n)
        memcpy(dst, p, n);
    return dst;
}

void tu_guard_free(uint8_t *p, size_t n)
{
    size_t ps = page_size();
    size_t data_pages = (n + ps - 1) / ps;
    uint8_t *base = p + n - data_pages * ps;
    munmap(base, (data_pages + 1) * ps);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t tu_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        int v = hexval(*hex);
        if (v < 0)
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_true(hi < 0);
    return n;
}
