/* Outgoing frames: the output queue, masking by role, the backpressure
 * limit, and the send API. */
#include "conn.h"

#include <string.h>

int ws6455__queue_frame(ws6455_conn *c, int opcode, int fin, const uint8_t *p, size_t n)
{
    int masked = c->cfg.role == WS6455_ROLE_CLIENT;
    size_t hlen = ws6455_frame_header_size(n, masked);
    if (n > SIZE_MAX - hlen)
        return WS6455_ERR_INVALID_ARGUMENT;
    size_t total = hlen + n;
    if (opcode < 0x8 && (c->out.len > c->cfg.max_output_buffer ||
                         total > c->cfg.max_output_buffer - c->out.len))
        return WS6455_ERR_WOULD_EXCEED_LIMIT;
    ws6455_frame_header h = {n, (uint8_t)(fin ? 1 : 0), 0, (uint8_t)opcode, (uint8_t)masked,
                             {0, 0, 0, 0}};
    if (masked) {
        int rc = ws6455__random(c, h.mask, 4);
        if (rc < 0)
            return rc;
    }
    uint8_t *dst = ws6455__buf_reserve(&c->out, &c->alloc, total);
    if (!dst)
        return WS6455_ERR_NOMEM;
    ws6455_frame_header_encode(dst, &h);
    if (masked)
        ws6455_mask(dst + hlen, p, n, h.mask, 0);
    else if (n)
        memcpy(dst + hlen, p, n);
    c->out.len += total;
    return WS6455_OK;
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
        c->close_sent_at = c->now;
    }
    return rc;
}

/* Whether a pong of n bytes fits under the backpressure limit. */
static int pong_fits(const ws6455_conn *c, size_t n)
{
    return c->out.len + WS6455_MAX_HEADER_SIZE + n <= c->cfg.max_output_buffer;
}

/* A pong beyond the backpressure limit is kept aside, not queued: a peer
 * that floods pings and never reads cannot grow our memory. Only the latest
 * is kept, which RFC 6455 5.5.3 allows. */
int ws6455__queue_pong(ws6455_conn *c, const uint8_t *p, size_t n)
{
    if (pong_fits(c, n) && !c->pong_pending)
        return ws6455__queue_frame(c, WS6455_OP_PONG, 1, p, n);
    c->pong_pending = 1;
    c->pong_len = (uint8_t)n;
    if (n)
        memcpy(c->pong, p, n);
    return WS6455_OK;
}

/* Moves a kept pong into the queue once there is room. */
static void flush_kept_pong(ws6455_conn *c)
{
    if (!c->pong_pending || c->close_sent || !pong_fits(c, c->pong_len))
        return;
    if (ws6455__queue_frame(c, WS6455_OP_PONG, 1, c->pong, c->pong_len) == WS6455_OK)
        c->pong_pending = 0;
}

/* ------------------------------------------------------------ API */

static int can_send(const ws6455_conn *c)
{
    if (c->error)
        return c->error;
    if (c->state != WS6455_STATE_OPEN || c->close_sent)
        return WS6455_ERR_INVALID_STATE;
    return WS6455_OK;
}

static int send_message(ws6455_conn *c, int opcode, const void *p, size_t n)
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
    return ws6455__queue_frame(c, opcode, 1, p, n);
}

int ws6455_send_text(ws6455_conn *c, const char *s, size_t n)
{
    return send_message(c, WS6455_OP_TEXT, s, n);
}

int ws6455_send_binary(ws6455_conn *c, const void *p, size_t n)
{
    return send_message(c, WS6455_OP_BINARY, p, n);
}

int ws6455_send_fragment(ws6455_conn *c, int opcode, const void *p, size_t n, int fin)
{
    if (!c || (!p && n))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (opcode != WS6455_OP_TEXT && opcode != WS6455_OP_BINARY &&
        opcode != WS6455_OP_CONTINUATION)
        return WS6455_ERR_INVALID_ARGUMENT;
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
    rc = ws6455__queue_frame(c, opcode, fin, p, n);
    if (rc < 0)
        return rc; /* nothing changed: the caller may retry the same piece */
    c->tx_utf8 = v;
    c->tx_frag_opcode = fin ? 0 : (uint8_t)kind;
    return WS6455_OK;
}

static int send_control(ws6455_conn *c, int opcode, const void *p, size_t n)
{
    if (!c || (!p && n) || n > WS6455_MAX_CONTROL_PAYLOAD)
        return WS6455_ERR_INVALID_ARGUMENT;
    int rc = can_send(c);
    return rc < 0 ? rc : ws6455__queue_frame(c, opcode, 1, p, n);
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
    if (c->error)
        return c->error;
    /* Open: we start the handshake. Closing after the peer's close with the
     * automatic reply off: this is our answer. */
    int answering = c->close_received && !c->close_sent;
    if (c->close_sent || (c->state != WS6455_STATE_OPEN && !answering))
        return WS6455_ERR_INVALID_STATE;
    int rc = ws6455__queue_close(c, code, reason, n);
    if (rc < 0)
        return rc;
    c->state = answering ? WS6455_STATE_CLOSED : WS6455_STATE_CLOSING;
    return WS6455_OK;
}

/* ------------------------------------------------------------ output */

size_t ws6455_conn_pending(ws6455_conn *c, const uint8_t **out)
{
    *out = c->out.data ? c->out.data + c->out.off : (const uint8_t *)"";
    return c->out.len;
}

void ws6455_conn_consume(ws6455_conn *c, size_t n)
{
    if (n > c->out.len)
        n = c->out.len;
    ws6455__buf_consume(&c->out, n);
    flush_kept_pong(c);
}

size_t ws6455_conn_buffered_amount(const ws6455_conn *c)
{
    return c->out.len + (c->pong_pending ? 2u + c->pong_len : 0u);
}

int ws6455_conn_should_close_socket(const ws6455_conn *c)
{
    return c->state == WS6455_STATE_CLOSED && c->out.len == 0;
}
