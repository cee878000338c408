/* The send API: data and control frames, masking by role, backpressure,
 * prepared messages, and handing out pending output. The queueing itself
 * is in core.c. */
#include "core.h"

#include "frame.h"
#include "mask.h"
#include "pmd.h"

#include <string.h>

/* Whether anything more may be sent: nothing after our close, the peer's
 * close, a failure, an abort. */
static int can_send(const ws6455_conn *c)
{
    if (c->state == WS6455_STATE_CONNECTING)
        return WS6455_ERR_INVALID_STATE;
    if (c->state != WS6455_STATE_OPEN || c->close_sent || c->close_received || c->error)
        return WS6455_ERR_CLOSED;
    return WS6455_OK;
}

/* ------------------------------------------------------------ write-through */

/* WS6455_WRITE_THROUGH: outside any callback of this connection, with
 * nothing queued, a server frame goes straight to the socket through the
 * writev (or write) callback; only what the socket does not take is
 * queued. The client role masks, which needs a copy anyway. */
static int may_write_through(const ws6455_conn *c)
{
#if defined(WS6455_NO_CALLBACK_IO)
    (void)c;
    return 0; /* no write callbacks in this build: the path below folds away */
#else
    const ws6455_context *ctx = c->ctx;
    return (ctx->cfg.flags & WS6455_WRITE_THROUGH) && c->out.len == 0 && c->in_callback == 0 &&
           !WS6455__IS_CLIENT(&ctx->cfg) && (ctx->cb.writev || ctx->cb.write);
#endif
}

/* Writes head+payload; returns bytes written (0 when it would block), or
 * WS6455_ERR_IO. */
static ptrdiff_t write_direct(ws6455_conn *c, const uint8_t *head, size_t hlen, const uint8_t *p,
                              size_t n)
{
    const ws6455_callbacks *cb = &c->ctx->cb;
    ptrdiff_t w;
    if (cb->writev) {
        ws6455_iovec iov[2] = {{head, hlen}, {p, n}};
        w = cb->writev(c->user, iov, n ? 2 : 1);
    } else {
        /* Without a gather write, the header alone would go out as its own
         * packet: write it only when the payload follows in this call. */
        w = cb->write(c->user, head, hlen);
        if (w == (ptrdiff_t)hlen && n) {
            ptrdiff_t w2 = cb->write(c->user, p, n);
            if (w2 > 0)
                w += w2;
            else if (w2 != WS6455_IO_WOULD_BLOCK && w2 != 0)
                return WS6455_ERR_IO;
        }
    }
    if (w == WS6455_IO_WOULD_BLOCK || w == 0)
        return 0;
    if (w < 0 || (size_t)w > hlen + n)
        return WS6455_ERR_IO;
    return w;
}

/* A whole unmasked data frame, written through as far as the socket takes
 * it, the rest queued. */
static int send_through(ws6455_conn *c, int opcode, int fin, const uint8_t *p, size_t n)
{
    uint8_t head[WS6455_MAX_HEADER_SIZE];
    ws6455_frame_header h = {n, (uint8_t)(fin ? 1 : 0), 0, (uint8_t)opcode, 0, {0, 0, 0, 0}};
    size_t hlen = ws6455__frame_header_write(head, &h);
    ptrdiff_t w = write_direct(c, head, hlen, p, n);
    if (w < 0) {
        /* The socket is broken: as if the peer ended the stream. */
        return WS6455_ERR_IO;
    }
    size_t done = (size_t)w;
    int rc = WS6455_OK;
    if (done < hlen)
        rc = ws6455__queue_raw(c, head + done, hlen - done, 1);
    if (rc == WS6455_OK && done < hlen + n) {
        size_t from = done > hlen ? done - hlen : 0;
        int was_empty = c->out.len == 0;
        rc = ws6455__outq_append(&c->out, c->ctx, p + from, n - from);
        if (rc == WS6455_OK)
            ws6455__output_added(c, was_empty);
    }
    return rc;
}

/* Queues (or writes through) one data frame. */
static int send_data_frame(ws6455_conn *c, int opcode, int fin, const uint8_t *p, size_t n)
{
    if (may_write_through(c)) {
        size_t hlen = ws6455_frame_header_size(n, 0);
        if (n > c->ctx->cfg.max_output_buffer - hlen || hlen > c->ctx->cfg.max_output_buffer)
            return WS6455_ERR_TOO_BIG_TO_SEND;
        return send_through(c, opcode, fin, p, n);
    }
    return ws6455__queue_frame(c, opcode, fin, p, n);
}

/* ------------------------------------------------------------ compression */

/* The most a DEFLATE stream of n bytes can take (stored blocks, the sync
 * flush): the room a compressed send is judged by, before compressing, so
 * that a refused send leaves the compressor untouched. */
static size_t deflate_bound(size_t n)
{
    return n > SIZE_MAX / 2 ? SIZE_MAX : n + (n >> 10) + 64;
}

/* One frame of a message: compressed when permessage-deflate applies (the
 * message's first frame decides, and carries RSV1), else as it is.
 * `starting`: the first frame of a message. */
static int send_data(ws6455_conn *c, int opcode, int starting, int fin, const uint8_t *p,
                     size_t n, unsigned flags)
{
    int compress = starting ? ws6455__pmd_should_compress(c, n, flags)
                            : ws6455__pmd_tx_compressed(c);
    if (!compress) {
        int rc = send_data_frame(c, opcode, fin, p, n);
        if (rc == WS6455_OK && starting)
            ws6455__pmd_set_tx_compressed(c, 0);
        return rc;
    }
    size_t bound = deflate_bound(n), max = c->ctx->cfg.max_output_buffer;
    if (bound > max)
        return WS6455_ERR_TOO_BIG_TO_SEND;
    if (c->out.len > max - bound)
        return WS6455_ERR_WOULD_EXCEED_LIMIT;
    const uint8_t *z;
    size_t zn;
    int rc = ws6455__pmd_deflate(c, p, n, fin, &z, &zn);
    if (rc == WS6455_OK)
        rc = ws6455__queue_frame_rsv(c, opcode, starting ? WS6455_RSV1 : 0, fin, z, zn);
    if (rc == WS6455_OK)
        ws6455__pmd_set_tx_compressed(c, !fin);
    return rc;
}

/* ------------------------------------------------------------ API */

#if defined(__GNUC__)
#define WS6455__NOINLINE __attribute__((noinline))
#else
#define WS6455__NOINLINE
#endif

/* The general path of send_text and send_binary (out of line: the fast
 * path in front of it then needs no stack frame). */
WS6455__NOINLINE static int send_message(ws6455_conn *c, int opcode, const void *p, size_t n,
                                         unsigned flags)
{
    if (!c || (!p && n))
        return WS6455_ERR_INVALID_ARGUMENT;
    int rc = can_send(c);
    if (rc < 0)
        return rc;
    if (c->tx_frag_opcode)
        return WS6455_ERR_INVALID_STATE;
    if (opcode == WS6455_OP_TEXT && !ws6455_utf8_valid(p, n))
        return WS6455_ERR_UTF8;
    rc = send_data(c, opcode, 1, 1, p, n, flags);
    return ws6455__leave(c, rc);
}

/* The common send, fused: a server's small single-frame message (<= 125
 * bytes) while OPEN, written straight into the free room of the queue's
 * tail chunk — no header struct, no encoder, no allocation, no callback
 * (the queue is already non-empty, so on_output is not due). Anything else
 * — an empty queue, a full tail, the backpressure limit, the client role
 * (masking), write-through, non-ASCII text (validated on the general path)
 * — goes the general way, which also gives the exact error. Returns the
 * room the frame went to, or NULL when it was not queued. */
static inline uint8_t *send_small(ws6455_conn *c, size_t n)
{
    /* tx_fast_limit folds in the role, write-through and compression. */
    if (n >= c->tx_fast_limit || c->state != WS6455_STATE_OPEN || c->tx_frag_opcode)
        return NULL;
    ws6455__chunk *t = c->out.tail;
    size_t total = n + 2;
    if (!t || t->cap - t->len < total || c->out.len + total > c->ctx->cfg.max_output_buffer)
        return NULL;
    return t->bytes + t->len;
}

/* Commits what send_small made room for. */
static inline void send_small_commit(ws6455_conn *c, uint8_t *d, unsigned b0, size_t n)
{
    d[0] = (uint8_t)b0;
    d[1] = (uint8_t)n;
    c->out.tail->len += n + 2;
    c->out.len += n + 2;
}

int ws6455_send_text(ws6455_conn *c, const char *s, size_t n)
{
    uint8_t *d;
    /* ASCII is valid UTF-8; other text is validated on the general path
     * (the bytes copied into the uncommitted room are then ignored). */
    if (WS6455__FAST_PATHS && c && s && (d = send_small(c, n)) != NULL &&
        !ws6455__copy_small_high(d + 2, (const uint8_t *)s, n)) {
        send_small_commit(c, d, 0x81, n);
        return WS6455_OK;
    }
    return send_message(c, WS6455_OP_TEXT, s, n, 0);
}

int ws6455_send_binary(ws6455_conn *c, const void *p, size_t n)
{
    uint8_t *d;
    if (WS6455__FAST_PATHS && c && p && (d = send_small(c, n)) != NULL) {
        ws6455__copy_small(d + 2, p, n);
        send_small_commit(c, d, 0x82, n);
        return WS6455_OK;
    }
    return send_message(c, WS6455_OP_BINARY, p, n, 0);
}

int ws6455_send_ex(ws6455_conn *c, int opcode, const void *p, size_t n, int fin, unsigned flags)
{
    if (!c || (!p && n))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (opcode != WS6455_OP_TEXT && opcode != WS6455_OP_BINARY &&
        opcode != WS6455_OP_CONTINUATION)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (fin && opcode != WS6455_OP_CONTINUATION && !c->tx_frag_opcode)
        return send_message(c, opcode, p, n, flags); /* a whole message */
    int rc = can_send(c);
    if (rc < 0)
        return rc;
    int starting = opcode != WS6455_OP_CONTINUATION;
    if (starting == (c->tx_frag_opcode != 0))
        return WS6455_ERR_INVALID_STATE;
    int kind = starting ? opcode : c->tx_frag_opcode;
    ws6455_utf8 v = c->tx_utf8;
    if (starting)
        ws6455_utf8_init(&v);
    if (kind == WS6455_OP_TEXT &&
        (ws6455_utf8_update(&v, p, n, NULL) < 0 || (fin && ws6455_utf8_finish(&v) < 0)))
        return WS6455_ERR_UTF8;
    rc = send_data(c, opcode, starting, fin, p, n, flags);
    if (rc == WS6455_OK) {
        c->tx_utf8 = v;
        c->tx_frag_opcode = fin ? 0 : (uint8_t)kind;
    }
    /* A refused piece changed nothing: the caller may retry it. */
    return ws6455__leave(c, rc);
}

int ws6455_send_fragment(ws6455_conn *c, int opcode, const void *p, size_t n, int fin)
{
    return ws6455_send_ex(c, opcode, p, n, fin, 0);
}

static int send_control(ws6455_conn *c, int opcode, const void *p, size_t n)
{
    if (!c || (!p && n) || n > WS6455_MAX_CONTROL_PAYLOAD)
        return WS6455_ERR_INVALID_ARGUMENT;
    int rc = can_send(c);
    if (rc < 0)
        return rc;
    return ws6455__leave(c, ws6455__queue_frame(c, opcode, 1, p, n));
}

int ws6455_ping(ws6455_conn *c, const void *p, size_t n)
{
    return send_control(c, WS6455_OP_PING, p, n);
}

int ws6455_pong(ws6455_conn *c, const void *p, size_t n)
{
    return send_control(c, WS6455_OP_PONG, p, n);
}

int ws6455_close(ws6455_conn *c, unsigned code, const char *reason, size_t n)
{
    if (!c || (!reason && n) || n > WS6455_MAX_CONTROL_PAYLOAD - 2 || (code == 0 && n))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (code && !ws6455_close_code_valid(code))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (n && !ws6455_utf8_valid((const uint8_t *)reason, n))
        return WS6455_ERR_UTF8;
    if (c->state == WS6455_STATE_CONNECTING)
        return WS6455_ERR_INVALID_STATE;
    /* Open: we start the handshake. After the peer's close with the
     * automatic reply off: this is our answer. */
    int answering = c->close_received && !c->close_sent && c->state == WS6455_STATE_CLOSING;
    if (c->error || c->close_sent || (c->state != WS6455_STATE_OPEN && !answering))
        return WS6455_ERR_CLOSED;
    int rc = ws6455__queue_close(c, code, reason, n);
    if (rc == WS6455_OK) {
        if (answering) {
            ws6455__enter_closed(c, 0);
        } else {
            c->state = WS6455_STATE_CLOSING;
            c->stamp = c->now;
        }
    }
    return ws6455__leave(c, rc);
}

int ws6455_send_message(ws6455_conn *c, ws6455_message *m)
{
    return ws6455_send_message_ex(c, m, 0);
}

int ws6455_send_message_ex(ws6455_conn *c, ws6455_message *m, unsigned flags)
{
    if (!c || !m)
        return WS6455_ERR_INVALID_ARGUMENT;
    int rc = can_send(c);
    if (rc < 0)
        return rc;
    if (c->tx_frag_opcode)
        return WS6455_ERR_INVALID_STATE;
    if (WS6455__IS_CLIENT(WS6455__CFG(c)) || may_write_through(c) ||
        ws6455__pmd_should_compress(c, m->payload_len, flags)) {
        /* A client masks with a fresh key, and a compressed frame is the
         * connection's own: the payload is copied. */
        rc = send_data(c, m->opcode, 1, 1, m->payload, m->payload_len, flags);
        return ws6455__leave(c, rc);
    }
    size_t total = ws6455__message_frame_len(m);
    size_t max = c->ctx->cfg.max_output_buffer;
    if (total > max)
        return WS6455_ERR_TOO_BIG_TO_SEND;
    if (c->out.len > max - total)
        return WS6455_ERR_WOULD_EXCEED_LIMIT;
    int was_empty = c->out.len == 0;
    rc = ws6455__outq_push_message(&c->out, c->ctx, m);
    if (rc == WS6455_OK)
        ws6455__output_added(c, was_empty);
    return ws6455__leave(c, rc);
}

/* ------------------------------------------------------------ output */

size_t ws6455_conn_pending(ws6455_conn *c, const uint8_t **out)
{
    return ws6455__outq_peek(&c->out, out);
}

size_t ws6455_conn_pending_iov(ws6455_conn *c, ws6455_iovec *iov, size_t max, size_t *total)
{
    if (!c || (!iov && max)) {
        if (total)
            *total = 0;
        return 0;
    }
    return ws6455__outq_peek_iov(&c->out, iov, max, total);
}

int ws6455_conn_consume(ws6455_conn *c, size_t n)
{
    if (!c)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    ws6455__output_consumed(c, n);
    return ws6455__leave(c, WS6455_OK);
}

size_t ws6455_conn_buffered_amount(const ws6455_conn *c)
{
    return c->out.len + (c->aux && c->aux->pong_pending ? 2u + c->aux->pong_len : 0u);
}

int ws6455_conn_should_close_socket(const ws6455_conn *c)
{
    return c->state == WS6455_STATE_CLOSED && c->out.len == 0;
}
