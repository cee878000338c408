/* Incremental, fail-fast UTF-8 validation (RFC 3629; Unicode Table 3-7).
 *
 * Three layers, all producing exactly the same answer:
 *  1. A shift-based DFA that is the reference for everything else: one
 *     uint64_t per byte value holds the next state for every current state,
 *     packed as 6-bit fields, so a step is one table load and one shift.
 *     Its states are exactly the "still completable" prefixes, so it enters
 *     the error state at the first byte after which no continuation of the
 *     input can be valid: that is the fail-fast offset.
 *  2. A fast path used only between characters: whole machine words of ASCII
 *     are skipped 8 bytes at a time.
 *  3. With SSE2 (baseline on x86-64), 16-byte blocks are checked at once. The
 *     vector check only says "this block is fine" or "something is wrong
 *     here"; on the latter the DFA re-reads the block to find the exact
 *     failing byte. The fast paths always stop at a character boundary, so
 *     the DFA resumes from its start state.
 */
#include "ws6455.h"

#include <string.h>

/* SSE2 is part of x86-64, so no -march flag is needed. Defining
 * WS6455_UTF8_SCALAR builds the portable path alone (for tests and benches). */
#if defined(__SSE2__) && !defined(WS6455_UTF8_SCALAR)
#define WS6455__UTF8_SSE2 1
#include <emmintrin.h>
#endif

/* ---- the DFA ------------------------------------------------------------- */

/* Each state is the bit offset of its 6-bit field in a table entry. The error
 * state is 0: no entry sets bits 0..5, so once in the error state every byte
 * leads back to it, and any transition not written below is an error. */
enum {
    S_ERR = 0, /* failed; absorbing */
    S_ACC = 6, /* between characters: the input so far is complete */
    S_C1 = 12, /* one more continuation byte (80..BF) needed */
    S_C2 = 18, /* two more */
    S_C3 = 24, /* three more */
    S_E0 = 30, /* after E0: next must be A0..BF, lower is overlong */
    S_ED = 36, /* after ED: next must be 80..9F, higher is a surrogate */
    S_F0 = 42, /* after F0: next must be 90..BF, lower is overlong */
    S_F4 = 48  /* after F4: next must be 80..8F, higher is above U+10FFFF */
};

#define GO(from, to) ((uint64_t)(to) << (from))

/* Byte classes: the transitions out of each state for one kind of byte. */
#define ASC GO(S_ACC, S_ACC) /* 00..7F */
#define CONT (GO(S_C1, S_ACC) | GO(S_C2, S_C1) | GO(S_C3, S_C2))
#define CLO (CONT | GO(S_ED, S_C1) | GO(S_F4, S_C2))  /* 80..8F */
#define CMID (CONT | GO(S_ED, S_C1) | GO(S_F0, S_C2)) /* 90..9F */
#define CHI (CONT | GO(S_E0, S_C1) | GO(S_F0, S_C2))  /* A0..BF */
#define L2 GO(S_ACC, S_C1)                            /* C2..DF */
#define L3 GO(S_ACC, S_C2)                            /* E1..EC, EE..EF */
#define L4 GO(S_ACC, S_C3)                            /* F1..F3 */
#define XE0 GO(S_ACC, S_E0)
#define XED GO(S_ACC, S_ED)
#define XF0 GO(S_ACC, S_F0)
#define XF4 GO(S_ACC, S_F4)
#define BAD 0 /* C0, C1 (always overlong), F5..FF (above U+10FFFF) */

#define R4(e) e, e, e, e
#define R16(e) R4(e), R4(e), R4(e), R4(e)

/* One row per high nibble. */
/* clang-format off */
static const uint64_t dfa[] = {
    R16(ASC), R16(ASC), R16(ASC), R16(ASC), R16(ASC), R16(ASC), R16(ASC), R16(ASC), /* 00..7F */
    R16(CLO),                                                                       /* 80..8F */
    R16(CMID),                                                                      /* 90..9F */
    R16(CHI),                                                                       /* A0..AF */
    R16(CHI),                                                                       /* B0..BF */
    BAD, BAD, L2, L2, R4(L2), R4(L2), R4(L2),                                       /* C0..CF */
    R16(L2),                                                                        /* D0..DF */
    XE0, L3, L3, L3, R4(L3), R4(L3), L3, XED, L3, L3,                               /* E0..EF */
    XF0, L4, L4, L4, XF4, BAD, BAD, BAD, R4(BAD), R4(BAD),                          /* F0..FF */
};
/* clang-format on */
_Static_assert(sizeof dfa / sizeof dfa[0] == 256, "one DFA entry per byte value");
_Static_assert(S_F4 + 6 <= 64, "every state field fits in a uint64_t");

/* Runs the DFA over p[0..n). The returned state is only meaningful in its low
 * 6 bits: masking the shift count instead of the result keeps the per-byte
 * dependency chain at a single shift (x86 masks shift counts in hardware). */
static uint64_t dfa_run(uint64_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s = dfa[p[i]] >> (s & 63);
    return s;
}

/* The offset of the byte that sends state s to the error state; the caller
 * knows that one in p[0..n) does. */
static size_t dfa_find_error(uint64_t s, const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i < n; i++) {
        s = dfa[p[i]] >> (s & 63);
        if ((s & 63) == S_ERR)
            break;
    }
    return i;
}

/* ---- fast paths: enter and leave at character boundaries ------------------ */

#define HIGH_BITS 0x8080808080808080u

static uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w); /* no alignment or aliasing assumptions */
    return w;
}

/* Skips whole 8-byte words of ASCII from i; returns where it stopped. */
static size_t skip_ascii_words(const uint8_t *p, size_t i, size_t n)
{
    while (n - i >= 32) {
        uint64_t w = load64(p + i) | load64(p + i + 8) | load64(p + i + 16) | load64(p + i + 24);
        if (w & HIGH_BITS)
            break;
        i += 32;
    }
    while (n - i >= 8 && !(load64(p + i) & HIGH_BITS))
        i += 8;
    return i;
}

#ifdef WS6455__UTF8_SSE2
static __m128i load128(const uint8_t *p)
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
static inline __m128i block_errors(__m128i x, __m128i a, __m128i b, __m128i c)
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
static inline __m128i block_errors_at(const uint8_t *q)
{
    return block_errors(load128(q), load128(q - 1), load128(q - 2), load128(q - 3));
}

static int any_set(__m128i v)
{
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) != 0xFFFF;
}

static int any_high(__m128i v)
{
    return _mm_movemask_epi8(v) != 0;
}

/* From a character boundary i, checks 16-byte blocks while at least 16 bytes
 * remain and no block looks invalid. Returns a character boundary up to which
 * everything is valid: the last checked block may end inside a sequence, so
 * the result backs up to that sequence's lead byte. */
static size_t skip_blocks(const uint8_t *p, size_t i, size_t n)
{
    if (n - i < 16)
        return i;
    /* The first block: the bytes before a character boundary cannot ask for
     * continuations, so shifting in zeros (ASCII) as context is exact and
     * needs nothing before p + i, which may be the start of the input. */
    __m128i x = load128(p + i);
    if (any_high(x) &&
        any_set(block_errors(x, _mm_slli_si128(x, 1), _mm_slli_si128(x, 2), _mm_slli_si128(x, 3))))
        return i;
    i += 16;

    /* From here on p[i-3..i) is inside the input. */
    while (n - i >= 64) {
        const uint8_t *q = p + i;
        __m128i ascii = _mm_or_si128(
            _mm_or_si128(load128(q - 3), load128(q)),
            _mm_or_si128(load128(q + 16), _mm_or_si128(load128(q + 32), load128(q + 48))));
        if (any_high(ascii)) {
            /* One test per 64 bytes; on an error the loop below finds the
             * block it is in. */
            __m128i err =
                _mm_or_si128(_mm_or_si128(block_errors_at(q), block_errors_at(q + 16)),
                             _mm_or_si128(block_errors_at(q + 32), block_errors_at(q + 48)));
            if (any_set(err))
                break;
        }
        i += 64;
    }
    while (n - i >= 16 && !any_set(block_errors_at(p + i)))
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
#endif

/* From a character boundary i, skips input known to be valid; returns a
 * character boundary. */
static size_t skip_valid(const uint8_t *p, size_t i, size_t n)
{
#ifdef WS6455__UTF8_SSE2
    i = skip_blocks(p, i, n);
#endif
    return skip_ascii_words(p, i, n);
}

/* ---- public API -------------------------------------------------------------- */

/* Bytes the DFA reads between two looks for a fast path. Small, so that a
 * stretch of ASCII after non-ASCII text is soon skipped again. */
#define DFA_CHUNK 16

void ws6455_utf8_init(ws6455_utf8 *v)
{
    v->state = S_ACC;
}

static int fail(ws6455_utf8 *v, size_t *fail_at, size_t at)
{
    v->state = S_ERR;
    if (fail_at)
        *fail_at = at;
    return WS6455_ERR_UTF8;
}

int ws6455_utf8_update(ws6455_utf8 *v, const uint8_t *p, size_t n, size_t *fail_at)
{
    uint64_t s = v->state;
    if (s == S_ERR)
        return fail(v, fail_at, 0);

    size_t i = 0;
    while (i < n) {
        size_t len = 1;
        if ((s & 63) == S_ACC) {
            i = skip_valid(p, i, n);
            if (i == n)
                break;
            len = n - i < DFA_CHUNK ? n - i : DFA_CHUNK;
        }
        /* else inside a character (the input was split there, or a chunk
         * ended there): finish it a byte at a time, so that the fast paths
         * resume as soon as possible rather than the DFA running on. */
        uint64_t t = dfa_run(s, p + i, len);
        if ((t & 63) == S_ERR)
            return fail(v, fail_at, i + dfa_find_error(s, p + i, len));
        s = t;
        i += len;
    }
    v->state = (uint32_t)(s & 63);
    return WS6455_OK;
}

int ws6455_utf8_finish(const ws6455_utf8 *v)
{
    return v->state == S_ACC ? WS6455_OK : WS6455_ERR_UTF8;
}

int ws6455_utf8_valid(const uint8_t *p, size_t n)
{
    ws6455_utf8 v;
    ws6455_utf8_init(&v);
    return ws6455_utf8_update(&v, p, n, NULL) == WS6455_OK && ws6455_utf8_finish(&v) == WS6455_OK;
}
