/* Internal: the output queue of a connection. A list of chunks: owned
 * bytes (frames encoded by the engine) or a reference to a prepared
 * message. Bytes never move once queued — new frames go after them, into
 * the tail chunk's free room or a new chunk — so what ws6455_conn_pending()
 * handed out stays valid until consumed. Chunks come from, and go back to,
 * the context's pool: an empty queue owns nothing. */
#ifndef WS6455_OUTQ_H
#define WS6455_OUTQ_H

#include "context.h"
#include "message.h"

struct ws6455__chunk {
    ws6455__chunk *next;
    ws6455_message *msg; /* a message sent by reference; NULL: bytes[] */
    size_t off;          /* bytes of this chunk already consumed */
    size_t len;          /* bytes in this chunk (a message: its whole frame) */
    size_t cap;          /* room in bytes[]; a reference has cap == len, so
                            its free room reads as 0 without a test */
    uint8_t bytes[];
};

/* What a queue may hold beyond the bytes queued: the unused room of its
 * tail chunk (at most one large chunk), the small chunk it started with,
 * and the chunks' bookkeeping. docs/engine.md states the memory bound with
 * it; tests check it. */
#define WS6455__OUTQ_SLACK (WS6455__CHUNK_LARGE + WS6455__CHUNK_SMALL + 4 * sizeof(ws6455__chunk))

typedef struct ws6455__outq {
    ws6455__chunk *head, *tail;
    ws6455__chunk *spare; /* made ready by _ensure, linked by _put when needed */
    size_t len;           /* bytes queued and not yet consumed */
} ws6455__outq;

/* Makes sure n more bytes can be written: the tail chunk's free room plus,
 * when that is short, one new chunk held ready. WS6455_OK, or
 * WS6455_ERR_NOMEM with nothing changed. */
int ws6455__outq_ensure(ws6455__outq *q, ws6455_context *ctx, size_t n);
/* Writes n bytes (ensured before) after everything queued: into the tail's
 * room, then the chunk held ready. `key` non-NULL masks them on the way,
 * starting `offset` bytes into the mask. */
void ws6455__outq_put(ws6455__outq *q, const uint8_t *p, size_t n, const uint8_t *key,
                      uint64_t offset);
/* Gives back a chunk _ensure held ready that _put did not need. */
void ws6455__outq_settle(ws6455__outq *q, ws6455_context *ctx);
/* Appends a copy of p[0..n): _ensure, _put, _settle. */
int ws6455__outq_append(ws6455__outq *q, ws6455_context *ctx, const void *p, size_t n);
/* The free room in the tail chunk (0 when the tail is a message). */
size_t ws6455__outq_room(const ws6455__outq *q);
/* Queues a message's frame: by reference (takes a reference) when it is
 * larger than WS6455__CHUNK_SMALL and than the tail's free room; otherwise
 * a copy. Either way the queue then holds at most twice its bytes plus
 * WS6455__OUTQ_SLACK (a reference leaves the room of the chunk before it
 * unused, and that room is smaller than the referenced frame). */
int ws6455__outq_push_message(ws6455__outq *q, ws6455_context *ctx, ws6455_message *m);
/* The first contiguous run of unsent bytes; 0 when empty. */
size_t ws6455__outq_peek(const ws6455__outq *q, const uint8_t **p);
/* Up to max runs, in order; returns the count, *total their bytes. */
size_t ws6455__outq_peek_iov(const ws6455__outq *q, ws6455_iovec *iov, size_t max, size_t *total);
/* Drops n bytes from the front (n <= len); spent chunks go back to the pool. */
void ws6455__outq_consume(ws6455__outq *q, ws6455_context *ctx, size_t n);
/* Drops everything. */
void ws6455__outq_clear(ws6455__outq *q, ws6455_context *ctx);
/* Frees a context's pooled chunks (when the context goes). */
void ws6455__outq_pool_free(ws6455_context *ctx);

#endif
