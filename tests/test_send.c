/* The send API: exact frame bytes for both roles, validation of what the
 * caller passes, fragmented sends, the closing handshake from our side,
 * and backpressure. */
#include "convo.h"
#include "context.h"

#include <stdio.h>
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
    assert_int_equal(ws6455_send_text(c, "x", 1), WS6455_ERR_CLOSED);
    assert_int_equal(ws6455_send_binary(c, "x", 1), WS6455_ERR_CLOSED);
    assert_int_equal(ws6455_ping(c, "x", 1), WS6455_ERR_CLOSED);
    assert_int_equal(ws6455_close(c, 1000, NULL, 0), WS6455_ERR_CLOSED);
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
    size_t n = ws6455_conn_buffered_amount(c) - (2 + 125);
    while (n) { /* what was queued, run by run; the kept pong then follows */
        size_t k = ws6455_conn_pending(c, &p);
        k = k < n ? k : n;
        ws6455_conn_consume(c, k);
        n -= k;
    }
    n = ws6455_conn_pending(c, &p);
    assert_int_equal(n, 2 + 125);
    assert_int_equal(p[0], 0x8a);
    assert_int_equal(p[2], (uint8_t)99999);
    tu_convo_free(&t);
}


/* Every send after the peer's close, a failure or an abort says CLOSED
 * (not INVALID_STATE): nothing more can be sent, do not retry. */
static void test_sends_after_the_end_say_closed(void **state)
{
    (void)state;
    for (int how = 0; how < 3; how++) {
        ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
        uint8_t in[16];
        static const uint8_t m[4] = {1, 2, 3, 4};
        size_t n;
        if (how == 0) {
            n = tu_frame(in, 1, WS6455_OP_CLOSE, "", 0, m);
            ws6455_conn_recv(c, in, n, NULL);
        } else if (how == 1) {
            n = tu_frame(in, 1, WS6455_OP_TEXT, "\xc0", 1, m);
            ws6455_conn_recv(c, in, n, NULL);
        } else {
            ws6455_conn_abort(c);
        }
        assert_int_equal(ws6455_send_text(c, "x", 1), WS6455_ERR_CLOSED);
        assert_int_equal(ws6455_send_binary(c, "x", 1), WS6455_ERR_CLOSED);
        assert_int_equal(ws6455_send_fragment(c, WS6455_OP_TEXT, "x", 1, 1), WS6455_ERR_CLOSED);
        assert_int_equal(ws6455_ping(c, "x", 1), WS6455_ERR_CLOSED);
        assert_int_equal(ws6455_pong(c, "x", 1), WS6455_ERR_CLOSED);
        assert_int_equal(ws6455_close(c, 1000, NULL, 0), WS6455_ERR_CLOSED);
        tu_convo_free(&t);
    }
    /* Not open yet is a different mistake. */
    tu_convo_init(&t);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    t.c = ws6455_conn_new(&cfg, NULL, NULL);
    assert_int_equal(ws6455_send_text(t.c, "x", 1), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_close(t.c, 1000, NULL, 0), WS6455_ERR_INVALID_STATE);
    tu_convo_free(&t);
}

/* A frame that can never fit max_output_buffer gets its own error; one that
 * does not fit now is WOULD_EXCEED_LIMIT and fits after a drain. */
static void test_too_big_to_send_versus_would_exceed(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 1000);
    static uint8_t big[2000];
    assert_int_equal(ws6455_send_binary(c, big, 999), WS6455_ERR_TOO_BIG_TO_SEND); /* 4+999 */
    assert_int_equal(ws6455_send_binary(c, big, 996), 0);                          /* exactly */
    assert_int_equal(ws6455_send_binary(c, big, 1), WS6455_ERR_WOULD_EXCEED_LIMIT);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_BINARY, big, 2000, 0),
                     WS6455_ERR_TOO_BIG_TO_SEND);
    ws6455_message *m = ws6455_message_new(NULL, WS6455_OP_BINARY, big, 2000);
    assert_int_equal(ws6455_send_message(c, m), WS6455_ERR_TOO_BIG_TO_SEND);
    ws6455_message_free(m);
    const uint8_t *p;
    while (ws6455_conn_pending(c, &p))
        ws6455_conn_consume(c, ws6455_conn_pending(c, &p));
    assert_int_equal(ws6455_send_binary(c, big, 1), 0);
    assert_string_equal(ws6455_errname(WS6455_ERR_TOO_BIG_TO_SEND), "TOO_BIG_TO_SEND");
    tu_convo_free(&t);
}

/* Output stays where it is: a pointer handed out by pending() is valid and
 * unchanged, whatever is queued after it, until consumed. */
static void test_pending_output_never_moves(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
    assert_int_equal(ws6455_send_text(c, "hello", 5), 0);
    const uint8_t *first;
    size_t n = ws6455_conn_pending(c, &first);
    assert_int_equal(n, 7);
    uint8_t copy[7];
    memcpy(copy, first, 7);
    static uint8_t mib[1u << 20];
    memset(mib, 'z', sizeof mib);
    assert_int_equal(ws6455_send_binary(c, mib, sizeof mib), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(ws6455_send_text(c, "more", 4), 0);
    const uint8_t *again;
    assert_true(ws6455_conn_pending(c, &again) >= 7);
    assert_ptr_equal(again, first);
    assert_memory_equal(first, copy, 7);
    /* a partial consume keeps the rest at its address too */
    ws6455_conn_consume(c, 3);
    assert_true(ws6455_conn_pending(c, &again) >= 4);
    assert_ptr_equal(again, first + 3);
    /* everything comes out in order, run by run */
    size_t total = 0;
    int saw_big = 0;
    while ((n = ws6455_conn_pending(c, &again)) > 0) {
        if (n > 65536)
            saw_big = 1;
        total += n;
        ws6455_conn_consume(c, n);
    }
    assert_int_equal(total, 4 + 10 + sizeof mib + 100 * 6);
    assert_true(saw_big); /* the big frame is not cut into small pieces */
    tu_convo_free(&t);
}

/* The gather form lists the same bytes as successive pending() calls. */
static void test_pending_iov_matches_pending(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
    static uint8_t payload[20000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)i;
    ws6455_message *m = ws6455_message_wrap(NULL, WS6455_OP_BINARY, payload, 3000, NULL, NULL);
    assert_int_equal(ws6455_send_text(c, "a", 1), 0);
    assert_int_equal(ws6455_send_binary(c, payload, 20000), 0);
    assert_int_equal(ws6455_send_message(c, m), 0);
    assert_int_equal(ws6455_send_text(c, "z", 1), 0);
    ws6455_message_free(m);
    ws6455_iovec iov[16];
    size_t total;
    size_t k = ws6455_conn_pending_iov(c, iov, 16, &total);
    assert_int_equal(total, ws6455_conn_buffered_amount(c));
    assert_true(k >= 4);
    uint8_t *flat = malloc(total);
    size_t off = 0;
    for (size_t i = 0; i < k; i++) {
        memcpy(flat + off, iov[i].base, iov[i].len);
        off += iov[i].len;
    }
    /* a short array lists a prefix */
    size_t part;
    assert_int_equal(ws6455_conn_pending_iov(c, iov, 2, &part), 2);
    assert_true(part < total);
    /* the same bytes through pending()/consume() */
    off = 0;
    const uint8_t *p;
    size_t n;
    while ((n = ws6455_conn_pending(c, &p)) > 0) {
        assert_memory_equal(p, flat + off, n);
        off += n;
        ws6455_conn_consume(c, n);
    }
    assert_int_equal(off, total);
    assert_int_equal(ws6455_conn_pending_iov(c, iov, 16, &total), 0);
    assert_int_equal(total, 0);
    free(flat);
    tu_convo_free(&t);
}

/* on_output when the queue goes from empty to non-empty, whatever queued it;
 * on_drain when it empties. */
static void test_on_output_and_on_drain(void **state)
{
    (void)state;
    ws6455_conn *c = open_conn(WS6455_ROLE_SERVER, 0);
    assert_int_equal(t.outputs, 0);
    ws6455_send_text(c, "a", 1);
    assert_int_equal(t.outputs, 1);
    ws6455_send_text(c, "b", 1); /* already non-empty: no call */
    ws6455_ping(c, NULL, 0);
    assert_int_equal(t.outputs, 1);
    const uint8_t *p;
    ws6455_conn_consume(c, 1);
    assert_int_equal(t.drains, 0);
    while (ws6455_conn_pending(c, &p))
        ws6455_conn_consume(c, ws6455_conn_pending(c, &p));
    assert_int_equal(t.drains, 1);
    ws6455_conn_consume(c, 5); /* nothing queued: no second drain */
    assert_int_equal(t.drains, 1);
    /* an automatic pong */
    uint8_t in[32];
    static const uint8_t m[4] = {1, 2, 3, 4};
    size_t n = tu_frame(in, 1, WS6455_OP_PING, "hi", 2, m);
    ws6455_conn_recv(c, in, n, NULL);
    assert_int_equal(t.outputs, 2);
    ws6455_conn_consume(c, ws6455_conn_pending(c, &p));
    assert_int_equal(t.drains, 2);
    /* the automatic close reply */
    n = tu_frame(in, 1, WS6455_OP_CLOSE, "\x03\xe8", 2, m);
    ws6455_conn_recv(c, in, n, NULL);
    assert_int_equal(t.outputs, 3);
    tu_convo_free(&t);
}

/* A keepalive ping and a handshake response call on_output too. */
static void test_on_output_for_ping_and_handshake(void **state)
{
    (void)state;
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.ping_interval_ms = 10;
    t.c = ws6455_conn_new(&cfg, &cb, &t);
    ws6455_conn_tick(t.c, 0);
    uint8_t req[] = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(ws6455_conn_recv(t.c, req, sizeof req - 1, NULL), 0);
    assert_int_equal(t.outputs, 1);
    const uint8_t *p;
    while (ws6455_conn_pending(t.c, &p))
        ws6455_conn_consume(t.c, ws6455_conn_pending(t.c, &p));
    assert_int_equal(t.drains, 1);
    ws6455_conn_tick(t.c, 10);
    assert_int_equal(t.outputs, 2);
    assert_int_equal(ws6455_conn_pending(t.c, &p), 2);
    assert_memory_equal(p, "\x89\x00", 2);
    tu_convo_free(&t);
}

static void drain_sends_more(ws6455_conn *c, void *u)
{
    int *left = u;
    if (*left > 0) {
        (*left)--;
        assert_int_equal(ws6455_send_text(c, "again", 5), 0);
    }
}

/* Producing from on_drain, as with Node's 'drain'. */
static void test_send_from_on_drain(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.on_drain = drain_sends_more;
    int left = 3;
    ws6455_conn *c = ws6455_conn_new(&cfg, &cb, &left);
    assert_int_equal(ws6455_send_text(c, "first", 5), 0);
    const uint8_t *p;
    int frames = 0;
    size_t n;
    while ((n = ws6455_conn_pending(c, &p)) > 0) {
        assert_int_equal(p[0], 0x81);
        frames++;
        assert_int_equal(ws6455_conn_consume(c, n), 0);
    }
    assert_int_equal(frames, 4);
    assert_int_equal(left, 0);
    ws6455_conn_free(c);
}

static void free_on_drain(ws6455_conn *c, void *u)
{
    (void)u;
    ws6455_conn_free(c);
}

/* Freeing from on_drain is deferred to the end of ws6455_conn_consume. */
static void test_free_from_on_drain(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.on_drain = free_on_drain;
    ws6455_conn *c = ws6455_conn_new(&cfg, &cb, NULL);
    ws6455_send_text(c, "x", 1);
    const uint8_t *p;
    assert_int_equal(ws6455_conn_consume(c, ws6455_conn_pending(c, &p)), WS6455_ERR_CLOSED);
}


/* The fused send path (send.c send_small) against the general path: the
 * same random calls — text (ASCII, non-ASCII, invalid), binary, fragments,
 * pings, close, prepared messages — with random drains give the same
 * return codes and the same bytes with the fast path on and forced off. */
static void send_script(uint64_t seed, int fast, int role, size_t max_out, char *log, size_t cap,
                        uint8_t *out, size_t *out_len)
{
    tu_rng r;
    tu_rng_seed(&r, seed);
    ws6455_config cfg;
    ws6455_config_init(&cfg, role);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    if (max_out)
        cfg.max_output_buffer = max_out;
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    ws6455_context *ctx = ws6455_context_new(&cfg, &cb);
    if (!fast)
        ctx->fast_rx = ctx->fast_tx = 0;
    ws6455_conn *c = ws6455_conn_new_in(ctx, &t);
    ws6455_context_free(ctx);
    size_t k = 0;
    *out_len = 0;
    uint8_t payload[300];
    int frag = 0;
    for (int i = 0; i < 400; i++) {
        size_t n = tu_rng_below(&r, 4) ? (size_t)tu_rng_below(&r, 130) : (size_t)tu_rng_below(&r, 300);
        for (size_t j = 0; j < n; j++)
            payload[j] = (uint8_t)(0x20 + tu_rng_below(&r, 90));
        uint64_t spice = tu_rng_below(&r, 10);
        if (spice == 0 && n >= 2)
            memcpy(payload + n - 2, "\xc3\xa9", 2);
        else if (spice == 1 && n >= 1)
            payload[n - 1] = 0xc3; /* cut in half: invalid as a whole message */
        int rc;
        uint64_t what = tu_rng_below(&r, 100);
        if (what < 40) {
            rc = ws6455_send_text(c, (const char *)payload, n);
        } else if (what < 75) {
            rc = ws6455_send_binary(c, payload, n);
        } else if (what < 85) {
            rc = ws6455_send_fragment(c, frag ? WS6455_OP_CONTINUATION : WS6455_OP_BINARY, payload,
                                      n, tu_rng_below(&r, 2) == 0);
            if (rc == WS6455_OK)
                frag = !frag; /* approximate: the engine is the judge, both sides alike */
        } else if (what < 92) {
            rc = ws6455_ping(c, payload, n > 125 ? 125 : n);
        } else if (what < 99) {
            ws6455_message *m = ws6455_message_new(NULL, WS6455_OP_BINARY, payload, n);
            rc = ws6455_send_message(c, m);
            ws6455_message_free(m);
        } else {
            rc = ws6455_close(c, 1000, NULL, 0);
        }
        k += (size_t)snprintf(log + k, cap - k, "%d ", rc);
        if (tu_rng_below(&r, 5) == 0) {
            const uint8_t *p;
            size_t m;
            size_t budget = (size_t)tu_rng_below(&r, 2000);
            while (budget && (m = ws6455_conn_pending(c, &p)) > 0) {
                m = m < budget ? m : budget;
                memcpy(out + *out_len, p, m);
                *out_len += m;
                ws6455_conn_consume(c, m);
                budget -= m;
            }
        }
    }
    const uint8_t *p;
    size_t m;
    while ((m = ws6455_conn_pending(c, &p)) > 0) {
        memcpy(out + *out_len, p, m);
        *out_len += m;
        ws6455_conn_consume(c, m);
    }
    t.c = c;
    tu_convo_free(&t);
}

static void test_send_fast_path_matches_general_path(void **state)
{
    (void)state;
    static char log_fast[8192], log_slow[8192];
    static uint8_t out_fast[1 << 18], out_slow[1 << 18];
    for (uint64_t seed = 1; seed <= 200; seed++) {
        int role = seed % 4 == 0 ? WS6455_ROLE_CLIENT : WS6455_ROLE_SERVER;
        size_t max_out = seed % 3 == 0 ? 700 : 0;
        size_t nf, ns;
        send_script(seed, 1, role, max_out, log_fast, sizeof log_fast, out_fast, &nf);
        send_script(seed, 0, role, max_out, log_slow, sizeof log_slow, out_slow, &ns);
        if (strcmp(log_fast, log_slow) != 0)
            fail_msg("seed %llu: return codes differ\nfast: %s\ngeneral: %s",
                     (unsigned long long)seed, log_fast, log_slow);
        if (role == WS6455_ROLE_SERVER) { /* a client's masks come from the same random source */
            assert_int_equal(nf, ns);
            assert_memory_equal(out_fast, out_slow, nf);
        }
    }
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
        cmocka_unit_test(test_sends_after_the_end_say_closed),
        cmocka_unit_test(test_too_big_to_send_versus_would_exceed),
        cmocka_unit_test(test_pending_output_never_moves),
        cmocka_unit_test(test_pending_iov_matches_pending),
        cmocka_unit_test(test_on_output_and_on_drain),
        cmocka_unit_test(test_on_output_for_ping_and_handshake),
        cmocka_unit_test(test_send_from_on_drain),
        cmocka_unit_test(test_free_from_on_drain),
        cmocka_unit_test(test_send_fast_path_matches_general_path),
    };
    return cmocka_run_group_tests_name("send", tests, NULL, NULL);
}
