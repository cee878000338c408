/* chat_json: the chat protocol's reader and writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chat_json.h"

#include <string.h>

static char type[16], room[65], name[33], text[4097];

static int parse(const char *s, size_t n)
{
    chat_jfield f[] = {{"type", type, sizeof type - 1, 0, 0},
                       {"room", room, 64, 0, 0},
                       {"name", name, 32, 0, 0},
                       {"text", text, 4096, 0, 0}};
    int rc = chat_json_parse(s, n, f, 4);
    return rc < 0 ? -1 : (f[0].found << 0) | (f[1].found << 1) | (f[2].found << 2) | (f[3].found << 3);
}

#define P(s) parse(s, sizeof(s) - 1)

static void test_accepts(void **state)
{
    (void)state;
    assert_int_equal(P("{\"type\":\"join\",\"room\":\"r\",\"name\":\"n\"}"), 7);
    assert_string_equal(type, "join");
    assert_string_equal(room, "r");
    assert_string_equal(name, "n");
    assert_int_equal(P(" { } "), 0);
    assert_int_equal(P("{\"type\":\"m\",\"x\":true,\"y\":false,\"z\":null}"), 1);
    assert_int_equal(P("{\"type\":\"m\",\"n\":-0.5e+10,\"k\":0,\"j\":12.25E-3,\"i\":-7}"), 1);
    assert_int_equal(P("{\"type\" : \"m\" ,\n\"other\":\"\\u0000 skipped\"\t}"), 1);
    assert_int_equal(P("{\"text\":\"\\u00e9\\ud834\\udd1e\\/\\\"\\\\\\b\\f\\n\\r\\t\"}"), 8);
    assert_string_equal(text, "\xc3\xa9\xf0\x9d\x84\x9e/\"\\\b\f\n\r\t");
    /* a key longer than any wanted one is just skipped */
    assert_int_equal(P("{\"a-key-longer-than-sixty-four-bytes-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1,\"type\":\"t\"}"), 1);
}

static void test_refuses_bogus_literals(void **state)
{
    (void)state;
    /* All of these passed the old character-class skip. */
    assert_int_equal(P("{\"type\":\"m\",\"x\":tru}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":nul}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":falsey}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":1e+e}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":truefalse}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":-}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":01}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":1.}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":.5}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":+1}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":1e}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":ee}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"x\":1 2}"), -1);
}

static void test_refuses_nul_and_controls(void **state)
{
    (void)state;
    /* A raw NUL where a literal goes: strchr() found it in the old skip. */
    assert_int_equal(parse("{\"type\":\"m\",\"x\":\0}", 17), -1);
    assert_int_equal(parse("{\"type\":\"m\",\"x\":1\0}", 18), -1);
    assert_int_equal(parse("{\"type\":\"m\0\"}", 13), -1);
    assert_int_equal(parse("{\"type\":\"m\"}\0", 13), -1);
    assert_int_equal(P("{\"type\":\"a\nb\"}"), -1);
    /* \u0000 in a wanted value: names and texts never hold NUL */
    assert_int_equal(P("{\"name\":\"a\\u0000b\"}"), -1);
}

static void test_refuses_structure(void **state)
{
    (void)state;
    assert_int_equal(P(""), -1);
    assert_int_equal(P("[]"), -1);
    assert_int_equal(P("{\"type\":\"m\"} x"), -1);
    assert_int_equal(P("{\"type\":\"m\",}"), -1);
    assert_int_equal(P("{\"type\":\"m\" \"room\":\"r\"}"), -1);
    assert_int_equal(P("{\"type\":\"m\",\"type\":\"n\"}"), -1);
    assert_int_equal(P("{\"type\":1}"), -1);
    assert_int_equal(P("{\"x\":{}}"), -1);
    assert_int_equal(P("{\"x\":[1]}"), -1);
    assert_int_equal(P("{\"type\":\"unterminated}"), -1);
    assert_int_equal(P("{\"type\":\"\\ud800\"}"), -1);
    assert_int_equal(P("{\"type\":\"\\udc00\"}"), -1);
    assert_int_equal(P("{\"type\":\"\\x\"}"), -1);
    assert_int_equal(P("{\"type\":\"\\u12\"}"), -1);
    assert_int_equal(P("{\"type\":\"0123456789abcdefX\"}"), -1); /* 17 bytes > 15 */
    assert_int_equal(P("{\"type\":\"0123456789abcde\"}"), 1);
}

static void test_writer(void **state)
{
    (void)state;
    char buf[128];
    chat_jbuf b;
    chat_jb_init(&b, buf, sizeof buf);
    chat_jb_lit(&b, "{\"s\":");
    const char in[] = "q\" b\\ n\n t\t c\x01 d\x7f \xc3\xbc</";
    chat_jb_str(&b, in, sizeof in - 1);
    chat_jb_lit(&b, "}");
    assert_true(b.ok);
    const char want[] = "{\"s\":\"q\\\" b\\\\ n\\n t\\u0009 c\\u0001 d\\u007f \xc3\xbc</\"}";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(buf, want, b.len);

    /* what the writer wrote, the reader reads back */
    chat_jbuf r;
    char rbuf[128];
    chat_jb_init(&r, rbuf, sizeof rbuf);
    chat_jb_lit(&r, "{\"text\":");
    chat_jb_str(&r, in, sizeof in - 1);
    chat_jb_lit(&r, "}");
    assert_int_equal(parse(r.p, r.len), 8);
    assert_string_equal(text, in);

    chat_jb_init(&b, buf, 4);
    chat_jb_str(&b, "abc", 3);
    assert_false(b.ok);
    chat_jb_lit(&b, "");
    assert_false(b.ok); /* stays failed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses_bogus_literals),
        cmocka_unit_test(test_refuses_nul_and_controls),
        cmocka_unit_test(test_refuses_structure),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
