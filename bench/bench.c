/*
 * ws6455 against wslay: receive-side throughput, side by side in one run.
 *
 * Levels (see docs/performance.md):
 *  - codec:  ws6455_frame_decode + ws6455_mask (in place) against
 *            wslay_frame_recv, over the same masked client->server stream;
 *  - utf8:   ws6455_utf8_valid over 64 KiB of text (wslay's validator is
 *            internal to its event API; its cost shows in the engine rows);
 *  - engine: a server ws6455_conn (WS6455_SKIP_HANDSHAKE) fed 64 KiB chunks
 *            through ws6455_conn_recv, against a wslay server event context
 *            drained with wslay_event_recv. Both count messages in their
 *            message callback.
 *
 * Fairness: each stream is built once, masked, in a pristine "period" of
 * whole messages (4 MiB by default, cache-resident like a socket buffer)
 * that is repeated until the case's message count is reached. Neither
 * library ever sees the pristine bytes: both get them memcpy'd by the same
 * source_read() -- ws6455 into a 64 KiB chunk that it unmasks in place,
 * wslay into its own receive buffer through its recv callback. So both
 * pay one copy of every wire byte.
 *
 * Every case is first run once untimed with full verification (each
 * delivered payload compared with the plaintext it was built from), then
 * timed; every timed run checks the message count, payload byte total and
 * opcodes, and the program stops with a FAIL line at the first mismatch.
 */
/* clock_gettime(CLOCK_MONOTONIC): POSIX.1-2008, not C11. */
#define _POSIX_C_SOURCE 200809L
#include "ws6455.h"
#include "utf8_impl.h" /* --utf8: the validator's variants (internal) */

#include <wslay/wslay.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__)
/* The measured functions stay out of line so that callgrind's
 * --toggle-collect can select them by name (bench/callgrind.sh). */
#define BENCH_NOINLINE __attribute__((noinline))
#define BENCH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BENCH_NOINLINE
#define BENCH_PRINTF(f, a)
#endif

#ifndef BENCH_WSLAY_PKG
#define BENCH_WSLAY_PKG "unknown"
#endif

/* ------------------------------------------------------------ helpers */

static _Noreturn void die(const char *fmt, ...) BENCH_PRINTF(1, 2);
static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64*: deterministic stream contents, same on every run. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------ cases */

enum level { LEVEL_CODEC, LEVEL_UTF8, LEVEL_ENGINE, LEVEL_CODEC1, LEVEL_SEND };
/* How the send cases hand their messages to the library. */
enum variant {
    SEND_QUEUE,   /* ws6455_send_*: copied into the queue, drained to the sink;
                     wslay's event API (queue + send) */
    SEND_THROUGH, /* WS6455_WRITE_THROUGH: straight to a writev sink */
    SEND_REF,     /* ws6455_message_wrap + ws6455_send_message: by reference */
    SEND_FRAMEAPI /* wslay's frame API (wslay_frame_send) as the other side */
};
enum kind { KIND_BINARY, KIND_ASCII, KIND_MIXED };

typedef struct case_def {
    const char *name;
    int level;
    int kind;
    uint64_t msgs;  /* at --scale 1 */
    size_t msg_len; /* payload bytes per message */
    unsigned frags; /* frames per message */
    double target;  /* the project's ratio target, 0: none */
    const char *what;
    int variant;    /* enum variant (send cases) */
} case_def;

static const case_def cases[] = {
    {"codec-16", LEVEL_CODEC, KIND_BINARY, 1000000, 16, 1, 5, "masked binary frames", 0},
    {"codec-64k", LEVEL_CODEC, KIND_BINARY, 4096, 65536, 1, 10, "masked binary frames", 0},
    {"utf8-ascii", LEVEL_UTF8, KIND_ASCII, 4096, 65536, 1, 0, "texts, ASCII", 0},
    {"utf8-mixed", LEVEL_UTF8, KIND_MIXED, 4096, 65536, 1, 0, "texts, Cyrillic+emoji", 0},
    {"utf8-ascii16", LEVEL_UTF8, KIND_ASCII, 1000000, 16, 1, 0, "texts, ASCII", 0},
    {"engine-bin16", LEVEL_ENGINE, KIND_BINARY, 1000000, 16, 1, 6, "binary messages", 0},
    {"engine-bin64k", LEVEL_ENGINE, KIND_BINARY, 4096, 65536, 1, 10, "binary messages", 0},
    {"engine-text16", LEVEL_ENGINE, KIND_ASCII, 1000000, 16, 1, 0, "text messages, ASCII", 0},
    {"engine-text64k", LEVEL_ENGINE, KIND_ASCII, 4096, 65536, 1, 0, "text messages, ASCII", 0},
    {"engine-mixed64k", LEVEL_ENGINE, KIND_MIXED, 4096, 65536, 1, 10,
     "text messages, Cyrillic+emoji", 0},
    {"engine-frag64k", LEVEL_ENGINE, KIND_BINARY, 4096, 65536, 16, 0,
     "binary msgs in 16 fragments", 0},
    {"codec1-16", LEVEL_CODEC1, KIND_BINARY, 1000000, 16, 1, 0,
     "masked frames, one-call decode+unmask", 0},
    {"send-text16", LEVEL_SEND, KIND_ASCII, 1000000, 16, 1, 0, "text sends, queued", SEND_QUEUE},
    {"send-text16-f", LEVEL_SEND, KIND_ASCII, 1000000, 16, 1, 0,
     "text sends; wslay frame API", SEND_FRAMEAPI},
    {"send-bin64k", LEVEL_SEND, KIND_BINARY, 4096, 65536, 1, 0, "binary sends, queued",
     SEND_QUEUE},
    {"send-bin64k-wt", LEVEL_SEND, KIND_BINARY, 4096, 65536, 1, 0,
     "binary sends, write-through", SEND_THROUGH},
    {"send-bin64k-ref", LEVEL_SEND, KIND_BINARY, 4096, 65536, 1, 0,
     "binary sends by reference", SEND_REF},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ------------------------------------------------------------ payloads */

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Russian-looking prose: words of 2..9 Cyrillic letters (U+0430..U+044F,
 * capitalised after a full stop), separated by spaces, with an emoji
 * (U+1F300..U+1F64F, 4 bytes) after about one word in five and commas and
 * full stops now and then. Exactly `len` bytes, padded with spaces so that
 * it ends on a character boundary. */
static void make_mixed_text(uint8_t *buf, size_t len, uint64_t *rng)
{
    size_t i = 0;
    int capital = 1;
    for (;;) {
        uint8_t tmp[64];
        size_t k = 0;
        unsigned letters = 2 + (unsigned)(rng_next(rng) % 8);
        for (unsigned j = 0; j < letters; j++) {
            uint32_t cp = 0x430 + (uint32_t)(rng_next(rng) % 32);
            if (capital && j == 0)
                cp -= 0x20;
            k += put_utf8(tmp + k, cp);
        }
        capital = 0;
        unsigned r = (unsigned)(rng_next(rng) % 20);
        if (r < 4) {
            tmp[k++] = ' ';
            k += put_utf8(tmp + k, 0x1F300 + (uint32_t)(rng_next(rng) % 0x350));
        } else if (r < 6) {
            tmp[k++] = ',';
        } else if (r == 6) {
            tmp[k++] = '.';
            capital = 1;
        }
        tmp[k++] = ' ';
        if (i + k > len)
            break;
        memcpy(buf + i, tmp, k);
        i += k;
    }
    memset(buf + i, ' ', len - i);
}

/* ------------------------------------------------------------ streams */

/* Variants of the plaintext: message u of a period uses the payload at
 * pool + plain_off[u] (binary and ASCII; the mixed text has one variant). */
#define POOL_SLACK 4093u

typedef struct stream {
    const case_def *cd;
    uint64_t msgs;     /* messages in the stream */
    size_t msg_len;    /* payload bytes per message */
    int opcode;        /* WS6455_OP_TEXT or WS6455_OP_BINARY */
    size_t unit_len;   /* wire bytes per message (all its frames) */
    size_t units;      /* messages per period */
    uint8_t *period;   /* units * unit_len wire bytes, masked */
    size_t period_len;
    uint64_t total;    /* wire bytes of the whole stream */
    uint8_t *pool;     /* plaintexts */
    size_t *plain_off; /* per unit of the period */
} stream;

static size_t put_header(uint8_t *o, int fin, int opcode, uint64_t len, const uint8_t key[4])
{
    size_t i = 0;
    o[i++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        o[i++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        o[i++] = 0x80 | 126;
        o[i++] = (uint8_t)(len >> 8);
        o[i++] = (uint8_t)len;
    } else {
        o[i++] = 0x80 | 127;
        for (int b = 7; b >= 0; b--)
            o[i++] = (uint8_t)(len >> (8 * b));
    }
    memcpy(o + i, key, 4);
    return i + 4;
}

static size_t frag_len(const stream *s, unsigned f)
{
    unsigned n = s->cd->frags;
    size_t base = s->msg_len / n;
    return f + 1 == n ? s->msg_len - base * (n - 1) : base;
}

static stream *stream_make(const case_def *cd, double scale, size_t period_cap)
{
    stream *s = xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)cd->msg_len ^ ((uint64_t)cd->kind << 40);
    s->cd = cd;
    s->msgs = (uint64_t)((double)cd->msgs * scale + 0.5);
    if (s->msgs == 0)
        s->msgs = 1;
    s->msg_len = cd->msg_len;
    s->opcode = cd->kind == KIND_BINARY ? WS6455_OP_BINARY : WS6455_OP_TEXT;

    size_t pool_len = s->msg_len + (cd->kind == KIND_MIXED ? 0 : POOL_SLACK);
    s->pool = xmalloc(pool_len);
    if (cd->kind == KIND_MIXED) {
        make_mixed_text(s->pool, pool_len, &rng);
        if (!ws6455_utf8_valid(s->pool, pool_len))
            die("generated mixed text is not valid UTF-8");
    } else {
        for (size_t i = 0; i < pool_len; i++) {
            uint64_t r = rng_next(&rng);
            s->pool[i] = cd->kind == KIND_ASCII ? (uint8_t)(0x20 + r % 95) : (uint8_t)(r >> 24);
        }
    }

    s->unit_len = 0;
    for (unsigned f = 0; f < cd->frags; f++) {
        uint8_t hdr[WS6455_MAX_HEADER_SIZE];
        static const uint8_t zero[4];
        s->unit_len += put_header(hdr, 1, 0, frag_len(s, f), zero) + frag_len(s, f);
    }
    uint64_t units = period_cap / s->unit_len;
    if (units == 0)
        units = 1;
    if (units > s->msgs)
        units = s->msgs;
    s->units = (size_t)units;
    s->period_len = s->units * s->unit_len;
    s->total = s->msgs * (uint64_t)s->unit_len;
    s->period = xmalloc(s->period_len);
    s->plain_off = xmalloc(s->units * sizeof *s->plain_off);

    uint8_t *o = s->period;
    for (size_t u = 0; u < s->units; u++) {
        size_t off = cd->kind == KIND_MIXED ? 0 : (u * 61u) % POOL_SLACK;
        const uint8_t *plain = s->pool + off;
        s->plain_off[u] = off;
        for (unsigned f = 0; f < cd->frags; f++) {
            uint8_t key[4];
            uint64_t r = rng_next(&rng);
            memcpy(key, &r, 4);
            size_t n = frag_len(s, f);
            o += put_header(o, f + 1 == cd->frags, f ? WS6455_OP_CONTINUATION : s->opcode, n, key);
            for (size_t i = 0; i < n; i++)
                o[i] = plain[i] ^ key[i & 3];
            o += n;
            plain += n;
        }
    }
    if ((size_t)(o - s->period) != s->period_len)
        die("stream layout");
    return s;
}

static void stream_free(stream *s)
{
    free(s->period);
    free(s->pool);
    free(s->plain_off);
    free(s);
}

/* The copy both libraries get their input through. */
typedef struct source {
    const stream *s;
    size_t pos;    /* in the period */
    uint64_t left; /* wire bytes still to deliver */
} source;

static void source_init(source *r, const stream *s)
{
    r->s = s;
    r->pos = 0;
    r->left = s->total;
}

static size_t source_read(source *r, uint8_t *buf, size_t cap)
{
    size_t n = r->left < cap ? (size_t)r->left : cap;
    size_t done = 0;
    while (done < n) {
        size_t k = r->s->period_len - r->pos;
        if (k > n - done)
            k = n - done;
        memcpy(buf + done, r->s->period + r->pos, k);
        done += k;
        r->pos += k;
        if (r->pos == r->s->period_len)
            r->pos = 0;
    }
    r->left -= n;
    return n;
}

/* ------------------------------------------------------------ the sink */

/* What both libraries hand their output to: the same code for both. */
typedef struct sink {
    const stream *s;
    int verify;      /* compare every payload byte with its plaintext */
    uint64_t msgs;   /* messages (codec: frames) completed */
    uint64_t bytes;  /* payload bytes delivered */
    uint64_t errors; /* wrong opcode, length or content */
    uint64_t extra;  /* library-specific anomalies (output produced...) */
} sink;

static const uint8_t *expected_payload(const sink *k)
{
    return k->s->pool + k->s->plain_off[k->msgs % k->s->units];
}

/* A piece of a frame's payload at offset `off` (codec level). */
static inline void sink_piece(sink *k, const uint8_t *p, size_t n, uint64_t off)
{
    k->bytes += n;
    if (k->verify && n && memcmp(p, expected_payload(k) + off, n) != 0)
        k->errors++;
}

/* A whole message (engine level). */
static inline void sink_message(sink *k, int opcode, const uint8_t *p, size_t n)
{
    if (opcode != k->s->opcode || n != k->s->msg_len)
        k->errors++;
    else if (k->verify && memcmp(p, expected_payload(k), n) != 0)
        k->errors++;
    k->msgs++;
    k->bytes += n;
}

/* ------------------------------------------------------------ codec */

#define CHUNK_CAP ((size_t)65536)
static size_t g_chunk = CHUNK_CAP; /* ws6455 feed size (--chunk) */
static int g_utf8_variant = -1;    /* --utf8: forced validator variant, -1: the library's choice */
static uint8_t *g_chunk_buf;

BENCH_NOINLINE void measure_codec_ws6455(sink *k);
BENCH_NOINLINE void measure_codec_ws6455(sink *k)
{
    const stream *s = k->s;
    source src;
    source_init(&src, s);
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, WS6455_ROLE_SERVER, 0, 0);
    ws6455_frame_header h;
    memset(&h, 0, sizeof h);
    uint64_t left = 0, off = 0;
    int in_payload = 0;
    size_t n;
    while ((n = source_read(&src, g_chunk_buf, g_chunk)) > 0) {
        uint8_t *p = g_chunk_buf;
        while (n) {
            if (!in_payload) {
                size_t used;
                int rc = ws6455_frame_decode(&d, p, n, &used, &h);
                p += used;
                n -= used;
                if (rc == 0)
                    break;
                if (rc < 0)
                    die("ws6455_frame_decode: %s", ws6455_errname(rc));
                if (h.opcode != s->opcode || h.payload_len != s->msg_len)
                    k->errors++;
                left = h.payload_len;
                off = 0;
                in_payload = 1;
            }
            /* The payload, or as much of it as this chunk holds: straight
             * after its header, so a frame within one chunk takes one pass. */
            size_t take = left < n ? (size_t)left : n;
            ws6455_mask(p, p, take, h.mask, off);
            sink_piece(k, p, take, off);
            p += take;
            n -= take;
            off += take;
            left -= take;
            if (left == 0) {
                k->msgs++;
                in_payload = 0;
            }
        }
    }
    if (in_payload || ws6455_frame_decoder_needed(&d) != 2)
        die("ws6455 codec: stream ended inside a frame");
}

static ssize_t wslay_frame_recv_cb(uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    size_t n = source_read(user, buf, len);
    return n ? (ssize_t)n : -1; /* -1: WSLAY_ERR_WANT_READ */
}

static ssize_t wslay_frame_send_cb(const uint8_t *data, size_t len, int flags, void *user)
{
    (void)data, (void)len, (void)flags, (void)user;
    return -1; /* never called when only receiving */
}

static int wslay_frame_genmask_cb(uint8_t *buf, size_t len, void *user)
{
    (void)user;
    memset(buf, 0, len);
    return 0;
}

BENCH_NOINLINE void measure_codec_wslay(sink *k);
BENCH_NOINLINE void measure_codec_wslay(sink *k)
{
    const stream *s = k->s;
    source src;
    source_init(&src, s);
    struct wslay_frame_callbacks cb = {wslay_frame_send_cb, wslay_frame_recv_cb,
                                       wslay_frame_genmask_cb};
    wslay_frame_context_ptr ctx;
    if (wslay_frame_context_init(&ctx, &cb, &src) != 0)
        die("wslay_frame_context_init");
    struct wslay_frame_iocb iocb;
    uint64_t off = 0;
    for (;;) {
        ssize_t r = wslay_frame_recv(ctx, &iocb);
        if (r < 0) {
            if (r == WSLAY_ERR_WANT_READ && src.left == 0)
                break;
            if (r == WSLAY_ERR_WANT_READ)
                continue;
            die("wslay_frame_recv: %zd", r);
        }
        if (off == 0 && (iocb.opcode != s->opcode || iocb.payload_length != s->msg_len ||
                         !iocb.mask))
            k->errors++;
        sink_piece(k, iocb.data, iocb.data_length, off);
        off += iocb.data_length;
        if (off == iocb.payload_length) {
            k->msgs++;
            off = 0;
        }
    }
    if (off != 0)
        die("wslay codec: stream ended inside a frame");
    wslay_frame_context_free(ctx);
}

/* ------------------------------------------------------------ UTF-8 */

BENCH_NOINLINE void measure_utf8_ws6455(sink *k);
BENCH_NOINLINE void measure_utf8_ws6455(sink *k)
{
    const stream *s = k->s;
    for (uint64_t m = 0; m < s->msgs; m++) {
        const uint8_t *p = expected_payload(k);
        if (g_utf8_variant < 0) {
            if (!ws6455_utf8_valid(p, s->msg_len))
                k->errors++;
        } else {
            ws6455_utf8 v;
            ws6455_utf8_init(&v);
            if (ws6455__utf8_update_variant(&v, p, s->msg_len, NULL, g_utf8_variant) != 0 ||
                ws6455_utf8_finish(&v) != 0)
                k->errors++;
        }
        k->msgs++;
        k->bytes += s->msg_len;
    }
}

/* ------------------------------------------------------------ engine */

static void ws_on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    (void)c;
    sink_message(user, opcode, data, len);
}

static void ws_on_error(ws6455_conn *c, int err, void *user)
{
    (void)c;
    die("ws6455 engine failed the connection: %s (after %llu messages)", ws6455_errname(err),
        (unsigned long long)((sink *)user)->msgs);
}

BENCH_NOINLINE void measure_engine_ws6455(sink *k);
BENCH_NOINLINE void measure_engine_ws6455(sink *k)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags |= WS6455_SKIP_HANDSHAKE;
    ws6455_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.on_message = ws_on_message;
    cb.on_error = ws_on_error;
    int err = 0;
    ws6455_conn *c = ws6455_conn_new_err(&cfg, &cb, k, &err, NULL);
    if (!c)
        die("ws6455_conn_new: %s", ws6455_errname(err));
    source src;
    source_init(&src, k->s);
    size_t n;
    while ((n = source_read(&src, g_chunk_buf, g_chunk)) > 0) {
        int rc = ws6455_conn_recv(c, g_chunk_buf, n, NULL);
        if (rc != WS6455_OK)
            die("ws6455_conn_recv: %s", ws6455_errname(rc));
    }
    const uint8_t *out;
    if (ws6455_conn_pending(c, &out) != 0)
        k->extra++;
    if (ws6455_conn_state(c) != WS6455_STATE_OPEN)
        k->extra++;
    ws6455_conn_free(c);
}

typedef struct wslay_user {
    source src;
    sink *k;
} wslay_user;

static ssize_t wslay_ev_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                                void *user)
{
    (void)flags;
    size_t n = source_read(&((wslay_user *)user)->src, buf, len);
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return (ssize_t)n;
}

static ssize_t wslay_ev_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                                int flags, void *user)
{
    (void)data, (void)len, (void)flags;
    ((wslay_user *)user)->k->extra++; /* nothing should ever be sent */
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static void wslay_ev_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                            void *user)
{
    (void)ctx;
    sink_message(((wslay_user *)user)->k, arg->opcode, arg->msg, arg->msg_length);
}

BENCH_NOINLINE void measure_engine_wslay(sink *k);
BENCH_NOINLINE void measure_engine_wslay(sink *k)
{
    wslay_user u;
    source_init(&u.src, k->s);
    u.k = k;
    struct wslay_event_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.recv_callback = wslay_ev_recv_cb;
    cb.send_callback = wslay_ev_send_cb;
    cb.on_msg_recv_callback = wslay_ev_msg_cb;
    wslay_event_context_ptr ctx;
    if (wslay_event_context_server_init(&ctx, &cb, &u) != 0)
        die("wslay_event_context_server_init");
    while (u.src.left > 0) {
        uint64_t before = u.src.left;
        int rc = wslay_event_recv(ctx);
        if (rc != 0)
            die("wslay_event_recv: %d", rc);
        if (!wslay_event_get_read_enabled(ctx))
            die("wslay stopped reading (protocol error?) after %llu messages",
                (unsigned long long)k->msgs);
        if (u.src.left == before)
            die("wslay_event_recv made no progress");
    }
    if (wslay_event_want_write(ctx))
        k->extra++; /* it queued something (a close after an error) */
    wslay_event_context_free(ctx);
}

/* ------------------------------------------------------------ codec, one call */

/* ws6455_frame_decode_unmask over the same stream: whole frames are taken
 * from the chunk; a frame cut by the chunk's end is moved to the front and
 * completed by the next read, as a caller with one input buffer does. */
BENCH_NOINLINE void measure_codec1_ws6455(sink *k);
BENCH_NOINLINE void measure_codec1_ws6455(sink *k)
{
    const stream *s = k->s;
    source src;
    source_init(&src, s);
    size_t have = 0;
    for (;;) {
        size_t n = source_read(&src, g_chunk_buf + have, g_chunk - have);
        if (n == 0 && have == 0)
            break;
        have += n;
        uint8_t *p = g_chunk_buf;
        for (;;) {
            ws6455_frame_header h;
            uint8_t *payload;
            uint64_t size;
            int rc = ws6455_frame_decode_unmask(p, have, WS6455_ROLE_SERVER, 0, 0, &h, &payload,
                                                &size);
            if (rc < 0)
                die("ws6455_frame_decode_unmask: %s", ws6455_errname(rc));
            if (rc == 0)
                break;
            if (h.opcode != s->opcode || h.payload_len != s->msg_len)
                k->errors++;
            sink_piece(k, payload, (size_t)h.payload_len, 0);
            k->msgs++;
            p += size;
            have -= (size_t)size;
        }
        if (n == 0)
            die("ws6455 codec1: stream ended inside a frame");
        memmove(g_chunk_buf, p, have);
    }
}

/* ------------------------------------------------------------ send */

/* Where sent bytes go: a ring the size of a socket buffer (the in-memory
 * sink: one copy of every wire byte, for both libraries), and, on the
 * verification run, an independent parser of the server frames that
 * checks every payload against the plaintext it was sent from. */
#define SINK_RING ((size_t)1 << 20)
static uint8_t *g_ring;

typedef struct out_sink {
    sink *k;
    size_t ring;   /* position in g_ring */
    uint64_t wire; /* bytes taken */
    /* verification: the frame being parsed */
    uint8_t hdr[10];
    unsigned hlen, hneed;
    uint64_t left;
    size_t got;
    uint8_t *msg;
    int opcode;
} out_sink;

static void out_frame_done(out_sink *o)
{
    sink_message(o->k, o->opcode, o->msg, o->got);
    o->hlen = o->hneed = 0;
    o->got = 0;
}

static void out_verify(out_sink *o, const uint8_t *p, size_t n)
{
    while (n) {
        if (o->hneed == 0 || o->hlen < o->hneed) {
            o->hdr[o->hlen++] = *p++;
            n--;
            if (o->hlen == 2) {
                unsigned l7 = o->hdr[1] & 0x7Fu;
                if ((o->hdr[0] & 0xF0u) != 0x80u || (o->hdr[1] & 0x80u))
                    o->k->errors++; /* not FIN, or masked: not a server message */
                o->opcode = o->hdr[0] & 0x0F;
                o->hneed = l7 < 126 ? 2 : l7 == 126 ? 4 : 10;
            }
            if (o->hneed && o->hlen == o->hneed) {
                uint64_t len = o->hdr[1] & 0x7Fu;
                if (o->hneed == 4)
                    len = (uint64_t)o->hdr[2] << 8 | o->hdr[3];
                else if (o->hneed == 10)
                    for (int i = 2; i < 10; i++)
                        len = (i == 2 ? 0 : len << 8) | o->hdr[i];
                if (len > o->k->s->msg_len)
                    die("send: frame of %llu bytes", (unsigned long long)len);
                o->left = len;
                if (len == 0)
                    out_frame_done(o);
            }
            continue;
        }
        size_t take = o->left < n ? (size_t)o->left : n;
        memcpy(o->msg + o->got, p, take);
        o->got += take;
        o->left -= take;
        p += take;
        n -= take;
        if (o->left == 0)
            out_frame_done(o);
    }
}

static inline void out_take(out_sink *o, const uint8_t *p, size_t n)
{
    o->wire += n;
    if (o->k->verify) {
        out_verify(o, p, n);
        return;
    }
    while (n) {
        size_t c = SINK_RING - o->ring < n ? SINK_RING - o->ring : n;
        memcpy(g_ring + o->ring, p, c);
        o->ring = (o->ring + c) & (SINK_RING - 1);
        p += c;
        n -= c;
    }
}

static void out_init(out_sink *o, sink *k)
{
    memset(o, 0, sizeof *o);
    o->k = k;
    if (k->verify)
        o->msg = xmalloc(k->s->msg_len);
}

/* Every message accounted: on the timed runs by the sender, with the wire
 * total checked against what the messages' frames must add up to. */
static void out_finish(out_sink *o, uint64_t sent)
{
    const stream *s = o->k->s;
    size_t hdr = s->msg_len < 126 ? 2 : s->msg_len <= 0xFFFF ? 4 : 10;
    if (o->wire != sent * (hdr + s->msg_len))
        o->k->errors++;
    if (!o->k->verify) {
        o->k->msgs = sent;
        o->k->bytes = sent * s->msg_len;
    }
    free(o->msg);
}

static ptrdiff_t out_writev(void *user, const ws6455_iovec *iov, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        out_take(user, iov[i].base, iov[i].len);
        n += iov[i].len;
    }
    return (ptrdiff_t)n;
}

/* Takes everything queued, a gather at a time, as a writev loop would. */
static void ws_drain(ws6455_conn *c, out_sink *o)
{
    ws6455_iovec iov[16];
    size_t total, count;
    while ((count = ws6455_conn_pending_iov(c, iov, 16, &total)) > 0) {
        out_writev(o, iov, count);
        ws6455_conn_consume(c, total);
    }
}

BENCH_NOINLINE void measure_send_ws6455(sink *k);
BENCH_NOINLINE void measure_send_ws6455(sink *k)
{
    const stream *s = k->s;
    int variant = s->cd->variant;
    out_sink o;
    out_init(&o, k);
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags |= WS6455_SKIP_HANDSHAKE | (variant == SEND_THROUGH ? WS6455_WRITE_THROUGH : 0);
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.writev = out_writev;
    int err = 0;
    ws6455_conn *c = ws6455_conn_new_err(&cfg, &cb, &o, &err, NULL);
    if (!c)
        die("ws6455_conn_new: %s", ws6455_errname(err));
    /* Drain about every 16 KiB of output, as a socket write would. One
     * loop per way of sending, so the harness adds little per message. */
    uint64_t batch = 16384 / (s->msg_len + 2) + 1, until_drain = batch;
    size_t unit = 0, len = s->msg_len;
    const uint8_t *pool = s->pool;
    const size_t *offs = s->plain_off;
    int rc = WS6455_OK;
    /* SEND(call): the loop for one way of sending, `payload` the message. */
#define SEND(call)                                                                                 \
    for (uint64_t m = 0; m < s->msgs && rc == WS6455_OK; m++) {                                    \
        const uint8_t *payload = pool + offs[unit];                                                \
        if (++unit == s->units)                                                                    \
            unit = 0;                                                                              \
        call;                                                                                      \
        if (--until_drain == 0) {                                                                  \
            ws_drain(c, &o);                                                                       \
            until_drain = batch;                                                                   \
        }                                                                                          \
    }
    if (variant == SEND_REF) {
        SEND(ws6455_message *msg = ws6455_message_wrap(NULL, s->opcode, payload, len, NULL, NULL);
             rc = msg ? ws6455_send_message(c, msg) : WS6455_ERR_NOMEM; ws6455_message_free(msg))
    } else if (s->opcode == WS6455_OP_TEXT) {
        SEND(rc = ws6455_send_text(c, (const char *)payload, len))
    } else {
        SEND(rc = ws6455_send_binary(c, payload, len))
    }
#undef SEND
    if (rc != WS6455_OK)
        die("ws6455 send: %s", ws6455_errname(rc));
    ws_drain(c, &o);
    ws6455_conn_free(c);
    out_finish(&o, s->msgs);
}

static ssize_t wslay_out_ev_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                               int flags, void *user)
{
    (void)ctx, (void)flags;
    out_take(user, data, len);
    return (ssize_t)len;
}

static ssize_t wslay_out_frame_cb(const uint8_t *data, size_t len, int flags, void *user)
{
    (void)flags;
    out_take(user, data, len);
    return (ssize_t)len;
}

BENCH_NOINLINE void measure_send_wslay(sink *k);
BENCH_NOINLINE void measure_send_wslay(sink *k)
{
    const stream *s = k->s;
    out_sink o;
    out_init(&o, k);
    uint64_t batch = 16384 / (s->msg_len + 2) + 1;
    if (s->cd->variant == SEND_FRAMEAPI) {
        struct wslay_frame_callbacks cb = {wslay_out_frame_cb, wslay_frame_recv_cb,
                                           wslay_frame_genmask_cb};
        wslay_frame_context_ptr ctx;
        if (wslay_frame_context_init(&ctx, &cb, &o) != 0)
            die("wslay_frame_context_init");
        size_t unit = 0;
        for (uint64_t m = 0; m < s->msgs; m++) {
            struct wslay_frame_iocb io;
            memset(&io, 0, sizeof io);
            io.fin = 1;
            io.opcode = (uint8_t)s->opcode;
            io.payload_length = s->msg_len;
            io.data = s->pool + s->plain_off[unit];
            if (++unit == s->units)
                unit = 0;
            io.data_length = s->msg_len;
            if (wslay_frame_send(ctx, &io) != (ssize_t)s->msg_len)
                die("wslay_frame_send");
        }
        wslay_frame_context_free(ctx);
    } else {
        struct wslay_event_callbacks cb;
        memset(&cb, 0, sizeof cb);
        cb.recv_callback = wslay_ev_recv_cb;
        cb.send_callback = wslay_out_ev_cb;
        wslay_event_context_ptr ctx;
        if (wslay_event_context_server_init(&ctx, &cb, &o) != 0)
            die("wslay_event_context_server_init");
        uint64_t until_send = batch;
        size_t unit = 0;
        for (uint64_t m = 0; m < s->msgs; m++) {
            struct wslay_event_msg msg = {(uint8_t)s->opcode, s->pool + s->plain_off[unit],
                                          s->msg_len};
            if (++unit == s->units)
                unit = 0;
            if (wslay_event_queue_msg(ctx, &msg) != 0)
                die("wslay_event_queue_msg");
            if (--until_send == 0) {
                if (wslay_event_send(ctx) != 0)
                    die("wslay_event_send");
                until_send = batch;
            }
        }
        if (wslay_event_send(ctx) != 0)
            die("wslay_event_send");
        wslay_event_context_free(ctx);
    }
    out_finish(&o, s->msgs);
}

/* ------------------------------------------------------------ running */

enum lib { LIB_WS6455, LIB_WSLAY };
static const char *const lib_names[] = {"ws6455", "wslay"};

typedef void (*measure_fn)(sink *k);

static measure_fn measure_for(const case_def *cd, int lib)
{
    switch (cd->level) {
    case LEVEL_CODEC:
        return lib == LIB_WS6455 ? measure_codec_ws6455 : measure_codec_wslay;
    case LEVEL_UTF8:
        return lib == LIB_WS6455 ? measure_utf8_ws6455 : NULL;
    case LEVEL_CODEC1:
        return lib == LIB_WS6455 ? measure_codec1_ws6455 : measure_codec_wslay;
    case LEVEL_SEND:
        if (cd->variant == SEND_THROUGH || cd->variant == SEND_REF)
            return lib == LIB_WS6455 ? measure_send_ws6455 : NULL; /* wslay has no such mode */
        return lib == LIB_WS6455 ? measure_send_ws6455 : measure_send_wslay;
    default:
        return lib == LIB_WS6455 ? measure_engine_ws6455 : measure_engine_wslay;
    }
}

/* One run; checks everything and returns the seconds it took. */
static double run_once(const stream *s, int lib, int verify)
{
    sink k;
    memset(&k, 0, sizeof k);
    k.s = s;
    k.verify = verify;
    measure_fn fn = measure_for(s->cd, lib);
    double t0 = now_seconds();
    fn(&k);
    double t = now_seconds() - t0;
    uint64_t want_bytes = s->msgs * (uint64_t)s->msg_len;
    if (k.msgs != s->msgs || k.bytes != want_bytes || k.errors || k.extra)
        die("%s %s: got %llu messages / %llu payload bytes, expected %llu / %llu; "
            "%llu bad payloads, %llu anomalies%s",
            s->cd->name, lib_names[lib], (unsigned long long)k.msgs,
            (unsigned long long)k.bytes, (unsigned long long)s->msgs,
            (unsigned long long)want_bytes, (unsigned long long)k.errors,
            (unsigned long long)k.extra, verify ? " (verification run)" : "");
    return t;
}

typedef struct result {
    int have[2];
    double best[2]; /* seconds */
    uint64_t msgs, bytes, wire;
} result;

typedef struct options {
    double scale;
    int reps;
    int verify;
    int libs; /* bit per enum lib */
    int machine;
    size_t period;
    int selected[NCASES];
} options;

static void run_case(const case_def *cd, const options *o, result *res)
{
    stream *s = stream_make(cd, o->scale, o->period);
    memset(res, 0, sizeof *res);
    res->msgs = s->msgs;
    res->bytes = s->msgs * (uint64_t)s->msg_len;
    res->wire = s->total;
    int libs[2], nlibs = 0;
    for (int lib = 0; lib < 2; lib++)
        if ((o->libs >> lib & 1) && measure_for(cd, lib))
            libs[nlibs++] = lib;
    /* The verification run doubles as a warm-up. */
    if (o->verify)
        for (int i = 0; i < nlibs; i++)
            run_once(s, libs[i], 1);
    /* Interleaved, so that a noisy moment hits both libraries alike. */
    for (int r = 0; r < o->reps; r++) {
        for (int i = 0; i < nlibs; i++) {
            int lib = (r & 1) ? libs[nlibs - 1 - i] : libs[i];
            double t = run_once(s, lib, 0);
            if (!res->have[lib] || t < res->best[lib])
                res->best[lib] = t;
            res->have[lib] = 1;
        }
    }
    if (o->machine)
        for (int i = 0; i < nlibs; i++)
            printf("RESULT case=%s lib=%s msgs=%llu frames=%llu bytes=%llu wire=%llu "
                   "best_s=%.6f\n",
                   cd->name, lib_names[libs[i]], (unsigned long long)res->msgs,
                   (unsigned long long)(res->msgs * cd->frags), (unsigned long long)res->bytes,
                   (unsigned long long)res->wire, res->best[libs[i]]);
    stream_free(s);
}

/* The floor both libraries stand on: source_read() alone, 64 KiB chunks. */
BENCH_NOINLINE void measure_copy(const stream *s);
BENCH_NOINLINE void measure_copy(const stream *s)
{
    source src;
    source_init(&src, s);
    while (source_read(&src, g_chunk_buf, g_chunk) > 0) {
    }
}

static size_t case_index(const char *name)
{
    for (size_t i = 0; i < NCASES; i++)
        if (strcmp(cases[i].name, name) == 0)
            return i;
    die("no case %s", name);
}

static double copy_rate(const options *o)
{
    stream *s = stream_make(&cases[case_index("codec-64k")], o->scale, o->period);
    double best = 0;
    for (int r = 0; r < o->reps; r++) {
        double t0 = now_seconds();
        measure_copy(s);
        double t = now_seconds() - t0;
        if (r == 0 || t < best)
            best = t;
    }
    double rate = (double)s->total / best / 1e6;
    stream_free(s);
    return rate;
}

/* ------------------------------------------------------------ report */

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += 1 + (v[1] == ' ');
                v[strcspn(v, "\n")] = '\0';
                snprintf(out, cap, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

static void print_header(const options *o)
{
    char date[64], cpu[128];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M %Z", localtime(&t));
    cpu_model(cpu, sizeof cpu);
#if defined(__clang__)
    const char *cc = "clang " __clang_version__;
#elif defined(__GNUC__)
    const char *cc = "gcc " __VERSION__;
#else
    const char *cc = "unknown compiler";
#endif
    printf("ws6455 %s vs wslay %s (libwslay package; header says %s) -- %s\n", ws6455_version(),
           BENCH_WSLAY_PKG, WSLAY_VERSION, date);
    printf("%s, %ld online CPUs; bench and ws6455 built with %s -O2\n", cpu,
           sysconf(_SC_NPROCESSORS_ONLN), cc);
    printf("best of %d runs (CLOCK_MONOTONIC), scale %g, stream period %zu KiB, ws6455 fed %zu "
           "KiB chunks\n",
           o->reps, o->scale, o->period >> 10, g_chunk >> 10);
    printf("MB/s = 10^6 payload bytes (not header bytes) per second; ratio = ws6455 / wslay "
           "throughput\n");
}

static void fmt_rate(char *out, size_t cap, double v)
{
    if (v >= 1e6)
        snprintf(out, cap, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(out, cap, "%.1fk", v / 1e3);
    else
        snprintf(out, cap, "%.0f", v);
}

static void print_section(const char *title, const char *unit)
{
    printf("\n%s\n", title);
    printf("%-16s %-44s %9s %9s  %9s %9s  %7s  %s\n", "case", "workload", "ws6455", unit, "wslay",
           unit, "ratio", "target");
    printf("%-16s %-44s %9s %9s  %9s %9s  %7s\n", "", "", "MB/s", "", "MB/s", "", "");
}

static int print_row(const case_def *cd, const result *r)
{
    char work[128], a[32], b[32], ra[32], rb[32], ratio[32], target[48];
    char size[32];
    if (cd->msg_len >= 1024)
        snprintf(size, sizeof size, "%zu KiB", cd->msg_len >> 10);
    else
        snprintf(size, sizeof size, "%zu B", cd->msg_len);
    snprintf(work, sizeof work, "%llu x %s %s", (unsigned long long)r->msgs, size, cd->what);
    snprintf(a, sizeof a, "-");
    snprintf(b, sizeof b, "-");
    snprintf(ra, sizeof ra, "-");
    snprintf(rb, sizeof rb, "-");
    snprintf(ratio, sizeof ratio, "-");
    target[0] = '\0';
    int missed = 0;
    if (r->have[0]) {
        snprintf(a, sizeof a, "%.1f", (double)r->bytes / r->best[0] / 1e6);
        fmt_rate(ra, sizeof ra, (double)r->msgs / r->best[0]);
    }
    if (r->have[1]) {
        snprintf(b, sizeof b, "%.1f", (double)r->bytes / r->best[1] / 1e6);
        fmt_rate(rb, sizeof rb, (double)r->msgs / r->best[1]);
    } else if (cd->level == LEVEL_UTF8) {
        snprintf(b, sizeof b, "n/a");
    }
    if (r->have[0] && r->have[1]) {
        double x = r->best[1] / r->best[0];
        snprintf(ratio, sizeof ratio, "%.2fx", x);
        if (cd->target > 0) {
            missed = x < cd->target;
            snprintf(target, sizeof target, ">=%gx %s", cd->target, missed ? "MISSED" : "met");
        }
    }
    printf("%-16s %-44s %9s %9s  %9s %9s  %7s  %s\n", cd->name, work, a, ra, b, rb, ratio, target);
    return missed;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ws6455-bench [options]\n"
            "  --case NAME[,NAME...]  run these cases only; NAME may end in * (default: all)\n"
            "  --lib ws6455|wslay|both  which library to measure (default both)\n"
            "  --scale F              multiply every case's message count by F (default 1)\n"
            "  --reps N               timed runs per library, best kept (default 5)\n"
            "  --period-kib N         size of the repeated stream segment (default 4096)\n"
            "  --chunk N              bytes per ws6455 feed (default 65536)\n"
            "  --no-verify            skip the untimed full-content verification run\n"
            "  --utf8 VARIANT         utf8 cases: force the validator's variant (scalar, sse2,\n"
            "                         ssse3, avx2, neon; default: the library's choice)\n"
            "  --machine              print RESULT lines instead of the table\n"
            "  --list                 list the cases\n");
}

static int select_cases(options *o, const char *arg)
{
    const char *p = arg;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (size_t i = 0; i < NCASES; i++) {
            if (strlen(cases[i].name) == len && strncmp(cases[i].name, p, len) == 0) {
                o->selected[i] = 1;
                found = 1;
            } else if (len > 0 && p[len - 1] == '*' && strncmp(cases[i].name, p, len - 1) == 0) {
                o->selected[i] = 1;
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "unknown case '%.*s' (see --list)\n", (int)len, p);
            return -1;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static double parse_number(const char *opt, const char *v, double min)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || errno || *end || end == v || x < min) {
        fprintf(stderr, "%s needs a number >= %g\n", opt, min);
        exit(2);
    }
    return x;
}

int main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    o.scale = 1;
    o.reps = 5;
    o.verify = 1;
    o.libs = 3;
    o.period = (size_t)4 << 20;
    int any_selected = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--case") == 0 && v) {
            if (select_cases(&o, v) < 0)
                return 2;
            any_selected = 1;
            i++;
        } else if (strcmp(a, "--lib") == 0 && v) {
            o.libs = strcmp(v, "ws6455") == 0 ? 1 : strcmp(v, "wslay") == 0 ? 2 : 3;
            if (o.libs == 3 && strcmp(v, "both") != 0) {
                usage(stderr);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--scale") == 0) {
            o.scale = parse_number(a, v, 1e-9);
            i++;
        } else if (strcmp(a, "--reps") == 0) {
            o.reps = (int)parse_number(a, v, 1);
            i++;
        } else if (strcmp(a, "--period-kib") == 0) {
            o.period = (size_t)parse_number(a, v, 1) << 10;
            i++;
        } else if (strcmp(a, "--chunk") == 0) {
            g_chunk = (size_t)parse_number(a, v, 1);
            i++;
        } else if (strcmp(a, "--utf8") == 0 && v) {
            for (int u = 0; u < WS6455__UTF8_VARIANTS; u++)
                if (strcmp(v, ws6455__utf8_variant_name(u)) == 0)
                    g_utf8_variant = u;
            if (g_utf8_variant < 0 || !ws6455__utf8_variant_available(g_utf8_variant)) {
                fprintf(stderr, "--utf8 %s: no such variant on this machine\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--no-verify") == 0) {
            o.verify = 0;
        } else if (strcmp(a, "--machine") == 0) {
            o.machine = 1;
        } else if (strcmp(a, "--list") == 0) {
            for (size_t c = 0; c < NCASES; c++)
                printf("%-16s %llu x %zu B %s\n", cases[c].name,
                       (unsigned long long)cases[c].msgs, cases[c].msg_len, cases[c].what);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!any_selected)
        for (size_t c = 0; c < NCASES; c++)
            o.selected[c] = 1;
    g_chunk_buf = xmalloc(g_chunk);
    g_ring = xmalloc(SINK_RING);

    if (!o.machine)
        print_header(&o);
    result res[NCASES];
    memset(res, 0, sizeof res);
    int missed = 0, printed_level = -1;
    static const char *const titles[] = {
        "Codec level (issue 2): frame header decode + in-place unmask vs wslay_frame_recv",
        "UTF-8 validation (issue 2c): texts validated from cache",
        "Engine level (issue 4): ws6455_conn_recv (64 KiB chunks) vs wslay_event_recv"};
    static const char *const units[] = {"frames/s", "texts/s", "msgs/s"};
    for (size_t c = 0; c < NCASES; c++) {
        if (!o.selected[c])
            continue;
        run_case(&cases[c], &o, &res[c]);
        if (o.machine)
            continue;
        if (cases[c].level != printed_level) {
            printed_level = cases[c].level;
            print_section(titles[printed_level], units[printed_level]);
        }
        missed += print_row(&cases[c], &res[c]);
        fflush(stdout);
    }
    if (!o.machine) {
        /* What the UTF-8 check costs inside each engine: same frames, text
         * instead of binary, so the difference is (mostly) validation. */
        size_t ib = case_index("engine-bin64k");
        size_t it[2] = {case_index("engine-text64k"), case_index("engine-mixed64k")};
        const result *bin = &res[ib];
        if (bin->have[0] && bin->have[1] &&
            ((res[it[0]].have[0] && res[it[0]].have[1]) ||
             (res[it[1]].have[0] && res[it[1]].have[1]))) {
            printf("\nUTF-8 cost inside each engine (text minus binary, 64 KiB messages; noisy "
                   "when small; see make bench-callgrind):\n");
            const result *t[2] = {&res[it[0]], &res[it[1]]};
            const char *nm[2] = {"ASCII", "Cyrillic+emoji"};
            for (int i = 0; i < 2; i++) {
                if (!t[i]->have[0] || !t[i]->have[1])
                    continue;
                double d0 = (t[i]->best[0] - bin->best[0]) / (double)t[i]->bytes * 1e9;
                double d1 = (t[i]->best[1] - bin->best[1]) / (double)t[i]->bytes * 1e9;
                printf("  %-15s ws6455 %+.3f ns/byte   wslay %+.3f ns/byte", nm[i], d0, d1);
                if (d0 > 0 && d1 > 0)
                    printf("   (as validator MB/s: ws6455 %.0f, wslay %.0f)", 1e3 / d0, 1e3 / d1);
                printf("\n");
            }
        }
        printf("\nreference: source memcpy alone (what both sides pay per wire byte): %.0f MB/s\n",
               copy_rate(&o));
        if (missed)
            printf("%d ratio target(s) missed -- see docs/performance.md for the profile\n",
                   missed);
        else
            printf("all ratio targets met\n");
    }
    free(g_chunk_buf);
    return 0;
}
