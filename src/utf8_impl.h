/* Internal: the UTF-8 validator's variants (src/utf8.c is the public face).
 *
 * Every variant gives exactly the answers of the DFA in src/utf8.c: they only
 * differ in how they skip input that is valid. A variant's skip function is
 * called at a character boundary i and returns a character boundary j >= i
 * such that p[i..j) is valid, complete UTF-8; the DFA does everything else
 * (the exact failing byte, characters split across calls). A skip function
 * may return i at any time: that costs speed, never correctness.
 *
 * The variant a call uses is chosen per call (ws6455__utf8_best_variant),
 * from what the CPU supports; tests and benches force each one in turn. */
#ifndef WS6455_UTF8_IMPL_H
#define WS6455_UTF8_IMPL_H

#include "ws6455.h"

#if !defined(WS6455_UTF8_SCALAR) && (defined(__x86_64__) || defined(__i386__)) &&                  \
    (defined(__GNUC__) || defined(__clang__))
/* The kernels are compiled with target attributes and used only when the
 * CPU has the instructions (SSE2 always does on x86-64), so the library
 * needs no -m flags. */
#define WS6455__UTF8_X86 1
#endif
#if !defined(WS6455_UTF8_SCALAR) && defined(__aarch64__) && defined(__ARM_NEON)
/* Advanced SIMD is part of AArch64. */
#define WS6455__UTF8_NEON 1
#endif

enum {
    WS6455__UTF8_SCALAR_ONLY, /* the DFA and 8-byte ASCII words: every machine */
    WS6455__UTF8_SSE2,        /* range checks on 16-byte blocks (x86 with SSE2) */
    WS6455__UTF8_SSSE3,       /* nibble lookups on 16-byte blocks (x86 with SSSE3) */
    WS6455__UTF8_AVX2,        /* nibble lookups on 32-byte blocks (x86 with AVX2) */
    WS6455__UTF8_NEON_LOOKUP, /* nibble lookups on 16-byte blocks (AArch64) */
    WS6455__UTF8_VARIANTS     /* how many there are */
};

/* "scalar", "sse2", "ssse3", "avx2", "neon"; NULL for an unknown number. */
const char *ws6455__utf8_variant_name(int variant);
/* 1 when the variant is compiled in and this CPU can run it. */
int ws6455__utf8_variant_available(int variant);
/* The fastest available variant: what ws6455_utf8_update uses. */
int ws6455__utf8_best_variant(void);

/* ws6455_utf8_update through the given variant (an unavailable one is
 * replaced by the scalar code). Same contract as the public function. */
int ws6455__utf8_update_variant(ws6455_utf8 *v, const uint8_t *p, size_t n, size_t *fail_at,
                                int variant);

/* The validator proper (src/utf8.c): continues the text in v with p[i..n)
 * (the state in v is the state at p + i) through the given variant; a
 * failure is reported at its offset from p. */
int ws6455__utf8_run(ws6455_utf8 *v, const uint8_t *p, size_t i, size_t n, size_t *fail_at,
                     int variant);

/* Unmasks src[0..n) into dst, exactly as ws6455_mask(dst, src, n, key,
 * offset), and validates the unmasked bytes, exactly as
 * ws6455_utf8_update(v, dst, n, fail_at), in one pass over the data: a few
 * KiB at a time, each unmasked and then validated while it is in the L1
 * cache (src/utf8_unmask.c). dst == src unmasks in place; otherwise the two
 * must not overlap (the receive path gathers a message's pieces this way,
 * with no copy after). All n bytes are unmasked whatever the verdict. */
int ws6455__utf8_unmask_update(ws6455_utf8 *v, uint8_t *dst, const uint8_t *src, size_t n,
                               const uint8_t key[4], uint64_t offset, size_t *fail_at);
int ws6455__utf8_unmask_update_variant(ws6455_utf8 *v, uint8_t *dst, const uint8_t *src, size_t n,
                                       const uint8_t key[4], uint64_t offset, size_t *fail_at,
                                       int variant);

/* ---- the vector kernels (src/utf8_x86.c, src/utf8_neon.c) ------------------ */

/* Skip functions: from character boundary i, return a character boundary j
 * with p[i..j) valid (see above). They read nothing outside p[0..n). */
size_t ws6455__utf8_skip_sse2(const uint8_t *p, size_t i, size_t n);
size_t ws6455__utf8_skip_ssse3(const uint8_t *p, size_t i, size_t n);
size_t ws6455__utf8_skip_avx2(const uint8_t *p, size_t i, size_t n);
size_t ws6455__utf8_skip_neon(const uint8_t *p, size_t i, size_t n);

/* dst[i] = src[i] ^ key4[i % 4], 64 bytes at a time (each block loaded
 * whole before it is stored, so dst == src works); return how many bytes
 * they did (n rounded down to a multiple of 64). */
size_t ws6455__utf8_unmask_sse2(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key4[4]);
size_t ws6455__utf8_unmask_avx2(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key4[4]);
size_t ws6455__utf8_unmask_neon(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key4[4]);

#endif
