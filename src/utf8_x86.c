/* UTF-8 validation on x86: the vector kernels behind src/utf8.c.
 *
 *  - SSE2 (every x86-64): range checks on 16-byte blocks, for CPUs without
 *    SSSE3.
 *  - SSSE3 and AVX2: the nibble-lookup check of src/utf8_kernel.h on 16- and
 *    32-byte vectors.
 * All are compiled with target attributes, so the library needs no -m flags
 * and runs on baseline x86-64 (and i386); src/utf8.c calls each only when
 * the CPU has its instructions.
 */
#include "utf8_impl.h"

#ifdef WS6455__UTF8_X86

#include <immintrin.h>
#include <string.h>

/* ---- SSE2: range checks ---------------------------------------------------- */

#define SSE2_ATTR __attribute__((target("sse2")))

SSE2_ATTR static __m128i load128(const uint8_t *p)
{
    __m128i v;
    memcpy(&v, p, sizeof v);
    return v;
}

#define SPLAT(b) _mm_set1_epi8((char)(b))

/* Nonzero lanes where the 16 bytes x break UTF-8, given a, b and c: for each
 * lane, the byte 1, 2 and 3 positions before it. Each lane is checked for
 * what its own byte must be; together the lanes of consecutive blocks check
 * every rule of Table 3-7, because a sequence is at most 4 bytes long. */
SSE2_ATTR static inline __m128i sse2_errors(__m128i x, __m128i a, __m128i b, __m128i c)
{
    /* A byte must be a continuation exactly when a lead 1, 2 or 3 bytes
     * earlier still needs one: a >= C0, b >= E0, c >= F0. Saturating
     * subtraction turns each test into "nonzero". */
    __m128i need =
        _mm_or_si128(_mm_subs_epu8(a, SPLAT(0xBF)),
                     _mm_or_si128(_mm_subs_epu8(b, SPLAT(0xDF)), _mm_subs_epu8(c, SPLAT(0xEF))));
    need = _mm_cmpgt_epi8(need, _mm_setzero_si128()); /* every value is <= 0x7F */
    /* 80..BF are the signed bytes below (int8_t)0xC0; ASCII is non-negative. */
    __m128i cont = _mm_cmplt_epi8(x, SPLAT(0xC0));
    __m128i err = _mm_xor_si128(need, cont);

    /* Bytes that never occur: C0, C1 and F5..FF. */
    err = _mm_or_si128(err, _mm_subs_epu8(x, SPLAT(0xF4)));
    err = _mm_or_si128(err, _mm_cmpeq_epi8(_mm_and_si128(x, SPLAT(0xFE)), SPLAT(0xC0)));

    /* The four leads whose second byte has a narrower range. x is known to
     * be a continuation here (else `need ^ cont` flagged it), so signed
     * comparisons against 80..BF thresholds are exact. */
    __m128i e0 = _mm_and_si128(_mm_cmpeq_epi8(a, SPLAT(0xE0)), _mm_cmplt_epi8(x, SPLAT(0xA0)));
    __m128i ed = _mm_and_si128(_mm_cmpeq_epi8(a, SPLAT(0xED)), _mm_cmpgt_epi8(x, SPLAT(0x9F)));
    __m128i f0 = _mm_and_si128(_mm_cmpeq_epi8(a, SPLAT(0xF0)), _mm_cmplt_epi8(x, SPLAT(0x90)));
    __m128i f4 = _mm_and_si128(_mm_cmpeq_epi8(a, SPLAT(0xF4)), _mm_cmpgt_epi8(x, SPLAT(0x8F)));
    return _mm_or_si128(_mm_or_si128(err, e0), _mm_or_si128(_mm_or_si128(ed, f0), f4));
}

/* The block at q, whose three preceding bytes q[-3], q[-2], q[-1] are readable. */
SSE2_ATTR static inline __m128i sse2_errors_at(const uint8_t *q)
{
    return sse2_errors(load128(q), load128(q - 1), load128(q - 2), load128(q - 3));
}

SSE2_ATTR static int sse2_any(__m128i v)
{
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) != 0xFFFF;
}

SSE2_ATTR static int sse2_any_high(__m128i v)
{
    return _mm_movemask_epi8(v) != 0;
}

SSE2_ATTR size_t ws6455__utf8_skip_sse2(const uint8_t *p, size_t i, size_t n)
{
    if (n - i < 16)
        return i;
    /* The first block: the bytes before a character boundary cannot ask for
     * continuations, so shifting in zeros (ASCII) as context is exact and
     * needs nothing before p + i, which may be the start of the input. */
    __m128i x = load128(p + i);
    if (sse2_any_high(x) &&
        sse2_any(sse2_errors(x, _mm_slli_si128(x, 1), _mm_slli_si128(x, 2), _mm_slli_si128(x, 3))))
        return i;
    i += 16;

    /* From here on p[i-3..i) is inside the input. */
    while (n - i >= 64) {
        const uint8_t *q = p + i;
        __m128i ascii = _mm_or_si128(
            _mm_or_si128(load128(q - 3), load128(q)),
            _mm_or_si128(load128(q + 16), _mm_or_si128(load128(q + 32), load128(q + 48))));
        if (sse2_any_high(ascii)) {
            /* One test per 64 bytes; on an error the loop below finds the
             * block it is in. */
            __m128i err =
                _mm_or_si128(_mm_or_si128(sse2_errors_at(q), sse2_errors_at(q + 16)),
                             _mm_or_si128(sse2_errors_at(q + 32), sse2_errors_at(q + 48)));
            if (sse2_any(err))
                break;
        }
        i += 64;
    }
    while (n - i >= 16 && !sse2_any(sse2_errors_at(p + i)))
        i += 16;

    /* p[0..i) passed; i >= 16 here. A lead byte among the last three whose
     * sequence reaches i or beyond starts an unfinished character. */
    if (p[i - 1] >= 0xC0)
        return i - 1;
    if (p[i - 2] >= 0xE0)
        return i - 2;
    if (p[i - 3] >= 0xF0)
        return i - 3;
    return i;
}

/* XORs src[0..n) into dst with key4[0..4) repeated, 64 bytes at a time;
 * returns how many bytes it did (a multiple of 64). For the fused unmask
 * and validate. */
SSE2_ATTR size_t ws6455__utf8_unmask_sse2(uint8_t *dst, const uint8_t *src, size_t n,
                                          const uint8_t key4[4])
{
    uint32_t kw;
    memcpy(&kw, key4, 4);
    const __m128i key = _mm_set1_epi32((int)kw);
    size_t i = 0;
    for (; n - i >= 64; i += 64) {
        __m128i a = _mm_xor_si128(load128(src + i), key);
        __m128i b = _mm_xor_si128(load128(src + i + 16), key);
        __m128i c = _mm_xor_si128(load128(src + i + 32), key);
        __m128i d = _mm_xor_si128(load128(src + i + 48), key);
        _mm_storeu_si128((__m128i *)(void *)(dst + i), a);
        _mm_storeu_si128((__m128i *)(void *)(dst + i + 16), b);
        _mm_storeu_si128((__m128i *)(void *)(dst + i + 32), c);
        _mm_storeu_si128((__m128i *)(void *)(dst + i + 48), d);
    }
    return i;
}

/* ---- SSSE3: nibble lookups on 16 bytes ------------------------------------ */

#define V __m128i
#define VBYTES 16
#define K_ATTR __attribute__((target("ssse3")))
#define K(name) ssse3_##name
#define K_SMALLER(p, i, n) (i)
#define v_load(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define v_zero() _mm_setzero_si128()
#define v_splat(b) _mm_set1_epi8((char)(b))
#define v_table(t) v_load(t)
#define v_lookup(t, i) _mm_shuffle_epi8((t), (i))
#define v_hi(x) _mm_and_si128(_mm_srli_epi16((x), 4), v_splat(0x0F))
#define v_lo(x) _mm_and_si128((x), v_splat(0x0F))
#define v_and _mm_and_si128
#define v_or _mm_or_si128
#define v_xor _mm_xor_si128
#define v_subs(x, y) _mm_subs_epu8((x), (y))
#define v_prev(x, prev, k) _mm_alignr_epi8((x), (prev), 16 - (k))
#define v_any(x) (_mm_movemask_epi8(_mm_cmpeq_epi8((x), v_zero())) != 0xFFFF)
#define v_any_high(x) (_mm_movemask_epi8(x) != 0)

#include "utf8_kernel.h"

#undef V
#undef VBYTES
#undef K_ATTR
#undef K
#undef K_SMALLER
#undef v_load
#undef v_zero
#undef v_splat
#undef v_table
#undef v_lookup
#undef v_hi
#undef v_lo
#undef v_and
#undef v_or
#undef v_xor
#undef v_subs
#undef v_prev
#undef v_any
#undef v_any_high

size_t ws6455__utf8_skip_ssse3(const uint8_t *p, size_t i, size_t n)
{
    return ssse3_skip(p, i, n);
}

/* ---- AVX2: nibble lookups on 32 bytes -------------------------------------- */

#define V __m256i
#define VBYTES 32
#define K_ATTR __attribute__((target("avx2")))
#define K(name) avx2_##name
#define K_SMALLER(p, i, n) ssse3_skip((p), (i), (n)) /* 16..31 bytes */
#define v_load(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define v_zero() _mm256_setzero_si256()
#define v_splat(b) _mm256_set1_epi8((char)(b))
#define v_table(t) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(t)))
#define v_lookup(t, i) _mm256_shuffle_epi8((t), (i))
#define v_hi(x) _mm256_and_si256(_mm256_srli_epi16((x), 4), v_splat(0x0F))
#define v_lo(x) _mm256_and_si256((x), v_splat(0x0F))
#define v_and _mm256_and_si256
#define v_or _mm256_or_si256
#define v_xor _mm256_xor_si256
#define v_subs(x, y) _mm256_subs_epu8((x), (y))
/* alignr works within 128-bit lanes: first line up [prev's high lane, x's
 * low lane] so that each lane of x has the 16 bytes before it beside it. */
#define v_prev(x, prev, k)                                                                         \
    _mm256_alignr_epi8((x), _mm256_permute2x128_si256((prev), (x), 0x21), 16 - (k))
#define v_any(x) (!_mm256_testz_si256((x), (x)))
#define v_any_high(x) (!_mm256_testz_si256((x), v_splat(0x80)))

#include "utf8_kernel.h"

size_t ws6455__utf8_skip_avx2(const uint8_t *p, size_t i, size_t n)
{
    return avx2_skip(p, i, n);
}

__attribute__((target("avx2"))) size_t ws6455__utf8_unmask_avx2(uint8_t *dst, const uint8_t *src,
                                                                size_t n, const uint8_t key4[4])
{
    uint32_t kw;
    memcpy(&kw, key4, 4);
    const __m256i key = _mm256_set1_epi32((int)kw);
    size_t i = 0;
    for (; n - i >= 64; i += 64) {
        __m256i a = _mm256_xor_si256(v_load(src + i), key);
        __m256i b = _mm256_xor_si256(v_load(src + i + 32), key);
        _mm256_storeu_si256((__m256i *)(void *)(dst + i), a);
        _mm256_storeu_si256((__m256i *)(void *)(dst + i + 32), b);
    }
    return i;
}

#else

/* Not x86 (or WS6455_UTF8_SCALAR): nothing here; ISO C wants a declaration. */
typedef int ws6455__utf8_x86_unused;

#endif
