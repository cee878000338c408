/* The server's opening handshake (RFC 6455 section 4.2): the rules of
 * section 4.2.1 checked on a request read from the wire or handed over
 * parsed by an embedding HTTP server, the request's public view, and the
 * 101 or error response.
 *
 * The rules look at each header once, as its line is read (on_request_field),
 * and keep only what they need: counts, whether a value was right, the
 * offered subprotocols. The verdict waits for the whole head, so the answer
 * does not depend on the order of the headers. The head reader keeps the
 * headers themselves only for the request view (not at all with
 * WS6455_NO_REQUEST_HEADERS, where a request costs its request line, one
 * header line, its Origin and its offered subprotocols of memory). */
#include "http_head.h"

#include "ascii.h"

#include <string.h>

/* ------------------------------------------------------------------ *
 * Server: the request and the rules of RFC 6455 section 4.2.1          *
 * ------------------------------------------------------------------ */

#if defined(WS6455_NO_REQUEST_HEADERS) && defined(WS6455_WITH_ZLIB)
#error "WS6455_NO_REQUEST_HEADERS leaves out the extension offers permessage-deflate negotiates"
#endif

struct ws6455_request {
    hs_head head;
    ws6455__buf offered; /* offered subprotocols, in order, each NUL-terminated */
    size_t nprotocols;
    /* Where ws6455_request_protocol last stopped (index, offset): asking
     * for them in order walks the list once. */
    size_t cursor_i, cursor_off;
    ws6455__buf origin; /* Origin lines joined with ", ", NUL-terminated once valid */
    size_t origins;     /* how many Origin lines */
#if !defined(WS6455_NO_REQUEST_HEADERS)
    hs_span *extensions; /* offered extensions with their parameters */
    size_t nextensions;
#endif
};

/* What the rules need of the headers, gathered line by line. */
typedef struct hs_rules {
    size_t hosts, keys, versions, lengths; /* how many lines of each */
    /* the value of the first such line is right */
    uint8_t host_ok, key_ok, version_ok, length_zero;
    uint8_t transfer_encoding;
    uint8_t upgrade_ok, connection_ok; /* some line lists the token */
    int upgrade_quoted, connection_quoted; /* list state across lines */
    uint8_t protocols_bad; /* an offered subprotocol is not a token */
} hs_rules;

struct ws6455__hs_server {
    struct ws6455_request req;
    hs_rules rules;
    int result;                     /* 0 reading, 1 valid request, <0 sticky error */
    char accept[HS_ACCEPT_LEN + 1]; /* Sec-WebSocket-Accept for the client's key */
};

static int on_request_field(void *arg, const char *name, size_t name_len, const char *v, size_t n);

ws6455__hs_server *ws6455__hs_server_new(const ws6455_allocator *a, const ws6455__hs_limits *lim)
{
    ws6455_allocator ra;
    ws6455__allocator_resolve(&ra, a);
    ws6455__hs_server *s = ws6455__alloc(&ra, sizeof *s);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    hs_head *h = &s->req.head;
    ws6455__head_init(h, &ra, lim, HS_KIND_REQUEST);
#if defined(WS6455_NO_REQUEST_HEADERS)
    h->keep_fields = 0;
#endif
    h->on_field = on_request_field;
    h->field_arg = s;
    return s;
}

void ws6455__hs_server_keep_headers(ws6455__hs_server *s, int keep)
{
#if defined(WS6455_NO_REQUEST_HEADERS)
    (void)s, (void)keep;
#else
    s->req.head.keep_fields = keep != 0;
#endif
}

void ws6455__hs_server_free(ws6455__hs_server *s)
{
    if (!s)
        return;
    ws6455_allocator a = s->req.head.a;
    ws6455__buf_free(&s->req.offered, &a);
    ws6455__buf_free(&s->req.origin, &a);
#if !defined(WS6455_NO_REQUEST_HEADERS)
    ws6455__free(&a, s->req.extensions);
#endif
    ws6455__head_free(&s->req.head);
    ws6455__free(&a, s);
}

/* RFC 3986 reg-name: unreserved, sub-delims and pct-encoded octets. */
static int is_reg_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (ws6455__is_alpha(c) || ws6455__is_digit(c) ||
            (c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL))
            continue;
        if (c == '%' && i + 2 < n && ws6455__is_hex(s[i + 1]) && ws6455__is_hex(s[i + 2])) {
            i += 2;
            continue;
        }
        return 0;
    }
    return 1;
}

/* RFC 3986 IP-literal, between the brackets: an IPv6 address (hex digits,
 * colons, a dotted IPv4 tail) or IPvFuture ("v" HEXDIG "." ...). The shape
 * is checked, not the address: a Host value only has to be well-formed. */
static int is_ip_literal(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (s[0] == 'v' || s[0] == 'V') {
        /* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
        size_t i = 1;
        while (i < n && ws6455__is_hex(s[i]))
            i++;
        if (i == 1 || i + 1 >= n || s[i] != '.')
            return 0;
        for (i++; i < n; i++)
            if (s[i] != ':' && !is_reg_name(s + i, 1))
                return 0;
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (!ws6455__is_hex(s[i]) && s[i] != ':' && s[i] != '.')
            return 0;
    return memchr(s, ':', n) != NULL;
}

/* Host = uri-host [ ":" port ] (RFC 7230 5.4, RFC 3986 3.2.2): a
 * registered name, an IPv4 address or a bracketed IP literal, and an
 * optional port of at most five digits. No spaces, controls or 8-bit
 * bytes. Not empty: a WebSocket URI always has a host. */
static int host_value_valid(const char *v, size_t n)
{
    size_t host_end = n;
    if (n && v[0] == '[') {
        const char *close = memchr(v, ']', n);
        if (!close || !is_ip_literal(v + 1, (size_t)(close - v - 1)))
            return 0;
        host_end = (size_t)(close - v) + 1;
    } else {
        const char *colon = memchr(v, ':', n);
        if (colon)
            host_end = (size_t)(colon - v);
        if (host_end == 0 || !is_reg_name(v, host_end))
            return 0;
    }
    if (host_end == n)
        return 1;
    if (v[host_end] != ':')
        return 0;
    size_t digits = n - host_end - 1;
    if (digits > 5)
        return 0;
    for (size_t i = host_end + 1; i < n; i++)
        if (!ws6455__is_digit(v[i]))
            return 0;
    return 1;
}

/* The offered subprotocols of one Sec-WebSocket-Protocol line, kept in
 * order. Each must be a token (RFC 6455 4.1); one that is not fails the
 * request (HS_MALFORMED) once the head is complete. Lines are taken apart
 * one by one: an element can only run into the next line inside a quoted
 * string, and a quote is not a token character, so the verdict and the
 * list are those of the joined value. */
static int collect_protocols(ws6455__hs_server *s, const char *v, size_t n)
{
    struct ws6455_request *r = &s->req;
    size_t pos = 0;
    hs_span e;
    while (ws6455__http_next_list_element(v, n, &pos, &e)) {
        if (e.len == 0)
            continue;
        if (!ws6455__http_is_token(v + e.off, e.len)) {
            s->rules.protocols_bad = 1;
            continue;
        }
        if (ws6455__buf_append(&r->offered, &r->head.a, v + e.off, e.len) < 0 ||
            ws6455__buf_append(&r->offered, &r->head.a, "", 1) < 0)
            return WS6455_ERR_NOMEM;
        r->nprotocols++;
    }
    return WS6455_OK;
}

/* A Content-Length that allows no body: digits, all zero. */
static int is_zero_length(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != '0')
            return 0;
    return n > 0;
}

/* The headers the rules look at. */
enum {
    H_HOST,
    H_UPGRADE,
    H_CONNECTION,
    H_VERSION,
    H_KEY,
    H_LENGTH,
    H_TRANSFER,
    H_PROTOCOL,
    H_ORIGIN,
    H_OTHER
};

static int rule_header(const char *name, size_t name_len)
{
    static const char *const names[H_OTHER] = {
        "Host",           "Upgrade",           "Connection",            "Sec-WebSocket-Version",
        "Sec-WebSocket-Key", "Content-Length", "Transfer-Encoding", "Sec-WebSocket-Protocol",
        "Origin"};
    int i = 0;
    while (i < H_OTHER && !ws6455__http_name_is(name, name_len, names[i]))
        i++;
    return i;
}

/* Each header line of the request, as it is read. A repeated header counts
 * as its joined value would (RFC 7230 3.2.2): two Host, Sec-WebSocket-Key,
 * Sec-WebSocket-Version or Content-Length lines are refused, Upgrade and
 * Connection tokens may be on any of their lines. */
static int on_request_field(void *arg, const char *name, size_t name_len, const char *v, size_t n)
{
    ws6455__hs_server *s = arg;
    hs_rules *r = &s->rules;
    switch (rule_header(name, name_len)) {
    case H_HOST:
        if (r->hosts++ == 0)
            r->host_ok = (uint8_t)host_value_valid(v, n);
        break;
    case H_UPGRADE:
        r->upgrade_ok |= (uint8_t)ws6455__http_list_line_has(v, n, "websocket", &r->upgrade_quoted);
        break;
    case H_CONNECTION:
        r->connection_ok |=
            (uint8_t)ws6455__http_list_line_has(v, n, "upgrade", &r->connection_quoted);
        break;
    case H_VERSION:
        if (r->versions++ == 0)
            r->version_ok = n == 2 && memcmp(v, "13", 2) == 0;
        break;
    case H_KEY:
        /* Validating the key and computing the answer are one step. */
        if (r->keys++ == 0)
            r->key_ok = ws6455_accept_key(v, n, s->accept) == WS6455_OK;
        break;
    case H_LENGTH:
        if (r->lengths++ == 0)
            r->length_zero = (uint8_t)is_zero_length(v, n);
        break;
    case H_TRANSFER:
        r->transfer_encoding = 1;
        break;
    case H_PROTOCOL:
        return collect_protocols(s, v, n);
    case H_ORIGIN:
        /* Kept in every build: the one header a server must be able to
         * check (cross-site WebSocket hijacking), joined like the view's. */
        if ((s->req.origins++ && ws6455__buf_append(&s->req.origin, &s->req.head.a, ", ", 2) < 0) ||
            ws6455__buf_append(&s->req.origin, &s->req.head.a, v, n) < 0)
            return WS6455_ERR_NOMEM;
        break;
    default:
        break;
    }
    return WS6455_OK;
}

#if !defined(WS6455_NO_REQUEST_HEADERS)
/* Copies each non-empty element of a header's joined list into the store,
 * as its own NUL-terminated string (the extension offers of the view). */
static int collect_list(hs_head *h, const char *name, hs_span **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    const hs_field *f = ws6455__head_find(h, name);
    if (!f)
        return WS6455_OK;
    hs_span list = f->joined;
    size_t pos = 0, n = 0;
    hs_span e;
    while (ws6455__http_next_list_element(ws6455__head_str(h, list), list.len, &pos, &e))
        n += e.len != 0;
    if (n == 0)
        return WS6455_OK;
    hs_span *spans = ws6455__alloc(&h->a, n * sizeof *spans);
    if (!spans)
        return WS6455_ERR_NOMEM;
    pos = 0;
    size_t k = 0;
    while (k < n && ws6455__http_next_list_element(ws6455__head_str(h, list), list.len, &pos, &e)) {
        if (e.len == 0)
            continue;
        /* The element lives in the store, which may move when it grows:
         * make the room first, so the source pointer stays valid and the
         * append below cannot fail. */
        int rc = ws6455__head_reserve(h, e.len + 1, 0);
        if (rc == WS6455_OK)
            rc = ws6455__head_append_str(h, h->store + list.off + e.off, e.len, 0, &spans[k++]);
        if (rc < 0) {
            ws6455__free(&h->a, spans);
            return rc;
        }
    }
    *out = spans;
    *count = n;
    return WS6455_OK;
}
#endif

/* The verdict on a complete head, the rules in an order chosen so the most
 * useful answer wins: a wrong Sec-WebSocket-Version (say, an old draft
 * client with no key) is answered 426 naming the version we speak. */
static int validate_request(ws6455__hs_server *s)
{
    const hs_rules *r = &s->rules;
    /* A GET upgrade carries no body; a body would be read as frames. Any
     * Transfer-Encoding, or a Content-Length other than zero, is refused. */
    if (r->transfer_encoding || (r->lengths && (r->lengths > 1 || !r->length_zero)))
        return WS6455_ERR_HS_BODY;
    /* Host (RFC 7230 5.4): exactly one, well-formed, and not empty. */
    if (r->hosts != 1 || !r->host_ok)
        return WS6455_ERR_HS_HOST;
    /* RFC 6455 4.2.1 items 3 and 4: Upgrade lists "websocket", Connection
     * lists "Upgrade" (so "keep-alive, Upgrade", Firefox's, is fine). */
    if (!r->upgrade_ok)
        return WS6455_ERR_HS_UPGRADE;
    if (!r->connection_ok)
        return WS6455_ERR_HS_CONNECTION;
    /* Items 6 and 5: Sec-WebSocket-Version is 13; exactly one
     * Sec-WebSocket-Key, base64 of 16 bytes. */
    if (r->versions != 1 || !r->version_ok)
        return WS6455_ERR_HS_WS_VERSION;
    if (r->keys != 1 || !r->key_ok)
        return WS6455_ERR_HS_KEY;
    if (r->protocols_bad)
        return WS6455_ERR_HS_MALFORMED;
    if (s->req.origins && ws6455__buf_append(&s->req.origin, &s->req.head.a, "", 1) < 0)
        return WS6455_ERR_NOMEM;
#if !defined(WS6455_NO_REQUEST_HEADERS)
    struct ws6455_request *q = &s->req;
    int rc = collect_list(&q->head, "Sec-WebSocket-Extensions", &q->extensions, &q->nextensions);
    if (rc < 0)
        return rc;
#endif
    return 1;
}

int ws6455__hs_server_feed(ws6455__hs_server *s, const uint8_t *p, size_t n, size_t *consumed)
{
    size_t used = 0;
    if (consumed)
        *consumed = 0;
    if (!s || (!p && n))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (s->result != 0)
        return s->result; /* sticky; after success, what follows is frame input */
    int rc = ws6455__head_feed(&s->req.head, p, n, &used);
    if (rc == 1)
        rc = validate_request(s);
    if (consumed)
        *consumed = used;
    s->result = rc;
    return rc;
}

/* Bytes the embedding server's header would take on the wire, for applying
 * the same size limits as the parser does. */
static int parsed_sizes_fit(const ws6455__hs_limits *lim, const ws6455_http_request *r)
{
    if (r->header_count > lim->max_headers)
        return WS6455_ERR_HS_TOO_LARGE;
    if (r->method_len > lim->max_size || r->target_len > lim->max_size ||
        r->version_len > lim->max_size)
        return WS6455_ERR_HS_TOO_LARGE;
    size_t total = r->method_len + r->target_len + r->version_len + sizeof "  \r\n" - 1;
    if (total > lim->max_line || total > lim->max_size)
        return WS6455_ERR_HS_TOO_LARGE;
    for (size_t i = 0; i < r->header_count; i++) {
        size_t nl = r->headers[i].name_len, vl = r->headers[i].value_len;
        if (nl > lim->max_line || vl > lim->max_line || nl + vl + 2 > lim->max_line)
            return WS6455_ERR_HS_TOO_LARGE;
        total += nl + vl + 4; /* ": " and CRLF */
        if (total > lim->max_size)
            return WS6455_ERR_HS_TOO_LARGE;
    }
    return WS6455_OK;
}

static int load_parsed_header(hs_head *h, const ws6455_header *hd)
{
    if (!ws6455__http_is_token(hd->name, hd->name_len) ||
        !ws6455__http_is_field_value(hd->value, hd->value_len))
        return WS6455_ERR_HS_MALFORMED;
    const char *v = hd->value ? hd->value : "", *v_end = v + hd->value_len;
    while (v < v_end && ws6455__is_ows(*v))
        v++;
    while (v_end > v && ws6455__is_ows(v_end[-1]))
        v_end--;
    int rc = WS6455_OK;
    if (WS6455__HEAD_KEEPS(h)) { /* for the request view */
        hs_span name, value;
        rc = ws6455__head_append_str(h, hd->name, hd->name_len, 0, &name);
        if (rc == WS6455_OK)
            rc = ws6455__head_append_str(h, v, (size_t)(v_end - v), 0, &value);
        if (rc == WS6455_OK)
            rc = ws6455__head_push_field(h, name, value);
    }
    return rc < 0 ? rc : h->on_field(h->field_arg, hd->name, hd->name_len, v, (size_t)(v_end - v));
}

/* The same checks, in the same order, as parse_request_line and the header
 * reader apply to a request read from the wire. */
static int load_parsed_request(hs_head *h, const ws6455_http_request *r)
{
    int rc = parsed_sizes_fit(&h->lim, r);
    if (rc < 0)
        return rc;
    if (!ws6455__http_is_token(r->method, r->method_len))
        return WS6455_ERR_HS_MALFORMED;
    if ((rc = ws6455__http_check_target(r->target, r->target_len)) < 0)
        return rc;
    int major, minor;
    if ((rc = ws6455__http_parse_version(r->version, r->version_len, &major, &minor)) < 0)
        return rc;
    if ((rc = ws6455__head_append_str(h, r->method, r->method_len, 0, &h->method)) < 0 ||
        (rc = ws6455__head_append_str(h, r->target, r->target_len, 0, &h->target)) < 0)
        return rc;
    h->have_start_line = 1;
    if ((rc = ws6455__head_check_method(h)) < 0 ||
        (rc = ws6455__http_check_version(major, minor)) < 0)
        return rc;
    for (size_t i = 0; i < r->header_count; i++)
        if ((rc = load_parsed_header(h, &r->headers[i])) < 0)
            return rc;
    if (WS6455__HEAD_KEEPS(h) && (rc = ws6455__head_join_repeated(h)) < 0)
        return rc;
    h->complete = 1;
    return WS6455_OK;
}

static int parsed_args_ok(const ws6455_http_request *r)
{
    if ((!r->method && r->method_len) || (!r->target && r->target_len) ||
        (!r->version && r->version_len) || (!r->headers && r->header_count))
        return 0;
    for (size_t i = 0; i < r->header_count; i++)
        if ((!r->headers[i].name && r->headers[i].name_len) ||
            (!r->headers[i].value && r->headers[i].value_len))
            return 0;
    return 1;
}

int ws6455__hs_server_set_parsed(ws6455__hs_server *s, const ws6455_http_request *r)
{
    if (!s || !r || !parsed_args_ok(r))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (s->result != 0 || s->req.head.read != 0)
        return WS6455_ERR_INVALID_STATE;
    int rc = load_parsed_request(&s->req.head, r);
    if (rc == WS6455_OK)
        rc = validate_request(s);
    s->result = rc;
    return rc;
}

const ws6455_request *ws6455__hs_server_request(const ws6455__hs_server *s)
{
    return s && s->result == 1 ? &s->req : NULL;
}

/* One pass over the offered list (a hostile request may offer thousands). */
static int was_offered(const struct ws6455_request *r, const char *protocol)
{
    if (r->nprotocols == 0)
        return 0; /* and no list: offered.data is NULL */
    const char *p = (const char *)r->offered.data + r->offered.off;
    for (size_t i = 0; i < r->nprotocols; i++, p += strlen(p) + 1)
        if (strcmp(protocol, p) == 0)
            return 1;
    return 0;
}

const char *ws6455__hs_choose_protocol(const ws6455_request *r, const char *const *supported,
                                       size_t supported_count)
{
    if (!r || !supported)
        return NULL;
    for (size_t i = 0; i < supported_count; i++)
        if (supported[i] && was_offered(r, supported[i]))
            return supported[i];
    return NULL;
}

/* ------------------------------------------------------------------ *
 * Request view (public accessors)                                      *
 * ------------------------------------------------------------------ */

const char *ws6455_request_method(const ws6455_request *r, size_t *len)
{
    return r ? ws6455__head_span(&r->head, r->head.method, len) : NULL;
}

const char *ws6455_request_target(const ws6455_request *r, size_t *len)
{
    return r ? ws6455__head_span(&r->head, r->head.target, len) : NULL;
}

#if !defined(WS6455_NO_REQUEST_HEADERS)
const char *ws6455_request_header(const ws6455_request *r, const char *name, size_t *len)
{
    return r && name ? ws6455__head_value(&r->head, name, len) : NULL;
}

size_t ws6455_request_header_count(const ws6455_request *r)
{
    return r ? r->head.nfields : 0;
}

int ws6455_request_header_at(const ws6455_request *r, size_t i, ws6455_header *out)
{
    return r ? ws6455__head_field_at(&r->head, i, out) : WS6455_ERR_INVALID_ARGUMENT;
}

size_t ws6455_request_extension_count(const ws6455_request *r)
{
    return r ? r->nextensions : 0;
}

const char *ws6455_request_extension(const ws6455_request *r, size_t i, size_t *len)
{
    return r && i < r->nextensions ? ws6455__head_span(&r->head, r->extensions[i], len) : NULL;
}
#endif

const char *ws6455_request_origin(const ws6455_request *r, size_t *len)
{
    if (!r || !r->origins)
        return NULL;
    if (len)
        *len = r->origin.len - 1;
    return (const char *)r->origin.data + r->origin.off;
}

size_t ws6455_request_protocol_count(const ws6455_request *r)
{
    return r ? r->nprotocols : 0;
}

const char *ws6455_request_protocol(const ws6455_request *r, size_t i, size_t *len)
{
    if (!r || i >= r->nprotocols)
        return NULL;
    /* The view is read-only to the caller; the cursor is ours. */
    struct ws6455_request *w = (struct ws6455_request *)(uintptr_t)r;
    if (i < w->cursor_i)
        w->cursor_i = w->cursor_off = 0;
    const char *list = (const char *)r->offered.data + r->offered.off;
    for (; w->cursor_i < i; w->cursor_i++)
        w->cursor_off += strlen(list + w->cursor_off) + 1;
    const char *p = list + w->cursor_off;
    if (len)
        *len = strlen(p);
    return p;
}

/* ------------------------------------------------------------------ *
 * Server responses                                                     *
 * ------------------------------------------------------------------ */

static const char *reason_phrase(int status)
{
#if defined(WS6455_NO_ERROR_STRINGS)
    /* The phrase is informative only (RFC 9112 4): the code is the answer. */
    return status < 500 ? "Client Error" : "Server Error";
#else
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status < 500 ? "Client Error" : "Server Error";
    }
#endif
}

/* WS6455_NO_RESPONSE_EXTRAS: responses carry what RFC 6455 and HTTP
 * require and nothing more: a rejection has no body, and the application
 * can add no headers or body (a reply that tries is refused, answered 500).
 * A constant rather than #if around each use, so both builds compile every
 * line; the compiler drops what the switch leaves out. */
#if defined(WS6455_NO_RESPONSE_EXTRAS)
#define RESPONSE_EXTRAS 0
#else
#define RESPONSE_EXTRAS 1
#endif

/* A complete rejection. 405 names the allowed method (RFC 7231 6.5.5);
 * 426 names the protocol to upgrade to (RFC 7231 6.5.15, which needs the
 * "upgrade" connection option beside "close") and the version we speak
 * (RFC 6455 4.2.2). */
static int append_rejection(ws6455__buf *out, const ws6455_allocator *a, int status,
                            const ws6455_header *extra, size_t extra_count, const char *body)
{
    hs_writer w;
    ws6455__writer_begin(&w, out, a);
    ws6455__write_str(&w, "HTTP/1.1 ");
    ws6455__write_uint(&w, (size_t)status);
    ws6455__write_str(&w, " ");
    ws6455__write_str(&w, reason_phrase(status));
    ws6455__write_str(&w, "\r\n");
    if (RESPONSE_EXTRAS) {
        ws6455__write_header(&w, "Content-Type", "text/plain; charset=utf-8");
        ws6455__write_str(&w, "Content-Length: ");
        ws6455__write_uint(&w, strlen(body));
        ws6455__write_str(&w, "\r\n");
    } else {
        ws6455__write_header(&w, "Content-Length", "0");
    }
    if (status == 426) {
        ws6455__write_header(&w, "Upgrade", "websocket");
        ws6455__write_header(&w, "Connection", "Upgrade, close");
        ws6455__write_header(&w, "Sec-WebSocket-Version", "13");
    } else {
        ws6455__write_header(&w, "Connection", "close");
    }
    if (status == 405)
        ws6455__write_header(&w, "Allow", "GET");
    if (RESPONSE_EXTRAS)
        ws6455__write_extra_headers(&w, extra, extra_count);
    ws6455__write_str(&w, "\r\n");
    if (RESPONSE_EXTRAS)
        ws6455__write_str(&w, body);
    return ws6455__writer_end(&w);
}

static int error_status(int err)
{
    switch (err) {
    case WS6455_ERR_HS_METHOD:
        return 405;
    case WS6455_ERR_HS_WS_VERSION:
        return 426;
    case WS6455_ERR_HS_TOO_LARGE:
        return 431;
    case WS6455_ERR_NOMEM:
        return 500;
    default:
        return 400;
    }
}

/* A one-line text body: `text` and a newline, cut to fit `cap`. */
static const char *text_line(char *dst, size_t cap, const char *text)
{
    size_t n = strlen(text);
    if (n > cap - 2)
        n = cap - 2;
    memcpy(dst, text, n);
    dst[n] = '\n';
    dst[n + 1] = '\0';
    return dst;
}

int ws6455__hs_error_response(int err, ws6455__buf *out, const ws6455_allocator *a)
{
    if (!out)
        return WS6455_ERR_INVALID_ARGUMENT;
    ws6455_allocator ra;
    ws6455__allocator_resolve(&ra, a);
    /* The body is the error's message: short, static, and it names the rule. */
    char body[128];
    return append_rejection(out, &ra, error_status(err), NULL, 0,
                            RESPONSE_EXTRAS ? text_line(body, sizeof body, ws6455_strerror(err))
                                            : "");
}

int ws6455__hs_unusable_reply_response(ws6455__buf *out, const ws6455_allocator *a)
{
    ws6455_allocator ra;
    ws6455__allocator_resolve(&ra, a);
    return append_rejection(out, &ra, 500, NULL, 0, "invalid handshake reply");
}

/* The extensions the engine accepted (permessage-deflate, chosen by
 * src/deflate_negotiate.c among the offers), if any; every other offer is
 * ignored, as RFC 6455 9.1 permits. */
static void append_accepted_extensions(hs_writer *w, const char *extensions)
{
    if (extensions)
        ws6455__write_header(w, "Sec-WebSocket-Extensions", extensions);
}

static int append_switching_protocols(const ws6455__hs_server *s,
                                      const ws6455_handshake_reply *reply, ws6455__buf *out,
                                      const ws6455_allocator *a)
{
    hs_writer w;
    ws6455__writer_begin(&w, out, a);
    ws6455__write_str(&w, "HTTP/1.1 101 Switching Protocols\r\n");
    ws6455__write_header(&w, "Upgrade", "websocket");
    ws6455__write_header(&w, "Connection", "Upgrade");
    ws6455__write_header(&w, "Sec-WebSocket-Accept", s->accept);
    if (reply->subprotocol)
        ws6455__write_header(&w, "Sec-WebSocket-Protocol", reply->subprotocol);
    append_accepted_extensions(&w, reply->extensions);
    if (RESPONSE_EXTRAS)
        ws6455__write_extra_headers(&w, reply->headers, reply->header_count);
    ws6455__write_str(&w, "\r\n");
    return ws6455__writer_end(&w);
}

int ws6455__hs_server_respond(const ws6455__hs_server *s, const ws6455_handshake_reply *reply,
                              ws6455__buf *out, const ws6455_allocator *a)
{
    if (!s || !reply || !out)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (s->result != 1)
        return WS6455_ERR_INVALID_STATE;
    if (!RESPONSE_EXTRAS && (reply->headers || reply->header_count || reply->body))
        return WS6455_ERR_INVALID_ARGUMENT; /* left out of this build */
    int rc = RESPONSE_EXTRAS ? ws6455__http_check_extra_headers(reply->headers, reply->header_count)
                             : WS6455_OK;
    if (rc < 0)
        return rc;
    if (reply->extensions &&
        !ws6455__http_is_field_value(reply->extensions, strlen(reply->extensions)))
        return WS6455_ERR_INVALID_ARGUMENT;
    ws6455_allocator ra;
    ws6455__allocator_resolve(&ra, a);
    if (reply->status == 101) {
        /* RFC 6455 4.2.2: the server may only pick one the client offered. */
        if (reply->subprotocol && !was_offered(&s->req, reply->subprotocol))
            return WS6455_ERR_INVALID_ARGUMENT;
        return append_switching_protocols(s, reply, out, &ra);
    }
    if (reply->status < 400 || reply->status > 599)
        return WS6455_ERR_INVALID_ARGUMENT;
    char body[64];
    const char *text = !RESPONSE_EXTRAS ? ""
                       : reply->body    ? reply->body
                                        : text_line(body, sizeof body, reason_phrase(reply->status));
    return append_rejection(out, &ra, reply->status, reply->headers, reply->header_count, text);
}
