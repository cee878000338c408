/* Shared helpers for the cmocka tests: cmocka's includes, a deterministic
 * PRNG, guard-page buffers that crash on any over-read, and hex helpers. */
#ifndef WS6455_TESTUTIL_H
#define WS6455_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ws6455.h"

/* xorshift64*: deterministic, seedable, for reproducible random tests. */
typedef struct { uint64_t s; } tu_rng;
void tu_rng_seed(tu_rng *r, uint64_t seed);
uint64_t tu_rng_next(tu_rng *r);
/* Uniform in [0, bound); bound > 0. */
uint64_t tu_rng_below(tu_rng *r, uint64_t bound);
void tu_rng_fill(tu_rng *r, uint8_t *p, size_t n);

/* A copy of p[0..n) placed so that its last byte is immediately followed by
 * an unreadable page: reading p[n] crashes. Free with tu_guard_free. */
uint8_t *tu_guard_copy(const void *p, size_t n);
void tu_guard_free(uint8_t *p, size_t n);

/* A counting allocator for the ws6455_allocator hooks: live and peak
 * bytes, calls, and an optional failure of the n-th allocation (1-based;
 * 0: never). tu_counting_allocator zeroes *k and returns hooks into it. */
typedef struct tu_counting {
    size_t live_bytes, peak_bytes, allocations;
    long fail_at;
} tu_counting;
ws6455_allocator tu_counting_allocator(tu_counting *k);

/* Parses hex ("81 05 48 65" — spaces ignored) into out; returns the count. */
size_t tu_hex(const char *hex, uint8_t *out, size_t cap);

#endif
