/* Internal: prepared messages (ws6455_message), built once and queued by
 * reference. */
#ifndef WS6455_MESSAGE_H
#define WS6455_MESSAGE_H

#include "alloc.h"
#include "ws6455.h"

#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
typedef atomic_size_t ws6455__refcount;
#else
typedef size_t ws6455__refcount;
#endif

struct ws6455_message {
    ws6455__refcount refs;
    ws6455_allocator alloc;
    void (*release)(void *user, const void *data); /* wrapped data: the owner's hook */
    void *release_user;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *head; /* the frame header: right before the payload (a
                            copy) or in head_store (wrapped data) */
    uint8_t head_len;
    uint8_t opcode;
    uint8_t head_store[WS6455_MAX_HEADER_SIZE];
};

void ws6455__message_ref(ws6455_message *m);
void ws6455__message_unref(ws6455_message *m);

/* Bytes of the whole frame (header + payload). */
size_t ws6455__message_frame_len(const ws6455_message *m);
/* The contiguous run of the frame starting `off` bytes in (off < frame
 * length): the header, the payload, or both when they are adjacent. */
size_t ws6455__message_run(const ws6455_message *m, size_t off, const uint8_t **p);

#endif
