/* Internal: permessage-deflate as the connection sees it — negotiation in
 * both roles, and the compressed data path of recv.c and send.c — over the
 * two layers of src/deflate.h. Without zlib (WS6455_WITH_ZLIB undefined)
 * nothing is ever negotiated: the functions below are inline stubs there,
 * and the data functions are never reached. */
#ifndef WS6455_PMD_H
#define WS6455_PMD_H

#include "core.h"
#include "deflate.h"

/* A connection's compression state, allocated only when negotiated. With
 * no context takeover its zlib state exists only during a message. */
typedef struct ws6455__pmd {
    ws6455_deflate_params params;
#if defined(WS6455_WITH_ZLIB)
    ws6455__deflater tx;
    ws6455__inflater rx;
#endif
    uint8_t tx_shared;     /* tx goes through the context's shared compressor */
    uint8_t rx_compressed; /* the message being received is compressed */
    uint8_t tx_compressed; /* the fragmented message being sent is compressed */
} ws6455__pmd;

/* Receives inflated bytes for recv.c: 0 to go on, or a WS6455_ERR_*. */
typedef int (*ws6455__pmd_sink)(ws6455_conn *c, const uint8_t *p, size_t n);

#if defined(WS6455_WITH_ZLIB)

/* ---- negotiation */

/* Server: the response value for the first acceptable offer among the
 * request's extensions into resp (WS6455__DEFLATE_HEADER_MAX bytes) and the
 * agreed parameters; 1 when accepted, 0 when not (or not enabled or not
 * available). */
int ws6455__pmd_server_select(const ws6455_conn *c, const ws6455_request *req, char *resp,
                              ws6455_deflate_params *agreed);

/* Client: the offer to put in the request into out (cap bytes); 1 when
 * there is one, 0 when nothing is offered. */
int ws6455__pmd_client_offer(const ws6455_conn *c, char *out, size_t cap);

/* Client: the server's answer (value, len; NULL when absent) checked
 * against our offer: 1 agreed, 0 declined, WS6455_ERR_HS_EXTENSION. */
int ws6455__pmd_client_check(const ws6455_conn *c, const char *value, size_t len,
                             ws6455_deflate_params *agreed);

/* Sets the connection up for the agreed parameters (allocates c->pmd,
 * allows RSV1 on input). WS6455_OK or WS6455_ERR_NOMEM. */
int ws6455__pmd_start(ws6455_conn *c, const ws6455_deflate_params *agreed);

/* Frees what c->pmd holds (and c->pmd). */
void ws6455__pmd_free(ws6455_conn *c);

/* Frees the context's shared compressor, if any. */
void ws6455__pmd_context_free(ws6455_context *ctx);

/* ---- data */

/* Inflates the next piece of the compressed message being received
 * (`fin`: its last piece), handing the bytes to sink. WS6455_OK or the
 * error to fail the connection with (DEFLATE_DATA 1007, MESSAGE_TOO_BIG
 * 1009, NOMEM, or the sink's). */
int ws6455__pmd_inflate(ws6455_conn *c, const uint8_t *p, size_t n, int fin,
                        ws6455__pmd_sink sink);


/* Compresses the next piece of an outgoing message into the context's
 * scratch buffer (cleared first): `fin` ends the message. Sets *out and
 * *out_len to the compressed bytes (valid until the next call on this
 * context). WS6455_OK or WS6455_ERR_NOMEM. */
int ws6455__pmd_deflate(ws6455_conn *c, const uint8_t *p, size_t n, int fin, const uint8_t **out,
                        size_t *out_len);

#else /* without zlib: nothing is negotiated, so none of this is reached;
        * inline, the callers' compressed paths compile away */

static inline int ws6455__pmd_server_select(const ws6455_conn *c, const ws6455_request *req,
                                            char *resp, ws6455_deflate_params *agreed)
{
    (void)c, (void)req, (void)resp, (void)agreed;
    return 0;
}
static inline int ws6455__pmd_client_offer(const ws6455_conn *c, char *out, size_t cap)
{
    (void)c, (void)out, (void)cap;
    return 0;
}
static inline int ws6455__pmd_client_check(const ws6455_conn *c, const char *value, size_t len,
                                           ws6455_deflate_params *agreed)
{
    (void)c, (void)len, (void)agreed;
    return value ? WS6455_ERR_HS_EXTENSION : 0; /* nothing was offered */
}
static inline int ws6455__pmd_start(ws6455_conn *c, const ws6455_deflate_params *agreed)
{
    (void)c, (void)agreed;
    return WS6455_ERR_INVALID_STATE;
}
static inline void ws6455__pmd_free(ws6455_conn *c)
{
    (void)c;
}
static inline void ws6455__pmd_context_free(ws6455_context *ctx)
{
    (void)ctx;
}
static inline int ws6455__pmd_inflate(ws6455_conn *c, const uint8_t *p, size_t n, int fin,
                                      ws6455__pmd_sink sink)
{
    (void)c, (void)p, (void)n, (void)fin, (void)sink;
    return WS6455_ERR_INVALID_STATE;
}
static inline int ws6455__pmd_deflate(ws6455_conn *c, const uint8_t *p, size_t n, int fin,
                                      const uint8_t **out, size_t *out_len)
{
    (void)c, (void)p, (void)n, (void)fin, (void)out, (void)out_len;
    return WS6455_ERR_INVALID_STATE;
}

#endif

/* ---- the per-message flags recv.c and send.c test; constant 0 without
 * zlib, so their compressed paths compile away */

#if defined(WS6455_WITH_ZLIB)

/* Whether a message (or the first fragment of one) of n bytes should be
 * compressed, given the send flags. */
static inline int ws6455__pmd_should_compress(const ws6455_conn *c, size_t n, unsigned flags)
{
    return c->pmd && !(flags & WS6455_SEND_UNCOMPRESSED) && n >= c->ctx->cfg.deflate.min_size;
}
/* The message being received is compressed. */
static inline int ws6455__pmd_rx_compressed(const ws6455_conn *c)
{
    return c->pmd && c->pmd->rx_compressed;
}
/* A new message begins, compressed when RSV1 is set (only possible once
 * agreed: the decoder refuses RSV1 before). */
static inline void ws6455__pmd_rx_begin(ws6455_conn *c, int rsv1)
{
    if (c->pmd)
        c->pmd->rx_compressed = (uint8_t)(rsv1 != 0);
}
/* The fragmented message being sent is compressed. */
static inline int ws6455__pmd_tx_compressed(const ws6455_conn *c)
{
    return c->pmd && c->pmd->tx_compressed;
}
static inline void ws6455__pmd_set_tx_compressed(ws6455_conn *c, int on)
{
    if (c->pmd)
        c->pmd->tx_compressed = (uint8_t)(on != 0);
}

#else

static inline int ws6455__pmd_should_compress(const ws6455_conn *c, size_t n, unsigned flags)
{
    (void)c, (void)n, (void)flags;
    return 0;
}
static inline int ws6455__pmd_rx_compressed(const ws6455_conn *c)
{
    (void)c;
    return 0;
}
static inline void ws6455__pmd_rx_begin(ws6455_conn *c, int rsv1)
{
    (void)c, (void)rsv1;
}
static inline int ws6455__pmd_tx_compressed(const ws6455_conn *c)
{
    (void)c;
    return 0;
}
static inline void ws6455__pmd_set_tx_compressed(ws6455_conn *c, int on)
{
    (void)c, (void)on;
}

#endif

#endif
