/* Incoming frames through the whole engine, as conversation scripts: each
 * fed whole, split at every position, one byte at a time and through
 * callback I/O, with identical transcripts and output required. Covers the
 * ground of the Autobahn|Testsuite groups 1-7 and 10. */
#include "convo.h"
#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

typedef struct bytes {
    uint8_t *b;
    size_t n;
} bytes;

static bytes in, want;

static void reset(void)
{
    if (!in.b) {
        in.b = malloc(1u << 21);
        want.b = malloc(1u << 21);
    }
    in.n = want.n = 0;
}

/* A client frame (masked) into the input. */
static void cf(int fin, int op, const void *p, size_t n)
{
    in.n += tu_frame(in.b + in.n, fin, op, p, n, MASK);
}

/* A server frame (unmasked) into the expected output. */
static void sf(int fin, int op, const void *p, size_t n)
{
    want.n += tu_frame(want.b + want.n, fin, op, p, n, NULL);
}

/* The close frame the engine sends when it fails the connection. */
static void sf_fail(int err)
{
    uint8_t p[128];
    int code = ws6455_error_close_code(err);
    const char *why = ws6455_strerror(err);
    p[0] = (uint8_t)(code >> 8);
    p[1] = (uint8_t)code;
    memcpy(p + 2, why, strlen(why));
    sf(1, WS6455_OP_CLOSE, p, 2 + strlen(why));
}

static void close_payload(uint8_t *p, unsigned code)
{
    p[0] = (uint8_t)(code >> 8);
    p[1] = (uint8_t)code;
}

static ws6455_config server(unsigned flags)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE | flags;
    return cfg;
}

static void run(const ws6455_config *cfg, const char *log)
{
    tu_script(cfg, in.b, in.n, log, want.b, want.n);
}

static char expect[4096];

/* ---------------------------------------------------------- group 1: framing */

static void test_text_and_binary_every_boundary_length(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536};
    uint8_t *payload = malloc(65536);
    for (size_t i = 0; i < 65536; i++)
        payload[i] = (uint8_t)('a' + i % 26);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        for (int op = WS6455_OP_TEXT; op <= WS6455_OP_BINARY; op++) {
            reset();
            cf(1, op, payload, lens[k]);
            ws6455_config cfg = server(0);
            tu_result r;
            tu_feed how = {0};
            tu_run(&cfg, in.b, in.n, &how, &r);
            assert_int_equal(r.out_len, 0);
            assert_int_equal(r.error, 0);
            assert_int_equal(r.state, WS6455_STATE_OPEN);
            const char *name = op == WS6455_OP_TEXT ? "text" : "binary";
            uint32_t h = 2166136261u;
            for (size_t i = 0; i < lens[k]; i++)
                h = (h ^ payload[i]) * 16777619u;
            if (lens[k] <= 40)
                snprintf(expect, sizeof expect, "%s \"%.*s\"\n", name, (int)lens[k],
                         (const char *)payload);
            else
                snprintf(expect, sizeof expect, "%s len=%zu fnv=%08x\n", name, lens[k], h);
            assert_string_equal(r.log, expect);
            tu_result_free(&r);
            run(&cfg, expect);
        }
    }
    free(payload);
}

static void test_several_messages_in_one_feed(void **state)
{
    (void)state;
    reset();
    cf(1, WS6455_OP_TEXT, "one", 3);
    cf(1, WS6455_OP_BINARY, "two", 3);
    cf(1, WS6455_OP_TEXT, "", 0);
    ws6455_config cfg = server(0);
    run(&cfg, "text \"one\"\nbinary \"two\"\ntext \"\"\n");
}

static void test_unmasked_client_frame_fails_1002(void **state)
{
    (void)state;
    reset();
    in.n += tu_frame(in.b, 1, WS6455_OP_TEXT, "hi", 2, NULL);
    sf_fail(WS6455_ERR_MASK_REQUIRED);
    ws6455_config cfg = server(0);
    run(&cfg, "error MASK_REQUIRED\nclose 1002 \"\"\n");
}

/* ---------------------------------------------------------- group 2: ping/pong */

static void test_ping_answered_with_same_payload(void **state)
{
    (void)state;
    uint8_t p125[125];
    memset(p125, 0xfe, sizeof p125);
    reset();
    cf(1, WS6455_OP_PING, "", 0);
    cf(1, WS6455_OP_PING, "Hello", 5);
    cf(1, WS6455_OP_PING, p125, 125);
    sf(1, WS6455_OP_PONG, "", 0);
    sf(1, WS6455_OP_PONG, "Hello", 5);
    sf(1, WS6455_OP_PONG, p125, 125);
    ws6455_config cfg = server(0);
    run(&cfg, "ping \"\"\nping \"Hello\"\nping len=125 fnv=f046f9d1\n");
}

static void test_ping_not_answered_when_auto_pong_off(void **state)
{
    (void)state;
    reset();
    cf(1, WS6455_OP_PING, "x", 1);
    ws6455_config cfg = server(WS6455_NO_AUTO_PONG);
    run(&cfg, "ping \"x\"\n");
}

static void test_unsolicited_pong_is_fine(void **state)
{
    (void)state;
    reset();
    cf(1, WS6455_OP_PONG, "p", 1);
    cf(1, WS6455_OP_TEXT, "after", 5);
    ws6455_config cfg = server(0);
    run(&cfg, "pong \"p\"\ntext \"after\"\n");
}

static void test_control_frame_over_125_fails(void **state)
{
    (void)state;
    uint8_t p[126] = {0};
    for (int op = WS6455_OP_CLOSE; op <= WS6455_OP_PONG; op++) {
        reset();
        cf(1, op, p, 126);
        sf_fail(WS6455_ERR_CONTROL_TOO_LONG);
        ws6455_config cfg = server(0);
        run(&cfg, "error CONTROL_TOO_LONG\nclose 1002 \"\"\n");
    }
}

static void test_fragmented_ping_fails(void **state)
{
    (void)state;
    reset();
    cf(0, WS6455_OP_PING, "a", 1);
    sf_fail(WS6455_ERR_CONTROL_FRAGMENTED);
    ws6455_config cfg = server(0);
    run(&cfg, "error CONTROL_FRAGMENTED\nclose 1002 \"\"\n");
}

/* ---------------------------------------------------------- group 3, 4: reserved */

static void test_reserved_bits_fail(void **state)
{
    (void)state;
    static const unsigned rsv[] = {WS6455_RSV1, WS6455_RSV2, WS6455_RSV3};
    for (size_t k = 0; k < 3; k++) {
        reset();
        cf(1, WS6455_OP_TEXT, "ok", 2);
        in.n += tu_frame_rsv(in.b + in.n, 1, rsv[k], WS6455_OP_TEXT, "no", 2, MASK);
        cf(1, WS6455_OP_TEXT, "never", 5);
        sf_fail(WS6455_ERR_RSV_BITS);
        ws6455_config cfg = server(0);
        run(&cfg, "text \"ok\"\nerror RSV_BITS\nclose 1002 \"\"\n");
    }
}

static void test_reserved_opcodes_fail(void **state)
{
    (void)state;
    static const int ops[] = {3, 4, 5, 6, 7, 11, 12, 13, 14, 15};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        reset();
        cf(1, ops[k], "", 0);
        sf_fail(WS6455_ERR_BAD_OPCODE);
        ws6455_config cfg = server(0);
        run(&cfg, "error BAD_OPCODE\nclose 1002 \"\"\n");
    }
}

/* ---------------------------------------------------------- group 5: fragmentation */

static void test_fragments_reassembled_with_control_between(void **state)
{
    (void)state;
    reset();
    cf(0, WS6455_OP_TEXT, "frag", 4);
    cf(1, WS6455_OP_PING, "p1", 2);
    cf(0, WS6455_OP_CONTINUATION, "men", 3);
    cf(1, WS6455_OP_PONG, "p2", 2);
    cf(0, WS6455_OP_CONTINUATION, "", 0);
    cf(1, WS6455_OP_CONTINUATION, "ted", 3);
    cf(1, WS6455_OP_BINARY, "next", 4);
    sf(1, WS6455_OP_PONG, "p1", 2);
    ws6455_config cfg = server(0);
    run(&cfg, "ping \"p1\"\npong \"p2\"\ntext \"fragmented\"\nbinary \"next\"\n");
    cfg = server(WS6455_STREAM_FRAGMENTS);
    run(&cfg, "ping \"p1\"\npong \"p2\"\nstream text \"fragmented\"\nstream binary \"next\"\n");
}

static void test_continuation_without_message_fails(void **state)
{
    (void)state;
    reset();
    cf(1, WS6455_OP_CONTINUATION, "x", 1);
    sf_fail(WS6455_ERR_UNEXPECTED_CONTINUATION);
    ws6455_config cfg = server(0);
    run(&cfg, "error UNEXPECTED_CONTINUATION\nclose 1002 \"\"\n");
}

static void test_new_message_inside_fragmented_fails(void **state)
{
    (void)state;
    for (int op = WS6455_OP_TEXT; op <= WS6455_OP_BINARY; op++) {
        reset();
        cf(0, WS6455_OP_TEXT, "a", 1);
        cf(1, op, "b", 1);
        sf_fail(WS6455_ERR_EXPECTED_CONTINUATION);
        ws6455_config cfg = server(0);
        run(&cfg, "error EXPECTED_CONTINUATION\nclose 1002 \"\"\n");
    }
}

static void test_many_tiny_fragments(void **state)
{
    (void)state;
    reset();
    cf(0, WS6455_OP_BINARY, "", 0);
    for (int i = 0; i < 200; i++)
        cf(0, WS6455_OP_CONTINUATION, "z", 1);
    cf(1, WS6455_OP_CONTINUATION, "", 0);
    ws6455_config cfg = server(0);
    tu_result r;
    tu_feed how = {.chunk = 3};
    tu_run(&cfg, in.b, in.n, &how, &r);
    assert_string_equal(r.log, "binary len=200 fnv=be294485\n");
    tu_result_free(&r);
}

/* ---------------------------------------------------------- group 6: UTF-8 */

static void test_valid_utf8_split_across_fragments(void **state)
{
    (void)state;
    /* "κόσμε" cut inside characters at the fragment boundaries */
    static const char s[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
    reset();
    cf(0, WS6455_OP_TEXT, s, 3);
    cf(0, WS6455_OP_CONTINUATION, s + 3, 4);
    cf(1, WS6455_OP_CONTINUATION, s + 7, sizeof s - 1 - 7);
    ws6455_config cfg = server(0);
    run(&cfg, "text len=11 fnv=00a5b887\n");
}

static void test_invalid_utf8_fails_fast_inside_fragments(void **state)
{
    (void)state;
    /* the first fragment is already impossible (ED A0 is a surrogate); the
     * rest of the message never arrives: the failure must not wait for it */
    reset();
    cf(0, WS6455_OP_TEXT, "ok\xed\xa0", 4);
    sf_fail(WS6455_ERR_UTF8);
    ws6455_config cfg = server(0);
    run(&cfg, "error UTF8\nclose 1007 \"\"\n");
    cfg = server(WS6455_STREAM_FRAGMENTS);
    run(&cfg, "error UTF8\nclose 1007 \"\"\n");
}

static void test_truncated_utf8_at_message_end_fails(void **state)
{
    (void)state;
    reset();
    cf(0, WS6455_OP_TEXT, "a\xe2\x82", 3);
    cf(1, WS6455_OP_CONTINUATION, "", 0);
    sf_fail(WS6455_ERR_UTF8);
    ws6455_config cfg = server(0);
    run(&cfg, "error UTF8\nclose 1007 \"\"\n");
}

static void test_invalid_utf8_single_frame(void **state)
{
    (void)state;
    static const char *bad[] = {"\xc0\x80", "\xf4\x90\x80\x80", "\xff", "a\x80", "\xed\xbf\xbf"};
    for (size_t k = 0; k < 5; k++) {
        reset();
        cf(1, WS6455_OP_TEXT, bad[k], strlen(bad[k]));
        sf_fail(WS6455_ERR_UTF8);
        ws6455_config cfg = server(0);
        run(&cfg, "error UTF8\nclose 1007 \"\"\n");
    }
}

static void test_binary_is_not_utf8_checked(void **state)
{
    (void)state;
    reset();
    cf(1, WS6455_OP_BINARY, "\xff\xfe", 2);
    ws6455_config cfg = server(0);
    tu_result r;
    tu_feed how = {0};
    tu_run(&cfg, in.b, in.n, &how, &r);
    assert_int_equal(r.error, 0);
    assert_true(strncmp(r.log, "binary len=2", 12) == 0);
    tu_result_free(&r);
}

/* ---------------------------------------------------------- group 7: closing */

static void test_close_without_payload_echoed_empty(void **state)
{
    (void)state;
    reset();
    cf(1, WS6455_OP_CLOSE, "", 0);
    cf(1, WS6455_OP_TEXT, "ignored", 7);
    sf(1, WS6455_OP_CLOSE, "", 0);
    ws6455_config cfg = server(0);
    run(&cfg, "close 1005 \"\"\n");
}

static void test_close_code_echoed(void **state)
{
    (void)state;
    uint8_t p[8];
    close_payload(p, 1000);
    memcpy(p + 2, "bye", 3);
    reset();
    cf(1, WS6455_OP_CLOSE, p, 5);
    cf(1, WS6455_OP_PING, "ignored", 7);
    /* code and reason come back, as Node's ws, Python's websockets and
     * browsers echo them (RFC 6455 5.5.1 lets the reply carry the code) */
    sf(1, WS6455_OP_CLOSE, p, 5);
    ws6455_config cfg = server(0);
    run(&cfg, "close 1000 \"bye\"\n");
}

static void test_valid_close_codes_accepted(void **state)
{
    (void)state;
    static const unsigned ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                                  1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        uint8_t p[2];
        close_payload(p, ok[k]);
        reset();
        cf(1, WS6455_OP_CLOSE, p, 2);
        sf(1, WS6455_OP_CLOSE, p, 2);
        snprintf(expect, sizeof expect, "close %u \"\"\n", ok[k]);
        ws6455_config cfg = server(0);
        run(&cfg, expect);
        assert_true(ws6455_close_code_valid(ok[k]));
    }
}

static void test_invalid_close_codes_fail(void **state)
{
    (void)state;
    static const unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        uint8_t p[2];
        close_payload(p, bad[k]);
        reset();
        cf(1, WS6455_OP_CLOSE, p, 2);
        sf_fail(WS6455_ERR_CLOSE_CODE);
        ws6455_config cfg = server(0);
        run(&cfg, "error CLOSE_CODE\nclose 1002 \"\"\n");
        assert_false(ws6455_close_code_valid(bad[k]));
    }
}

static void test_close_payload_of_one_byte_fails(void **state)
{
    (void)state;
    reset();
    cf(1, WS6455_OP_CLOSE, "\x03", 1);
    sf_fail(WS6455_ERR_CLOSE_PAYLOAD);
    ws6455_config cfg = server(0);
    run(&cfg, "error CLOSE_PAYLOAD\nclose 1002 \"\"\n");
}

static void test_close_reason_invalid_utf8_fails_1007(void **state)
{
    (void)state;
    uint8_t p[6];
    close_payload(p, 1000);
    memcpy(p + 2, "a\xed\xa0\x80", 4);
    reset();
    cf(1, WS6455_OP_CLOSE, p, 6);
    sf_fail(WS6455_ERR_CLOSE_REASON);
    ws6455_config cfg = server(0);
    run(&cfg, "error CLOSE_REASON\nclose 1007 \"\"\n");
}

static void test_close_with_123_byte_reason(void **state)
{
    (void)state;
    uint8_t p[125];
    close_payload(p, 1000);
    memset(p + 2, 'r', 123);
    reset();
    cf(1, WS6455_OP_CLOSE, p, 125);
    sf(1, WS6455_OP_CLOSE, p, 125);
    ws6455_config cfg = server(0);
    tu_result r;
    tu_feed how = {0};
    tu_run(&cfg, in.b, in.n, &how, &r);
    assert_true(strncmp(r.log, "close 1000 len=123 ", 19) == 0);
    assert_int_equal(r.out_len, want.n);
    assert_memory_equal(r.out, want.b, want.n);
    assert_int_equal(r.state, WS6455_STATE_CLOSED);
    tu_result_free(&r);
}

static void test_stream_end_without_close_is_1006(void **state)
{
    (void)state;
    reset();
    cf(1, WS6455_OP_TEXT, "hi", 2);
    in.n += 3; /* a frame cut off mid-header: the peer vanished */
    in.b[in.n - 3] = 0x81;
    in.b[in.n - 2] = 0x85;
    in.b[in.n - 1] = 0x00;
    ws6455_config cfg = server(0);
    tu_result r;
    tu_feed how = {.eof_at_end = 1};
    tu_run(&cfg, in.b, in.n, &how, &r);
    assert_string_equal(r.log, "text \"hi\"\nerror ABNORMAL_CLOSURE\nclose 1006 \"\"\n");
    assert_int_equal(r.out_len, 0); /* 1006 is never sent */
    tu_result_free(&r);
    how = (tu_feed){.callback_io = 1, .io_read_chunk = 2, .io_write_chunk = 1, .eof_at_end = 1};
    tu_run(&cfg, in.b, in.n, &how, &r);
    assert_string_equal(r.log, "text \"hi\"\nerror ABNORMAL_CLOSURE\nclose 1006 \"\"\n");
    tu_result_free(&r);
}

/* ---------------------------------------------------------- group 10 and limits */

static void test_message_size_limit_exact(void **state)
{
    (void)state;
    uint8_t p[101];
    memset(p, 'm', sizeof p);
    ws6455_config cfg = server(0);
    cfg.max_message_size = 100;
    /* exactly the limit, in two fragments: fine */
    reset();
    cf(0, WS6455_OP_BINARY, p, 60);
    cf(1, WS6455_OP_CONTINUATION, p, 40);
    tu_result r;
    tu_feed how = {0};
    tu_run(&cfg, in.b, in.n, &how, &r);
    assert_true(strncmp(r.log, "binary len=100 ", 15) == 0);
    tu_result_free(&r);
    /* max + 1: refused at the header of the fragment that crosses it */
    reset();
    cf(0, WS6455_OP_BINARY, p, 60);
    cf(1, WS6455_OP_CONTINUATION, p, 41);
    sf_fail(WS6455_ERR_MESSAGE_TOO_BIG);
    run(&cfg, "error MESSAGE_TOO_BIG\nclose 1009 \"\"\n");
    reset();
    cf(1, WS6455_OP_TEXT, p, 101);
    sf_fail(WS6455_ERR_MESSAGE_TOO_BIG);
    run(&cfg, "error MESSAGE_TOO_BIG\nclose 1009 \"\"\n");
}

static void test_frame_size_limit(void **state)
{
    (void)state;
    uint8_t p[51];
    memset(p, 'f', sizeof p);
    ws6455_config cfg = server(0);
    cfg.max_frame_size = 50;
    reset();
    cf(1, WS6455_OP_BINARY, p, 50);
    cf(1, WS6455_OP_BINARY, p, 51);
    sf_fail(WS6455_ERR_FRAME_TOO_BIG);
    tu_result r;
    tu_feed how = {0};
    tu_run(&cfg, in.b, in.n, &how, &r);
    assert_true(strstr(r.log, "error FRAME_TOO_BIG\nclose 1009") != NULL);
    assert_int_equal(r.out_len, want.n);
    assert_memory_equal(r.out, want.b, want.n);
    tu_result_free(&r);
}

static void test_huge_length_claim_allocates_nothing(void **state)
{
    (void)state;
    /* 2^63-1 claimed: refused from the header alone */
    static const uint8_t hdr[] = {0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 1,    2,    3,    4};
    reset();
    memcpy(in.b, hdr, sizeof hdr);
    in.n = sizeof hdr;
    sf_fail(WS6455_ERR_FRAME_TOO_BIG);
    ws6455_config cfg = server(0);
    run(&cfg, "error FRAME_TOO_BIG\nclose 1009 \"\"\n");
}

/* The engine counts a frame's remaining payload in size_t once the header
 * passed max_frame_size. With the limits at SIZE_MAX, a claim of 2^32 + 3
 * bytes is refused where size_t has 32 bits and, where it has 64, swallows
 * everything after it as payload: were the count cut to 32 bits (3), the
 * frame after the 3 bytes would come out as a message. */
static void test_length_beyond_32_bits(void **state)
{
    (void)state;
    static const uint8_t hdr[] = {0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3, 4, 'a', 'b', 'c'};
    reset();
    memcpy(in.b, hdr, sizeof hdr);
    in.n = sizeof hdr;
    cf(1, WS6455_OP_BINARY, "x", 1);
    ws6455_config cfg = server(0);
    cfg.max_frame_size = cfg.max_message_size = SIZE_MAX;
    if ((uint64_t)SIZE_MAX < ((uint64_t)1 << 32) + 3) {
        sf_fail(WS6455_ERR_FRAME_TOO_BIG);
        run(&cfg, "error FRAME_TOO_BIG\nclose 1009 \"\"\n");
    } else {
        run(&cfg, "");
    }
}

static void test_non_minimal_length_fails_unless_lenient(void **state)
{
    (void)state;
    static const uint8_t hdr[] = {0x82, 0xfe, 0x00, 0x05, 0, 0, 0, 0, 'a', 'b', 'c', 'd', 'e'};
    reset();
    memcpy(in.b, hdr, sizeof hdr);
    in.n = sizeof hdr;
    sf_fail(WS6455_ERR_LENGTH_NOT_MINIMAL);
    ws6455_config cfg = server(0);
    run(&cfg, "error LENGTH_NOT_MINIMAL\nclose 1002 \"\"\n");
    want.n = 0;
    cfg = server(WS6455_LENIENT_LENGTH);
    run(&cfg, "binary \"abcde\"\n");
}

/* ---------------------------------------------------------- zero copy */

static const uint8_t *zc_base;
static size_t zc_len;
static int zc_inside;

static void zc_hook(tu_convo *t, int op, const uint8_t *p, size_t n)
{
    (void)t;
    (void)op;
    zc_inside = p >= zc_base && p + n <= zc_base + zc_len;
}

static void test_single_frame_message_is_zero_copy(void **state)
{
    (void)state;
    static tu_convo t;
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    t.on_message_hook = zc_hook;
    ws6455_config cfg = server(0);
    t.c = ws6455_conn_new(&cfg, &cb, &t);
    reset();
    cf(1, WS6455_OP_BINARY, "payload", 7);
    zc_base = in.b;
    zc_len = in.n;
    assert_int_equal(ws6455_conn_recv(t.c, in.b, in.n, NULL), 0);
    assert_int_equal(zc_inside, 1);
    /* only the header split off: the payload is still whole in one feed */
    reset();
    cf(1, WS6455_OP_BINARY, "payload", 7);
    assert_int_equal(ws6455_conn_recv(t.c, in.b, 5, NULL), 0);
    zc_base = in.b + 5;
    zc_len = in.n - 5;
    assert_int_equal(ws6455_conn_recv(t.c, in.b + 5, in.n - 5, NULL), 0);
    assert_int_equal(zc_inside, 1);
    /* the payload split over two feeds: delivered from the reassembly buffer */
    reset();
    cf(1, WS6455_OP_BINARY, "payload", 7);
    assert_int_equal(ws6455_conn_recv(t.c, in.b, 8, NULL), 0);
    zc_base = in.b + 8;
    zc_len = in.n - 8;
    assert_int_equal(ws6455_conn_recv(t.c, in.b + 8, in.n - 8, NULL), 0);
    assert_int_equal(zc_inside, 0);
    assert_string_equal(t.log, "binary \"payload\"\nbinary \"payload\"\nbinary \"payload\"\n");
    tu_convo_free(&t);
}

/* ---------------------------------------------------------- client role */

static void test_client_rejects_masked_server_frame(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    reset();
    in.n = tu_frame(in.b, 1, WS6455_OP_TEXT, "unmasked", 8, NULL);
    in.n += tu_frame(in.b + in.n, 1, WS6455_OP_TEXT, "masked", 6, MASK);
    tu_result r;
    tu_feed how = {0};
    tu_run(&cfg, in.b, in.n, &how, &r);
    assert_string_equal(r.log, "text \"unmasked\"\nerror MASK_FORBIDDEN\nclose 1002 \"\"\n");
    /* the client's close frame is masked with the deterministic key 11 12 13 14 */
    assert_int_equal(r.out[0], 0x88);
    assert_int_equal(r.out[1] & 0x80, 0x80);
    assert_int_equal(r.out[2], 0x11);
    assert_int_equal(r.out[6] ^ 0x11, 0x03);
    assert_int_equal(r.out[7] ^ 0x12, 0xea); /* 1002 = 0x03ea */
    tu_result_free(&r);
    tu_script(&cfg, in.b, in.n, "text \"unmasked\"\nerror MASK_FORBIDDEN\nclose 1002 \"\"\n",
              NULL, 0);
}


/* ---------------------------------------------------------- fast path vs general path */

/* The fused small-message path (recv.c rx_fast_*) must be invisible: the
 * same random streams, split at random points, with callbacks that send,
 * close, abort or free at random events, give the same transcript, output,
 * state and error with the fast path on and forced off (the general path
 * is the reference). Both roles; limits below and above 125. */
typedef struct diff_run {
    tu_convo t;
    tu_rng actions; /* what callbacks do, the same sequence on both sides */
    int freed;
} diff_run;

static void diff_on_message(tu_convo *t, int op, const uint8_t *p, size_t n)
{
    diff_run *d = (diff_run *)t;
    uint64_t a = tu_rng_below(&d->actions, 40);
    if (a == 0)
        ws6455_close(t->c, 1000, "enough", 6);
    else if (a == 1)
        ws6455_conn_abort(t->c);
    else if (a == 2) {
        ws6455_conn_free(t->c);
        d->freed = 1;
    } else if (a < 12)
        op == WS6455_OP_TEXT ? ws6455_send_text(t->c, (const char *)p, n)
                             : ws6455_send_binary(t->c, p, n);
}

static size_t random_frame(tu_rng *r, uint8_t *dst, int role_of_receiver, unsigned *in_msg)
{
    uint8_t payload[400];
    size_t n;
    uint64_t k = tu_rng_below(r, 100);
    /* mostly small, some at the 125/126 edge, some bigger */
    if (k < 70)
        n = (size_t)tu_rng_below(r, 40);
    else if (k < 85)
        n = 120 + (size_t)tu_rng_below(r, 10);
    else
        n = (size_t)tu_rng_below(r, sizeof payload);
    int op;
    int fin = 1;
    uint64_t what = tu_rng_below(r, 100);
    if (what < 8) {
        op = WS6455_OP_PING;
        if (n > 125)
            n = 125;
    } else if (what < 10) {
        op = WS6455_OP_PONG;
        if (n > 125)
            n = 125;
    } else if (what < 20) { /* fragments */
        op = *in_msg ? WS6455_OP_CONTINUATION : WS6455_OP_TEXT;
        fin = tu_rng_below(r, 2) == 0;
        *in_msg = !fin;
    } else if (*in_msg) {
        op = WS6455_OP_CONTINUATION;
        *in_msg = 0;
    } else {
        op = what < 60 ? WS6455_OP_TEXT : WS6455_OP_BINARY;
    }
    for (size_t i = 0; i < n; i++)
        payload[i] = (uint8_t)(0x20 + tu_rng_below(r, 90));
    uint64_t spice = tu_rng_below(r, 100);
    if (op != WS6455_OP_BINARY && spice < 15 && n >= 4)
        memcpy(payload + tu_rng_below(r, n - 3), "\xc3\xa9\xe2\x82", 4); /* é and half a € */
    else if (op != WS6455_OP_BINARY && spice < 25 && n >= 2)
        memcpy(payload + tu_rng_below(r, n - 1), "\xc3\xa9", 2);
    if (spice == 99 && n) /* a rare broken byte */
        payload[tu_rng_below(r, n)] = 0xff;
    uint8_t key[4];
    tu_rng_fill(r, key, 4);
    return tu_frame(dst, fin, op, payload, n, role_of_receiver == WS6455_ROLE_SERVER ? key : NULL);
}

static void diff_feed(diff_run *d, const uint8_t *stream, size_t len, const size_t *cuts,
                      size_t ncuts, int fast, const ws6455_config *cfg, uint64_t seed)
{
    tu_convo_init(&d->t);
    tu_rng_seed(&d->actions, seed);
    d->freed = 0;
    d->t.on_message_hook = diff_on_message;
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    ws6455_context *ctx = ws6455_context_new(cfg, &cb);
    assert_non_null(ctx);
    if (!fast)
        ctx->fast_rx = ctx->fast_tx = 0;
    d->t.c = ws6455_conn_new_in(ctx, &d->t);
    ws6455_context_free(ctx);
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, stream, len);
    size_t from = 0;
    for (size_t i = 0; i <= ncuts && !d->freed; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        int rc = ws6455_conn_recv(d->t.c, copy + from, to - from, NULL);
        tu_logf(&d->t, "rc %d\n", rc);
        if (rc == WS6455_ERR_CLOSED)
            d->freed = 1;
        from = to;
        if (!d->freed) { /* drain, so that both sides see the same queue states */
            const uint8_t *p;
            size_t n;
            while ((n = ws6455_conn_pending(d->t.c, &p)) > 0) {
                memcpy(d->t.out + d->t.out_len, p, n);
                d->t.out_len += n;
                ws6455_conn_consume(d->t.c, n);
            }
        }
    }
    if (!d->freed)
        tu_logf(&d->t, "state %d error %d\n", ws6455_conn_state(d->t.c), ws6455_conn_error(d->t.c));
    else
        d->t.c = NULL;
    free(copy);
}

static void test_fast_path_matches_general_path(void **state)
{
    (void)state;
    static uint8_t stream[1 << 17];
    static diff_run fast, slow;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        tu_rng r;
        tu_rng_seed(&r, seed * 7919);
        int role = seed % 3 == 0 ? WS6455_ROLE_CLIENT : WS6455_ROLE_SERVER;
        ws6455_config cfg;
        ws6455_config_init(&cfg, role);
        cfg.flags = WS6455_SKIP_HANDSHAKE;
        if (seed % 5 == 0)
            cfg.max_message_size = cfg.max_frame_size = 50; /* below the fast path's 125 */
        if (seed % 7 == 0)
            cfg.max_output_buffer = 300;
        size_t len = 0;
        unsigned in_msg = 0;
        int frames = 1 + (int)tu_rng_below(&r, 120);
        for (int i = 0; i < frames && len < sizeof stream - 512; i++)
            len += random_frame(&r, stream + len, role, &in_msg);
        size_t cuts[8];
        size_t ncuts = (size_t)tu_rng_below(&r, 8);
        for (size_t i = 0; i < ncuts; i++)
            cuts[i] = (size_t)tu_rng_below(&r, len + 1);
        for (size_t i = 1; i < ncuts; i++) /* sorted */
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t x = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = x;
            }
        diff_feed(&fast, stream, len, cuts, ncuts, 1, &cfg, seed);
        diff_feed(&slow, stream, len, cuts, ncuts, 0, &cfg, seed);
        if (strcmp(fast.t.log, slow.t.log) != 0)
            fail_msg("seed %llu: transcripts differ\nfast:\n%s\ngeneral:\n%s",
                     (unsigned long long)seed, fast.t.log, slow.t.log);
        assert_int_equal(fast.t.out_len, slow.t.out_len);
        assert_memory_equal(fast.t.out, slow.t.out, fast.t.out_len);
        tu_convo_free(&fast.t);
        tu_convo_free(&slow.t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_binary_every_boundary_length),
        cmocka_unit_test(test_several_messages_in_one_feed),
        cmocka_unit_test(test_unmasked_client_frame_fails_1002),
        cmocka_unit_test(test_ping_answered_with_same_payload),
        cmocka_unit_test(test_ping_not_answered_when_auto_pong_off),
        cmocka_unit_test(test_unsolicited_pong_is_fine),
        cmocka_unit_test(test_control_frame_over_125_fails),
        cmocka_unit_test(test_fragmented_ping_fails),
        cmocka_unit_test(test_reserved_bits_fail),
        cmocka_unit_test(test_reserved_opcodes_fail),
        cmocka_unit_test(test_fragments_reassembled_with_control_between),
        cmocka_unit_test(test_continuation_without_message_fails),
        cmocka_unit_test(test_new_message_inside_fragmented_fails),
        cmocka_unit_test(test_many_tiny_fragments),
        cmocka_unit_test(test_valid_utf8_split_across_fragments),
        cmocka_unit_test(test_invalid_utf8_fails_fast_inside_fragments),
        cmocka_unit_test(test_truncated_utf8_at_message_end_fails),
        cmocka_unit_test(test_invalid_utf8_single_frame),
        cmocka_unit_test(test_binary_is_not_utf8_checked),
        cmocka_unit_test(test_close_without_payload_echoed_empty),
        cmocka_unit_test(test_close_code_echoed),
        cmocka_unit_test(test_valid_close_codes_accepted),
        cmocka_unit_test(test_invalid_close_codes_fail),
        cmocka_unit_test(test_close_payload_of_one_byte_fails),
        cmocka_unit_test(test_close_reason_invalid_utf8_fails_1007),
        cmocka_unit_test(test_close_with_123_byte_reason),
        cmocka_unit_test(test_stream_end_without_close_is_1006),
        cmocka_unit_test(test_message_size_limit_exact),
        cmocka_unit_test(test_frame_size_limit),
        cmocka_unit_test(test_huge_length_claim_allocates_nothing),
        cmocka_unit_test(test_length_beyond_32_bits),
        cmocka_unit_test(test_non_minimal_length_fails_unless_lenient),
        cmocka_unit_test(test_single_frame_message_is_zero_copy),
        cmocka_unit_test(test_client_rejects_masked_server_frame),
        cmocka_unit_test(test_fast_path_matches_general_path),
    };
    return cmocka_run_group_tests_name("recv", tests, NULL, NULL);
}
