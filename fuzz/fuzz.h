/* Shared helpers for the fuzz targets: an input reader that hands out
 * control bytes, a piece cutter for incremental parsers, an independent byte-by-byte UTF-8 reference, a counting
 * allocator that can fail on demand, and the check macro.
 *
 * Everything here is static so that each target (and tests/test_hardening.c,
 * which includes the connection driver) gets its own copy; no symbol of the
 * library is redefined. Plain C11. */
#ifndef WS6455_FUZZ_H
#define WS6455_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws6455.h"

/* The libFuzzer entry point (also called by fuzz/replay_main.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if defined(__GNUC__)
#define FZ_UNUSED __attribute__((unused))
#else
#define FZ_UNUSED
#endif

/* An invariant broke: say which and crash, so that every fuzzer (and the
 * replay binary, and the cmocka test that replays the corpus) notices. */
#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ------------------------------------------------------------ input */

/* Reads control values from the front of the fuzz input. Past the end every
 * read gives 0, so short inputs are still meaningful. */
typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static FZ_UNUSED uint8_t fz_u8(fz_in *in)
{
    if (in->n == 0)
        return 0;
    uint8_t v = in->p[0];
    in->p++;
    in->n--;
    return v;
}

static FZ_UNUSED uint16_t fz_u16(fz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

static FZ_UNUSED uint32_t fz_u32(fz_in *in)
{
    uint32_t hi = fz_u16(in);
    return hi << 16 | fz_u16(in);
}

static FZ_UNUSED uint64_t fz_u64(fz_in *in)
{
    uint64_t hi = fz_u32(in);
    return hi << 32 | fz_u32(in);
}

/* Takes up to `max` bytes; returns how many, *p points at them. */
static FZ_UNUSED size_t fz_take(fz_in *in, size_t max, const uint8_t **p)
{
    size_t k = max < in->n ? max : in->n;
    *p = in->p;
    in->p += k;
    in->n -= k;
    return k;
}

/* ------------------------------------------------------------ pieces */

/* Cuts p[0..n) into pieces for feeding an incremental parser: piece lengths
 * come from `lens` (each byte + 1, cycled), or one piece of everything when
 * there are none. Each piece is an exact-size heap copy, so a parser that
 * reads one byte past what it was given trips ASan. The caller advances
 * `off` by what it consumed (usually the whole piece), which lets a target
 * skip ahead or resume after a partial read. */
typedef struct fz_pieces {
    const uint8_t *p;
    size_t n, off;
    const uint8_t *lens;
    size_t nl, count; /* count: pieces handed out so far */
    uint8_t *copy;
} fz_pieces;

static FZ_UNUSED void fz_pieces_init(fz_pieces *s, const uint8_t *p, size_t n,
                                     const uint8_t *lens, size_t nl)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->n = n;
    s->lens = lens;
    s->nl = nl;
}

/* The next piece starting at s->off (NULL at the end); frees the last one. */
static FZ_UNUSED uint8_t *fz_piece(fz_pieces *s, size_t *len)
{
    free(s->copy);
    s->copy = NULL;
    if (s->off >= s->n)
        return NULL;
    size_t k = s->nl ? (size_t)s->lens[s->count % s->nl] + 1 : s->n - s->off;
    s->count++;
    if (k > s->n - s->off)
        k = s->n - s->off;
    s->copy = malloc(k);
    FZ_CHECK(s->copy != NULL);
    memcpy(s->copy, s->p + s->off, k);
    *len = k;
    return s->copy;
}

static FZ_UNUSED void fz_pieces_end(fz_pieces *s)
{
    free(s->copy);
    s->copy = NULL;
}

/* ------------------------------------------------------------ UTF-8 reference */

/* The plainest possible validator, written from RFC 3629 section 4's table
 * and nothing else, one byte at a time. It shares no code or tables with
 * src/utf8.c, which is what makes the differential target meaningful.
 * `fail` is the offset of the first byte after which no continuation could
 * be valid (fail-fast, as ws6455_utf8_update documents). */
typedef struct fz_utf8_ref {
    unsigned need;       /* continuation bytes still expected */
    uint8_t lo, hi;      /* range allowed for the next continuation byte */
    int failed;
} fz_utf8_ref;

static FZ_UNUSED void fz_utf8_ref_init(fz_utf8_ref *r)
{
    memset(r, 0, sizeof *r);
}

/* Feeds one byte; returns 0 when still valid (or a valid prefix), -1 when
 * this byte makes the text invalid. */
static FZ_UNUSED int fz_utf8_ref_byte(fz_utf8_ref *r, uint8_t b)
{
    if (r->failed)
        return -1;
    if (r->need) {
        if (b < r->lo || b > r->hi) {
            r->failed = 1;
            return -1;
        }
        r->need--;
        r->lo = 0x80;
        r->hi = 0xBF;
        return 0;
    }
    r->lo = 0x80;
    r->hi = 0xBF;
    if (b <= 0x7F)
        return 0;
    if (b >= 0xC2 && b <= 0xDF) {
        r->need = 1;
    } else if (b == 0xE0) {
        r->need = 2;
        r->lo = 0xA0; /* no overlong three-byte forms */
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        r->need = 2;
    } else if (b == 0xED) {
        r->need = 2;
        r->hi = 0x9F; /* no surrogates */
    } else if (b == 0xF0) {
        r->need = 3;
        r->lo = 0x90; /* no overlong four-byte forms */
    } else if (b >= 0xF1 && b <= 0xF3) {
        r->need = 3;
    } else if (b == 0xF4) {
        r->need = 3;
        r->hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        r->failed = 1; /* 80..C1, F5..FF */
        return -1;
    }
    return 0;
}

/* Whole-buffer helpers: 1 when p[0..n) is complete valid UTF-8; *fail_at
 * gets the failing offset (n when it only ends inside a sequence). */
static FZ_UNUSED int fz_utf8_ref_valid(const uint8_t *p, size_t n, size_t *fail_at)
{
    fz_utf8_ref r;
    fz_utf8_ref_init(&r);
    for (size_t i = 0; i < n; i++) {
        if (fz_utf8_ref_byte(&r, p[i]) < 0) {
            if (fail_at)
                *fail_at = i;
            return 0;
        }
    }
    if (fail_at)
        *fail_at = n;
    return r.need == 0;
}

/* ------------------------------------------------------------ allocator */

/* Counts live bytes (and the peak) and fails the fail_at-th allocation
 * (1-based; 0 never) or any allocation that would take the live total past
 * `limit` (0: no limit). Each block carries its size in a header. */
typedef struct fz_mem {
    size_t live, peak, calls, live_blocks;
    size_t fail_at; /* 1-based index of the call to fail */
    size_t limit;
    size_t failures;
} fz_mem;

#define FZ_MEM_HDR 16 /* keeps max_align_t alignment for the caller */

static FZ_UNUSED int fz_mem_refuse(fz_mem *m, size_t grow)
{
    m->calls++;
    if ((m->fail_at && m->calls == m->fail_at) ||
        (m->limit && grow && (grow > m->limit || m->live > m->limit - grow))) {
        m->failures++;
        return 1;
    }
    return 0;
}

static FZ_UNUSED void *fz_mem_alloc(size_t size, void *user)
{
    fz_mem *m = user;
    if (size > SIZE_MAX - FZ_MEM_HDR || fz_mem_refuse(m, size))
        return NULL;
    unsigned char *p = malloc(size + FZ_MEM_HDR);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    m->live += size;
    m->live_blocks++;
    if (m->live > m->peak)
        m->peak = m->live;
    return p + FZ_MEM_HDR;
}

static FZ_UNUSED void fz_mem_release(void *ptr, void *user)
{
    fz_mem *m = user;
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - FZ_MEM_HDR;
    size_t size;
    memcpy(&size, p, sizeof size);
    FZ_CHECK(m->live >= size && m->live_blocks > 0);
    m->live -= size;
    m->live_blocks--;
    free(p);
}

static FZ_UNUSED void *fz_mem_resize(void *ptr, size_t size, void *user)
{
    fz_mem *m = user;
    if (!ptr)
        return fz_mem_alloc(size, user);
    unsigned char *p = (unsigned char *)ptr - FZ_MEM_HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    if (size > SIZE_MAX - FZ_MEM_HDR || fz_mem_refuse(m, size > old ? size - old : 0))
        return NULL;
    /* realloc may move: count the momentary old copy too, as it would be. */
    if (m->live + size > m->peak)
        m->peak = m->live + size;
    unsigned char *q = realloc(p, size + FZ_MEM_HDR);
    if (!q)
        return NULL;
    memcpy(q, &size, sizeof size);
    m->live = m->live - old + size;
    return q + FZ_MEM_HDR;
}

static FZ_UNUSED void fz_mem_allocator(fz_mem *m, ws6455_allocator *a)
{
    a->alloc = fz_mem_alloc;
    a->resize = fz_mem_resize;
    a->release = fz_mem_release;
    a->user = m;
}

/* A fresh counter wired to *a that fails the fail_at-th allocation (0: never). */
static FZ_UNUSED void fz_mem_start(fz_mem *m, ws6455_allocator *a, size_t fail_at)
{
    memset(m, 0, sizeof *m);
    m->fail_at = fail_at;
    fz_mem_allocator(m, a);
}

#endif
