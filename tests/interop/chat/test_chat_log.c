/* chat_log: what clients choose cannot forge or break a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chat_log.h"

#include <string.h>

static const char *esc(const char *s, size_t n)
{
    static char out[CHAT_ESC_SIZE(64)];
    return chat_log_escape(out, sizeof out, s, n);
}

#define E(s) esc(s, sizeof(s) - 1)

static void test_keeps_printable(void **state)
{
    (void)state;
    assert_string_equal(E("alice"), "alice");
    assert_string_equal(E("bob \"the builder\" \xe2\x98\x83"), "bob \"the builder\" \xe2\x98\x83");
    assert_string_equal(E("\xc2\xa0\xf0\x9f\x98\x80"), "\xc2\xa0\xf0\x9f\x98\x80");
}

static void test_escapes_controls(void **state)
{
    (void)state;
    /* a name that tries to end the line and forge the next one */
    assert_string_equal(E("eve\njoin room=r name=admin"), "eve\\x0ajoin room=r name=admin");
    assert_string_equal(E("a\rb\tc\x1b[2Jd\x7f"), "a\\x0db\\x09c\\x1b[2Jd\\x7f");
    assert_string_equal(esc("a\0b", 3), "a\\x00b");
    assert_string_equal(E("back\\slash"), "back\\x5cslash");
    /* C1 controls (CSI is U+009B) and bytes that are not UTF-8 */
    assert_string_equal(E("\xc2\x9b" "31m"), "\\xc2\\x9b31m");
    assert_string_equal(E("\xff\xc3"), "\\xff\\xc3");
    assert_string_equal(E("\xed\xa0\x80"), "\\xed\\xa0\\x80");     /* surrogate */
    assert_string_equal(E("\xc0\xaf"), "\\xc0\\xaf");               /* overlong */
}

static void test_truncates(void **state)
{
    (void)state;
    char out[12];
    chat_log_escape(out, sizeof out, "abcdefghijklmnop", 16);
    assert_string_equal(out, "abcdefgh...");
    chat_log_escape(out, sizeof out, "\n\n\n\n", 4);
    assert_string_equal(out, "\\x0a\\x0a...");
    char big[CHAT_ESC_SIZE(4)];
    chat_log_escape(big, sizeof big, "\n\n\n\n", 4);
    assert_string_equal(big, "\\x0a\\x0a\\x0a\\x0a");
    char tiny[3] = "xx";
    chat_log_escape(tiny, sizeof tiny, "abc", 3);
    assert_string_equal(tiny, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keeps_printable),
        cmocka_unit_test(test_escapes_controls),
        cmocka_unit_test(test_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
