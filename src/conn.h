/* Internal: the connection engine's state, shared by conn.c (lifecycle,
 * handshake, closing, time), recv.c (incoming frames), send.c (outgoing
 * frames) and io.c (callback I/O). */
#ifndef WS6455_CONN_H
#define WS6455_CONN_H

#include "alloc.h"
#include "handshake.h"
#include "ws6455.h"

/* Phase of the incoming-frame machine. */
enum ws6455__rx_phase { WS6455__RX_HEADER, WS6455__RX_PAYLOAD };

/* Bytes of OS randomness fetched at once for the default random source, so
 * a client does not make a system call for every frame's mask. */
#define WS6455__RANDOM_POOL 64

/* Extra room the output queue may use beyond max_output_buffer: control
 * frames (pong, close) are never refused for backpressure. */
#define WS6455__CONTROL_SLACK ((size_t)2 * (WS6455_MAX_HEADER_SIZE + WS6455_MAX_CONTROL_PAYLOAD))

struct ws6455_conn {
    /* Fields are ordered by alignment (words, then ints, then bytes) so the
     * struct carries no padding holes; the comments group them by job. */
    ws6455_allocator alloc;
    ws6455_callbacks cb;
    void *user;
    ws6455_config cfg; /* strings and arrays point into `copied` */
    void *copied;

    /* Opening handshake; freed once OPEN, except a client keeps its
     * response for ws6455_conn_response(). */
    ws6455__hs_server *hss;
    ws6455__hs_client *hsc;
    char *subprotocol;

    /* Incoming frames. */
    ws6455_frame_decoder dec;
    ws6455_frame_header hdr;
    uint64_t rx_left; /* payload bytes of the current frame still to come */
    uint64_t msg_size; /* bytes of the data message so far, for max_message_size */
    ws6455_utf8 rx_utf8;
    ws6455__buf msg; /* reassembly, unless zero-copy or streaming */
    size_t ctrl_len; /* bytes of the control frame in progress (in ctrl) */

    /* Outgoing. */
    ws6455__buf out;
    ws6455_utf8 tx_utf8;

    /* Time: the caller's milliseconds of the last tick (0 before it; the
     * first tick rebases every stamp taken before it). */
    uint64_t now;
    uint64_t created_at, close_sent_at, last_rx_at, ping_sent_at;

    /* Callback I/O. */
    uint8_t *rbuf;

    int error;            /* first fatal error, sticky */
    unsigned in_callback; /* depth of event callbacks running */

    uint8_t state; /* enum ws6455_state */
    uint8_t free_requested;
    uint8_t close_sent;     /* our close frame is queued */
    uint8_t close_received; /* the peer's close frame arrived */
    uint8_t close_notified; /* on_close was called */
    uint8_t eof;            /* the peer ended the stream */
    uint8_t rx_phase;       /* enum ws6455__rx_phase */
    uint8_t msg_opcode;     /* the data message in progress (0: none) */
    uint8_t msg_delivered;  /* streaming: a piece of it was delivered */
    uint8_t tx_frag_opcode; /* a fragmented send is in progress (0: none) */
    uint8_t pong_pending;   /* a pong that did not fit the queue: the latest wins */
    uint8_t pong_len;
    uint8_t rand_left;
    uint8_t have_time;
    uint8_t ping_outstanding;
    uint8_t ctrl[WS6455_MAX_CONTROL_PAYLOAD]; /* the control frame in progress */
    uint8_t pong[WS6455_MAX_CONTROL_PAYLOAD];
    uint8_t rand_pool[WS6455__RANDOM_POOL];
};

/* conn.c */
/* Fails the connection: records err (sticky), reports on_error, queues a
 * close frame with the error's close code when one is due, moves to
 * CLOSED and reports on_close. A no-op when already failed. */
void ws6455__fail(ws6455_conn *c, int err);
/* Reports on_close once. */
void ws6455__notify_close(ws6455_conn *c, int code, const char *reason, size_t len);
/* Moves a server or client connection from CONNECTING to OPEN. */
int ws6455__open(ws6455_conn *c, const char *subprotocol);
/* Feeds handshake bytes; *used is how many belonged to the handshake.
 * Returns 1 when OPEN, 0 when more is needed, <0 when failed. */
int ws6455__handshake_recv(ws6455_conn *c, const uint8_t *p, size_t n, size_t *used);
/* Entry and exit of every public call that may run callbacks. */
int ws6455__leave(ws6455_conn *c, int rc);
/* Fills buf with randomness from the callback or the OS pool. */
int ws6455__random(ws6455_conn *c, uint8_t *buf, size_t n);

/* Runs an event callback, tracking re-entrancy. */
#define WS6455__EMIT(c, fn, ...)                                                                   \
    do {                                                                                           \
        if ((c)->cb.fn) {                                                                          \
            (c)->in_callback++;                                                                    \
            (c)->cb.fn((c), __VA_ARGS__, (c)->user);                                               \
            (c)->in_callback--;                                                                    \
        }                                                                                          \
    } while (0)

/* recv.c */
/* Processes frame bytes (OPEN or CLOSING). */
void ws6455__rx_frames(ws6455_conn *c, uint8_t *p, size_t n);
/* Frees what the receive side holds. */
void ws6455__rx_free(ws6455_conn *c);

/* send.c */
/* Queues one frame. Control frames ignore the backpressure limit. */
int ws6455__queue_frame(ws6455_conn *c, int opcode, int fin, const uint8_t *p, size_t n);
/* Queues a close frame with code (0: none) and reason; marks close_sent. */
int ws6455__queue_close(ws6455_conn *c, unsigned code, const char *reason, size_t n);
/* Queues a pong, or keeps it for later when the queue is over its limit. */
int ws6455__queue_pong(ws6455_conn *c, const uint8_t *p, size_t n);

#endif
