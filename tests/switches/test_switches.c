/* The build switches of include/ws6455.h, each checked in a library built
 * with it (the Makefile compiles this file and the library sources with the
 * switches, twice):
 *   - server-only: WS6455_NO_CLIENT, WS6455_NO_OS_RANDOM,
 *     WS6455_NO_ERROR_STRINGS, WS6455_NO_REQUEST_HEADERS,
 *     WS6455_NO_RESPONSE_EXTRAS and WS6455_NO_CALLBACK_IO together at -Os,
 *     the embedded server's build (WS6455_NO_ERROR_STRINGS without
 *     WS6455_NO_RESPONSE_EXTRAS, where rejection bodies say "error", is
 *     tested in tests/one_unit);
 *   - no-os-random: WS6455_NO_OS_RANDOM, with a client (built with
 *     WS6455_NO_REQUEST_HEADERS too: the Makefile's client-switches set,
 *     which tests/test_handshake.c shares).
 * A server must work exactly as in the full build: a real browser request
 * answered byte for byte, frames echoed, violations closed with the RFC's
 * code. What a switch removes must be refused with WS6455_ERR_UNSUPPORTED
 * (or, for the strings, be replaced by the documented placeholders). */
#include "testutil.h"

#include "convo.h"
#include "echo_server.h"
#include "utf8_ref.h"

#include <stdio.h>
#include <string.h>

#if !defined(WS6455_NO_OS_RANDOM)
#error "built without a switch: see the test-switches rules in the Makefile"
#endif

/* A request with Chromium's header set and the key of RFC 6455 1.3. */
static const char chromium_request[] =
    "GET /chat HTTP/1.1\r\n"
    "Host: 127.0.0.1:9001\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "Upgrade: websocket\r\n"
    "Origin: http://127.0.0.1:9001\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

/* No Sec-WebSocket-Extensions in the answer: without zlib the offer is
 * declined. */
static void open_server(ws6455_conn *c)
{
    tu_echo_open(c, chromium_request, sizeof chromium_request - 1);
}

static void test_server_echoes_byte_for_byte(void **state)
{
    (void)state;
    tu_echo e;
    ws6455_conn *c = tu_echo_server(&e, 0, NULL);
    open_server(c);
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t frame[64], out[64];
    size_t n = tu_frame(frame, 1, WS6455_OP_TEXT, "Hello", 5, mask);
    /* RFC 6455 5.7: the masked "Hello" */
    static const uint8_t rfc_masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                         0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_int_equal(n, sizeof rfc_masked);
    assert_memory_equal(frame, rfc_masked, n);
    n = tu_exchange(c, frame, n, out, sizeof out);
    static const uint8_t rfc_unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    assert_int_equal(n, sizeof rfc_unmasked);
    assert_memory_equal(out, rfc_unmasked, n);
    ws6455_conn_free(c);
}

static void test_server_closes_invalid_text_with_1007(void **state)
{
    (void)state;
    tu_echo e;
    ws6455_conn *c = tu_echo_server(&e, 0, NULL);
    open_server(c);
    static const uint8_t mask[4] = {1, 2, 3, 4};
    uint8_t frame[16], out[64];
    size_t n = tu_frame(frame, 1, WS6455_OP_TEXT, "\xc0\xaf", 2, mask);
    n = tu_exchange(c, frame, n, out, sizeof out);
    assert_int_equal(e.errors, 1);
    assert_int_equal(e.closes, 1);
    assert_int_equal(e.close_code, 1007);
    /* A close frame with 1007 (03 EF); the reason is the error's string. */
    assert_true(n >= 4);
    assert_int_equal(out[0], 0x88);
    assert_int_equal(out[2], 0x03);
    assert_int_equal(out[3], 0xef);
#if defined(WS6455_NO_ERROR_STRINGS)
    static const uint8_t want[] = {0x88, 0x07, 0x03, 0xef, 'e', 'r', 'r', 'o', 'r'};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, n);
#endif
    ws6455_conn_free(c);
}

/* At -Os the validator computes byte classes instead of reading a table
 * and reads ASCII a byte at a time (src/utf8.c). Every byte after every
 * prefix that leaves the DFA in one of its states, then a valid tail,
 * against the reference: fail offset and completeness, through
 * ws6455_utf8_update and ws6455_utf8_valid. */
static void test_utf8_every_state_and_byte(void **state)
{
    (void)state;
    static const char *const prefixes[] = {"",         "a",        "\xC2",     "\xE1",
                                           "\xE0",     "\xED",     "\xF0",     "\xF4",
                                           "\xF1",     "\xE1\x80", "\xF1\x80", "\xF1\x80\x80",
                                           "\xF0\x90", "\xF4\x8F", "\xE0\xA0", "\xED\x9F"};
    int failures = 0, completes = 0;
    for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0]; k++) {
        for (int b = 0; b < 256; b++) {
            uint8_t in[8];
            size_t n = strlen(prefixes[k]);
            memcpy(in, prefixes[k], n);
            in[n++] = (uint8_t)b;
            in[n++] = 'z';
            verdict want = ref_scan(in, n);
            ws6455_utf8 v;
            ws6455_utf8_init(&v);
            size_t at = 999;
            int rc = ws6455_utf8_update(&v, in, n, &at);
            if (want.fail == NO_FAIL) {
                assert_int_equal(rc, WS6455_OK);
                assert_int_equal(ws6455_utf8_finish(&v) == WS6455_OK, want.complete);
            } else {
                assert_int_equal(rc, WS6455_ERR_UTF8);
                assert_int_equal(at, want.fail);
            }
            assert_int_equal(ws6455_utf8_valid(in, n), want.fail == NO_FAIL && want.complete);
            failures += want.fail != NO_FAIL;
            completes += want.complete;
        }
    }
    /* Both outcomes are common: the comparison can fail either way. */
    assert_true(failures > 3000);
    assert_true(completes > 500);
}

static void test_bad_request_gets_its_http_error(void **state)
{
    (void)state;
    tu_echo e;
    ws6455_conn *c = tu_echo_server(&e, 0, NULL);
    static const char post[] = "POST / HTTP/1.1\r\nHost: a\r\n\r\n";
    uint8_t out[512];
    size_t n = tu_exchange(c, post, sizeof post - 1, out, sizeof out - 1);
    out[n] = 0;
#if defined(WS6455_NO_ERROR_STRINGS) && defined(WS6455_NO_RESPONSE_EXTRAS)
    /* The status code stays; the reason phrase is generic; no body. */
    static const char want[] = "HTTP/1.1 405 Client Error\r\n"
                               "Content-Length: 0\r\n"
                               "Connection: close\r\n"
                               "Allow: GET\r\n"
                               "\r\n";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(out, want, n);
#else
    assert_true(strncmp((char *)out, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
#endif
    ws6455_conn_free(c);
}

#if defined(WS6455_NO_RESPONSE_EXTRAS)
/* An old draft's version: 426 with the headers RFC 6455 4.2.2 and HTTP
 * require, byte for byte, and nothing else. */
static void test_426_is_the_required_headers_alone(void **state)
{
    (void)state;
    tu_echo e;
    ws6455_conn *c = tu_echo_server(&e, 0, NULL);
    static const char draft[] = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    static const char want[] = "HTTP/1.1 426 Client Error\r\n"
                               "Content-Length: 0\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade, close\r\n"
                               "Sec-WebSocket-Version: 13\r\n"
                               "\r\n";
    uint8_t out[512];
    size_t n = tu_exchange(c, draft, sizeof draft - 1, out, sizeof out);
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(out, want, n);
    assert_int_equal(ws6455_conn_error(c), WS6455_ERR_HS_WS_VERSION);
    ws6455_conn_free(c);
}

/* What on_request puts in the reply: 0 a 403, 1 a 403 with a body, 2 a
 * 101 with an extra header, 3 a 101 with a body, 4 a 101 choosing the
 * subprotocol "chat". */
static int answer_with(ws6455_conn *c, const ws6455_request *req, ws6455_handshake_reply *reply,
                       void *user)
{
    (void)c, (void)req;
    static const ws6455_header cookie = {"Set-Cookie", 10, "a=b", 3};
    switch (((tu_echo *)user)->choice) {
    case 0:
        reply->status = 403;
        break;
    case 1:
        reply->status = 403;
        reply->body = "go away\n";
        break;
    case 2:
        reply->headers = &cookie;
        reply->header_count = 1;
        break;
    case 3:
        reply->body = "welcome\n";
        break;
    default:
        reply->subprotocol = "chat";
        break;
    }
    return 0;
}

/* The application may still choose the status, but a rejection has no
 * body, and a reply with a body or extra headers, which this build cannot
 * send, is refused: 500 and WS6455_ERR_CALLBACK, never sent without them. */
static void test_application_reply_without_extras(void **state)
{
    (void)state;
    static const char rejected[] = "HTTP/1.1 403 Client Error\r\n"
                                   "Content-Length: 0\r\n"
                                   "Connection: close\r\n"
                                   "\r\n";
    static const char refused[] = "HTTP/1.1 500 Server Error\r\n"
                                  "Content-Length: 0\r\n"
                                  "Connection: close\r\n"
                                  "\r\n";
    for (int choice = 0; choice < 4; choice++) {
        tu_echo e;
        ws6455_conn *c = tu_echo_server(&e, choice, answer_with);
        uint8_t out[512];
        size_t n = tu_exchange(c, chromium_request, sizeof chromium_request - 1, out, sizeof out);
        const char *want = choice == 0 ? rejected : refused;
        assert_int_equal(n, strlen(want));
        assert_memory_equal(out, want, n);
        assert_int_equal(ws6455_conn_error(c),
                         choice == 0 ? WS6455_ERR_HS_REJECTED : WS6455_ERR_CALLBACK);
        ws6455_conn_free(c);
    }
}

/* What the application may still choose besides the status: the
 * subprotocol, answered byte for byte. */
static void test_application_chooses_the_subprotocol(void **state)
{
    (void)state;
    static const char offer[] = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Protocol: superchat, chat\r\n\r\n";
    static const char want[] = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                               "Sec-WebSocket-Protocol: chat\r\n"
                               "\r\n";
    tu_echo e;
    ws6455_conn *c = tu_echo_server(&e, 4, answer_with);
    uint8_t out[512];
    size_t n = tu_exchange(c, offer, sizeof offer - 1, out, sizeof out);
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(out, want, n);
    assert_string_equal(ws6455_conn_subprotocol(c), "chat");
    ws6455_conn_free(c);
}
#endif

#if defined(WS6455_NO_CALLBACK_IO)
static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    (void)user, (void)buf, (void)cap;
    return WS6455_IO_WOULD_BLOCK;
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    (void)user, (void)buf;
    return (ptrdiff_t)len;
}

static ptrdiff_t io_writev(void *user, const ws6455_iovec *iov, size_t count)
{
    (void)user, (void)iov, (void)count;
    return 0;
}

/* Sans-I/O only: a context with any I/O callback is refused, naming it;
 * without them the same configuration is accepted. */
static void test_io_callbacks_are_refused(void **state)
{
    (void)state;
    static const char *const names[] = {"read", "write", "writev"};
    for (int which = 0; which < 4; which++) {
        ws6455_config cfg;
        ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
        ws6455_callbacks cb;
        ws6455_callbacks_init(&cb);
        if (which == 0)
            cb.read = io_read;
        else if (which == 1)
            cb.write = io_write;
        else if (which == 2)
            cb.writev = io_writev;
        int err = 0;
        const char *bad = "unset";
        ws6455_context *ctx = ws6455_context_new_err(&cfg, &cb, &err, &bad);
        if (which < 3) {
            assert_null(ctx);
            assert_int_equal(err, WS6455_ERR_UNSUPPORTED);
            assert_string_equal(bad, names[which]);
        } else {
            assert_non_null(ctx);
            assert_int_equal(err, WS6455_OK);
            assert_null(bad);
            ws6455_context_free(ctx);
        }
    }
}
#endif

static void test_error_strings(void **state)
{
    (void)state;
#if defined(WS6455_NO_ERROR_STRINGS)
    assert_string_equal(ws6455_strerror(WS6455_OK), "success");
    assert_string_equal(ws6455_strerror(WS6455_ERR_UTF8), "error");
    assert_string_equal(ws6455_strerror(12345), "error");
    assert_string_equal(ws6455_errname(WS6455_OK), "OK");
    assert_string_equal(ws6455_errname(WS6455_ERR_HS_KEY), "ERR");
#else
    assert_string_equal(ws6455_strerror(WS6455_ERR_UNSUPPORTED),
                        "feature left out of this build (a WS6455_NO_* switch)");
    assert_string_equal(ws6455_errname(WS6455_ERR_UNSUPPORTED), "UNSUPPORTED");
#endif
    /* Codes and close codes do not depend on the strings. */
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_UTF8), 1007);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_MESSAGE_TOO_BIG), 1009);
}

#if defined(WS6455_NO_CLIENT)

static void test_client_role_is_unsupported(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    cfg.host = "example.com";
    const char *bad = NULL;
    assert_int_equal(ws6455_config_check(&cfg, &bad), WS6455_ERR_UNSUPPORTED);
    assert_string_equal(bad, "role");
    int err = 0;
    bad = NULL;
    assert_null(ws6455_context_new_err(&cfg, NULL, &err, &bad));
    assert_int_equal(err, WS6455_ERR_UNSUPPORTED);
    assert_string_equal(bad, "role");
    err = 0;
    assert_null(ws6455_conn_new_err(&cfg, NULL, NULL, &err, &bad));
    assert_int_equal(err, WS6455_ERR_UNSUPPORTED);
    /* A role that exists in no build is still an invalid argument. */
    cfg.role = 7;
    assert_int_equal(ws6455_config_check(&cfg, &bad), WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(bad, "role");
}

/* The client's request fields (host, target, origin, headers) mean nothing
 * to a server: without the client role the context copies none of them,
 * while the subprotocols it chooses from are still its own copies. */
static void test_server_keeps_no_client_fields(void **state)
{
    (void)state;
    static char big[4001];
    memset(big, 'h', sizeof big - 1);
    char proto[] = "chat";
    const char *protos[] = {proto};
    ws6455_header headers[2] = {{"Cookie", 6, big, 4000}, {"X-Big", 5, big, 4000}};
    tu_counting k;
    ws6455_allocator a = tu_counting_allocator(&k);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.allocator = &a;
    cfg.host = cfg.target = cfg.origin = big;
    cfg.headers = headers;
    cfg.header_count = 2;
    cfg.subprotocols = protos;
    cfg.subprotocol_count = 1;
    ws6455_context *ctx = ws6455_context_new(&cfg, NULL);
    assert_non_null(ctx);
    /* 20,000 bytes of client fields; the full build copies them all. */
    assert_true(k.live_bytes < 2048);
    proto[0] = 'X'; /* the caller's strings may change or go */
    ws6455_conn *c = ws6455_conn_new_in(ctx, NULL);
    assert_non_null(c);
    static const char request[] = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Protocol: chat\r\n\r\n";
    uint8_t out[512];
    size_t n = tu_exchange(c, request, sizeof request - 1, out, sizeof out - 1);
    out[n] = 0;
    assert_non_null(strstr((const char *)out, "\r\nSec-WebSocket-Protocol: chat\r\n"));
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
    assert_int_equal(k.live_bytes, 0);
    /* Not copied, still checked: a count without its array is refused. */
    cfg.headers = NULL;
    const char *bad = NULL;
    int err = 0;
    assert_null(ws6455_context_new_err(&cfg, NULL, &err, &bad));
    assert_int_equal(err, WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(bad, "headers");
}

#else

/* Bytes counting up from *user. */
static int fixed_random(void *user, uint8_t *buf, size_t n)
{
    unsigned *next = user;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(*next)++;
    return 0;
}

static ws6455_config client_config(void)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    cfg.host = "example.com";
    return cfg;
}

static void test_client_needs_the_random_callback(void **state)
{
    (void)state;
    ws6455_config cfg = client_config();
    /* The configuration alone is fine: the callback is what is missing. */
    assert_int_equal(ws6455_config_check(&cfg, NULL), WS6455_OK);
    int err = 0;
    const char *bad = NULL;
    assert_null(ws6455_context_new_err(&cfg, NULL, &err, &bad));
    assert_int_equal(err, WS6455_ERR_UNSUPPORTED);
    assert_string_equal(bad, "random");
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    err = 0;
    assert_null(ws6455_conn_new_err(&cfg, &cb, NULL, &err, &bad));
    assert_int_equal(err, WS6455_ERR_UNSUPPORTED);
    assert_string_equal(bad, "random");
    /* A server draws no random bytes and needs no callback. */
    ws6455_config server;
    ws6455_config_init(&server, WS6455_ROLE_SERVER);
    ws6455_conn *c = ws6455_conn_new_err(&server, &cb, NULL, &err, &bad);
    assert_non_null(c);
    ws6455_conn_free(c);
}

/* The handshake nonce and masking keys come from the callback, in order:
 * the key is base64 of bytes 00..0f, the first frame's mask 10 11 12 13. */
static void test_client_uses_the_random_callback(void **state)
{
    (void)state;
    ws6455_config cfg = client_config();
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.random = fixed_random;
    unsigned next = 0;
    ws6455_conn *c = ws6455_conn_new(&cfg, &cb, &next);
    assert_non_null(c);
    const uint8_t *p;
    size_t n = ws6455_conn_pending(c, &p);
    char head[512];
    assert_true(n < sizeof head);
    memcpy(head, p, n);
    head[n] = 0;
    assert_non_null(strstr(head, "\r\nSec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==\r\n"));
    assert_int_equal(ws6455_conn_consume(c, n), WS6455_OK);
    /* base64(SHA-1(key + GUID)) for that key, computed independently */
    char accept[29];
    assert_int_equal(ws6455_accept_key("AAECAwQFBgcICQoLDA0ODw==", 24, accept), WS6455_OK);
    char resp[256];
    int len = snprintf(resp, sizeof resp,
                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                       accept);
    size_t used = 0;
    assert_int_equal(ws6455_conn_recv(c, (uint8_t *)resp, (size_t)len, &used), WS6455_OK);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_OPEN);
    assert_int_equal(ws6455_send_text(c, "Hi", 2), WS6455_OK);
    n = ws6455_conn_pending(c, &p);
    static const uint8_t want[] = {0x81, 0x82, 0x10, 0x11, 0x12, 0x13, 'H' ^ 0x10, 'i' ^ 0x11};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(p, want, n);
    ws6455_conn_free(c);
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_echoes_byte_for_byte),
        cmocka_unit_test(test_server_closes_invalid_text_with_1007),
        cmocka_unit_test(test_utf8_every_state_and_byte),
        cmocka_unit_test(test_bad_request_gets_its_http_error),
        cmocka_unit_test(test_error_strings),
#if defined(WS6455_NO_RESPONSE_EXTRAS)
        cmocka_unit_test(test_426_is_the_required_headers_alone),
        cmocka_unit_test(test_application_reply_without_extras),
        cmocka_unit_test(test_application_chooses_the_subprotocol),
#endif
#if defined(WS6455_NO_CALLBACK_IO)
        cmocka_unit_test(test_io_callbacks_are_refused),
#endif
#if defined(WS6455_NO_CLIENT)
        cmocka_unit_test(test_client_role_is_unsupported),
        cmocka_unit_test(test_server_keeps_no_client_fields),
#else
        cmocka_unit_test(test_client_needs_the_random_callback),
        cmocka_unit_test(test_client_uses_the_random_callback),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
