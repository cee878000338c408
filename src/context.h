/* Internal: the shared, read-only context of many connections (one event
 * loop's worth): configuration, callbacks, allocator, and the buffers its
 * connections borrow instead of owning — the read buffer of callback I/O,
 * a pool of output chunks, spare reassembly buffers, the random pool. */
#ifndef WS6455_CONTEXT_H
#define WS6455_CONTEXT_H

#include "alloc.h"
#include "ws6455.h"

/* Bytes of OS randomness fetched at once for the default random source, so
 * a client does not make a system call for every frame's mask. */
#define WS6455__RANDOM_POOL 64

/* Output chunks come in two pooled sizes: a small one for a queue's first
 * bytes (most queues only ever hold a reply or two) and a large one once
 * output piles up; a frame bigger than a large chunk gets a chunk of its
 * own size. A chunk outlives a flush only in the context's pool (at most
 * WS6455__POOL_MAX of each), so an idle connection holds none. */
#define WS6455__POOL_MAX 32
#define WS6455__CHUNK_SMALL 512
#define WS6455__CHUNK_LARGE 8192
/* One chunk made for a big frame is kept for the next, up to this size. */
#define WS6455__BIG_SPARE_MAX ((size_t)1 << 20)
/* Spare reassembly buffers a context keeps: their bytes in all, the
 * largest one kept (one huge message's buffer is not kept for ever; a
 * connection does not keep one either) and the smallest (the reassembly
 * buffer starts at 256 bytes unless the limits are smaller: at most 1,024
 * buffers). */
#define WS6455__SPARE_BYTES ((size_t)256 << 10)
#define WS6455__SPARE_MAX ((size_t)64 << 10)
#define WS6455__SPARE_MIN ((size_t)256)

typedef struct ws6455__chunk ws6455__chunk;

struct ws6455_context {
    ws6455_allocator alloc;
    ws6455_callbacks cb;
    ws6455_config cfg; /* strings and arrays point into `copied` */
    void *copied;
    size_t refs; /* the creator's (until ws6455_context_free) + one per connection */

    uint8_t *rbuf; /* callback I/O read buffer, allocated on first use */
    int reading;   /* a connection of this context is inside on_readable */

    ws6455__chunk *pool_small; /* free chunks of the two standard sizes */
    ws6455__chunk *pool_large;
    size_t pool_small_count, pool_large_count;
    ws6455__chunk *refs_pool; /* free small chunks for messages sent by reference */
    size_t refs_pool_count;
    ws6455__chunk *big_spare; /* the last chunk made for one big frame, for the next */

    /* permessage-deflate (src/pmd.c): a compressor shared by the server
     * connections that reset theirs per message anyway, and the buffer
     * messages are compressed into before they are framed. */
    void *shared_deflater;
    ws6455__buf scratch;
    /* Reassembly buffers given back by connections between messages,
     * kept for the next messages of any of them (under load, many
     * connections start a message at the end of a read at the same time):
     * a stack linked through the buffers' first bytes, at most
     * WS6455__SPARE_BYTES in all. */
    uint8_t *spares;
    size_t spare_bytes;

    /* Fast-path switches, decided once from the configuration. */
    uint8_t fast_rx;  /* receive fast paths: whole small messages, one-pass gathering */
    uint8_t fast_tx;  /* small sends may skip the general path */
    uint8_t fast_len; /* largest payload the fast paths take: min(125, limits) */

    uint8_t rand_left;
    uint8_t has_creator_ref;
    uint8_t rand_pool[WS6455__RANDOM_POOL];
};

/* Takes and drops a reference (the last drop frees). */
void ws6455__context_ref(ws6455_context *ctx);
void ws6455__context_unref(ws6455_context *ctx);

/* Fills buf with randomness from the callback (given `user`) or the
 * context's OS pool; each pooled byte is wiped once used. */
int ws6455__context_random(ws6455_context *ctx, void *user, uint8_t *buf, size_t n);

/* Borrows and returns a reassembly buffer of at least `need` bytes (a
 * spare when one is big enough). */
uint8_t *ws6455__context_take_spare(ws6455_context *ctx, size_t need, size_t *cap);
void ws6455__context_give_spare(ws6455_context *ctx, uint8_t *p, size_t cap);

/* Reads the OS random source (getrandom, else /dev/urandom). 0 or -1.
 * Not in a WS6455_NO_OS_RANDOM build. */
int ws6455__os_random(uint8_t *buf, size_t n);

#endif
