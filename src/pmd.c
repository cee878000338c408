/* permessage-deflate as the connection sees it: negotiation through
 * src/deflate_negotiate.c, the compressed data path through src/deflate.c
 * (zlib). See src/pmd.h. */
#include "pmd.h"

#include <string.h>

int ws6455_deflate_available(void)
{
#if defined(WS6455_WITH_ZLIB)
    return 1;
#else
    return 0;
#endif
}

#if defined(WS6455_WITH_ZLIB)

/* Whether this connection may negotiate at all. */
static int pmd_wanted(const ws6455_conn *c)
{
    return WS6455__CFG(c)->deflate.enabled;
}

/* ------------------------------------------------------------ negotiation */

int ws6455__pmd_server_select(const ws6455_conn *c, const ws6455_request *req, char *resp,
                              ws6455_deflate_params *agreed)
{
    if (!pmd_wanted(c))
        return 0;
    /* The offers in the client's order of preference; the first we can
     * honour wins, the others are declined (never the handshake). */
    size_t count = ws6455_request_extension_count(req);
    for (size_t i = 0; i < count; i++) {
        size_t len, resp_len;
        const char *offer = ws6455_request_extension(req, i, &len);
        if (ws6455__deflate_server_select(&WS6455__CFG(c)->deflate, offer, len, agreed, resp,
                                          WS6455__DEFLATE_HEADER_MAX, &resp_len) == 1)
            return 1;
    }
    return 0;
}

int ws6455__pmd_client_offer(const ws6455_conn *c, char *out, size_t cap)
{
    size_t len;
    return pmd_wanted(c) &&
           ws6455__deflate_client_offer(&WS6455__CFG(c)->deflate, out, cap, &len) == WS6455_OK;
}

int ws6455__pmd_client_check(const ws6455_conn *c, const char *value, size_t len,
                             ws6455_deflate_params *agreed)
{
    int rc = ws6455__deflate_client_accept(&WS6455__CFG(c)->deflate, value, value ? len : 0,
                                           agreed);
    return rc < 0 ? WS6455_ERR_HS_EXTENSION : rc;
}

/* ------------------------------------------------------------ lifetime */


/* The context's compressor shared by every server connection whose own
 * compressor would reset per message anyway (server_no_context_takeover)
 * with a window at least as large: its zlib state is set up once, not per
 * message. Created on first use. */
static ws6455__deflater *shared_deflater(ws6455_context *ctx)
{
    if (!ctx->shared_deflater) {
        ws6455__deflater *d = ws6455__alloc(&ctx->alloc, sizeof *d);
        if (!d)
            return NULL;
        const ws6455_deflate_options *o = &ctx->cfg.deflate;
        ws6455__deflate_dir dir = {(uint8_t)o->server_max_window_bits, 1};
        if (ws6455__deflater_init(d, &ctx->alloc, &dir, o->level, o->mem_level,
                                  WS6455__DEFLATER_SHARED) != WS6455_OK) {
            ws6455__free(&ctx->alloc, d);
            return NULL;
        }
        ctx->shared_deflater = d;
    }
    return ctx->shared_deflater;
}

int ws6455__pmd_start(ws6455_conn *c, const ws6455_deflate_params *agreed)
{
    ws6455_context *ctx = c->ctx;
    const ws6455_config *cfg = &ctx->cfg;
    ws6455__pmd *x = ws6455__alloc(&ctx->alloc, sizeof *x);
    if (!x)
        return WS6455_ERR_NOMEM;
    memset(x, 0, sizeof *x);
    x->params = *agreed;
    ws6455__deflate_dir send, recv;
    ws6455__deflate_directions(agreed, cfg->role == WS6455_ROLE_SERVER, &send, &recv);
    int rc = ws6455__deflater_init(&x->tx, &ctx->alloc, &send, cfg->deflate.level,
                                   cfg->deflate.mem_level, 0);
    if (rc == WS6455_OK)
        rc = ws6455__inflater_init(&x->rx, &ctx->alloc, &recv, cfg->max_message_size);
    if (rc < 0) {
        ws6455__free(&ctx->alloc, x);
        return rc;
    }
    x->tx_shared = cfg->role == WS6455_ROLE_SERVER && send.no_context_takeover &&
                   send.window_bits >= cfg->deflate.server_max_window_bits;
    c->pmd = x;
    /* Only messages too short to compress may take the send fast path. */
    if (cfg->deflate.min_size < c->tx_fast_limit)
        c->tx_fast_limit = (uint8_t)cfg->deflate.min_size;
    /* RSV1 now marks a compressed message (RFC 7692 6). */
    unsigned dflags = (cfg->flags & WS6455_LENIENT_LENGTH) ? WS6455_FRAME_LENIENT_LENGTH : 0;
    ws6455_frame_decoder_init(&c->dec, cfg->role, WS6455_RSV1, dflags);
    return WS6455_OK;
}

void ws6455__pmd_free(ws6455_conn *c)
{
    if (!c->pmd)
        return;
    ws6455__deflater_free(&c->pmd->tx);
    ws6455__inflater_free(&c->pmd->rx);
    ws6455__free(&c->ctx->alloc, c->pmd);
    c->pmd = NULL;
}

void ws6455__pmd_context_free(ws6455_context *ctx)
{
    if (ctx->shared_deflater) {
        ws6455__deflater_free(ctx->shared_deflater);
        ws6455__free(&ctx->alloc, ctx->shared_deflater);
        ctx->shared_deflater = NULL;
    }
    ws6455__buf_free(&ctx->scratch, &ctx->alloc);
}

/* ------------------------------------------------------------ data */

typedef struct inflate_target {
    ws6455_conn *c;
    ws6455__pmd_sink sink;
} inflate_target;

static int inflate_to_engine(void *user, const uint8_t *p, size_t n)
{
    inflate_target *t = user;
    return t->sink(t->c, p, n);
}

int ws6455__pmd_inflate(ws6455_conn *c, const uint8_t *p, size_t n, int fin,
                        ws6455__pmd_sink sink)
{
    inflate_target t = {c, sink};
    return ws6455__inflater_write(&c->pmd->rx, p, n, fin, inflate_to_engine, &t);
}

int ws6455__pmd_deflate(ws6455_conn *c, const uint8_t *p, size_t n, int fin, const uint8_t **out,
                        size_t *out_len)
{
    ws6455_context *ctx = c->ctx;
    ws6455__deflater *d = &c->pmd->tx;
    /* The shared compressor takes whole messages only: it must finish one
     * message before it starts another, and fragments of different
     * connections interleave. (Without memory for it, the connection's own
     * compressor does the work.) */
    if (c->pmd->tx_shared && fin && !c->pmd->tx_compressed) {
        ws6455__deflater *s = shared_deflater(ctx);
        if (s)
            d = s;
    }
    ctx->scratch.len = 0;
    ctx->scratch.off = 0;
    int rc = ws6455__deflater_write(d, p, n, fin ? WS6455__DEFLATE_END : WS6455__DEFLATE_FLUSH,
                                    &ctx->scratch);
    if (rc < 0)
        return rc;
    *out = ctx->scratch.data ? ctx->scratch.data + ctx->scratch.off : (const uint8_t *)"";
    *out_len = ctx->scratch.len;
    return WS6455_OK;
}

#endif

int ws6455_conn_deflate(const ws6455_conn *c, ws6455_deflate_params *out)
{
    if (!c || !c->pmd)
        return 0;
    if (out)
        *out = c->pmd->params;
    return 1;
}
