/* Unmasking and UTF-8 validation in one pass over a masked text payload.
 *
 * The payload is taken a few KiB at a time: each piece is unmasked (in place,
 * or into the reassembly buffer) by a vector loop, then validated (the
 * validator continues across pieces exactly as across calls of
 * ws6455_utf8_update), so the second look at the bytes finds them in the L1
 * cache. A kernel that unmasks and validates in
 * registers was tried first: it needs the bytes before each vector from
 * registers (shuffles, more live vectors than there are registers) and
 * executed more instructions than this (callgrind, 64 KiB of mixed text,
 * AVX2: 1.02 instructions per byte).
 */
#include "utf8_impl.h"

#include <stdint.h>

/* Small enough to stay in L1 between the two looks, large enough that the
 * per-piece costs (a kernel's entry, a character cut at the piece's end)
 * do not show. */
#define PIECE 8192

/* Unmasks src[0..n) into dst with the mask offset by `offset` bytes. */
static void unmask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4],
                   uint64_t offset, int variant)
{
    size_t done = 0;
    uint8_t k4[4];
    for (unsigned j = 0; j < 4; j++)
        k4[j] = key[(offset + j) & 3u];
    switch (variant) {
#ifdef WS6455__UTF8_X86
    case WS6455__UTF8_SSE2:
    case WS6455__UTF8_SSSE3:
        done = ws6455__utf8_unmask_sse2(dst, src, n, k4);
        break;
    case WS6455__UTF8_AVX2:
        done = ws6455__utf8_unmask_avx2(dst, src, n, k4);
        break;
#endif
#ifdef WS6455__UTF8_NEON
    case WS6455__UTF8_NEON_LOOKUP:
        done = ws6455__utf8_unmask_neon(dst, src, n, k4);
        break;
#endif
    default:
        break;
    }
    (void)k4; /* a build with no vector kernel */
    /* done is a multiple of 4: the key lines up again. */
    ws6455_mask(dst + done, src + done, n - done, key, offset + done);
}

int ws6455__utf8_unmask_update_variant(ws6455_utf8 *v, uint8_t *dst, const uint8_t *src, size_t n,
                                       const uint8_t key[4], uint64_t offset, size_t *fail_at,
                                       int variant)
{
    if (!ws6455__utf8_variant_available(variant))
        variant = WS6455__UTF8_SCALAR_ONLY;
    if (n < 64) { /* one short pass each: the vector loops would not run */
        ws6455_mask(dst, src, n, key, offset);
        return ws6455__utf8_update_variant(v, dst, n, fail_at, variant);
    }
    size_t done = 0;
    do {
        size_t end = n - done <= PIECE + PIECE / 2 ? n : done + PIECE;
        unmask(dst + done, src + done, end - done, key, offset + done, variant);
        int rc = ws6455__utf8_run(v, dst, done, end, fail_at, variant);
        if (rc != WS6455_OK) {
            unmask(dst + end, src + end, n - end, key, offset + end, variant);
            return rc;
        }
        done = end;
    } while (done < n);
    return WS6455_OK;
}

int ws6455__utf8_unmask_update(ws6455_utf8 *v, uint8_t *dst, const uint8_t *src, size_t n,
                               const uint8_t key[4], uint64_t offset, size_t *fail_at)
{
    return ws6455__utf8_unmask_update_variant(v, dst, src, n, key, offset, fail_at,
                                              ws6455__utf8_best_variant());
}
