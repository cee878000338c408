/* The library compiled into the program's own translation unit: the
 * amalgamation included with WS6455_API defined as static, the "one unit"
 * route of docs/embedded.md, where the compiler sees the whole program.
 * make test-amalgamation builds this file as the library is, with the
 * embedded server's six switches and with WS6455_NO_ERROR_STRINGS alone,
 * runs it, and checks that no ws6455_ function is left external in the
 * binary. What it tests is that the library still behaves through that
 * route: the RFC's handshake and frames byte for byte, a protocol error, a
 * bad request (and its body, which the switches change) and the closing
 * handshake. */
#define WS6455_API static
#include "ws6455.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* after the headers it uses */
#include <cmocka.h>

#include "echo_server.h"

#include <stdio.h>
#include <string.h>

/* The key of RFC 6455 1.3; no extension offered, so the answer is the same
 * with and without zlib. */
static const char request[] = "GET /chat HTTP/1.1\r\n"
                              "Host: server.example.com\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Origin: http://example.com\r\n"
                              "Sec-WebSocket-Version: 13\r\n"
                              "\r\n";

static void unit_open(ws6455_conn *c)
{
    tu_echo_open(c, request, sizeof request - 1);
}

static void test_echoes_the_rfc_hello(void **state)
{
    (void)state;
    tu_echo s;
    ws6455_conn *c = tu_echo_server(&s, 0, NULL);
    unit_open(c);
    /* RFC 6455 5.7: the masked "Hello" in, the unmasked one out */
    static const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                     0x7f, 0x9f, 0x4d, 0x51, 0x58};
    static const uint8_t unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    uint8_t out[64];
    size_t n = tu_exchange(c, masked, sizeof masked, out, sizeof out);
    assert_int_equal(s.messages, 1);
    assert_int_equal(n, sizeof unmasked);
    assert_memory_equal(out, unmasked, n);
    ws6455_conn_free(c);
}

static void test_invalid_text_closes_with_1007(void **state)
{
    (void)state;
    tu_echo s;
    ws6455_conn *c = tu_echo_server(&s, 0, NULL);
    unit_open(c);
    /* a text frame of one byte, 0xFF, never valid UTF-8, mask 0 */
    static const uint8_t bad_text[] = {0x81, 0x81, 0, 0, 0, 0, 0xff};
    uint8_t out[64];
    size_t n = tu_exchange(c, bad_text, sizeof bad_text, out, sizeof out);
    assert_int_equal(s.messages, 0);
    /* a close frame with code 1007 (0x03EF) and some reason */
    assert_true(n >= 4);
    assert_int_equal(out[0], 0x88);
    assert_int_equal(out[1], n - 2);
    assert_int_equal(out[2], 0x03);
    assert_int_equal(out[3], 0xef);
    ws6455_conn_free(c);
}

static void test_closing_handshake(void **state)
{
    (void)state;
    tu_echo s;
    ws6455_conn *c = tu_echo_server(&s, 0, NULL);
    unit_open(c);
    /* the client's close with code 1000, mask 0; the server echoes the code */
    static const uint8_t close_1000[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
    static const uint8_t answer[] = {0x88, 0x02, 0x03, 0xe8};
    uint8_t out[64];
    size_t n = tu_exchange(c, close_1000, sizeof close_1000, out, sizeof out);
    assert_int_equal(n, sizeof answer);
    assert_memory_equal(out, answer, n);
    assert_int_equal(s.closes, 1);
    assert_int_equal(s.close_code, 1000);
    assert_true(ws6455_conn_should_close_socket(c));
    ws6455_conn_free(c);
}

static void test_bad_request_is_answered_400(void **state)
{
    (void)state;
    tu_echo s;
    ws6455_conn *c = tu_echo_server(&s, 0, NULL);
    /* no Sec-WebSocket-Key */
    static const char keyless[] = "GET /chat HTTP/1.1\r\n"
                                  "Host: server.example.com\r\n"
                                  "Upgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"
                                  "\r\n";
    char out[512];
    size_t n = tu_exchange(c, keyless, sizeof keyless - 1, (uint8_t *)out, sizeof out - 1);
    out[n] = '\0';
    static const char status[] = "HTTP/1.1 400 ";
    assert_true(n > sizeof status - 1);
    assert_memory_equal(out, status, sizeof status - 1);
    assert_int_equal(ws6455_conn_error(c), WS6455_ERR_HS_KEY);
    const char *body = strstr(out, "\r\n\r\n");
    assert_non_null(body);
#if defined(WS6455_NO_RESPONSE_EXTRAS)
    assert_non_null(strstr(out, "\r\nContent-Length: 0\r\n"));
    assert_string_equal(body + 4, "");
#elif defined(WS6455_NO_ERROR_STRINGS)
    /* the error's message is the placeholder */
    assert_non_null(strstr(out, "\r\nContent-Length: 6\r\n"));
    assert_string_equal(body + 4, "error\n");
#else
    char want[128];
    snprintf(want, sizeof want, "%s\n", ws6455_strerror(WS6455_ERR_HS_KEY));
    assert_string_equal(body + 4, want);
#endif
    assert_true(ws6455_conn_should_close_socket(c));
    ws6455_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echoes_the_rfc_hello),
        cmocka_unit_test(test_invalid_text_closes_with_1007),
        cmocka_unit_test(test_closing_handshake),
        cmocka_unit_test(test_bad_request_is_answered_400),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
