/* Internal: the nibble-lookup UTF-8 check of Keiser and Lemire ("Validating
 * UTF-8 in less than one instruction per byte", 2021), written once for any
 * vector width. src/utf8_x86.c (SSSE3, AVX2) and src/utf8_neon.c include
 * this file once per instruction set, after defining:
 *
 *   V               the vector type; VBYTES its width in bytes (16 or 32)
 *   K_ATTR          attributes of every function (the target instruction set)
 *   K(name)         the name of a function of this instantiation
 *   K_SMALLER(p, i, n)  a skip for n - i < VBYTES (a narrower kernel, or i)
 *   v_load(p), v_store(p, x), v_zero(), v_splat(b), v_key(k4)
 *                   unaligned load and store; constants; k4[0..4) repeated
 *   v_table(t)      the 16 bytes t[] in every 16-byte lane
 *   v_lookup(t, i)  per byte: t[i] (0 <= i < 16) within its 16-byte lane
 *   v_hi(x), v_lo(x)  per byte: high nibble, low nibble
 *   v_and, v_or, v_xor, v_subs (saturating unsigned subtraction)
 *   v_prev(x, prev, k)  the bytes k positions before those of x (1 <= k <= 3),
 *                   when prev is the vector just before x
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
    while (n - i >= 64) {
        const uint8_t *q = p + i;
        V any = v_load(q - 3);
        for (size_t k = 0; k < 64; k += VBYTES)
            any = v_or(any, v_load(q + k));
        if (v_any_high(any)) {
            V err = K(errors_at)(q);
            for (size_t k = VBYTES; k < 64; k += VBYTES)
                err = v_or(err, K(errors_at)(q + k));
            if (v_any(err))
                break; /* the loop below finds the vector */
        }
        i += 64;
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

/* See ws6455__utf8_unmask_skip_* in utf8_impl.h. Like K(skip), but every
 * vector is unmasked and stored back first, so the bytes before a vector
 * come from registers (memory before it is already unmasked, memory after it
 * not yet). */
K_ATTR static size_t K(unmask_skip)(uint8_t *p, size_t n, const uint8_t key4[4], size_t *done)
{
    const V key = v_key(key4);
    V prev = v_zero(); /* p[0] is a character boundary: ASCII stands in */
    size_t i = 0;
    while (n - i >= 64) {
        V x[64 / VBYTES];
        V any = prev; /* conservatively: the 3 bytes before must be ASCII too */
        for (size_t k = 0; k < 64 / VBYTES; k++) {
            x[k] = v_xor(v_load(p + i + k * VBYTES), key);
            v_store(p + i + k * VBYTES, x[k]);
            any = v_or(any, x[k]);
        }
        if (v_any_high(any)) {
            V err = K(errors)(x[0], v_prev(x[0], prev, 1), v_prev(x[0], prev, 2),
                              v_prev(x[0], prev, 3));
            for (size_t k = 1; k < 64 / VBYTES; k++)
                err = v_or(err, K(errors)(x[k], v_prev(x[k], x[k - 1], 1),
                                          v_prev(x[k], x[k - 1], 2), v_prev(x[k], x[k - 1], 3)));
            if (v_any(err)) {
                *done = i + 64;
                return i ? k_backup(p, i) : 0;
            }
        }
        prev = x[64 / VBYTES - 1];
        i += 64;
    }
    while (n - i >= VBYTES) {
        V x = v_xor(v_load(p + i), key);
        v_store(p + i, x);
        V err = K(errors)(x, v_prev(x, prev, 1), v_prev(x, prev, 2), v_prev(x, prev, 3));
        if (v_any(err)) {
            *done = i + VBYTES;
            return i ? k_backup(p, i) : 0;
        }
        prev = x;
        i += VBYTES;
    }
    *done = i;
    return i ? k_backup(p, i) : 0;
}
