/* The connection engine: lifecycle, the opening handshake as seen by the
 * connection, failing and closing, and time. Frames in are in recv.c,
 * frames out in send.c, callback I/O in io.c. */
/* open(O_CLOEXEC) and read() for the OS random source: POSIX.1-2008. */
#define _POSIX_C_SOURCE 200809L

#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

/* ------------------------------------------------------------ config */

void ws6455_config_init(ws6455_config *cfg, int role)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->role = role;
    cfg->max_frame_size = WS6455_DEFAULT_MAX_FRAME_SIZE;
    cfg->max_message_size = WS6455_DEFAULT_MAX_MESSAGE_SIZE;
    cfg->max_output_buffer = WS6455_DEFAULT_MAX_OUTPUT_BUFFER;
    cfg->max_handshake_size = WS6455_DEFAULT_MAX_HANDSHAKE_SIZE;
    cfg->max_handshake_headers = WS6455_DEFAULT_MAX_HANDSHAKE_HEADERS;
    cfg->max_handshake_line = WS6455_DEFAULT_MAX_HANDSHAKE_LINE;
    cfg->read_buffer_size = WS6455_DEFAULT_READ_BUFFER_SIZE;
    cfg->handshake_timeout_ms = WS6455_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    cfg->close_timeout_ms = WS6455_DEFAULT_CLOSE_TIMEOUT_MS;
}

int ws6455_config_set_url(ws6455_config *cfg, const ws6455_url *url, char *storage,
                          size_t storage_cap, char *target_storage, size_t target_cap)
{
    if (!cfg || !url || !storage || !target_storage)
        return WS6455_ERR_INVALID_ARGUMENT;
    size_t need = url->host_len + (url->host_is_ipv6 ? 2 : 0) + 7 + 1;
    if (storage_cap < need || target_cap < url->target_len + 1)
        return WS6455_ERR_BUFFER_TOO_SMALL;
    size_t k = 0;
    if (url->host_is_ipv6)
        storage[k++] = '[';
    memcpy(storage + k, url->host, url->host_len);
    k += url->host_len;
    if (url->host_is_ipv6)
        storage[k++] = ']';
    uint16_t default_port = url->secure ? 443 : 80;
    if (url->port != default_port) {
        char digits[6];
        int d = 0;
        for (unsigned v = url->port; v; v /= 10)
            digits[d++] = (char)('0' + v % 10);
        storage[k++] = ':';
        while (d)
            storage[k++] = digits[--d];
    }
    storage[k] = '\0';
    memcpy(target_storage, url->target, url->target_len);
    target_storage[url->target_len] = '\0';
    cfg->host = storage;
    cfg->target = target_storage;
    return WS6455_OK;
}

/* Copies the configuration's strings and arrays into one allocation so the
 * caller's may go away. Two passes over the same walk: measure, then copy. */
typedef struct copier {
    char *dst; /* NULL while measuring */
    size_t size;
} copier;

static const void *copy_bytes(copier *cp, const void *src, size_t n, size_t align)
{
    cp->size = (cp->size + align - 1) / align * align;
    const void *where = NULL;
    if (cp->dst) {
        if (n)
            memcpy(cp->dst + cp->size, src, n);
        where = cp->dst + cp->size;
    }
    cp->size += n;
    return where;
}

static const char *copy_str(copier *cp, const char *s)
{
    return s ? copy_bytes(cp, s, strlen(s) + 1, 1) : NULL;
}

static void copy_config_strings(copier *cp, ws6455_config *dst, const ws6455_config *src)
{
    /* Arrays first, at pointer alignment; their entries are filled below. */
    const char **protos = (const char **)copy_bytes(
        cp, src->subprotocols, src->subprotocol_count * sizeof(char *), sizeof(void *));
    ws6455_header *hdrs = (ws6455_header *)copy_bytes(
        cp, src->headers, src->header_count * sizeof(ws6455_header), sizeof(void *));
    for (size_t i = 0; i < src->subprotocol_count; i++) {
        const char *s = copy_str(cp, src->subprotocols[i]);
        if (protos)
            protos[i] = s;
    }
    for (size_t i = 0; i < src->header_count; i++) {
        const ws6455_header *h = &src->headers[i];
        const char *name = copy_bytes(cp, h->name, h->name_len, 1);
        const char *value = copy_bytes(cp, h->value, h->value_len, 1);
        if (hdrs) {
            hdrs[i].name = name;
            hdrs[i].value = value;
        }
    }
    const char *host = copy_str(cp, src->host);
    const char *target = copy_str(cp, src->target);
    const char *origin = copy_str(cp, src->origin);
    if (cp->dst) {
        dst->subprotocols = protos;
        dst->headers = hdrs;
        dst->host = host;
        dst->target = target;
        dst->origin = origin;
    }
}

static int config_valid(const ws6455_config *cfg)
{
    if (cfg->role != WS6455_ROLE_SERVER && cfg->role != WS6455_ROLE_CLIENT)
        return 0;
    if ((cfg->subprotocol_count && !cfg->subprotocols) || (cfg->header_count && !cfg->headers))
        return 0;
    for (size_t i = 0; i < cfg->subprotocol_count; i++)
        if (!cfg->subprotocols[i])
            return 0;
    for (size_t i = 0; i < cfg->header_count; i++)
        if (!cfg->headers[i].name || !cfg->headers[i].value)
            return 0;
    if (cfg->role == WS6455_ROLE_CLIENT && !(cfg->flags & WS6455_SKIP_HANDSHAKE) && !cfg->host)
        return 0;
    return cfg->max_handshake_size > 0 && cfg->read_buffer_size > 0;
}

/* ------------------------------------------------------------ lifecycle */

static int start_client_handshake(ws6455_conn *c)
{
    ws6455__hs_limits lim = {c->cfg.max_handshake_size, c->cfg.max_handshake_headers,
                             c->cfg.max_handshake_line};
    c->hsc = ws6455__hs_client_new(&c->alloc, &lim);
    if (!c->hsc)
        return WS6455_ERR_NOMEM;
    uint8_t nonce[16];
    int rc = ws6455__random(c, nonce, sizeof nonce);
    if (rc < 0)
        return rc;
    ws6455__hs_client_params p = {
        .host = c->cfg.host,
        .target = c->cfg.target ? c->cfg.target : "/",
        .origin = c->cfg.origin,
        .protocols = c->cfg.subprotocols,
        .protocol_count = c->cfg.subprotocol_count,
        .headers = c->cfg.headers,
        .header_count = c->cfg.header_count,
    };
    return ws6455__hs_client_request(c->hsc, &p, nonce, &c->out);
}

ws6455_conn *ws6455_conn_new_err(const ws6455_config *cfg, const ws6455_callbacks *cb, void *user,
                                 int *err)
{
    ws6455_config defaults;
    if (!cfg) {
        ws6455_config_init(&defaults, WS6455_ROLE_SERVER);
        cfg = &defaults;
    }
    int dummy;
    if (!err)
        err = &dummy;
    /* A caller built against an older, shorter config gets our defaults
     * for the fields it does not know. */
    ws6455_config local;
    ws6455_config_init(&local, cfg->role);
    size_t known = cfg->struct_size && cfg->struct_size < sizeof local ? cfg->struct_size
                                                                        : sizeof local;
    memcpy(&local, cfg, known);
    local.struct_size = sizeof local;
    if (!config_valid(&local)) {
        *err = WS6455_ERR_INVALID_ARGUMENT;
        return NULL;
    }

    ws6455_allocator alloc;
    ws6455__allocator_resolve(&alloc, local.allocator);
    ws6455_conn *c = ws6455__alloc(&alloc, sizeof *c);
    if (!c) {
        *err = WS6455_ERR_NOMEM;
        return NULL;
    }
    memset(c, 0, sizeof *c);
    c->alloc = alloc;
    if (cb)
        c->cb = *cb;
    c->user = user;
    c->cfg = local;
    c->cfg.allocator = NULL;

    copier cp = {NULL, 0};
    copy_config_strings(&cp, &c->cfg, &local);
    c->copied = ws6455__alloc(&alloc, cp.size);
    if (!c->copied) {
        ws6455__free(&alloc, c);
        *err = WS6455_ERR_NOMEM;
        return NULL;
    }
    cp.dst = c->copied;
    cp.size = 0;
    copy_config_strings(&cp, &c->cfg, &local);

    c->out.max = c->cfg.max_output_buffer + WS6455__CONTROL_SLACK;
    c->msg.max = c->cfg.max_message_size;
    unsigned dflags = (c->cfg.flags & WS6455_LENIENT_LENGTH) ? WS6455_FRAME_LENIENT_LENGTH : 0;
    ws6455_frame_decoder_init(&c->dec, c->cfg.role, 0, dflags);

    int rc = WS6455_OK;
    if (c->cfg.flags & WS6455_SKIP_HANDSHAKE) {
        c->state = WS6455_STATE_OPEN;
    } else if (c->cfg.role == WS6455_ROLE_CLIENT) {
        rc = start_client_handshake(c);
    } else {
        ws6455__hs_limits lim = {c->cfg.max_handshake_size, c->cfg.max_handshake_headers,
                                 c->cfg.max_handshake_line};
        c->hss = ws6455__hs_server_new(&c->alloc, &lim);
        if (!c->hss)
            rc = WS6455_ERR_NOMEM;
    }
    if (rc < 0) {
        c->in_callback = 0;
        ws6455_conn_free(c);
        *err = rc;
        return NULL;
    }
    *err = WS6455_OK;
    return c;
}

ws6455_conn *ws6455_conn_new(const ws6455_config *cfg, const ws6455_callbacks *cb, void *user)
{
    return ws6455_conn_new_err(cfg, cb, user, NULL);
}

static void really_free(ws6455_conn *c)
{
    ws6455_allocator a = c->alloc;
    ws6455__hs_server_free(c->hss);
    ws6455__hs_client_free(c->hsc);
    ws6455__rx_free(c);
    ws6455__buf_free(&c->out, &a);
    ws6455__free(&a, c->subprotocol);
    ws6455__free(&a, c->rbuf);
    ws6455__free(&a, c->copied);
    ws6455__free(&a, c);
}

void ws6455_conn_free(ws6455_conn *c)
{
    if (!c)
        return;
    if (c->in_callback) {
        /* Freed from inside an event: the call that delivered it frees the
         * connection on its way out (ws6455__leave). */
        c->free_requested = 1;
        return;
    }
    really_free(c);
}

int ws6455__leave(ws6455_conn *c, int rc)
{
    if (c->free_requested && c->in_callback == 0) {
        really_free(c);
        return WS6455_ERR_CLOSED;
    }
    return rc;
}

int ws6455_conn_state(const ws6455_conn *c)
{
    return c->state;
}

int ws6455_conn_error(const ws6455_conn *c)
{
    return c->error;
}

const char *ws6455_conn_subprotocol(const ws6455_conn *c)
{
    return c->subprotocol;
}

const ws6455_response *ws6455_conn_response(const ws6455_conn *c)
{
    return c->hsc ? ws6455__hs_client_response(c->hsc) : NULL;
}

void *ws6455_conn_user(const ws6455_conn *c)
{
    return c->user;
}

/* ------------------------------------------------------------ randomness */

static int os_random(uint8_t *buf, size_t n)
{
    while (n) {
#if defined(__linux__)
        ssize_t r = getrandom(buf, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno != ENOSYS)
            return -1;
        if (r < 0) {
#else
        {
#endif
            int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return -1;
            while (n) {
                ssize_t k = read(fd, buf, n);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0) {
                    close(fd);
                    return -1;
                }
                buf += k;
                n -= (size_t)k;
            }
            close(fd);
            return 0;
        }
#if defined(__linux__)
        buf += r;
        n -= (size_t)r;
#endif
    }
    return 0;
}

int ws6455__random(ws6455_conn *c, uint8_t *buf, size_t n)
{
    if (c->cb.random)
        return c->cb.random(c->user, buf, n) == 0 ? WS6455_OK : WS6455_ERR_RANDOM;
    while (n) {
        if (c->rand_left == 0) {
            if (os_random(c->rand_pool, sizeof c->rand_pool) != 0)
                return WS6455_ERR_RANDOM;
            c->rand_left = sizeof c->rand_pool;
        }
        size_t k = n < c->rand_left ? n : c->rand_left;
        uint8_t *src = c->rand_pool + sizeof c->rand_pool - c->rand_left;
        memcpy(buf, src, k);
        memset(src, 0, k); /* a used mask never lingers to be reused */
        c->rand_left = (uint8_t)(c->rand_left - k);
        buf += k;
        n -= k;
    }
    return WS6455_OK;
}

/* ------------------------------------------------------------ closing */

void ws6455__notify_close(ws6455_conn *c, int code, const char *reason, size_t len)
{
    if (c->close_notified)
        return;
    c->close_notified = 1;
    WS6455__EMIT(c, on_close, code, reason ? reason : "", len);
}

void ws6455__fail(ws6455_conn *c, int err)
{
    if (c->error)
        return;
    c->error = err;
    int code = ws6455_error_close_code(err);
    int was_open = c->state == WS6455_STATE_OPEN || c->state == WS6455_STATE_CLOSING;
    WS6455__EMIT(c, on_error, err);
    int sent = 0;
    if (was_open && code && !c->close_sent) {
        /* The reason names the violation, which makes a peer's logs useful;
         * every message in the list is ASCII and shorter than 123 bytes. */
        const char *why = ws6455_strerror(err);
        sent = ws6455__queue_close(c, (unsigned)code, why, strlen(why)) == WS6455_OK;
    }
    c->state = WS6455_STATE_CLOSED;
    ws6455__notify_close(c, sent ? code : 1006, "", 0);
}

int ws6455__open(ws6455_conn *c, const char *subprotocol)
{
    if (subprotocol) {
        size_t n = strlen(subprotocol);
        c->subprotocol = ws6455__alloc(&c->alloc, n + 1);
        if (!c->subprotocol)
            return WS6455_ERR_NOMEM;
        memcpy(c->subprotocol, subprotocol, n + 1);
    }
    c->state = WS6455_STATE_OPEN;
    c->last_rx_at = c->now;
    WS6455__EMIT(c, on_open, c->subprotocol);
    return WS6455_OK;
}

/* ------------------------------------------------------------ handshake */

/* Asks the application (or the configured list) and queues the answer. */
static int server_answer(ws6455_conn *c)
{
    const ws6455_request *req = ws6455__hs_server_request(c->hss);
    ws6455_handshake_reply reply = {101, NULL, NULL, 0, NULL};
    reply.subprotocol =
        ws6455__hs_choose_protocol(req, c->cfg.subprotocols, c->cfg.subprotocol_count);
    if (c->cb.on_request) {
        c->in_callback++;
        int verdict = c->cb.on_request(c, req, &reply, c->user);
        c->in_callback--;
        if (verdict != 0)
            reply = (ws6455_handshake_reply){500, NULL, NULL, 0, NULL};
    }
    int rc = ws6455__hs_server_respond(c->hss, &reply, &c->out, &c->alloc);
    if (rc == WS6455_ERR_INVALID_ARGUMENT) {
        /* The application's reply was unusable: answer 500, not silence. */
        ws6455_handshake_reply oops = {500, NULL, NULL, 0, "invalid handshake reply"};
        rc = ws6455__hs_server_respond(c->hss, &oops, &c->out, &c->alloc);
        if (rc == WS6455_OK)
            rc = WS6455_ERR_CALLBACK;
        return rc;
    }
    if (rc < 0)
        return rc;
    if (reply.status != 101)
        return WS6455_ERR_HS_REJECTED;
    rc = ws6455__open(c, reply.subprotocol);
    ws6455__hs_server_free(c->hss);
    c->hss = NULL;
    return rc < 0 ? rc : 1;
}

/* A failed handshake: the HTTP error response (server) and CLOSED. */
static int handshake_failed(ws6455_conn *c, int err)
{
    if (c->cfg.role == WS6455_ROLE_SERVER && err != WS6455_ERR_HS_REJECTED &&
        err != WS6455_ERR_CALLBACK && c->out.len == 0)
        (void)ws6455__hs_error_response(err, &c->out, &c->alloc);
    ws6455__fail(c, err);
    return err;
}

int ws6455__handshake_recv(ws6455_conn *c, const uint8_t *p, size_t n, size_t *used)
{
    int rc;
    *used = 0;
    if (c->cfg.role == WS6455_ROLE_SERVER) {
        rc = ws6455__hs_server_feed(c->hss, p, n, used);
        if (rc == 1)
            rc = server_answer(c);
    } else {
        rc = ws6455__hs_client_feed(c->hsc, p, n, used);
        if (rc == 1)
            rc = ws6455__open(c, ws6455__hs_client_protocol(c->hsc));
        if (rc == WS6455_OK)
            rc = 1;
    }
    if (rc < 0)
        return handshake_failed(c, rc);
    return rc;
}

int ws6455_conn_accept_upgrade(ws6455_conn *c, const char *method, size_t method_len,
                               const char *target, size_t target_len,
                               const ws6455_header *headers, size_t header_count, uint8_t *head,
                               size_t head_len)
{
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (c->cfg.role != WS6455_ROLE_SERVER || c->state != WS6455_STATE_CONNECTING || !c->hss ||
        c->error)
        return WS6455_ERR_INVALID_STATE;
    if (!method || !target || (header_count && !headers) || (head_len && !head))
        return WS6455_ERR_INVALID_ARGUMENT;
    int rc = ws6455__hs_server_set_parsed(c->hss, method, method_len, target, target_len,
                                          headers, header_count);
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

/* ------------------------------------------------------------ time */

/* When the keepalive next needs attention. */
static uint64_t keepalive_deadline(const ws6455_conn *c)
{
    if (c->state != WS6455_STATE_OPEN || !c->cfg.ping_interval_ms)
        return WS6455_NO_DEADLINE;
    if (c->ping_outstanding)
        return c->cfg.ping_timeout_ms ? c->ping_sent_at + c->cfg.ping_timeout_ms
                                      : WS6455_NO_DEADLINE;
    return c->last_rx_at + c->cfg.ping_interval_ms;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t ws6455_conn_deadline(const ws6455_conn *c)
{
    uint64_t d = WS6455_NO_DEADLINE;
    if (c->state == WS6455_STATE_CONNECTING && c->cfg.handshake_timeout_ms)
        d = min_u64(d, c->created_at + c->cfg.handshake_timeout_ms);
    if (c->state == WS6455_STATE_CLOSING && c->cfg.close_timeout_ms)
        d = min_u64(d, c->close_sent_at + c->cfg.close_timeout_ms);
    return min_u64(d, keepalive_deadline(c));
}

int ws6455_conn_tick(ws6455_conn *c, uint64_t now_ms)
{
    if (c->in_callback)
        return WS6455_ERR_INVALID_STATE;
    if (!c->have_time) {
        /* Stamps taken before the caller told us the time were taken at 0. */
        c->have_time = 1;
        c->created_at += now_ms;
        c->close_sent_at += now_ms;
        c->last_rx_at += now_ms;
        c->ping_sent_at += now_ms;
    }
    if (now_ms > c->now)
        c->now = now_ms;
    if (c->error || c->state == WS6455_STATE_CLOSED)
        return ws6455__leave(c, c->error);
    int handshake_late = c->state == WS6455_STATE_CONNECTING && c->cfg.handshake_timeout_ms &&
                         c->now >= c->created_at + c->cfg.handshake_timeout_ms;
    int close_late = c->state == WS6455_STATE_CLOSING && c->cfg.close_timeout_ms &&
                     c->now >= c->close_sent_at + c->cfg.close_timeout_ms;
    if (handshake_late || close_late) {
        ws6455__fail(c, WS6455_ERR_TIMEOUT);
    } else if (c->now >= keepalive_deadline(c)) {
        if (c->ping_outstanding) {
            ws6455__fail(c, WS6455_ERR_TIMEOUT);
        } else {
            int rc = ws6455__queue_frame(c, WS6455_OP_PING, 1, NULL, 0);
            if (rc < 0)
                ws6455__fail(c, rc);
            c->ping_outstanding = 1;
            c->ping_sent_at = c->now;
        }
    }
    return ws6455__leave(c, c->error);
}
