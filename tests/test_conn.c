/* The connection as a whole: configuration copying, time from the caller
 * (handshake, close and keepalive timers on a fake clock), re-entrancy from
 * callbacks, allocator hooks (counting, failing the n-th allocation), and
 * memory bounded by the configuration. */
#include "convo.h"

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
    assert_null(ws6455_conn_new_err(&cfg, NULL, NULL, &err));
    assert_int_equal(err, WS6455_ERR_INVALID_ARGUMENT);
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT); /* a client needs a host */
    assert_null(ws6455_conn_new_err(&cfg, NULL, NULL, &err));
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
    assert_string_equal(t.log, "error TIMEOUT\nclose 1006 \"\"\n");
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
    assert_string_equal(t.log, "text \"one\"\n");
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
    size_t steady = sizeof(ws6455_config) + 2048 /* the struct */ + 10000 + 5000 + 300;
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
        t.c = ws6455_conn_new_err(&cfg, &cb, &t, &err);
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
