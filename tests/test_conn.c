/* The connection as a whole: configuration copying, time from the caller
 * (handshake, close and keepalive timers on a fake clock), re-entrancy from
 * callbacks, allocator hooks (counting, failing the n-th allocation), and
 * memory bounded by the configuration. */
#include "convo.h"
#include "outq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t MASK[4] = {0xa1, 0xb2, 0xc3, 0xd4};

/* ------------------------------------------------------------ allocator */

typedef struct counting {
    size_t live_bytes, peak_bytes, allocations;
    long fail_at; /* fail the n-th allocation (1-based); 0: never */
} counting;

typedef struct block {
    size_t size;
    max_align_t align;
} block;

static void *c_alloc(size_t n, void *u)
{
    counting *k = u;
    k->allocations++;
    if (k->fail_at && (long)k->allocations == k->fail_at)
        return NULL;
    block *b = malloc(sizeof(block) + n);
    if (!b)
        return NULL;
    b->size = n;
    k->live_bytes += n;
    if (k->live_bytes > k->peak_bytes)
        k->peak_bytes = k->live_bytes;
    return b + 1;
}

static void c_release(void *p, void *u)
{
    counting *k = u;
    if (!p)
        return;
    block *b = (block *)p - 1;
    k->live_bytes -= b->size;
    free(b);
}

static void *c_resize(void *p, size_t n, void *u)
{
    void *q = c_alloc(n, u);
    if (q && p) {
        block *b = (block *)p - 1;
        memcpy(q, p, b->size < n ? b->size : n);
        c_release(p, u);
    }
    return q;
}

static ws6455_allocator counting_allocator(counting *k)
{
    memset(k, 0, sizeof *k);
    ws6455_allocator a = {c_alloc, c_resize, c_release, k};
    return a;
}

static tu_convo t;

static ws6455_conn *make(ws6455_config *cfg)
{
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    t.c = ws6455_conn_new(cfg, &cb, &t);
    return t.c;
}

static ws6455_config server_cfg(void)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    return cfg;
}

static size_t frame(uint8_t *dst, int fin, int op, const void *p, size_t n)
{
    return tu_frame(dst, fin, op, p, n, MASK);
}

/* ------------------------------------------------------------ defaults */

static void test_config_defaults_documented(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    assert_int_equal(cfg.struct_size, sizeof cfg);
    assert_int_equal(cfg.role, WS6455_ROLE_CLIENT);
    assert_int_equal(cfg.max_message_size, WS6455_DEFAULT_MAX_MESSAGE_SIZE);
    assert_int_equal(cfg.max_frame_size, WS6455_DEFAULT_MAX_FRAME_SIZE);
    assert_int_equal(cfg.max_output_buffer, WS6455_DEFAULT_MAX_OUTPUT_BUFFER);
    assert_int_equal(cfg.max_handshake_size, 8192);
    assert_int_equal(cfg.max_handshake_headers, 64);
    assert_int_equal(cfg.handshake_timeout_ms, WS6455_DEFAULT_HANDSHAKE_TIMEOUT_MS);
    assert_int_equal(cfg.close_timeout_ms, WS6455_DEFAULT_CLOSE_TIMEOUT_MS);
    assert_int_equal(cfg.ping_interval_ms, 0);
    assert_int_equal(cfg.flags, 0);
}

static void test_invalid_config_refused(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, 7);
    int err = 0;
    assert_null(ws6455_conn_new_err(&cfg, NULL, NULL, &err, NULL));
    assert_int_equal(err, WS6455_ERR_INVALID_ARGUMENT);
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT); /* a client needs a host */
    assert_null(ws6455_conn_new_err(&cfg, NULL, NULL, &err, NULL));
    assert_int_equal(err, WS6455_ERR_INVALID_ARGUMENT);
}

static void test_older_shorter_config_gets_defaults(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    cfg.struct_size = offsetof(ws6455_config, max_output_buffer);
    cfg.max_output_buffer = 1; /* beyond the old size: must be ignored */
    ws6455_conn *c = make(&cfg);
    assert_non_null(c);
    static uint8_t big[1000];
    assert_int_equal(ws6455_send_binary(c, big, sizeof big), 0);
    tu_convo_free(&t);
}

/* ------------------------------------------------------------ time */

static void test_handshake_timeout(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.handshake_timeout_ms = 3000;
    ws6455_conn *c = make(&cfg);
    assert_non_null(c);
    assert_int_equal(ws6455_conn_tick(c, 1000000), 0);
    assert_true(ws6455_conn_deadline(c) == 1003000);
    assert_int_equal(ws6455_conn_tick(c, 1002999), 0);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CONNECTING);
    assert_int_equal(ws6455_conn_tick(c, 1003000), WS6455_ERR_TIMEOUT);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CLOSED);
    /* A server connection that never opened reports no on_close. */
    assert_string_equal(t.log, "error TIMEOUT\n");
    assert_true(ws6455_conn_deadline(c) == WS6455_NO_DEADLINE);
    tu_convo_free(&t);
}

static void test_close_timeout_when_peer_never_answers(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    cfg.close_timeout_ms = 500;
    ws6455_conn *c = make(&cfg);
    assert_true(ws6455_conn_deadline(c) == WS6455_NO_DEADLINE);
    ws6455_conn_tick(c, 10);
    assert_int_equal(ws6455_close(c, 1001, NULL, 0), 0);
    assert_true(ws6455_conn_deadline(c) == 510);
    assert_int_equal(ws6455_conn_tick(c, 509), 0);
    assert_int_equal(ws6455_conn_tick(c, 510), WS6455_ERR_TIMEOUT);
    assert_string_equal(t.log, "error TIMEOUT\nclose 1006 \"\"\n");
    tu_convo_free(&t);
}

static void test_keepalive_ping_then_failure(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    cfg.ping_interval_ms = 1000;
    cfg.ping_timeout_ms = 200;
    ws6455_conn *c = make(&cfg);
    ws6455_conn_tick(c, 5000);
    assert_true(ws6455_conn_deadline(c) == 6000);
    /* traffic pushes the ping back */
    uint8_t in[32];
    ws6455_conn_tick(c, 5500);
    size_t n = frame(in, 1, WS6455_OP_PONG, "", 0);
    ws6455_conn_recv(c, in, n, NULL);
    assert_true(ws6455_conn_deadline(c) == 6500);
    ws6455_conn_tick(c, 6500);
    const uint8_t *p;
    assert_int_equal(ws6455_conn_pending(c, &p), 2);
    assert_memory_equal(p, "\x89\x00", 2);
    ws6455_conn_consume(c, 2);
    assert_true(ws6455_conn_deadline(c) == 6700);
    /* an answer in time keeps the connection */
    ws6455_conn_tick(c, 6650);
    n = frame(in, 1, WS6455_OP_PONG, "", 0);
    ws6455_conn_recv(c, in, n, NULL);
    assert_true(ws6455_conn_deadline(c) == 7650);
    ws6455_conn_tick(c, 7650);
    ws6455_conn_consume(c, ws6455_conn_pending(c, &p));
    /* silence after the ping fails it */
    assert_int_equal(ws6455_conn_tick(c, 7849), 0);
    assert_int_equal(ws6455_conn_tick(c, 7850), WS6455_ERR_TIMEOUT);
    assert_string_equal(t.log, "pong \"\"\npong \"\"\nerror TIMEOUT\nclose 1006 \"\"\n");
    assert_int_equal(ws6455_conn_pending(c, &p), 0);
    tu_convo_free(&t);
}

static void test_timers_armed_before_first_tick_start_at_first_tick(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    cfg.close_timeout_ms = 100;
    ws6455_conn *c = make(&cfg);
    assert_int_equal(ws6455_close(c, 1000, NULL, 0), 0);
    assert_int_equal(ws6455_conn_tick(c, 123456789), 0); /* not expired at once */
    assert_true(ws6455_conn_deadline(c) == 123456889);
    tu_convo_free(&t);
}


/* ------------------------------------------------------------ every connection ends */

/* Sends until the queue holds about `bytes`, never consumed: a peer that
 * stopped reading. */
static void stuff_output(ws6455_conn *c, size_t bytes)
{
    static uint8_t payload[65536];
    while (ws6455_conn_buffered_amount(c) < bytes)
        assert_int_equal(ws6455_send_binary(c, payload, sizeof payload), 0);
}

/* The deadline is finite while the socket must stay open, and the socket
 * is released by it: tick through `until` in 1 ms steps at the announced
 * deadlines and return when should_close_socket() first said 1. */
static uint64_t run_until_socket_released(ws6455_conn *c, uint64_t now, uint64_t until)
{
    while (!ws6455_conn_should_close_socket(c)) {
        uint64_t d = ws6455_conn_deadline(c);
        assert_true(d != WS6455_NO_DEADLINE);
        assert_true(d <= until);
        now = d > now ? d : now;
        ws6455_conn_tick(c, now);
    }
    return now;
}

/* Issue 10, bug 1, as reported: 1 MiB queued for a peer that never reads,
 * then close(1001): the close handshake times out at close_timeout_ms and
 * the socket is released then, with the queued output dropped. */
static void test_close_timeout_with_stuck_output_releases_socket(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    ws6455_conn *c = make(&cfg);
    ws6455_conn_tick(c, 0);
    stuff_output(c, 1u << 20);
    assert_int_equal(ws6455_close(c, 1001, NULL, 0), 0);
    assert_true(ws6455_conn_deadline(c) == WS6455_DEFAULT_CLOSE_TIMEOUT_MS);
    for (uint64_t now = 0; now < WS6455_DEFAULT_CLOSE_TIMEOUT_MS; now += 100) {
        ws6455_conn_tick(c, now);
        assert_int_equal(ws6455_conn_should_close_socket(c), 0);
    }
    uint64_t at = run_until_socket_released(c, 0, 60000);
    assert_true(at == WS6455_DEFAULT_CLOSE_TIMEOUT_MS);
    assert_int_equal(ws6455_conn_error(c), WS6455_ERR_TIMEOUT);
    assert_int_equal(ws6455_conn_buffered_amount(c), 0);
    assert_true(ws6455_conn_deadline(c) == WS6455_NO_DEADLINE);
    assert_string_equal(t.log, "error TIMEOUT\nclose 1006 \"\"\n");
    assert_int_equal(t.clean_at_close, 0);
    tu_convo_free(&t);
}

/* A keepalive failure with output stuck: released at once. */
static void test_keepalive_failure_with_stuck_output_releases_socket(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    cfg.ping_interval_ms = 1000;
    cfg.ping_timeout_ms = 500;
    ws6455_conn *c = make(&cfg);
    ws6455_conn_tick(c, 0);
    stuff_output(c, 200000);
    uint64_t at = run_until_socket_released(c, 0, 60000);
    assert_true(at == 1500); /* ping at 1000, no answer by 1500 */
    assert_int_equal(ws6455_conn_error(c), WS6455_ERR_TIMEOUT);
    assert_string_equal(t.log, "error TIMEOUT\nclose 1006 \"\"\n");
    tu_convo_free(&t);
}

/* A protocol violation while output is stuck: the close frame is queued
 * behind the output, which gets the drain allowance (close_timeout_ms),
 * then everything is dropped. */
static void test_failure_with_stuck_output_releases_socket(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    cfg.close_timeout_ms = 700;
    ws6455_conn *c = make(&cfg);
    ws6455_conn_tick(c, 100);
    stuff_output(c, 200000);
    uint8_t bad[2] = {0x83, 0x80}; /* reserved opcode */
    assert_int_equal(ws6455_conn_recv(c, bad, 2, NULL), WS6455_ERR_BAD_OPCODE);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CLOSED);
    assert_int_equal(ws6455_conn_should_close_socket(c), 0);
    assert_true(ws6455_conn_deadline(c) == 800);
    assert_true(run_until_socket_released(c, 100, 800) == 800);
    assert_string_equal(t.log, "error BAD_OPCODE\nclose 1002 \"\"\n");
    tu_convo_free(&t);
}

/* The peer's close answered while it does not read our answer: the same
 * drain allowance; a peer that does read it releases the socket at once. */
static void test_clean_close_with_stuck_output_releases_socket(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    ws6455_conn *c = make(&cfg);
    ws6455_conn_tick(c, 0);
    stuff_output(c, 100000);
    uint8_t in[16];
    size_t n = frame(in, 1, WS6455_OP_CLOSE, "\x03\xe8", 2);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
    assert_int_equal(t.clean_at_close, 1);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CLOSED);
    assert_true(run_until_socket_released(c, 0, WS6455_DEFAULT_CLOSE_TIMEOUT_MS) ==
                WS6455_DEFAULT_CLOSE_TIMEOUT_MS);
    /* our answer never left: not clean after all */
    assert_int_equal(ws6455_conn_was_clean(c), 0);
    tu_convo_free(&t);
}

/* Every state in CLOSING or CLOSED has a finite deadline until the socket
 * may close, whatever ended it. */
static void test_deadline_finite_until_socket_may_close(void **state)
{
    (void)state;
    for (int how = 0; how < 5; how++) {
        ws6455_config cfg = server_cfg();
        ws6455_conn *c = make(&cfg);
        ws6455_conn_tick(c, 1000);
        stuff_output(c, 70000);
        uint8_t in[16];
        size_t n;
        switch (how) {
        case 0: ws6455_close(c, 1000, "x", 1); break;
        case 1: n = frame(in, 1, WS6455_OP_CLOSE, "", 0); ws6455_conn_recv(c, in, n, NULL); break;
        case 2: ws6455_conn_recv_eof(c); break;
        case 3: n = frame(in, 1, WS6455_OP_TEXT, "\xff", 1); ws6455_conn_recv(c, in, n, NULL); break;
        default: ws6455_conn_abort(c); break;
        }
        assert_true(ws6455_conn_state(c) >= WS6455_STATE_CLOSING);
        run_until_socket_released(c, 1000, 1000 + 2 * WS6455_DEFAULT_CLOSE_TIMEOUT_MS);
        tu_convo_free(&t);
    }
}

/* close_timeout_ms cannot be turned off: a CLOSING connection always has a
 * deadline. */
static void test_close_timeout_zero_refused(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    cfg.close_timeout_ms = 0;
    int err;
    const char *field = NULL;
    assert_null(ws6455_conn_new_err(&cfg, NULL, NULL, &err, &field));
    assert_int_equal(err, WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(field, "close_timeout_ms");
}

/* on_close exactly once, however an opened connection ends. */
static void test_on_close_exactly_once_every_way(void **state)
{
    (void)state;
    for (int how = 0; how < 9; how++) {
        ws6455_config cfg = server_cfg();
        cfg.ping_interval_ms = 100;
        cfg.ping_timeout_ms = 100;
        ws6455_conn *c = make(&cfg);
        ws6455_conn_tick(c, 0);
        uint8_t in[32];
        size_t n;
        int freed = 0;
        switch (how) {
        case 0: /* the peer closes */
            n = frame(in, 1, WS6455_OP_CLOSE, "\x03\xe8" "ok", 4);
            ws6455_conn_recv(c, in, n, NULL);
            break;
        case 1: /* we close, the peer answers */
            ws6455_close(c, 1000, NULL, 0);
            n = frame(in, 1, WS6455_OP_CLOSE, "\x03\xe8", 2);
            ws6455_conn_recv(c, in, n, NULL);
            break;
        case 2: /* a violation */
            n = frame(in, 1, 0x3, "", 0);
            ws6455_conn_recv(c, in, n, NULL);
            break;
        case 3: /* the close handshake times out */
            ws6455_close(c, 1000, NULL, 0);
            ws6455_conn_tick(c, 10000);
            break;
        case 4: /* keepalive */
            ws6455_conn_tick(c, 100);
            ws6455_conn_tick(c, 200);
            break;
        case 5: /* end of stream */
            ws6455_conn_recv_eof(c);
            break;
        case 6: /* abort */
            ws6455_conn_abort(c);
            break;
        case 7: /* freed while OPEN */
            ws6455_conn_free(c);
            freed = 1;
            break;
        default: /* freed while CLOSING */
            ws6455_close(c, 1000, NULL, 0);
            ws6455_conn_free(c);
            freed = 1;
            break;
        }
        assert_int_equal(t.closes, 1);
        if (!freed) {
            /* nothing afterwards calls it again */
            ws6455_conn_recv_eof(c);
            ws6455_conn_abort(c);
            ws6455_conn_tick(c, 99999);
            ws6455_conn_free(c);
        }
        t.c = NULL;
        assert_int_equal(t.closes, 1);
        tu_convo_free(&t);
    }
}

/* A server connection that never opened reports no on_close (as Node's ws
 * emits no 'close' for a failed upgrade); a client does (1006, as a
 * browser), also when freed before its handshake finished. */
static void test_on_close_for_connections_that_never_opened(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    ws6455_conn *c = make(&cfg);
    uint8_t junk[] = "BREW /pot HTCPCP/1.0\r\n\r\n";
    assert_true(ws6455_conn_recv(c, junk, sizeof junk - 1, NULL) < 0);
    ws6455_conn_free(c);
    t.c = NULL;
    assert_int_equal(t.closes, 0);
    assert_string_equal(t.log, "error HS_MALFORMED\n");
    tu_convo_free(&t);

    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    c = make(&cfg);
    ws6455_conn_free(c); /* freed while CONNECTING */
    t.c = NULL;
    assert_int_equal(t.closes, 0);
    tu_convo_free(&t);

    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    cfg.host = "example.com";
    c = make(&cfg);
    uint8_t resp[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(ws6455_conn_recv(c, resp, sizeof resp - 1, NULL), WS6455_ERR_HS_STATUS);
    assert_string_equal(t.log, "error HS_STATUS\nclose 1006 \"\"\n");
    tu_convo_free(&t);

    c = make(&cfg);
    ws6455_conn_free(c); /* the user gave up while connecting */
    t.c = NULL;
    assert_string_equal(t.log, "close 1006 \"\"\n");
    tu_convo_free(&t);
}

/* ws6455_conn_abort: Node's terminate(). */
static void test_abort(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    ws6455_conn *c = make(&cfg);
    assert_int_equal(ws6455_send_text(c, "queued", 6), 0);
    assert_int_equal(t.outputs, 1);
    assert_int_equal(ws6455_conn_abort(c), 0);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CLOSED);
    assert_int_equal(ws6455_conn_should_close_socket(c), 1);
    assert_int_equal(ws6455_conn_buffered_amount(c), 0);
    const uint8_t *p;
    assert_int_equal(ws6455_conn_pending(c, &p), 0);
    assert_string_equal(t.log, "close 1006 \"\"\n"); /* no on_error */
    assert_int_equal(ws6455_send_text(c, "x", 1), WS6455_ERR_CLOSED);
    assert_int_equal(ws6455_ping(c, NULL, 0), WS6455_ERR_CLOSED);
    assert_int_equal(ws6455_close(c, 1000, NULL, 0), WS6455_ERR_CLOSED);
    assert_int_equal(ws6455_conn_abort(c), 0); /* again: nothing happens */
    assert_int_equal(ws6455_conn_was_clean(c), 0);
    uint8_t in[16];
    size_t n = frame(in, 1, WS6455_OP_TEXT, "late", 4);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0); /* ignored */
    assert_int_equal(t.closes, 1);
    assert_int_equal(ws6455_conn_abort(NULL), WS6455_ERR_INVALID_ARGUMENT);
    tu_convo_free(&t);
}

static void abort_hook(tu_convo *tc, int op, const uint8_t *p, size_t n)
{
    (void)op;
    (void)p;
    (void)n;
    assert_int_equal(ws6455_conn_abort(tc->c), 0);
}

/* Aborting from inside an event stops the input there. */
static void test_abort_from_inside_callback(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    ws6455_conn *c = make(&cfg);
    t.on_message_hook = abort_hook;
    uint8_t in[32];
    size_t n = frame(in, 1, WS6455_OP_TEXT, "one", 3);
    n += frame(in + n, 1, WS6455_OP_TEXT, "two", 3);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
    assert_string_equal(t.log, "text \"one\"\nclose 1006 \"\"\n");
    assert_int_equal(ws6455_conn_should_close_socket(c), 1);
    tu_convo_free(&t);
}

/* was_clean: the closing handshake completed, both ways round. */
static void test_was_clean(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    ws6455_conn *c = make(&cfg);
    assert_int_equal(ws6455_conn_was_clean(c), 0);
    ws6455_close(c, 1000, NULL, 0);
    assert_int_equal(ws6455_conn_was_clean(c), 0);
    uint8_t in[16];
    size_t n = frame(in, 1, WS6455_OP_CLOSE, "\x03\xe8", 2);
    ws6455_conn_recv(c, in, n, NULL);
    assert_int_equal(t.clean_at_close, 1);
    assert_int_equal(ws6455_conn_was_clean(c), 1);
    tu_convo_free(&t);

    c = make(&cfg);
    ws6455_conn_recv_eof(c);
    assert_int_equal(t.clean_at_close, 0);
    tu_convo_free(&t);
}

/* Creation errors name the wrong field. */
static void test_new_err_names_the_field(void **state)
{
    (void)state;
    ws6455_config cfg;
    int err;
    const char *field;
    ws6455_config_init(&cfg, 7);
    assert_null(ws6455_conn_new_err(&cfg, NULL, NULL, &err, &field));
    assert_string_equal(field, "role");
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    assert_null(ws6455_conn_new_err(&cfg, NULL, NULL, &err, &field));
    assert_string_equal(field, "host");
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.max_handshake_size = 0;
    assert_int_equal(ws6455_config_check(&cfg, &field), WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(field, "max_handshake_size");
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.read_buffer_size = 0;
    assert_int_equal(ws6455_config_check(&cfg, &field), WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(field, "read_buffer_size");
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    const char *protos[] = {"a", NULL};
    cfg.subprotocols = protos;
    cfg.subprotocol_count = 2;
    assert_int_equal(ws6455_config_check(&cfg, &field), WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(field, "subprotocols");
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.header_count = 1;
    assert_int_equal(ws6455_config_check(&cfg, &field), WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(field, "headers");
    assert_int_equal(ws6455_config_check(NULL, &field), WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(field, "cfg");
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    assert_int_equal(ws6455_config_check(&cfg, &field), WS6455_OK);
    assert_null(field);
    assert_int_equal(ws6455_config_check(&cfg, NULL), WS6455_OK);
}

/* The callbacks struct grows like the config: a caller built against an
 * older, shorter struct (struct_size smaller) never has fields beyond it
 * read; struct_size 0 reads as this version's layout. */
static int older_events;
static void older_on_open(ws6455_conn *c, const char *s, void *u)
{
    (void)c;
    (void)s;
    (void)u;
    older_events++;
}
static void never_called(ws6455_conn *c, void *u)
{
    (void)c;
    (void)u;
    fail_msg("a field beyond struct_size was used");
}

static void test_older_shorter_callbacks(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    assert_int_equal(cb.struct_size, sizeof cb);
    cb.on_open = older_on_open;
    cb.on_output = never_called; /* beyond the older size */
    cb.struct_size = offsetof(ws6455_callbacks, on_close);
    ws6455_conn *c = ws6455_conn_new(&cfg, &cb, NULL);
    assert_non_null(c);
    assert_int_equal(ws6455_send_text(c, "x", 1), 0);
    ws6455_conn_free(c);
    /* 0: this version's layout, every field used */
    ws6455_callbacks zero;
    memset(&zero, 0, sizeof zero);
    zero.on_output = NULL;
    zero.on_open = older_on_open;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    c = ws6455_conn_new(&cfg, &zero, NULL);
    uint8_t req[] = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    older_events = 0;
    assert_int_equal(ws6455_conn_recv(c, req, sizeof req - 1, NULL), 0);
    assert_int_equal(older_events, 1);
    ws6455_conn_free(c);
}


/* ------------------------------------------------------------ embedding */

static const ws6455_header UPGRADE_HEADERS[] = {
    {"Host", 4, "example.com", 11},
    {"Upgrade", 7, "websocket", 9},
    {"Connection", 10, "Upgrade", 7},
    {"Sec-WebSocket-Key", 17, "dGhlIHNhbXBsZSBub25jZQ==", 24},
    {"Sec-WebSocket-Version", 21, "13", 2},
};

static int upgrade_with(const char *version, const ws6455_header *headers, size_t n,
                        char *status, size_t status_cap)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    ws6455_conn *c = make(&cfg);
    ws6455_http_request req = {"GET", 3, "/chat", 5, version, strlen(version), headers, n};
    static const uint8_t m[4] = {1, 2, 3, 4};
    uint8_t head[32];
    size_t head_len = tu_frame(head, 1, WS6455_OP_TEXT, "early", 5, m);
    int rc = ws6455_conn_accept_upgrade(c, &req, head, head_len);
    const uint8_t *p;
    size_t len = ws6455_conn_pending(c, &p);
    size_t k = 0;
    while (k < len && k + 1 < status_cap && p[k] != '\r') {
        status[k] = (char)p[k];
        k++;
    }
    status[k] = '\0';
    return rc;
}

/* Issue 10, bug 4: the embedding path takes the HTTP version and applies
 * RFC 6455 4.1 as the library's own parser does, and checks Host's syntax. */
static void test_accept_upgrade_checks_version_and_host(void **state)
{
    (void)state;
    char status[64];
    assert_int_equal(upgrade_with("HTTP/1.1", UPGRADE_HEADERS, 5, status, sizeof status), 0);
    assert_string_equal(status, "HTTP/1.1 101 Switching Protocols");
    assert_string_equal(t.log, "open -\ntext \"early\"\n");
    tu_convo_free(&t);
    assert_int_equal(upgrade_with("HTTP/1.0", UPGRADE_HEADERS, 5, status, sizeof status),
                     WS6455_ERR_HS_VERSION);
    assert_string_equal(status, "HTTP/1.1 400 Bad Request");
    assert_int_equal(ws6455_conn_state(t.c), WS6455_STATE_CLOSED);
    assert_string_equal(t.log, "error HS_VERSION\n");
    tu_convo_free(&t);
    assert_int_equal(upgrade_with("HTTP/1.x", UPGRADE_HEADERS, 5, status, sizeof status),
                     WS6455_ERR_HS_MALFORMED);
    assert_string_equal(status, "HTTP/1.1 400 Bad Request");
    tu_convo_free(&t);
    ws6455_header spaced[5];
    memcpy(spaced, UPGRADE_HEADERS, sizeof spaced);
    spaced[0].value = "a b";
    spaced[0].value_len = 3;
    assert_int_equal(upgrade_with("HTTP/1.1", spaced, 5, status, sizeof status),
                     WS6455_ERR_HS_HOST);
    assert_string_equal(status, "HTTP/1.1 400 Bad Request");
    tu_convo_free(&t);
    spaced[0].value = "caf\xc3\xa9.example";
    spaced[0].value_len = 13;
    assert_int_equal(upgrade_with("HTTP/1.1", spaced, 5, status, sizeof status),
                     WS6455_ERR_HS_HOST);
    tu_convo_free(&t);
    /* argument and state errors */
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    ws6455_conn *c = make(&cfg);
    assert_int_equal(ws6455_conn_accept_upgrade(c, NULL, NULL, 0), WS6455_ERR_INVALID_ARGUMENT);
    ws6455_http_request req = {"GET", 3, "/", 1, NULL, 8, UPGRADE_HEADERS, 5};
    assert_int_equal(ws6455_conn_accept_upgrade(c, &req, NULL, 0), WS6455_ERR_INVALID_ARGUMENT);
    req.version = "HTTP/1.1";
    assert_int_equal(ws6455_conn_accept_upgrade(c, &req, NULL, 0), 0);
    assert_int_equal(ws6455_conn_accept_upgrade(c, &req, NULL, 0), WS6455_ERR_INVALID_STATE);
    tu_convo_free(&t);
}

/* The same Host rule on the wire. */
static void test_wire_host_syntax(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    ws6455_conn *c = make(&cfg);
    uint8_t req[] = "GET / HTTP/1.1\r\nHost: a b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(ws6455_conn_recv(c, req, sizeof req - 1, NULL), WS6455_ERR_HS_HOST);
    const uint8_t *p;
    size_t n = ws6455_conn_pending(c, &p);
    assert_true(n > 24);
    assert_memory_equal(p, "HTTP/1.1 400 Bad Request", 24);
    tu_convo_free(&t);
}

/* ------------------------------------------------------------ re-entrancy */

static void echo_hook(tu_convo *tc, int op, const uint8_t *p, size_t n)
{
    if (op == WS6455_OP_TEXT)
        assert_int_equal(ws6455_send_text(tc->c, (const char *)p, n), 0);
    else
        assert_int_equal(ws6455_send_binary(tc->c, p, n), 0);
    uint8_t dummy[1] = {0};
    assert_int_equal(ws6455_conn_recv(tc->c, dummy, 1, NULL), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_conn_tick(tc->c, 1), WS6455_ERR_INVALID_STATE);
}

static void test_send_from_inside_callback(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    ws6455_conn *c = make(&cfg);
    t.on_message_hook = echo_hook;
    uint8_t in[64];
    size_t n = frame(in, 1, WS6455_OP_TEXT, "echo", 4);
    n += frame(in + n, 1, WS6455_OP_BINARY, "me", 2);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
    const uint8_t *p;
    assert_int_equal(ws6455_conn_pending(c, &p), 6 + 4);
    assert_memory_equal(p, "\x81\x04" "echo\x82\x02" "me", 10);
    tu_convo_free(&t);
}

static void free_hook(tu_convo *tc, int op, const uint8_t *p, size_t n)
{
    (void)op;
    (void)p;
    (void)n;
    ws6455_conn_free(tc->c);
}

static void test_free_from_inside_callback_is_deferred(void **state)
{
    (void)state;
    ws6455_config cfg = server_cfg();
    ws6455_conn *c = make(&cfg);
    t.on_message_hook = free_hook;
    uint8_t in[64];
    size_t n = frame(in, 1, WS6455_OP_TEXT, "one", 3);
    n += frame(in + n, 1, WS6455_OP_TEXT, "two", 3);
    /* freed during the first message: the second is never delivered, and
     * ASan proves nothing touches the connection afterwards */
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), WS6455_ERR_CLOSED);
    /* on_close comes exactly once, however the connection ends */
    assert_string_equal(t.log, "text \"one\"\nclose 1006 \"\"\n");
    t.c = NULL;
    tu_convo_free(&t);
}

/* ------------------------------------------------------------ memory */

static void test_allocations_go_through_hooks_and_are_released(void **state)
{
    (void)state;
    counting k;
    ws6455_allocator a = counting_allocator(&k);
    ws6455_config cfg = server_cfg();
    cfg.allocator = &a;
    ws6455_conn *c = make(&cfg);
    uint8_t in[64];
    size_t n = frame(in, 0, WS6455_OP_TEXT, "frag", 4);
    n += frame(in + n, 1, WS6455_OP_CONTINUATION, "ment", 4);
    ws6455_conn_recv(c, in, n, NULL);
    ws6455_send_text(c, "x", 1);
    assert_true(k.allocations >= 3);
    assert_true(k.live_bytes > 0);
    ws6455_conn_free(c);
    t.c = NULL;
    assert_int_equal(k.live_bytes, 0);
    tu_convo_free(&t);
}

static void quiet_echo_hook(tu_convo *tc, int op, const uint8_t *p, size_t n)
{
    echo_hook(tc, op, p, n);
    tc->log_len = 0;
}

static void test_no_allocation_per_frame_once_warm(void **state)
{
    (void)state;
    counting k;
    ws6455_allocator a = counting_allocator(&k);
    ws6455_config cfg = server_cfg();
    cfg.allocator = &a;
    ws6455_conn *c = make(&cfg);
    t.on_message_hook = quiet_echo_hook;
    static uint8_t in[4096];
    size_t n = 0;
    n += frame(in + n, 0, WS6455_OP_BINARY, "abc", 3);
    n += frame(in + n, 1, WS6455_OP_CONTINUATION, "def", 3);
    n += frame(in + n, 1, WS6455_OP_PING, "p", 1);
    static uint8_t copy[4096];
    const uint8_t *p;
    memcpy(copy, in, n);
    ws6455_conn_recv(c, copy, n, NULL); /* warm up */
    ws6455_conn_consume(c, ws6455_conn_pending(c, &p));
    size_t before = k.allocations;
    for (int i = 0; i < 1000; i++) {
        memcpy(copy, in, n);
        ws6455_conn_recv(c, copy, n, NULL);
        ws6455_conn_consume(c, ws6455_conn_pending(c, &p));
        t.log_len = 0;
    }
    assert_int_equal(k.allocations, before);
    t.log_len = 0;
    tu_convo_free(&t);
}

static void quiet_hook(tu_convo *tc, int op, const uint8_t *p, size_t n)
{
    (void)op;
    (void)p;
    (void)n;
    tc->log_len = 0; /* keep the transcript from overflowing */
}

static void test_million_empty_continuations_bounded(void **state)
{
    (void)state;
    counting k;
    ws6455_allocator a = counting_allocator(&k);
    ws6455_config cfg = server_cfg();
    cfg.allocator = &a;
    ws6455_conn *c = make(&cfg);
    t.on_message_hook = quiet_hook;
    uint8_t in[16];
    size_t n = frame(in, 0, WS6455_OP_BINARY, "", 0);
    ws6455_conn_recv(c, in, n, NULL);
    size_t peak = k.peak_bytes;
    for (int i = 0; i < 1000000; i++) {
        n = frame(in, 0, WS6455_OP_CONTINUATION, "", 0);
        assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
    }
    assert_int_equal(k.peak_bytes, peak);
    n = frame(in, 1, WS6455_OP_CONTINUATION, "", 0);
    assert_int_equal(ws6455_conn_recv(c, in, n, NULL), 0);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_OPEN);
    tu_convo_free(&t);
}

static void test_worst_case_memory_bounded_by_limits(void **state)
{
    (void)state;
    /* docs/engine.md: a connection holds at most sizeof(conn) + config
     * strings + max_message_size + max_output_buffer + control slack + the
     * read buffer (callback I/O) + the handshake head. */
    counting k;
    ws6455_allocator a = counting_allocator(&k);
    ws6455_config cfg = server_cfg();
    cfg.allocator = &a;
    cfg.max_message_size = 10000;
    cfg.max_output_buffer = 5000;
    ws6455_conn *c = make(&cfg);
    t.on_message_hook = quiet_hook;
    static uint8_t in[20000];
    static uint8_t chunk[1000];
    /* a message of exactly the limit, in fragments, while output fills */
    size_t n = frame(in, 0, WS6455_OP_BINARY, chunk, 1000);
    ws6455_conn_recv(c, in, n, NULL);
    for (int i = 1; i < 10; i++) {
        n = frame(in, i == 9, WS6455_OP_CONTINUATION, chunk, 1000);
        ws6455_conn_recv(c, in, n, NULL);
        while (ws6455_send_binary(c, chunk, 100) == 0) {
        }
    }
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_OPEN);
    /* the context (config and callbacks copies) and the connection's struct,
     * the limits, the control slack, and what an output queue may hold
     * beyond its bytes (docs/engine.md) */
    size_t steady = sizeof(ws6455_config) + sizeof(ws6455_callbacks) + 2048 + 10000 + 5000 +
                    300 + WS6455__OUTQ_SLACK;
    print_message("live %zu peak %zu\n", k.live_bytes, k.peak_bytes);
    assert_true(k.live_bytes <= steady);
    /* while a buffer grows its old copy lives a moment beside the new one */
    assert_true(k.peak_bytes <= steady + 10000);
    tu_convo_free(&t);
}

static void test_every_allocation_failure_is_survived(void **state)
{
    (void)state;
    /* a whole conversation; fail the n-th allocation for every n until a
     * run needs no failure */
    for (long fail = 1;; fail++) {
        counting k;
        ws6455_allocator a = counting_allocator(&k);
        k.fail_at = fail;
        ws6455_config cfg = server_cfg();
        cfg.allocator = &a;
        tu_convo_init(&t);
        ws6455_callbacks cb;
        tu_convo_callbacks(&cb);
        int err = 0;
        t.c = ws6455_conn_new_err(&cfg, &cb, &t, &err, NULL);
        if (!t.c) {
            assert_int_equal(err, WS6455_ERR_NOMEM);
            assert_int_equal(k.live_bytes, 0);
            tu_convo_free(&t);
            continue;
        }
        static uint8_t in[512];
        size_t n = frame(in, 0, WS6455_OP_TEXT, "hel", 3);
        n += frame(in + n, 1, WS6455_OP_CONTINUATION, "lo", 2);
        n += frame(in + n, 1, WS6455_OP_PING, "p", 1);
        n += frame(in + n, 1, WS6455_OP_CLOSE, "\x03\xe8", 2);
        int rc = ws6455_conn_recv(t.c, in, n, NULL);
        int src = ws6455_send_text(t.c, "x", 1);
        (void)src;
        if (rc != 0)
            assert_int_equal(rc, WS6455_ERR_NOMEM);
        ws6455_conn_free(t.c);
        t.c = NULL;
        assert_int_equal(k.live_bytes, 0);
        tu_convo_free(&t);
        if ((long)k.allocations < fail)
            break; /* nothing failed: every n has been covered */
    }
}

static void test_thousands_of_connections_independent(void **state)
{
    (void)state;
    enum { N = 2000 };
    ws6455_conn **cs = calloc(N, sizeof *cs);
    ws6455_config cfg = server_cfg();
    for (int i = 0; i < N; i++) {
        cs[i] = ws6455_conn_new(&cfg, NULL, NULL);
        assert_non_null(cs[i]);
    }
    for (int i = 0; i < N; i++) {
        char msg[16];
        int len = snprintf(msg, sizeof msg, "%d", i);
        assert_int_equal(ws6455_send_text(cs[i], msg, (size_t)len), 0);
    }
    for (int i = 0; i < N; i++) {
        const uint8_t *p;
        char msg[16];
        int len = snprintf(msg, sizeof msg, "%d", i);
        assert_int_equal(ws6455_conn_pending(cs[i], &p), 2 + (size_t)len);
        assert_memory_equal(p + 2, msg, (size_t)len);
        ws6455_conn_free(cs[i]);
    }
    free(cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_documented),
        cmocka_unit_test(test_invalid_config_refused),
        cmocka_unit_test(test_older_shorter_config_gets_defaults),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_close_timeout_when_peer_never_answers),
        cmocka_unit_test(test_keepalive_ping_then_failure),
        cmocka_unit_test(test_timers_armed_before_first_tick_start_at_first_tick),
        cmocka_unit_test(test_close_timeout_with_stuck_output_releases_socket),
        cmocka_unit_test(test_keepalive_failure_with_stuck_output_releases_socket),
        cmocka_unit_test(test_failure_with_stuck_output_releases_socket),
        cmocka_unit_test(test_clean_close_with_stuck_output_releases_socket),
        cmocka_unit_test(test_deadline_finite_until_socket_may_close),
        cmocka_unit_test(test_close_timeout_zero_refused),
        cmocka_unit_test(test_on_close_exactly_once_every_way),
        cmocka_unit_test(test_on_close_for_connections_that_never_opened),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_abort_from_inside_callback),
        cmocka_unit_test(test_was_clean),
        cmocka_unit_test(test_new_err_names_the_field),
        cmocka_unit_test(test_older_shorter_callbacks),
        cmocka_unit_test(test_accept_upgrade_checks_version_and_host),
        cmocka_unit_test(test_wire_host_syntax),
        cmocka_unit_test(test_send_from_inside_callback),
        cmocka_unit_test(test_free_from_inside_callback_is_deferred),
        cmocka_unit_test(test_allocations_go_through_hooks_and_are_released),
        cmocka_unit_test(test_no_allocation_per_frame_once_warm),
        cmocka_unit_test(test_million_empty_continuations_bounded),
        cmocka_unit_test(test_worst_case_memory_bounded_by_limits),
        cmocka_unit_test(test_every_allocation_failure_is_survived),
        cmocka_unit_test(test_thousands_of_connections_independent),
    };
    return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
