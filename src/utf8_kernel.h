/* Internal: the nibble-lookup UTF-8 check of Keiser and Lemire ("Validating
 * UTF-8 in less than one instruction per byte", 2021), written once for any
 * vector width. src/utf8_x86.c (SSSE3, AVX2) and src/utf8_neon.c include
 * this file once per instruction set, after defining:
 *
 *   V               the vector type; VBYTES its width in bytes (16 or 32)
 *   K_ATTR          attributes of every function (the target instruction set)
 *   K(name)         the name of a function of this instantiation
 *   K_SMALLER(p, i, n)  a skip for n - i < VBYTES (a narrower kernel, or i)
 *   v_load(p), v_zero(), v_splat(b)
 *                   an unaligned load; constants
 *   v_table(t)      the 16 bytes t[] in every 16-byte lane
 *   v_lookup(t, i)  per byte: t[i] (0 <= i < 16) within its 16-byte lane
 *   v_hi(x), v_lo(x)  per byte: high nibble, low nibble
 *   v_and, v_or, v_xor, v_subs (saturating unsigned subtraction)
 *   v_prev(x, prev, k)  the bytes k positions before those of x (1 <= k <= 3),
 *                   when prev is the vector just before x (only used with
 *                   prev = v_zero(): loads from memory are cheaper)
 *   v_any(x)        some byte is nonzero; v_any_high(x): some byte >= 0x80
 *
 * How the check works. Each byte is checked against the (up to) three bytes
 * before it, so consecutive vectors together check every rule of Unicode
 * Table 3-7 (a sequence is at most 4 bytes long):
 *  - The pair (previous byte, this byte) decides every rule that involves
 *    two adjacent bytes. Each kind of bad pair is a product of three sets:
 *    {high nibbles of the previous byte} x {its low nibbles} x {high nibbles
 *    of this byte}. Giving each kind a bit, three 16-entry tables hold, for
 *    each nibble value, the kinds it can be part of; ANDing the three
 *    lookups leaves exactly the kinds the pair is an instance of.
 *  - One kind, "continuation after continuation", is not an error by itself:
 *    it is required exactly when the byte two before is a 3- or 4-byte lead
 *    or the byte three before a 4-byte lead (the 3rd and 4th bytes of a
 *    sequence). Its bit is 0x80, and the check XORs it with that condition.
 * Any bit left set is an error at (or shortly after) the byte of its lane;
 * the callers hand over to the DFA, which finds the exact failing byte.
 */

#ifndef WS6455_UTF8_KERNEL_TABLES
#define WS6455_UTF8_KERNEL_TABLES

#include <stddef.h>
#include <stdint.h>

/* The kinds of bad (or, for CONT2, conditional) adjacent pairs. */
enum {
    K_TOO_SHORT = 0x01,  /* lead C0..FF, then no continuation */
    K_TOO_LONG = 0x02,   /* ASCII, then a continuation */
    K_OVERLONG3 = 0x04,  /* E0, then 80..9F */
    K_SURROGATE = 0x08,  /* ED, then A0..BF */
    K_OVERLONG2 = 0x10,  /* C0 or C1, then a continuation */
    K_TOO_LARGE = 0x20,  /* F4..FF, then 90..BF */
    K_OVER4_F5 = 0x40,   /* F0 (overlong) or F5..FF (too large), then 80..8F */
    K_CONT2 = 0x80       /* a continuation, then a continuation */
};

/* Kinds by the high nibble of the previous byte. */
static const uint8_t k_prev_high[16] = {
    K_TOO_LONG, K_TOO_LONG, K_TOO_LONG, K_TOO_LONG, /* 0x: ASCII */
    K_TOO_LONG, K_TOO_LONG, K_TOO_LONG, K_TOO_LONG, /* 4x..7x */
    K_CONT2,    K_CONT2,    K_CONT2,    K_CONT2,    /* 8x..Bx: continuations */
    K_TOO_SHORT | K_OVERLONG2,                      /* Cx */
    K_TOO_SHORT,                                    /* Dx */
    K_TOO_SHORT | K_OVERLONG3 | K_SURROGATE,        /* Ex */
    K_TOO_SHORT | K_TOO_LARGE | K_OVER4_F5,         /* Fx */
};

/* Kinds by the low nibble of the previous byte. The kinds that hold for any
 * low nibble are in every entry. */
#define K_ANY_LOW (K_TOO_SHORT | K_TOO_LONG | K_CONT2)
static const uint8_t k_prev_low[16] = {
    K_ANY_LOW | K_OVERLONG3 | K_OVERLONG2 | K_OVER4_F5, /* x0: E0, C0, F0 */
    K_ANY_LOW | K_OVERLONG2,                            /* x1: C1 */
    K_ANY_LOW,
    K_ANY_LOW,
    K_ANY_LOW | K_TOO_LARGE,                            /* x4: F4 */
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,               /* x5..xF: F5..FF */
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5 | K_SURROGATE, /* xD: also ED */
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
    K_ANY_LOW | K_TOO_LARGE | K_OVER4_F5,
};

/* Kinds by the high nibble of this byte. */
#define K_ANY_CONT (K_TOO_LONG | K_OVERLONG2 | K_CONT2)
static const uint8_t k_this_high[16] = {
    K_TOO_SHORT, K_TOO_SHORT, K_TOO_SHORT, K_TOO_SHORT, /* 0x..3x */
    K_TOO_SHORT, K_TOO_SHORT, K_TOO_SHORT, K_TOO_SHORT, /* 4x..7x */
    K_ANY_CONT | K_OVERLONG3 | K_OVER4_F5,              /* 8x */
    K_ANY_CONT | K_OVERLONG3 | K_TOO_LARGE,             /* 9x */
    K_ANY_CONT | K_SURROGATE | K_TOO_LARGE,             /* Ax */
    K_ANY_CONT | K_SURROGATE | K_TOO_LARGE,             /* Bx */
    K_TOO_SHORT, K_TOO_SHORT, K_TOO_SHORT, K_TOO_SHORT, /* Cx..Fx: leads */
};

/* Backs a checked boundary i (p[i-3..i) checked) up to the lead of a
 * character that the bytes before i start but do not finish. */
static inline size_t k_backup(const uint8_t *p, size_t i)
{
    if (p[i - 1] >= 0xC0)
        return i - 1;
    if (p[i - 2] >= 0xE0)
        return i - 2;
    if (p[i - 3] >= 0xF0)
        return i - 3;
    return i;
}

#endif

/* ---- one instantiation -------------------------------------------------- */

/* Nonzero bytes where x, whose preceding bytes are p1, p2, p3 (one, two
 * and three positions before), breaks a rule. */
K_ATTR static inline V K(errors)(V x, V p1, V p2, V p3)
{
    V pair = v_and(v_and(v_lookup(v_table(k_prev_high), v_hi(p1)),
                         v_lookup(v_table(k_prev_low), v_lo(p1))),
                   v_lookup(v_table(k_this_high), v_hi(x)));
    /* Bit 7 of a saturating p2 - 0x60 is set exactly for p2 >= E0; of
     * p3 - 0x70, for p3 >= F0. */
    V third_or_fourth =
        v_and(v_or(v_subs(p2, v_splat(0x60)), v_subs(p3, v_splat(0x70))), v_splat(0x80));
    return v_xor(pair, third_or_fourth);
}

/* The vector at q, whose three preceding bytes are readable input. */
K_ATTR static inline V K(errors_at)(const uint8_t *q)
{
    return K(errors)(v_load(q), v_load(q - 1), v_load(q - 2), v_load(q - 3));
}

/* The OR of the 64 bytes at q, and the OR of their errors_at: written out
 * because compilers do not always unroll the loop. */
#if VBYTES == 16
#define K_OVER_64(f, q) v_or(v_or(f(q), f((q) + 16)), v_or(f((q) + 32), f((q) + 48)))
#else
#define K_OVER_64(f, q) v_or(f(q), f((q) + 32))
#endif

K_ATTR static inline V K(or64)(const uint8_t *q)
{
    return K_OVER_64(v_load, q);
}

K_ATTR static inline V K(errors64)(const uint8_t *q)
{
#if VBYTES == 16
    /* A loop: unrolled, the four checks compete for the 16 registers. */
    V err = K(errors_at)(q);
    for (size_t k = 16; k < 64; k += 16)
        err = v_or(err, K(errors_at)(q + k));
    return err;
#else
    return K_OVER_64(K(errors_at), q);
#endif
}

#undef K_OVER_64

/* The vector x right after a character boundary: nothing before it can ask
 * for a continuation, so ASCII (zeros) is an exact stand-in for the bytes
 * before, which may not be readable. */
K_ATTR static inline V K(errors_first)(V x)
{
    return K(errors)(x, v_prev(x, v_zero(), 1), v_prev(x, v_zero(), 2), v_prev(x, v_zero(), 3));
}

/* See ws6455__utf8_skip_* in utf8_impl.h. */
K_ATTR static size_t K(skip)(const uint8_t *p, size_t i, size_t n)
{
    if (n - i < VBYTES)
        return K_SMALLER(p, i, n);
    V x = v_load(p + i);
    if (v_any_high(x) && v_any(K(errors_first)(x)))
        return i;
    i += VBYTES;

    /* From here on p[i-3..i) is checked input. 64 bytes per round; ASCII
     * (with no sequence open before it) needs no lookups. */
    if (n - i >= 64) {
        const uint8_t *q = p + i, *last = p + n - 64;
        do {
            if (v_any_high(v_or(v_load(q - 3), K(or64)(q))) && v_any(K(errors64)(q)))
                break; /* the loop below finds the vector */
            q += 64;
        } while (q <= last);
        i = (size_t)(q - p);
    }
    while (n - i >= VBYTES) {
        if (v_any(K(errors_at)(p + i)))
            return k_backup(p, i);
        i += VBYTES;
    }
    /* Fewer than VBYTES left: check the last VBYTES bytes of the input,
     * overlapping bytes already found valid (checking them again is
     * harmless), when the 3 bytes before them are input too. */
    if (i < n && n >= VBYTES + 3 && !v_any(K(errors_at)(p + n - VBYTES)))
        i = n;
    return k_backup(p, i);
}
