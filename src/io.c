/* Callback I/O: the same engine, driven by the caller's read and write
 * callbacks when its event loop says the socket is ready. Only loops
 * ws6455_conn_recv / ws6455_conn_pending / ws6455_conn_consume. */
#include "conn.h"

/* Writes pending output until done, would-block or error. */
static int flush(ws6455_conn *c)
{
    for (;;) {
        const uint8_t *p;
        size_t n = ws6455_conn_pending(c, &p);
        if (n == 0)
            return WS6455_OK;
        ptrdiff_t w = c->cb.write(c->user, p, n);
        if (w == WS6455_IO_WOULD_BLOCK || w == 0)
            return WS6455_OK;
        if (w < 0 || (size_t)w > n)
            return WS6455_ERR_IO;
        ws6455_conn_consume(c, (size_t)w);
    }
}

int ws6455_conn_on_writable(ws6455_conn *c)
{
    if (!c->cb.write)
        return WS6455_ERR_INVALID_STATE;
    return flush(c);
}

int ws6455_conn_on_readable(ws6455_conn *c)
{
    if (!c->cb.read || !c->cb.write || c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (!c->rbuf) {
        c->rbuf = ws6455__alloc(&c->alloc, c->cfg.read_buffer_size);
        if (!c->rbuf)
            return WS6455_ERR_NOMEM;
    }
    int rc = WS6455_OK;
    /* Read until the socket would block, as edge-triggered loops require. */
    while (ws6455_conn_wants_read(c)) {
        ptrdiff_t r = c->cb.read(c->user, c->rbuf, c->cfg.read_buffer_size);
        if (r == WS6455_IO_WOULD_BLOCK)
            break;
        if (r == 0) {
            rc = ws6455_conn_recv_eof(c);
            break;
        }
        if (r < 0 || (size_t)r > c->cfg.read_buffer_size) {
            /* A broken socket is an abnormal end of stream (1006). */
            ws6455_conn_recv_eof(c);
            return WS6455_ERR_IO;
        }
        rc = ws6455_conn_recv(c, c->rbuf, (size_t)r, NULL);
        if (rc == WS6455_ERR_CLOSED)
            return rc; /* freed from a callback */
    }
    if (rc == WS6455_ERR_CLOSED)
        return rc;
    int wrc = flush(c);
    return wrc < 0 ? wrc : (c->error && c->error != WS6455_ERR_ABNORMAL_CLOSURE ? c->error : rc);
}

int ws6455_conn_wants_write(const ws6455_conn *c)
{
    return c->out.len > 0;
}

int ws6455_conn_wants_read(const ws6455_conn *c)
{
    return c->state != WS6455_STATE_CLOSED && !c->eof;
}
