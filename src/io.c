/* Callback I/O: the same engine, driven by the caller's read and write
 * callbacks when its event loop says the socket is ready. Only loops
 * ws6455_conn_recv / the output queue; reads go into the context's shared
 * buffer, a bounded amount per call. WS6455_NO_CALLBACK_IO leaves it out
 * (wants_read / wants_write serve sans-I/O loops too and stay). */
#include "core.h"

/* Pieces gathered into one writev call. */
#define IOV_MAX_PIECES 16

#if !defined(WS6455_NO_CALLBACK_IO) /* else sans-I/O alone: the rest of the file */

/* Writes pending output until done, would-block or error. */
static int flush(ws6455_conn *c)
{
    const ws6455_callbacks *cb = &c->ctx->cb;
    while (c->out.len && !c->free_requested) {
        ptrdiff_t w;
        size_t n;
        if (cb->writev) {
            ws6455_iovec iov[IOV_MAX_PIECES];
            size_t count = ws6455__outq_peek_iov(&c->out, iov, IOV_MAX_PIECES, &n);
            w = cb->writev(c->user, iov, count);
        } else if (cb->write) {
            const uint8_t *p;
            n = ws6455__outq_peek(&c->out, &p);
            w = cb->write(c->user, p, n);
        } else {
            return WS6455_ERR_INVALID_STATE;
        }
        if (w == WS6455_IO_WOULD_BLOCK || w == 0)
            return WS6455_OK;
        if (w < 0 || (size_t)w > n)
            return WS6455_ERR_IO;
        ws6455__output_consumed(c, (size_t)w);
    }
    return WS6455_OK;
}

int ws6455_conn_on_writable(ws6455_conn *c)
{
    if (!c)
        return WS6455_ERR_INVALID_ARGUMENT;
    if ((!c->ctx->cb.write && !c->ctx->cb.writev) || c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    int rc = flush(c);
    return ws6455__leave(c, rc);
}

/* One read into the shared buffer, fed to the engine. Returns the bytes
 * read (> 0), 0 when the read would block, or a negative code: end of
 * stream is READ_EOF. */
#define READ_EOF (-1000)

static ptrdiff_t read_once(ws6455_conn *c, uint8_t *buf, size_t cap)
{
    ptrdiff_t r = c->ctx->cb.read(c->user, buf, cap);
    if (r == WS6455_IO_WOULD_BLOCK)
        return 0;
    if (r == 0)
        return READ_EOF;
    if (r < 0 || (size_t)r > cap)
        return WS6455_ERR_IO;
    return r;
}

/* The reading loop; returns WS6455_ERR_CLOSED when a callback freed the
 * connection (which must then not be touched). */
static int read_loop(ws6455_conn *c, ws6455_context *ctx, int *more)
{
    size_t cap = ctx->cfg.read_buffer_size;
    int short_drains = (ctx->cfg.flags & WS6455_SHORT_READ_DRAINED) != 0;
    size_t budget = ctx->cfg.read_budget;
    int rc = WS6455_OK;
    while (ws6455_conn_wants_read(c)) {
        if (budget == 0) {
            *more = 1;
            break;
        }
        size_t want = cap < budget ? cap : budget;
        ptrdiff_t r = read_once(c, ctx->rbuf, want);
        if (r == 0)
            break;
        if (r == READ_EOF)
            return ws6455_conn_recv_eof(c);
        if (r < 0) {
            /* A broken socket is an abnormal end of stream (1006). */
            return ws6455_conn_recv_eof(c) == WS6455_ERR_CLOSED ? WS6455_ERR_CLOSED
                                                               : WS6455_ERR_IO;
        }
        budget -= (size_t)r;
        rc = ws6455_conn_recv(c, ctx->rbuf, (size_t)r, NULL);
        if (rc == WS6455_ERR_CLOSED)
            return rc; /* freed from a callback */
        if ((size_t)r < want && short_drains)
            break;
    }
    return rc;
}

int ws6455_conn_on_readable(ws6455_conn *c)
{
    if (!c)
        return WS6455_ERR_INVALID_ARGUMENT;
    ws6455_context *ctx = c->ctx;
    if (!ctx->cb.read || (!ctx->cb.write && !ctx->cb.writev) || c->in_callback || ctx->reading)
        return WS6455_ERR_INVALID_STATE;
    if (!ctx->rbuf) {
        ctx->rbuf = ws6455__alloc(&ctx->alloc, ctx->cfg.read_buffer_size);
        if (!ctx->rbuf)
            return WS6455_ERR_NOMEM;
    }
    /* The buffer is the context's: no other connection of it may read
     * while this one's events run (they may point into it). A callback may
     * free this connection, and with it the context's last other reference:
     * hold one until we are done with the context. */
    int more = 0;
    ws6455__context_ref(ctx);
    ctx->reading = 1;
    int rc = read_loop(c, ctx, &more);
    ctx->reading = 0;
    ws6455__context_unref(ctx);
    if (rc == WS6455_ERR_CLOSED)
        return rc;
    /* Everything this event produced goes out in one flush. */
    int wrc = ws6455__leave(c, flush(c));
    if (wrc < 0)
        return wrc;
    if (rc < 0)
        return rc; /* a violation, I/O, or the stream ended without a close (1006) */
    if (c->error && c->error != WS6455_ERR_ABNORMAL_CLOSURE)
        return c->error;
    return more && ws6455_conn_wants_read(c) ? WS6455_MORE : WS6455_OK;
}

#endif

int ws6455_conn_wants_write(const ws6455_conn *c)
{
    return c->out.len > 0;
}

int ws6455_conn_wants_read(const ws6455_conn *c)
{
    return c->state != WS6455_STATE_CLOSED && !c->eof;
}
