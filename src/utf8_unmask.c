/* Unmasking and UTF-8 validation in one pass, for masked text frames: the
 * vector kernels unmask each vector, store it back and validate it while it
 * is in a register; the bytes they leave (a short tail, everything after an
 * error) are unmasked by ws6455_mask and validated by the DFA. */
#include "utf8_impl.h"

int ws6455__utf8_unmask_update_variant(ws6455_utf8 *v, uint8_t *p, size_t n,
                                       const uint8_t key[4], uint64_t offset, size_t *fail_at,
                                       int variant)
{
    size_t i = 0, done = 0;
    if (!ws6455__utf8_variant_available(variant))
        variant = WS6455__UTF8_SCALAR_ONLY;
    if (n >= 16 && ws6455_utf8_finish(v) == WS6455_OK) { /* at a character boundary */
        uint8_t k4[4];
        for (unsigned j = 0; j < 4; j++)
            k4[j] = key[(offset + j) & 3u];
        switch (variant) {
#ifdef WS6455__UTF8_X86
        case WS6455__UTF8_SSSE3:
            i = ws6455__utf8_unmask_skip_ssse3(p, n, k4, &done);
            break;
        case WS6455__UTF8_AVX2:
            i = ws6455__utf8_unmask_skip_avx2(p, n, k4, &done);
            break;
#endif
#ifdef WS6455__UTF8_NEON
        case WS6455__UTF8_NEON_LOOKUP:
            i = ws6455__utf8_unmask_skip_neon(p, n, k4, &done);
            break;
#endif
        default: /* two passes */
            (void)k4;
            break;
        }
    }
    ws6455_mask(p + done, p + done, n - done, key, offset + done);
    return ws6455__utf8_run(v, p, i, n, fail_at, variant);
}

int ws6455__utf8_unmask_update(ws6455_utf8 *v, uint8_t *p, size_t n, const uint8_t key[4],
                               uint64_t offset, size_t *fail_at)
{
    return ws6455__utf8_unmask_update_variant(v, p, n, key, offset, fail_at,
                                              ws6455__utf8_best_variant());
}
