/* Incoming frames: header rules that depend on the connection (message
 * sequencing, size limits), payload unmasking in place, UTF-8 checking that
 * fails fast, reassembly or streaming, and control frames. */
#include "conn.h"

#include <string.h>

/* ------------------------------------------------------------ rules */

int ws6455_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static int is_control(int opcode)
{
    return opcode >= 0x8;
}

/* Continuation only inside a message; a new data frame never inside one. */
static int check_sequence(const ws6455_conn *c, int opcode)
{
    if (is_control(opcode))
        return WS6455_OK;
    if (opcode == WS6455_OP_CONTINUATION)
        return c->msg_opcode ? WS6455_OK : WS6455_ERR_UNEXPECTED_CONTINUATION;
    return c->msg_opcode ? WS6455_ERR_EXPECTED_CONTINUATION : WS6455_OK;
}

/* Decided from the header alone, before any payload is buffered. */
static int check_sizes(const ws6455_conn *c, uint64_t len)
{
    if (len > c->cfg.max_frame_size)
        return WS6455_ERR_FRAME_TOO_BIG;
    if (len > c->cfg.max_message_size - c->msg_size) /* msg_size <= max, no overflow */
        return WS6455_ERR_MESSAGE_TOO_BIG;
    return WS6455_OK;
}

/* Close payload: empty, or a valid code and a UTF-8 reason. */
static int check_close_payload(const uint8_t *p, size_t n, unsigned *code)
{
    *code = 1005; /* RFC 6455 7.1.5: no status code present */
    if (n == 0)
        return WS6455_OK;
    if (n == 1)
        return WS6455_ERR_CLOSE_PAYLOAD;
    *code = (unsigned)p[0] << 8 | p[1];
    if (!ws6455_close_code_valid(*code))
        return WS6455_ERR_CLOSE_CODE;
    if (!ws6455_utf8_valid(p + 2, n - 2))
        return WS6455_ERR_CLOSE_REASON;
    return WS6455_OK;
}

/* ------------------------------------------------------------ control */

static void on_close_frame(ws6455_conn *c, const uint8_t *p, size_t n)
{
    unsigned code;
    int rc = check_close_payload(p, n, &code);
    if (rc < 0) {
        ws6455__fail(c, rc);
        return;
    }
    c->close_received = 1;
    if (c->close_sent) {
        c->state = WS6455_STATE_CLOSED;
    } else if (!(c->cfg.flags & WS6455_NO_AUTO_CLOSE_REPLY)) {
        /* Echo the peer's code (none for none), RFC 6455 5.5.1. */
        rc = ws6455__queue_close(c, code == 1005 ? 0 : code, NULL, 0);
        c->state = WS6455_STATE_CLOSED;
        if (rc < 0) {
            ws6455__fail(c, rc);
            return;
        }
    } else {
        /* The application answers; the close timeout runs from now. */
        c->state = WS6455_STATE_CLOSING;
        c->close_sent_at = c->now;
    }
    ws6455__notify_close(c, (int)code, n > 2 ? (const char *)p + 2 : "", n > 2 ? n - 2 : 0);
}

static void on_control_frame(ws6455_conn *c, int opcode, const uint8_t *p, size_t n)
{
    if (opcode == WS6455_OP_PING) {
        WS6455__EMIT(c, on_ping, p, n);
        /* After our close nothing more is sent, pongs included. */
        if (!(c->cfg.flags & WS6455_NO_AUTO_PONG) && !c->close_sent && !c->error) {
            int rc = ws6455__queue_pong(c, p, n);
            if (rc < 0)
                ws6455__fail(c, rc);
        }
    } else if (opcode == WS6455_OP_PONG) {
        WS6455__EMIT(c, on_pong, p, n);
    } else {
        on_close_frame(c, p, n);
    }
}

/* ------------------------------------------------------------ data */

static void end_message(ws6455_conn *c)
{
    c->msg_opcode = 0;
    c->msg_delivered = 0;
    c->msg_size = 0;
    c->msg.len = 0;
    c->msg.off = 0;
}

/* Validates a piece of text. Fails the connection at the first bad byte. */
static int check_text(ws6455_conn *c, const uint8_t *p, size_t n, int message_ends)
{
    if (c->msg_opcode != WS6455_OP_TEXT)
        return WS6455_OK;
    if (ws6455_utf8_update(&c->rx_utf8, p, n, NULL) < 0 ||
        (message_ends && ws6455_utf8_finish(&c->rx_utf8) < 0)) {
        ws6455__fail(c, WS6455_ERR_UTF8);
        return WS6455_ERR_UTF8;
    }
    return WS6455_OK;
}

/* A piece of data payload. `frame_ends`: the frame's last payload byte is in
 * this piece; `whole`: the piece is the frame's entire payload. */
static void on_data_piece(ws6455_conn *c, const uint8_t *p, size_t n, int frame_ends, int whole)
{
    int message_ends = frame_ends && c->hdr.fin;
    if (check_text(c, p, n, message_ends) < 0)
        return;
    c->msg_size += n;
    if (c->cfg.flags & WS6455_STREAM_FRAGMENTS) {
        if (n || message_ends || !c->msg_delivered) {
            int first = !c->msg_delivered;
            c->msg_delivered = 1;
            WS6455__EMIT(c, on_fragment, c->msg_opcode, p, n, first, message_ends);
        }
    } else if (message_ends && whole && c->msg.len == 0) {
        /* The whole message is this piece of the caller's input. */
        WS6455__EMIT(c, on_message, c->msg_opcode, p, n);
    } else {
        if (ws6455__buf_append(&c->msg, &c->alloc, p, n) < 0) {
            ws6455__fail(c, WS6455_ERR_NOMEM);
            return;
        }
        if (message_ends)
            WS6455__EMIT(c, on_message, c->msg_opcode, c->msg.data + c->msg.off, c->msg.len);
    }
    if (message_ends)
        end_message(c);
}

/* ------------------------------------------------------------ frames */

static int on_header(ws6455_conn *c)
{
    const ws6455_frame_header *h = &c->hdr;
    int rc = check_sequence(c, h->opcode);
    if (rc == WS6455_OK && !is_control(h->opcode))
        rc = check_sizes(c, h->payload_len);
    if (rc < 0)
        return rc;
    if (h->opcode == WS6455_OP_TEXT || h->opcode == WS6455_OP_BINARY)
        c->msg_opcode = h->opcode;
    c->rx_left = h->payload_len;
    c->ctrl_len = 0;
    return WS6455_OK;
}

/* Hands a piece of the current frame's payload (already unmasked) on. */
static void on_payload(ws6455_conn *c, const uint8_t *p, size_t n)
{
    int frame_ends = c->rx_left == 0;
    if (is_control(c->hdr.opcode)) {
        memcpy(c->ctrl + c->ctrl_len, p, n); /* the decoder capped it at 125 */
        c->ctrl_len += n;
        if (frame_ends)
            on_control_frame(c, c->hdr.opcode, c->ctrl, c->ctrl_len);
    } else {
        on_data_piece(c, p, n, frame_ends, n == c->hdr.payload_len);
    }
}

/* The common case, taken in one step: a single-frame message whose whole
 * payload is in this input. It is unmasked, checked and handed out as a
 * slice of the caller's buffer without the piecewise bookkeeping. */
static int whole_message_here(const ws6455_conn *c, size_t avail)
{
    const ws6455_frame_header *h = &c->hdr;
    return h->fin && (h->opcode == WS6455_OP_TEXT || h->opcode == WS6455_OP_BINARY) &&
           h->payload_len <= avail && !(c->cfg.flags & WS6455_STREAM_FRAGMENTS);
}

static void deliver_whole_message(ws6455_conn *c, uint8_t *p)
{
    size_t n = (size_t)c->hdr.payload_len;
    if (c->hdr.masked)
        ws6455_mask(p, p, n, c->hdr.mask, 0);
    if (c->hdr.opcode == WS6455_OP_TEXT && !ws6455_utf8_valid(p, n)) {
        ws6455__fail(c, WS6455_ERR_UTF8);
        return;
    }
    WS6455__EMIT(c, on_message, c->hdr.opcode, p, n);
    c->msg_opcode = 0;
    c->rx_left = 0;
}

/* Stops processing input: failed, freed from a callback, or the peer's
 * close arrived (what follows it is ignored). */
static int must_stop(const ws6455_conn *c)
{
    return c->error || c->free_requested || c->close_received;
}

void ws6455__rx_frames(ws6455_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    while (!must_stop(c) && (off < n || (c->rx_phase == WS6455__RX_PAYLOAD && !c->rx_left))) {
        if (c->rx_phase == WS6455__RX_HEADER) {
            size_t used;
            int rc = ws6455_frame_decode(&c->dec, p + off, n - off, &used, &c->hdr);
            off += used;
            if (rc == 0)
                break;
            if (rc > 0)
                rc = on_header(c);
            if (rc < 0) {
                ws6455__fail(c, rc);
                break;
            }
            if (whole_message_here(c, n - off)) {
                deliver_whole_message(c, p + off);
                off += (size_t)c->hdr.payload_len;
                continue;
            }
            /* A text message read piecewise is checked as it comes (the
             * whole-message path above checks its payload in one call). */
            if (c->hdr.opcode == WS6455_OP_TEXT)
                ws6455_utf8_init(&c->rx_utf8);
            c->rx_phase = WS6455__RX_PAYLOAD;
            if (c->rx_left) /* empty payloads are delivered below */
                continue;
        }
        size_t take = c->rx_left < n - off ? (size_t)c->rx_left : n - off;
        uint8_t *piece = p + off;
        if (c->hdr.masked)
            ws6455_mask(piece, piece, take, c->hdr.mask, c->hdr.payload_len - c->rx_left);
        c->rx_left -= take;
        off += take;
        if (take || c->hdr.payload_len == 0)
            on_payload(c, piece, take);
        if (c->rx_left == 0)
            c->rx_phase = WS6455__RX_HEADER;
    }
}

void ws6455__rx_free(ws6455_conn *c)
{
    ws6455__buf_free(&c->msg, &c->alloc);
}

/* ------------------------------------------------------------ API */

int ws6455_conn_recv(ws6455_conn *c, uint8_t *data, size_t len, size_t *consumed)
{
    if (consumed)
        *consumed = len;
    if (!c)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (!data && len)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (c->error || c->state == WS6455_STATE_CLOSED || c->close_received || len == 0)
        return c->error;
    c->last_rx_at = c->now;
    c->ping_outstanding = 0;
    size_t used = 0;
    if (c->state == WS6455_STATE_CONNECTING) {
        int rc = ws6455__handshake_recv(c, data, len, &used);
        if (rc <= 0 || c->free_requested)
            return ws6455__leave(c, c->error);
    }
    ws6455__rx_frames(c, data + used, len - used);
    return ws6455__leave(c, c->error);
}

int ws6455_conn_recv_eof(ws6455_conn *c)
{
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (c->eof)
        return c->error;
    c->eof = 1;
    if (c->state != WS6455_STATE_CLOSED && !c->error) {
        /* The stream ended without the closing handshake: 1006, RFC 6455
         * 7.1.5 — reported, never sent. */
        c->state = WS6455_STATE_CLOSED;
        c->error = WS6455_ERR_ABNORMAL_CLOSURE;
        WS6455__EMIT(c, on_error, WS6455_ERR_ABNORMAL_CLOSURE);
        ws6455__notify_close(c, 1006, "", 0);
    } else if (c->state == WS6455_STATE_CLOSED) {
        ws6455__notify_close(c, 1006, "", 0);
    }
    return ws6455__leave(c, c->error);
}
