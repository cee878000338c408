#include "convo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tu_logf(tu_convo *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->log + t->log_len, TU_LOG_CAP - t->log_len, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < TU_LOG_CAP - t->log_len);
    t->log_len += (size_t)k;
}

/* Payloads are logged as text when printable and short, else as length
 * and an FNV-1a hash, so long transcripts stay readable. */
static void log_payload(tu_convo *t, const uint8_t *p, size_t n)
{
    int printable = n <= 40;
    for (size_t i = 0; i < n && printable; i++)
        printable = p[i] >= 0x20 && p[i] < 0x7f;
    if (printable) {
        tu_logf(t, " \"%.*s\"", (int)n, (const char *)p);
        return;
    }
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    tu_logf(t, " len=%zu fnv=%08x", n, h);
}

static const char *opname(int op)
{
    return op == WS6455_OP_TEXT ? "text" : op == WS6455_OP_BINARY ? "binary" : "?";
}

static void ev_open(ws6455_conn *c, const char *proto, void *u)
{
    (void)c;
    tu_convo *t = u;
    t->events++;
    tu_logf(t, "open %s\n", proto ? proto : "-");
}

static void ev_message(ws6455_conn *c, int op, const uint8_t *p, size_t n, void *u)
{
    (void)c;
    tu_convo *t = u;
    t->events++;
    tu_logf(t, "%s", opname(op));
    log_payload(t, p, n);
    tu_logf(t, "\n");
    if (t->on_message_hook)
        t->on_message_hook(t, op, p, n);
}

static void ev_fragment(ws6455_conn *c, int op, const uint8_t *p, size_t n, int first, int last,
                        void *u)
{
    (void)c;
    tu_convo *t = u;
    t->events++;
    assert_int_equal(first, !t->stream_open);
    t->stream_open = 1;
    if (n) {
        t->stream = realloc(t->stream, t->stream_len + n);
        assert_non_null(t->stream);
        memcpy(t->stream + t->stream_len, p, n);
        t->stream_len += n;
    }
    if (last) {
        tu_logf(t, "stream %s", opname(op));
        log_payload(t, t->stream, t->stream_len);
        tu_logf(t, "\n");
        t->stream_len = 0;
        t->stream_open = 0;
    }
}

static void ev_ping(ws6455_conn *c, const uint8_t *p, size_t n, void *u)
{
    (void)c;
    tu_convo *t = u;
    t->events++;
    tu_logf(t, "ping");
    log_payload(t, p, n);
    tu_logf(t, "\n");
}

static void ev_pong(ws6455_conn *c, const uint8_t *p, size_t n, void *u)
{
    (void)c;
    tu_convo *t = u;
    t->events++;
    tu_logf(t, "pong");
    log_payload(t, p, n);
    tu_logf(t, "\n");
}

static void ev_output(ws6455_conn *c, void *u)
{
    assert_true(ws6455_conn_wants_write(c));
    ((tu_convo *)u)->outputs++;
}

static void ev_drain(ws6455_conn *c, void *u)
{
    assert_false(ws6455_conn_wants_write(c));
    ((tu_convo *)u)->drains++;
}

static void ev_close(ws6455_conn *c, int code, const char *reason, size_t n, void *u)
{
    tu_convo *t = u;
    t->events++;
    t->closes++;
    t->clean_at_close = ws6455_conn_was_clean(c);
    tu_logf(t, "close %d", code);
    log_payload(t, (const uint8_t *)reason, n);
    tu_logf(t, "\n");
    if (t->on_close_hook)
        t->on_close_hook(t, code);
}

static void ev_error(ws6455_conn *c, int err, void *u)
{
    (void)c;
    tu_convo *t = u;
    t->events++;
    tu_logf(t, "error %s\n", ws6455_errname(err));
}

static int det_random(void *u, uint8_t *buf, size_t n)
{
    tu_convo *t = u;
    for (size_t i = 0; i < n; i++)
        buf[i] = t->rand_byte++;
    return 0;
}

#if !defined(WS6455_NO_CALLBACK_IO)
static ptrdiff_t io_read(void *u, uint8_t *buf, size_t cap)
{
    tu_convo *t = u;
    if (t->read_block_toggle ^= 1)
        return WS6455_IO_WOULD_BLOCK;
    if (t->in_off == t->in_len)
        return t->eof_at_end ? 0 : WS6455_IO_WOULD_BLOCK;
    size_t k = t->in_len - t->in_off;
    if (k > t->read_chunk)
        k = t->read_chunk;
    if (k > cap)
        k = cap;
    memcpy(buf, t->in + t->in_off, k);
    t->in_off += k;
    return (ptrdiff_t)k;
}

static ptrdiff_t io_write(void *u, const uint8_t *buf, size_t len)
{
    tu_convo *t = u;
    if (t->write_block_toggle ^= 1)
        return WS6455_IO_WOULD_BLOCK;
    size_t k = len < t->write_chunk ? len : t->write_chunk;
    assert_true(t->out_len + k <= TU_OUT_CAP);
    memcpy(t->out + t->out_len, buf, k);
    t->out_len += k;
    return (ptrdiff_t)k;
}
#endif

void tu_convo_callbacks(ws6455_callbacks *cb)
{
    ws6455_callbacks_init(cb);
#if !defined(WS6455_NO_CALLBACK_IO) /* a build without callback I/O refuses them */
    cb->read = io_read;
    cb->write = io_write;
#endif
    cb->random = det_random;
    cb->on_open = ev_open;
    cb->on_message = ev_message;
    cb->on_fragment = ev_fragment;
    cb->on_ping = ev_ping;
    cb->on_pong = ev_pong;
    cb->on_close = ev_close;
    cb->on_error = ev_error;
    cb->on_output = ev_output;
    cb->on_drain = ev_drain;
}

void tu_convo_init(tu_convo *t)
{
    memset(t, 0, sizeof *t);
    t->out = malloc(TU_OUT_CAP);
    assert_non_null(t->out);
    t->rand_byte = 0x11;
}

void tu_convo_free(tu_convo *t)
{
    ws6455_conn_free(t->c);
    t->c = NULL;
    free(t->out);
    free(t->stream);
    t->out = NULL;
    t->stream = NULL;
}

size_t tu_frame_rsv(uint8_t *dst, int fin, unsigned rsv, int opcode, const void *payload,
                    size_t n, const uint8_t *mask)
{
    size_t k = 0;
    dst[k++] = (uint8_t)((fin ? 0x80 : 0) | rsv | (unsigned)opcode);
    uint8_t mbit = mask ? 0x80 : 0;
    if (n < 126) {
        dst[k++] = (uint8_t)(mbit | n);
    } else if (n < 65536) {
        dst[k++] = mbit | 126;
        dst[k++] = (uint8_t)(n >> 8);
        dst[k++] = (uint8_t)n;
    } else {
        dst[k++] = mbit | 127;
        for (int s = 56; s >= 0; s -= 8)
            dst[k++] = (uint8_t)((uint64_t)n >> s);
    }
    if (mask) {
        memcpy(dst + k, mask, 4);
        k += 4;
    }
    const uint8_t *src = payload;
    for (size_t i = 0; i < n; i++)
        dst[k + i] = mask ? (uint8_t)(src[i] ^ mask[i % 4]) : src[i];
    return k + n;
}

size_t tu_frame(uint8_t *dst, int fin, int opcode, const void *payload, size_t n,
                const uint8_t *mask)
{
    return tu_frame_rsv(dst, fin, 0, opcode, payload, n, mask);
}

static void drain(tu_convo *t)
{
    const uint8_t *p;
    size_t n;
    while ((n = ws6455_conn_pending(t->c, &p)) > 0) {
        assert_true(t->out_len + n <= TU_OUT_CAP);
        memcpy(t->out + t->out_len, p, n);
        t->out_len += n;
        ws6455_conn_consume(t->c, n);
    }
}

static void feed(tu_convo *t, const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1); /* the engine unmasks in place */
    assert_non_null(copy);
    memcpy(copy, p, n);
    size_t used = 0;
    ws6455_conn_recv(t->c, copy, n, &used);
    assert_int_equal(used, n);
    free(copy);
    drain(t);
}

void tu_run(const ws6455_config *cfg, const uint8_t *in, size_t n, const tu_feed *how,
            tu_result *r)
{
    static tu_convo t; /* large; tests are single-threaded */
    tu_convo_init(&t);
    ws6455_callbacks cb;
    tu_convo_callbacks(&cb);
    t.c = ws6455_conn_new(cfg, &cb, &t);
    assert_non_null(t.c);
    if (how->callback_io) {
#if defined(WS6455_NO_CALLBACK_IO)
        fail_msg("callback I/O is not in this build");
#else
        t.in = in;
        t.in_len = n;
        t.read_chunk = how->io_read_chunk ? how->io_read_chunk : n + 1;
        t.write_chunk = how->io_write_chunk ? how->io_write_chunk : TU_OUT_CAP;
        t.eof_at_end = how->eof_at_end;
        ws6455_conn_on_writable(t.c);
        for (int guard = 0; guard < 100000; guard++) {
            int rc = ws6455_conn_on_readable(t.c);
            (void)rc;
            while (ws6455_conn_wants_write(t.c))
                ws6455_conn_on_writable(t.c);
            if (t.in_off == t.in_len && (!how->eof_at_end || !ws6455_conn_wants_read(t.c)))
                break;
            if (!ws6455_conn_wants_read(t.c))
                break;
        }
#endif
    } else {
        drain(&t);
        if (how->chunk) {
            for (size_t i = 0; i < n; i += how->chunk)
                feed(&t, in + i, n - i < how->chunk ? n - i : how->chunk);
        } else if (how->split_first) {
            feed(&t, in, how->split_first);
            feed(&t, in + how->split_first, n - how->split_first);
        } else {
            feed(&t, in, n);
        }
        if (how->eof_at_end) {
            ws6455_conn_recv_eof(t.c);
            drain(&t);
        }
    }
    memcpy(r->log, t.log, t.log_len + 1);
    r->out = malloc(t.out_len ? t.out_len : 1);
    assert_non_null(r->out);
    memcpy(r->out, t.out, t.out_len);
    r->out_len = t.out_len;
    r->state = ws6455_conn_state(t.c);
    r->error = ws6455_conn_error(t.c);
    tu_convo_free(&t);
}

void tu_result_free(tu_result *r)
{
    free(r->out);
    r->out = NULL;
}

static void same(const tu_result *a, const tu_result *b, const char *mode, size_t arg)
{
    if (strcmp(a->log, b->log) != 0 || a->out_len != b->out_len ||
        memcmp(a->out, b->out, a->out_len) != 0 || a->state != b->state || a->error != b->error) {
        print_error("mode %s(%zu) differs:\n--- whole:\n%s--- this:\n%s(out %zu vs %zu)\n", mode,
                    arg, a->log, b->log, a->out_len, b->out_len);
        fail();
    }
}

#if defined(WS6455_NO_CALLBACK_IO)
#define WS6455__CALLBACK_IO_LEFT_OUT 1
#else
#define WS6455__CALLBACK_IO_LEFT_OUT 0
#endif

void tu_script(const ws6455_config *cfg, const uint8_t *in, size_t n, const char *expected_log,
               const uint8_t *expected_out, size_t expected_out_len)
{
    static tu_result whole, other;
    tu_feed how = {0};
    tu_run(cfg, in, n, &how, &whole);
    if (strcmp(whole.log, expected_log) != 0) {
        print_error("transcript:\n%s--- expected:\n%s", whole.log, expected_log);
        fail();
    }
    if (expected_out) {
        if (whole.out_len != expected_out_len ||
            memcmp(whole.out, expected_out, expected_out_len) != 0) {
            print_error("output differs: %zu bytes vs %zu expected\n", whole.out_len,
                        expected_out_len);
            for (size_t i = 0; i < whole.out_len && i < 64; i++)
                print_error("%02x ", whole.out[i]);
            print_error("\n");
            fail();
        }
    }
    size_t step = n <= 600 ? 1 : n / 97 + 1;
    for (size_t i = 1; i < n; i += step) {
        how = (tu_feed){.split_first = i};
        tu_run(cfg, in, n, &how, &other);
        same(&whole, &other, "split", i);
        tu_result_free(&other);
    }
    size_t chunks[] = {1, 7};
    for (size_t k = 0; k < 2; k++) {
        if (n > 200000 && chunks[k] == 1)
            continue;
        how = (tu_feed){.chunk = chunks[k]};
        tu_run(cfg, in, n, &how, &other);
        same(&whole, &other, "chunk", chunks[k]);
        tu_result_free(&other);
    }
    size_t reads[] = {1, 5, 0};
    for (size_t k = 0; k < 3 && !WS6455__CALLBACK_IO_LEFT_OUT; k++) {
        if (n > 200000 && reads[k] == 1)
            continue;
        how = (tu_feed){.callback_io = 1, .io_read_chunk = reads[k], .io_write_chunk = 3};
        tu_run(cfg, in, n, &how, &other);
        same(&whole, &other, "callback-io", reads[k]);
        tu_result_free(&other);
    }
    tu_result_free(&whole);
}
