/* Internal: masking helpers for the engine's fast paths, inline so that a
 * small frame is unmasked in registers. ws6455_mask() (frame.c) is the
 * general, any-length version. */
#ifndef WS6455_MASK_H
#define WS6455_MASK_H

#include <stdint.h>
#include <string.h>

/* Size over speed: at -Os (gcc and clang define __OPTIMIZE_SIZE__) the
 * paths that only exist for speed and repeat what the general code does —
 * the fused small-frame loops of recv.c and send.c, word-at-a-time
 * masking, unmasking and validating text in one pass — are left out: on a
 * microcontroller the flash is worth more than their gain. Tested both
 * ways: the differential tests compare them with the general path, and the
 * build-switch tests run the general path alone at -Os. */
#if defined(__OPTIMIZE_SIZE__)
#define WS6455__FAST_PATHS 0
#else
#define WS6455__FAST_PATHS 1
#endif

/* Folded to a constant by the compiler: no byte-order macro needed. */
static inline int ws6455__little_endian(void)
{
    const uint32_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* The 64-bit word whose byte j (in memory order) is key[(shift + j) % 4].
 * Both 32-bit halves of the base word are the key in memory order whatever
 * the byte order; moving memory byte j+s to j is a right rotation on a
 * little-endian host and a left one on a big-endian host. */
static inline uint64_t ws6455__key_word(const uint8_t key[4], unsigned shift)
{
    uint32_t k32;
    memcpy(&k32, key, 4);
    uint64_t w = (uint64_t)k32 << 32 | k32;
    unsigned r = 8u * (shift & 3u);
    /* (64 - r) & 63: a rotation by 0 stays defined and is w | w. */
    return ws6455__little_endian() ? (w >> r) | (w << ((64u - r) & 63u))
                                   : (w << r) | (w >> ((64u - r) & 63u));
}

static inline uint64_t ws6455__load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline void ws6455__store64(uint8_t *p, uint64_t w)
{
    memcpy(p, &w, 8);
}

/* Unmasks p[0..n) in place for a frame whose payload starts at mask offset
 * 0, never touching a byte outside it, and returns the OR of the unmasked
 * bytes' high bits (0: all ASCII). Short payloads take two overlapping
 * words: both are loaded before either is stored, so the bytes they share
 * are written twice with the same, correct value. */
static inline uint64_t ws6455__unmask_small(uint8_t *p, size_t n, const uint8_t key[4])
{
    const uint64_t high = UINT64_C(0x8080808080808080);
    uint64_t kw = ws6455__key_word(key, 0);
    if (n >= 8) {
        uint64_t last = ws6455__load64(p + n - 8) ^ ws6455__key_word(key, (unsigned)n);
        uint64_t acc = last;
        if (n > 8) { /* the first word, then any between; the last covers the rest */
            uint64_t w = ws6455__load64(p) ^ kw;
            acc |= w;
            ws6455__store64(p, w);
            for (size_t i = 8; i + 8 < n; i += 8) {
                w = ws6455__load64(p + i) ^ kw;
                acc |= w;
                ws6455__store64(p + i, w);
            }
        }
        ws6455__store64(p + n - 8, last);
        return acc & high;
    }
    if (n >= 4) {
        /* A key word repeats every 4 bytes, so either 32-bit half of it is
         * the 4-byte mask at its phase, whatever the byte order. */
        uint32_t a, b, k0 = (uint32_t)kw;
        uint32_t k1 = (uint32_t)ws6455__key_word(key, (unsigned)n);
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        a ^= k0;
        b ^= k1;
        memcpy(p + n - 4, &b, 4);
        memcpy(p, &a, 4);
        return (uint64_t)((a | b) & 0x80808080u);
    }
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] ^= key[i];
        acc |= p[i];
    }
    return acc & 0x80u;
}

/* Copies n <= 125 bytes with word moves (no call for a short payload). */
static inline void ws6455__copy_small(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= 8) {
        uint64_t last = ws6455__load64(src + n - 8);
        for (size_t i = 0; i + 8 < n; i += 8)
            ws6455__store64(dst + i, ws6455__load64(src + i));
        ws6455__store64(dst + n - 8, last);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

/* Copies n <= 125 bytes like ws6455__copy_small and returns the OR of
 * their high bits (0: all ASCII), in the same pass. */
static inline uint64_t ws6455__copy_small_high(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= 8) {
        uint64_t last = ws6455__load64(src + n - 8), acc = last;
        for (size_t i = 0; i + 8 < n; i += 8) {
            uint64_t w = ws6455__load64(src + i);
            acc |= w;
            ws6455__store64(dst + i, w);
        }
        ws6455__store64(dst + n - 8, last);
        return acc & UINT64_C(0x8080808080808080);
    }
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= dst[i] = src[i];
    return acc & 0x80u;
}

/* The OR of p[0..n)'s high bits, n <= 125 (0: all ASCII). */
static inline uint64_t ws6455__high_bits_small(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        acc |= ws6455__load64(p + i);
    for (; i < n; i++)
        acc |= p[i];
    return acc & UINT64_C(0x8080808080808080);
}

#endif
