/* The whole-connection fuzz driver, shared by fuzz/fuzz_conn_server.c,
 * fuzz/fuzz_conn_client.c and tests/test_hardening.c (which replays every
 * corpus file through it).
 *
 * Input layout (all optional: a short input reads zeros):
 *   byte 0  config flags: bit0 NO_AUTO_PONG, bit1 STREAM_FRAGMENTS,
 *           bit2 LENIENT_LENGTH, bit3 NO_AUTO_CLOSE_REPLY,
 *           bits4-5 handshake: 0 SKIP_HANDSHAKE, 1 a valid handshake is
 *           prepended to the peer bytes, 2-3 the peer bytes carry it,
 *           bit6 small limits (bytes 1 and 2 pick them), bit7 failing
 *           allocator (byte 4 picks which allocation fails)
 *   byte 1  low 3 bits max_message_size, next 3 bits max_frame_size
 *   byte 2  low 3 bits max_output_buffer, bit3 keepalive on, bit4 offer
 *           subprotocols, bit5 random source fails after 20 bytes
 *   byte 3  what callbacks do from inside events (FZ_CB_* below)
 *   byte 4  which allocation fails (1-based), when byte 0 bit7
 *   byte 5  k = script length, then k script bytes
 *   rest    the peer's bytes
 * Each script byte is an action (low 3 bits) with an argument (high 5
 * bits); the script repeats until all peer bytes are fed:
 *   0 feed a+1 bytes   1 feed (a+1)*37 bytes   2 feed the rest
 *   3 drain output (all, a few bytes, none, half)
 *   4 an API call (send_text/binary/fragment, ping, pong, close, queries)
 *   5 tick, time advancing by a table value   6 end of stream / drain policy
 *   7 set the callback behaviour byte
 * After every feed the output is drained by the current policy (all, half,
 * nothing), and every drained byte goes through an independent checker of
 * what the library sends: the HTTP head, then frames that must obey RFC
 * 6455 for our role, and nothing after our close frame.
 * Invariants checked: events in a legal order and at most once where the
 * API says so, sticky errors, monotonic state, delivered text is valid
 * UTF-8 (by the reference validator), messages within max_message_size,
 * live memory within the bound the configuration gives (docs/security.md),
 * recv/tick refused from inside callbacks. */
#ifndef WS6455_FUZZ_CONN_DRIVER_H
#define WS6455_FUZZ_CONN_DRIVER_H

#include "fuzz.h"

#if defined(WS6455_WITH_ZLIB)
#include <zlib.h>
#endif

/* What callbacks do (byte 3 and action 7). */
#define FZ_CB_ECHO 0x01u       /* on_message: send it back */
#define FZ_CB_PONG 0x02u       /* on_ping: ws6455_pong */
#define FZ_CB_CLOSE 0x04u      /* on_close: ws6455_close (answers with NO_AUTO_CLOSE_REPLY) */
#define FZ_CB_CLOSE_MSG 0x08u  /* on_message: start the closing handshake */
#define FZ_CB_STREAM 0x10u     /* on_fragment: echo as fragments */
#define FZ_CB_FREE 0x20u       /* free the connection from the 3rd event */
#define FZ_CB_OPEN_SEND 0x40u  /* on_open: send a text */
#define FZ_CB_REQUEST 0x80u    /* on_request: reject, pick, or fail */

/* ------------------------------------------------------------ output checker */

typedef struct fz_outchk {
    int role;  /* role of the side that produced the bytes */
    int phase; /* 0 HTTP head, 1 frames, 2 ignored (a rejection response) */
    char start[13];
    size_t head_len;
    uint32_t tail;
    uint8_t h[WS6455_MAX_HEADER_SIZE];
    size_t hlen, hneed;
    uint64_t left, done, len;
    int opcode, fin, masked;
    uint8_t key[4];
    uint8_t ctrl[WS6455_MAX_CONTROL_PAYLOAD];
    size_t ctrl_len;
    int in_msg, msg_text;
    fz_utf8_ref utf8;
    int close_sent;
    size_t frames;
    /* permessage-deflate: our compressed messages, inflated by zlib
     * directly (independently of src/deflate.c), must give valid text */
    int deflate;        /* negotiated (RSV1 allowed on a message's first frame) */
    int reset_per_msg;  /* our compressor does not take over its context */
    int msg_compressed;
#if defined(WS6455_WITH_ZLIB)
    z_stream zs;
    int zs_ready;
#endif
} fz_outchk;

static void fz_outchk_init(fz_outchk *o, int role, int skip_handshake)
{
    memset(o, 0, sizeof *o);
    o->role = role;
    o->phase = skip_handshake ? 1 : 0;
}

/* The bytes a compressed message carries, through zlib itself. */
static void fz_outchk_inflate(fz_outchk *o, const uint8_t *p, size_t n)
{
#if defined(WS6455_WITH_ZLIB)
    if (!o->zs_ready) {
        memset(&o->zs, 0, sizeof o->zs);
        FZ_CHECK(inflateInit2(&o->zs, -15) == Z_OK);
        o->zs_ready = 1;
    }
    uint8_t out[4096];
    o->zs.next_in = (Bytef *)(uintptr_t)p;
    o->zs.avail_in = (uInt)n;
    do {
        o->zs.next_out = out;
        o->zs.avail_out = sizeof out;
        int rc = inflate(&o->zs, Z_SYNC_FLUSH);
        FZ_CHECK(rc == Z_OK || rc == Z_BUF_ERROR || rc == Z_STREAM_END);
        size_t got = sizeof out - o->zs.avail_out;
        if (o->msg_text)
            for (size_t i = 0; i < got; i++)
                FZ_CHECK(fz_utf8_ref_byte(&o->utf8, out[i]) == 0);
        if (rc == Z_BUF_ERROR)
            break;
    } while (o->zs.avail_in || o->zs.avail_out == 0);
#else
    (void)o, (void)p, (void)n;
    FZ_CHECK(0); /* nothing is compressed without zlib */
#endif
}

static void fz_outchk_free(fz_outchk *o)
{
#if defined(WS6455_WITH_ZLIB)
    if (o->zs_ready)
        inflateEnd(&o->zs);
    o->zs_ready = 0;
#else
    (void)o;
#endif
}

static int fz_is_control(int op)
{
    return op >= 8;
}

static void fz_outchk_frame_end(fz_outchk *o)
{
    o->frames++;
    if (o->msg_compressed && !fz_is_control(o->opcode) && o->fin) {
        fz_outchk_inflate(o, (const uint8_t *)"\x00\x00\xff\xff", 4); /* RFC 7692 7.2.2 */
#if defined(WS6455_WITH_ZLIB)
        if (o->reset_per_msg && o->zs_ready)
            FZ_CHECK(inflateReset(&o->zs) == Z_OK);
#endif
        o->msg_compressed = 0;
    }
    if (fz_is_control(o->opcode)) {
        if (o->opcode == WS6455_OP_CLOSE) {
            FZ_CHECK(o->ctrl_len != 1);
            if (o->ctrl_len >= 2) {
                unsigned code = (unsigned)o->ctrl[0] << 8 | o->ctrl[1];
                FZ_CHECK(ws6455_close_code_valid(code));
                FZ_CHECK(fz_utf8_ref_valid(o->ctrl + 2, o->ctrl_len - 2, NULL));
            }
            o->close_sent = 1;
        }
        return;
    }
    if (o->fin) {
        if (o->msg_text)
            FZ_CHECK(o->utf8.need == 0 && !o->utf8.failed);
        o->in_msg = 0;
    } else {
        o->in_msg = 1;
    }
}

static void fz_outchk_header_done(fz_outchk *o)
{
    const uint8_t *h = o->h;
    unsigned len7 = h[1] & 0x7Fu;
    uint64_t len = len7;
    if (len7 == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
        FZ_CHECK(len >= 126); /* shortest form */
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
        FZ_CHECK(len > 0xFFFF && !(len >> 63));
    }
    if (o->masked)
        memcpy(o->key, h + o->hlen - 4, 4);
    o->len = o->left = len;
    o->done = 0;
    o->ctrl_len = 0;
    /* Nothing after our close frame; data frames in a legal sequence. */
    FZ_CHECK(!o->close_sent);
    if (!fz_is_control(o->opcode)) {
        if (o->opcode == WS6455_OP_CONTINUATION) {
            FZ_CHECK(o->in_msg);
        } else {
            FZ_CHECK(!o->in_msg);
            o->msg_text = o->opcode == WS6455_OP_TEXT;
            o->msg_compressed = (h[0] & 0x40u) != 0;
            fz_utf8_ref_init(&o->utf8);
        }
    }
    o->hlen = 0;
    if (len == 0)
        fz_outchk_frame_end(o);
}

static void fz_outchk_byte(fz_outchk *o, uint8_t b)
{
    if (o->phase == 2)
        return;
    if (o->phase == 0) {
        if (o->head_len < 12)
            o->start[o->head_len] = (char)b;
        o->head_len++;
        o->tail = o->tail << 8 | b;
        if (o->tail != 0x0D0A0D0Au)
            return;
        if (o->role == WS6455_ROLE_CLIENT) {
            FZ_CHECK(memcmp(o->start, "GET ", 4) == 0);
            o->phase = 1;
        } else {
            FZ_CHECK(memcmp(o->start, "HTTP/1.1 ", 9) == 0);
            o->phase = memcmp(o->start, "HTTP/1.1 101", 12) == 0 ? 1 : 2;
        }
        return;
    }
    if (o->left == 0 && o->hlen == 0 && o->hneed == 0)
        o->hneed = 2;
    if (o->hneed) {
        o->h[o->hlen++] = b;
        if (o->hlen == 1) {
            /* RSV1 only with permessage-deflate, only on a data message's
             * first frame; RSV2 and RSV3 never */
            FZ_CHECK((b & 0x30u) == 0);
            if (b & 0x40u) {
                FZ_CHECK(o->deflate && (b & 0x0Fu) != 0 && (b & 0x0Fu) < 8 && !o->in_msg);
            }
            o->opcode = b & 0x0F;
            o->fin = b >> 7;
            FZ_CHECK(o->opcode <= 2 || (o->opcode >= 8 && o->opcode <= 10));
            if (fz_is_control(o->opcode))
                FZ_CHECK(o->fin);
        } else if (o->hlen == 2) {
            o->masked = b >> 7;
            FZ_CHECK(o->masked == (o->role == WS6455_ROLE_CLIENT));
            unsigned len7 = b & 0x7Fu;
            if (fz_is_control(o->opcode))
                FZ_CHECK(len7 <= WS6455_MAX_CONTROL_PAYLOAD);
            o->hneed = 2u + (len7 == 126 ? 2u : len7 == 127 ? 8u : 0u) + (o->masked ? 4u : 0u);
        }
        if (o->hlen >= 2 && o->hlen == o->hneed) {
            o->hneed = 0;
            fz_outchk_header_done(o);
        }
        return;
    }
    uint8_t v = o->masked ? (uint8_t)(b ^ o->key[o->done & 3]) : b;
    o->done++;
    o->left--;
    if (fz_is_control(o->opcode))
        o->ctrl[o->ctrl_len++] = v;
    else if (o->msg_compressed)
        fz_outchk_inflate(o, &v, 1);
    else if (o->msg_text)
        FZ_CHECK(fz_utf8_ref_byte(&o->utf8, v) == 0);
    if (o->left == 0)
        fz_outchk_frame_end(o);
}

/* ------------------------------------------------------------ the driver */

typedef struct fz_conn {
    ws6455_conn *c;
    int role;
    int freeing; /* ws6455_conn_free was called from a callback */
    int gone;    /* the connection no longer exists */
    fz_mem mem;
    ws6455_config cfg;
    unsigned cbmode;
    uint8_t rand_next;
    size_t rand_given, rand_fail_after; /* 0: never fails */
    /* events */
    int in_event, events, opened, errored, closed, last_state, sticky;
    int stream_open, stream_op;
    uint64_t stream_len;
    fz_utf8_ref stream_utf8;
    uint64_t now;
    size_t allowance; /* control frames queued past max_output_buffer by the caller */
    size_t zlib_bound; /* zlib's memory once permessage-deflate is agreed (0: none) */
    char picked[64];  /* the subprotocol on_request chose, if any */
    fz_outchk out;
    /* the loop contract */
    int queue_nonempty;      /* per on_output / on_drain */
    const uint8_t *held;     /* what pending() last handed out and was not all consumed */
    size_t held_len;
    int use_iov;             /* drain through ws6455_conn_pending_iov */
    unsigned releases, wraps; /* prepared-message release calls / wrapped messages made */
} fz_conn;

static const char *const fz_protocols[] = {"chat", "superchat"};

static int fz_random(void *user, uint8_t *buf, size_t n)
{
    fz_conn *z = user;
    if (z->rand_fail_after && z->rand_given + n > z->rand_fail_after)
        return -1;
    for (size_t i = 0; i < n; i++)
        buf[i] = z->rand_next++;
    z->rand_given += n;
    return 0;
}

/* Frees the connection from inside the current event (the library frees
 * it when the outermost call returns). */
static int fz_maybe_free(fz_conn *z, ws6455_conn *c)
{
    if (z->freeing)
        return 1; /* events may still arrive until the outer call returns */
    if ((z->cbmode & FZ_CB_FREE) && z->events == 3) {
        ws6455_conn_free(c);
        z->freeing = 1;
        return 1;
    }
    return 0;
}

static void fz_event(fz_conn *z, ws6455_conn *c)
{
    FZ_CHECK(c == z->c && !z->gone);
    z->events++;
    /* No library call that delivers events may be re-entered. */
    uint8_t b = 0;
    FZ_CHECK(ws6455_conn_recv(c, &b, 1, NULL) == WS6455_ERR_INVALID_STATE);
    FZ_CHECK(ws6455_conn_tick(c, z->now) == WS6455_ERR_INVALID_STATE);
    FZ_CHECK(ws6455_conn_recv_eof(c) == WS6455_ERR_INVALID_STATE);
}

/* Control frames the caller queues are never refused for backpressure, so
 * the memory bound grows with them (docs/security.md). */
static void fz_allow(fz_conn *z, int rc, size_t n)
{
    if (rc == WS6455_OK)
        z->allowance += WS6455_MAX_HEADER_SIZE + n;
}

static int fz_on_request(ws6455_conn *c, const ws6455_request *req,
                         ws6455_handshake_reply *reply, void *user)
{
    fz_conn *z = user;
    FZ_CHECK(!z->opened && !z->closed);
    fz_event(z, c);
    size_t len = 0;
    FZ_CHECK(ws6455_request_method(req, &len) != NULL && len > 0);
    FZ_CHECK(ws6455_request_target(req, &len) != NULL);
    size_t np = ws6455_request_protocol_count(req);
    for (size_t i = 0; i < np; i++)
        FZ_CHECK(ws6455_request_protocol(req, i, &len) != NULL && len > 0);
    FZ_CHECK(ws6455_request_protocol(req, np, &len) == NULL);
    size_t nh = ws6455_request_header_count(req);
    for (size_t i = 0; i < nh; i++) {
        ws6455_header h;
        FZ_CHECK(ws6455_request_header_at(req, i, &h) == WS6455_OK);
        FZ_CHECK(ws6455_request_header(req, "sec-websocket-key", &len) != NULL);
    }
    ws6455_header hh;
    FZ_CHECK(ws6455_request_header_at(req, nh, &hh) == WS6455_ERR_INVALID_ARGUMENT);
    if (fz_maybe_free(z, c))
        return 0;
    if (!(z->cbmode & FZ_CB_REQUEST))
        return 0;
    static const ws6455_header extra[] = {{"Set-Cookie", 10, "a=b", 3}, {"X-Bad", 5, "x\r\ny", 4}};
    switch (z->events % 5) {
    case 0:
        reply->status = 403;
        reply->body = "go away";
        return 0;
    case 1:
        reply->subprotocol = np ? ws6455_request_protocol(req, np - 1, &len) : NULL;
        if (reply->subprotocol && len < sizeof z->picked)
            memcpy(z->picked, reply->subprotocol, len + 1);
        else
            reply->subprotocol = NULL;
        reply->headers = extra;
        reply->header_count = 1;
        return 0;
    case 2:
        reply->headers = extra;
        reply->header_count = 2; /* CR LF in a value: the library answers 500 */
        return 0;
    case 3:
        reply->subprotocol = "not-offered";
        return 0;
    default:
        return 1;
    }
}

/* zlib's memory with permessage-deflate agreed, from the bounds in
 * src/deflate.h: our compressor 4 * 2^w + 2^(memLevel+9) (w at least 9) and
 * our decompressor 2^w, with the agreed windows, plus 16 KiB each for
 * zlib's fixed state and ours (measured 5.9 and 7.1 KiB). */
static size_t fz_zlib_bound(int role, const ws6455_deflate_params *dp, int mem_level)
{
    int tx = role == WS6455_ROLE_SERVER ? dp->server_max_window_bits : dp->client_max_window_bits;
    int rx = role == WS6455_ROLE_SERVER ? dp->client_max_window_bits : dp->server_max_window_bits;
    if (tx < 9)
        tx = 9;
    if (mem_level < 1 || mem_level > 9)
        mem_level = 9;
    return ((size_t)4 << tx) + ((size_t)1 << (mem_level + 9)) + ((size_t)1 << rx) + 2 * 16384;
}

static void fz_on_open(ws6455_conn *c, const char *proto, void *user)
{
    fz_conn *z = user;
    FZ_CHECK(!z->opened && !z->closed && !z->errored);
    fz_event(z, c);
    z->opened = 1;
    ws6455_deflate_params dp;
    if (ws6455_conn_deflate(c, &dp)) {
        FZ_CHECK(z->cfg.deflate.enabled && ws6455_deflate_available());
        z->out.deflate = 1;
        z->out.reset_per_msg = z->role == WS6455_ROLE_SERVER ? dp.server_no_context_takeover
                                                              : dp.client_no_context_takeover;
        z->zlib_bound = fz_zlib_bound(z->role, &dp, z->cfg.deflate.mem_level);
    }
    if (proto)
        FZ_CHECK(strcmp(proto, "chat") == 0 || strcmp(proto, "superchat") == 0 ||
                 strcmp(proto, z->picked) == 0);
    if (fz_maybe_free(z, c))
        return;
    if (z->cbmode & FZ_CB_OPEN_SEND)
        (void)ws6455_send_text(c, "hello", 5);
}

static void fz_check_data_event(fz_conn *z)
{
    FZ_CHECK(!z->closed && !z->errored);
    FZ_CHECK(z->opened || (z->cfg.flags & WS6455_SKIP_HANDSHAKE));
}

static void fz_on_message(ws6455_conn *c, int op, const uint8_t *p, size_t n, void *user)
{
    fz_conn *z = user;
    fz_event(z, c);
    fz_check_data_event(z);
    FZ_CHECK(!(z->cfg.flags & WS6455_STREAM_FRAGMENTS));
    FZ_CHECK(op == WS6455_OP_TEXT || op == WS6455_OP_BINARY);
    FZ_CHECK(n <= z->cfg.max_message_size);
    FZ_CHECK(p != NULL || n == 0);
    if (op == WS6455_OP_TEXT)
        FZ_CHECK(fz_utf8_ref_valid(p, n, NULL));
    if (fz_maybe_free(z, c))
        return;
    if (z->cbmode & FZ_CB_ECHO)
        (void)(op == WS6455_OP_TEXT ? ws6455_send_text(c, (const char *)p, n)
                                    : ws6455_send_binary(c, p, n));
    if (z->cbmode & FZ_CB_CLOSE_MSG)
        fz_allow(z, ws6455_close(c, 1000, "done", 4), 6);
}

static void fz_on_fragment(ws6455_conn *c, int op, const uint8_t *p, size_t n, int first,
                           int last, void *user)
{
    fz_conn *z = user;
    fz_event(z, c);
    fz_check_data_event(z);
    FZ_CHECK(z->cfg.flags & WS6455_STREAM_FRAGMENTS);
    FZ_CHECK(op == WS6455_OP_TEXT || op == WS6455_OP_BINARY);
    FZ_CHECK(first == !z->stream_open);
    if (first) {
        z->stream_open = 1;
        z->stream_op = op;
        z->stream_len = 0;
        fz_utf8_ref_init(&z->stream_utf8);
    }
    FZ_CHECK(op == z->stream_op);
    z->stream_len += n;
    FZ_CHECK(z->stream_len <= z->cfg.max_message_size);
    if (op == WS6455_OP_TEXT)
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(fz_utf8_ref_byte(&z->stream_utf8, p[i]) == 0);
    if (last) {
        if (op == WS6455_OP_TEXT)
            FZ_CHECK(z->stream_utf8.need == 0);
        z->stream_open = 0;
    }
    if (fz_maybe_free(z, c))
        return;
    if (z->cbmode & FZ_CB_STREAM)
        (void)ws6455_send_fragment(c, first ? op : WS6455_OP_CONTINUATION, p, n, last);
}

static void fz_on_ping(ws6455_conn *c, const uint8_t *p, size_t n, void *user)
{
    fz_conn *z = user;
    fz_event(z, c);
    FZ_CHECK(!z->closed && !z->errored && n <= WS6455_MAX_CONTROL_PAYLOAD);
    if (fz_maybe_free(z, c))
        return;
    if (z->cbmode & FZ_CB_PONG)
        fz_allow(z, ws6455_pong(c, p, n), n);
}

static void fz_on_pong(ws6455_conn *c, const uint8_t *p, size_t n, void *user)
{
    fz_conn *z = user;
    (void)p;
    fz_event(z, c);
    FZ_CHECK(!z->closed && !z->errored && n <= WS6455_MAX_CONTROL_PAYLOAD);
    (void)fz_maybe_free(z, c);
}

static void fz_on_error(ws6455_conn *c, int err, void *user)
{
    fz_conn *z = user;
    fz_event(z, c);
    FZ_CHECK(!z->errored && !z->closed);
    FZ_CHECK(err < 0 && strcmp(ws6455_errname(err), "UNKNOWN") != 0);
    z->errored = 1;
    (void)fz_maybe_free(z, c);
}

static void fz_on_close(ws6455_conn *c, int code, const char *reason, size_t n, void *user)
{
    fz_conn *z = user;
    fz_event(z, c);
    FZ_CHECK(!z->closed);
    /* only for connections that opened, and for every client */
    FZ_CHECK(z->opened || z->role == WS6455_ROLE_CLIENT || (z->cfg.flags & WS6455_SKIP_HANDSHAKE));
    z->closed = 1;
    FZ_CHECK(ws6455_conn_was_clean(c) == 0 || ws6455_conn_was_clean(c) == 1);
    FZ_CHECK(ws6455_close_code_valid((unsigned)code) || code == 1005 || code == 1006);
    FZ_CHECK(reason != NULL && n <= WS6455_MAX_CONTROL_PAYLOAD - 2);
    FZ_CHECK(fz_utf8_ref_valid((const uint8_t *)reason, n, NULL));
    if (fz_maybe_free(z, c))
        return;
    if (z->cbmode & FZ_CB_CLOSE)
        fz_allow(z, ws6455_close(c, 1000, "bye", 3), 5);
}

/* on_output: the queue was empty (by our count) and now holds bytes. */
static void fz_on_output(ws6455_conn *c, void *user)
{
    fz_conn *z = user;
    FZ_CHECK(c == z->c && !z->gone);
    FZ_CHECK(!z->queue_nonempty);
    FZ_CHECK(ws6455_conn_wants_write(c));
    z->queue_nonempty = 1;
}

/* on_drain: the queue was non-empty and emptied by consuming. */
static void fz_on_drain(ws6455_conn *c, void *user)
{
    fz_conn *z = user;
    FZ_CHECK(c == z->c && !z->gone);
    FZ_CHECK(z->queue_nonempty);
    FZ_CHECK(!ws6455_conn_wants_write(c));
    z->queue_nonempty = 0;
}

static void fz_release(void *user, const void *data)
{
    fz_conn *z = user;
    FZ_CHECK(data != NULL);
    z->releases++;
}

/* Live memory the configuration allows (docs/security.md): the struct and
 * small allocations, the handshake head, the reassembly buffer and the
 * output queue, each possibly twice while it grows. */
static size_t fz_mem_bound(const fz_conn *z)
{
    /* zlib_bound: set when permessage-deflate was agreed (fz_zlib_bound). */
    const ws6455_config *f = &z->cfg;
    size_t hs = 4 * f->max_handshake_size + 128 * f->max_handshake_headers;
    size_t out = f->max_output_buffer + 2 * (WS6455_MAX_HEADER_SIZE + WS6455_MAX_CONTROL_PAYLOAD) +
                 z->allowance + 4 * (WS6455_MAX_HEADER_SIZE + WS6455_MAX_CONTROL_PAYLOAD);
    return 65536 + hs + 2 * f->max_message_size + 2 * out + z->zlib_bound;
}

static void fz_check(fz_conn *z)
{
    if (z->gone)
        return;
    ws6455_conn *c = z->c;
    int st = ws6455_conn_state(c);
    FZ_CHECK(st >= z->last_state && st <= WS6455_STATE_CLOSED);
    z->last_state = st;
    int err = ws6455_conn_error(c);
    FZ_CHECK(z->sticky == 0 || err == z->sticky);
    z->sticky = err;
    if (err)
        FZ_CHECK(st == WS6455_STATE_CLOSED);
    const uint8_t *p;
    size_t n = ws6455_conn_pending(c, &p);
    FZ_CHECK(p != NULL && ws6455_conn_buffered_amount(c) >= n);
    FZ_CHECK(ws6455_conn_wants_write(c) == (n > 0));
    /* Output stays where it is until consumed. */
    if (z->held && n) {
        FZ_CHECK(p == z->held && n >= z->held_len);
    }
    /* Output is only ever dropped (no on_drain) when the connection ends. */
    if (z->queue_nonempty && n == 0) {
        FZ_CHECK(st == WS6455_STATE_CLOSED);
        z->queue_nonempty = 0;
    }
    FZ_CHECK(z->queue_nonempty == (n > 0));
    /* Every connection that is closing has a way to end. */
    if (st >= WS6455_STATE_CLOSING && !ws6455_conn_should_close_socket(c))
        FZ_CHECK(ws6455_conn_deadline(c) != WS6455_NO_DEADLINE);
    FZ_CHECK(z->mem.live <= fz_mem_bound(z));
}

/* Takes up to max bytes of output, run by run (or a gather at a time),
 * checking each against what was handed out before. */
static void fz_drain(fz_conn *z, size_t max)
{
    while (!z->gone && max) {
        const uint8_t *p;
        size_t n;
        if (z->use_iov) {
            ws6455_iovec iov[4];
            size_t total;
            size_t count = ws6455_conn_pending_iov(z->c, iov, 4, &total);
            FZ_CHECK((count == 0) == (total == 0));
            if (!count)
                break;
            p = iov[0].base;
            n = iov[0].len;
            size_t sum = 0;
            for (size_t i = 0; i < count; i++)
                sum += iov[i].len;
            FZ_CHECK(sum == total);
        } else {
            n = ws6455_conn_pending(z->c, &p);
        }
        if (n == 0)
            break;
        if (z->held)
            FZ_CHECK(p == z->held && n >= z->held_len);
        if (n > max)
            n = max;
        for (size_t i = 0; i < n; i++)
            fz_outchk_byte(&z->out, p[i]);
        const uint8_t *before = p;
        size_t run = ws6455_conn_pending(z->c, &p);
        int rc = ws6455_conn_consume(z->c, n);
        if (rc == WS6455_ERR_CLOSED) {
            FZ_CHECK(z->freeing);
            z->gone = 1;
            return;
        }
        FZ_CHECK(rc == WS6455_OK);
        /* a partly consumed run stays put */
        z->held = n < run ? before + n : NULL;
        z->held_len = n < run ? run - n : 0;
        max -= n;
    }
}

/* Feeds n bytes from an exact-size heap copy (ASan sees any over-read; the
 * library unmasks in place). */
static void fz_feed(fz_conn *z, const uint8_t *p, size_t n)
{
    if (z->gone)
        return;
    uint8_t *copy = malloc(n ? n : 1);
    FZ_CHECK(copy != NULL);
    if (n)
        memcpy(copy, p, n);
    size_t used = 12345;
    int rc = ws6455_conn_recv(z->c, copy, n, &used);
    free(copy);
    if (rc == WS6455_ERR_CLOSED) {
        FZ_CHECK(z->freeing);
        z->gone = 1;
        return;
    }
    FZ_CHECK(!z->freeing);
    FZ_CHECK(used == n);
    FZ_CHECK(rc == ws6455_conn_error(z->c));
}

static void fz_after_call(fz_conn *z, int rc)
{
    if (rc == WS6455_ERR_CLOSED && z->freeing) {
        z->gone = 1;
        return;
    }
    FZ_CHECK(!z->freeing);
}

static const char *const fz_texts[] = {"", "hello", "h\xC3\xA9llo", "\xF0\x9F\x98\x80",
                                       "\xC3", "\xED\xA0\x80", "\xFF", "\xE2\x82"};
static const size_t fz_sizes[] = {0, 1, 125, 126, 1000, 65535, 65536, 70000};
static const unsigned fz_codes[] = {0, 1000, 1001, 1005, 1011, 1015, 3000, 4999};

static void fz_api_call(fz_conn *z, unsigned a)
{
    if (z->gone)
        return;
    ws6455_conn *c = z->c;
    static uint8_t big[70000];
    unsigned sel = a >> 3;
    int rc;
    switch (a & 7u) {
    case 0: {
        const char *s = fz_texts[sel & 7u];
        (void)ws6455_send_text(c, s, strlen(s));
        break;
    }
    case 1:
        (void)ws6455_send_binary(c, big, fz_sizes[sel & 7u]);
        break;
    case 2: {
        int op = (sel & 1u) ? WS6455_OP_CONTINUATION
                            : ((sel & 2u) ? WS6455_OP_TEXT : WS6455_OP_BINARY);
        const char *s = fz_texts[(sel >> 1) & 7u];
        (void)ws6455_send_fragment(c, op, s, strlen(s), (int)((sel >> 2) & 1u));
        break;
    }
    case 3:
        rc = ws6455_ping(c, big, sel * 5u);
        fz_allow(z, rc, sel * 5u);
        break;
    case 4:
        rc = ws6455_pong(c, big, sel * 5u);
        fz_allow(z, rc, sel * 5u);
        break;
    case 5: {
        unsigned code = fz_codes[sel & 7u];
        const char *why = (sel & 8u) && code ? "bye \xC3\xA9" : "";
        rc = ws6455_close(c, code, why, strlen(why));
        fz_allow(z, rc, 2 + strlen(why));
        break;
    }
    case 6:
        (void)ws6455_send_text(c, (const char *)big, fz_sizes[sel & 7u]);
        break;
    default:
        if ((sel & 3u) == 1) {
            /* a prepared message, copied or wrapped */
            ws6455_message *m;
            if (sel & 4u) {
                m = ws6455_message_wrap(NULL, WS6455_OP_BINARY, big, fz_sizes[(sel >> 3) & 7u],
                                        fz_release, z);
                if (m)
                    z->wraps++;
            } else {
                const char *s = fz_texts[(sel >> 3) & 7u];
                m = ws6455_message_new(NULL, WS6455_OP_TEXT, s, strlen(s));
                FZ_CHECK((m != NULL) == fz_utf8_ref_valid((const uint8_t *)s, strlen(s), NULL));
            }
            if (m) {
                rc = ws6455_send_message(c, m);
                ws6455_message_free(m);
                fz_after_call(z, rc);
            }
            break;
        }
        if ((sel & 3u) == 2 && (sel & 4u)) {
            rc = ws6455_conn_abort(c);
            fz_after_call(z, rc);
            if (!z->gone) {
                FZ_CHECK(ws6455_conn_should_close_socket(c));
                FZ_CHECK(ws6455_send_text(c, "x", 1) == WS6455_ERR_CLOSED);
            }
            break;
        }
        if ((sel & 3u) == 3) {
            z->use_iov = !z->use_iov;
            break;
        }
        (void)ws6455_conn_should_close_socket(c);
        (void)ws6455_conn_wants_read(c);
        (void)ws6455_conn_deadline(c);
        (void)ws6455_conn_subprotocol(c);
        (void)ws6455_conn_was_clean(c);
        if (z->role == WS6455_ROLE_CLIENT && ws6455_conn_response(c)) {
            const ws6455_response *r = ws6455_conn_response(c);
            size_t len;
            (void)ws6455_response_status(r);
            (void)ws6455_response_header(r, "Upgrade", &len);
        }
        break;
    }
}

static const char fz_request[] = "GET /chat HTTP/1.1\r\n"
                                 "Host: example.com\r\n"
                                 "Upgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                 "Sec-WebSocket-Protocol: chat, superchat\r\n"
                                 "Sec-WebSocket-Extensions: permessage-deflate; "
                                 "client_max_window_bits\r\n"
                                 "Sec-WebSocket-Version: 13\r\n\r\n";
/* The answer to the deterministic key (random bytes 00..0f). */
static const char fz_response[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                  "Upgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Accept: Bz3qJYTGdOe8gUSpLosEdiLKDrk=\r\n"
                                  "Sec-WebSocket-Protocol: chat\r\n\r\n";
/* The same, accepting the client's default permessage-deflate offer. */
static const char fz_response_deflate[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: Bz3qJYTGdOe8gUSpLosEdiLKDrk=\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover\r\n"
    "Sec-WebSocket-Protocol: chat\r\n\r\n";

static const size_t fz_msg_sizes[] = {0, 1, 16, 125, 126, 1000, 65536, 70000};
static const size_t fz_out_sizes[] = {0, 1, 64, 200, 1000, 4096, 65536, 100000};
static const uint64_t fz_ticks[] = {0, 1, 100, 1000, 5000, 10001, 60000, 1u << 30};

/* Runs one whole connection of `role` over the input. Returns 0; any broken
 * invariant aborts. */
static FZ_UNUSED int fz_conn_run(const uint8_t *data, size_t size, int role)
{
    fz_in in = {data, size};
    unsigned b0 = fz_u8(&in), b1 = fz_u8(&in), b2 = fz_u8(&in), b3 = fz_u8(&in),
             b4 = fz_u8(&in);
    const uint8_t *script;
    size_t k = fz_take(&in, fz_u8(&in), &script);

    static fz_conn zs;
    fz_conn *z = &zs;
    memset(z, 0, sizeof *z);
    z->role = role;
    z->cbmode = b3;
    /* byte 4: with the failing allocator, bits 0-6 which allocation fails
     * (1-based) and bit 7 permessage-deflate on; without it, bit 0
     * permessage-deflate on, bit 1/2 context takeover asked for by the
     * server/client side, bit 3 compress every message (min_size 0), bits
     * 4-5 the window bits asked for (15, 12, 9, 8) */
    int deflate = (b0 & 0x80u) ? (b4 & 0x80u) != 0 : (b4 & 1u) != 0;
    if (b0 & 0x80u)
        z->mem.fail_at = (b4 & 0x7Fu) ? (b4 & 0x7Fu) : 1;
    ws6455_allocator alloc;
    fz_mem_allocator(&z->mem, &alloc);

    ws6455_config *cfg = &z->cfg;
    ws6455_config_init(cfg, role);
    cfg->allocator = &alloc;
    cfg->flags = b0 & 0x0Fu;
    unsigned hs = (b0 >> 4) & 3u;
    if (hs == 0)
        cfg->flags |= WS6455_SKIP_HANDSHAKE;
    if (b0 & 0x40u) {
        cfg->max_message_size = fz_msg_sizes[b1 & 7u];
        cfg->max_frame_size = fz_msg_sizes[(b1 >> 3) & 7u];
        cfg->max_output_buffer = fz_out_sizes[b2 & 7u];
        cfg->max_handshake_size = 512u << (b1 >> 6);
        cfg->max_handshake_headers = 8u + (b1 >> 6) * 8u;
        cfg->max_handshake_line = 256u << (b1 >> 6);
    }
    if (b2 & 0x08u) {
        cfg->ping_interval_ms = 1000;
        cfg->ping_timeout_ms = 500;
    }
    if (b2 & 0x10u || role == WS6455_ROLE_CLIENT) {
        cfg->subprotocols = fz_protocols;
        cfg->subprotocol_count = 2;
    }
    if (b2 & 0x20u)
        z->rand_fail_after = 20;
    if (role == WS6455_ROLE_CLIENT) {
        cfg->host = "example.com";
        cfg->target = "/chat";
        cfg->origin = "http://example.com";
    }
    if (deflate) {
        static const int bits[] = {15, 12, 9, 8};
        cfg->deflate.enabled = 1;
        if (!(b0 & 0x80u)) {
            cfg->deflate.server_no_context_takeover = !(b4 & 2u);
            cfg->deflate.client_no_context_takeover = !(b4 & 4u);
            if (b4 & 8u)
                cfg->deflate.min_size = 0;
            if (role == WS6455_ROLE_SERVER)
                cfg->deflate.server_max_window_bits = bits[(b4 >> 4) & 3u];
        }
    }

    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.random = fz_random;
    cb.on_output = fz_on_output;
    cb.on_drain = fz_on_drain;
    cb.on_request = fz_on_request;
    cb.on_open = fz_on_open;
    cb.on_message = fz_on_message;
    cb.on_fragment = fz_on_fragment;
    cb.on_ping = fz_on_ping;
    cb.on_pong = fz_on_pong;
    cb.on_close = fz_on_close;
    cb.on_error = fz_on_error;

    /* Through a context of its own, freed at once: the connection holds it. */
    int err = 1;
    const char *bad = "unset";
    ws6455_context *ctx = ws6455_context_new_err(cfg, &cb, &err, &bad);
    if (ctx) {
        FZ_CHECK(err == WS6455_OK && bad == NULL);
        z->c = ws6455_conn_new_in_err(ctx, z, &err);
        ws6455_context_free(ctx);
    }
    if (!z->c) {
        FZ_CHECK(err == WS6455_ERR_NOMEM || err == WS6455_ERR_RANDOM);
        FZ_CHECK(z->mem.live == 0);
        return 0;
    }
    FZ_CHECK(err == WS6455_OK);
    z->queue_nonempty = ws6455_conn_wants_write(z->c); /* a client's request: no on_output */
    fz_outchk_init(&z->out, role, hs == 0);
    z->last_state = ws6455_conn_state(z->c);
    if (b2 & 0x40u)
        fz_after_call(z, ws6455_conn_tick(z->c, z->now = 1000));

    /* The peer's bytes, with a valid handshake in front when asked. */
    /* A client that offered permessage-deflate gets it when its default
     * offer was made (the fixture answers that one). */
    int default_offer = deflate && ws6455_deflate_available() &&
                        cfg->deflate.server_no_context_takeover &&
                        cfg->deflate.client_no_context_takeover;
    const char *prefix = hs != 1                     ? ""
                         : role == WS6455_ROLE_SERVER ? fz_request
                         : default_offer              ? fz_response_deflate
                                                      : fz_response;
    size_t plen = strlen(prefix), total = plen + in.n;
    uint8_t *peer = malloc(total ? total : 1);
    FZ_CHECK(peer != NULL);
    memcpy(peer, prefix, plen);
    if (in.n)
        memcpy(peer + plen, in.p, in.n);

    unsigned policy = 0; /* drain after feeds: 0 all, 1 half, 2 nothing */
    size_t off = 0, step = 0, since_feed = 0;
    while (off < total && !z->gone && step < 100000) {
        unsigned s = k ? script[step % k] : 2u;
        unsigned a = s >> 3;
        step++;
        size_t want = 0;
        switch (s & 7u) {
        case 0:
            want = a + 1u;
            break;
        case 1:
            want = (a + 1u) * 37u;
            break;
        case 2:
            want = total - off;
            break;
        case 3:
            fz_drain(z, (a & 3u) == 0 ? SIZE_MAX
                        : (a & 3u) == 1 ? (a >> 2) + 1u
                        : (a & 3u) == 2 ? 0
                                        : (ws6455_conn_buffered_amount(z->c) + 1) / 2);
            break;
        case 4:
            fz_api_call(z, a);
            break;
        case 5:
            z->now += fz_ticks[a & 7u];
            z->allowance += WS6455_MAX_HEADER_SIZE; /* a keepalive ping */
            fz_after_call(z, ws6455_conn_tick(z->c, z->now));
            break;
        case 6:
            if (a == 0 && off > total / 2)
                fz_after_call(z, ws6455_conn_recv_eof(z->c));
            else
                policy = a % 3u;
            break;
        default:
            z->cbmode = a | (z->cbmode & 0xE0u);
            break;
        }
        /* A script that never feeds still gets through the input. */
        if (!want && ++since_feed > k + 1)
            want = total - off;
        if (want) {
            since_feed = 0;
            if (want > total - off)
                want = total - off;
            fz_feed(z, peer + off, want);
            off += want;
            if (policy == 0)
                fz_drain(z, SIZE_MAX);
            else if (policy == 1 && !z->gone)
                fz_drain(z, (ws6455_conn_buffered_amount(z->c) + 1) / 2);
        }
        fz_check(z);
    }
    free(peer);

    if (!z->gone) {
        /* Let timers run out, the stream end, and everything be sent. */
        if (b2 & 0x80u) {
            z->now += 100000;
            fz_after_call(z, ws6455_conn_tick(z->c, z->now));
            if (!z->gone)
                fz_after_call(z, ws6455_conn_recv_eof(z->c));
        }
        fz_check(z);
        fz_drain(z, SIZE_MAX);
        fz_check(z);
    }
    if (!z->gone) {
        ws6455_conn_free(z->c);
        z->gone = 1;
    }
    /* on_close exactly once for every connection that opened (and clients) */
    if (z->opened || z->role == WS6455_ROLE_CLIENT || (cfg->flags & WS6455_SKIP_HANDSHAKE))
        FZ_CHECK(z->closed);
    /* every wrapped message was released exactly once */
    FZ_CHECK(z->releases == z->wraps);
    fz_outchk_free(&z->out);
    /* Everything allocated was given back. */
    FZ_CHECK(z->mem.live == 0 && z->mem.live_blocks == 0);
    return 0;
}

#endif
