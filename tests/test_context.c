/* The shared context: configuration copied once, connections created in
 * it, reference counting, the buffers its connections borrow, and what an
 * idle connection costs. */
#include "convo.h"
#include "outq.h"

#include <stdlib.h>
#include <string.h>

static const char REQUEST[] =
    "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

static void drain(ws6455_conn *c)
{
    const uint8_t *p;
    size_t n;
    while ((n = ws6455_conn_pending(c, &p)) > 0)
        ws6455_conn_consume(c, n);
}

static ws6455_conn *open_in_user(ws6455_context *ctx, void *user)
{
    ws6455_conn *c = ws6455_conn_new_in(ctx, user);
    assert_non_null(c);
    uint8_t req[sizeof REQUEST];
    memcpy(req, REQUEST, sizeof REQUEST);
    assert_int_equal(ws6455_conn_recv(c, req, sizeof REQUEST - 1, NULL), 0);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_OPEN);
    drain(c);
    return c;
}

static ws6455_conn *open_in(ws6455_context *ctx)
{
    return open_in_user(ctx, NULL);
}

/* A server context whose allocations k counts (the context keeps its own
 * copy of the allocator), taking frames as big as messages. */
static ws6455_context *counted_context(tu_counting *k, const ws6455_callbacks *cb)
{
    ws6455_allocator a = tu_counting_allocator(k);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.allocator = &a;
    cfg.max_frame_size = cfg.max_message_size;
    ws6455_context *ctx = ws6455_context_new(&cfg, cb);
    assert_non_null(ctx);
    return ctx;
}

/* The documented bound (docs/engine.md): an idle OPEN server connection in
 * a context — handshake done, output flushed — holds at most 256 bytes. */
#define IDLE_CONN_BOUND 256

static void test_idle_connection_costs_at_most_256_bytes(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_context *ctx = counted_context(&k, NULL);
    ws6455_conn *warm = open_in(ctx); /* fills the context's pools */
    enum { N = 1000 };
    ws6455_conn **conns = malloc(N * sizeof *conns);
    size_t before = k.live_bytes;
    for (int i = 0; i < N; i++)
        conns[i] = open_in(ctx);
    size_t per_conn = (k.live_bytes - before) / N;
    print_message("idle OPEN connection: %zu bytes held\n", per_conn);
    assert_true(per_conn <= IDLE_CONN_BOUND);
    /* traffic in between does not leave anything behind */
    static const uint8_t m[4] = {1, 2, 3, 4};
    for (int i = 0; i < N; i++) {
        uint8_t in[64];
        size_t n = tu_frame(in, 0, WS6455_OP_TEXT, "frag", 4, m);
        n += tu_frame(in + n, 1, WS6455_OP_CONTINUATION, "ment", 4, m);
        n += tu_frame(in + n, 1, WS6455_OP_PING, "p", 1, m);
        assert_int_equal(ws6455_conn_recv(conns[i], in, n, NULL), 0);
        assert_int_equal(ws6455_send_text(conns[i], "reply", 5), 0);
        drain(conns[i]);
    }
    assert_true((k.live_bytes - before) / N <= IDLE_CONN_BOUND);
    for (int i = 0; i < N; i++)
        ws6455_conn_free(conns[i]);
    ws6455_conn_free(warm);
    ws6455_context_free(ctx);
    assert_int_equal(k.live_bytes, 0);
    free(conns);
}

/* Feeds stream[from..to) to each of n connections, each through a guarded
 * copy (the engine may unmask its input in place; a read past the input
 * crashes). */
static void feed_each(ws6455_conn **c, int n, const uint8_t *stream, size_t from, size_t to)
{
    for (int i = 0; i < n; i++) {
        uint8_t *in = tu_guard_copy(stream + from, to - from);
        assert_int_equal(ws6455_conn_recv(c[i], in, to - from, NULL), 0);
        tu_guard_free(in, to - from);
    }
}

/* Frees n connections and their context; nothing may be left. */
static void free_all(ws6455_context *ctx, ws6455_conn **c, int n, const tu_counting *k)
{
    for (int i = 0; i < n; i++)
        ws6455_conn_free(c[i]);
    ws6455_context_free(ctx);
    assert_int_equal(k->live_bytes, 0);
}

static void count_message(ws6455_conn *c, int opcode, const uint8_t *p, size_t n, void *user)
{
    (void)c;
    (void)opcode;
    (void)p;
    (void)n;
    ++*(int *)user;
}

/* Builds `frames` masked binary frames of `size` payload bytes; returns
 * the stream (free it; it has room for one more byte) and its length in
 * *len. */
static uint8_t *frame_stream(int frames, size_t size, size_t *len)
{
    static const uint8_t m[4] = {9, 8, 7, 6};
    uint8_t *payload = malloc(size);
    uint8_t *s = malloc((size_t)frames * (size + WS6455_MAX_HEADER_SIZE) + 1);
    assert_non_null(payload);
    assert_non_null(s);
    memset(payload, 'x', size);
    *len = 0;
    for (int f = 0; f < frames; f++)
        *len += tu_frame(s + *len, 1, WS6455_OP_BINARY, payload, size, m);
    free(payload);
    return s;
}

/* Busy connections, whose reads keep ending inside frames (the usual case
 * under load), keep their reassembly buffers between messages: once warm,
 * no allocation. Each read here either ends inside a message's payload or
 * completes it and ends inside the next frame's header; 320 connections
 * with 1 KiB buffers need more than the context's 256 KiB of spares, so
 * the context cannot stand in for the connections' own buffers. */
static void test_busy_connections_keep_their_reassembly_buffers(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.on_message = count_message;
    ws6455_context *ctx = counted_context(&k, &cb);
    enum { N = 320, FRAMES = 8 };
    static int got[N];
    static ws6455_conn *c[N];
    for (int i = 0; i < N; i++)
        c[i] = open_in_user(ctx, &got[i]);
    size_t len;
    uint8_t *stream = frame_stream(FRAMES, 1000, &len);
    const size_t frame = len / FRAMES;
    size_t warm = 0, from = 0;
    for (int r = 0; r < FRAMES; r++) {
        size_t cuts[2] = {r * frame + 500, r + 1 < FRAMES ? (r + 1) * frame + 3 : len};
        for (int j = 0; j < 2; j++) {
            feed_each(c, N, stream, from, cuts[j]);
            from = cuts[j];
        }
        if (r == 1)
            warm = k.allocations;
    }
    assert_int_equal(k.allocations, warm);
    for (int i = 0; i < N; i++)
        assert_int_equal(got[i], FRAMES);
    free_all(ctx, c, N, &k);
    free(stream);
}

/* Connections whose reads end between messages give their buffers back
 * (an idle connection holds none); the context keeps them for the next
 * messages, so eight connections that each start a message at the end of
 * a read, then finish it, take turns without allocating once warm. */
static void test_connections_share_spare_reassembly_buffers(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_context *ctx = counted_context(&k, NULL);
    enum { N = 8 };
    ws6455_conn *c[N];
    for (int i = 0; i < N; i++)
        c[i] = open_in(ctx);
    size_t opened = k.live_bytes, len;
    uint8_t *frame = frame_stream(1, 1000, &len);
    size_t warm = 0;
    for (int round = 0; round < 10; round++) {
        if (round == 2)
            warm = k.allocations;
        feed_each(c, N, frame, 0, 600);   /* each starts a message... */
        feed_each(c, N, frame, 600, len); /* ...and finishes it */
    }
    assert_int_equal(k.allocations, warm);
    assert_true(k.live_bytes - opened <= N * 1024);
    free_all(ctx, c, N, &k);
    free(frame);
}

/* What is kept is bounded: the context's spares by 256 KiB in all (here
 * 400 connections give back 1 KiB each at once), and a buffer over 64 KiB
 * is kept neither by the context nor by its connection, even while that
 * connection's input ends inside a frame. */
static void test_spare_reassembly_buffers_are_bounded(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_context *ctx = counted_context(&k, NULL);
    enum { N = 400 };
    static ws6455_conn *c[N];
    for (int i = 0; i < N; i++)
        c[i] = open_in(ctx);
    ws6455_conn *solo = open_in(ctx);
    size_t opened = k.live_bytes, len;
    /* A 100 KiB message, then the first byte of the next frame. */
    uint8_t *big = frame_stream(1, 100000, &len);
    feed_each(&solo, 1, big, 0, 50000);
    big[len] = 0x82;
    feed_each(&solo, 1, big, 50000, len + 1);
    assert_int_equal(k.live_bytes, opened);
    free(big);
    ws6455_conn_free(solo);
    opened = k.live_bytes;
    /* 400 messages cut in two. */
    uint8_t *frame = frame_stream(1, 1000, &len);
    feed_each(c, N, frame, 0, 600);
    assert_true(k.live_bytes - opened >= (size_t)N * 1000);
    feed_each(c, N, frame, 600, len);
    assert_true(k.live_bytes - opened <= ((size_t)256 << 10));
    assert_true(k.live_bytes - opened >= ((size_t)200 << 10)); /* but it keeps some */
    free(frame);
    free_all(ctx, c, N, &k);
}

/* In callback-I/O mode the read buffer is the context's: connections do
 * not each own one. */
static ptrdiff_t no_read(void *u, uint8_t *buf, size_t cap)
{
    (void)u;
    (void)buf;
    (void)cap;
    return WS6455_IO_WOULD_BLOCK;
}
static ptrdiff_t no_write(void *u, const uint8_t *buf, size_t len)
{
    (void)u;
    (void)buf;
    return (ptrdiff_t)len;
}

static void test_callback_io_read_buffer_is_shared(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_allocator a = tu_counting_allocator(&k);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    cfg.allocator = &a;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.read = no_read;
    cb.write = no_write;
    ws6455_context *ctx = ws6455_context_new(&cfg, &cb);
    ws6455_conn *first = ws6455_conn_new_in(ctx, NULL);
    assert_int_equal(ws6455_conn_on_readable(first), 0);
    size_t before = k.live_bytes;
    enum { N = 100 };
    ws6455_conn *c[N];
    for (int i = 0; i < N; i++) {
        c[i] = ws6455_conn_new_in(ctx, NULL);
        assert_int_equal(ws6455_conn_on_readable(c[i]), 0);
    }
    assert_true((k.live_bytes - before) / N <= IDLE_CONN_BOUND);
    for (int i = 0; i < N; i++)
        ws6455_conn_free(c[i]);
    ws6455_conn_free(first);
    ws6455_context_free(ctx);
    assert_int_equal(k.live_bytes, 0);
}

/* The context outlives ws6455_context_free while connections hold it, and
 * its configuration is a copy. */
static void test_context_refcounted_and_copied(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_allocator a = tu_counting_allocator(&k);
    char proto[] = "chat";
    const char *protos[] = {proto};
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.allocator = &a;
    cfg.subprotocols = protos;
    cfg.subprotocol_count = 1;
    ws6455_context *ctx = ws6455_context_new(&cfg, NULL);
    memset(proto, 'X', 4); /* the caller's strings may change */
    cfg.max_frame_size = 1;
    ws6455_conn *c = ws6455_conn_new_in(ctx, NULL);
    assert_ptr_equal(ws6455_conn_context(c), ctx);
    ws6455_context_free(ctx); /* c still holds it */
    ws6455_context_free(NULL);
    const char req_s[] =
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Version: 13\r\n\r\n";
    uint8_t req[sizeof req_s];
    memcpy(req, req_s, sizeof req_s);
    assert_int_equal(ws6455_conn_recv(c, req, sizeof req_s - 1, NULL), 0);
    assert_string_equal(ws6455_conn_subprotocol(c), "chat");
    assert_true(k.live_bytes > 0);
    ws6455_conn_free(c); /* the last reference: everything goes */
    assert_int_equal(k.live_bytes, 0);
}

/* Creation errors. */
static void test_context_new_errors(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    int err;
    const char *field;
    assert_null(ws6455_context_new_err(&cfg, NULL, &err, &field));
    assert_int_equal(err, WS6455_ERR_INVALID_ARGUMENT);
    assert_string_equal(field, "host");
    assert_null(ws6455_conn_new_in(NULL, NULL));
    assert_null(ws6455_conn_new_in_err(NULL, NULL, &err));
    assert_int_equal(err, WS6455_ERR_INVALID_ARGUMENT);
    ws6455_context *ctx = ws6455_context_new(NULL, NULL); /* a default server */
    assert_non_null(ctx);
    ws6455_conn *c = ws6455_conn_new_in_err(ctx, NULL, &err);
    assert_int_equal(err, WS6455_OK);
    assert_int_equal(ws6455_conn_state(c), WS6455_STATE_CONNECTING);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
}

/* Client connections in one context each get their own key and masks from
 * the context's random source. */
static void test_clients_share_the_random_pool(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    cfg.host = "example.com";
    ws6455_context *ctx = ws6455_context_new(&cfg, NULL);
    ws6455_conn *a = ws6455_conn_new_in(ctx, NULL);
    ws6455_conn *b = ws6455_conn_new_in(ctx, NULL);
    const uint8_t *pa, *pb;
    size_t na = ws6455_conn_pending(a, &pa), nb = ws6455_conn_pending(b, &pb);
    assert_int_equal(na, nb);
    char ra[512] = {0}, rb[512] = {0};
    assert_true(na < sizeof ra);
    memcpy(ra, pa, na);
    memcpy(rb, pb, nb);
    const char *ka = strstr(ra, "Sec-WebSocket-Key: ");
    const char *kb = strstr(rb, "Sec-WebSocket-Key: ");
    assert_non_null(ka);
    assert_non_null(kb);
    assert_memory_not_equal(ka, kb, 19 + 24);
    ws6455_conn_free(a);
    ws6455_conn_free(b);
    ws6455_context_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_connection_costs_at_most_256_bytes),
        cmocka_unit_test(test_busy_connections_keep_their_reassembly_buffers),
        cmocka_unit_test(test_connections_share_spare_reassembly_buffers),
        cmocka_unit_test(test_spare_reassembly_buffers_are_bounded),
        cmocka_unit_test(test_callback_io_read_buffer_is_shared),
        cmocka_unit_test(test_context_refcounted_and_copied),
        cmocka_unit_test(test_context_new_errors),
        cmocka_unit_test(test_clients_share_the_random_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
