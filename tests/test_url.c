/* ws6455_url_parse (src/url.c): a table of good URLs with every field they
 * yield, and a table of bad ones with the exact error each gives. */
#include "testutil.h"

#include <string.h>

typedef struct good_url {
    const char *url;
    int secure;
    const char *host;
    int host_is_ipv6;
    unsigned port;
    int port_explicit;
    const char *target;
} good_url;

static const good_url good[] = {
    {"ws://example.com", 0, "example.com", 0, 80, 0, "/"},
    {"wss://example.com", 1, "example.com", 0, 443, 0, "/"},
    {"ws://example.com/", 0, "example.com", 0, 80, 0, "/"},
    {"WS://Example.COM/Chat", 0, "Example.COM", 0, 80, 0, "/Chat"},
    {"WsS://h/", 1, "h", 0, 443, 0, "/"},
    {"ws://h:8080/chat?room=1&x=%20", 0, "h", 0, 8080, 1, "/chat?room=1&x=%20"},
    {"wss://h:443", 1, "h", 0, 443, 1, "/"},
    {"ws://h:1", 0, "h", 0, 1, 1, "/"},
    {"ws://h:65535/", 0, "h", 0, 65535, 1, "/"},
    {"ws://h:00080/", 0, "h", 0, 80, 1, "/"},
    /* An empty port means the default (RFC 3986 3.2.3). */
    {"ws://h:/x", 0, "h", 0, 80, 0, "/x"},
    {"wss://h:", 1, "h", 0, 443, 0, "/"},
    /* A query without a path: target is "?x"; the request line gets "/?x". */
    {"ws://h?x=1", 0, "h", 0, 80, 0, "?x=1"},
    {"ws://h:81?x", 0, "h", 0, 81, 1, "?x"},
    {"ws://127.0.0.1:9001/", 0, "127.0.0.1", 0, 9001, 1, "/"},
    {"ws://[::1]/", 0, "::1", 1, 80, 0, "/"},
    {"wss://[::1]:8443/a", 1, "::1", 1, 8443, 1, "/a"},
    {"ws://[2001:db8::ff00:42:8329]", 0, "2001:db8::ff00:42:8329", 1, 80, 0, "/"},
    {"ws://[2001:0db8:0000:0000:0000:ff00:0042:8329]", 0, "2001:0db8:0000:0000:0000:ff00:0042:8329",
     1, 80, 0, "/"},
    {"ws://[::]/", 0, "::", 1, 80, 0, "/"},
    {"ws://[::ffff:192.0.2.1]/", 0, "::ffff:192.0.2.1", 1, 80, 0, "/"},
    {"ws://[1::]/", 0, "1::", 1, 80, 0, "/"},
    {"ws://my-host_1.example~/p/a/t/h;x=1:@!$&'()*+,=?q/?", 0, "my-host_1.example~", 0, 80, 0,
     "/p/a/t/h;x=1:@!$&'()*+,=?q/?"},
    {"ws://h%41/", 0, "h%41", 0, 80, 0, "/"},
    {"ws://h//x", 0, "h", 0, 80, 0, "//x"},
};

typedef struct bad_url {
    const char *url;
    int err;
} bad_url;

static const bad_url bad[] = {
    {"http://h/", WS6455_ERR_URL_SCHEME},
    {"https://h/", WS6455_ERR_URL_SCHEME},
    {"wsx://h/", WS6455_ERR_URL_SCHEME},
    {"w://h/", WS6455_ERR_URL_SCHEME},
    {"h:80/", WS6455_ERR_URL_SCHEME},
    {"example.com", WS6455_ERR_URL_SCHEME},
    {"", WS6455_ERR_URL_SCHEME},
    {"ws:h/", WS6455_ERR_URL_MALFORMED},
    {"ws:/h/", WS6455_ERR_URL_MALFORMED},
    {"ws://h/#frag", WS6455_ERR_URL_FRAGMENT},
    {"ws://h#", WS6455_ERR_URL_FRAGMENT},
    {"ws://h/?q#f", WS6455_ERR_URL_FRAGMENT},
    {"ws://user@h/", WS6455_ERR_URL_USERINFO},
    {"ws://user:pw@h:80/", WS6455_ERR_URL_USERINFO},
    {"ws://@h/", WS6455_ERR_URL_USERINFO},
    {"ws://h:0/", WS6455_ERR_URL_PORT},
    {"ws://h:65536/", WS6455_ERR_URL_PORT},
    {"ws://h:99999999999999999999/", WS6455_ERR_URL_PORT},
    {"ws://h:8o/", WS6455_ERR_URL_PORT},
    {"ws://h:-1/", WS6455_ERR_URL_PORT},
    {"ws://h:80:81/", WS6455_ERR_URL_PORT},
    {"ws://[::1]:x/", WS6455_ERR_URL_PORT},
    {"ws:///path", WS6455_ERR_URL_HOST},
    {"ws://", WS6455_ERR_URL_HOST},
    {"ws://:80/", WS6455_ERR_URL_HOST},
    {"ws://?x", WS6455_ERR_URL_HOST},
    {"ws://[::1/", WS6455_ERR_URL_HOST},
    {"ws://::1/", WS6455_ERR_URL_HOST},
    {"ws://[]/", WS6455_ERR_URL_HOST},
    {"ws://[::1]x/", WS6455_ERR_URL_HOST},
    {"ws://[::g]/", WS6455_ERR_URL_HOST},
    {"ws://[1:2:3:4:5:6:7:8:9]/", WS6455_ERR_URL_HOST},
    {"ws://[1:2:3:4:5:6:7]/", WS6455_ERR_URL_HOST},
    {"ws://[1::2::3]/", WS6455_ERR_URL_HOST},
    {"ws://[12345::]/", WS6455_ERR_URL_HOST},
    {"ws://[:1::]/", WS6455_ERR_URL_HOST},
    {"ws://[1::2:]/", WS6455_ERR_URL_HOST},
    {"ws://[::1%25eth0]/", WS6455_ERR_URL_HOST},
    {"ws://[v1.x]/", WS6455_ERR_URL_HOST},
    {"ws://[::256.0.0.1]/", WS6455_ERR_URL_HOST},
    {"ws://[::1.2.3]/", WS6455_ERR_URL_HOST},
    {"ws://h]/", WS6455_ERR_URL_HOST},
    {"ws://h<x/", WS6455_ERR_URL_HOST},
    {"ws://h%4/", WS6455_ERR_URL_HOST},
    {"ws://h /", WS6455_ERR_URL_MALFORMED},
    {" ws://h/", WS6455_ERR_URL_MALFORMED},
    {"ws://h/a b", WS6455_ERR_URL_MALFORMED},
    {"ws://h/\r\n", WS6455_ERR_URL_MALFORMED},
    {"ws://h/\t", WS6455_ERR_URL_MALFORMED},
    {"ws://h/\x7f", WS6455_ERR_URL_MALFORMED},
    {"ws://h/caf\xc3\xa9", WS6455_ERR_URL_MALFORMED},
    {"ws://h/<script>", WS6455_ERR_URL_MALFORMED},
    {"ws://h/a\"b", WS6455_ERR_URL_MALFORMED},
    {"ws://h/%zz", WS6455_ERR_URL_MALFORMED},
    {"ws://h/%4", WS6455_ERR_URL_MALFORMED},
    {"ws://h/a\\b", WS6455_ERR_URL_MALFORMED},
};

static void test_good_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const good_url *g = &good[i];
        size_t len = strlen(g->url);
        uint8_t *copy = tu_guard_copy(g->url, len); /* no NUL: must not read past len */
        ws6455_url u;
        int rc = ws6455_url_parse((const char *)copy, len, &u);
        if (rc != WS6455_OK)
            fail_msg("%s: %s", g->url, ws6455_errname(rc));
        assert_int_equal(u.secure, g->secure);
        assert_int_equal(u.host_len, strlen(g->host));
        assert_memory_equal(u.host, g->host, u.host_len);
        assert_int_equal(u.host_is_ipv6, g->host_is_ipv6);
        assert_int_equal(u.port, g->port);
        assert_int_equal(u.port_explicit, g->port_explicit);
        assert_int_equal(u.target_len, strlen(g->target));
        assert_memory_equal(u.target, g->target, u.target_len);
        /* Host and target point into the parsed string, except the "/"
         * made up for a URL with neither path nor query. */
        assert_true(u.host >= (const char *)copy && u.host + u.host_len <= (const char *)copy + len);
        if (strcmp(g->target, "/") != 0 || g->url[len - 1] == '/')
            assert_true(u.target >= (const char *)copy);
        tu_guard_free(copy, len);
    }
}

static void test_bad_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i].url);
        uint8_t *copy = tu_guard_copy(bad[i].url, len);
        ws6455_url u;
        memset(&u, 0x5a, sizeof u);
        int rc = ws6455_url_parse((const char *)copy, len, &u);
        if (rc != bad[i].err)
            fail_msg("%s: got %s, expected %s", bad[i].url, ws6455_errname(rc),
                     ws6455_errname(bad[i].err));
        /* A failed parse leaves nothing half-filled. */
        assert_null(u.host);
        assert_null(u.target);
        assert_int_equal(u.port, 0);
        tu_guard_free(copy, len);
    }
}

/* The length, not a NUL, ends the URL: a NUL inside is a control byte. */
static void test_length_bounds_the_url(void **state)
{
    (void)state;
    ws6455_url u;
    assert_int_equal(ws6455_url_parse("ws://h/abc", 8, &u), WS6455_OK);
    assert_int_equal(u.target_len, 2);
    assert_memory_equal(u.target, "/a", 2);
    assert_int_equal(ws6455_url_parse("ws://h/\0x", 9, &u), WS6455_ERR_URL_MALFORMED);
    assert_int_equal(ws6455_url_parse("ws://hx", 6, &u), WS6455_OK);
    assert_int_equal(u.host_len, 1);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    ws6455_url u;
    assert_int_equal(ws6455_url_parse(NULL, 0, &u), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_url_parse("ws://h", 6, NULL), WS6455_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_length_bounds_the_url),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
