/* Sec-WebSocket-Accept: RFC 6455's worked example, 200 keys whose accept
 * values were recorded from Python (tests/data/accept_vectors.h), and the
 * keys that are not base64 of exactly 16 bytes. */
#include "testutil.h"

#include <string.h>

#include "data/accept_vectors.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* Runs ws6455_accept_key with the key flush against a guard page and out
 * exactly 29 bytes long, also flush against one. On success copies the
 * result to got (29 bytes). */
static int accept_guarded(const char *key, size_t key_len, char got[29])
{
    /* Filled with a non-NUL byte so a missing terminator shows. */
    uint8_t fill[29];
    memset(fill, 0x55, sizeof fill);
    uint8_t *k = tu_guard_copy(key, key_len);
    char *out = (char *)tu_guard_copy(fill, sizeof fill);
    int rc = ws6455_accept_key((const char *)k, key_len, out);
    if (rc == WS6455_OK)
        memcpy(got, out, 29);
    tu_guard_free((uint8_t *)out, sizeof fill);
    tu_guard_free(k, key_len);
    return rc;
}

static void assert_accept(const char *key, const char *want)
{
    char got[29];
    assert_int_equal(strlen(want), 28);
    assert_int_equal(accept_guarded(key, strlen(key), got), WS6455_OK);
    assert_memory_equal(got, want, 28);
    assert_int_equal(got[28], '\0');
}

static void assert_bad_key_n(const char *key, size_t key_len)
{
    char got[29];
    assert_int_equal(accept_guarded(key, key_len, got), WS6455_ERR_BAD_KEY);
}

static void assert_bad_key(const char *key)
{
    assert_bad_key_n(key, strlen(key));
}

/* RFC 6455 section 1.3. */
static void test_rfc6455_example(void **state)
{
    (void)state;
    assert_accept(RFC_KEY, RFC_ACCEPT);

    /* and from an ordinary stack buffer, with no NUL after the key */
    char key[24];
    memcpy(key, RFC_KEY, sizeof key);
    char out[29];
    memset(out, 'x', sizeof out);
    assert_int_equal(ws6455_accept_key(key, sizeof key, out), WS6455_OK);
    assert_memory_equal(out, RFC_ACCEPT, 28);
    assert_int_equal(out[28], '\0');
}

static void test_recorded_python_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof accept_vectors / sizeof accept_vectors[0]; i++)
        assert_accept(accept_vectors[i].key, accept_vectors[i].accept);
}

static void test_wrong_length_keys(void **state)
{
    (void)state;
    assert_bad_key("");
    assert_bad_key_n(RFC_KEY, 0);
    assert_bad_key("dGhlIHNhbXBsZSBub25jZQ=");      /* 23 characters */
    assert_bad_key_n(RFC_KEY, 23);                  /* the RFC key, cut short by key_len */
    assert_bad_key("dGhlIHNhbXBsZSBub25jZQ==A");    /* 25 characters */
    assert_bad_key("dGhlIHNhbXBsZSBub25jZQ==Zg=="); /* 28 characters, valid base64 */
    assert_bad_key("dGhlIHNhbXBsZSBub25j");         /* 20 characters: 15 bytes */
    assert_bad_key(RFC_ACCEPT);                     /* 28 characters: 20 bytes */
}

/* 24 characters, valid base64, but not of 16 bytes. */
static void test_24_chars_wrong_byte_count(void **state)
{
    (void)state;
    assert_bad_key("AAAAAAAAAAAAAAAAAAAAAAA="); /* 17 bytes */
    assert_bad_key("AAAAAAAAAAAAAAAAAAAAAAAA"); /* 18 bytes */
    assert_bad_key("dGhlIHNhbXBsZSBub25jZQZl"); /* 18 bytes */
}

/* The last character before "==" carries 2 bits of the nonce and 4 unused
 * bits; only the 4 spellings with those bits zero are keys. */
static void test_noncanonical_keys(void **state)
{
    (void)state;
    assert_bad_key("dGhlIHNhbXBsZSBub25jZR==");
    int accepted = 0;
    for (int i = 0; i < 64; i++) {
        char key[24];
        memcpy(key, RFC_KEY, sizeof key);
        key[21] = b64_alphabet[i];
        char got[29];
        int rc = accept_guarded(key, sizeof key, got);
        if (i & 0x0f) {
            assert_int_equal(rc, WS6455_ERR_BAD_KEY);
        } else {
            assert_int_equal(rc, WS6455_OK);
            accepted++;
        }
    }
    assert_int_equal(accepted, 4);
}

/* Any byte outside the alphabet, at any of the 22 data positions, makes the
 * key bad; so does '=' anywhere but the last two positions. */
static void test_foreign_characters(void **state)
{
    (void)state;
    for (int pos = 0; pos < 22; pos++) {
        for (int c = 0; c < 256; c++) {
            if (c != 0 && strchr(b64_alphabet, c))
                continue;
            char key[24];
            memcpy(key, RFC_KEY, sizeof key);
            key[pos] = (char)c;
            assert_bad_key_n(key, sizeof key);
        }
    }
    assert_bad_key("dGhlIHNhbXBsZSBub25j-Q==");
    assert_bad_key("dGhlIHNhbXBsZSBub25j_Q==");
    assert_bad_key("dGhlIHNhbXBsZSBub25jZQ-=");
    assert_bad_key("dGhlIHNhbXBsZSBub25jZQ=A");
}

/* The header requires the caller to strip header whitespace first. */
static void test_surrounding_whitespace(void **state)
{
    (void)state;
    assert_bad_key(" " RFC_KEY);
    assert_bad_key(RFC_KEY " ");
    assert_bad_key(" " RFC_KEY " ");
    assert_bad_key("\t" RFC_KEY);
    assert_bad_key(RFC_KEY "\r\n");
    assert_bad_key(" GhlIHNhbXBsZSBub25jZQ=="); /* 24 characters with the space */
    assert_bad_key("dGhlIHNhbXBsZSBub25jZQ= ");
    assert_bad_key_n(RFC_KEY "\0", 25);
}

/* The key check is written apart from ws6455_base64_decode (so a server
 * does not link the decoder) and must agree with it: a key is valid exactly
 * when it decodes to 16 bytes. Every byte at every position of the RFC's
 * key, and of a key with each of the four valid last characters. */
static void test_agrees_with_base64_decoder(void **state)
{
    (void)state;
    static const char *const bases[] = {RFC_KEY, "AAAAAAAAAAAAAAAAAAAAAA==",
                                        "/////////////////////Q==", "+++++++++++++++++++++g==",
                                        "zzzzzzzzzzzzzzzzzzzzzw=="};
    int valid = 0, invalid = 0;
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        for (int pos = 0; pos < 24; pos++) {
            for (int c = 0; c < 256; c++) {
                char key[24];
                memcpy(key, bases[b], sizeof key);
                key[pos] = (char)c;
                uint8_t nonce[18];
                size_t n = 0;
                int decodes = ws6455_base64_decode(key, sizeof key, nonce, sizeof nonce, &n) ==
                                  WS6455_OK &&
                              n == 16;
                char out[29];
                int rc = ws6455_accept_key(key, sizeof key, out);
                assert_int_equal(rc, decodes ? WS6455_OK : WS6455_ERR_BAD_KEY);
                valid += decodes;
                invalid += !decodes;
            }
        }
    }
    /* Both outcomes occur at every position: the test can tell them apart. */
    assert_true(valid > 5 * 22 * 4);
    assert_true(invalid > 5 * 24 * 150);
}

static void test_null_arguments(void **state)
{
    (void)state;
    char out[29];
    assert_int_equal(ws6455_accept_key(NULL, 24, out), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_accept_key(NULL, 0, out), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_accept_key(RFC_KEY, 24, NULL), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_accept_key(NULL, 0, NULL), WS6455_ERR_INVALID_ARGUMENT);
    /* a bad key with a NULL out is still a caller error first */
    assert_int_equal(ws6455_accept_key("x", 1, NULL), WS6455_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6455_example),
        cmocka_unit_test(test_recorded_python_vectors),
        cmocka_unit_test(test_wrong_length_keys),
        cmocka_unit_test(test_24_chars_wrong_byte_count),
        cmocka_unit_test(test_noncanonical_keys),
        cmocka_unit_test(test_foreign_characters),
        cmocka_unit_test(test_surrounding_whitespace),
        cmocka_unit_test(test_agrees_with_base64_decoder),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests_name("accept", tests, NULL, NULL);
}
