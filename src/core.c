/* The primitives the engine's parts share: callbacks and exits, the aux
 * block, queueing frames (with the loop contract's on_output/on_drain),
 * failing and closing. */
#include "core.h"

#include "frame.h"
#include "pmd.h"

#include <string.h>

/* ------------------------------------------------------------ exits */

void ws6455__notify_close(ws6455_conn *c, int code, const char *reason, size_t len)
{
    if (c->close_notified || !(c->opened || WS6455__IS_CLIENT(WS6455__CFG(c))))
        return;
    c->close_notified = 1;
    WS6455__EMIT(c, on_close, code, reason ? reason : "", len);
}

void ws6455__destroy(ws6455_conn *c)
{
    ws6455_context *ctx = c->ctx;
    ws6455__outq_clear(&c->out, ctx);
    if (c->aux) {
        ws6455__hs_server_free(c->aux->hss);
#if !defined(WS6455_NO_CLIENT)
        ws6455__hs_client_free(c->aux->hsc);
#endif
        ws6455__free(&ctx->alloc, c->aux);
    }
    ws6455__pmd_free(c);
    if (c->subprotocol_owned)
        ws6455__free(&ctx->alloc, (void *)(uintptr_t)c->subprotocol);
    ws6455__context_give_spare(ctx, c->msg_data, c->msg_cap);
    ws6455__free(&ctx->alloc, c);
    ws6455__context_unref(ctx);
}

int ws6455__leave(ws6455_conn *c, int rc)
{
    if (c->free_requested && c->in_callback == 0) {
        ws6455_conn_free(c);
        return WS6455_ERR_CLOSED;
    }
    return rc;
}

/* ------------------------------------------------------------ aux */

ws6455__aux *ws6455__aux_get(ws6455_conn *c)
{
    if (!c->aux) {
        c->aux = ws6455__alloc(&c->ctx->alloc, sizeof *c->aux);
        if (c->aux)
            memset(c->aux, 0, sizeof *c->aux);
    }
    return c->aux;
}

void ws6455__aux_trim(ws6455_conn *c)
{
    ws6455__aux *x = c->aux;
    if (x && !x->hss && !x->hsc && !x->ctrl_len && !x->pong_pending) {
        ws6455__free(&c->ctx->alloc, x);
        c->aux = NULL;
    }
}

/* ------------------------------------------------------------ output */

void ws6455__output_added(ws6455_conn *c, int was_empty)
{
    if (was_empty && c->out.len && !c->consuming)
        WS6455__EMIT0(c, on_output);
}

/* Room for a data frame of `total` bytes under max_output_buffer. */
static int data_fits(const ws6455_conn *c, size_t total)
{
    size_t max = c->ctx->cfg.max_output_buffer;
    if (total > max)
        return WS6455_ERR_TOO_BIG_TO_SEND;
    if (c->out.len > max - total)
        return WS6455_ERR_WOULD_EXCEED_LIMIT;
    return WS6455_OK;
}

int ws6455__queue_frame(ws6455_conn *c, int opcode, int fin, const uint8_t *p, size_t n)
{
    return ws6455__queue_frame_rsv(c, opcode, 0, fin, p, n);
}

int ws6455__queue_frame_rsv(ws6455_conn *c, int opcode, unsigned rsv, int fin, const uint8_t *p,
                            size_t n)
{
    int masked = WS6455__IS_CLIENT(WS6455__CFG(c));
    size_t hlen = ws6455_frame_header_size(n, masked);
    if (n > SIZE_MAX - hlen)
        return WS6455_ERR_TOO_BIG_TO_SEND;
    size_t total = hlen + n;
    if (opcode < 0x8) {
        int rc = data_fits(c, total);
        if (rc < 0)
            return rc;
    }
    ws6455_frame_header h = {n, (uint8_t)(fin ? 1 : 0), (uint8_t)rsv, (uint8_t)opcode,
                             (uint8_t)masked, {0, 0, 0, 0}};
    if (masked) {
        int rc = ws6455__context_random(c->ctx, c->user, h.mask, 4);
        if (rc < 0)
            return rc;
    }
    if (ws6455__outq_ensure(&c->out, c->ctx, total) < 0)
        return WS6455_ERR_NOMEM;
    uint8_t head[WS6455_MAX_HEADER_SIZE];
    ws6455__frame_header_write(head, &h);
    int was_empty = c->out.len == 0;
    ws6455__outq_put(&c->out, head, hlen, NULL, 0);
    ws6455__outq_put(&c->out, p, n, masked ? h.mask : NULL, 0);
    ws6455__outq_settle(&c->out, c->ctx);
    ws6455__output_added(c, was_empty);
    return WS6455_OK;
}

int ws6455__queue_raw(ws6455_conn *c, const uint8_t *p, size_t n, int notify)
{
    int was_empty = c->out.len == 0;
    int rc = ws6455__outq_append(&c->out, c->ctx, p, n);
    if (rc == WS6455_OK && notify)
        ws6455__output_added(c, was_empty);
    return rc;
}

int ws6455__queue_close(ws6455_conn *c, unsigned code, const char *reason, size_t n)
{
    uint8_t payload[WS6455_MAX_CONTROL_PAYLOAD];
    size_t len = 0;
    if (code) {
        if (n > WS6455_MAX_CONTROL_PAYLOAD - 2)
            n = WS6455_MAX_CONTROL_PAYLOAD - 2;
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        if (n)
            memcpy(payload + 2, reason, n);
        len = 2 + n;
    }
    int rc = ws6455__queue_frame(c, WS6455_OP_CLOSE, 1, payload, len);
    if (rc == WS6455_OK) {
        c->close_sent = 1;
        c->stamp = c->now;
    }
    return rc;
}

/* Whether a pong of n bytes fits under the backpressure limit. */
static int pong_fits(const ws6455_conn *c, size_t n)
{
    return c->out.len + WS6455_MAX_HEADER_SIZE + n <= c->ctx->cfg.max_output_buffer;
}

/* A pong beyond the backpressure limit is kept aside, not queued: a peer
 * that floods pings and never reads cannot grow our memory. Only the latest
 * is kept, which RFC 6455 5.5.3 allows. */
int ws6455__queue_pong(ws6455_conn *c, const uint8_t *p, size_t n)
{
    if (pong_fits(c, n) && !(c->aux && c->aux->pong_pending))
        return ws6455__queue_frame(c, WS6455_OP_PONG, 1, p, n);
    ws6455__aux *x = ws6455__aux_get(c);
    if (!x)
        return WS6455_ERR_NOMEM;
    x->pong_pending = 1;
    x->pong_len = (uint8_t)n;
    if (n)
        memcpy(x->pong, p, n);
    return WS6455_OK;
}

/* Moves a kept pong into the queue once there is room. */
static void flush_kept_pong(ws6455_conn *c)
{
    ws6455__aux *x = c->aux;
    if (!x || !x->pong_pending || c->close_sent || !pong_fits(c, x->pong_len))
        return;
    if (ws6455__queue_frame(c, WS6455_OP_PONG, 1, x->pong, x->pong_len) == WS6455_OK) {
        x->pong_pending = 0;
        ws6455__aux_trim(c);
    }
}

void ws6455__output_consumed(ws6455_conn *c, size_t n)
{
    if (n > c->out.len)
        n = c->out.len;
    if (n == 0)
        return;
    ws6455__outq_consume(&c->out, c->ctx, n);
    /* A pong kept back moves in now; to the caller the queue did not go
     * empty, so neither on_drain nor on_output. */
    c->consuming = 1;
    flush_kept_pong(c);
    c->consuming = 0;
    if (c->out.len == 0)
        WS6455__EMIT0(c, on_drain);
}

/* ------------------------------------------------------------ closing */

void ws6455__enter_closed(ws6455_conn *c, int drop)
{
    if (c->state != WS6455_STATE_CLOSED) {
        c->state = WS6455_STATE_CLOSED;
        c->stamp = c->now;
    }
    c->rx_stop = 1;
    if (drop && c->out.len) {
        ws6455__outq_clear(&c->out, c->ctx);
        c->output_dropped = 1;
    }
    if (c->aux && c->aux->pong_pending) {
        c->aux->pong_pending = 0;
        ws6455__aux_trim(c);
    }
}

void ws6455__fail(ws6455_conn *c, int err, int drop)
{
    if (c->error || c->state == WS6455_STATE_CLOSED)
        return;
    c->error = err;
    c->rx_stop = 1;
    int code = ws6455_error_close_code(err);
    int was_open = c->state == WS6455_STATE_OPEN || c->state == WS6455_STATE_CLOSING;
    WS6455__EMIT(c, on_error, err);
    int sent = 0;
    if (was_open && code && !c->close_sent && !drop) {
        /* The reason names the violation, which makes a peer's logs useful;
         * every message in the list is ASCII and shorter than 123 bytes. */
        const char *why = ws6455_strerror(err);
        sent = ws6455__queue_close(c, (unsigned)code, why, strlen(why)) == WS6455_OK;
    }
    ws6455__enter_closed(c, drop);
    ws6455__notify_close(c, sent ? code : 1006, "", 0);
}
