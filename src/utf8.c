/* Incremental, fail-fast UTF-8 validation (RFC 3629; Unicode Table 3-7).
 *
 * Layers, all producing exactly the same answer:
 *  1. A shift-based DFA that is the reference for everything else: one
 *     uint64_t per class of byte holds the next state for every current
 *     state, packed as 6-bit fields, so a step is two table loads (class,
 *     row) off the dependency chain and one shift on it.
 *     Its states are exactly the "still completable" prefixes, so it enters
 *     the error state at the first byte after which no continuation of the
 *     input can be valid: that is the fail-fast offset.
 *  2. Fast paths used only between characters, which skip input they find
 *     valid and always stop at a character boundary, so the DFA resumes
 *     from its start state: whole machine words of ASCII, 8 bytes at a time;
 *     and vector kernels (src/utf8_x86.c, src/utf8_neon.c, behind
 *     src/utf8_impl.h). A kernel only says "valid up to here"; where it
 *     stops (an error, the end of the input) the DFA reads on from the
 *     character boundary before, and finds the exact failing byte itself.
 *
 * Which kernel runs is decided per call by ws6455__utf8_best_variant(): on
 * x86 the CPU features that the compiler's runtime (libgcc or
 * compiler-rt) reads with CPUID once, before main, and keeps; on AArch64
 * always NEON. The library itself keeps no state, global or cached: each
 * call tests one bit of that runtime's record, written once by its
 * constructor when the program (or this shared library) is loaded and only
 * read after that. Called earlier than that constructor (from another
 * constructor that runs first), the record reads as "no features": the
 * call takes the portable path, slower but exactly as correct. No ifunc or
 * target_clones: those need a loader that resolves IFUNC symbols (glibc's
 * does, musl's does not); and a cached choice of our own would be global
 * state.
 */
#include "utf8_impl.h"

#include "mask.h"

#include <string.h>

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

/* The twelve distinct rows, one per class of byte; each byte value names
 * its row in a 256-byte table (computed instead at -Os, see class_of). Two
 * small tables instead of one entry per byte value (2 KiB of uint64_t) keep
 * the whole DFA under 400 bytes, which matters on a microcontroller; the
 * class load does not depend on the state, so the per-byte dependency chain
 * is still a single shift. */
enum { K_ASC, K_CLO, K_CMID, K_CHI, K_L2, K_L3, K_L4, K_E0, K_ED, K_F0, K_F4, K_BAD };

static const uint64_t dfa_row[] = {
    [K_ASC] = ASC, [K_CLO] = CLO, [K_CMID] = CMID, [K_CHI] = CHI, [K_L2] = L2, [K_L3] = L3,
    [K_L4] = L4,   [K_E0] = XE0,  [K_ED] = XED,    [K_F0] = XF0,  [K_F4] = XF4, [K_BAD] = BAD,
};

#if WS6455__FAST_PATHS
#define R4(e) e, e, e, e
#define R16(e) R4(e), R4(e), R4(e), R4(e)

/* One line per high nibble. */
/* clang-format off */
static const uint8_t byte_class[] = {
    R16(K_ASC), R16(K_ASC), R16(K_ASC), R16(K_ASC),                                  /* 00..3F */
    R16(K_ASC), R16(K_ASC), R16(K_ASC), R16(K_ASC),                                  /* 40..7F */
    R16(K_CLO),                                                                      /* 80..8F */
    R16(K_CMID),                                                                     /* 90..9F */
    R16(K_CHI),                                                                      /* A0..AF */
    R16(K_CHI),                                                                      /* B0..BF */
    K_BAD, K_BAD, K_L2, K_L2, R4(K_L2), R4(K_L2), R4(K_L2),                          /* C0..CF */
    R16(K_L2),                                                                       /* D0..DF */
    K_E0, K_L3, K_L3, K_L3, R4(K_L3), R4(K_L3), K_L3, K_ED, K_L3, K_L3,             /* E0..EF */
    K_F0, K_L4, K_L4, K_L4, K_F4, K_BAD, K_BAD, K_BAD, R4(K_BAD), R4(K_BAD),         /* F0..FF */
};
/* clang-format on */
_Static_assert(sizeof byte_class == 256, "one class per byte value");

static inline unsigned class_of(uint8_t b)
{
    return byte_class[b];
}
#else
/* At -Os the same classes are computed: a few compares instead of a
 * 256-byte table (tests/switches checks every state and byte against the
 * reference). */
static unsigned class_of(uint8_t b)
{
    if (b < 0x80)
        return K_ASC;
    if (b < 0xC0)
        return b < 0x90 ? K_CLO : b < 0xA0 ? K_CMID : K_CHI;
    if (b < 0xC2 || b > 0xF4)
        return K_BAD;
    if (b < 0xE0)
        return K_L2;
    if (b == 0xE0)
        return K_E0;
    if (b == 0xED)
        return K_ED;
    if (b < 0xF0)
        return K_L3;
    if (b == 0xF0)
        return K_F0;
    return b < 0xF4 ? K_L4 : K_F4;
}
#endif
_Static_assert(sizeof dfa_row / sizeof dfa_row[0] == K_BAD + 1, "one row per class");
_Static_assert(S_F4 + 6 <= 64, "every state field fits in a uint64_t");

/* Runs the DFA over p[0..n). The returned state is only meaningful in its low
 * 6 bits: masking the shift count instead of the result keeps the per-byte
 * dependency chain at a single shift (x86 masks shift counts in hardware). */
static uint64_t dfa_run(uint64_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s = dfa_row[class_of(p[i])] >> (s & 63);
    return s;
}

/* The offset of the byte that sends state s to the error state; the caller
 * knows that one in p[0..n) does. */
static size_t dfa_find_error(uint64_t s, const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i < n; i++) {
        s = dfa_row[class_of(p[i])] >> (s & 63);
        if ((s & 63) == S_ERR)
            break;
    }
    return i;
}

/* ---- ASCII words --------------------------------------------------------- */

#define HIGH_BITS 0x8080808080808080u

static uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w); /* no alignment or aliasing assumptions */
    return w;
}

static uint32_t load32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* Skips whole 8-byte words of ASCII from i; returns where it stopped.
 * Speed only: at -Os the DFA reads ASCII too. */
static size_t skip_ascii_words(const uint8_t *p, size_t i, size_t n)
{
    if (!WS6455__FAST_PATHS)
        return i;
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

/* Is p[0..n), n <= 16, all ASCII? Two overlapping loads, no loop: short
 * messages are common and this is all they need. */
static inline int short_ascii(const uint8_t *p, size_t n)
{
    uint64_t w;
    if (n >= 8)
        w = load64(p) | load64(p + n - 8);
    else if (n >= 4)
        w = load32(p) | load32(p + n - 4);
    else
        w = n ? (uint64_t)(p[0] | p[n / 2] | p[n - 1]) : 0;
    return !(w & HIGH_BITS);
}

/* ---- variants ------------------------------------------------------------- */

const char *ws6455__utf8_variant_name(int variant)
{
    static const char *const names[WS6455__UTF8_VARIANTS] = {"scalar", "sse2", "ssse3", "avx2",
                                                             "neon"};
    return variant >= 0 && variant < WS6455__UTF8_VARIANTS ? names[variant] : NULL;
}

int ws6455__utf8_variant_available(int variant)
{
    if (variant == WS6455__UTF8_SCALAR_ONLY)
        return 1;
    switch (variant) {
#ifdef WS6455__UTF8_X86
    /* __builtin_cpu_supports reads the record the compiler's runtime fills
     * once at startup (libgcc checks that the OS saves the AVX registers
     * before it reports AVX2). */
    case WS6455__UTF8_SSE2:
#ifdef __x86_64__
        return 1; /* part of x86-64 */
#else
        return __builtin_cpu_supports("sse2") != 0;
#endif
    case WS6455__UTF8_SSSE3:
        return __builtin_cpu_supports("ssse3") != 0;
    case WS6455__UTF8_AVX2:
        return __builtin_cpu_supports("avx2") != 0;
#endif
#ifdef WS6455__UTF8_NEON
    case WS6455__UTF8_NEON_LOOKUP:
        return 1;
#endif
    default:
        return 0;
    }
}

int ws6455__utf8_best_variant(void)
{
#if defined(WS6455__UTF8_X86) && defined(__AVX2__)
    return WS6455__UTF8_AVX2; /* built for AVX2 machines only (-mavx2, -march=...) */
#elif defined(WS6455__UTF8_X86)
    if (__builtin_cpu_supports("avx2"))
        return WS6455__UTF8_AVX2;
#ifdef __SSSE3__
    return WS6455__UTF8_SSSE3;
#else
    if (__builtin_cpu_supports("ssse3"))
        return WS6455__UTF8_SSSE3;
    return ws6455__utf8_variant_available(WS6455__UTF8_SSE2) ? WS6455__UTF8_SSE2
                                                             : WS6455__UTF8_SCALAR_ONLY;
#endif
#elif defined(WS6455__UTF8_NEON)
    return WS6455__UTF8_NEON_LOOKUP;
#else
    return WS6455__UTF8_SCALAR_ONLY;
#endif
}

/* From a character boundary i, skips input known to be valid; returns a
 * character boundary. */
static size_t skip_valid(const uint8_t *p, size_t i, size_t n, int variant)
{
    switch (variant) {
#ifdef WS6455__UTF8_X86
    case WS6455__UTF8_SSE2:
        i = ws6455__utf8_skip_sse2(p, i, n);
        break;
    case WS6455__UTF8_SSSE3:
        i = ws6455__utf8_skip_ssse3(p, i, n);
        break;
    case WS6455__UTF8_AVX2:
        i = ws6455__utf8_skip_avx2(p, i, n);
        break;
#endif
#ifdef WS6455__UTF8_NEON
    case WS6455__UTF8_NEON_LOOKUP:
        i = ws6455__utf8_skip_neon(p, i, n);
        break;
#endif
    default:
        break;
    }
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

int ws6455__utf8_run(ws6455_utf8 *v, const uint8_t *p, size_t i, size_t n, size_t *fail_at,
                     int variant)
{
    uint64_t s = v->state;
    if (s == S_ERR)
        return fail(v, fail_at, 0);

    while (i < n) {
        size_t len = 1;
        if ((s & 63) == S_ACC) {
            i = skip_valid(p, i, n, variant);
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

static int update_with(ws6455_utf8 *v, const uint8_t *p, size_t n, size_t *fail_at, int variant)
{
    if (WS6455__FAST_PATHS && n <= 16 && v->state == S_ACC && short_ascii(p, n))
        return WS6455_OK;
    return ws6455__utf8_run(v, p, 0, n, fail_at, variant);
}

int ws6455__utf8_update_variant(ws6455_utf8 *v, const uint8_t *p, size_t n, size_t *fail_at,
                                int variant)
{
    if (!ws6455__utf8_variant_available(variant))
        variant = WS6455__UTF8_SCALAR_ONLY;
    return update_with(v, p, n, fail_at, variant);
}

int ws6455_utf8_update(ws6455_utf8 *v, const uint8_t *p, size_t n, size_t *fail_at)
{
    return update_with(v, p, n, fail_at, ws6455__utf8_best_variant());
}

int ws6455_utf8_finish(const ws6455_utf8 *v)
{
    return v->state == S_ACC ? WS6455_OK : WS6455_ERR_UTF8;
}

int ws6455_utf8_valid(const uint8_t *p, size_t n)
{
    if (WS6455__FAST_PATHS && n <= 16 && short_ascii(p, n))
        return 1;
    ws6455_utf8 v;
    ws6455_utf8_init(&v);
    return ws6455__utf8_run(&v, p, 0, n, NULL, ws6455__utf8_best_variant()) == WS6455_OK &&
           ws6455_utf8_finish(&v) == WS6455_OK;
}
