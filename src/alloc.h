/* Internal: every allocation of the library goes through these, so the
 * caller's allocator hooks see all of it. */
#ifndef WS6455_ALLOC_H
#define WS6455_ALLOC_H

#include "ws6455.h"

/* A resolved allocator: never has NULL functions. */
void ws6455__allocator_resolve(ws6455_allocator *out, const ws6455_allocator *in);
void *ws6455__alloc(const ws6455_allocator *a, size_t n);
void *ws6455__resize(const ws6455_allocator *a, void *p, size_t n);
void ws6455__free(const ws6455_allocator *a, void *p);

/* A growable byte buffer. `len` bytes of data live at data[off..off+len):
 * consuming from the front only advances `off`; space is reclaimed when the
 * buffer empties or when more room is needed. Grows geometrically, so once
 * a connection is warm appending does not allocate. */
typedef struct ws6455__buf {
    uint8_t *data;
    size_t off;
    size_t len;
    size_t cap;
    size_t max; /* capacity never grows past max(max, what is needed); 0: no cap */
} ws6455__buf;

/* Makes room for `extra` more bytes at the end; returns a pointer to that
 * room (valid until the next call that may grow) or NULL on overflow or
 * allocation failure (the bytes kept, though possibly moved to the front of
 * the allocation: pointers into the buffer do not survive either way).
 * Does not change len. */
uint8_t *ws6455__buf_reserve(ws6455__buf *b, const ws6455_allocator *a, size_t extra);
/* Appends n bytes. Returns WS6455_OK or WS6455_ERR_NOMEM (nothing appended). */
int ws6455__buf_append(ws6455__buf *b, const ws6455_allocator *a, const void *p, size_t n);
/* Drops n bytes from the front (n <= len). */
void ws6455__buf_consume(ws6455__buf *b, size_t n);
void ws6455__buf_free(ws6455__buf *b, const ws6455_allocator *a);

#endif
