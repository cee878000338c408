/* base64 against RFC 4648's vectors and encodings recorded from Python
 * (tests/data/base64_vectors.h); round trips; and the strict decoder's
 * rejections: length, alphabet, padding placement and non-canonical
 * padding. Inputs sit flush against a guard page and outputs are exactly
 * as large as required, so any over-read or over-write crashes. */
#include "testutil.h"

#include <limits.h>
#include <string.h>

#include "data/base64_vectors.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of c per RFC 4648 table 1, or -1. */
static int b64_value(int c)
{
    const char *p = c ? strchr(b64_alphabet, c) : NULL;
    return p ? (int)(p - b64_alphabet) : -1;
}

/* A zeroed, writable buffer of exactly cap bytes (cap <= 256) whose end
 * touches a guard page, for catching writes past the stated capacity. */
static uint8_t *guard_buf(size_t cap)
{
    static const uint8_t zeros[256];
    assert_true(cap <= sizeof zeros);
    return tu_guard_copy(zeros, cap);
}

/* Decodes text from a guard copy into a guard buffer of exactly cap bytes. */
static int decode_guarded(const char *text, size_t n, size_t cap, uint8_t *out, size_t *out_len)
{
    uint8_t *in = tu_guard_copy(text, n);
    uint8_t *dst = guard_buf(cap);
    int rc = ws6455_base64_decode((const char *)in, n, dst, cap, out_len);
    if (rc == WS6455_OK)
        memcpy(out, dst, *out_len);
    tu_guard_free(dst, cap);
    tu_guard_free(in, n);
    return rc;
}

static int decode_str(const char *text, uint8_t *out, size_t cap, size_t *out_len)
{
    return decode_guarded(text, strlen(text), cap, out, out_len);
}

/* Encodes into a guard buffer of exactly the size the header requires. */
static void assert_encodes_to(const uint8_t *src, size_t n, const char *want)
{
    size_t len = strlen(want);
    assert_int_equal(WS6455_BASE64_ENCODED_LEN(n), len);
    uint8_t *in = tu_guard_copy(src, n);
    char *dst = (char *)guard_buf(len + 1);
    assert_int_equal(ws6455_base64_encode(in, n, dst, len + 1), (int)len);
    assert_memory_equal(dst, want, len);
    assert_int_equal(dst[len], '\0');
    tu_guard_free((uint8_t *)dst, len + 1);
    tu_guard_free(in, n);
}

static void assert_decodes_to(const char *text, const void *want, size_t want_len)
{
    uint8_t out[256];
    size_t got = 12345;
    assert_int_equal(decode_guarded(text, strlen(text), want_len, out, &got), WS6455_OK);
    assert_int_equal(got, want_len);
    if (want_len)
        assert_memory_equal(out, want, want_len);
}

static void assert_rejected_n(const char *text, size_t n)
{
    uint8_t out[256];
    size_t got = 12345;
    assert_int_equal(decode_guarded(text, n, sizeof out, out, &got), WS6455_ERR_BASE64);
    assert_int_equal(got, 0);
}

static void assert_rejected(const char *text)
{
    assert_rejected_n(text, strlen(text));
}

/* RFC 4648 section 10. */
static const struct {
    const char *raw, *enc;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};
#define N_RFC4648 (sizeof rfc4648 / sizeof rfc4648[0])

static void test_rfc4648_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_RFC4648; i++)
        assert_encodes_to((const uint8_t *)rfc4648[i].raw, strlen(rfc4648[i].raw), rfc4648[i].enc);
}

static void test_rfc4648_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_RFC4648; i++)
        assert_decodes_to(rfc4648[i].enc, rfc4648[i].raw, strlen(rfc4648[i].raw));
}

static void test_recorded_python_vectors(void **state)
{
    (void)state;
    uint8_t pat[B64_VEC_MAX_LEN];
    for (size_t i = 0; i < sizeof pat; i++)
        pat[i] = B64_VEC_PATTERN(i);
    for (size_t n = 0; n <= B64_VEC_MAX_LEN; n++) {
        assert_encodes_to(pat, n, base64_vectors[n]);
        assert_decodes_to(base64_vectors[n], pat, n);
    }
}

static void test_roundtrip_random_lengths(void **state)
{
    (void)state;
    tu_rng rng;
    tu_rng_seed(&rng, 4648);
    for (size_t n = 0; n <= 100; n++) {
        uint8_t raw[100];
        char enc[WS6455_BASE64_ENCODED_LEN(100) + 1];
        tu_rng_fill(&rng, raw, n);
        size_t len = WS6455_BASE64_ENCODED_LEN(n);
        assert_int_equal(ws6455_base64_encode(raw, n, enc, sizeof enc), (int)len);
        assert_int_equal(strlen(enc), len);
        for (size_t i = 0; i < len; i++)
            assert_true(b64_value(enc[i]) >= 0 || (enc[i] == '=' && i + 2 >= len));
        assert_decodes_to(enc, raw, n);
    }
}

static void test_decode_empty(void **state)
{
    (void)state;
    size_t got = 99;
    uint8_t out[1];
    assert_int_equal(ws6455_base64_decode("", 0, out, sizeof out, &got), WS6455_OK);
    assert_int_equal(got, 0);
    got = 99;
    assert_int_equal(ws6455_base64_decode(NULL, 0, NULL, 0, &got), WS6455_OK);
    assert_int_equal(got, 0);
}

static void test_decode_rejects_length_not_multiple_of_4(void **state)
{
    (void)state;
    static const char *const full = "Zm9vYmFyZg==";
    for (size_t n = 1; n < strlen(full); n++)
        if (n % 4 != 0)
            assert_rejected_n(full, n);
    assert_rejected("Zg=");
    assert_rejected("Zg");
    assert_rejected("Zm9vYg===");
}

/* Non-alphabet characters must be rejected wherever they appear, including
 * the URL-safe alphabet, whitespace, NUL and bytes with the high bit set. */
static void test_decode_rejects_foreign_characters(void **state)
{
    (void)state;
    static const unsigned char bad[] = {'-',  '_',  ' ', '\n', '\r', '\t', '\0',
                                        0x80, 0xff, '.', '*',  '\\', '~',  0x7f};
    char text[] = "Zm9vYmFy";
    for (size_t b = 0; b < sizeof bad; b++) {
        for (size_t pos = 0; pos < 8; pos++) {
            char saved = text[pos];
            text[pos] = (char)bad[b];
            assert_rejected_n(text, 8);
            text[pos] = saved;
        }
    }
}

/* Every byte value at every position of an unpadded group: accepted exactly
 * when it is in the alphabet, and then decoded to the value RFC 4648 gives. */
static void test_decode_every_byte_value(void **state)
{
    (void)state;
    for (int pos = 0; pos < 4; pos++) {
        for (int c = 0; c < 256; c++) {
            if (c == '=')
                continue; /* padding has its own tests */
            char text[4] = {'A', 'A', 'A', 'A'};
            text[pos] = (char)c;
            uint8_t out[3];
            size_t got = 0;
            int v = b64_value(c);
            int rc = decode_guarded(text, 4, 3, out, &got);
            if (v < 0) {
                assert_int_equal(rc, WS6455_ERR_BASE64);
                continue;
            }
            assert_int_equal(rc, WS6455_OK);
            assert_int_equal(got, 3);
            uint32_t word = (uint32_t)v << (6 * (3 - pos));
            uint8_t want[3] = {(uint8_t)(word >> 16), (uint8_t)(word >> 8), (uint8_t)word};
            assert_memory_equal(out, want, 3);
        }
    }
}

static void test_decode_padding_placement(void **state)
{
    (void)state;
    /* padding only in the last group */
    assert_rejected("Zg==Zg==");
    assert_rejected("Zm8=Zm8=");
    assert_rejected("Zg==AAAA");
    assert_rejected("Zm8=AAAA");
    /* padding only in the last one or two positions, and contiguous */
    assert_rejected("=AAA");
    assert_rejected("A=AA");
    assert_rejected("AA=A");
    assert_rejected("A=A=");
    assert_rejected("Zm9vA=A=");
    /* at most two '=' */
    assert_rejected("A===");
    assert_rejected("====");
    assert_rejected("Zm9vY===");
    assert_rejected("Zm9v====");
    /* and the good spellings still decode */
    assert_decodes_to("Zm9vYg==", "foob", 4);
    assert_decodes_to("Zm9vYmE=", "fooba", 5);
}

/* "Zg==" is the one spelling of "f": the second character's low 4 bits are
 * unused and must be zero ("Zh==" sets one). Likewise "Zm8=" for "fo": the
 * third character's low 2 bits are unused ("Zm9=" sets one). */
static void test_decode_rejects_noncanonical_padding(void **state)
{
    (void)state;
    assert_decodes_to("Zg==", "f", 1);
    assert_rejected("Zh==");
    assert_rejected("Zv==");
    assert_decodes_to("Zm8=", "fo", 2);
    assert_rejected("Zm9=");
    assert_rejected("Zm/=");
    assert_rejected("Zm9vYh==");
    assert_rejected("Zm9vYmF=");

    for (int i = 0; i < 64; i++) {
        char c = b64_alphabet[i];
        uint8_t out[2];
        size_t got = 0;

        char two[4] = {'Z', c, '=', '='};
        int rc = decode_guarded(two, 4, 1, out, &got);
        if (i & 0x0f) {
            assert_int_equal(rc, WS6455_ERR_BASE64);
        } else {
            assert_int_equal(rc, WS6455_OK);
            assert_int_equal(got, 1);
            assert_int_equal(out[0], 25 << 2 | i >> 4);
        }

        char three[4] = {'Z', 'm', c, '='};
        rc = decode_guarded(three, 4, 2, out, &got);
        if (i & 0x03) {
            assert_int_equal(rc, WS6455_ERR_BASE64);
        } else {
            assert_int_equal(rc, WS6455_OK);
            assert_int_equal(got, 2);
            assert_int_equal(out[0], 'f');
            assert_int_equal(out[1], (38 & 0x0f) << 4 | i >> 2);
        }
    }
}

static void test_encode_buffer_too_small(void **state)
{
    (void)state;
    static const uint8_t raw[] = "foobar!";
    for (size_t n = 0; n <= 7; n++) {
        size_t len = WS6455_BASE64_ENCODED_LEN(n);
        /* Every capacity short of len + 1 fails, and writes nothing past
         * the capacity (the guard page would fault). */
        for (size_t cap = 0; cap <= len; cap++) {
            char *dst = (char *)guard_buf(cap);
            assert_int_equal(ws6455_base64_encode(raw, n, dst, cap), WS6455_ERR_BUFFER_TOO_SMALL);
            tu_guard_free((uint8_t *)dst, cap);
        }
        char out[16];
        assert_int_equal(ws6455_base64_encode(raw, n, out, len + 1), (int)len);
    }
}

static void test_decode_buffer_too_small(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t need;
    } cases[] = {{"Zg==", 1},     {"Zm8=", 2},     {"Zm9v", 3},
                 {"Zm9vYg==", 4}, {"Zm9vYmE=", 5}, {"Zm9vYmFy", 6}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t cap = 0; cap < cases[i].need; cap++) {
            uint8_t out[8];
            size_t got = 99;
            assert_int_equal(decode_str(cases[i].text, out, cap, &got),
                             WS6455_ERR_BUFFER_TOO_SMALL);
            assert_int_equal(got, 0);
        }
    }
    /* Malformed input is reported as malformed even when dst is also small,
     * so the caller learns the real problem. */
    uint8_t out[1];
    size_t got = 99;
    assert_int_equal(decode_str("Zm9vYh==", out, 1, &got), WS6455_ERR_BASE64);
    assert_int_equal(decode_str("Zm9vYmF-", out, 0, &got), WS6455_ERR_BASE64);
}

static void test_null_arguments(void **state)
{
    (void)state;
    char enc[8];
    uint8_t raw[8];
    size_t got = 0;

    assert_int_equal(ws6455_base64_encode(NULL, 1, enc, sizeof enc), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_base64_encode((const uint8_t *)"f", 1, NULL, 8),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_base64_encode(NULL, 0, NULL, 0), WS6455_ERR_INVALID_ARGUMENT);
    /* an empty input may be NULL, like sha1_update's */
    enc[0] = 'x';
    assert_int_equal(ws6455_base64_encode(NULL, 0, enc, 1), 0);
    assert_int_equal(enc[0], '\0');

    assert_int_equal(ws6455_base64_decode(NULL, 4, raw, sizeof raw, &got),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_base64_decode("Zg==", 4, NULL, 1, &got), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_base64_decode("Zg==", 4, raw, sizeof raw, NULL),
                     WS6455_ERR_INVALID_ARGUMENT);
    /* a NULL dst of capacity 0 is just a too-small buffer */
    assert_int_equal(ws6455_base64_decode("Zg==", 4, NULL, 0, &got), WS6455_ERR_BUFFER_TOO_SMALL);
}

/* The encoded length must neither wrap a size_t nor overflow the int
 * return value; such a request is refused before src or dst is touched. */
static void test_encode_huge_length_refused(void **state)
{
    (void)state;
    char out[4];
    static const uint8_t one = 0;
    assert_int_equal(ws6455_base64_encode(&one, SIZE_MAX, out, sizeof out),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_base64_encode(&one, SIZE_MAX / 4 * 3, out, SIZE_MAX),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_base64_encode(&one, (size_t)INT_MAX / 4 * 3 + 1, out, SIZE_MAX),
                     WS6455_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_encode),
        cmocka_unit_test(test_rfc4648_decode),
        cmocka_unit_test(test_recorded_python_vectors),
        cmocka_unit_test(test_roundtrip_random_lengths),
        cmocka_unit_test(test_decode_empty),
        cmocka_unit_test(test_decode_rejects_length_not_multiple_of_4),
        cmocka_unit_test(test_decode_rejects_foreign_characters),
        cmocka_unit_test(test_decode_every_byte_value),
        cmocka_unit_test(test_decode_padding_placement),
        cmocka_unit_test(test_decode_rejects_noncanonical_padding),
        cmocka_unit_test(test_encode_buffer_too_small),
        cmocka_unit_test(test_decode_buffer_too_small),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_encode_huge_length_refused),
    };
    return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
