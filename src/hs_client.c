/* The client's opening handshake (RFC 6455 section 4.1): the request with
 * its key, and the checks of the server's response, in the RFC's order. */
#include "http_head.h"

#include <string.h>

#if !defined(WS6455_NO_CLIENT)

/* ------------------------------------------------------------------ *
 * Client                                                               *
 * ------------------------------------------------------------------ */

struct ws6455_response {
    hs_head head;
};

struct ws6455__hs_client {
    struct ws6455_response resp;
    int requested; /* a request was built: key and offers are set */
    int result;    /* 0 reading, 1 valid response, <0 sticky error */
    char key[HS_KEY_LEN + 1];
    char expected[HS_ACCEPT_LEN + 1];
    int offered_extensions; /* the request offered extensions: the engine checks the answer */
    ws6455__buf offered;    /* offered subprotocols, each followed by a NUL */
    size_t noffered;
    const char *chosen; /* into `offered`, or NULL */
};

ws6455__hs_client *ws6455__hs_client_new(const ws6455_allocator *a, const ws6455__hs_limits *lim)
{
    ws6455_allocator ra;
    ws6455__allocator_resolve(&ra, a);
    ws6455__hs_client *c = ws6455__alloc(&ra, sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    ws6455__head_init(&c->resp.head, &ra, lim, HS_KIND_RESPONSE);
    return c;
}

void ws6455__hs_client_free(ws6455__hs_client *c)
{
    if (!c)
        return;
    ws6455_allocator a = c->resp.head.a;
    ws6455__buf_free(&c->offered, &a);
    ws6455__head_free(&c->resp.head);
    ws6455__free(&a, c);
}

/* Host and Origin: non-empty, and nothing that could end the line or the
 * head, nor spaces (neither a host nor a serialized origin has any). */
static int is_header_word(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

/* A request target in origin-form. A URL with a query but no path yields
 * "?q" (see ws6455_url); the request line needs "/?q", added on writing. */
static int check_client_target(const char *t)
{
    if (!t || (t[0] != '/' && t[0] != '?'))
        return 0;
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
            return 0;
    return 1;
}

/* Subprotocols: tokens (RFC 6455 4.1 item 10), all distinct. */
static int check_client_protocols(const char *const *p, size_t n)
{
    if (n && !p)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!p[i] || !ws6455__http_is_token(p[i], strlen(p[i])))
            return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p[i], p[j]) == 0)
                return 0;
    }
    return 1;
}

static int check_client_params(const ws6455__hs_client_params *p)
{
    if (!is_header_word(p->host) || !check_client_target(p->target))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (p->origin && !is_header_word(p->origin))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (!check_client_protocols(p->protocols, p->protocol_count))
        return WS6455_ERR_INVALID_ARGUMENT;
    return ws6455__http_check_extra_headers(p->headers, p->header_count);
}

/* Remembers the offered subprotocols, to check the server's choice. */
static int remember_offers(ws6455__hs_client *c, const ws6455__hs_client_params *p)
{
    ws6455__buf fresh = {0};
    for (size_t i = 0; i < p->protocol_count; i++) {
        if (ws6455__buf_append(&fresh, &c->resp.head.a, p->protocols[i],
                               strlen(p->protocols[i]) + 1) < 0) {
            ws6455__buf_free(&fresh, &c->resp.head.a);
            return WS6455_ERR_NOMEM;
        }
    }
    ws6455__buf_free(&c->offered, &c->resp.head.a);
    c->offered = fresh;
    c->noffered = p->protocol_count;
    return WS6455_OK;
}

static void write_client_request(hs_writer *w, const ws6455__hs_client_params *p, const char *key)
{
    ws6455__write_str(w, "GET ");
    if (p->target[0] == '?')
        ws6455__write_str(w, "/");
    ws6455__write_str(w, p->target);
    ws6455__write_str(w, " HTTP/1.1\r\n");
    ws6455__write_header(w, "Host", p->host);
    ws6455__write_header(w, "Upgrade", "websocket");
    ws6455__write_header(w, "Connection", "Upgrade");
    ws6455__write_header(w, "Sec-WebSocket-Key", key);
    ws6455__write_header(w, "Sec-WebSocket-Version", "13");
    if (p->origin)
        ws6455__write_header(w, "Origin", p->origin);
    if (p->protocol_count) {
        ws6455__write_str(w, "Sec-WebSocket-Protocol: ");
        for (size_t i = 0; i < p->protocol_count; i++) {
            if (i)
                ws6455__write_str(w, ", ");
            ws6455__write_str(w, p->protocols[i]);
        }
        ws6455__write_str(w, "\r\n");
    }
    if (p->extensions)
        ws6455__write_header(w, "Sec-WebSocket-Extensions", p->extensions);
    ws6455__write_extra_headers(w, p->headers, p->header_count);
    ws6455__write_str(w, "\r\n");
}

int ws6455__hs_client_request(ws6455__hs_client *c, const ws6455__hs_client_params *p,
                              const uint8_t nonce[16], ws6455__buf *out)
{
    if (!c || !p || !nonce || !out)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (c->resp.head.len != 0 || c->result != 0)
        return WS6455_ERR_INVALID_STATE; /* the response is already arriving */
    int rc = check_client_params(p);
    if (rc < 0)
        return rc;
    char key[HS_KEY_LEN + 1], expected[HS_ACCEPT_LEN + 1];
    if (ws6455_base64_encode(nonce, 16, key, sizeof key) != HS_KEY_LEN ||
        ws6455_accept_key(key, HS_KEY_LEN, expected) != WS6455_OK)
        return WS6455_ERR_INVALID_ARGUMENT; /* cannot happen with a 16-byte nonce */
    hs_writer w;
    ws6455__writer_begin(&w, out, &c->resp.head.a);
    write_client_request(&w, p, key);
    if ((rc = ws6455__writer_end(&w)) < 0)
        return rc;
    if ((rc = remember_offers(c, p)) < 0) {
        out->len = w.mark;
        return rc;
    }
    memcpy(c->key, key, sizeof key);
    memcpy(c->expected, expected, sizeof expected);
    c->offered_extensions = p->extensions != NULL;
    c->requested = 1;
    return WS6455_OK;
}

/* RFC 6455 4.1, the client's checks of the response, in the RFC's order. */
static int check_status_101(const hs_head *h)
{
    return h->status == 101 ? WS6455_OK : WS6455_ERR_HS_STATUS;
}

static int check_accept(const hs_head *h, const char *expected)
{
    size_t len;
    const char *v = ws6455__head_value(h, "Sec-WebSocket-Accept", &len);
    return v && len == HS_ACCEPT_LEN && memcmp(v, expected, HS_ACCEPT_LEN) == 0
               ? WS6455_OK
               : WS6455_ERR_HS_ACCEPT;
}

/* 4.1 item 5: extensions in the response must be ones we offered. Without
 * an offer any is an error; with one, the engine checks the answer against
 * it (src/deflate_negotiate.c), once the head is complete. */
static int check_no_extensions(const ws6455__hs_client *c)
{
    if (c->offered_extensions)
        return WS6455_OK;
    return ws6455__head_find(&c->resp.head, "Sec-WebSocket-Extensions") ? WS6455_ERR_HS_EXTENSION
                                                                        : WS6455_OK;
}

/* 4.1 item 6: at most one value, and one we offered (exact match). Two
 * header lines join into "a, b", which is not one offered name. */
static int check_chosen_protocol(ws6455__hs_client *c)
{
    const hs_head *h = &c->resp.head;
    size_t len;
    const char *v = ws6455__head_value(h, "Sec-WebSocket-Protocol", &len);
    c->chosen = NULL;
    if (!v)
        return WS6455_OK;
    const char *o = (const char *)c->offered.data;
    for (size_t i = 0; i < c->noffered; i++) {
        size_t n = strlen(o);
        if (n == len && memcmp(o, v, len) == 0) {
            c->chosen = o;
            return WS6455_OK;
        }
        o += n + 1;
    }
    return WS6455_ERR_HS_PROTOCOL;
}

static int validate_response(ws6455__hs_client *c)
{
    const hs_head *h = &c->resp.head;
    int rc;
    if ((rc = check_status_101(h)) < 0)
        return rc;
    /* RFC 6455 4.1, items 2 and 3 of the response checks; "keep-alive,
     * Upgrade" is fine. */
    if (!ws6455__head_lists(h, "Upgrade", "websocket"))
        return WS6455_ERR_HS_UPGRADE;
    if (!ws6455__head_lists(h, "Connection", "upgrade"))
        return WS6455_ERR_HS_CONNECTION;
    if ((rc = check_accept(h, c->expected)) < 0 || (rc = check_no_extensions(c)) < 0 ||
        (rc = check_chosen_protocol(c)) < 0)
        return rc;
    return 1;
}

int ws6455__hs_client_feed(ws6455__hs_client *c, const uint8_t *p, size_t n, size_t *consumed)
{
    size_t used = 0;
    if (consumed)
        *consumed = 0;
    if (!c || (!p && n))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (!c->requested)
        return WS6455_ERR_INVALID_STATE;
    if (c->result != 0)
        return c->result;
    /* A non-101 answer ends at its head: its body (if any) is not read. */
    int rc = ws6455__head_feed(&c->resp.head, p, n, &used);
    if (rc == 1)
        rc = validate_response(c);
    if (consumed)
        *consumed = used;
    c->result = rc;
    return rc;
}

const ws6455_response *ws6455__hs_client_response(const ws6455__hs_client *c)
{
    return c && c->resp.head.complete ? &c->resp : NULL;
}

const char *ws6455__hs_client_protocol(const ws6455__hs_client *c)
{
    return c && c->result == 1 ? c->chosen : NULL;
}

/* ------------------------------------------------------------------ *
 * Response view (public accessors)                                     *
 * ------------------------------------------------------------------ */

int ws6455_response_status(const ws6455_response *r)
{
    return r ? r->head.status : 0;
}

const char *ws6455_response_header(const ws6455_response *r, const char *name, size_t *len)
{
    return r && name ? ws6455__head_value(&r->head, name, len) : NULL;
}

size_t ws6455_response_header_count(const ws6455_response *r)
{
    return r ? r->head.nfields : 0;
}

int ws6455_response_header_at(const ws6455_response *r, size_t i, ws6455_header *out)
{
    return r ? ws6455__head_field_at(&r->head, i, out) : WS6455_ERR_INVALID_ARGUMENT;
}

#else

/* WS6455_NO_CLIENT: the client handshake is left out. ISO C wants a
 * declaration in every translation unit. */
typedef int ws6455__no_client_build;

#endif
