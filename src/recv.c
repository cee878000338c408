/* Incoming frames: header rules that depend on the connection (message
 * sequencing, size limits), payload unmasking (in place, or on the way into
 * the reassembly buffer), UTF-8 checking that fails fast, reassembly or
 * streaming, and control frames. */
#include "recv.h"

#include "mask.h"
#include "pmd.h"
#include "utf8_impl.h"

/* Masked text from this size on is unmasked and validated in one pass
 * (src/utf8_unmask.c); below it two short passes cost less. */
#define FUSED_MIN 64

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
    const ws6455_config *cfg = WS6455__CFG(c);
    if (len > cfg->max_frame_size)
        return WS6455_ERR_FRAME_TOO_BIG;
    if (len > cfg->max_message_size - c->msg_size) /* msg_size <= max, no overflow */
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
        ws6455__fail(c, rc, 0);
        return;
    }
    c->close_received = 1;
    c->rx_stop = 1;
    const char *reason = n > 2 ? (const char *)p + 2 : "";
    size_t reason_len = n > 2 ? n - 2 : 0;
    if (c->close_sent) {
        ws6455__enter_closed(c, 0);
    } else if (!(WS6455__CFG(c)->flags & WS6455_NO_AUTO_CLOSE_REPLY)) {
        /* Echo the peer's code and reason (none for none), RFC 6455 5.5.1,
         * as Node's ws, Python's websockets and browsers expect. */
        rc = ws6455__queue_close(c, code == 1005 ? 0 : code, reason, reason_len);
        if (rc < 0) {
            ws6455__fail(c, rc, 0);
            return;
        }
        ws6455__enter_closed(c, 0);
    } else {
        /* The application answers; the close timeout runs from now. */
        c->state = WS6455_STATE_CLOSING;
        c->stamp = c->now;
    }
    ws6455__notify_close(c, (int)code, reason, reason_len);
}

static void on_control_frame(ws6455_conn *c, int opcode, const uint8_t *p, size_t n)
{
    if (opcode == WS6455_OP_PING) {
        WS6455__EMIT(c, on_ping, p, n);
        /* After our close nothing more is sent, pongs included. */
        if (!(WS6455__CFG(c)->flags & WS6455_NO_AUTO_PONG) && !c->close_sent && !c->error &&
            c->state != WS6455_STATE_CLOSED) {
            int rc = ws6455__queue_pong(c, p, n);
            if (rc < 0)
                ws6455__fail(c, rc, 0);
        }
    } else if (opcode == WS6455_OP_PONG) {
        WS6455__EMIT(c, on_pong, p, n);
    } else {
        on_close_frame(c, p, n);
    }
}

/* ------------------------------------------------------------ data */

/* An idle connection holds no reassembly buffer: it goes back to the
 * context for the next message of any connection. */
static void release_reassembly(ws6455_conn *c)
{
    ws6455__context_give_spare(c->ctx, c->msg_data, c->msg_cap);
    c->msg_data = NULL;
    c->msg_cap = 0;
}

/* A reassembly buffer of up to WS6455__SPARE_MAX stays with the connection
 * until its input is used up (see ws6455__rx_frames), so that the next
 * message split across reads reuses it instead of allocating; a bigger one
 * (a rare big message) is given back at once. */
static void end_message(ws6455_conn *c)
{
    c->msg_opcode = 0;
    c->msg_delivered = 0;
    c->msg_size = 0;
    c->msg_len = 0;
    if (c->msg_cap > WS6455__SPARE_MAX)
        release_reassembly(c);
}

/* Makes room for n more bytes in the reassembly buffer, growing it
 * geometrically but never past max_message_size (the header checks keep
 * msg_size within it). */
static int msg_reserve(ws6455_conn *c, size_t n)
{
    size_t need = c->msg_len + n;
    if (need > c->msg_cap) {
        size_t max = WS6455__CFG(c)->max_message_size;
        size_t cap = c->msg_cap ? c->msg_cap : 256;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap > max)
            cap = need > max ? need : max;
        uint8_t *q;
        if (!c->msg_data) {
            q = ws6455__context_take_spare(c->ctx, cap, &cap);
        } else {
            q = ws6455__resize(&c->ctx->alloc, c->msg_data, cap);
        }
        if (!q)
            return WS6455_ERR_NOMEM;
        c->msg_data = q;
        c->msg_cap = cap;
    }
    return WS6455_OK;
}

/* Appends to the reassembly buffer. */
static int msg_append(ws6455_conn *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return WS6455_OK;
    if (msg_reserve(c, n) < 0)
        return WS6455_ERR_NOMEM;
    memcpy(c->msg_data + c->msg_len, p, n);
    c->msg_len += n;
    return WS6455_OK;
}

/* What the receive loop already did with a piece of payload. */
enum {
    PIECE_CHECKED = 1, /* validated as text while unmasking */
    PIECE_GATHERED = 2 /* unmasked straight into the reassembly buffer */
};

/* Validates a piece of text (unless the unmasking pass did). Fails the
 * connection at the first bad byte. */
static int check_text(ws6455_conn *c, const uint8_t *p, size_t n, int message_ends, unsigned done)
{
    if (c->msg_opcode != WS6455_OP_TEXT)
        return WS6455_OK;
    if ((!(done & PIECE_CHECKED) && ws6455_utf8_update(&c->rx_utf8, p, n, NULL) < 0) ||
        (message_ends && ws6455_utf8_finish(&c->rx_utf8) < 0)) {
        ws6455__fail(c, WS6455_ERR_UTF8, 0);
        return WS6455_ERR_UTF8;
    }
    return WS6455_OK;
}

/* ---- compressed messages (permessage-deflate) */

/* Inflated bytes of the message being received, as they appear: checked as
 * text, then streamed or gathered. A non-zero return stops inflating:
 * WS6455_ERR_CLOSED when a callback ended the input (not a failure). */
static int on_inflated(ws6455_conn *c, const uint8_t *p, size_t n)
{
    if (c->msg_opcode == WS6455_OP_TEXT && ws6455_utf8_update(&c->rx_utf8, p, n, NULL) < 0)
        return WS6455_ERR_UTF8;
    if (WS6455__CFG(c)->flags & WS6455_STREAM_FRAGMENTS) {
        int first = !c->msg_delivered;
        c->msg_delivered = 1;
        WS6455__EMIT(c, on_fragment, c->msg_opcode, p, n, first, 0);
        return c->rx_stop ? WS6455_ERR_CLOSED : WS6455_OK;
    }
    return msg_append(c, p, n);
}

/* A piece of a compressed message's payload: through the inflater, which
 * counts inflated bytes against max_message_size as they appear (a small
 * frame that inflates to gigabytes stops at the limit, 1009, having held a
 * 4 KiB window of output at a time). */
static void on_compressed_piece(ws6455_conn *c, const uint8_t *p, size_t n, int message_ends)
{
    c->msg_size += n;
    int rc = ws6455__pmd_inflate(c, p, n, message_ends, on_inflated);
    if (rc == WS6455_ERR_CLOSED)
        return;
    if (rc == WS6455_OK && message_ends && c->msg_opcode == WS6455_OP_TEXT &&
        ws6455_utf8_finish(&c->rx_utf8) < 0)
        rc = WS6455_ERR_UTF8;
    if (rc < 0) {
        ws6455__fail(c, rc, 0);
        return;
    }
    if (!message_ends)
        return;
    if (WS6455__CFG(c)->flags & WS6455_STREAM_FRAGMENTS)
        WS6455__EMIT(c, on_fragment, c->msg_opcode, (const uint8_t *)"", 0, !c->msg_delivered, 1);
    else
        WS6455__EMIT(c, on_message, c->msg_opcode, c->msg_data ? c->msg_data : (const uint8_t *)"",
                     c->msg_len);
    end_message(c);
}

/* Whether a piece of n payload bytes is a whole message by itself: the
 * entire payload of a final frame, with nothing gathered before it. It is
 * then handed out from the caller's input, never gathered. */
static int piece_is_message(const ws6455_conn *c, size_t n)
{
    return n == c->hdr.payload_len && c->hdr.fin && c->msg_len == 0;
}

/* A piece of data payload. `frame_ends`: the frame's last payload byte is in
 * this piece. */
static void on_data_piece(ws6455_conn *c, const uint8_t *p, size_t n, int frame_ends,
                          unsigned done)
{
    int message_ends = frame_ends && c->hdr.fin;
    if (ws6455__pmd_rx_compressed(c)) {
        on_compressed_piece(c, p, n, message_ends);
        return;
    }
    if (check_text(c, p, n, message_ends, done) < 0)
        return;
    c->msg_size += n;
    if (WS6455__CFG(c)->flags & WS6455_STREAM_FRAGMENTS) {
        if (n || message_ends || !c->msg_delivered) {
            int first = !c->msg_delivered;
            c->msg_delivered = 1;
            WS6455__EMIT(c, on_fragment, c->msg_opcode, p, n, first, message_ends);
        }
    } else if (piece_is_message(c, n)) {
        /* The whole message is this piece of the caller's input. */
        WS6455__EMIT(c, on_message, c->msg_opcode, p, n);
    } else {
        if (!(done & PIECE_GATHERED) && msg_append(c, p, n) < 0) {
            ws6455__fail(c, WS6455_ERR_NOMEM, 0);
            return;
        }
        if (message_ends)
            WS6455__EMIT(c, on_message, c->msg_opcode, c->msg_data ? c->msg_data : p, c->msg_len);
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
    /* RSV1 passes the decoder only once permessage-deflate was agreed, and
     * then only on a message's first frame (RFC 7692 6.1). */
    if (h->rsv && (is_control(h->opcode) || h->opcode == WS6455_OP_CONTINUATION))
        return WS6455_ERR_RSV_BITS;
    if (h->opcode == WS6455_OP_TEXT || h->opcode == WS6455_OP_BINARY) {
        c->msg_opcode = h->opcode;
        ws6455__pmd_rx_begin(c, h->rsv & WS6455_RSV1);
    }
    c->rx_left = (size_t)h->payload_len; /* within max_frame_size, or 125 */
    return WS6455_OK;
}

/* A control frame whose payload arrives in pieces is gathered in the aux
 * block; one that arrives whole is handed on from the input. */
static void on_control_piece(ws6455_conn *c, const uint8_t *p, size_t n, int frame_ends)
{
    ws6455__aux *x = c->aux;
    if (frame_ends && (!x || x->ctrl_len == 0)) {
        on_control_frame(c, c->hdr.opcode, p, n);
        return;
    }
    x = ws6455__aux_get(c);
    if (!x) {
        ws6455__fail(c, WS6455_ERR_NOMEM, 0);
        return;
    }
    memcpy(x->ctrl + x->ctrl_len, p, n); /* the decoder capped the frame at 125 */
    x->ctrl_len = (uint8_t)(x->ctrl_len + n);
    if (!frame_ends)
        return;
    uint8_t copy[WS6455_MAX_CONTROL_PAYLOAD];
    size_t len = x->ctrl_len;
    memcpy(copy, x->ctrl, len);
    x->ctrl_len = 0;
    ws6455__aux_trim(c);
    on_control_frame(c, c->hdr.opcode, copy, len);
}

/* Hands a piece of the current frame's payload (already unmasked; `done`
 * says what else the receive loop did with it) on. */
static void on_payload(ws6455_conn *c, const uint8_t *p, size_t n, unsigned done)
{
    int frame_ends = c->rx_left == 0;
    if (is_control(c->hdr.opcode))
        on_control_piece(c, p, n, frame_ends);
    else
        on_data_piece(c, p, n, frame_ends, done);
}

/* The common case, taken in one step: a single-frame message whose whole
 * payload is in this input. It is unmasked, checked and handed out as a
 * slice of the caller's buffer without the piecewise bookkeeping (which
 * gives the same result, and is all there is at -Os). */
static int whole_message_here(const ws6455_conn *c, size_t avail)
{
    const ws6455_frame_header *h = &c->hdr;
    return h->fin && (h->opcode == WS6455_OP_TEXT || h->opcode == WS6455_OP_BINARY) && !h->rsv &&
           h->payload_len <= avail && !(WS6455__CFG(c)->flags & WS6455_STREAM_FRAGMENTS);
}

static void deliver_whole_message(ws6455_conn *c, uint8_t *p)
{
    size_t n = (size_t)c->hdr.payload_len;
    int valid;
    if (WS6455__FAST_PATHS && c->hdr.opcode == WS6455_OP_TEXT && c->hdr.masked && n >= FUSED_MIN) {
        ws6455_utf8 v;
        ws6455_utf8_init(&v);
        valid = ws6455__utf8_unmask_update(&v, p, p, n, c->hdr.mask, 0, NULL) == WS6455_OK &&
                ws6455_utf8_finish(&v) == WS6455_OK;
    } else {
        if (c->hdr.masked)
            ws6455_mask(p, p, n, c->hdr.mask, 0);
        valid = c->hdr.opcode != WS6455_OP_TEXT || ws6455_utf8_valid(p, n);
    }
    if (!valid) {
        ws6455__fail(c, WS6455_ERR_UTF8, 0);
        return;
    }
    WS6455__EMIT(c, on_message, c->hdr.opcode, p, n);
    c->msg_opcode = 0;
    c->rx_left = 0;
}

/* Stops processing input: failed, aborted, freed from a callback, or the
 * peer's close arrived (what follows it is ignored). */
static int must_stop(const ws6455_conn *c)
{
    return c->rx_stop;
}

/* The common case of all, fused: small single-frame text and binary
 * messages (FIN, no RSV, 7-bit length within the limits), whole in this
 * input, while no fragmented message is in progress. Header, unmasking,
 * the UTF-8 check (an ASCII test folded into the unmasking; the validator
 * runs only for non-ASCII text) and delivery in one step, with one stop
 * flag tested after each callback. Returns the bytes consumed; stops at the
 * first frame that needs the general path, which then takes it. One
 * version per role keeps the loop free of role tests; out of line, its few
 * live values stay in registers. */
#if defined(__GNUC__)
#define WS6455__NOINLINE __attribute__((noinline))
#else
#define WS6455__NOINLINE
#endif

typedef void (*message_fn)(ws6455_conn *, int, const uint8_t *, size_t, void *);

/* Delivers one whole message from the fast paths; 0 when input must stop. */
static inline int fast_deliver(ws6455_conn *c, message_fn on_message, unsigned b0,
                               const uint8_t *payload, size_t len, uint64_t high)
{
    if (b0 == 0x81 && high && !ws6455_utf8_valid(payload, len)) {
        ws6455__fail(c, WS6455_ERR_UTF8, 0);
        return 0;
    }
    if (on_message) {
        c->in_callback++;
        on_message(c, (int)(b0 & 0x0Fu), payload, len, c->user);
        c->in_callback--;
    }
    return !c->rx_stop;
}

WS6455__NOINLINE static size_t rx_fast_server(ws6455_conn *c, uint8_t *p, size_t n)
{
    const unsigned max = c->ctx->fast_len;
    const message_fn on_message = c->ctx->cb.on_message; /* the context is read-only */
    uint8_t *f = p, *end = p + n;
    while (end - f >= 6) {
        /* The second byte is the MASK bit and the length: one range test. */
        unsigned b0 = f[0], len = f[1] - 0x80u;
        if (b0 - 0x81u > 1u || len > max || (size_t)(end - f - 6) < len)
            break;
        uint8_t *payload = f + 6;
        uint64_t high = ws6455__unmask_small(payload, len, f + 2);
        f = payload + len;
        if (!fast_deliver(c, on_message, b0, payload, len, high))
            break;
    }
    return (size_t)(f - p);
}

#if !defined(WS6455_NO_CLIENT)
WS6455__NOINLINE static size_t rx_fast_client(ws6455_conn *c, uint8_t *p, size_t n)
{
    const unsigned max = c->ctx->fast_len;
    const message_fn on_message = c->ctx->cb.on_message; /* the context is read-only */
    uint8_t *f = p, *end = p + n;
    while (end - f >= 2) {
        unsigned b0 = f[0], len = f[1]; /* a server's frames carry no mask */
        if (b0 - 0x81u > 1u || len > max || (size_t)(end - f - 2) < len)
            break;
        uint8_t *payload = f + 2;
        uint64_t high = b0 == 0x81 ? ws6455__high_bits_small(payload, len) : 0;
        f = payload + len;
        if (!fast_deliver(c, on_message, b0, payload, len, high))
            break;
    }
    return (size_t)(f - p);
}
#endif

/* The fused fast path of the connection's role. */
static inline size_t rx_fast(ws6455_conn *c, uint8_t *p, size_t n)
{
#if !defined(WS6455_NO_CLIENT)
    if (WS6455__IS_CLIENT(WS6455__CFG(c)))
        return rx_fast_client(c, p, n);
#endif
    return rx_fast_server(c, p, n);
}

/* Whether a piece of `take` bytes of the current frame's masked payload is
 * bound for the reassembly buffer as it is: on_data_piece's gathering
 * branch (data, uncompressed, not a message by itself; fast_rx is off when
 * fragments are streamed), decided before unmasking. */
static int gathers(const ws6455_conn *c, size_t take)
{
    const ws6455_frame_header *h = &c->hdr;
    return c->ctx->fast_rx && h->masked && !is_control(h->opcode) &&
           !ws6455__pmd_rx_compressed(c) && !piece_is_message(c, take);
}

void ws6455__rx_frames(ws6455_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    while (!must_stop(c) && (off < n || (c->rx_phase == WS6455__RX_PAYLOAD && !c->rx_left))) {
        if (c->rx_phase == WS6455__RX_HEADER) {
            if (WS6455__FAST_PATHS && c->dec.have == 0 && c->msg_opcode == 0 && c->ctx->fast_rx) {
                off += rx_fast(c, p + off, n - off);
                if (must_stop(c) || off == n)
                    break;
            }
            size_t used;
            int rc = ws6455_frame_decode(&c->dec, p + off, n - off, &used, &c->hdr);
            off += used;
            if (rc == 0)
                break;
            if (rc > 0)
                rc = on_header(c);
            if (rc < 0) {
                ws6455__fail(c, rc, 0);
                break;
            }
            if (WS6455__FAST_PATHS && whole_message_here(c, n - off)) {
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
        size_t take = c->rx_left < n - off ? c->rx_left : n - off;
        uint8_t *piece = p + off;
        size_t at = (size_t)c->hdr.payload_len - c->rx_left;
        unsigned done = 0;
        if (WS6455__FAST_PATHS && take && gathers(c, take)) {
            /* One pass instead of unmasking in place and copying after
             * (text is validated in the same pass). */
            if (msg_reserve(c, take) < 0) {
                ws6455__fail(c, WS6455_ERR_NOMEM, 0);
                break;
            }
            uint8_t *to = c->msg_data + c->msg_len;
            c->msg_len += take;
            done = PIECE_GATHERED;
            if (c->msg_opcode == WS6455_OP_BINARY) {
                ws6455_mask(to, piece, take, c->hdr.mask, at);
            } else if (ws6455__utf8_unmask_update(&c->rx_utf8, to, piece, take, c->hdr.mask, at,
                                                  NULL) < 0) {
                ws6455__fail(c, WS6455_ERR_UTF8, 0);
                break;
            } else {
                done |= PIECE_CHECKED;
            }
        } else if (WS6455__FAST_PATHS && c->hdr.masked && take >= FUSED_MIN &&
                   c->msg_opcode == WS6455_OP_TEXT && !is_control(c->hdr.opcode) &&
                   !ws6455__pmd_rx_compressed(c)) {
            /* Unmasked and validated in one pass; a failure is reported
             * where check_text would have reported it. */
            if (ws6455__utf8_unmask_update(&c->rx_utf8, piece, piece, take, c->hdr.mask, at, NULL) <
                0) {
                ws6455__fail(c, WS6455_ERR_UTF8, 0);
                break;
            }
            done = PIECE_CHECKED;
        } else if (c->hdr.masked) {
            ws6455_mask(piece, piece, take, c->hdr.mask, at);
        }
        c->rx_left -= take;
        off += take;
        if (take || c->hdr.payload_len == 0)
            on_payload(c, piece, take, done);
        if (c->rx_left == 0)
            c->rx_phase = WS6455__RX_HEADER;
    }
    /* Input used up: a connection whose input ended between frames, with
     * no message in progress, gives its buffer back. One whose input ended
     * inside a frame or a message keeps it, so a busy connection, whose
     * reads keep ending inside frames, allocates it only once. */
    if (c->msg_data && c->msg_opcode == 0 && c->rx_phase == WS6455__RX_HEADER && c->dec.have == 0)
        release_reassembly(c);
}
