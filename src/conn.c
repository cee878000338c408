/* The connection's public face: creation and freeing, abort, the opening
 * handshake as the connection sees it, time, and the accessors. Frames in
 * are in recv.c, the send API in send.c, the shared primitives in core.c,
 * callback I/O in io.c. */
#include "recv.h"

#include "pmd.h"

#include <string.h>

/* ------------------------------------------------------------ lifecycle */

static ws6455__hs_limits hs_limits(const ws6455_config *cfg)
{
    ws6455__hs_limits lim = {cfg->max_handshake_size, cfg->max_handshake_headers,
                             cfg->max_handshake_line};
    return lim;
}

/* Writes a handshake head with one of the handshake layer's builders and
 * queues it. */
static int queue_head(ws6455_conn *c, const ws6455__buf *head, int notify)
{
    return ws6455__queue_raw(c, head->data + head->off, head->len, notify);
}

#if !defined(WS6455_NO_CLIENT)
static int start_client_handshake(ws6455_conn *c)
{
    const ws6455_config *cfg = WS6455__CFG(c);
    ws6455__hs_limits lim = hs_limits(cfg);
    ws6455__aux *x = ws6455__aux_get(c);
    if (!x)
        return WS6455_ERR_NOMEM;
    x->hsc = ws6455__hs_client_new(&c->ctx->alloc, &lim);
    if (!x->hsc)
        return WS6455_ERR_NOMEM;
    uint8_t nonce[16];
    int rc = ws6455__context_random(c->ctx, c->user, nonce, sizeof nonce);
    if (rc < 0)
        return rc;
    char offer[WS6455__DEFLATE_HEADER_MAX];
    ws6455__hs_client_params p = {
        .host = cfg->host,
        .target = cfg->target ? cfg->target : "/",
        .origin = cfg->origin,
        .protocols = cfg->subprotocols,
        .protocol_count = cfg->subprotocol_count,
        .headers = cfg->headers,
        .header_count = cfg->header_count,
        .extensions = ws6455__pmd_client_offer(c, offer, sizeof offer) ? offer : NULL,
    };
    ws6455__buf head = {0};
    rc = ws6455__hs_client_request(x->hsc, &p, nonce, &head);
    if (rc == WS6455_OK)
        rc = queue_head(c, &head, 0);
    ws6455__buf_free(&head, &c->ctx->alloc);
    return rc;
}
#endif

ws6455_conn *ws6455_conn_new_in_err(ws6455_context *ctx, void *user, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    if (!ctx) {
        *err = WS6455_ERR_INVALID_ARGUMENT;
        return NULL;
    }
    ws6455_conn *c = ws6455__alloc(&ctx->alloc, sizeof *c);
    if (!c) {
        *err = WS6455_ERR_NOMEM;
        return NULL;
    }
    memset(c, 0, sizeof *c);
    ws6455__context_ref(ctx);
    c->ctx = ctx;
    c->user = user;
    const ws6455_config *cfg = &ctx->cfg;
    unsigned dflags = (cfg->flags & WS6455_LENIENT_LENGTH) ? WS6455_FRAME_LENIENT_LENGTH : 0;
    ws6455_frame_decoder_init(&c->dec, cfg->role, 0, dflags);
    c->tx_fast_limit = ctx->fast_tx ? WS6455_MAX_CONTROL_PAYLOAD + 1 : 0;

    int rc = WS6455_OK;
    if (cfg->flags & WS6455_SKIP_HANDSHAKE) {
        c->state = WS6455_STATE_OPEN;
        c->opened = 1; /* on_close is due, though on_open never ran */
#if !defined(WS6455_NO_CLIENT)
    } else if (WS6455__IS_CLIENT(cfg)) {
        rc = start_client_handshake(c);
#endif
    } else {
        ws6455__hs_limits lim = hs_limits(cfg);
        ws6455__aux *x = ws6455__aux_get(c);
        if (x)
            x->hss = ws6455__hs_server_new(&ctx->alloc, &lim);
        if (!x || !x->hss)
            rc = WS6455_ERR_NOMEM;
    }
    if (rc < 0) {
        ws6455__destroy(c);
        *err = rc;
        return NULL;
    }
    *err = WS6455_OK;
    return c;
}

ws6455_conn *ws6455_conn_new_in(ws6455_context *ctx, void *user)
{
    return ws6455_conn_new_in_err(ctx, user, NULL);
}

ws6455_conn *ws6455_conn_new_err(const ws6455_config *cfg, const ws6455_callbacks *cb, void *user,
                                 int *err, const char **bad_field)
{
    int dummy;
    if (!err)
        err = &dummy;
    ws6455_context *ctx = ws6455_context_new_err(cfg, cb, err, bad_field);
    if (!ctx)
        return NULL;
    ws6455_conn *c = ws6455_conn_new_in_err(ctx, user, err);
    /* The connection holds the only reference that is left. */
    ws6455_context_free(ctx);
    return c;
}

ws6455_conn *ws6455_conn_new(const ws6455_config *cfg, const ws6455_callbacks *cb, void *user)
{
    return ws6455_conn_new_err(cfg, cb, user, NULL, NULL);
}

void ws6455_conn_free(ws6455_conn *c)
{
    if (!c || c->freeing)
        return;
    if (c->in_callback) {
        /* Freed from inside a callback: the call that ran it frees the
         * connection on its way out (ws6455__leave). */
        c->free_requested = 1;
        c->rx_stop = 1;
        return;
    }
    c->freeing = 1;
    /* on_close exactly once, however the connection ends; inside it the
     * connection is already CLOSED (nothing more can be sent). */
    ws6455__enter_closed(c, 1);
    ws6455__notify_close(c, 1006, "", 0);
    ws6455__destroy(c);
}

int ws6455_conn_abort(ws6455_conn *c)
{
    if (!c)
        return WS6455_ERR_INVALID_ARGUMENT;
    ws6455__enter_closed(c, 1);
    ws6455__notify_close(c, 1006, "", 0);
    return ws6455__leave(c, WS6455_OK);
}

int ws6455_conn_state(const ws6455_conn *c)
{
    return c->state;
}

int ws6455_conn_error(const ws6455_conn *c)
{
    return c->error;
}

int ws6455_conn_was_clean(const ws6455_conn *c)
{
    return c->close_sent && c->close_received && !c->output_dropped;
}

ws6455_context *ws6455_conn_context(const ws6455_conn *c)
{
    return c->ctx;
}

const char *ws6455_conn_subprotocol(const ws6455_conn *c)
{
    return c->subprotocol;
}

#if !defined(WS6455_NO_CLIENT)
const ws6455_response *ws6455_conn_response(const ws6455_conn *c)
{
    return c->aux && c->aux->hsc ? ws6455__hs_client_response(c->aux->hsc) : NULL;
}
#endif

void *ws6455_conn_user(const ws6455_conn *c)
{
    return c->user;
}

/* ------------------------------------------------------------ handshake */

/* Moves a server or client connection from CONNECTING to OPEN. The
 * subprotocol is one of the configured ones (kept by the context), the
 * client's response (kept by the client), or copied. */
static int open_with(ws6455_conn *c, const char *subprotocol, int must_copy)
{
    if (subprotocol && must_copy) {
        size_t n = strlen(subprotocol);
        char *copy = ws6455__alloc(&c->ctx->alloc, n + 1);
        if (!copy)
            return WS6455_ERR_NOMEM;
        memcpy(copy, subprotocol, n + 1);
        subprotocol = copy;
        c->subprotocol_owned = 1;
    }
    c->subprotocol = subprotocol;
    c->state = WS6455_STATE_OPEN;
    c->opened = 1;
    c->last_rx_at = c->now;
    WS6455__EMIT(c, on_open, c->subprotocol);
    return WS6455_OK;
}

/* Whether s is one of the configured subprotocol strings (by address). */
static int is_configured(const ws6455_config *cfg, const char *s)
{
    for (size_t i = 0; i < cfg->subprotocol_count; i++)
        if (cfg->subprotocols[i] == s)
            return 1;
    return 0;
}

static void free_server_handshake(ws6455_conn *c)
{
    ws6455__hs_server_free(c->aux->hss);
    c->aux->hss = NULL;
    ws6455__aux_trim(c);
}

/* Asks the application (or the configured list) and queues the answer. */
static int server_answer(ws6455_conn *c)
{
    const ws6455_config *cfg = WS6455__CFG(c);
    ws6455__hs_server *hss = c->aux->hss;
    const ws6455_request *req = ws6455__hs_server_request(hss);
    ws6455_handshake_reply reply = {101, NULL, NULL, 0, NULL, NULL};
    reply.subprotocol = ws6455__hs_choose_protocol(req, cfg->subprotocols, cfg->subprotocol_count);
    /* permessage-deflate: the first offer we can honour, which the
     * application sees (and may decline) in reply.extensions. */
    char ext[WS6455__DEFLATE_HEADER_MAX];
    ws6455_deflate_params agreed;
    if (ws6455__pmd_server_select(c, req, ext, &agreed))
        reply.extensions = ext;
    if (c->ctx->cb.on_request) {
        c->in_callback++;
        int verdict = c->ctx->cb.on_request(c, req, &reply, c->user);
        c->in_callback--;
        if (verdict != 0)
            reply = (ws6455_handshake_reply){500, NULL, NULL, 0, NULL, NULL};
    }
    ws6455__buf head = {0};
    int rc = reply.extensions && reply.extensions != ext
                 ? WS6455_ERR_INVALID_ARGUMENT /* only declining is allowed */
                 : ws6455__hs_server_respond(hss, &reply, &head, &c->ctx->alloc);
    if (rc == WS6455_ERR_INVALID_ARGUMENT) {
        /* The application's reply was unusable: answer 500, not silence. */
        rc = ws6455__hs_unusable_reply_response(&head, &c->ctx->alloc);
        if (rc == WS6455_OK)
            rc = WS6455_ERR_CALLBACK;
    } else if (rc == WS6455_OK && reply.status != 101) {
        rc = WS6455_ERR_HS_REJECTED;
    }
    if (head.len) {
        int qrc = queue_head(c, &head, 1);
        if (qrc < 0 && rc >= 0)
            rc = qrc;
    }
    ws6455__buf_free(&head, &c->ctx->alloc);
    if (rc < 0)
        return rc;
    if (reply.extensions && (rc = ws6455__pmd_start(c, &agreed)) < 0)
        return rc;
    const char *chosen = reply.subprotocol;
    rc = open_with(c, chosen, chosen && !is_configured(cfg, chosen));
    free_server_handshake(c);
    return rc < 0 ? rc : 1;
}

/* A failed handshake: the HTTP error response (server) and CLOSED. */
static int handshake_failed(ws6455_conn *c, int err)
{
    if (!WS6455__IS_CLIENT(WS6455__CFG(c)) && err != WS6455_ERR_HS_REJECTED &&
        err != WS6455_ERR_CALLBACK && c->out.len == 0) {
        ws6455__buf head = {0};
        if (ws6455__hs_error_response(err, &head, &c->ctx->alloc) == WS6455_OK)
            (void)queue_head(c, &head, 1);
        ws6455__buf_free(&head, &c->ctx->alloc);
    }
    ws6455__fail(c, err, 0);
    if (c->aux && c->aux->hss)
        free_server_handshake(c);
    return err;
}

#if !defined(WS6455_NO_CLIENT)
/* Client: the server's Sec-WebSocket-Extensions against our offer
 * (RFC 7692 7.1); permessage-deflate starts when it was agreed. */
static int client_extensions(ws6455_conn *c)
{
    char offer[WS6455__DEFLATE_HEADER_MAX];
    if (!ws6455__pmd_client_offer(c, offer, sizeof offer))
        return WS6455_OK; /* nothing offered: the handshake layer refused any answer */
    size_t len = 0;
    const char *v =
        ws6455_response_header(ws6455__hs_client_response(c->aux->hsc), "Sec-WebSocket-Extensions",
                               &len);
    ws6455_deflate_params agreed;
    int rc = ws6455__pmd_client_check(c, v, len, &agreed);
    if (rc == 1)
        rc = ws6455__pmd_start(c, &agreed);
    return rc < 0 ? rc : WS6455_OK;
}

/* Client: feeds response bytes; 1 when OPEN, 0 for more, <0 failed. */
static int client_handshake_recv(ws6455_conn *c, const uint8_t *p, size_t n, size_t *used)
{
    int rc = ws6455__hs_client_feed(c->aux->hsc, p, n, used);
    if (rc == 1) { /* a valid response: our extensions, then OPEN */
        rc = client_extensions(c);
        if (rc == WS6455_OK)
            rc = open_with(c, ws6455__hs_client_protocol(c->aux->hsc), 0);
        if (rc == WS6455_OK)
            rc = 1;
    }
    return rc;
}
#endif

/* Feeds handshake bytes; *used is how many belonged to the handshake.
 * Returns 1 when OPEN, 0 when more is needed, <0 when failed. */
static int handshake_recv(ws6455_conn *c, const uint8_t *p, size_t n, size_t *used)
{
    int rc;
    *used = 0;
#if !defined(WS6455_NO_CLIENT)
    if (WS6455__IS_CLIENT(WS6455__CFG(c)))
        rc = client_handshake_recv(c, p, n, used);
    else
#endif
    {
        rc = ws6455__hs_server_feed(c->aux->hss, p, n, used);
        if (rc == 1)
            rc = server_answer(c);
    }
    if (rc < 0)
        return handshake_failed(c, rc);
    return rc;
}

int ws6455_conn_accept_upgrade(ws6455_conn *c, const ws6455_http_request *req, uint8_t *head,
                               size_t head_len)
{
    if (!c || !req || (head_len && !head))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (WS6455__IS_CLIENT(WS6455__CFG(c)) || c->state != WS6455_STATE_CONNECTING ||
        !c->aux || !c->aux->hss || c->error)
        return WS6455_ERR_INVALID_STATE;
    int rc = ws6455__hs_server_set_parsed(c->aux->hss, req);
    if (rc == WS6455_ERR_INVALID_ARGUMENT)
        return rc;
    if (rc == 1)
        rc = server_answer(c);
    if (rc < 0) {
        handshake_failed(c, rc);
        return ws6455__leave(c, rc);
    }
    if (head_len && !c->free_requested)
        ws6455__rx_frames(c, head, head_len);
    return ws6455__leave(c, c->error ? c->error : WS6455_OK);
}

/* ------------------------------------------------------------ input */

int ws6455_conn_recv(ws6455_conn *c, uint8_t *data, size_t len, size_t *consumed)
{
    if (consumed)
        *consumed = len;
    if (!c || (!data && len))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (c->error || c->state == WS6455_STATE_CLOSED || c->close_received || len == 0)
        return c->error;
    c->last_rx_at = c->now;
    c->ping_outstanding = 0;
    size_t used = 0;
    if (c->state == WS6455_STATE_CONNECTING) {
        int rc = handshake_recv(c, data, len, &used);
        if (rc <= 0 || c->free_requested)
            return ws6455__leave(c, c->error);
    }
    ws6455__rx_frames(c, data + used, len - used);
    return ws6455__leave(c, c->error);
}

int ws6455_conn_recv_eof(ws6455_conn *c)
{
    if (!c)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (c->eof)
        return c->error;
    c->eof = 1;
    /* The stream ended without the closing handshake: 1006, RFC 6455
     * 7.1.5 — reported, never sent. What we still have queued may yet
     * reach a peer that only half-closed: it gets the drain allowance. */
    ws6455__fail(c, WS6455_ERR_ABNORMAL_CLOSURE, 0);
    if (c->state != WS6455_STATE_CLOSED)
        ws6455__enter_closed(c, 0);
    ws6455__notify_close(c, 1006, "", 0);
    return ws6455__leave(c, c->error);
}

/* ------------------------------------------------------------ time */

static uint64_t after(uint64_t stamp, uint64_t ms)
{
    return ms > WS6455_NO_DEADLINE - 1 - stamp ? WS6455_NO_DEADLINE - 1 : stamp + ms;
}

/* When the keepalive next needs attention. */
static uint64_t keepalive_deadline(const ws6455_conn *c)
{
    const ws6455_config *cfg = WS6455__CFG(c);
    if (!cfg->ping_interval_ms)
        return WS6455_NO_DEADLINE;
    if (c->ping_outstanding)
        return cfg->ping_timeout_ms ? after(c->stamp, cfg->ping_timeout_ms) : WS6455_NO_DEADLINE;
    return after(c->last_rx_at, cfg->ping_interval_ms);
}

uint64_t ws6455_conn_deadline(const ws6455_conn *c)
{
    const ws6455_config *cfg = WS6455__CFG(c);
    switch (c->state) {
    case WS6455_STATE_CONNECTING:
        return cfg->handshake_timeout_ms ? after(c->stamp, cfg->handshake_timeout_ms)
                                         : WS6455_NO_DEADLINE;
    case WS6455_STATE_OPEN:
        return keepalive_deadline(c);
    case WS6455_STATE_CLOSING:
        return after(c->stamp, cfg->close_timeout_ms);
    default:
        /* CLOSED: the output that is left gets the drain allowance. */
        return c->out.len ? after(c->stamp, cfg->close_timeout_ms) : WS6455_NO_DEADLINE;
    }
}

/* The keepalive: a ping after silence, a failure when it goes unanswered. */
static void keepalive(ws6455_conn *c)
{
    if (c->ping_outstanding) {
        ws6455__fail(c, WS6455_ERR_TIMEOUT, 1);
        return;
    }
    int rc = ws6455__queue_frame(c, WS6455_OP_PING, 1, NULL, 0);
    if (rc < 0) {
        ws6455__fail(c, rc, 0);
        return;
    }
    c->ping_outstanding = 1;
    c->stamp = c->now;
}

int ws6455_conn_tick(ws6455_conn *c, uint64_t now_ms)
{
    if (!c)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (!c->have_time) {
        /* Stamps taken before the caller told us the time were taken at 0. */
        c->have_time = 1;
        c->stamp += now_ms;
        c->last_rx_at += now_ms;
    }
    if (now_ms > c->now)
        c->now = now_ms;
    if (c->now < ws6455_conn_deadline(c))
        return ws6455__leave(c, c->error);
    switch (c->state) {
    case WS6455_STATE_CONNECTING:
    case WS6455_STATE_CLOSING:
        /* A handshake or a close the peer did not finish in time: nothing
         * more is worth sending. */
        ws6455__fail(c, WS6455_ERR_TIMEOUT, 1);
        break;
    case WS6455_STATE_OPEN:
        keepalive(c);
        break;
    default:
        /* CLOSED, and the peer did not take what was left: drop it. */
        ws6455__enter_closed(c, 1);
        break;
    }
    return ws6455__leave(c, c->error);
}
