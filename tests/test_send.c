/* The send API: exact frame bytes for both roles, validation of what the
 * caller passes, fragmented sends, the closing handshake from our side,
 * and backpressure. */
#include "convo.h"

#include <stdlib.h>
#include <string.h>

static tu_convo t;
static int quiet_pings; /* floods would overflow the transcript */

static ws6455_conn *open_conn(int role, size_t max_out)
{
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    if (quiet_pings)
        cb.on_ping = NULL;
    ws6455_config cfg;
    ws6455_config_init(&cfg, role);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    if (max_out)
        cfg.max_output_buffer = max_out;
    t.c = ws6455_conn_new(&cfg, &cb, &t);
    assert_non_null(t.c);
    return t.c;
}

static void expect_out(ws6455_conn *c, const char *hex)
{
    uint8_t want[512];
    size_t n = tu_hex(hex, want, sizeof want);
    const uint8_t *p;
    size_t have = ws6455_conn_pending(c, &p);
    assert_int_equal(have, n);
    assert_memory_equal(p, want, n);
    ws6455_conn_consume(c, have);
}

static void test_server_frames_exact_bytes(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
    assert_int_equal(ws6455_send_text(c, "Hello", 5), 0);
    expect_out(c, "81 05 48 65 6c 6c 6f"); /* RFC 6455 5.7 */
    assert_int_equal(ws6455_send_binary(c, "\x00\xff", 2), 0);
    expect_out(c, "82 02 00 ff");
    assert_int_equal(ws6455_ping(c, "Hello", 5), 0);
    expect_out(c, "89 05 48 65 6c 6c 6f");
    assert_int_equal(ws6455_pong(c, "", 0), 0);
    expect_out(c, "8a 00");
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_TEXT, "Hel", 3, 0), 0);
    assert_int_equal(ws6455_ping(c, NULL, 0), 0); /* control frames may interleave */
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_CONTINUATION, "lo", 2, 1), 0);
    expect_out(c, "01 03 48 65 6c 89 00 80 02 6c 6f");
    assert_int_equal(ws6455_close(c, 1000, "bye", 3), 0);
    expect_out(c, "88 05 03 e8 62 79 65");
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CLOSING);
    tu_convo_free(&t);
}

static void test_server_length_forms(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
    static uint8_t big[65536];
    const uint8_t *p;
    assert_int_equal(ws6455_send_binary(c, big, 256), 0);
    assert_int_equal(ws6455_conn_pending(c, &p), 4 + 256);
    assert_memory_equal(p, "\x82\x7e\x01\x00", 4);
    ws6455_conn_consume(c, 260);
    assert_int_equal(ws6455_send_binary(c, big, 65536), 0);
    assert_int_equal(ws6455_conn_pending(c, &p), 10 + 65536);
    assert_memory_equal(p, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    tu_convo_free(&t);
}

static void test_client_masks_every_frame_with_fresh_key(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_CLIENT, 0);
    /* the test's random callback yields 11 12 13 14, then 15 16 17 18 */
    assert_int_equal(ws6455_send_text(c, "Hello", 5), 0);
    expect_out(c, "81 85 11 12 13 14 59 77 7f 78 7e");
    assert_int_equal(ws6455_ping(c, "", 0), 0);
    expect_out(c, "89 80 15 16 17 18");
    tu_convo_free(&t);
}

static void test_invalid_sends_refused_and_nothing_queued(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
    uint8_t p126[126] = {0};
    const uint8_t *p;
    assert_int_equal(ws6455_send_text(c, "\xc0\x80", 2), WS6455_ERR_UTF8);
    assert_int_equal(ws6455_ping(c, p126, 126), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_pong(c, p126, 126), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_send_binary(c, NULL, 3), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_close(c, 1005, NULL, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_close(c, 1006, NULL, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_close(c, 999, NULL, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_close(c, 5000, NULL, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_close(c, 1000, (const char *)p126, 124), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_close(c, 1000, "\xff", 1), WS6455_ERR_UTF8);
    assert_int_equal(ws6455_close(c, 0, "x", 1), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_CONTINUATION, "x", 1, 1),
                     WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_PING, "x", 1, 1),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_conn_pending(c, &p), 0);
    /* 123 bytes of reason is the most that fits */
    static char r123[123];
    memset(r123, 'r', sizeof r123);
    assert_int_equal(ws6455_close(c, 1000, r123, 123), 0);
    assert_int_equal(ws6455_conn_pending(c, &p), 2 + 125);
    tu_convo_free(&t);
}

static void test_fragmented_text_validated_across_pieces(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
    const uint8_t *p;
    /* a character split between pieces is fine */
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_TEXT, "\xe2\x82", 2, 0), 0);
    assert_int_equal(ws6455_send_text(c, "x", 1), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_TEXT, "x", 1, 0), WS6455_ERR_INVALID_STATE);
    /* an impossible continuation is refused and the stream stays usable */
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_CONTINUATION, "A", 1, 0), WS6455_ERR_UTF8);
    /* ending inside the character is refused */
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_CONTINUATION, "", 0, 1), WS6455_ERR_UTF8);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_CONTINUATION, "\xac", 1, 1), 0);
    assert_int_equal(ws6455_conn_pending(c, &p), 4 + 3);
    assert_memory_equal(p, "\x01\x02\xe2\x82\x80\x01\xac", 7);
    tu_convo_free(&t);
}

static void test_nothing_after_our_close(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
    assert_int_equal(ws6455_close(c, 0, NULL, 0), 0);
    expect_out(c, "88 00");
    assert_int_equal(ws6455_send_text(c, "x", 1), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_send_binary(c, "x", 1), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_ping(c, "x", 1), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_close(c, 1000, NULL, 0), WS6455_ERR_INVALID_STATE);
    /* the peer's reply completes the handshake; its code is reported */
    uint8_t in[16];
    static const uint8_t m[4] = {1, 2, 3, 4};
    size_t n = tu_frame(in, 1, WS6455_OP_CLOSE, "\x03\xe8", 2, m);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CLOSED);
    assert_int_equal(ws6455_conn_should_close_socket(c), 1);
    assert_string_equal(t.log, "close 1000 \"\"\n");
    expect_out(c, "");
    tu_convo_free(&t);
}

static void test_backpressure_limit_all_or_nothing(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 100);
    static uint8_t buf[200];
    assert_int_equal(ws6455_send_binary(c, buf, 98), 0); /* 2 + 98 = exactly 100 */
    assert_int_equal(ws6455_conn_buffered_amount(c), 100);
    assert_int_equal(ws6455_send_binary(c, buf, 0), WS6455_ERR_WOULD_EXCEED_LIMIT);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_BINARY, buf, 1, 0),
                     WS6455_ERR_WOULD_EXCEED_LIMIT);
    assert_int_equal(ws6455_conn_buffered_amount(c), 100);
    /* control frames are not refused for backpressure */
    assert_int_equal(ws6455_ping(c, "p", 1), 0);
    assert_int_equal(ws6455_conn_buffered_amount(c), 103);
    ws6455_conn_consume(c, 103);
    assert_int_equal(ws6455_conn_buffered_amount(c), 0);
    assert_int_equal(ws6455_send_binary(c, buf, 98), 0);
    tu_convo_free(&t);
}

static void test_ping_flood_while_peer_never_reads_stays_bounded(void **state)
{
    (void)state;
    quiet_pings = 1;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 1000);
    quiet_pings = 0;
    static uint8_t in[200];
    static const uint8_t m[4] = {9, 8, 7, 6};
    uint8_t payload[125];
    memset(payload, 'p', sizeof payload);
    for (int i = 0; i < 100000; i++) {
        payload[0] = (uint8_t)i;
        size_t n = tu_frame(in, 1, WS6455_OP_PING, payload, sizeof payload, m);
        assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
        assert_true(ws6455_conn_buffered_amount(c) <= 1000 + 139);
    }
    /* the kept pong answers the latest ping once the peer reads */
    const uint8_t *p;
    size_t n = ws6455_conn_pending(c, &p);
    ws6455_conn_consume(c, n);
    n = ws6455_conn_pending(c, &p);
    assert_int_equal(n, 2 + 125);
    assert_int_equal(p[0], 0x8a);
    assert_int_equal(p[2], (uint8_t)99999);
    tu_convo_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_frames_exact_bytes),
        cmocka_unit_test(test_server_length_forms),
        cmocka_unit_test(test_client_masks_every_frame_with_fresh_key),
        cmocka_unit_test(test_invalid_sends_refused_and_nothing_queued),
        cmocka_unit_test(test_fragmented_text_validated_across_pieces),
        cmocka_unit_test(test_nothing_after_our_close),
        cmocka_unit_test(test_backpressure_limit_all_or_nothing),
        cmocka_unit_test(test_ping_flood_while_peer_never_reads_stays_bounded),
    };
    return cmocka_run_group_tests_name("send", tests, NULL, NULL);
}
