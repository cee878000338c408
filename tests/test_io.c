/* Callback I/O: the engine driving the caller's read and write callbacks,
 * with partial writes, would-block, errors and end of stream; and a client
 * engine talking to a server engine through in-memory pipes, opening
 * handshake included. */
#include "convo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ a pipe pair */

typedef struct pipe_buf {
    uint8_t data[1 << 16];
    size_t len;
} pipe_buf;

typedef struct endpoint {
    pipe_buf *rx, *tx;
    size_t write_max; /* partial writes */
    int fail_writes, fail_reads, eof;
    ws6455_conn *c;
    char log[2048];
    size_t log_len;
    char subprotocol[32];
} endpoint;

static void logf_(endpoint *e, const char *s, size_t n)
{
    assert_true(e->log_len + n + 2 < sizeof e->log);
    memcpy(e->log + e->log_len, s, n);
    e->log_len += n;
    e->log[e->log_len++] = '\n';
    e->log[e->log_len] = '\0';
}

static ptrdiff_t ep_read(void *u, uint8_t *buf, size_t cap)
{
    endpoint *e = u;
    if (e->fail_reads)
        return WS6455_IO_ERROR;
    if (e->rx->len == 0)
        return e->eof ? 0 : WS6455_IO_WOULD_BLOCK;
    size_t k = e->rx->len < cap ? e->rx->len : cap;
    memcpy(buf, e->rx->data, k);
    memmove(e->rx->data, e->rx->data + k, e->rx->len - k);
    e->rx->len -= k;
    return (ptrdiff_t)k;
}

static ptrdiff_t ep_write(void *u, const uint8_t *buf, size_t len)
{
    endpoint *e = u;
    if (e->fail_writes)
        return WS6455_IO_ERROR;
    size_t room = sizeof e->tx->data - e->tx->len;
    size_t k = len < e->write_max ? len : e->write_max;
    if (k > room)
        k = room;
    if (k == 0)
        return WS6455_IO_WOULD_BLOCK;
    memcpy(e->tx->data + e->tx->len, buf, k);
    e->tx->len += k;
    return (ptrdiff_t)k;
}

static void ep_open(ws6455_conn *c, const char *proto, void *u)
{
    (void)c;
    endpoint *e = u;
    snprintf(e->subprotocol, sizeof e->subprotocol, "%s", proto ? proto : "-");
    logf_(e, "open", 4);
}

static void ep_message(ws6455_conn *c, int op, const uint8_t *p, size_t n, void *u)
{
    (void)c;
    endpoint *e = u;
    logf_(e, op == WS6455_OP_TEXT ? "text" : "binary", op == WS6455_OP_TEXT ? 4 : 6);
    logf_(e, (const char *)p, n);
}

static void ep_close(ws6455_conn *c, int code, const char *r, size_t n, void *u)
{
    (void)c;
    (void)r;
    (void)n;
    endpoint *e = u;
    char s[32];
    int k = snprintf(s, sizeof s, "close %d", code);
    logf_(e, s, (size_t)k);
}

static int ep_random(void *u, uint8_t *buf, size_t n)
{
    (void)u;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 37 + 5);
    return 0;
}

static int ep_request(ws6455_conn *c, const ws6455_request *req, ws6455_handshake_reply *reply,
                      void *u)
{
    (void)c;
    (void)u;
    size_t n;
    const char *origin = ws6455_request_header(req, "Origin", &n);
    if (!origin || strcmp(origin, "http://good.example") != 0) {
        reply->status = 403;
        reply->body = "origin not allowed";
    }
    return 0;
}

static pipe_buf c2s, s2c;
static endpoint cli, srv;

static void pair(const char *origin, const char *const *protos, size_t nprotos)
{
    memset(&c2s, 0, sizeof c2s);
    memset(&s2c, 0, sizeof s2c);
    memset(&cli, 0, sizeof cli);
    memset(&srv, 0, sizeof srv);
    cli.rx = &s2c;
    cli.tx = &c2s;
    srv.rx = &c2s;
    srv.tx = &s2c;
    cli.write_max = 7; /* partial writes everywhere */
    srv.write_max = 5;
    ws6455_callbacks cb = {0};
    cb.read = ep_read;
    cb.write = ep_write;
    cb.random = ep_random;
    cb.on_open = ep_open;
    cb.on_message = ep_message;
    cb.on_close = ep_close;
    ws6455_config ccfg;
    ws6455_config_init(&ccfg, WS6455_ROLE_CLIENT);
    ccfg.host = "good.example:8080";
    ccfg.target = "/chat?x=1";
    ccfg.origin = origin;
    ccfg.subprotocols = protos;
    ccfg.subprotocol_count = nprotos;
    cli.c = ws6455_conn_new(&ccfg, &cb, &cli);
    assert_non_null(cli.c);
    ws6455_config scfg;
    ws6455_config_init(&scfg, WS6455_ROLE_SERVER);
    static const char *const supported[] = {"v2.chat", "v1.chat"};
    scfg.subprotocols = supported;
    scfg.subprotocol_count = 2;
    cb.on_request = ep_request;
    srv.c = ws6455_conn_new(&scfg, &cb, &srv);
    assert_non_null(srv.c);
}

/* Runs both event loops until neither has anything to do. */
static void pump(void)
{
    for (int i = 0; i < 10000; i++) {
        int busy = ws6455_conn_wants_write(cli.c) || ws6455_conn_wants_write(srv.c) ||
                   c2s.len || s2c.len;
        if (!busy)
            return;
        ws6455_conn_on_writable(cli.c);
        ws6455_conn_on_readable(srv.c);
        ws6455_conn_on_writable(srv.c);
        ws6455_conn_on_readable(cli.c);
        if (!ws6455_conn_wants_read(srv.c))
            c2s.len = 0;
        if (!ws6455_conn_wants_read(cli.c))
            s2c.len = 0;
    }
    fail_msg("pump did not settle");
}

static void unpair(void)
{
    ws6455_conn_free(cli.c);
    ws6455_conn_free(srv.c);
}

static void test_client_and_server_engines_talk(void **state)
{
    (void)state;
    static const char *const offered[] = {"v1.chat", "v2.chat"};
    pair("http://good.example", offered, 2);
    pump();
    assert_int_equal(ws6455_conn_state(cli.c), WS6455_STATE_OPEN);
    assert_int_equal(ws6455_conn_state(srv.c), WS6455_STATE_OPEN);
    /* the server's preference wins */
    assert_string_equal(cli.subprotocol, "v2.chat");
    assert_string_equal(srv.subprotocol, "v2.chat");
    assert_string_equal(ws6455_conn_subprotocol(cli.c), "v2.chat");
    assert_int_equal(ws6455_response_status(ws6455_conn_response(cli.c)), 101);
    assert_int_equal(ws6455_send_text(cli.c, "hello server", 12), 0);
    assert_int_equal(ws6455_send_fragment(cli.c, WS6455_OP_BINARY, "fr", 2, 0), 0);
    assert_int_equal(ws6455_send_fragment(cli.c, WS6455_OP_CONTINUATION, "ag", 2, 1), 0);
    assert_int_equal(ws6455_send_text(srv.c, "hello client", 12), 0);
    pump();
    assert_int_equal(ws6455_close(cli.c, 1000, "done", 4), 0);
    pump();
    assert_string_equal(srv.log, "open\ntext\nhello server\nbinary\nfrag\nclose 1000\n");
    assert_string_equal(cli.log, "open\ntext\nhello client\nclose 1000\n");
    assert_int_equal(ws6455_conn_should_close_socket(srv.c), 1);
    assert_int_equal(ws6455_conn_should_close_socket(cli.c), 1);
    unpair();
}

static void test_server_rejection_reaches_client(void **state)
{
    (void)state;
    pair("http://evil.example", NULL, 0);
    pump();
    assert_int_equal(ws6455_conn_state(cli.c), WS6455_STATE_CLOSED);
    assert_int_equal(ws6455_conn_error(cli.c), WS6455_ERR_HS_STATUS);
    assert_int_equal(ws6455_conn_error(srv.c), WS6455_ERR_HS_REJECTED);
    const ws6455_response *r = ws6455_conn_response(cli.c);
    assert_non_null(r);
    assert_int_equal(ws6455_response_status(r), 403);
    /* The client reports 1006, as a browser does; a server connection
     * that never opened reports no close (as Node's ws). */
    assert_string_equal(cli.log, "close 1006\n");
    assert_string_equal(srv.log, "");
    unpair();
}

static void test_write_error_is_reported(void **state)
{
    (void)state;
    pair("http://good.example", NULL, 0);
    pump();
    srv.fail_writes = 1;
    assert_int_equal(ws6455_send_text(srv.c, "x", 1), 0);
    assert_int_equal(ws6455_conn_on_writable(srv.c), WS6455_ERR_IO);
    unpair();
}

static void test_read_error_is_abnormal_closure(void **state)
{
    (void)state;
    pair("http://good.example", NULL, 0);
    pump();
    srv.fail_reads = 1;
    assert_int_equal(ws6455_conn_on_readable(srv.c), WS6455_ERR_IO);
    assert_int_equal(ws6455_conn_state(srv.c), WS6455_STATE_CLOSED);
    assert_string_equal(srv.log, "open\nclose 1006\n");
    unpair();
}

static void test_end_of_stream_mid_frame(void **state)
{
    (void)state;
    pair("http://good.example", NULL, 0);
    pump();
    c2s.data[0] = 0x81;
    c2s.data[1] = 0x85; /* header cut off */
    c2s.len = 2;
    srv.eof = 1;
    assert_int_equal(ws6455_conn_on_readable(srv.c), WS6455_ERR_ABNORMAL_CLOSURE);
    assert_int_equal(ws6455_conn_wants_read(srv.c), 0);
    assert_string_equal(srv.log, "open\nclose 1006\n");
    unpair();
}

static void test_callbacks_required(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    ws6455_conn *c = ws6455_conn_new(&cfg, NULL, NULL);
    assert_int_equal(ws6455_conn_on_readable(c), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455_conn_on_writable(c), WS6455_ERR_INVALID_STATE);
    ws6455_conn_free(c);
}


/* ------------------------------------------------------------ fairness */

/* A socket with `avail` bytes of input (a repeating frame) that counts the
 * reads made; reads return at most `chunk` bytes. */
typedef struct flood {
    uint8_t frame[16];
    size_t frame_len, pos;
    size_t avail, chunk;
    int reads, writes, writev_calls;
    size_t written;
    ws6455_conn *other; /* try to read it from inside an event */
    int other_rc;
} flood;

static ptrdiff_t flood_read(void *u, uint8_t *buf, size_t cap)
{
    flood *f = u;
    f->reads++;
    if (f->avail == 0)
        return WS6455_IO_WOULD_BLOCK;
    size_t k = cap < f->avail ? cap : f->avail;
    if (f->chunk && k > f->chunk)
        k = f->chunk;
    for (size_t i = 0; i < k; i++) {
        buf[i] = f->frame[f->pos];
        f->pos = (f->pos + 1) % f->frame_len;
    }
    f->avail -= k;
    return (ptrdiff_t)k;
}

static ptrdiff_t flood_write(void *u, const uint8_t *buf, size_t len)
{
    (void)buf;
    flood *f = u;
    f->writes++;
    f->written += len;
    return (ptrdiff_t)len;
}

static ptrdiff_t flood_writev(void *u, const ws6455_iovec *iov, size_t count)
{
    flood *f = u;
    f->writev_calls++;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += iov[i].len;
    f->written += n;
    return (ptrdiff_t)n;
}

static void flood_pong(ws6455_conn *c, const uint8_t *p, size_t n, void *u)
{
    (void)c;
    (void)p;
    (void)n;
    flood *f = u;
    if (f->other)
        f->other_rc = ws6455_conn_on_readable(f->other);
}

static ws6455_context *flood_context(unsigned flags, size_t budget, int use_writev)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE | flags;
    cfg.read_buffer_size = 16384;
    cfg.read_budget = budget;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.read = flood_read;
    if (use_writev)
        cb.writev = flood_writev;
    else
        cb.write = flood_write;
    cb.on_pong = flood_pong;
    return ws6455_context_new(&cfg, &cb);
}

static void flood_init(flood *f, size_t avail)
{
    memset(f, 0, sizeof *f);
    static const uint8_t m[4] = {1, 2, 3, 4};
    f->frame_len = tu_frame(f->frame, 1, WS6455_OP_PONG, "", 0, m); /* 6 bytes */
    f->avail = avail;
}

/* Issue 10, bug 5: a peer flooding empty pongs cannot keep one
 * on_readable() call for ever; it stops at the budget and says MORE. */
static void test_read_budget_stops_a_flood(void **state)
{
    (void)state;
    ws6455_context *ctx = flood_context(0, 65536, 0);
    flood f;
    flood_init(&f, 6 * 100000); /* 600,000 bytes waiting */
    ws6455_conn *c = ws6455_conn_new_in(ctx, &f);
    int calls = 0;
    int rc;
    while ((rc = ws6455_conn_on_readable(c)) == WS6455_MORE) {
        calls++;
        assert_true(f.reads <= calls * 4); /* 64 KiB in 16 KiB reads */
    }
    assert_int_equal(rc, WS6455_OK);
    assert_int_equal(calls, 600000 / 65536); /* then one more call finishes it */
    assert_int_equal(f.avail, 0);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
}

/* The default budget is documented; 0 means one read buffer. */
static void test_read_budget_defaults(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    assert_int_equal(cfg.read_budget, WS6455_DEFAULT_READ_BUDGET);
    ws6455_context *ctx = flood_context(0, 0, 0);
    flood f;
    flood_init(&f, 40000);
    ws6455_conn *c = ws6455_conn_new_in(ctx, &f);
    assert_int_equal(ws6455_conn_on_readable(c), WS6455_MORE);
    assert_int_equal(f.reads, 1);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
}

/* WS6455_SHORT_READ_DRAINED: a short read ends the call, with no extra read
 * to learn the socket would block. */
static void test_short_read_means_drained(void **state)
{
    (void)state;
    ws6455_context *ctx = flood_context(WS6455_SHORT_READ_DRAINED, 65536, 0);
    flood f;
    flood_init(&f, 600);
    ws6455_conn *c = ws6455_conn_new_in(ctx, &f);
    assert_int_equal(ws6455_conn_on_readable(c), WS6455_OK);
    assert_int_equal(f.reads, 1);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
    /* without the flag the engine reads again until it would block */
    ctx = flood_context(0, 65536, 0);
    flood_init(&f, 600);
    c = ws6455_conn_new_in(ctx, &f);
    assert_int_equal(ws6455_conn_on_readable(c), WS6455_OK);
    assert_int_equal(f.reads, 2);
    /* and a full buffer is never taken for drained */
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
    ctx = flood_context(WS6455_SHORT_READ_DRAINED, 65536, 0);
    flood_init(&f, 6 * 3000);
    f.chunk = 0;
    c = ws6455_conn_new_in(ctx, &f);
    assert_int_equal(ws6455_conn_on_readable(c), WS6455_OK);
    assert_int_equal(f.reads, 2); /* 16384, then a short 1616 */
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
}

/* The context's read buffer is shared: another connection of the context
 * may not read from inside this one's events (they may point into it). */
static void test_shared_read_buffer_not_reentered(void **state)
{
    (void)state;
    ws6455_context *ctx = flood_context(0, 65536, 0);
    flood fa, fb;
    flood_init(&fa, 6);
    flood_init(&fb, 6);
    ws6455_conn *a = ws6455_conn_new_in(ctx, &fa);
    ws6455_conn *b = ws6455_conn_new_in(ctx, &fb);
    fa.other = b;
    assert_int_equal(ws6455_conn_on_readable(a), WS6455_OK);
    assert_int_equal(fa.other_rc, WS6455_ERR_INVALID_STATE);
    assert_int_equal(fb.reads, 0);
    assert_int_equal(ws6455_conn_on_readable(b), WS6455_OK);
    ws6455_conn_free(a);
    ws6455_conn_free(b);
    ws6455_context_free(ctx);
}

static void echo_event(ws6455_conn *c, int op, const uint8_t *p, size_t n, void *u)
{
    (void)u;
    assert_int_equal(op == WS6455_OP_TEXT ? ws6455_send_text(c, (const char *)p, n)
                                          : ws6455_send_binary(c, p, n),
                     0);
}

/* All the replies one readable event produces leave in one gather write. */
static void test_one_writev_per_readable_event(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE | WS6455_SHORT_READ_DRAINED;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.read = flood_read;
    cb.writev = flood_writev;
    cb.on_message = echo_event;
    ws6455_context *ctx = ws6455_context_new(&cfg, &cb);
    flood f;
    memset(&f, 0, sizeof f);
    static const uint8_t m[4] = {9, 9, 9, 9};
    f.frame_len = tu_frame(f.frame, 1, WS6455_OP_TEXT, "ping", 4, m); /* 10 bytes */
    f.avail = 16 * f.frame_len;
    ws6455_conn *c = ws6455_conn_new_in(ctx, &f);
    assert_int_equal(ws6455_conn_on_readable(c), WS6455_OK);
    assert_int_equal(f.reads, 1);
    assert_int_equal(f.writev_calls, 1);
    assert_int_equal(f.written, 16 * 6);
    ws6455_conn_free(c);
    ws6455_context_free(ctx);
}

/* WS6455_WRITE_THROUGH: outside callbacks, with nothing queued, a send goes
 * straight to the writev callback and allocates nothing. */
static size_t wt_allocs;
static void *wt_alloc(size_t n, void *u)
{
    (void)u;
    wt_allocs++;
    return malloc(n);
}
static void *wt_resize(void *p, size_t n, void *u)
{
    (void)u;
    wt_allocs++;
    return realloc(p, n);
}
static void wt_free(void *p, void *u)
{
    (void)u;
    free(p);
}

static size_t wt_cap; /* the socket takes at most this much per call */
static uint8_t wt_sink[200000];
static size_t wt_len;

static ptrdiff_t wt_writev(void *u, const ws6455_iovec *iov, size_t count)
{
    (void)u;
    size_t n = 0;
    for (size_t i = 0; i < count && n < wt_cap; i++) {
        size_t k = iov[i].len < wt_cap - n ? iov[i].len : wt_cap - n;
        memcpy(wt_sink + wt_len, iov[i].base, k);
        wt_len += k;
        n += k;
    }
    return n ? (ptrdiff_t)n : WS6455_IO_WOULD_BLOCK;
}

static void test_write_through(void **state)
{
    (void)state;
    ws6455_allocator a = {wt_alloc, wt_resize, wt_free, NULL};
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE | WS6455_WRITE_THROUGH;
    cfg.allocator = &a;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.writev = wt_writev;
    ws6455_conn *c = ws6455_conn_new(&cfg, &cb, NULL);
    static uint8_t big[65536];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    wt_cap = SIZE_MAX;
    wt_len = 0;
    size_t before = wt_allocs;
    assert_int_equal(ws6455_send_binary(c, big, sizeof big), 0);
    assert_int_equal(wt_allocs, before); /* no copy, no queue */
    assert_int_equal(ws6455_conn_buffered_amount(c), 0);
    assert_int_equal(wt_len, 10 + sizeof big);
    assert_memory_equal(wt_sink, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    assert_memory_equal(wt_sink + 10, big, sizeof big);
    /* a socket that takes part: the rest is queued, in order */
    wt_cap = 1000;
    wt_len = 0;
    assert_int_equal(ws6455_send_binary(c, big, sizeof big), 0);
    assert_int_equal(ws6455_conn_buffered_amount(c), 10 + sizeof big - 1000);
    /* with output queued, later sends queue behind it */
    assert_int_equal(ws6455_send_text(c, "tail", 4), 0);
    wt_cap = SIZE_MAX;
    assert_int_equal(ws6455_conn_on_writable(c), 0);
    assert_int_equal(wt_len, 10 + sizeof big + 6);
    assert_memory_equal(wt_sink + 10, big, sizeof big);
    assert_memory_equal(wt_sink + 10 + sizeof big, "\x81\x04tail", 6);
    ws6455_conn_free(c);
}


/* A connection with a context of its own, freed from inside an event of
 * ws6455_conn_on_readable: the context goes with it, and the call must not
 * touch either afterwards (ASan watches). */
static void free_in_event(ws6455_conn *c, int op, const uint8_t *p, size_t n, void *u)
{
    (void)op, (void)p, (void)n, (void)u;
    ws6455_conn_free(c);
}

static void test_free_during_on_readable_with_own_context(void **state)
{
    (void)state;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags = WS6455_SKIP_HANDSHAKE;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.read = flood_read;
    cb.write = flood_write;
    cb.on_message = free_in_event;
    flood f;
    memset(&f, 0, sizeof f);
    static const uint8_t m[4] = {5, 6, 7, 8};
    f.frame_len = tu_frame(f.frame, 1, WS6455_OP_TEXT, "bye", 3, m);
    f.avail = 3 * f.frame_len;
    ws6455_conn *c = ws6455_conn_new(&cfg, &cb, &f);
    assert_non_null(c);
    assert_int_equal(ws6455_conn_on_readable(c), WS6455_ERR_CLOSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_and_server_engines_talk),
        cmocka_unit_test(test_server_rejection_reaches_client),
        cmocka_unit_test(test_write_error_is_reported),
        cmocka_unit_test(test_read_error_is_abnormal_closure),
        cmocka_unit_test(test_end_of_stream_mid_frame),
        cmocka_unit_test(test_read_budget_stops_a_flood),
        cmocka_unit_test(test_read_budget_defaults),
        cmocka_unit_test(test_short_read_means_drained),
        cmocka_unit_test(test_shared_read_buffer_not_reentered),
        cmocka_unit_test(test_one_writev_per_readable_event),
        cmocka_unit_test(test_write_through),
        cmocka_unit_test(test_free_during_on_readable_with_own_context),
        cmocka_unit_test(test_callbacks_required),
    };
    return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
