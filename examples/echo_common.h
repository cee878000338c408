/*
 * echo_common — what echo_server's two event loops (epoll in
 * echo_server.c, io_uring in echo_uring.c) and uv_echo share: the options,
 * the engine configuration, the echo itself with its backpressure rule,
 * the per-connection record and the deadline heap, log lines, and the
 * reserve descriptor that keeps a server calm when it runs out of file
 * descriptors.
 */
#ifndef WS6455_EXAMPLES_ECHO_COMMON_H
#define WS6455_EXAMPLES_ECHO_COMMON_H

#include <ws6455.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------ options */

typedef struct echo_options {
    const char *host;
    const char *port;
    int threads;
    size_t max_message;
    uint64_t idle_timeout_ms;
    uint64_t close_timeout_ms;
    int io_uring;
    int verbose;
    ws6455_deflate_options deflate; /* --deflate... (deflate_opts.h) */
} echo_options;

/* Options a program accepts beyond the common ones. */
enum { ECHO_OPT_THREADS = 1u << 0, ECHO_OPT_IO_URING = 1u << 1 };

/* Reads the command line into *o (defaults first). --help prints the usage
 * and exits 0; a mistake prints it on stderr and exits 2, and so does
 * --deflate in a library built without zlib (with that reason). `extra` is a
 * mask of ECHO_OPT_*; `what` is the program's one-line description. */
void echo_parse_options(int argc, char **argv, unsigned extra, const char *what,
                        echo_options *o);

/* CLOCK_MONOTONIC in milliseconds: the engine's clock. */
uint64_t echo_now_ms(void);

/* ------------------------------------------------------------ the engine */

/* Backpressure: a client whose queued echoes exceed this is no longer read
 * from; reading resumes when its queue is empty again (on_drain). */
#define ECHO_HIGH_WATER ((size_t)1 << 20)
/* Bytes read per readable event (the engine's read buffer and budget). */
#define ECHO_READ_SIZE ((size_t)16384)

/**
 * The server configuration every echo loop uses: limits and timeouts from
 * the options, one read of ECHO_READ_SIZE per ws6455_conn_on_readable()
 * (read_budget: fairness), a short read meaning drained (plain sockets),
 * and a max_output_buffer that one event's echoes can never exceed on top
 * of ECHO_HIGH_WATER, so an echo is never refused (see echo_message).
 */
void echo_config(const echo_options *o, ws6455_config *cfg);

/**
 * Sends a message back as the same type. Returns 1 when the client's queue
 * is now above ECHO_HIGH_WATER (stop reading from it until on_drain), 0
 * otherwise. A send that fails anyway (out of memory) closes with 1011.
 */
int echo_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len);

/* ------------------------------------------------------------ connections */

/* Per-connection flags. */
enum {
    ECHO_PAUSED = 1u << 0,    /* queue above high water: not reading */
    ECHO_DIRTY = 1u << 1,     /* output queued since the last write attempt */
    ECHO_LINGERING = 1u << 2, /* shut down for writing, waiting for the peer's FIN */
    ECHO_WATCH_IN = 1u << 3,  /* what the event loop watches now */
    ECHO_WATCH_OUT = 1u << 4,
    ECHO_WRITING = 1u << 5,   /* io_uring: a writev is in flight */
    ECHO_READING = 1u << 6,   /* io_uring: a recv is in flight */
    ECHO_CLOSING = 1u << 7,   /* io_uring: the socket is being torn down */
    ECHO_STUCK = 1u << 8,     /* output waited for the socket; cleared by on_drain:
                                 still set at the end means it was dropped */
    ECHO_PEER_EOF = 1u << 10, /* uv_echo: the peer's FIN was read (libuv reports it once) */
    ECHO_THROTTLED = 1u << 11 /* uv_echo: this loop turn's read budget is spent */
};

/**
 * What every loop keeps per connection, 32 bytes: an idle connection
 * costs this plus the engine's 192 (no peer address string: it is looked
 * up when a line is logged). `key` is a lower bound of the connection's
 * next deadline (see echo_heap).
 */
typedef struct echo_peer {
    uint64_t key;
    ws6455_conn *conn;
    uint32_t heap_index;
    int fd;
    uint32_t id;
    uint16_t flags;
} echo_peer;

/* A unique id for log lines (atomic: loops run in several threads). */
uint32_t echo_next_id(void);

/**
 * A min-heap of connections by deadline, for one loop. Keys are lazy: when
 * a deadline moves later (every message moves the keepalive) the heap is
 * not touched; when the key comes due, echo_heap_due() re-reads the true
 * deadline and only then sifts. A deadline that moves earlier is applied
 * at once (echo_heap_lower). So a busy connection costs no heap work.
 */
typedef struct echo_heap {
    echo_peer **v;
    size_t len, cap;
} echo_heap;

int echo_heap_push(echo_heap *h, echo_peer *p, uint64_t key);
void echo_heap_remove(echo_heap *h, echo_peer *p);
/* Sets p's key exactly (earlier or later). */
void echo_heap_set(echo_heap *h, echo_peer *p, uint64_t key);
/* Sets p's key when `key` is earlier than it. */
void echo_heap_lower(echo_heap *h, echo_peer *p, uint64_t key);
/* The earliest key, or WS6455_NO_DEADLINE. */
uint64_t echo_heap_next(const echo_heap *h);
/* The connection whose deadline has come at `now`, or NULL. deadline_of
 * gives the true deadline: keys found to be early are corrected first. */
echo_peer *echo_heap_due(echo_heap *h, uint64_t now, uint64_t (*deadline_of)(echo_peer *));

/* Milliseconds from now until `deadline` for a poll-style timeout: -1 for
 * none, capped at a minute. */
int echo_wait_ms(uint64_t deadline, uint64_t now);

/* ------------------------------------------------------------ logging */

/* A log line on stdout (only with --verbose); one write per line, so
 * loops in different threads do not interleave. */
void echo_log(const echo_options *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* "open #ID PEER [permessage-deflate ...]" (what was agreed, when
 * compression was accepted) and "close #ID PEER code=C reason="R"" lines. The reason
 * is cut at the first control character so a line stays one line. */
void echo_log_open(const echo_options *o, const echo_peer *p);
void echo_log_close(const echo_options *o, const echo_peer *p, int code, const char *reason,
                    size_t len);
void echo_log_error(const echo_options *o, const echo_peer *p, int err);

/* ------------------------------------------------------------ descriptors */

/**
 * Out of descriptors (EMFILE/ENFILE), a level-triggered listening socket
 * stays readable and accept() keeps failing: a loop that just retries
 * spins at full CPU. The reserve is one spare descriptor: on EMFILE it is
 * closed, the waiting connection accepted and closed at once (the client
 * sees the connection end instead of hanging in the backlog), and the
 * reserve reopened. One line is logged when a burst starts and one when it
 * ends, never one per connection.
 */
typedef struct echo_reserve {
    int fd;
    unsigned long shed; /* connections refused in this burst */
    const char *prog;
} echo_reserve;

/* Opens the reserve (/dev/null). -1 (reported) on failure. */
int echo_reserve_open(echo_reserve *r, const char *prog);
void echo_reserve_close(echo_reserve *r);

/**
 * After accept() on `listen_fd` failed with `err`: for EMFILE/ENFILE,
 * sheds one waiting connection with the reserve. Returns 1 when one was
 * shed (call accept again), 0 when the backlog is empty, -1 when nothing
 * could be done (no reserve, ENFILE system-wide, ENOBUFS...): the caller
 * should stop accepting for a moment (ECHO_ACCEPT_BACKOFF_MS) instead of
 * retrying at once.
 */
int echo_reserve_shed(echo_reserve *r, int listen_fd, int err);
#define ECHO_ACCEPT_BACKOFF_MS 100u

/* An accept succeeded: ends a burst of refusals (logged once). */
void echo_reserve_ok(echo_reserve *r);

#endif
