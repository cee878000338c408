/* UTF-8 validation on AArch64: the nibble-lookup check of src/utf8_kernel.h
 * on 16-byte Advanced SIMD vectors, which every AArch64 CPU has. */
#include "utf8_impl.h"

#ifdef WS6455__UTF8_NEON

#include <arm_neon.h>

#define V uint8x16_t
#define VBYTES 16
#define K_ATTR
#define K(name) neon_##name
#define K_SMALLER(p, i, n) (i)
#define v_load(p) vld1q_u8(p)
#define v_zero() vdupq_n_u8(0)
#define v_splat(b) vdupq_n_u8(b)
#define v_table(t) vld1q_u8(t)
#define v_lookup(t, i) vqtbl1q_u8((t), (i))
#define v_hi(x) vshrq_n_u8((x), 4)
#define v_lo(x) vandq_u8((x), v_splat(0x0F))
#define v_and vandq_u8
#define v_or vorrq_u8
#define v_xor veorq_u8
#define v_subs(x, y) vqsubq_u8((x), (y))
#define v_prev(x, prev, k) vextq_u8((prev), (x), 16 - (k))
#define v_any(x) (vmaxvq_u8(x) != 0)
#define v_any_high(x) (vmaxvq_u8(x) >= 0x80)

#include "utf8_kernel.h"

size_t ws6455__utf8_skip_neon(const uint8_t *p, size_t i, size_t n)
{
    return neon_skip(p, i, n);
}

size_t ws6455__utf8_unmask_neon(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key4[4])
{
    uint8_t k16[16];
    for (int k = 0; k < 16; k++)
        k16[k] = key4[k & 3];
    const uint8x16_t key = vld1q_u8(k16); /* memory order, whatever the byte order */
    size_t i = 0;
    for (; n - i >= 64; i += 64) {
        uint8x16_t a = veorq_u8(vld1q_u8(src + i), key), b = veorq_u8(vld1q_u8(src + i + 16), key);
        uint8x16_t c = veorq_u8(vld1q_u8(src + i + 32), key);
        uint8x16_t d = veorq_u8(vld1q_u8(src + i + 48), key);
        vst1q_u8(dst + i, a);
        vst1q_u8(dst + i + 16, b);
        vst1q_u8(dst + i + 32, c);
        vst1q_u8(dst + i + 48, d);
    }
    return i;
}

#else

/* Not AArch64 (or WS6455_UTF8_SCALAR): nothing here; ISO C wants a declaration. */
typedef int ws6455__utf8_neon_unused;

#endif
