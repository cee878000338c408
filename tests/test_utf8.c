/* The UTF-8 validator against an independent reference: every 1-, 2- and
 * 3-byte input exhaustively, 4-byte inputs from boundary bytes, random text
 * split at random points and fed one byte at a time, the fast paths at every
 * alignment, and input flush against a guard page. Every test runs once per
 * variant of the validator that this machine can run (src/utf8_impl.h:
 * scalar, SSE2, SSSE3, AVX2, NEON), forced through
 * ws6455__utf8_update_variant; the public functions are checked to agree.
 *
 * "Fail offset" everywhere means the offset of the first byte after which
 * the input can no longer be completed into valid UTF-8. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- references ------------------------------------------------------------ */

#include "utf8_ref.h"

/* The variant the running test goes through (set by set_variant, the setup
 * main gives every test). */
static int variant = WS6455__UTF8_SCALAR_ONLY;

static int upd(ws6455_utf8 *v, const uint8_t *p, size_t n, size_t *fail_at)
{
    return ws6455__utf8_update_variant(v, p, n, fail_at, variant);
}

/* ws6455_utf8_valid through the variant; the public one must agree. */
static int lib_valid(const uint8_t *p, size_t n)
{
    ws6455_utf8 v;
    ws6455_utf8_init(&v);
    int ok = upd(&v, p, n, NULL) == WS6455_OK && ws6455_utf8_finish(&v) == WS6455_OK;
    assert_int_equal(ws6455_utf8_valid(p, n), ok);
    return ok;
}

/* Is some code point in [lo, hi] encodable in a sequence whose shortest
 * code point is `min`: not overlong, at most U+10FFFF, not a surrogate? */
static int cp_range_allowed(uint32_t lo, uint32_t hi, uint32_t min)
{
    if (lo < min)
        lo = min;
    if (hi > 0x10FFFF)
        hi = 0x10FFFF;
    if (lo > hi)
        return 0;
    return !(lo >= 0xD800 && hi <= 0xDFFF);
}

/* Reference 2, used to check reference 1: the rules of RFC 3629 stated on
 * code point values. The bit patterns only give the length; after each byte
 * the still-possible code points form an interval (the unread payload bits
 * can be anything), and the input fails at the first byte after which that
 * interval holds no allowed code point. */
static verdict cp_scan(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        unsigned len;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xE0) == 0xC0)
            len = 2, cp = b & 0x1Fu, min = 0x80;
        else if ((b & 0xF0) == 0xE0)
            len = 3, cp = b & 0x0Fu, min = 0x800;
        else if ((b & 0xF8) == 0xF0)
            len = 4, cp = b & 0x07u, min = 0x10000;
        else /* 10xxxxxx without a lead, or 11111xxx */
            return (verdict){i, 0};
        for (unsigned k = 1;; k++) {
            unsigned unread = 6 * (len - k);
            uint32_t lo = cp << unread, hi = lo | ((1u << unread) - 1);
            if (!cp_range_allowed(lo, hi, min))
                return (verdict){i + k - 1, 0};
            if (k == len)
                break;
            if (i + k == n)
                return (verdict){NO_FAIL, 0};
            uint8_t c = p[i + k];
            if ((c & 0xC0) != 0x80)
                return (verdict){i + k, 0};
            cp = cp << 6 | (c & 0x3Fu);
        }
        i += len;
    }
    return (verdict){NO_FAIL, 1};
}

/* ---- the library, driven in different ways ----------------------------------- */

/* Feeds p[0..n) in pieces ending at the given cut points (ascending, each
 * <= n); checks that after a failure every later piece fails at offset 0. */
static verdict lib_pieces(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts)
{
    ws6455_utf8 v;
    verdict r = {NO_FAIL, 0};
    size_t start = 0;
    ws6455_utf8_init(&v);
    for (size_t k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : n;
        size_t at = 12345;
        int rc = upd(&v, p + start, end - start, &at);
        if (r.fail != NO_FAIL) {
            assert_int_equal(rc, WS6455_ERR_UTF8);
            assert_int_equal(at, 0);
        } else if (rc != WS6455_OK) {
            assert_int_equal(rc, WS6455_ERR_UTF8);
            assert_true(at < end - start);
            r.fail = start + at;
        }
        start = end;
    }
    r.complete = ws6455_utf8_finish(&v) == WS6455_OK;
    if (r.fail != NO_FAIL)
        assert_false(r.complete);
    return r;
}

static verdict lib_bytewise(const uint8_t *p, size_t n)
{
    ws6455_utf8 v;
    verdict r = {NO_FAIL, 0};
    ws6455_utf8_init(&v);
    for (size_t i = 0; i < n; i++) {
        size_t at = 12345;
        if (upd(&v, p + i, 1, &at) != WS6455_OK) {
            assert_int_equal(at, 0);
            if (r.fail == NO_FAIL)
                r.fail = i;
        } else {
            assert_true(r.fail == NO_FAIL); /* sticky */
        }
    }
    r.complete = ws6455_utf8_finish(&v) == WS6455_OK;
    return r;
}

static void print_hex(const char *what, const uint8_t *p, size_t n)
{
    print_error("%s (%zu bytes):", what, n);
    for (size_t i = 0; i < n && i < 256; i++)
        print_error(" %02X", p[i]);
    print_error("%s\n", n > 256 ? " ..." : "");
}

static void print_verdict(const char *who, verdict v)
{
    if (v.fail == NO_FAIL)
        print_error("  %s: valid prefix, %s\n", who, v.complete ? "complete" : "incomplete");
    else
        print_error("  %s: fails at %zu\n", who, v.fail);
}

/* Fails the test, showing the input, unless the two verdicts agree. */
static void expect_same(const char *how, const uint8_t *p, size_t n, verdict want, verdict got)
{
    if (want.fail == got.fail && want.complete == got.complete)
        return;
    print_hex(how, p, n);
    print_verdict("reference", want);
    print_verdict("validator", got);
    fail();
}

/* One-shot, ws6455_utf8_valid, and (for short inputs) every 2-way split. */
static void check_all_ways(const uint8_t *p, size_t n)
{
    verdict want = ref_scan(p, n);
    expect_same("one-shot", p, n, want, lib_oneshot(variant, p, n));
    assert_int_equal(lib_valid(p, n), want.complete);
    expect_same("byte at a time", p, n, want, lib_bytewise(p, n));
    for (size_t cut = 0; cut <= n; cut++)
        expect_same("split", p, n, want, lib_pieces(p, n, &cut, 1));
}

/* ---- named examples ---------------------------------------------------------------- */

/* hex must fail at `at` (one-shot, byte by byte and every split), or with
 * at < 0 be valid: complete when at == -1, a cut-off prefix when at == -2. */
static void example(const char *hex, long at)
{
    uint8_t buf[64];
    size_t n = tu_hex(hex, buf, sizeof buf);
    verdict want = {at < 0 ? NO_FAIL : (size_t)at, at == -1};
    verdict ref = ref_scan(buf, n);
    if (ref.fail != want.fail || ref.complete != want.complete) {
        print_error("example \"%s\": the reference disagrees with the test\n", hex);
        fail();
    }
    verdict got = lib_oneshot(variant, buf, n);
    if (got.fail != want.fail || got.complete != want.complete) {
        print_error("example \"%s\":\n", hex);
        print_verdict("expected", want);
        print_verdict("validator", got);
        fail();
    }
    check_all_ways(buf, n);
}

#define VALID -1
#define PREFIX -2

static void test_fail_fast_examples(void **state)
{
    (void)state;
    example("F4 90", 1);       /* above U+10FFFF, known at the 2nd byte */
    example("ED A0", 1);       /* surrogate U+D800.. */
    example("C0", 0);          /* always overlong */
    example("E0 80", 1);       /* overlong 3-byte form */
    example("F5", 0);          /* would be above U+10FFFF */
    example("61 80", 1);       /* "a" and a stray continuation byte */
    example("E2 82 41", 2);    /* sequence interrupted by "A" */
    example("C1 BF", 0);       /* overlong U+007F */
    example("F0 80", 1);       /* overlong 4-byte form */
    example("F0 8F BF BF", 1); /* overlong U+FFFF */
    example("E0 9F BF", 1);    /* overlong U+07FF */
    example("ED BF BF", 1);    /* surrogate U+DFFF */
    example("F4 90 80 80", 1); /* U+110000 */
    example("F4 8F BF C0", 3); /* last byte not a continuation */
    example("80", 0);
    example("BF", 0);
    example("FE", 0);
    example("FF", 0);
    example("F8 88 80 80 80", 0); /* old 5-byte form */
    example("FC 84 80 80 80 80", 0);
    example("C3 A9 A9", 2);   /* one continuation too many */
    example("C2 C2 80", 1);   /* lead where a continuation belongs */
    example("E2 82", PREFIX); /* cut off: update succeeds, finish fails */
    example("C2", PREFIX);
    example("F0 9F 98", PREFIX);
    example("F4 8F BF", PREFIX);
    example("", VALID);
    example("E2 82 AC", VALID);    /* euro sign */
    example("EF BF BE", VALID);    /* noncharacter U+FFFE is still valid */
    example("F0 9F 98 80", VALID); /* emoji */
}

static void test_fail_offset_is_per_call(void **state)
{
    (void)state;
    ws6455_utf8 v;
    size_t at = 99;
    ws6455_utf8_init(&v);
    assert_int_equal(upd(&v, (const uint8_t *)"\xE2\x82", 2, &at), WS6455_OK);
    assert_int_equal(ws6455_utf8_finish(&v), WS6455_ERR_UTF8); /* inside a sequence */
    assert_int_equal(upd(&v, (const uint8_t *)"A", 1, &at), WS6455_ERR_UTF8);
    assert_int_equal(at, 0); /* the "A", at offset 0 of the second call */

    ws6455_utf8_init(&v);
    assert_int_equal(upd(&v, (const uint8_t *)"ok \xF4", 4, &at), WS6455_OK);
    assert_int_equal(upd(&v, (const uint8_t *)"\x8F\xBF\xBF xyz\xF4\x90", 9, &at), WS6455_ERR_UTF8);
    assert_int_equal(at, 8);
}

static void test_failure_is_sticky(void **state)
{
    (void)state;
    ws6455_utf8 v;
    size_t at = 99;
    ws6455_utf8_init(&v);
    assert_int_equal(upd(&v, (const uint8_t *)"ab\xC0", 3, &at), WS6455_ERR_UTF8);
    assert_int_equal(at, 2);
    at = 99;
    assert_int_equal(upd(&v, (const uint8_t *)"fine", 4, &at), WS6455_ERR_UTF8);
    assert_int_equal(at, 0);
    at = 99;
    assert_int_equal(upd(&v, NULL, 0, &at), WS6455_ERR_UTF8);
    assert_int_equal(at, 0);
    assert_int_equal(upd(&v, (const uint8_t *)"x", 1, NULL), WS6455_ERR_UTF8);
    assert_int_equal(ws6455_utf8_finish(&v), WS6455_ERR_UTF8);

    ws6455_utf8_init(&v); /* and init clears it */
    assert_int_equal(upd(&v, (const uint8_t *)"fine", 4, &at), WS6455_OK);
    assert_int_equal(ws6455_utf8_finish(&v), WS6455_OK);
}

static void test_empty_and_null(void **state)
{
    (void)state;
    ws6455_utf8 v;
    ws6455_utf8_init(&v);
    assert_int_equal(ws6455_utf8_finish(&v), WS6455_OK); /* empty text is valid */
    assert_int_equal(upd(&v, NULL, 0, NULL), WS6455_OK);
    assert_int_equal(ws6455_utf8_finish(&v), WS6455_OK);
    assert_int_equal(lib_valid(NULL, 0), 1);
    assert_int_equal(upd(&v, (const uint8_t *)"\xC3", 1, NULL), WS6455_OK);
    assert_int_equal(upd(&v, NULL, 0, NULL), WS6455_OK); /* keeps the state */
    assert_int_equal(ws6455_utf8_finish(&v), WS6455_ERR_UTF8);
    assert_int_equal(upd(&v, (const uint8_t *)"\xA9", 1, NULL), WS6455_OK);
    assert_int_equal(ws6455_utf8_finish(&v), WS6455_OK);
}

static void test_boundary_code_points(void **state)
{
    (void)state;
    example("00", VALID);          /* U+0000 */
    example("7F", VALID);          /* U+007F */
    example("C2 80", VALID);       /* U+0080 */
    example("DF BF", VALID);       /* U+07FF */
    example("E0 A0 80", VALID);    /* U+0800 */
    example("ED 9F BF", VALID);    /* U+D7FF */
    example("EE 80 80", VALID);    /* U+E000 */
    example("EF BF BF", VALID);    /* U+FFFF */
    example("F0 90 80 80", VALID); /* U+10000 */
    example("F4 8F BF BF", VALID); /* U+10FFFF */
    /* just outside, and overlong forms of the boundaries */
    example("ED A0 80", 1);    /* U+D800 */
    example("C1 80", 0);       /* U+0040 in 2 bytes */
    example("E0 9F BF", 1);    /* U+07FF in 3 bytes */
    example("F0 8F BF BF", 1); /* U+FFFF in 4 bytes */
    example("E0 80 80", 1);    /* U+0000 in 3 bytes */
    example("F0 80 80 80", 1); /* U+0000 in 4 bytes */
    example("C0 80", 0);       /* "modified UTF-8" NUL */
}

/* Insertion sort, for cut points. */
static void sort_sizes(size_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && a[j - 1] > a[j]; j--) {
            size_t t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
}

/* ---- encoder, for generating text ------------------------------------------------ */

static size_t encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Every code point's encoding is accepted except the surrogates', which
 * fail at the second byte; then all scalar values in one text, fed in
 * random pieces so that sequences straddle every kind of boundary. */
static void test_every_code_point(void **state)
{
    (void)state;
    size_t cap = 4 * 0x110000;
    uint8_t *all = malloc(cap);
    assert_non_null(all);
    size_t n = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        uint8_t b[4];
        size_t len = encode(cp, b);
        verdict got = lib_oneshot(variant, b, len);
        int surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        if (surrogate) {
            assert_int_equal(got.fail, 1);
        } else {
            if (got.fail != NO_FAIL || !got.complete) {
                print_error("U+%04X rejected\n", (unsigned)cp);
                fail();
            }
            memcpy(all + n, b, len);
            n += len;
        }
    }
    assert_int_equal(lib_valid(all, n), 1);
    tu_rng r;
    tu_rng_seed(&r, 42);
    for (int round = 0; round < 4; round++) {
        size_t cuts[64];
        for (size_t k = 0; k < 64; k++)
            cuts[k] = (size_t)tu_rng_below(&r, n + 1);
        sort_sizes(cuts, 64);
        verdict got = lib_pieces(all, n, cuts, 64);
        assert_true(got.fail == NO_FAIL && got.complete);
    }
    /* A surrogate spliced in anywhere is found exactly where it starts + 1. */
    for (int k = 0; k < 200; k++) {
        size_t at = (size_t)tu_rng_below(&r, n - 4);
        while (at > 0 && (all[at] & 0xC0) == 0x80)
            at--; /* a character boundary */
        uint8_t saved[3];
        memcpy(saved, all + at, 3);
        memcpy(all + at, "\xED\xB0\x80", 3); /* U+DC00 */
        verdict got = lib_oneshot(variant, all, n);
        assert_int_equal(got.fail, at + 1);
        memcpy(all + at, saved, 3);
    }
    free(all);
}

/* ---- exhaustive short inputs -------------------------------------------------------- */

static void test_references_agree(void **state)
{
    (void)state;
    /* Every input of up to 3 bytes: the two readings of the rules agree. */
    uint8_t b[3];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (uint8_t)x;
        expect_same("cp vs table, 1", b, 1, cp_scan(b, 1), ref_scan(b, 1));
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (uint8_t)y;
            expect_same("cp vs table, 2", b, 2, cp_scan(b, 2), ref_scan(b, 2));
            for (unsigned z = 0; z < 256; z++) {
                b[2] = (uint8_t)z;
                verdict c = cp_scan(b, 3), t = ref_scan(b, 3);
                if (c.fail != t.fail || c.complete != t.complete)
                    expect_same("cp vs table, 3", b, 3, c, t);
            }
        }
    }
}

static void test_exhaustive_1_and_2_bytes(void **state)
{
    (void)state;
    uint8_t b[2];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (uint8_t)x;
        check_all_ways(b, 1);
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (uint8_t)y;
            check_all_ways(b, 2);
        }
    }
}

/* All 16.8M 3-byte inputs, one-shot, split 2+1 (the state after the first
 * two bytes is computed once per pair and copied), and inside ASCII where
 * the vector kernels see them. The other splits are covered by the 2-byte
 * test plus this one. */
static void test_exhaustive_3_bytes(void **state)
{
    (void)state;
    uint8_t b[3], emb[EMBED_LEN];
    memset(emb, 'a', sizeof emb);
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (uint8_t)x;
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (uint8_t)y;
            ws6455_utf8 head;
            size_t head_at = 0;
            ws6455_utf8_init(&head);
            int head_rc = upd(&head, b, 2, &head_at);
            for (unsigned z = 0; z < 256; z++) {
                b[2] = (uint8_t)z;
                verdict want = ref_scan(b, 3);
                verdict one = lib_oneshot(variant, b, 3);
                if (one.fail != want.fail || one.complete != want.complete)
                    expect_same("one-shot", b, 3, want, one);

                ws6455_utf8 v = head;
                verdict split;
                size_t at = 12345;
                if (head_rc != WS6455_OK) {
                    split = (verdict){head_at, 0};
                } else if (upd(&v, b + 2, 1, &at) != WS6455_OK) {
                    assert_int_equal(at, 0);
                    split = (verdict){2, 0};
                } else {
                    split = (verdict){NO_FAIL, ws6455_utf8_finish(&v) == WS6455_OK};
                }
                if (split.fail != want.fail || split.complete != want.complete)
                    expect_same("split 2+1", b, 3, want, split);

                verdict in = embedded_verdict(want, 3), got = lib_embedded(variant, emb, b, 3);
                if (got.fail != in.fail || got.complete != in.complete)
                    expect_same("inside ASCII", emb, EMBED_LEN, in, got);
            }
        }
    }
}

/* Bytes at and around every boundary of Table 3-7. */
static const uint8_t edge_bytes[] = {
    0x00, 0x01, 0x41, 0x7F, 0x80, 0x81, 0x8E, 0x8F, 0x90, 0x91, 0x9F, 0xA0,
    0xA1, 0xBE, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
    0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFF,
};
#define N_EDGE (sizeof edge_bytes / sizeof edge_bytes[0])

/* One-shot, and one byte at a time (which covers every split point). */
static void check_4(const uint8_t *b)
{
    verdict want = ref_scan(b, 4);
    verdict one = lib_oneshot(variant, b, 4);
    if (one.fail != want.fail || one.complete != want.complete)
        expect_same("one-shot", b, 4, want, one);
    verdict bw = lib_bytewise(b, 4);
    if (bw.fail != want.fail || bw.complete != want.complete)
        expect_same("byte at a time", b, 4, want, bw);
}

static void test_4_bytes_from_edges(void **state)
{
    (void)state;
    uint8_t b[4];
    for (size_t i = 0; i < N_EDGE; i++)
        for (size_t j = 0; j < N_EDGE; j++)
            for (size_t k = 0; k < N_EDGE; k++)
                for (size_t l = 0; l < N_EDGE; l++) {
                    b[0] = edge_bytes[i], b[1] = edge_bytes[j];
                    b[2] = edge_bytes[k], b[3] = edge_bytes[l];
                    check_4(b);
                }
    /* 4-byte leads with every second byte */
    for (unsigned lead = 0xF0; lead <= 0xF4; lead++)
        for (unsigned y = 0; y < 256; y++)
            for (size_t k = 0; k < N_EDGE; k++)
                for (size_t l = 0; l < N_EDGE; l++) {
                    b[0] = (uint8_t)lead, b[1] = (uint8_t)y;
                    b[2] = edge_bytes[k], b[3] = edge_bytes[l];
                    check_4(b);
                }
}

/* ---- the fast paths ------------------------------------------------------------------- */

/* ASCII of every length 0..64 at every alignment, with one foreign byte (or
 * a valid 2-byte character) at every position: the word-at-a-time skip must
 * stop in time, and never skip past a lead byte. */
static void test_ascii_words_every_alignment(void **state)
{
    (void)state;
    static const uint8_t foreign[] = {0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF};
    uint8_t mem[16 + 80];
    for (size_t align = 0; align < 16; align++) {
        uint8_t *p = mem + align;
        for (size_t len = 0; len <= 64; len++) {
            memset(p, 'a', len);
            expect_same("ascii", p, len, ref_scan(p, len), lib_oneshot(variant, p, len));
            for (size_t pos = 0; pos < len; pos++) {
                for (size_t f = 0; f < sizeof foreign; f++) {
                    p[pos] = foreign[f];
                    expect_same("ascii + 1", p, len, ref_scan(p, len),
                                lib_oneshot(variant, p, len));
                }
                if (pos + 1 < len) { /* a valid "é" */
                    p[pos] = 0xC3, p[pos + 1] = 0xA9;
                    expect_same("ascii + é", p, len, ref_scan(p, len),
                                lib_oneshot(variant, p, len));
                    p[pos + 1] = 'a';
                }
                p[pos] = 'a';
            }
        }
    }
}

/* Short sequences at every position of longer text, so that they land in
 * every lane of a vector block, across block boundaries, and in the tail
 * left to the DFA; inside ASCII and inside 2-byte text. */
static void test_sequences_at_every_position(void **state)
{
    (void)state;
    static const char *const seqs[] = {
        "C3 A9",       "E2 82 AC", "F0 9F 98 80", "F4 8F BF BF", "EF BF BF", "E0 A0 80", "ED 9F BF",
        "F0 90 80 80", "C3",       "E2 82",       "F0 9F 98",    "C0 80",    "E0 80",    "ED A0",
        "F0 8F",       "F4 90",    "F5",          "FF",          "80",       "BF",       "C3 A9 A9",
        "E2 41",       "F0 9F 41", "EE",          "C2 C2",
    };
    static const char *const fillers[] = {"x", "\xD0\xB4", "\xE4\xB8\xAD", "\xF0\x9F\x99\x82"};
    uint8_t buf[200];
    for (size_t f = 0; f < sizeof fillers / sizeof fillers[0]; f++) {
        size_t fl = strlen(fillers[f]);
        for (size_t s = 0; s < sizeof seqs / sizeof seqs[0]; s++) {
            uint8_t seq[8];
            size_t sl = tu_hex(seqs[s], seq, sizeof seq);
            for (size_t total = 8; total <= 150; total += 71) {
                for (size_t pre = 0; pre + sl <= total; pre++) {
                    /* filler characters, ASCII to pad to `pre`, the sequence,
                     * then filler again (cut to fit: may end mid-character) */
                    size_t n = 0;
                    while (n + fl <= pre) {
                        memcpy(buf + n, fillers[f], fl);
                        n += fl;
                    }
                    while (n < pre)
                        buf[n++] = ' ';
                    memcpy(buf + n, seq, sl);
                    n += sl;
                    while (n < total) {
                        size_t c = total - n < fl ? total - n : fl;
                        memcpy(buf + n, fillers[f], c);
                        n += c;
                    }
                    expect_same("embedded", buf, n, ref_scan(buf, n), lib_oneshot(variant, buf, n));
                }
            }
        }
    }
}

/* Where the vector code changes how it works, in 100 bytes of ASCII: the
 * first block (no context before it), inside and between the 64-byte
 * groups, the single blocks after them, the tail left to the DFA. */
static const size_t block_spots[] = {0, 1, 14, 15, 16, 31, 47, 62, 63, 78, 79, 80, 95, 96};
#define N_SPOTS (sizeof block_spots / sizeof block_spots[0])

static void check_in_blocks(const char *how, const uint8_t *seq, size_t len)
{
    uint8_t buf[100];
    for (size_t k = 0; k < N_SPOTS; k++) {
        memset(buf, 'q', sizeof buf);
        memcpy(buf + block_spots[k], seq, len);
        verdict want = ref_scan(buf, sizeof buf), got = lib_oneshot(variant, buf, sizeof buf);
        if (want.fail != got.fail || want.complete != got.complete)
            expect_same(how, buf, sizeof buf, want, got);
    }
}

/* Every pair of bytes (this covers each lead with every second byte), and
 * 4-byte sequences from a lead, an edge byte and two bytes of a smaller set
 * (this covers the 3rd and 4th bytes and sequences cut by the tail). The
 * exhaustive program does all 2^32 inside blocks too. */
static void test_sequences_in_vector_blocks(void **state)
{
    (void)state;
    static const uint8_t late[] = {0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                   0xBF, 0xC2, 0xE1, 0xF0, 0xF5};
    uint8_t s[4];
    for (unsigned x = 0; x < 256; x++)
        for (unsigned y = 0; y < 256; y++) {
            s[0] = (uint8_t)x, s[1] = (uint8_t)y;
            check_in_blocks("pair in blocks", s, 2);
        }
    for (unsigned x = 0xC0; x < 256; x++)
        for (size_t j = 0; j < N_EDGE; j++)
            for (size_t k = 0; k < sizeof late; k++)
                for (size_t l = 0; l < sizeof late; l++) {
                    s[0] = (uint8_t)x, s[1] = edge_bytes[j], s[2] = late[k], s[3] = late[l];
                    check_in_blocks("4 bytes in blocks", s, 4);
                }
}

/* ---- random text ---------------------------------------------------------------------- */

/* Mostly valid text: ASCII runs, Cyrillic, CJK, emoji and boundary code
 * points; sometimes corrupted by a few edits. */
static size_t random_text(tu_rng *r, uint8_t *out, size_t target)
{
    static const uint32_t edges[] = {0x0,    0x7F,   0x80,    0x7FF,    0x800,  0xD7FF, 0xE000,
                                     0xFFFD, 0xFFFF, 0x10000, 0x10FFFF, 0xFEFF, 0x1F600};
    size_t n = 0;
    while (n + 32 < target) {
        uint64_t kind = tu_rng_below(r, 100);
        if (kind < 30) {
            size_t run = 1 + (size_t)tu_rng_below(r, 24);
            for (size_t k = 0; k < run; k++)
                out[n++] = (uint8_t)(0x20 + tu_rng_below(r, 0x5F));
        } else if (kind < 60) {
            n += encode(0x400 + (uint32_t)tu_rng_below(r, 0x100), out + n);
        } else if (kind < 70) {
            n += encode(0x80 + (uint32_t)tu_rng_below(r, 0x780), out + n);
        } else if (kind < 80) {
            uint32_t cp = 0x800 + (uint32_t)tu_rng_below(r, 0xF800);
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0x4E2D;
            n += encode(cp, out + n);
        } else if (kind < 92) {
            n += encode(0x10000 + (uint32_t)tu_rng_below(r, 0x100000), out + n);
        } else {
            n += encode(edges[tu_rng_below(r, sizeof edges / sizeof edges[0])], out + n);
        }
    }
    uint64_t edits = tu_rng_below(r, 10) < 6 ? 0 : 1 + tu_rng_below(r, 3);
    for (uint64_t e = 0; e < edits && n > 0; e++) {
        size_t at = (size_t)tu_rng_below(r, n);
        switch (tu_rng_below(r, 4)) {
        case 0: /* overwrite a byte */
            out[at] = (uint8_t)tu_rng_next(r);
            break;
        case 1: /* delete a byte: truncates or strands a sequence */
            memmove(out + at, out + at + 1, n - at - 1);
            n--;
            break;
        case 2: { /* insert a known-bad pattern */
            static const char *const bad[] = {
                "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE0\x80\x80", "\xF8",
                "\x80",     "\xC2",         "\xF0\x8F\xBF\xBF", "\xFF"};
            const char *s = bad[tu_rng_below(r, sizeof bad / sizeof bad[0])];
            size_t l = strlen(s);
            memmove(out + at + l, out + at, n - at);
            memcpy(out + at, s, l);
            n += l;
            break;
        }
        default: /* cut the text here */
            n = at;
            break;
        }
    }
    return n;
}

static void test_random_text_in_pieces(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x5EED);
    uint8_t *buf = malloc(5000);
    assert_non_null(buf);
    int invalid = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t target = tu_rng_below(&r, 4) == 0 ? 40 + (size_t)tu_rng_below(&r, 4900)
                                                 : 40 + (size_t)tu_rng_below(&r, 300);
        size_t n = random_text(&r, buf, target);
        verdict want = ref_scan(buf, n);
        invalid += want.fail != NO_FAIL || !want.complete;
        expect_same("random one-shot", buf, n, want, lib_oneshot(variant, buf, n));
        assert_int_equal(lib_valid(buf, n), want.complete);
        if (n <= 400)
            expect_same("random byte at a time", buf, n, want, lib_bytewise(buf, n));
        for (int s = 0; s < 4; s++) {
            size_t cuts[12];
            size_t ncuts = (size_t)tu_rng_below(&r, 13);
            for (size_t k = 0; k < ncuts; k++)
                cuts[k] = (size_t)tu_rng_below(&r, n + 1);
            sort_sizes(cuts, ncuts);
            expect_same("random pieces", buf, n, want, lib_pieces(buf, n, cuts, ncuts));
        }
    }
    free(buf);
    assert_true(invalid > 600);  /* the corruptions really happen... */
    assert_true(invalid < 2400); /* ...and valid text too */
}

/* ---- unmasking and validating in one pass ------------------------------------------- */

/* Masks src[0..n) with key from mask offset `offset` into a copy, feeds the
 * copy to ws6455__utf8_unmask_update_variant in the given pieces, unmasking
 * in place in buf (or, with `apart`, from a separate masked copy into buf),
 * and checks that every byte comes back unmasked (also after a failure) and
 * that the verdict is the reference's. */
static void check_unmask(const uint8_t *src, size_t n, const uint8_t key[4], uint64_t offset,
                         const size_t *cuts, size_t ncuts, uint8_t *buf, int apart)
{
    verdict want = ref_scan(src, n), got = {NO_FAIL, 0};
    uint8_t *masked = apart ? malloc(n ? n : 1) : buf;
    assert_non_null(masked);
    ws6455_mask(masked, src, n, key, offset);
    if (apart)
        memset(buf, 0xEE, n + 1);
    ws6455_utf8 v;
    ws6455_utf8_init(&v);
    size_t start = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : n, at = 12345;
        int rc = ws6455__utf8_unmask_update_variant(&v, buf + start, masked + start, end - start,
                                                    key, offset + start, &at, variant);
        if (got.fail != NO_FAIL) {
            assert_int_equal(rc, WS6455_ERR_UTF8);
            assert_int_equal(at, 0);
        } else if (rc != WS6455_OK) {
            assert_int_equal(rc, WS6455_ERR_UTF8);
            assert_true(at < end - start);
            got.fail = start + at;
        }
        start = end;
    }
    got.complete = ws6455_utf8_finish(&v) == WS6455_OK;
    if (apart) { /* nothing written past the destination; the source as it was */
        assert_int_equal(buf[n], 0xEE);
        ws6455_mask(masked, masked, n, key, offset);
        if (n)
            assert_memory_equal(masked, src, n);
        free(masked);
    }
    if (memcmp(buf, src, n) != 0) {
        print_error("unmasking differs from ws6455_mask (offset %u)\n", (unsigned)offset);
        fail();
    }
    expect_same("unmask and validate", src, n, want, got);
}

static void test_unmask_and_validate(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0xC0FFEE);
    size_t cap = 40000;
    uint8_t *text = malloc(cap), *buf = malloc(cap + 16);
    assert_non_null(text);
    assert_non_null(buf);
    int invalid = 0;
    for (int iter = 0; iter < 600; iter++) {
        /* Mostly short; some longer than the 8 KiB pieces of the one pass. */
        size_t target = iter % 10 == 0 ? 9000 + (size_t)tu_rng_below(&r, 30000)
                                       : 40 + (size_t)tu_rng_below(&r, 2000);
        size_t n = random_text(&r, text, target);
        verdict want = ref_scan(text, n);
        invalid += want.fail != NO_FAIL || !want.complete;
        uint8_t key[4];
        tu_rng_fill(&r, key, 4);
        uint64_t offset = tu_rng_below(&r, 8);
        uint8_t *p = buf + tu_rng_below(&r, 16); /* any alignment */
        check_unmask(text, n, key, offset, NULL, 0, p, iter & 1);
        size_t cuts[8];
        size_t ncuts = (size_t)tu_rng_below(&r, 9);
        for (size_t k = 0; k < ncuts; k++)
            cuts[k] = (size_t)tu_rng_below(&r, n + 1);
        sort_sizes(cuts, ncuts);
        check_unmask(text, n, key, offset, cuts, ncuts, p, (iter >> 1) & 1);
    }
    assert_true(invalid > 100 && invalid < 500);
    /* An error at and around every piece boundary of a long valid text. */
    size_t n = 0;
    while (n + 4 < 20000)
        n += encode(0x400 + (uint32_t)(n % 7 == 0 ? 0x1F000 : n % 0x100), text + n);
    static const uint8_t key[4] = {0xA5, 0x00, 0xFF, 0x3C};
    for (size_t at = 8192 - 70; at < 8192 + 70; at++) {
        uint8_t saved = text[at];
        text[at] = 0xFF;
        check_unmask(text, n, key, 3, NULL, 0, buf, at & 1);
        text[at] = saved;
    }
    check_unmask(text, n, key, 1, NULL, 0, buf, 0); /* and valid */
    check_unmask(text, n, key, 1, NULL, 0, buf, 1);
    /* The empty input, and sticky failure. */
    ws6455_utf8 v;
    size_t at = 7;
    ws6455_utf8_init(&v);
    assert_int_equal(ws6455__utf8_unmask_update_variant(&v, buf, buf, 0, key, 0, &at, variant),
                     WS6455_OK);
    assert_int_equal(at, 7);
    buf[0] = 0xC0 ^ key[0];
    buf[1] = 'a' ^ key[1];
    assert_int_equal(ws6455__utf8_unmask_update_variant(&v, buf, buf, 2, key, 0, &at, variant),
                     WS6455_ERR_UTF8);
    assert_int_equal(at, 0);
    assert_int_equal(buf[1], 'a'); /* unmasked all the same */
    at = 7;
    assert_int_equal(ws6455__utf8_unmask_update_variant(&v, buf, buf, 0, key, 0, &at, variant),
                     WS6455_ERR_UTF8);
    assert_int_equal(at, 0);
    free(text);
    free(buf);
}

/* ---- guard pages ------------------------------------------------------------------------- */

static void check_guarded(const uint8_t *src, size_t n)
{
    uint8_t *g = tu_guard_copy(src, n);
    verdict want = ref_scan(src, n);
    expect_same("guarded one-shot", src, n, want, lib_oneshot(variant, g, n));
    assert_int_equal(lib_valid(g, n), want.complete);
    if (n > 1) { /* the second piece ends at the guard page too */
        size_t cut = n / 3;
        expect_same("guarded pieces", src, n, want, lib_pieces(g, n, &cut, 1));
    }
    tu_guard_free(g, n);
}

static void test_guard_page(void **state)
{
    (void)state;
    static const char *const tails[] = {
        "", "\xC3", "\xE2\x82", "\xF0\x9F\x98", "\xC3\xA9", "\xF0\x9F\x98\x80", "\x80", "\xFF"};
    uint8_t src[400];
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        size_t tl = strlen(tails[t]);
        for (size_t n = tl; n <= 40; n++) { /* short: ASCII ending in the tail */
            memset(src, 'g', n - tl);
            memcpy(src + n - tl, tails[t], tl);
            check_guarded(src, n);
        }
        for (size_t n = 41 + tl; n <= 300; n += 7) { /* long: through the fast paths */
            for (size_t k = 0; k + 2 <= n - tl; k += 2)
                memcpy(src + k, k % 40 < 20 ? "\xD0\xB4" : "ab", 2);
            if ((n - tl) % 2)
                src[n - tl - 1] = 'z';
            memcpy(src + n - tl, tails[t], tl);
            check_guarded(src, n);
            memset(src, 'g', n - tl);
            check_guarded(src, n);
        }
    }
}

/* ---- the choice of variant -------------------------------------------------------- */

static void test_variant_choice(void **state)
{
    (void)state;
    int best = ws6455__utf8_best_variant();
    assert_true(ws6455__utf8_variant_available(best));
    assert_true(ws6455__utf8_variant_available(WS6455__UTF8_SCALAR_ONLY));
    assert_false(ws6455__utf8_variant_available(WS6455__UTF8_VARIANTS));
    assert_false(ws6455__utf8_variant_available(-1));
    assert_null(ws6455__utf8_variant_name(WS6455__UTF8_VARIANTS));
#if (defined(__x86_64__) || defined(__i386__)) && !defined(WS6455_UTF8_SCALAR)
    /* The best the CPU has; SSE2 is part of x86-64. */
#ifdef __x86_64__
    assert_true(ws6455__utf8_variant_available(WS6455__UTF8_SSE2));
#endif
    if (__builtin_cpu_supports("avx2"))
        assert_int_equal(best, WS6455__UTF8_AVX2);
    else if (__builtin_cpu_supports("ssse3"))
        assert_int_equal(best, WS6455__UTF8_SSSE3);
    else if (__builtin_cpu_supports("sse2"))
        assert_int_equal(best, WS6455__UTF8_SSE2);
    else
        assert_int_equal(best, WS6455__UTF8_SCALAR_ONLY);
    assert_false(ws6455__utf8_variant_available(WS6455__UTF8_NEON_LOOKUP));
#elif defined(__aarch64__) && !defined(WS6455_UTF8_SCALAR)
    assert_int_equal(best, WS6455__UTF8_NEON_LOOKUP);
#else
    assert_int_equal(best, WS6455__UTF8_SCALAR_ONLY);
#endif
}

/* Each test's variant comes in as its initial state. */
static int set_variant(void **state)
{
    variant = *(const int *)*state;
    return 0;
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_fast_examples),
        cmocka_unit_test(test_fail_offset_is_per_call),
        cmocka_unit_test(test_failure_is_sticky),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_boundary_code_points),
        cmocka_unit_test(test_every_code_point),
        cmocka_unit_test(test_references_agree),
        cmocka_unit_test(test_exhaustive_1_and_2_bytes),
        cmocka_unit_test(test_exhaustive_3_bytes),
        cmocka_unit_test(test_4_bytes_from_edges),
        cmocka_unit_test(test_ascii_words_every_alignment),
        cmocka_unit_test(test_sequences_at_every_position),
        cmocka_unit_test(test_sequences_in_vector_blocks),
        cmocka_unit_test(test_random_text_in_pieces),
        cmocka_unit_test(test_guard_page),
        cmocka_unit_test(test_unmask_and_validate),
    };
    enum { NTESTS = sizeof tests / sizeof tests[0] };
    /* The variant-independent tests once, then every test per variant. */
    static struct CMUnitTest all[1 + NTESTS * WS6455__UTF8_VARIANTS];
    static char names[NTESTS * WS6455__UTF8_VARIANTS][80];
    static int variants[WS6455__UTF8_VARIANTS];
    size_t count = 0;
    all[count++] = (struct CMUnitTest)cmocka_unit_test(test_variant_choice);
    for (int v = 0; v < WS6455__UTF8_VARIANTS; v++) {
        const char *vname = ws6455__utf8_variant_name(v);
        if (!ws6455__utf8_variant_available(v)) {
            print_message("(variant %s: not available on this machine, not tested)\n", vname);
            continue;
        }
        variants[v] = v;
        for (size_t k = 0; k < NTESTS; k++) {
            char *name = names[v * NTESTS + k];
            snprintf(name, sizeof names[0], "%s (%s)", tests[k].name, vname);
            all[count] = tests[k];
            all[count].name = name;
            all[count].setup_func = set_variant;
            all[count].initial_state = &variants[v];
            count++;
        }
    }
    return _cmocka_run_group_tests("utf8", all, count, NULL, NULL);
}
