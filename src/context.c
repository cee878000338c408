/* The shared context: configuration checking and copying, callbacks,
 * reference counting, and the buffers connections borrow from it. */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* getrandom, O_CLOEXEC */
#endif
#include "context.h"

#include "outq.h"
#include "pmd.h"

#include <string.h>
#if !defined(WS6455_NO_OS_RANDOM)
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif
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
    cfg->read_budget = WS6455_DEFAULT_READ_BUDGET;
    cfg->handshake_timeout_ms = WS6455_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    cfg->close_timeout_ms = WS6455_DEFAULT_CLOSE_TIMEOUT_MS;
    ws6455__deflate_options_init(&cfg->deflate);
}

void ws6455_callbacks_init(ws6455_callbacks *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->struct_size = sizeof *cb;
}

/* The size of ws6455_config and ws6455_callbacks in the first release that
 * had struct_size (0.2.0): a caller that leaves struct_size 0 is read as
 * built against that layout, which stays correct when later releases
 * append fields (docs/abi.md). */
#define CONFIG_V1_SIZE sizeof(ws6455_config)
#define CALLBACKS_V1_SIZE sizeof(ws6455_callbacks)

/* A caller's struct, however old: the fields it knows, our defaults for
 * the rest. */
static void config_upgrade(ws6455_config *out, const ws6455_config *in)
{
    ws6455_config_init(out, in->role);
    size_t known = in->struct_size ? in->struct_size : CONFIG_V1_SIZE;
    if (known > sizeof *out)
        known = sizeof *out;
    memcpy(out, in, known);
    out->struct_size = sizeof *out;
}

static void callbacks_upgrade(ws6455_callbacks *out, const ws6455_callbacks *in)
{
    memset(out, 0, sizeof *out);
    if (in) {
        size_t known = in->struct_size ? in->struct_size : CALLBACKS_V1_SIZE;
        if (known > sizeof *out)
            known = sizeof *out;
        memcpy(out, in, known);
    }
    out->struct_size = sizeof *out;
}

/* A role this build left out (WS6455_NO_CLIENT). */
static int role_left_out(const ws6455_config *cfg)
{
#if defined(WS6455_NO_CLIENT)
    return cfg->role == WS6455_ROLE_CLIENT;
#else
    (void)cfg;
    return 0;
#endif
}

/* Every rule, in field order; the first broken one names its field. */
static const char *config_bad_field(const ws6455_config *cfg)
{
    if ((cfg->role != WS6455_ROLE_SERVER && cfg->role != WS6455_ROLE_CLIENT) || role_left_out(cfg))
        return "role";
    if (cfg->max_handshake_size == 0)
        return "max_handshake_size";
    if (cfg->read_buffer_size == 0)
        return "read_buffer_size";
    if (cfg->close_timeout_ms == 0)
        return "close_timeout_ms";
    if (cfg->subprotocol_count && !cfg->subprotocols)
        return "subprotocols";
    for (size_t i = 0; i < cfg->subprotocol_count; i++)
        if (!cfg->subprotocols[i])
            return "subprotocols";
    if (cfg->role == WS6455_ROLE_CLIENT && !(cfg->flags & WS6455_SKIP_HANDSHAKE) && !cfg->host)
        return "host";
    if (cfg->header_count && !cfg->headers)
        return "headers";
    if (ws6455__deflate_options_check(&cfg->deflate) < 0)
        return "deflate";
    for (size_t i = 0; i < cfg->header_count; i++)
        if ((!cfg->headers[i].name && cfg->headers[i].name_len) ||
            (!cfg->headers[i].value && cfg->headers[i].value_len))
            return "headers";
    return NULL;
}

int ws6455_config_check(const ws6455_config *cfg, const char **bad_field)
{
    const char *bad = "cfg";
    if (cfg) {
        ws6455_config full;
        config_upgrade(&full, cfg);
        bad = config_bad_field(&full);
    }
    if (bad_field)
        *bad_field = bad;
    if (bad && cfg && role_left_out(cfg))
        return WS6455_ERR_UNSUPPORTED;
    return bad ? WS6455_ERR_INVALID_ARGUMENT : WS6455_OK;
}

/* The callback a build switch makes the configuration need, or forbids,
 * if it is missing or set: WS6455_NO_OS_RANDOM makes a client (the only
 * role that draws random bytes) need `random`; WS6455_NO_CALLBACK_IO has
 * nothing that would call the I/O callbacks. */
static const char *callback_left_out(const ws6455_config *cfg, const ws6455_callbacks *cb)
{
#if defined(WS6455_NO_OS_RANDOM)
    if (WS6455__IS_CLIENT(cfg) && !cb->random)
        return "random";
#endif
#if defined(WS6455_NO_CALLBACK_IO)
    if (cb->read)
        return "read";
    if (cb->write)
        return "write";
    if (cb->writev)
        return "writev";
#endif
    (void)cfg, (void)cb;
    return NULL;
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
    for (size_t i = 0; i < src->subprotocol_count; i++) {
        const char *s = copy_str(cp, src->subprotocols[i]);
        if (protos)
            protos[i] = s;
    }
    if (cp->dst)
        dst->subprotocols = protos;
#if !defined(WS6455_NO_CLIENT) /* else drop_client_fields left none */
    ws6455_header *hdrs = (ws6455_header *)copy_bytes(
        cp, src->headers, src->header_count * sizeof(ws6455_header), sizeof(void *));
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
        dst->headers = hdrs;
        dst->host = host;
        dst->target = target;
        dst->origin = origin;
    }
#endif
}

#if defined(WS6455_NO_CLIENT)
/* The fields of the client's request (checked by config_bad_field): a
 * server never reads them, so its context keeps no copy. */
static void drop_client_fields(ws6455_config *cfg)
{
    cfg->host = cfg->target = cfg->origin = NULL;
    cfg->headers = NULL;
    cfg->header_count = 0;
}
#endif

/* ------------------------------------------------------------ lifecycle */

ws6455_context *ws6455_context_new_err(const ws6455_config *cfg, const ws6455_callbacks *cb,
                                       int *err, const char **bad_field)
{
    int dummy_err;
    const char *dummy_field;
    if (!err)
        err = &dummy_err;
    if (!bad_field)
        bad_field = &dummy_field;
    *bad_field = NULL;
    ws6455_config local;
    if (cfg)
        config_upgrade(&local, cfg);
    else
        ws6455_config_init(&local, WS6455_ROLE_SERVER);
    *bad_field = config_bad_field(&local);
    if (*bad_field) {
        *err = role_left_out(&local) ? WS6455_ERR_UNSUPPORTED : WS6455_ERR_INVALID_ARGUMENT;
        return NULL;
    }
    ws6455_callbacks callbacks;
    callbacks_upgrade(&callbacks, cb);
    if ((*bad_field = callback_left_out(&local, &callbacks)) != NULL) {
        *err = WS6455_ERR_UNSUPPORTED;
        return NULL;
    }
    if (local.read_budget == 0)
        local.read_budget = local.read_buffer_size;
#if defined(WS6455_NO_CLIENT)
    drop_client_fields(&local);
#endif

    ws6455_allocator alloc;
    ws6455__allocator_resolve(&alloc, local.allocator);
    copier cp = {NULL, 0};
    copy_config_strings(&cp, &local, &local);
    ws6455_context *ctx = ws6455__alloc(&alloc, sizeof *ctx);
    void *copied = cp.size ? ws6455__alloc(&alloc, cp.size) : NULL;
    if (!ctx || (cp.size && !copied)) {
        ws6455__free(&alloc, ctx);
        ws6455__free(&alloc, copied);
        *err = WS6455_ERR_NOMEM;
        return NULL;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = alloc;
    ctx->cb = callbacks;
    ctx->cfg = local;
    ctx->cfg.allocator = NULL;
    ctx->copied = copied;
    cp.dst = copied;
    cp.size = 0;
    copy_config_strings(&cp, &ctx->cfg, &local);
    ctx->refs = 1;
    ctx->has_creator_ref = 1;
    size_t small = local.max_frame_size < local.max_message_size ? local.max_frame_size
                                                                 : local.max_message_size;
    ctx->fast_len =
        (uint8_t)(small < WS6455_MAX_CONTROL_PAYLOAD ? small : WS6455_MAX_CONTROL_PAYLOAD);
    ctx->fast_rx = !(local.flags & WS6455_STREAM_FRAGMENTS);
    ctx->fast_tx = local.role == WS6455_ROLE_SERVER && !(local.flags & WS6455_WRITE_THROUGH);
    *err = WS6455_OK;
    return ctx;
}

ws6455_context *ws6455_context_new(const ws6455_config *cfg, const ws6455_callbacks *cb)
{
    return ws6455_context_new_err(cfg, cb, NULL, NULL);
}

void ws6455__context_ref(ws6455_context *ctx)
{
    ctx->refs++;
}

void ws6455__context_unref(ws6455_context *ctx)
{
    if (--ctx->refs)
        return;
    ws6455_allocator a = ctx->alloc;
    ws6455__outq_pool_free(ctx);
    ws6455__pmd_context_free(ctx);
    size_t cap;
    while (ctx->spares)
        ws6455__free(&a, ws6455__context_take_spare(ctx, 0, &cap));
    ws6455__free(&a, ctx->rbuf);
    ws6455__free(&a, ctx->copied);
    memset(ctx->rand_pool, 0, sizeof ctx->rand_pool);
    ws6455__free(&a, ctx);
}

void ws6455_context_free(ws6455_context *ctx)
{
    if (!ctx || !ctx->has_creator_ref)
        return;
    ctx->has_creator_ref = 0;
    ws6455__context_unref(ctx);
}

/* ------------------------------------------------------------ buffers */

/* What a spare buffer's first bytes hold while it is in the stack. */
typedef struct spare_link {
    uint8_t *next;
    size_t cap;
} spare_link;
_Static_assert(WS6455__SPARE_MIN >= sizeof(spare_link), "a spare holds its link");

uint8_t *ws6455__context_take_spare(ws6455_context *ctx, size_t need, size_t *cap)
{
    /* Only the top is looked at: buffers of a workload are alike. One too
     * small is dropped, so a lone connection's messages of growing sizes
     * leave at most one buffer in the stack. */
    if (ctx->spares) {
        spare_link top;
        memcpy(&top, ctx->spares, sizeof top);
        uint8_t *p = ctx->spares;
        ctx->spares = top.next;
        ctx->spare_bytes -= top.cap;
        if (top.cap >= need) {
            *cap = top.cap;
            return p;
        }
        ws6455__free(&ctx->alloc, p);
    }
    uint8_t *p = ws6455__alloc(&ctx->alloc, need);
    *cap = p ? need : 0;
    return p;
}

void ws6455__context_give_spare(ws6455_context *ctx, uint8_t *p, size_t cap)
{
    if (!p)
        return;
    if (cap >= WS6455__SPARE_MIN && cap <= WS6455__SPARE_MAX &&
        cap <= WS6455__SPARE_BYTES - ctx->spare_bytes) {
        spare_link link = {ctx->spares, cap};
        memcpy(p, &link, sizeof link);
        ctx->spares = p;
        ctx->spare_bytes += cap;
        return;
    }
    ws6455__free(&ctx->alloc, p);
}

/* ------------------------------------------------------------ randomness */

#if !defined(WS6455_NO_OS_RANDOM)
int ws6455__os_random(uint8_t *buf, size_t n)
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

#endif

int ws6455__context_random(ws6455_context *ctx, void *user, uint8_t *buf, size_t n)
{
    if (ctx->cb.random)
        return ctx->cb.random(user, buf, n) == 0 ? WS6455_OK : WS6455_ERR_RANDOM;
#if defined(WS6455_NO_OS_RANDOM)
    (void)buf, (void)n;
    return WS6455_ERR_RANDOM; /* unreachable: creation requires the callback */
#else
    while (n) {
        if (ctx->rand_left == 0) {
            if (ws6455__os_random(ctx->rand_pool, sizeof ctx->rand_pool) != 0)
                return WS6455_ERR_RANDOM;
            ctx->rand_left = sizeof ctx->rand_pool;
        }
        size_t k = n < ctx->rand_left ? n : ctx->rand_left;
        uint8_t *src = ctx->rand_pool + sizeof ctx->rand_pool - ctx->rand_left;
        memcpy(buf, src, k);
        memset(src, 0, k); /* a used mask never lingers to be reused */
        ctx->rand_left = (uint8_t)(ctx->rand_left - k);
        buf += k;
        n -= k;
    }
    return WS6455_OK;
#endif
}
