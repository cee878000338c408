/* chat_map: the hash table of rooms and names, and its SipHash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chat_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_siphash_reference(void **state)
{
    (void)state;
    /* SipHash-2-4 of bytes 00..0e under key 00..0f: the paper's example
     * (appendix A), 0xa129ca6149be45e5. */
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    assert_true(chat_siphash(2, 4, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull, msg, 15) ==
                0xa129ca6149be45e5ull);
    /* different keys, different hashes */
    assert_true(chat_siphash(1, 3, 1, 2, "room", 4) != chat_siphash(1, 3, 2, 1, "room", 4));
}

typedef struct ent {
    chat_map_node node;
    char key[16];
} ent;

static void test_put_get_del_iterate(void **state)
{
    (void)state;
    uint8_t key[16] = {1, 2, 3};
    chat_map m;
    chat_map_init(&m, key);
    assert_null(chat_map_get(&m, "x", 1));
    enum { N = 5000 };
    ent *e = calloc(N, sizeof *e);
    for (int i = 0; i < N; i++) {
        snprintf(e[i].key, sizeof e[i].key, "k%d", i);
        e[i].node.key = e[i].key;
        e[i].node.len = strlen(e[i].key);
        assert_int_equal(chat_map_put(&m, &e[i].node), 0);
    }
    assert_int_equal(m.count, N);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(chat_map_get(&m, e[i].key, strlen(e[i].key)), &e[i].node);
    assert_null(chat_map_get(&m, "k", 1));
    assert_null(chat_map_get(&m, "k1\0", 3));
    /* iterate, deleting every other node as we go */
    chat_map_iter it;
    chat_map_iter_init(&it);
    int seen = 0;
    for (chat_map_node *n; (n = chat_map_iter_next(&m, &it));) {
        seen++;
        ent *x = (ent *)n;
        if ((x - e) % 2)
            chat_map_del(&m, n);
    }
    assert_int_equal(seen, N);
    assert_int_equal(m.count, N / 2);
    for (int i = 0; i < N; i++)
        assert_true((chat_map_get(&m, e[i].key, strlen(e[i].key)) != NULL) == (i % 2 == 0));
    chat_map_free(&m);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_reference),
        cmocka_unit_test(test_put_get_del_iterate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
