/* Prepared messages: built and validated once, sent by reference to many
 * connections, released exactly once. */
#include "convo.h"
#include "outq.h"

#include <stdlib.h>
#include <string.h>

static ws6455_conn *server_in(ws6455_context *ctx)
{
    ws6455_conn *c = ws6455_conn_new_in(ctx, NULL);
    assert_non_null(c);
    return c;
}

static ws6455_context *server_ctx(const ws6455_allocator *a, int role)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, role);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    cfg.allocator = a;
    ws6455_context *ctx = ws6455_context_new(&cfg, NULL);
    assert_non_null(ctx);
    return ctx;
}

/* The frame is built once, in the server's form, header right before the
 * payload. */
static void test_message_new_builds_the_frame(void **state)
{
    (void)state;
    ws6455_message *m = ws6455_message_new(NULL, WS6455_OP_TEXT, "Hello", 5);
    assert_non_null(m);
    assert_int_equal(ws6455_message_opcode(m), WS6455_OP_TEXT);
    size_t n;
    const uint8_t *d = ws6455_message_data(m, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(d, "Hello", 5);
    assert_memory_equal(d - 2, "\x81\x05", 2); /* RFC 6455 5.7 */
    ws6455_message_free(m);
    /* every length form */
    static uint8_t big[70000];
    m = ws6455_message_new(NULL, WS6455_OP_BINARY, big, 300);
    d = ws6455_message_data(m, &n);
    assert_memory_equal(d - 4, "\x82\x7e\x01\x2c", 4);
    ws6455_message_free(m);
    m = ws6455_message_new(NULL, WS6455_OP_BINARY, big, 70000);
    d = ws6455_message_data(m, &n);
    assert_memory_equal(d - 10, "\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10);
    ws6455_message_free(m);
    m = ws6455_message_new(NULL, WS6455_OP_BINARY, NULL, 0);
    assert_non_null(m);
    ws6455_message_free(m);
    ws6455_message_free(NULL);
}

/* Invalid messages are refused at build time, not at every send. */
static void test_message_validated_once(void **state)
{
    (void)state;
    assert_null(ws6455_message_new(NULL, WS6455_OP_TEXT, "\xc0\xaf", 2));
    assert_null(ws6455_message_new(NULL, WS6455_OP_PING, "x", 1));
    assert_null(ws6455_message_new(NULL, WS6455_OP_CONTINUATION, "x", 1));
    assert_null(ws6455_message_new(NULL, WS6455_OP_BINARY, NULL, 1));
    assert_null(ws6455_message_wrap(NULL, WS6455_OP_TEXT, "\xed\xa0\x80", 3, NULL, NULL));
    assert_null(ws6455_message_wrap(NULL, 7, "x", 1, NULL, NULL));
}

/* A 64 KiB message broadcast to 10,000 connections is held once: each
 * queued send costs a few dozen bytes of bookkeeping. */
static void test_broadcast_held_once(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_allocator a = tu_counting_allocator(&k);
    ws6455_context *ctx = server_ctx(&a, WS6455_ROLE_SERVER);
    enum { N = 10000 };
    ws6455_conn **c = malloc(N * sizeof *c);
    for (int i = 0; i < N; i++)
        c[i] = server_in(ctx);
    static uint8_t payload[65536];
    memset(payload, 'b', sizeof payload);
    ws6455_message *m = ws6455_message_new(&a, WS6455_OP_BINARY, payload, sizeof payload);
    size_t before = k.live_bytes;
    for (int i = 0; i < N; i++)
        assert_int_equal(ws6455_send_message(c[i], m), 0);
    size_t per_send = (k.live_bytes - before) / N;
    print_message("64 KiB to %d connections: %zu bytes per send\n", N, per_send);
    assert_true(per_send <= 64);
    /* each connection hands out the message's own bytes */
    size_t n;
    const uint8_t *d = ws6455_message_data(m, &n);
    for (int i = 0; i < N; i += 997) {
        const uint8_t *p;
        assert_int_equal(ws6455_conn_pending(c[i], &p), 10 + sizeof payload);
        assert_ptr_equal(p, d - 10);
    }
    ws6455_message_free(m); /* the queues still hold it */
    for (int i = 0; i < N; i++) {
        const uint8_t *p;
        ws6455_conn_consume(c[i], ws6455_conn_pending(c[i], &p));
        ws6455_conn_free(c[i]);
    }
    ws6455_context_free(ctx);
    assert_int_equal(k.live_bytes, 0);
    free(c);
}

/* Wrapped data: 1 MiB by reference allocates a few hundred bytes at most,
 * pending() points into the caller's buffer, release runs once after the
 * bytes are consumed. */
static int releases;
static const void *released_data;
static void note_release(void *user, const void *data)
{
    assert_ptr_equal(user, &releases);
    releases++;
    released_data = data;
}

static void test_wrap_sends_by_reference(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_allocator a = tu_counting_allocator(&k);
    ws6455_context *ctx = server_ctx(&a, WS6455_ROLE_SERVER);
    ws6455_conn *c1 = server_in(ctx), *c2 = server_in(ctx);
    size_t mib = 1u << 20;
    uint8_t *data = malloc(mib);
    memset(data, 'w', mib);
    releases = 0;
    size_t before = k.live_bytes;
    ws6455_message *m = ws6455_message_wrap(&a, WS6455_OP_BINARY, data, mib, note_release, &releases);
    assert_int_equal(ws6455_send_message(c1, m), 0);
    assert_int_equal(ws6455_send_message(c2, m), 0);
    ws6455_message_free(m);
    assert_true(k.live_bytes - before <= 512);
    assert_int_equal(releases, 0);
    const uint8_t *p;
    assert_int_equal(ws6455_conn_pending(c1, &p), 10); /* the header, then the data */
    assert_memory_equal(p, "\x82\x7f\x00\x00\x00\x00\x00\x10\x00\x00", 10);
    ws6455_conn_consume(c1, 4);
    assert_int_equal(ws6455_conn_pending(c1, &p), 6);
    ws6455_conn_consume(c1, 6);
    assert_int_equal(ws6455_conn_pending(c1, &p), mib);
    assert_ptr_equal(p, data);
    ws6455_conn_consume(c1, mib - 1);
    assert_int_equal(ws6455_conn_pending(c1, &p), 1);
    ws6455_conn_consume(c1, 1);
    assert_int_equal(releases, 0); /* c2 still holds it */
    ws6455_iovec iov[4];
    size_t total;
    assert_int_equal(ws6455_conn_pending_iov(c2, iov, 4, &total), 2);
    assert_int_equal(total, 10 + mib);
    assert_ptr_equal(iov[1].base, data);
    ws6455_conn_consume(c2, total);
    assert_int_equal(releases, 1);
    assert_ptr_equal(released_data, data);
    ws6455_conn_free(c1);
    ws6455_conn_free(c2);
    ws6455_context_free(ctx);
    assert_int_equal(releases, 1);
    assert_int_equal(k.live_bytes, 0);
    free(data);
}

/* A queued message dropped by abort or free is released too. */
static void test_release_on_abort_and_free(void **state)
{
    (void)state;
    ws6455_context *ctx = server_ctx(NULL, WS6455_ROLE_SERVER);
    static char text[WS6455__CHUNK_SMALL + 1]; /* big enough to be referenced */
    memset(text, 's', sizeof text);
    releases = 0;
    ws6455_message *m =
        ws6455_message_wrap(NULL, WS6455_OP_TEXT, text, sizeof text, note_release, &releases);
    ws6455_conn *a = server_in(ctx), *b = server_in(ctx);
    ws6455_send_message(a, m);
    ws6455_send_message(b, m);
    ws6455_message_free(m);
    ws6455_conn_abort(a);
    assert_int_equal(releases, 0);
    ws6455_conn_free(b);
    assert_int_equal(releases, 1);
    ws6455_conn_free(a);
    ws6455_context_free(ctx);
    assert_int_equal(releases, 1);
}

/* A frame of at most WS6455__CHUNK_SMALL bytes, or one that fits the free
 * room of the queue's tail, is copied: the queue does not hold the message
 * (released at ws6455_message_free), and the bytes are the same. */
static void test_small_frames_are_copied(void **state)
{
    (void)state;
    ws6455_context *ctx = server_ctx(NULL, WS6455_ROLE_SERVER);
    ws6455_conn *c = server_in(ctx);
    releases = 0;
    ws6455_message *m = ws6455_message_wrap(NULL, WS6455_OP_TEXT, "Hello", 5, note_release, &releases);
    assert_int_equal(ws6455_send_message(c, m), 0);
    ws6455_message_free(m);
    assert_int_equal(releases, 1); /* the queue keeps a copy, not the message */
    const uint8_t *p;
    assert_int_equal(ws6455_conn_pending(c, &p), 7);
    assert_memory_equal(p, "\x81\x05Hello", 7);
    /* 600 bytes sent: the queue goes on in a large chunk with room to
     * spare; a 1,000-byte message then fits that room and is copied too */
    static char mid[1000];
    memset(mid, 'm', sizeof mid);
    assert_int_equal(ws6455_send_binary(c, mid, 600), 0);
    m = ws6455_message_wrap(NULL, WS6455_OP_BINARY, mid, sizeof mid, note_release, &releases);
    assert_int_equal(ws6455_send_message(c, m), 0);
    ws6455_message_free(m);
    assert_int_equal(releases, 2);
    assert_int_equal(ws6455_conn_buffered_amount(c), 7 + 4 + 600 + 4 + 1000);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
}

/* References interleaved with small sends cannot make the queue hold more
 * than twice its bytes (plus WS6455__OUTQ_SLACK): a reference ends the byte
 * chunk before it, and only frames larger than that chunk's free room are
 * referenced. (Every 6-byte send after a reference used to take a fresh
 * 8 KiB chunk: 8 KiB held per 530 bytes queued; found by fuzz_conn_server.) */
static void test_references_keep_memory_bounded(void **state)
{
    (void)state;
    tu_counting k;
    ws6455_allocator a = tu_counting_allocator(&k);
    ws6455_context *ctx = server_ctx(&a, WS6455_ROLE_SERVER);
    ws6455_conn *c = server_in(ctx);
    static uint8_t payload[WS6455__CHUNK_SMALL + 1];
    ws6455_message *m = ws6455_message_new(&a, WS6455_OP_BINARY, payload, sizeof payload);
    size_t base = k.live_bytes;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(ws6455_send_message(c, m), 0);
        assert_int_equal(ws6455_send_text(c, "héllo", 6), 0);
        size_t queued = ws6455_conn_buffered_amount(c);
        assert_true(k.live_bytes - base <= 2 * queued + WS6455__OUTQ_SLACK);
    }
    ws6455_message_free(m);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
    assert_int_equal(k.live_bytes, 0);
}

/* The client role must mask with a fresh key: the message is copied, and
 * the bytes are a valid masked frame of the same payload. */
static void test_client_copies_and_masks(void **state)
{
    (void)state;
    ws6455_context *ctx = server_ctx(NULL, WS6455_ROLE_CLIENT);
    ws6455_conn *c = server_in(ctx);
    ws6455_message *m = ws6455_message_new(NULL, WS6455_OP_TEXT, "Hello", 5);
    assert_int_equal(ws6455_send_message(c, m), 0);
    ws6455_message_free(m); /* the client's queue holds its own copy */
    const uint8_t *p;
    assert_int_equal(ws6455_conn_pending(c, &p), 2 + 4 + 5);
    assert_int_equal(p[0], 0x81);
    assert_int_equal(p[1], 0x85);
    uint8_t out[5];
    ws6455_mask(out, p + 6, 5, p + 2, 0);
    assert_memory_equal(out, "Hello", 5);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
}

/* Sends of a message obey the same rules as other sends. */
static void test_send_message_rules(void **state)
{
    (void)state;
    ws6455_context *ctx = server_ctx(NULL, WS6455_ROLE_SERVER);
    ws6455_conn *c = server_in(ctx);
    ws6455_message *m = ws6455_message_new(NULL, WS6455_OP_BINARY, "x", 1);
    assert_int_equal(ws6455_send_message(NULL, m), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_send_message(c, NULL), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_BINARY, "a", 1, 0), 0);
    assert_int_equal(ws6455_send_message(c, m), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_send_fragment(c, WS6455_OP_CONTINUATION, "b", 1, 1), 0);
    assert_int_equal(ws6455_send_message(c, m), 0);
    assert_int_equal(ws6455_close(c, 1000, NULL, 0), 0);
    assert_int_equal(ws6455_send_message(c, m), WS6455_ERR_CLOSED);
    ws6455_message_free(m);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_new_builds_the_frame),
        cmocka_unit_test(test_message_validated_once),
        cmocka_unit_test(test_broadcast_held_once),
        cmocka_unit_test(test_wrap_sends_by_reference),
        cmocka_unit_test(test_release_on_abort_and_free),
        cmocka_unit_test(test_small_frames_are_copied),
        cmocka_unit_test(test_references_keep_memory_bounded),
        cmocka_unit_test(test_client_copies_and_masks),
        cmocka_unit_test(test_send_message_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
