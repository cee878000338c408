/* Internal: the connection's state and the primitives every part of the
 * engine shares — running callbacks, queueing frames, failing, closing.
 * recv.c (frames in) and send.c (the send API) build on these; conn.c is
 * the public face (lifecycle, handshake, time) and io.c the callback-I/O
 * adapter. Nothing here calls up into recv.c or send.c. */
#ifndef WS6455_CORE_H
#define WS6455_CORE_H

#include "context.h"
#include "handshake.h"
#include "outq.h"

/* Phase of the incoming-frame machine. */
enum ws6455__rx_phase { WS6455__RX_HEADER, WS6455__RX_PAYLOAD };

/* What an idle connection does not need, allocated only while needed: the
 * handshake (a client keeps its response), a control frame that arrived in
 * pieces, a pong kept back by backpressure. */
typedef struct ws6455__aux {
    ws6455__hs_server *hss;
    ws6455__hs_client *hsc;
    uint8_t ctrl_len;     /* bytes of the control frame gathered in ctrl */
    uint8_t pong_pending; /* a pong that did not fit the queue: the latest wins */
    uint8_t pong_len;
    uint8_t ctrl[WS6455_MAX_CONTROL_PAYLOAD];
    uint8_t pong[WS6455_MAX_CONTROL_PAYLOAD];
} ws6455__aux;

struct ws6455_conn {
    /* Fields are ordered by alignment so the struct has no padding holes. */
    ws6455_context *ctx;
    void *user;
    ws6455__outq out;
    ws6455__aux *aux;
    struct ws6455__pmd *pmd; /* permessage-deflate, when negotiated */
    const char *subprotocol; /* into the context's config, the client's
                                response, or `owned` memory */

    /* Reassembly of a message that did not arrive whole in one input. */
    uint8_t *msg_data;
    size_t msg_len, msg_cap;

    /* size_t, not the wire's uint64_t: on_header checks a frame against
     * max_frame_size (a control frame is at most 125 bytes) first. */
    size_t rx_left;  /* payload bytes of the current frame still to come */
    size_t msg_size; /* bytes of the data message so far (max_message_size) */

    /* Time: the caller's milliseconds of the last tick (0 before it; the
     * first tick rebases every stamp taken before it). `stamp` is when the
     * timer of the current state started: creation (CONNECTING), the ping
     * sent (OPEN), our close sent (CLOSING), entering CLOSED. */
    uint64_t now;
    uint64_t stamp;
    uint64_t last_rx_at;

    ws6455_frame_header hdr;
    ws6455_frame_decoder dec;
    ws6455_utf8 rx_utf8;
    ws6455_utf8 tx_utf8;
    int error;            /* first fatal error, sticky */
    uint16_t in_callback; /* depth of callbacks running */

    uint8_t state;          /* enum ws6455_state */
    uint8_t rx_phase;       /* enum ws6455__rx_phase */
    uint8_t msg_opcode;     /* the data message in progress (0: none) */
    uint8_t tx_frag_opcode; /* a fragmented send is in progress (0: none) */
    uint8_t rx_stop;        /* input is over: failed, closed, the peer's close
                               arrived, or a free was requested from a callback */
    uint8_t tx_fast_limit;  /* sends shorter than this may take the fast path
                               (0: never; 126 without compression) */
    unsigned free_requested : 1;
    unsigned freeing : 1;        /* inside ws6455_conn_free */
    unsigned opened : 1;         /* on_open was called */
    unsigned close_sent : 1;     /* our close frame is queued */
    unsigned close_received : 1; /* the peer's close frame arrived */
    unsigned close_notified : 1; /* on_close was called */
    unsigned output_dropped : 1; /* queued output was thrown away */
    unsigned eof : 1;            /* the peer ended the stream */
    unsigned msg_delivered : 1;  /* streaming: a piece of the message was delivered */
    unsigned ping_outstanding : 1;
    unsigned have_time : 1;
    unsigned subprotocol_owned : 1;
    unsigned consuming : 1;      /* inside output_consumed: the queue is not
                                    seen empty while a kept pong moves in */
};

/* Runs an event callback, tracking re-entrancy. */
#define WS6455__EMIT(c, fn, ...)                                                                   \
    do {                                                                                           \
        if ((c)->ctx->cb.fn) {                                                                     \
            (c)->in_callback++;                                                                    \
            (c)->ctx->cb.fn((c), __VA_ARGS__, (c)->user);                                          \
            (c)->in_callback--;                                                                    \
        }                                                                                          \
    } while (0)

/* The same for a callback with no argument besides the connection. */
#define WS6455__EMIT0(c, fn)                                                                       \
    do {                                                                                           \
        if ((c)->ctx->cb.fn) {                                                                     \
            (c)->in_callback++;                                                                    \
            (c)->ctx->cb.fn((c), (c)->user);                                                       \
            (c)->in_callback--;                                                                    \
        }                                                                                          \
    } while (0)

/* The configuration, for brevity. */
#define WS6455__CFG(c) (&(c)->ctx->cfg)

/* Whether a configuration is the client role. A constant 0 in a
 * WS6455_NO_CLIENT build, so the client's branches compile away. */
#if defined(WS6455_NO_CLIENT)
#define WS6455__IS_CLIENT(cfg) ((void)(cfg), 0)
#else
#define WS6455__IS_CLIENT(cfg) ((cfg)->role == WS6455_ROLE_CLIENT)
#endif

/* ---- callbacks and exits */
/* Calls on_close once (for connections that opened, and clients). */
void ws6455__notify_close(ws6455_conn *c, int code, const char *reason, size_t len);
/* The exit of every public call that may run callbacks: frees a connection
 * whose free was requested from a callback and returns WS6455_ERR_CLOSED,
 * else rc. */
int ws6455__leave(ws6455_conn *c, int rc);
/* Frees the connection now (no callbacks). */
void ws6455__destroy(ws6455_conn *c);

/* ---- the aux block */
ws6455__aux *ws6455__aux_get(ws6455_conn *c); /* NULL: out of memory */
/* Frees the aux block when nothing in it is in use. */
void ws6455__aux_trim(ws6455_conn *c);

/* ---- output */
/* Queues one frame. Data frames respect max_output_buffer
 * (WS6455_ERR_WOULD_EXCEED_LIMIT, or WS6455_ERR_TOO_BIG_TO_SEND when the
 * frame could never fit); control frames do not. Calls on_output when the
 * queue was empty. */
int ws6455__queue_frame(ws6455_conn *c, int opcode, int fin, const uint8_t *p, size_t n);
/* The same with RSV bits (RSV1 marks a compressed message's first frame). */
int ws6455__queue_frame_rsv(ws6455_conn *c, int opcode, unsigned rsv, int fin, const uint8_t *p,
                            size_t n);
/* Queues a close frame with code (0: none) and reason; marks close_sent. */
int ws6455__queue_close(ws6455_conn *c, unsigned code, const char *reason, size_t n);
/* Queues a pong, or keeps it for later when the queue is over its limit. */
int ws6455__queue_pong(ws6455_conn *c, const uint8_t *p, size_t n);
/* Appends raw bytes (a handshake head) and calls on_output when the queue
 * was empty and `notify`. */
int ws6455__queue_raw(ws6455_conn *c, const uint8_t *p, size_t n, int notify);
/* Calls on_output if the queue just became non-empty (was_empty). */
void ws6455__output_added(ws6455_conn *c, int was_empty);
/* Consumes n bytes of output, moves a kept pong in, calls on_drain when
 * the queue empties. */
void ws6455__output_consumed(ws6455_conn *c, size_t n);

/* ---- closing */
/* Moves to CLOSED (timer: the drain allowance), dropping queued output
 * when `drop`. */
void ws6455__enter_closed(ws6455_conn *c, int drop);
/* Fails the connection: records err (sticky), reports on_error, queues a
 * close frame with the error's close code when one is due, moves to
 * CLOSED and reports on_close. `drop`: throw queued output away (timeouts).
 * A no-op when already failed or CLOSED. */
void ws6455__fail(ws6455_conn *c, int err, int drop);

#endif
