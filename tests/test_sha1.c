/* SHA-1 against the FIPS 180-4 example vectors, against digests recorded
 * from Python's hashlib (tests/data/sha1_vectors.h), and streaming against
 * one-shot hashing for every split of the input. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "data/sha1_vectors.h"

static void sha1_oneshot(const void *p, size_t n, uint8_t digest[20])
{
    ws6455_sha1 ctx;
    ws6455_sha1_init(&ctx);
    ws6455_sha1_update(&ctx, p, n);
    ws6455_sha1_final(&ctx, digest);
}

static void sha1_bytewise(const uint8_t *p, size_t n, uint8_t digest[20])
{
    ws6455_sha1 ctx;
    ws6455_sha1_init(&ctx);
    for (size_t i = 0; i < n; i++)
        ws6455_sha1_update(&ctx, p + i, 1);
    ws6455_sha1_final(&ctx, digest);
}

static void assert_digest_hex(const uint8_t digest[20], const char *hex)
{
    uint8_t want[20];
    assert_int_equal(tu_hex(hex, want, sizeof want), 20);
    assert_memory_equal(digest, want, 20);
}

static void fill_pattern(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = SHA1_VEC_PATTERN(i);
}

/* FIPS 180-4 examples (the NIST "SHA1.pdf" examples and the SHAVS long
 * message), plus the empty message. */
static const struct {
    const char *msg;
    const char *digest;
} fips_vectors[] = {
    {"", "da39a3ee 5e6b4b0d 3255bfef 95601890 afd80709"},
    {"abc", "a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "84983e44 1c3bd26e baae4aa1 f95129e5 e54670f1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnop"
     "q"
     "rsmnopqrstnopqrstu",
     "a49b2446 a02c645b f419f995 b6709125 3a04a259"},
};

static void test_fips_vectors(void **state)
{
    (void)state;
    assert_int_equal(strlen(fips_vectors[2].msg), 56);
    assert_int_equal(strlen(fips_vectors[3].msg), 112);
    for (size_t i = 0; i < sizeof fips_vectors / sizeof fips_vectors[0]; i++) {
        const char *m = fips_vectors[i].msg;
        size_t n = strlen(m);
        uint8_t *g = tu_guard_copy(m, n);
        uint8_t d[20];
        sha1_oneshot(g, n, d);
        assert_digest_hex(d, fips_vectors[i].digest);
        sha1_bytewise(g, n, d);
        assert_digest_hex(d, fips_vectors[i].digest);
        tu_guard_free(g, n);
    }
}

/* One million 'a', fed in chunk sizes chosen to straddle the 64-byte block
 * boundary in every way: fill a partial block, finish it exactly, overshoot
 * it, and pass several whole blocks at once from a misaligned position. */
static void test_million_a_uneven_chunks(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 63, 64, 65, 0, 127, 128, 129, 55, 56, 57, 7, 1000, 3, 4096};
    const size_t total = 1000000;
    uint8_t *buf = malloc(total);
    assert_non_null(buf);
    memset(buf, 'a', total);

    ws6455_sha1 ctx;
    ws6455_sha1_init(&ctx);
    size_t done = 0;
    for (size_t k = 0; done < total; k++) {
        size_t c = chunks[k % (sizeof chunks / sizeof chunks[0])];
        if (c > total - done)
            c = total - done;
        ws6455_sha1_update(&ctx, buf + done, c);
        done += c;
    }
    uint8_t d[20];
    ws6455_sha1_final(&ctx, d);
    assert_digest_hex(d, "34aa973c d4c4daa4 f61eeb2b dbad2731 6534016f");

    sha1_oneshot(buf, total, d);
    assert_digest_hex(d, "34aa973c d4c4daa4 f61eeb2b dbad2731 6534016f");
    free(buf);
}

/* Every length 0..300 crosses each padding case: the length fits in the
 * last block (< 56 bytes left) or forces an extra block (56..63 left). */
static void test_recorded_lengths_0_to_300(void **state)
{
    (void)state;
    uint8_t pat[SHA1_VEC_MAX_LEN];
    fill_pattern(pat, sizeof pat);
    for (size_t n = 0; n <= SHA1_VEC_MAX_LEN; n++) {
        uint8_t *g = tu_guard_copy(pat, n);
        uint8_t d[20];
        sha1_oneshot(g, n, d);
        assert_memory_equal(d, sha1_vectors[n], 20);
        sha1_bytewise(g, n, d);
        assert_memory_equal(d, sha1_vectors[n], 20);
        tu_guard_free(g, n);
    }
}

/* Cutting a 200-byte input into three parts at every pair of positions
 * (which includes every two-part split and empty parts) changes nothing. */
static void test_split_at_every_position(void **state)
{
    (void)state;
    enum { N = 200 };
    uint8_t data[N];
    tu_rng rng;
    tu_rng_seed(&rng, 200);
    tu_rng_fill(&rng, data, N);
    uint8_t want[20];
    sha1_oneshot(data, N, want);

    for (size_t i = 0; i <= N; i++) {
        for (size_t j = i; j <= N; j++) {
            ws6455_sha1 ctx;
            uint8_t d[20];
            ws6455_sha1_init(&ctx);
            ws6455_sha1_update(&ctx, data, i);
            ws6455_sha1_update(&ctx, data + i, j - i);
            ws6455_sha1_update(&ctx, data + j, N - j);
            ws6455_sha1_final(&ctx, d);
            assert_memory_equal(d, want, 20);
        }
    }
}

static void test_random_splits_of_random_data(void **state)
{
    (void)state;
    enum { MAX = 3000 };
    uint8_t *data = malloc(MAX);
    assert_non_null(data);
    tu_rng rng;
    tu_rng_seed(&rng, 0x5A1);
    for (int iter = 0; iter < 300; iter++) {
        size_t n = (size_t)tu_rng_below(&rng, MAX + 1);
        tu_rng_fill(&rng, data, n);
        uint8_t want[20], d[20];
        sha1_oneshot(data, n, want);

        ws6455_sha1 ctx;
        ws6455_sha1_init(&ctx);
        size_t done = 0;
        while (done < n) {
            /* Mostly small pieces, sometimes several blocks at once. */
            size_t limit = tu_rng_below(&rng, 4) == 0 ? 400 : 70;
            size_t c = (size_t)tu_rng_below(&rng, limit + 1);
            if (c > n - done)
                c = n - done;
            ws6455_sha1_update(&ctx, data + done, c);
            done += c;
        }
        ws6455_sha1_final(&ctx, d);
        assert_memory_equal(d, want, 20);
    }
    free(data);
}

/* The header allows p == NULL with n == 0; such calls must change nothing. */
static void test_empty_updates(void **state)
{
    (void)state;
    ws6455_sha1 ctx;
    uint8_t d[20];
    ws6455_sha1_init(&ctx);
    ws6455_sha1_update(&ctx, NULL, 0);
    ws6455_sha1_update(&ctx, "a", 1);
    ws6455_sha1_update(&ctx, NULL, 0);
    ws6455_sha1_update(&ctx, "bc", 2);
    ws6455_sha1_update(&ctx, "xyz", 0);
    ws6455_sha1_final(&ctx, d);
    assert_digest_hex(d, "a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d");

    ws6455_sha1_init(&ctx);
    ws6455_sha1_update(&ctx, NULL, 0);
    ws6455_sha1_final(&ctx, d);
    assert_digest_hex(d, "da39a3ee 5e6b4b0d 3255bfef 95601890 afd80709");
}

/* Contexts are independent values: interleaving two changes neither, and a
 * finished context gives the same results again once re-initialised. */
static void test_contexts_independent_and_reusable(void **state)
{
    (void)state;
    uint8_t pat[SHA1_VEC_MAX_LEN];
    fill_pattern(pat, sizeof pat);
    ws6455_sha1 a, b;
    uint8_t d[20];

    for (int round = 0; round < 2; round++) {
        ws6455_sha1_init(&a);
        ws6455_sha1_init(&b);
        /* a takes 30 bytes a step and b 10, so b ends at 100 bytes. */
        for (size_t step = 0; step < 10; step++) {
            ws6455_sha1_update(&a, pat + 30 * step, 30);
            ws6455_sha1_update(&b, pat + 10 * step, 10);
        }
        ws6455_sha1_update(&b, NULL, 0);
        ws6455_sha1_final(&a, d);
        assert_memory_equal(d, sha1_vectors[300], 20);
        ws6455_sha1_final(&b, d);
        assert_memory_equal(d, sha1_vectors[100], 20);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a_uneven_chunks),
        cmocka_unit_test(test_recorded_lengths_0_to_300),
        cmocka_unit_test(test_split_at_every_position),
        cmocka_unit_test(test_random_splits_of_random_data),
        cmocka_unit_test(test_empty_updates),
        cmocka_unit_test(test_contexts_independent_and_reusable),
    };
    return cmocka_run_group_tests_name("sha1", tests, NULL, NULL);
}
