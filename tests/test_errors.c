/* Every error code has a distinct number, name and message, generated from
 * the one list, and peer violations carry the close code they cause. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static const int all_codes[] = {
#define X(name, num, close, msg) WS6455_ERR_##name,
    WS6455_ERROR_LIST(X)
#undef X
};
#define N_CODES (sizeof all_codes / sizeof all_codes[0])

static void test_codes_negative_and_distinct(void **state)
{
    (void)state;
    assert_true(N_CODES > 40);
    for (size_t i = 0; i < N_CODES; i++) {
        assert_true(all_codes[i] < 0);
        for (size_t j = i + 1; j < N_CODES; j++)
            assert_int_not_equal(all_codes[i], all_codes[j]);
    }
}

static void test_messages_distinct_nonempty(void **state)
{
    (void)state;
    const char *unknown = ws6455_strerror(12345);
    assert_string_equal(unknown, "unknown error");
    assert_string_equal(ws6455_strerror(0), "success");
    for (size_t i = 0; i < N_CODES; i++) {
        const char *m = ws6455_strerror(all_codes[i]);
        assert_non_null(m);
        assert_true(strlen(m) > 0);
        assert_string_not_equal(m, unknown);
        for (size_t j = i + 1; j < N_CODES; j++)
            assert_string_not_equal(m, ws6455_strerror(all_codes[j]));
    }
}

static void test_names_match_enum(void **state)
{
    (void)state;
    assert_string_equal(ws6455_errname(WS6455_ERR_UTF8), "UTF8");
    assert_string_equal(ws6455_errname(WS6455_ERR_INVALID_ARGUMENT), "INVALID_ARGUMENT");
    assert_string_equal(ws6455_errname(0), "OK");
    assert_string_equal(ws6455_errname(-9999), "UNKNOWN");
    for (size_t i = 0; i < N_CODES; i++) {
        const char *n = ws6455_errname(all_codes[i]);
        assert_string_not_equal(n, "UNKNOWN");
        for (size_t j = i + 1; j < N_CODES; j++)
            assert_string_not_equal(n, ws6455_errname(all_codes[j]));
    }
}

static void test_close_codes(void **state)
{
    (void)state;
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_BAD_OPCODE), 1002);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_MASK_REQUIRED), 1002);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_UTF8), 1007);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_CLOSE_REASON), 1007);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_MESSAGE_TOO_BIG), 1009);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_FRAME_TOO_BIG), 1009);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_NOMEM), 1011);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_INVALID_ARGUMENT), 0);
    assert_int_equal(ws6455_error_close_code(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_negative_and_distinct),
        cmocka_unit_test(test_messages_distinct_nonempty),
        cmocka_unit_test(test_names_match_enum),
        cmocka_unit_test(test_close_codes),
    };
    return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
