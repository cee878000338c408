/* A sans-I/O echo server for tests of whole builds: the switch builds
 * (tests/switches) and the one-unit build (tests/one_unit). Header-only,
 * static functions, because the one-unit test compiles the library into
 * its own file, where the library's public functions are static and no
 * other object (testutil.c, convo.c) can call them. Include it after
 * cmocka.h and ws6455.h. */
#ifndef WS6455_ECHO_SERVER_H
#define WS6455_ECHO_SERVER_H

#include <string.h>

typedef struct tu_echo {
    int messages, closes, errors, close_code;
    int choice; /* free for a test's own on_request */
} tu_echo;

static void tu_echo_message(ws6455_conn *c, int opcode, const uint8_t *p, size_t n, void *user)
{
    ((tu_echo *)user)->messages++;
    assert_int_equal(opcode == WS6455_OP_TEXT ? ws6455_send_text(c, (const char *)p, n)
                                              : ws6455_send_binary(c, p, n),
                     WS6455_OK);
}

static void tu_echo_close(ws6455_conn *c, int code, const char *reason, size_t len, void *user)
{
    (void)c, (void)reason, (void)len;
    tu_echo *e = user;
    e->closes++;
    e->close_code = code;
}

static void tu_echo_error(ws6455_conn *c, int err, void *user)
{
    (void)c, (void)err;
    ((tu_echo *)user)->errors++;
}

/* A server with the default configuration that echoes every message;
 * on_request as given (NULL: accept). */
static ws6455_conn *tu_echo_server(tu_echo *e, int choice,
                                   int (*on_request)(ws6455_conn *, const ws6455_request *,
                                                     ws6455_handshake_reply *, void *))
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.on_request = on_request;
    cb.on_message = tu_echo_message;
    cb.on_close = tu_echo_close;
    cb.on_error = tu_echo_error;
    memset(e, 0, sizeof *e);
    e->choice = choice;
    ws6455_conn *c = ws6455_conn_new(&cfg, &cb, e);
    assert_non_null(c);
    return c;
}

/* Feeds a copy of `in` (the receive path may unmask in place), then takes
 * everything the connection has to send into out. */
static size_t tu_exchange(ws6455_conn *c, const void *in, size_t n, uint8_t *out, size_t cap)
{
    uint8_t copy[1024];
    assert_true(n <= sizeof copy);
    memcpy(copy, in, n);
    size_t used = 0;
    (void)ws6455_conn_recv(c, copy, n, &used);
    size_t got = 0, k;
    const uint8_t *p;
    while ((k = ws6455_conn_pending(c, &p)) > 0) {
        assert_true(got + k <= cap);
        memcpy(out + got, p, k);
        got += k;
        assert_int_equal(ws6455_conn_consume(c, k), WS6455_OK);
    }
    return got;
}

/* The 101 that RFC 6455 1.3 fixes for its key, dGhlIHNhbXBsZSBub25jZQ==,
 * when no subprotocol or extension is agreed. */
static const char tu_rfc_switching_protocols[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

/* Feeds a request with the RFC's key and checks that c answers exactly
 * that 101 and is OPEN. */
static void tu_echo_open(ws6455_conn *c, const char *request, size_t n)
{
    uint8_t out[512];
    size_t got = tu_exchange(c, request, n, out, sizeof out);
    assert_int_equal(got, sizeof tu_rfc_switching_protocols - 1);
    assert_memory_equal(out, tu_rfc_switching_protocols, got);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_OPEN);
}

#endif
