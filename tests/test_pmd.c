/* permessage-deflate through the whole engine (src/pmd.c): negotiation in
 * both roles and through the embedding path, the application's veto, the
 * RSV1 rules, RFC 7692 section 7.2.3's examples byte for byte in both
 * directions, compressed fragments in whole-message and streaming delivery,
 * bombs against the limits, invalid data, sending with min_size and the
 * opt-out, prepared messages, and memory per idle connection. Without zlib
 * only the "declined" half runs. */
#include "convo.h"
#include "pmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char REQUEST_HEAD[] = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                                   "Connection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                   "Sec-WebSocket-Version: 13\r\n";

static tu_convo t;

/* A server connection fed a request offering `offer` (NULL: none); returns
 * the response head (up to the blank line) in `resp`. */
static ws6455_conn *server_with_offer(const ws6455_config *cfg, const char *offer, char *resp,
                                      size_t cap)
{
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    t.c = ws6455_conn_new(cfg, &cb, &t);
    assert_non_null(t.c);
    char req[1024];
    int n = snprintf(req, sizeof req, "%s%s%s%s\r\n", REQUEST_HEAD,
                     offer ? "Sec-WebSocket-Extensions: " : "", offer ? offer : "",
                     offer ? "\r\n" : "");
    assert_int_equal(ws6455_conn_recv(t.c, (uint8_t *)req, (size_t)n, NULL), 0);
    const uint8_t *p;
    size_t len = ws6455_conn_pending(t.c, &p);
    assert_true(len < cap);
    memcpy(resp, p, len);
    resp[len] = '\0';
    ws6455_conn_consume(t.c, len);
    return t.c;
}

static ws6455_config deflate_server(void)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.deflate.enabled = 1;
    return cfg;
}

static void test_options_defaults_and_checks(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    assert_int_equal(cfg.deflate.enabled, 0);
    assert_int_equal(cfg.deflate.server_no_context_takeover, 1);
    assert_int_equal(cfg.deflate.client_no_context_takeover, 1);
    assert_int_equal(cfg.deflate.server_max_window_bits, 15);
    assert_int_equal(cfg.deflate.client_max_window_bits, 15);
    assert_int_equal(cfg.deflate.min_size, 64);
    cfg.deflate.server_max_window_bits = 16;
    const char *field;
    assert_int_equal(ws6455_config_check(&cfg, &field), WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(field, "deflate");
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_DEFLATE_DATA), 1007);
}

/* Without the option (or without zlib) an offer is declined silently: the
 * handshake goes on uncompressed (RFC 6455 9.1). */
static void test_offer_declined_when_not_enabled(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    char resp[1024];
    ws6455_conn *c = server_with_offer(&cfg, "permessage-deflate; client_max_window_bits", resp,
                                       sizeof resp);
    assert_null(strstr(resp, "Sec-WebSocket-Extensions"));
    assert_int_equal(ws6455_conn_deflate(c, NULL), 0);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_OPEN);
    tu_convo_free(&t);
    if (!ws6455_deflate_available()) {
        cfg = deflate_server();
        c = server_with_offer(&cfg, "permessage-deflate", resp, sizeof resp);
        assert_null(strstr(resp, "Sec-WebSocket-Extensions"));
        tu_convo_free(&t);
    }
}

#if defined(WS6455_WITH_ZLIB)

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* ------------------------------------------------------------ negotiation */

static void test_server_accepts_browser_offer(void **state)
{
    (void)state;
    ws6455_config cfg = deflate_server();
    char resp[1024];
    /* Chromium's offer */
    ws6455_conn *c = server_with_offer(&cfg, "permessage-deflate; client_max_window_bits", resp,
                                       sizeof resp);
    assert_non_null(strstr(resp, "\r\nSec-WebSocket-Extensions: permessage-deflate; "
                                 "server_no_context_takeover; client_no_context_takeover\r\n"));
    ws6455_deflate_params p;
    assert_int_equal(ws6455_conn_deflate(c, &p), 1);
    assert_int_equal(p.server_no_context_takeover, 1);
    assert_int_equal(p.client_no_context_takeover, 1);
    assert_int_equal(p.server_max_window_bits, 15);
    tu_convo_free(&t);
    /* several offers: the first acceptable one wins; a broken one is declined */
    c = server_with_offer(&cfg,
                          "permessage-deflate; bogus, permessage-deflate; server_max_window_bits=10, "
                          "permessage-deflate",
                          resp, sizeof resp);
    assert_non_null(strstr(resp, "server_max_window_bits=10"));
    assert_int_equal(ws6455_conn_deflate(c, &p), 1);
    assert_int_equal(p.server_max_window_bits, 10);
    tu_convo_free(&t);
    /* nothing acceptable: no extension, handshake goes on */
    c = server_with_offer(&cfg, "x-webkit-deflate-frame, permessage-deflate; a=b", resp,
                          sizeof resp);
    assert_null(strstr(resp, "Sec-WebSocket-Extensions"));
    assert_memory_equal(resp, "HTTP/1.1 101 ", 13);
    assert_int_equal(ws6455_conn_deflate(c, NULL), 0);
    tu_convo_free(&t);
}

static int veto(ws6455_conn *c, const ws6455_request *req, ws6455_handshake_reply *reply,
                void *user)
{
    (void)c, (void)req;
    int *mode = user;
    if (*mode == 0) {
        assert_non_null(reply->extensions);
        assert_memory_equal(reply->extensions, "permessage-deflate", 18);
        reply->extensions = NULL;
    } else {
        reply->extensions = "permessage-deflate; server_max_window_bits=9";
    }
    return 0;
}

/* The application sees what was negotiated and may decline it; it may not
 * make up another answer (500). */
static void test_application_veto(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        ws6455_config cfg = deflate_server();
        ws6455_callbacks cb;
        ws6455_callbacks_init(&cb);
        cb.on_request = veto;
        ws6455_conn *c = ws6455_conn_new(&cfg, &cb, &mode);
        char req[512];
        int n = snprintf(req, sizeof req, "%sSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                         REQUEST_HEAD);
        int rc = ws6455_conn_recv(c, (uint8_t *)req, (size_t)n, NULL);
        const uint8_t *p;
        size_t len = ws6455_conn_pending(c, &p);
        char resp[1024];
        memcpy(resp, p, len);
        resp[len] = '\0';
        if (mode == 0) {
            assert_int_equal(rc, 0);
            assert_null(strstr(resp, "Sec-WebSocket-Extensions"));
            assert_int_equal(ws6455_conn_deflate(c, NULL), 0);
        } else {
            assert_int_equal(rc, WS6455_ERR_CALLBACK);
            assert_memory_equal(resp, "HTTP/1.1 500 ", 13);
        }
        ws6455_conn_free(c);
    }
}

/* The embedding path negotiates the same way. */
static void test_accept_upgrade_negotiates(void **state)
{
    (void)state;
    ws6455_config cfg = deflate_server();
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    t.c = ws6455_conn_new(&cfg, &cb, &t);
    static const ws6455_header h[] = {
        {"Host", 4, "h", 1},
        {"Upgrade", 7, "websocket", 9},
        {"Connection", 10, "Upgrade", 7},
        {"Sec-WebSocket-Key", 17, "dGhlIHNhbXBsZSBub25jZQ==", 24},
        {"Sec-WebSocket-Version", 21, "13", 2},
        {"Sec-WebSocket-Extensions", 24, "permessage-deflate; client_max_window_bits", 42},
    };
    ws6455_http_request req = {"GET", 3, "/", 1, "HTTP/1.1", 8, h, 6};
    /* the head carries a compressed "Hello" (RFC 7692 7.2.3.1), masked */
    uint8_t head[32];
    size_t n = tu_frame_rsv(head, 1, WS6455_RSV1, WS6455_OP_TEXT,
                            "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, KEY);
    assert_int_equal(ws6455_conn_accept_upgrade(t.c, &req, head, n), 0);
    assert_int_equal(ws6455_conn_deflate(t.c, NULL), 1);
    assert_string_equal(t.log, "open -\ntext \"Hello\"\n");
    tu_convo_free(&t);
}

/* Client: the offer in the request, the server's answer checked. */
static ws6455_conn *client_conn(const ws6455_deflate_options *o, char *req, size_t cap)
{
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    cfg.host = "h";
    cfg.deflate = *o;
    t.c = ws6455_conn_new(&cfg, &cb, &t);
    assert_non_null(t.c);
    const uint8_t *p;
    size_t len = ws6455_conn_pending(t.c, &p);
    assert_true(len < cap);
    memcpy(req, p, len);
    req[len] = '\0';
    ws6455_conn_consume(t.c, len);
    return t.c;
}

/* The response to the deterministic key of tu_convo's random source. */
static int client_answer(ws6455_conn *c, const char *req, const char *extensions)
{
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    assert_non_null(k);
    char key[25], accept[29];
    memcpy(key, k + 19, 24);
    key[24] = '\0';
    assert_int_equal(ws6455_accept_key(key, 24, accept), 0);
    char resp[512];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                     accept, extensions ? "Sec-WebSocket-Extensions: " : "",
                     extensions ? extensions : "", extensions ? "\r\n" : "");
    return ws6455_conn_recv(c, (uint8_t *)resp, (size_t)n, NULL);
}

static void test_client_offer_and_answers(void **state)
{
    (void)state;
    ws6455_deflate_options o;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    o = cfg.deflate;
    o.enabled = 1;
    char req[1024];
    ws6455_conn *c = client_conn(&o, req, sizeof req);
    assert_non_null(strstr(req, "\r\nSec-WebSocket-Extensions: permessage-deflate; "
                                "server_no_context_takeover; client_no_context_takeover; "
                                "client_max_window_bits\r\n"));
    assert_int_equal(client_answer(c, req, "permessage-deflate; server_no_context_takeover; "
                                           "client_no_context_takeover"),
                     0);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_OPEN);
    assert_int_equal(ws6455_conn_deflate(c, NULL), 1);
    tu_convo_free(&t);
    /* a server that declines: uncompressed */
    c = client_conn(&o, req, sizeof req);
    assert_int_equal(client_answer(c, req, NULL), 0);
    assert_int_equal(ws6455_conn_deflate(c, NULL), 0);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_OPEN);
    tu_convo_free(&t);
    /* answers that fail the connection (RFC 7692 7.1) */
    const char *bad[] = {
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; bogus",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover, permessage-deflate",
        "permessage-deflate", /* we asked for server_no_context_takeover */
        "x-other",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=16",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        c = client_conn(&o, req, sizeof req);
        assert_int_equal(client_answer(c, req, bad[i]), WS6455_ERR_HS_EXTENSION);
        assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CLOSED);
        tu_convo_free(&t);
    }
    /* client_max_window_bits in the answer when we did not offer it */
    o.client_max_window_bits = 15;
    o.enabled = 0;
    c = client_conn(&o, req, sizeof req);
    assert_null(strstr(req, "Sec-WebSocket-Extensions"));
    assert_int_equal(client_answer(c, req, "permessage-deflate"), WS6455_ERR_HS_EXTENSION);
    tu_convo_free(&t);
}

/* ------------------------------------------------------------ data */

/* A server connection that negotiated deflate without the handshake
 * (SKIP_HANDSHAKE, then started by hand with the given parameters). */
static ws6455_conn *open_pmd(int role, int takeover, unsigned flags, size_t max_message)
{
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    ws6455_config cfg;
    ws6455_config_init(&cfg, role);
    cfg.flags = WS6455_SKIP_HANDSHAKE | flags;
    cfg.deflate.enabled = 1;
    cfg.deflate.server_no_context_takeover = !takeover;
    cfg.deflate.client_no_context_takeover = !takeover;
    if (max_message)
        cfg.max_message_size = cfg.max_frame_size = max_message;
    cfg.deflate.min_size = 0;
    t.c = ws6455_conn_new(&cfg, &cb, &t);
    assert_non_null(t.c);
    ws6455_deflate_params p = {(uint8_t)!takeover, (uint8_t)!takeover, 15, 15};
    assert_int_equal(ws6455__pmd_start(t.c, &p), 0);
    return t.c;
}

static size_t take_output(ws6455_conn *c, uint8_t *out, size_t cap)
{
    size_t total = 0;
    const uint8_t *p;
    size_t n;
    while ((n = ws6455_conn_pending(c, &p)) > 0) {
        assert_true(total + n <= cap);
        memcpy(out + total, p, n);
        total += n;
        ws6455_conn_consume(c, n);
    }
    return total;
}

/* RFC 7692 7.2.3.1 and 7.2.3.2: "Hello" compressed, then again with the
 * window taken over; both directions, exact bytes. */
static void test_rfc7692_hello_both_directions(void **state)
{
    (void)state;
    uint8_t out[64];
    /* server sends: unmasked, RSV1 on the frame */
    ws6455_conn *c = open_pmd(WS6455_ROLE_SERVER, 1, 0, 0);
    assert_int_equal(ws6455_send_text(c, "Hello", 5), 0);
    assert_int_equal(take_output(c, out, sizeof out), 9);
    assert_memory_equal(out, "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00", 9);
    assert_int_equal(ws6455_send_text(c, "Hello", 5), 0);
    assert_int_equal(take_output(c, out, sizeof out), 7);
    assert_memory_equal(out, "\xc1\x05\xf2\x00\x11\x00\x00", 7);
    /* server receives the same, masked */
    uint8_t in[64];
    size_t n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_TEXT,
                            "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, KEY);
    n += tu_frame_rsv(in + n, 1, WS6455_RSV1, WS6455_OP_TEXT, "\xf2\x00\x11\x00\x00", 5, KEY);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
    assert_string_equal(t.log, "text \"Hello\"\ntext \"Hello\"\n");
    tu_convo_free(&t);
    /* a client sends it masked; unmasked it is the same DEFLATE data */
    c = open_pmd(WS6455_ROLE_CLIENT, 0, 0, 0);
    assert_int_equal(ws6455_send_text(c, "Hello", 5), 0);
    assert_int_equal(take_output(c, out, sizeof out), 13);
    assert_int_equal(out[0], 0xc1);
    assert_int_equal(out[1], 0x87);
    uint8_t plain[7];
    ws6455_mask(plain, out + 6, 7, out + 2, 0);
    assert_memory_equal(plain, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
    tu_convo_free(&t);
}

/* RFC 7692 7.2.3.3 (no compression), 7.2.3.4 (BFINAL set), 7.2.3.5 (two
 * blocks), 7.2.3.6 (an empty message as "00"), received. */
static void test_rfc7692_other_examples_received(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t n;
    } ex[] = {
        {"\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00", 11},
        {"\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8},
        {"\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00", 13},
    };
    for (size_t i = 0; i < 3; i++) {
        ws6455_conn *c = open_pmd(WS6455_ROLE_SERVER, 0, 0, 0);
        uint8_t in[64];
        size_t n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_TEXT, ex[i].data, ex[i].n, KEY);
        assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
        assert_string_equal(t.log, "text \"Hello\"\n");
        tu_convo_free(&t);
    }
    ws6455_conn *c = open_pmd(WS6455_ROLE_SERVER, 0, 0, 0);
    uint8_t in[16];
    size_t n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_BINARY, "\x00", 1, KEY);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
    assert_string_equal(t.log, "binary \"\"\n");
    /* and we send an empty message as the single byte 00 */
    assert_int_equal(ws6455_send_binary(c, "", 0), 0);
    uint8_t out[8];
    assert_int_equal(take_output(c, out, sizeof out), 3);
    assert_memory_equal(out, "\xc2\x01\x00", 3);
    tu_convo_free(&t);
}

/* RSV1 only on a message's first frame, never on control frames or
 * continuations, and not at all without the extension. */
static void test_rsv1_rules(void **state)
{
    (void)state;
    uint8_t in[64];
    size_t n;
    ws6455_conn *c = open_pmd(WS6455_ROLE_SERVER, 0, 0, 0);
    n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_PING, "", 0, KEY);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), WS6455_ERR_RSV_BITS);
    tu_convo_free(&t);
    c = open_pmd(WS6455_ROLE_SERVER, 0, 0, 0);
    n = tu_frame_rsv(in, 0, WS6455_RSV1, WS6455_OP_TEXT, "\xf2\x48", 2, KEY);
    n += tu_frame_rsv(in + n, 1, WS6455_RSV1, WS6455_OP_CONTINUATION, "\xcd", 1, KEY);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), WS6455_ERR_RSV_BITS);
    tu_convo_free(&t);
    /* no extension: RSV1 is a protocol error (1002) */
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    t.c = ws6455_conn_new(&cfg, &cb, &t);
    n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_TEXT, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, KEY);
    assert_int_equal(ws6455_conn_recv(t.c, in, n, NULL), WS6455_ERR_RSV_BITS);
    tu_convo_free(&t);
    /* a compressed message's frames: RSV1 on the first only */
    c = open_pmd(WS6455_ROLE_SERVER, 0, 0, 0);
    static uint8_t big[200];
    memset(big, 'a', sizeof big);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_TEXT, big, 100, 0), 0);
    assert_int_equal(ws6455_ping(c, "p", 1), 0);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_CONTINUATION, big, 100, 1), 0);
    uint8_t out[512];
    size_t len = take_output(c, out, sizeof out);
    assert_int_equal(out[0], 0x41); /* RSV1, text, no FIN */
    size_t k = 2 + (out[1] & 0x7f);
    assert_int_equal(out[k], 0x89); /* the ping: no RSV1 */
    k += 3;
    assert_int_equal(out[k], 0x80); /* the continuation: FIN, no RSV1 */
    assert_true(k + 2 + (out[k + 1] & 0x7f) == len);
    tu_convo_free(&t);
}

/* Compressed fragments reassembled, and streamed; text checked after
 * inflating. */
static void test_fragmented_compressed_messages(void **state)
{
    (void)state;
    /* "Hello" as 7.2.3.5's two blocks, cut into three frames */
    static const uint8_t data[] = {0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff,
                                   0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00};
    for (int streaming = 0; streaming < 2; streaming++) {
        ws6455_conn *c =
            open_pmd(WS6455_ROLE_SERVER, 0, streaming ? WS6455_STREAM_FRAGMENTS : 0, 0);
        uint8_t in[64];
        size_t n = tu_frame_rsv(in, 0, WS6455_RSV1, WS6455_OP_TEXT, data, 3, KEY);
        n += tu_frame(in + n, 1, WS6455_OP_PING, "x", 1, KEY);
        n += tu_frame(in + n, 0, WS6455_OP_CONTINUATION, data + 3, 6, KEY);
        n += tu_frame(in + n, 1, WS6455_OP_CONTINUATION, data + 9, 4, KEY);
        assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
        if (streaming)
            assert_string_equal(t.log, "ping \"x\"\nstream text \"Hello\"\n");
        else
            assert_string_equal(t.log, "ping \"x\"\ntext \"Hello\"\n");
        tu_convo_free(&t);
    }
}

/* Inflated text that is not UTF-8 fails with 1007; data that is not
 * DEFLATE fails with 1007 (DEFLATE_DATA). */
static void test_invalid_inflated_text_and_data(void **state)
{
    (void)state;
    /* a stored block holding C0 AF */
    ws6455_conn *c = open_pmd(WS6455_ROLE_SERVER, 0, 0, 0);
    uint8_t in[64];
    size_t n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_TEXT,
                            "\x00\x02\x00\xfd\xff\xc0\xaf\x00", 8, KEY);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), WS6455_ERR_UTF8);
    assert_int_equal(ws6455_error_close_code(WS6455_ERR_UTF8), 1007);
    tu_convo_free(&t);
    c = open_pmd(WS6455_ROLE_SERVER, 0, 0, 0);
    n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_BINARY, "\xff\xff\xff\xff", 4, KEY);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), WS6455_ERR_DEFLATE_DATA);
    const uint8_t *p;
    size_t len = ws6455_conn_pending(c, &p);
    assert_true(len >= 4);
    assert_memory_equal(p, "\x88", 1);
    assert_int_equal(p[2] << 8 | p[3], 1007);
    tu_convo_free(&t);
}

/* A small frame that inflates to 128 MiB of zeros closes with 1009 at the
 * limit, never allocating the inflated size; the same in many fragments. */
static void test_bombs_stop_at_the_limit(void **state)
{
    (void)state;
    /* 128 MiB of zeros, compressed at level 9 */
    size_t zcap = 1 << 20, zlen = 0;
    uint8_t *z = malloc(zcap);
    {
        ws6455_conn *s = open_pmd(WS6455_ROLE_SERVER, 0, 0, 0);
        static uint8_t zeros[1 << 16];
        /* compress with our own engine: a 128 MiB message in 64 KiB pieces */
        for (int i = 0; i < 2048; i++) {
            const uint8_t *d;
            size_t dn;
            assert_int_equal(ws6455__pmd_deflate(s, zeros, sizeof zeros, i == 2047, &d, &dn), 0);
            assert_true(zlen + dn <= zcap);
            memcpy(z + zlen, d, dn);
            zlen += dn;
        }
        tu_convo_free(&t);
    }
    print_message("128 MiB of zeros compress to %zu bytes\n", zlen);
    for (int pieces = 0; pieces < 2; pieces++) {
        tu_counting k;
        ws6455_allocator a = tu_counting_allocator(&k);
        tu_convo_init(&t);
        ws6455_callbacks cb;
        tu_convo_callbacks(&cb);
        ws6455_config cfg;
        ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
        cfg.flags = WS6455_SKIP_HANDSHAKE;
        cfg.allocator = &a;
        cfg.max_message_size = cfg.max_frame_size = 1 << 20;
        cfg.deflate.enabled = 1;
        t.c = ws6455_conn_new(&cfg, &cb, &t);
        ws6455_deflate_params p = {1, 1, 15, 15};
        assert_int_equal(ws6455__pmd_start(t.c, &p), 0);
        uint8_t *in = malloc(zlen + (zlen / 64 + 2) * WS6455_MAX_HEADER_SIZE);
        size_t n = 0;
        if (!pieces) {
            n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_BINARY, z, zlen, KEY);
        } else { /* 64-byte fragments */
            for (size_t off = 0; off < zlen; off += 64) {
                size_t m = zlen - off < 64 ? zlen - off : 64;
                n += tu_frame_rsv(in + n, off + m == zlen, off ? 0 : WS6455_RSV1,
                                  off ? WS6455_OP_CONTINUATION : WS6455_OP_BINARY, z + off, m, KEY);
            }
        }
        assert_int_equal(ws6455_conn_recv(t.c, in, n, NULL), WS6455_ERR_MESSAGE_TOO_BIG);
        print_message("peak %zu bytes for a 1 MiB limit\n", k.peak_bytes);
        /* the limit (reassembly, and for a moment the half-size buffer it grew
         * from) + the decompressor (about 40 KiB): nowhere near 128 MiB */
        assert_true(k.peak_bytes < (1u << 20) + (1u << 19) + (128u << 10));
        free(in);
        tu_convo_free(&t);
    }
    free(z);
}

/* min_size and the opt-out: small and opted-out messages go uncompressed. */
static void test_min_size_and_opt_out(void **state)
{
    (void)state;
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    ws6455_config cfg = deflate_server();
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    cfg.deflate.min_size = 10;
    t.c = ws6455_conn_new(&cfg, &cb, &t);
    ws6455_deflate_params p = {1, 1, 15, 15};
    assert_int_equal(ws6455__pmd_start(t.c, &p), 0);
    uint8_t out[256];
    assert_int_equal(ws6455_send_text(t.c, "short", 5), 0);
    assert_int_equal(take_output(t.c, out, sizeof out), 7);
    assert_int_equal(out[0], 0x81);
    assert_int_equal(ws6455_send_text(t.c, "long enough to compress", 23), 0);
    take_output(t.c, out, sizeof out);
    assert_int_equal(out[0], 0xc1);
    assert_int_equal(
        ws6455_send_ex(t.c, WS6455_OP_TEXT, "long enough, but not", 20, 1, WS6455_SEND_UNCOMPRESSED),
        0);
    assert_int_equal(take_output(t.c, out, sizeof out), 22);
    assert_int_equal(out[0], 0x81);
    ws6455_message *m = ws6455_message_new(NULL, WS6455_OP_BINARY, "prepared, and long", 18);
    assert_int_equal(ws6455_send_message(t.c, m), 0);
    take_output(t.c, out, sizeof out);
    assert_int_equal(out[0], 0xc2);
    assert_int_equal(ws6455_send_message_ex(t.c, m, WS6455_SEND_UNCOMPRESSED), 0);
    assert_int_equal(take_output(t.c, out, sizeof out), 20);
    assert_memory_equal(out, "\x82\x12prepared, and long", 20);
    ws6455_message_free(m);
    tu_convo_free(&t);
}

/* An idle connection that negotiated deflate without context takeover
 * holds no zlib memory: after messages both ways it is back to its struct
 * and its small compression record. */
static void test_idle_holds_no_zlib_memory(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_allocator a = tu_counting_allocator(&k);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    cfg.allocator = &a;
    cfg.deflate.enabled = 1;
    cfg.deflate.min_size = 0;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    ws6455_context *ctx = ws6455_context_new(&cfg, &cb);
    ws6455_conn *warm = ws6455_conn_new_in(ctx, NULL);
    ws6455_deflate_params p = {1, 1, 15, 15};
    assert_int_equal(ws6455__pmd_start(warm, &p), 0);
    uint8_t out[256];
    ws6455_send_text(warm, "warm the context's shared compressor up", 39);
    take_output(warm, out, sizeof out);
    size_t before = k.live_bytes;
    enum { N = 50 };
    ws6455_conn *c[N];
    for (int j = 0; j < N; j++) {
        c[j] = ws6455_conn_new_in(ctx, NULL);
        assert_int_equal(ws6455__pmd_start(c[j], &p), 0);
    }
    size_t opened = (k.live_bytes - before) / N;
    for (int j = 0; j < N; j++) {
        for (int i = 0; i < 10; i++) {
            assert_int_equal(ws6455_send_text(c[j], "Hello, Hello, Hello, Hello", 26), 0);
            take_output(c[j], out, sizeof out);
            uint8_t in[64];
            size_t n = tu_frame_rsv(in, 1, WS6455_RSV1, WS6455_OP_TEXT,
                                    "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, KEY);
            assert_int_equal(ws6455_conn_recv(c[j], in, n, NULL), 0);
        }
    }
    /* what the context keeps for any connection (a spare reassembly buffer)
     * is no connection's: per connection nothing has grown */
    size_t idle = (k.live_bytes - before) / N;
    print_message("deflate connection: %zu bytes at start, %zu idle after traffic\n", opened, idle);
    assert_true(k.live_bytes - before - N * opened <= 512); /* the context's spare */
    assert_true(idle <= sizeof(struct ws6455_conn) + 160);
    for (int j = 0; j < N; j++)
        ws6455_conn_free(c[j]);
    ws6455_conn_free(warm);
    ws6455_context_free(ctx);
    assert_int_equal(k.live_bytes, 0);
}

/* A client and a server engine, both compressing, through memory: random
 * messages (whole and fragmented, text and binary, any size) in both
 * directions arrive intact, with and without context takeover. */
static uint8_t got[70000];
static size_t got_len;
static int got_count;

static void keep_message(tu_convo *tc, int op, const uint8_t *p, size_t n)
{
    (void)tc;
    (void)op;
    assert_true(n <= sizeof got);
    memcpy(got, p, n);
    got_len = n;
    got_count++;
}

static void test_round_trips_through_a_pair(void **state)
{
    (void)state;
    for (int takeover = 0; takeover < 2; takeover++) {
        static tu_convo srv, cli;
        ws6455_callbacks cb;
        tu_convo_callbacks(&cb);
        ws6455_config sc = deflate_server(), cc;
        sc.deflate.server_no_context_takeover = sc.deflate.client_no_context_takeover = !takeover;
        sc.deflate.min_size = 8;
        ws6455_config_init(&cc, WS6455_ROLE_CLIENT);
        cc.host = "h";
        cc.deflate = sc.deflate;
        tu_convo_init(&srv);
        tu_convo_init(&cli);
        srv.c = ws6455_conn_new(&sc, &cb, &srv);
        cli.c = ws6455_conn_new(&cc, &cb, &cli);
        tu_rng r;
        tu_rng_seed(&r, 99 + (uint64_t)takeover);
        static uint8_t buf[1 << 18], msg[70000];
        /* the handshake, both ways */
        for (int dir = 0; dir < 2; dir++) {
            ws6455_conn *from = dir ? srv.c : cli.c, *to = dir ? cli.c : srv.c;
            size_t n = take_output(from, buf, sizeof buf);
            assert_int_equal(ws6455_conn_recv(to, buf, n, NULL), 0);
        }
        assert_int_equal(ws6455_conn_deflate(srv.c, NULL), 1);
        assert_int_equal(ws6455_conn_deflate(cli.c, NULL), 1);
        size_t compressed = 0, plain = 0;
        for (int round = 0; round < 300; round++) {
            size_t len = tu_rng_below(&r, 4) ? (size_t)tu_rng_below(&r, 300)
                                              : (size_t)tu_rng_below(&r, sizeof msg);
            for (size_t i = 0; i < len; i++)
                msg[i] = (uint8_t)('a' + tu_rng_below(&r, 4)); /* compressible ASCII */
            tu_convo *from = tu_rng_below(&r, 2) ? &srv : &cli;
            tu_convo *to = from == &srv ? &cli : &srv;
            to->on_message_hook = keep_message;
            to->log_len = 0; /* the transcript is not what this test reads */
            int sends_ws = 0;
            if (tu_rng_below(&r, 3) == 0 && len > 10) {
                size_t cut = len / 3;
                assert_int_equal(ws6455_send_fragment(from->c, WS6455_OP_BINARY, msg, cut, 0), 0);
                assert_int_equal(ws6455_send_fragment(from->c, WS6455_OP_CONTINUATION, msg + cut,
                                                      len - cut, 1),
                                 0);
            } else {
                assert_int_equal(ws6455_send_text(from->c, (const char *)msg, len), 0);
                sends_ws = 1;
            }
            (void)sends_ws;
            size_t n = take_output(from->c, buf, sizeof buf);
            compressed += n;
            plain += len;
            got_count = 0;
            assert_int_equal(ws6455_conn_recv(to->c, buf, n, NULL), 0);
            assert_int_equal(got_count, 1);
            assert_int_equal(got_len, len);
            assert_memory_equal(got, msg, len);
        }
        print_message("takeover %d: %zu bytes of messages took %zu on the wire\n", takeover, plain,
                      compressed);
        assert_true(compressed < plain / 2);
        tu_convo_free(&srv);
        tu_convo_free(&cli);
    }
}

#endif /* WS6455_WITH_ZLIB */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_defaults_and_checks),
        cmocka_unit_test(test_offer_declined_when_not_enabled),
#if defined(WS6455_WITH_ZLIB)
        cmocka_unit_test(test_server_accepts_browser_offer),
        cmocka_unit_test(test_application_veto),
        cmocka_unit_test(test_accept_upgrade_negotiates),
        cmocka_unit_test(test_client_offer_and_answers),
        cmocka_unit_test(test_rfc7692_hello_both_directions),
        cmocka_unit_test(test_rfc7692_other_examples_received),
        cmocka_unit_test(test_rsv1_rules),
        cmocka_unit_test(test_fragmented_compressed_messages),
        cmocka_unit_test(test_invalid_inflated_text_and_data),
        cmocka_unit_test(test_bombs_stop_at_the_limit),
        cmocka_unit_test(test_min_size_and_opt_out),
        cmocka_unit_test(test_idle_holds_no_zlib_memory),
        cmocka_unit_test(test_round_trips_through_a_pair),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
