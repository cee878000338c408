/* Prepared messages: a data frame built and validated once, queued by
 * reference to any number of connections. */
#include "message.h"

#include "frame.h"

#include <string.h>

void ws6455__message_ref(ws6455_message *m)
{
#if !defined(__STDC_NO_ATOMICS__)
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
#else
    m->refs++;
#endif
}

void ws6455__message_unref(ws6455_message *m)
{
#if !defined(__STDC_NO_ATOMICS__)
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
#else
    if (--m->refs)
        return;
#endif
    if (m->release)
        m->release(m->release_user, m->payload);
    ws6455_allocator a = m->alloc;
    ws6455__free(&a, m);
}

size_t ws6455__message_frame_len(const ws6455_message *m)
{
    return m->head_len + m->payload_len;
}

size_t ws6455__message_run(const ws6455_message *m, size_t off, const uint8_t **p)
{
    if (m->head + m->head_len == m->payload) { /* header right before the payload */
        *p = m->head + off;
        return m->head_len + m->payload_len - off;
    }
    if (off < m->head_len) {
        *p = m->head + off;
        return m->head_len - off;
    }
    *p = m->payload + (off - m->head_len);
    return m->payload_len - (off - m->head_len);
}

/* Builds the (unmasked) header into dst; returns its length. */
static uint8_t build_head(uint8_t *dst, int opcode, size_t len)
{
    ws6455_frame_header h = {len, 1, 0, (uint8_t)opcode, 0, {0, 0, 0, 0}};
    return (uint8_t)ws6455__frame_header_write(dst, &h);
}

static int message_args_ok(int opcode, const void *data, size_t len)
{
    if (opcode != WS6455_OP_TEXT && opcode != WS6455_OP_BINARY)
        return 0;
    if (!data && len)
        return 0;
    if ((uint64_t)len >> 63)
        return 0;
    return opcode != WS6455_OP_TEXT || ws6455_utf8_valid(data, len);
}

static void message_init(ws6455_message *m, const ws6455_allocator *a, int opcode)
{
    memset(m, 0, sizeof *m);
#if !defined(__STDC_NO_ATOMICS__)
    atomic_init(&m->refs, 1);
#else
    m->refs = 1;
#endif
    m->alloc = *a;
    m->opcode = (uint8_t)opcode;
}

ws6455_message *ws6455_message_new(const ws6455_allocator *a, int opcode, const void *data,
                                   size_t len)
{
    if (!message_args_ok(opcode, data, len))
        return NULL;
    ws6455_allocator al;
    ws6455__allocator_resolve(&al, a);
    /* One block: the struct, then the header flush against the payload so
     * the whole frame is one contiguous run. */
    size_t head_room = WS6455_MAX_HEADER_SIZE;
    if (len > SIZE_MAX - sizeof(ws6455_message) - head_room)
        return NULL;
    ws6455_message *m = ws6455__alloc(&al, sizeof *m + head_room + len);
    if (!m)
        return NULL;
    message_init(m, &al, opcode);
    uint8_t *payload = (uint8_t *)(m + 1) + head_room;
    if (len)
        memcpy(payload, data, len);
    uint8_t head[WS6455_MAX_HEADER_SIZE];
    m->head_len = build_head(head, opcode, len);
    memcpy(payload - m->head_len, head, m->head_len);
    m->head = payload - m->head_len;
    m->payload = payload;
    m->payload_len = len;
    return m;
}

ws6455_message *ws6455_message_wrap(const ws6455_allocator *a, int opcode, const void *data,
                                    size_t len, void (*release)(void *user, const void *data),
                                    void *user)
{
    if (!message_args_ok(opcode, data, len))
        return NULL;
    ws6455_allocator al;
    ws6455__allocator_resolve(&al, a);
    ws6455_message *m = ws6455__alloc(&al, sizeof *m);
    if (!m)
        return NULL;
    message_init(m, &al, opcode);
    m->head_len = build_head(m->head_store, opcode, len);
    m->head = m->head_store;
    m->payload = data;
    m->payload_len = len;
    m->release = release;
    m->release_user = user;
    return m;
}

void ws6455_message_free(ws6455_message *m)
{
    if (m)
        ws6455__message_unref(m);
}

int ws6455_message_opcode(const ws6455_message *m)
{
    return m ? m->opcode : 0;
}

const uint8_t *ws6455_message_data(const ws6455_message *m, size_t *len)
{
    if (len)
        *len = m ? m->payload_len : 0;
    return m ? m->payload : NULL;
}
