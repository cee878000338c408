/* The version: the linked library reports the header's version, and the
 * string and the number say the same thing. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static void test_linked_version_is_the_headers(void **state)
{
    (void)state;
    const char *v = ws6455_version();
    assert_non_null(v);
    assert_string_equal(v, WS6455_VERSION);
}

static void test_version_string_matches_number(void **state)
{
    (void)state;
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", WS6455_VERSION_NUM / 10000, WS6455_VERSION_NUM / 100 % 100,
             WS6455_VERSION_NUM % 100);
    assert_string_equal(buf, WS6455_VERSION);
}

/* "MAJOR.MINOR.PATCH": three dot-separated decimal numbers and nothing else. */
static void test_version_string_shape(void **state)
{
    (void)state;
    unsigned a, b, c;
    int end = 0;
    assert_int_equal(sscanf(WS6455_VERSION, "%u.%u.%u%n", &a, &b, &c, &end), 3);
    assert_int_equal((size_t)end, strlen(WS6455_VERSION));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linked_version_is_the_headers),
        cmocka_unit_test(test_version_string_matches_number),
        cmocka_unit_test(test_version_string_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
