/* The opening handshake (RFC 6455 section 4), both roles.
 *
 * One bounded, incremental HTTP/1.1 head reader serves both sides: it takes
 * bytes one at a time (so any split of the input gives the same result),
 * stores the head in a buffer that never grows past the configured size,
 * and checks every line as soon as its CRLF arrives. Names and values are
 * NUL-terminated in place; joined repeated headers and the offered
 * subprotocol and extension lists are appended to the same store once the
 * head is complete. Everything is addressed by offsets into that store, so
 * it may move when it grows.
 *
 * Every rule of sections 4.1 and 4.2.1 is a named helper below. */
#include "handshake.h"

#include "ascii.h"

#include <string.h>

enum {
    DEFAULT_MAX_SIZE = 8192,
    DEFAULT_MAX_HEADERS = 64,
    DEFAULT_MAX_LINE = 8192,
    FIRST_STORE_CAP = 256,
    FIRST_FIELDS_CAP = 8,
    KEY_LEN = 24,    /* base64 of 16 bytes */
    ACCEPT_LEN = 28, /* base64 of a 20-byte SHA-1 digest */
};

/* ------------------------------------------------------------------ *
 * Character classes (RFC 7230 section 3.2.6)                           *
 * ------------------------------------------------------------------ */

static int is_token(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ws6455__is_tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static int ci_equal(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (ws6455__ascii_lower(a[i]) != ws6455__ascii_lower(b[i]))
            return 0;
    return 1;
}

/* A field value may hold any byte but CTLs; horizontal tab is allowed. */
static int is_field_value(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_ctl(c) && c != '\t')
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ *
 * Comma-separated lists (RFC 7230 section 7, "#rule")                  *
 * ------------------------------------------------------------------ */

typedef struct hs_span {
    size_t off, len;
} hs_span;

/* Finds the list element starting at *pos in v[0..n): OWS-trimmed, commas
 * inside a quoted-string (extension parameters may carry them) do not
 * split. Advances *pos past the element and its comma. Returns 0 when the
 * list is exhausted. Empty elements are returned too (callers skip them,
 * as RFC 7230 tells recipients to). */
static int next_list_element(const char *v, size_t n, size_t *pos, hs_span *elem)
{
    size_t i = *pos;
    if (i > n)
        return 0;
    int quoted = 0;
    size_t start = i;
    while (i < n && (quoted || v[i] != ',')) {
        if (quoted && v[i] == '\\' && i + 1 < n)
            i++; /* quoted-pair: the escaped byte cannot end the string */
        else if (v[i] == '"')
            quoted = !quoted;
        i++;
    }
    size_t end = i;
    *pos = i + 1; /* past the comma, or past n at the end */
    while (start < end && ws6455__is_ows(v[start]))
        start++;
    while (end > start && ws6455__is_ows(v[end - 1]))
        end--;
    elem->off = start;
    elem->len = end - start;
    return 1;
}

/* True when the list v[0..n) has an element equal to `token`, compared
 * case-insensitively (Upgrade and Connection tokens are case-insensitive). */
static int list_contains_ci(const char *v, size_t n, const char *token)
{
    size_t pos = 0;
    hs_span e;
    while (next_list_element(v, n, &pos, &e))
        if (ci_equal(v + e.off, e.len, token, strlen(token)))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ *
 * The HTTP head: storage, fields and the incremental reader            *
 * ------------------------------------------------------------------ */

typedef struct hs_field {
    hs_span name;   /* as received, NUL-terminated in the store */
    hs_span value;  /* OWS-trimmed, NUL-terminated */
    hs_span joined; /* all values of this name joined with ", " (same as
                       value when the name occurs once) */
} hs_field;

enum hs_kind { HS_KIND_REQUEST, HS_KIND_RESPONSE };

typedef struct hs_head {
    ws6455_allocator a; /* resolved */
    ws6455__hs_limits lim;
    int kind;
    char *store;
    size_t len, cap;
    hs_field *fields;
    size_t nfields, fields_cap;
    /* reader state */
    size_t line_start;   /* offset of the current line in the store */
    int saw_cr;          /* the previous byte was CR */
    int have_start_line; /* request line or status line done */
    int complete;        /* blank line seen and fields joined */
    /* start line */
    hs_span method, target; /* requests */
    int status;             /* responses */
} hs_head;

static void head_init(hs_head *h, const ws6455_allocator *a, const ws6455__hs_limits *lim,
                      int kind)
{
    memset(h, 0, sizeof *h);
    ws6455__allocator_resolve(&h->a, a);
    h->lim.max_size = (lim && lim->max_size) ? lim->max_size : DEFAULT_MAX_SIZE;
    h->lim.max_headers = (lim && lim->max_headers) ? lim->max_headers : DEFAULT_MAX_HEADERS;
    h->lim.max_line = (lim && lim->max_line) ? lim->max_line : DEFAULT_MAX_LINE;
    h->kind = kind;
}

static void head_free(hs_head *h)
{
    ws6455__free(&h->a, h->store);
    ws6455__free(&h->a, h->fields);
    h->store = NULL;
    h->fields = NULL;
}

static const char *head_str(const hs_head *h, hs_span s)
{
    return h->store + s.off;
}

/* Makes room for `extra` bytes. While reading, `limit` caps the capacity at
 * the head size limit, so a hostile peer never makes us hold more than that;
 * 0 means no cap (appending derived strings after the head is complete). */
static int store_reserve(hs_head *h, size_t extra, size_t limit)
{
    if (extra <= h->cap - h->len)
        return WS6455_OK;
    if (extra > SIZE_MAX - h->len)
        return WS6455_ERR_NOMEM;
    size_t need = h->len + extra;
    size_t cap = h->cap ? h->cap : FIRST_STORE_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (limit && cap > limit)
        cap = limit > need ? limit : need;
    char *p = ws6455__resize(&h->a, h->store, cap);
    if (!p)
        return WS6455_ERR_NOMEM;
    h->store = p;
    h->cap = cap;
    return WS6455_OK;
}

/* Appends n bytes and a NUL; the span (without the NUL) goes to *out. */
static int store_append_str(hs_head *h, const char *p, size_t n, size_t limit, hs_span *out)
{
    if (n == SIZE_MAX)
        return WS6455_ERR_NOMEM;
    int rc = store_reserve(h, n + 1, limit);
    if (rc < 0)
        return rc;
    if (n)
        memmove(h->store + h->len, p, n);
    h->store[h->len + n] = '\0';
    out->off = h->len;
    out->len = n;
    h->len += n + 1;
    return WS6455_OK;
}

static int fields_push(hs_head *h, hs_span name, hs_span value)
{
    if (h->nfields >= h->lim.max_headers)
        return WS6455_ERR_HS_TOO_LARGE;
    if (h->nfields == h->fields_cap) {
        size_t cap = h->fields_cap ? h->fields_cap * 2 : FIRST_FIELDS_CAP;
        if (cap > h->lim.max_headers)
            cap = h->lim.max_headers;
        if (cap > SIZE_MAX / sizeof(hs_field))
            return WS6455_ERR_NOMEM;
        hs_field *f = ws6455__resize(&h->a, h->fields, cap * sizeof(hs_field));
        if (!f)
            return WS6455_ERR_NOMEM;
        h->fields = f;
        h->fields_cap = cap;
    }
    hs_field *f = &h->fields[h->nfields++];
    f->name = name;
    f->value = value;
    f->joined = value;
    return WS6455_OK;
}

static int field_name_is(const hs_head *h, const hs_field *f, const char *name, size_t name_len)
{
    return ci_equal(head_str(h, f->name), f->name.len, name, name_len);
}

static const hs_field *find_field(const hs_head *h, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < h->nfields; i++)
        if (field_name_is(h, &h->fields[i], name, n))
            return &h->fields[i];
    return NULL;
}

static size_t count_fields(const hs_head *h, const char *name)
{
    size_t n = strlen(name), count = 0;
    for (size_t i = 0; i < h->nfields; i++)
        count += (size_t)field_name_is(h, &h->fields[i], name, n);
    return count;
}

/* The joined value of a header, or NULL when absent. */
static const char *field_value(const hs_head *h, const char *name, size_t *len)
{
    const hs_field *f = find_field(h, name);
    if (!f)
        return NULL;
    if (len)
        *len = f->joined.len;
    return head_str(h, f->joined);
}

/* Joins the values of one repeated header with ", " (RFC 7230 section
 * 3.2.2) into a new string in the store, and points every occurrence at it. */
static int join_one_name(hs_head *h, size_t first)
{
    const hs_field *f0 = &h->fields[first];
    size_t total = 0, count = 0;
    for (size_t i = first; i < h->nfields; i++) {
        if (!field_name_is(h, &h->fields[i], head_str(h, f0->name), f0->name.len))
            continue;
        total += h->fields[i].value.len + (count ? 2 : 0);
        count++;
    }
    if (count < 2)
        return WS6455_OK;
    int rc = store_reserve(h, total + 1, 0);
    if (rc < 0)
        return rc;
    hs_span joined = {h->len, total};
    char *dst = h->store + h->len;
    size_t k = 0, values = 0;
    for (size_t i = first; i < h->nfields; i++) {
        hs_field *f = &h->fields[i];
        if (!field_name_is(h, f, head_str(h, h->fields[first].name), h->fields[first].name.len))
            continue;
        /* Count values, not bytes: an empty first value still takes a
         * separator, as the length computed above assumed. */
        if (values++) {
            memcpy(dst + k, ", ", 2);
            k += 2;
        }
        memcpy(dst + k, head_str(h, f->value), f->value.len);
        k += f->value.len;
        f->joined = joined;
    }
    dst[k] = '\0';
    h->len += total + 1;
    return WS6455_OK;
}

static int join_repeated_fields(hs_head *h)
{
    for (size_t i = 0; i < h->nfields; i++) {
        int seen_before = 0;
        for (size_t j = 0; j < i && !seen_before; j++)
            seen_before = field_name_is(h, &h->fields[j], head_str(h, h->fields[i].name),
                                        h->fields[i].name.len);
        if (seen_before)
            continue;
        int rc = join_one_name(h, i);
        if (rc < 0)
            return rc;
    }
    return WS6455_OK;
}

/* "HTTP/" DIGIT "." DIGIT (RFC 7230 section 2.6; the name is case-sensitive). */
static int parse_http_version(const char *s, size_t n, int *major, int *minor)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || !ws6455__is_digit(s[5]) || s[6] != '.' || !ws6455__is_digit(s[7]))
        return WS6455_ERR_HS_MALFORMED;
    *major = s[5] - '0';
    *minor = s[7] - '0';
    return WS6455_OK;
}

/* RFC 6455 4.2.1 item 1 asks for HTTP/1.1 or higher. Any later version
 * (1.2 .. 1.9, and 2.0 or above should one ever appear in an HTTP/1 start
 * line) counts as "higher"; 1.0 and 0.x do not. */
static int check_http_version(int major, int minor)
{
    if (major > 1 || (major == 1 && minor >= 1))
        return WS6455_OK;
    return WS6455_ERR_HS_VERSION;
}

/* RFC 6455 4.2.1 item 1: the method must be GET (methods are case-sensitive). */
static int check_method(const hs_head *h)
{
    if (h->method.len == 3 && memcmp(head_str(h, h->method), "GET", 3) == 0)
        return WS6455_OK;
    return WS6455_ERR_HS_METHOD;
}

/* The request target: origin-form ("/path?query") or, as RFC 6455 4.2.1
 * also allows, absolute-form ("http://host/path"). Visible ASCII only. */
static int check_target_syntax(const char *t, size_t n)
{
    if (n == 0)
        return WS6455_ERR_HS_MALFORMED;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f)
            return WS6455_ERR_HS_MALFORMED;
    }
    if (t[0] == '/')
        return WS6455_OK;
    size_t i = 0;
    if (!ws6455__is_alpha(t[0]))
        return WS6455_ERR_HS_MALFORMED;
    while (i < n && (ws6455__is_alpha(t[i]) || ws6455__is_digit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.'))
        i++;
    if (n - i >= 3 && memcmp(t + i, "://", 3) == 0)
        return WS6455_OK;
    return WS6455_ERR_HS_MALFORMED;
}

static const char *find_byte(const char *p, const char *end, char c)
{
    return memchr(p, c, (size_t)(end - p));
}

/* method SP request-target SP HTTP-version, single spaces. */
static int parse_request_line(hs_head *h, size_t start, size_t end)
{
    char *line = h->store + start, *line_end = h->store + end;
    char *sp1 = (char *)find_byte(line, line_end, ' ');
    if (!sp1)
        return WS6455_ERR_HS_MALFORMED;
    char *target = sp1 + 1;
    char *sp2 = (char *)find_byte(target, line_end, ' ');
    if (!sp2)
        return WS6455_ERR_HS_MALFORMED;
    if (!is_token(line, (size_t)(sp1 - line)))
        return WS6455_ERR_HS_MALFORMED;
    int rc = check_target_syntax(target, (size_t)(sp2 - target));
    if (rc < 0)
        return rc;
    int major, minor;
    rc = parse_http_version(sp2 + 1, (size_t)(line_end - sp2 - 1), &major, &minor);
    if (rc < 0)
        return rc;
    h->method.off = start;
    h->method.len = (size_t)(sp1 - line);
    h->target.off = (size_t)(target - h->store);
    h->target.len = (size_t)(sp2 - target);
    *sp1 = '\0';
    *sp2 = '\0';
    rc = check_method(h);
    if (rc < 0)
        return rc;
    return check_http_version(major, minor);
}

/* HTTP-version SP 3DIGIT [SP reason-phrase]. The reason phrase is ignored;
 * its space is optional because some servers omit an empty phrase's SP. */
static int parse_status_line(hs_head *h, size_t start, size_t end)
{
    const char *line = h->store + start;
    size_t n = end - start;
    if (n < 12 || line[8] != ' ')
        return WS6455_ERR_HS_MALFORMED;
    int major, minor;
    int rc = parse_http_version(line, 8, &major, &minor);
    if (rc < 0)
        return rc;
    /* RFC 9110 15: a status code is three digits, 100..599. A first digit
     * of 0 would read "050" as 50 (fuzz finding F2). */
    if (line[9] < '1' || line[9] > '5' || !ws6455__is_digit(line[10]) || !ws6455__is_digit(line[11]))
        return WS6455_ERR_HS_MALFORMED;
    if (n > 12 && line[12] != ' ')
        return WS6455_ERR_HS_MALFORMED;
    h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    return check_http_version(major, minor);
}

/* field-name ":" OWS field-value OWS. A line starting with whitespace is
 * obs-fold (RFC 7230 3.2.4 lets us reject it); whitespace before the colon
 * is refused because it has been used for request smuggling. */
static int parse_header_line(hs_head *h, size_t start, size_t end)
{
    char *line = h->store + start, *line_end = h->store + end;
    if (ws6455__is_ows(line[0]))
        return WS6455_ERR_HS_MALFORMED;
    char *colon = (char *)find_byte(line, line_end, ':');
    if (!colon || !is_token(line, (size_t)(colon - line)))
        return WS6455_ERR_HS_MALFORMED;
    char *v = colon + 1, *v_end = line_end;
    while (v < v_end && ws6455__is_ows(*v))
        v++;
    while (v_end > v && ws6455__is_ows(v_end[-1]))
        v_end--;
    hs_span name = {start, (size_t)(colon - line)};
    hs_span value = {(size_t)(v - h->store), (size_t)(v_end - v)};
    int rc = fields_push(h, name, value);
    if (rc < 0)
        return rc;
    *colon = '\0';
    *v_end = '\0'; /* at most the CR of this line */
    return WS6455_OK;
}

/* A line is complete (its CRLF is the last thing in the store). Returns 1
 * when it was the blank line that ends the head. */
static int head_end_of_line(hs_head *h)
{
    size_t start = h->line_start, end = h->len - 2;
    h->line_start = h->len;
    if (end == start) {
        /* A blank line before the start line: RFC 7230 3.5 says a server
         * SHOULD ignore it; no WebSocket client sends one, so we refuse. */
        if (!h->have_start_line)
            return WS6455_ERR_HS_MALFORMED;
        return 1;
    }
    if (!h->have_start_line) {
        h->have_start_line = 1;
        return h->kind == HS_KIND_REQUEST ? parse_request_line(h, start, end)
                                          : parse_status_line(h, start, end);
    }
    return parse_header_line(h, start, end);
}

/* Takes one byte. Line endings must be CRLF: a bare CR or a bare LF is an
 * error (accepting bare LF, as RFC 7230 3.5 permits, invites parsers that
 * disagree about where a header ends). Limits are checked before the byte
 * is stored, so a hostile peer fails as soon as it crosses one. */
static int head_take_byte(hs_head *h, unsigned char c)
{
    if (h->saw_cr != (c == '\n'))
        return WS6455_ERR_HS_MALFORMED;
    if (is_ctl(c) && c != '\t' && c != '\r' && c != '\n')
        return WS6455_ERR_HS_MALFORMED;
    if (c != '\r' && c != '\n') {
        size_t line_len = h->len - h->line_start + 1;
        if (line_len > h->lim.max_line)
            return WS6455_ERR_HS_TOO_LARGE;
        if (line_len == 1 && h->have_start_line && h->nfields >= h->lim.max_headers)
            return WS6455_ERR_HS_TOO_LARGE;
    }
    if (h->len >= h->lim.max_size)
        return WS6455_ERR_HS_TOO_LARGE;
    int rc = store_reserve(h, 1, h->lim.max_size);
    if (rc < 0)
        return rc;
    h->store[h->len++] = (char)c;
    h->saw_cr = c == '\r';
    return c == '\n' ? head_end_of_line(h) : 0;
}

/* Feeds bytes until the head ends. Returns 0 (all consumed, more needed),
 * 1 (head complete; *consumed ends at its blank line) or an error
 * (*consumed counts the byte that proved it). */
static int head_feed(hs_head *h, const uint8_t *p, size_t n, size_t *consumed)
{
    for (size_t i = 0; i < n; i++) {
        int rc = head_take_byte(h, p[i]);
        if (rc == 0)
            continue;
        *consumed = i + 1;
        if (rc < 0)
            return rc;
        rc = join_repeated_fields(h);
        if (rc < 0)
            return rc;
        h->complete = 1;
        return 1;
    }
    *consumed = n;
    return 0;
}

/* ------------------------------------------------------------------ *
 * Server: the request and the rules of RFC 6455 section 4.2.1          *
 * ------------------------------------------------------------------ */

struct ws6455_request {
    hs_head head;
    hs_span *protocols; /* offered subprotocols, each NUL-terminated */
    size_t nprotocols;
    hs_span *extensions; /* offered extensions with their parameters */
    size_t nextensions;
};

struct ws6455__hs_server {
    struct ws6455_request req;
    int result;                  /* 0 reading, 1 valid request, <0 sticky error */
    char accept[ACCEPT_LEN + 1]; /* Sec-WebSocket-Accept for the client's key */
};

ws6455__hs_server *ws6455__hs_server_new(const ws6455_allocator *a, const ws6455__hs_limits *lim)
{
    ws6455_allocator ra;
    ws6455__allocator_resolve(&ra, a);
    ws6455__hs_server *s = ws6455__alloc(&ra, sizeof *s);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    head_init(&s->req.head, &ra, lim, HS_KIND_REQUEST);
    return s;
}

void ws6455__hs_server_free(ws6455__hs_server *s)
{
    if (!s)
        return;
    ws6455_allocator a = s->req.head.a;
    ws6455__free(&a, s->req.protocols);
    ws6455__free(&a, s->req.extensions);
    head_free(&s->req.head);
    ws6455__free(&a, s);
}

/* RFC 3986 reg-name: unreserved, sub-delims and pct-encoded octets. */
static int is_reg_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (ws6455__is_alpha(c) || ws6455__is_digit(c) || (c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL))
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

/* Host (RFC 7230 5.4): exactly one, well-formed, and not empty — a
 * WebSocket URI always has a host, so an empty Host cannot name the
 * resource. A malformed value is answered 400 (RFC 7230 5.4). */
static int check_host(const hs_head *h)
{
    if (count_fields(h, "Host") != 1)
        return WS6455_ERR_HS_HOST;
    size_t len = 0;
    const char *v = field_value(h, "Host", &len);
    return v && host_value_valid(v, len) ? WS6455_OK : WS6455_ERR_HS_HOST;
}

/* A GET upgrade carries no body; a body would be read as frames. Any
 * Transfer-Encoding, or a Content-Length other than zero, is refused. */
static int check_no_body(const hs_head *h)
{
    if (find_field(h, "Transfer-Encoding"))
        return WS6455_ERR_HS_BODY;
    size_t len;
    const char *cl = field_value(h, "Content-Length", &len);
    if (!cl)
        return WS6455_OK;
    if (len == 0)
        return WS6455_ERR_HS_BODY;
    for (size_t i = 0; i < len; i++)
        if (cl[i] != '0')
            return WS6455_ERR_HS_BODY;
    return WS6455_OK;
}

/* RFC 6455 4.2.1 item 3: Upgrade lists "websocket" (case-insensitive). */
static int check_upgrade(const hs_head *h)
{
    size_t len;
    const char *v = field_value(h, "Upgrade", &len);
    return v && list_contains_ci(v, len, "websocket") ? WS6455_OK : WS6455_ERR_HS_UPGRADE;
}

/* RFC 6455 4.2.1 item 4: Connection lists "Upgrade" (case-insensitive), so
 * "keep-alive, Upgrade" (Firefox) is fine. */
static int check_connection(const hs_head *h)
{
    size_t len;
    const char *v = field_value(h, "Connection", &len);
    return v && list_contains_ci(v, len, "upgrade") ? WS6455_OK : WS6455_ERR_HS_CONNECTION;
}

/* RFC 6455 4.2.1 item 6: Sec-WebSocket-Version is 13. Repeated headers join
 * to "13, 13", which is refused like any other value. */
static int check_ws_version(const hs_head *h)
{
    size_t len;
    const char *v = field_value(h, "Sec-WebSocket-Version", &len);
    return v && len == 2 && memcmp(v, "13", 2) == 0 ? WS6455_OK : WS6455_ERR_HS_WS_VERSION;
}

/* RFC 6455 4.2.1 item 5: exactly one Sec-WebSocket-Key, base64 of 16 bytes.
 * Validating it and computing the answer are one step. */
static int check_key(const hs_head *h, char accept[ACCEPT_LEN + 1])
{
    if (count_fields(h, "Sec-WebSocket-Key") != 1)
        return WS6455_ERR_HS_KEY;
    size_t len = 0;
    const char *key = field_value(h, "Sec-WebSocket-Key", &len);
    if (len != KEY_LEN || ws6455_accept_key(key, len, accept) != WS6455_OK)
        return WS6455_ERR_HS_KEY;
    return WS6455_OK;
}

/* Copies each non-empty element of a header's list into the store, as its
 * own NUL-terminated string. With `tokens_only`, an element that is not an
 * RFC 7230 token is malformed (subprotocol names must be tokens). */
static int collect_list(hs_head *h, const char *name, int tokens_only, hs_span **out,
                        size_t *count)
{
    *out = NULL;
    *count = 0;
    const hs_field *f = find_field(h, name);
    if (!f)
        return WS6455_OK;
    hs_span list = f->joined;
    size_t pos = 0, n = 0;
    hs_span e;
    while (next_list_element(head_str(h, list), list.len, &pos, &e)) {
        if (e.len == 0)
            continue;
        if (tokens_only && !is_token(head_str(h, list) + e.off, e.len))
            return WS6455_ERR_HS_MALFORMED;
        n++;
    }
    if (n == 0)
        return WS6455_OK;
    hs_span *spans = ws6455__alloc(&h->a, n * sizeof *spans);
    if (!spans)
        return WS6455_ERR_NOMEM;
    pos = 0;
    size_t k = 0;
    while (k < n && next_list_element(head_str(h, list), list.len, &pos, &e)) {
        if (e.len == 0)
            continue;
        /* The element lives in the store, which may move when it grows:
         * make the room first, so the source pointer stays valid and the
         * append below cannot fail. */
        int rc = store_reserve(h, e.len + 1, 0);
        if (rc == WS6455_OK)
            rc = store_append_str(h, h->store + list.off + e.off, e.len, 0, &spans[k++]);
        if (rc < 0) {
            ws6455__free(&h->a, spans);
            return rc;
        }
    }
    *out = spans;
    *count = n;
    return WS6455_OK;
}

static int collect_offers(struct ws6455_request *r)
{
    int rc = collect_list(&r->head, "Sec-WebSocket-Protocol", 1, &r->protocols, &r->nprotocols);
    if (rc < 0)
        return rc;
    return collect_list(&r->head, "Sec-WebSocket-Extensions", 0, &r->extensions,
                        &r->nextensions);
}

/* Every rule that needs the whole head, in an order chosen so the most
 * useful answer wins: a wrong Sec-WebSocket-Version (say, an old draft
 * client with no key) is answered 426 naming the version we speak. */
static int validate_request(ws6455__hs_server *s)
{
    const hs_head *h = &s->req.head;
    int rc;
    if ((rc = check_no_body(h)) < 0 || (rc = check_host(h)) < 0 || (rc = check_upgrade(h)) < 0 ||
        (rc = check_connection(h)) < 0 || (rc = check_ws_version(h)) < 0 ||
        (rc = check_key(h, s->accept)) < 0)
        return rc;
    rc = collect_offers(&s->req);
    return rc < 0 ? rc : 1;
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
    int rc = head_feed(&s->req.head, p, n, &used);
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
    if (!is_token(hd->name, hd->name_len) || !is_field_value(hd->value, hd->value_len))
        return WS6455_ERR_HS_MALFORMED;
    const char *v = hd->value, *v_end = hd->value + hd->value_len;
    while (v < v_end && ws6455__is_ows(*v))
        v++;
    while (v_end > v && ws6455__is_ows(v_end[-1]))
        v_end--;
    hs_span name, value;
    int rc = store_append_str(h, hd->name, hd->name_len, 0, &name);
    if (rc == WS6455_OK)
        rc = store_append_str(h, v, (size_t)(v_end - v), 0, &value);
    if (rc == WS6455_OK)
        rc = fields_push(h, name, value);
    return rc;
}

/* The same checks, in the same order, as parse_request_line and the header
 * reader apply to a request read from the wire. */
static int load_parsed_request(hs_head *h, const ws6455_http_request *r)
{
    int rc = parsed_sizes_fit(&h->lim, r);
    if (rc < 0)
        return rc;
    if (!is_token(r->method, r->method_len))
        return WS6455_ERR_HS_MALFORMED;
    if ((rc = check_target_syntax(r->target, r->target_len)) < 0)
        return rc;
    int major, minor;
    if ((rc = parse_http_version(r->version, r->version_len, &major, &minor)) < 0)
        return rc;
    if ((rc = store_append_str(h, r->method, r->method_len, 0, &h->method)) < 0 ||
        (rc = store_append_str(h, r->target, r->target_len, 0, &h->target)) < 0)
        return rc;
    h->have_start_line = 1;
    if ((rc = check_method(h)) < 0 || (rc = check_http_version(major, minor)) < 0)
        return rc;
    for (size_t i = 0; i < r->header_count; i++)
        if ((rc = load_parsed_header(h, &r->headers[i])) < 0)
            return rc;
    if ((rc = join_repeated_fields(h)) < 0)
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
    if (s->result != 0 || s->req.head.len != 0)
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

const char *ws6455__hs_choose_protocol(const ws6455_request *r, const char *const *supported,
                                       size_t supported_count)
{
    if (!r || !supported)
        return NULL;
    for (size_t i = 0; i < supported_count; i++) {
        if (!supported[i])
            continue;
        for (size_t j = 0; j < r->nprotocols; j++)
            if (strcmp(supported[i], head_str(&r->head, r->protocols[j])) == 0)
                return supported[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------ *
 * Request view (public accessors)                                      *
 * ------------------------------------------------------------------ */

static const char *span_out(const hs_head *h, hs_span s, size_t *len)
{
    if (len)
        *len = s.len;
    return head_str(h, s);
}

const char *ws6455_request_method(const ws6455_request *r, size_t *len)
{
    return r ? span_out(&r->head, r->head.method, len) : NULL;
}

const char *ws6455_request_target(const ws6455_request *r, size_t *len)
{
    return r ? span_out(&r->head, r->head.target, len) : NULL;
}

const char *ws6455_request_header(const ws6455_request *r, const char *name, size_t *len)
{
    return r && name ? field_value(&r->head, name, len) : NULL;
}

size_t ws6455_request_header_count(const ws6455_request *r)
{
    return r ? r->head.nfields : 0;
}

static int header_at(const hs_head *h, size_t i, ws6455_header *out)
{
    if (!out || i >= h->nfields)
        return WS6455_ERR_INVALID_ARGUMENT;
    out->name = span_out(h, h->fields[i].name, &out->name_len);
    out->value = span_out(h, h->fields[i].value, &out->value_len);
    return WS6455_OK;
}

int ws6455_request_header_at(const ws6455_request *r, size_t i, ws6455_header *out)
{
    return r ? header_at(&r->head, i, out) : WS6455_ERR_INVALID_ARGUMENT;
}

size_t ws6455_request_protocol_count(const ws6455_request *r)
{
    return r ? r->nprotocols : 0;
}

const char *ws6455_request_protocol(const ws6455_request *r, size_t i, size_t *len)
{
    return r && i < r->nprotocols ? span_out(&r->head, r->protocols[i], len) : NULL;
}

size_t ws6455_request_extension_count(const ws6455_request *r)
{
    return r ? r->nextensions : 0;
}

const char *ws6455_request_extension(const ws6455_request *r, size_t i, size_t *len)
{
    return r && i < r->nextensions ? span_out(&r->head, r->extensions[i], len) : NULL;
}

/* ------------------------------------------------------------------ *
 * Writing HTTP heads                                                   *
 * ------------------------------------------------------------------ */

/* Appends pieces to a buffer and remembers the first failure; w_end()
 * removes everything appended when one failed, so callers append all or
 * nothing. */
typedef struct hs_writer {
    ws6455__buf *out;
    const ws6455_allocator *a;
    size_t mark;
    int err;
} hs_writer;

static void w_begin(hs_writer *w, ws6455__buf *out, const ws6455_allocator *a)
{
    w->out = out;
    w->a = a;
    w->mark = out->len;
    w->err = WS6455_OK;
}

static void w_mem(hs_writer *w, const void *p, size_t n)
{
    if (w->err == WS6455_OK)
        w->err = ws6455__buf_append(w->out, w->a, p, n);
}

static void w_str(hs_writer *w, const char *s)
{
    w_mem(w, s, strlen(s));
}

static void w_uint(hs_writer *w, size_t v)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    w_mem(w, digits + i, sizeof digits - i);
}

static void w_header(hs_writer *w, const char *name, const char *value)
{
    w_str(w, name);
    w_str(w, ": ");
    w_str(w, value);
    w_str(w, "\r\n");
}

static void w_extra_headers(hs_writer *w, const ws6455_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        w_mem(w, h[i].name, h[i].name_len);
        w_str(w, ": ");
        w_mem(w, h[i].value, h[i].value_len);
        w_str(w, "\r\n");
    }
}

static int w_end(hs_writer *w)
{
    if (w->err != WS6455_OK)
        w->out->len = w->mark; /* drop the partial head */
    return w->err;
}

/* Headers the library writes itself, which an application may not add:
 * a second copy would contradict ours (framing, negotiation). */
static int is_library_owned_header(const char *name, size_t n)
{
    static const char *const owned[] = {
        "Content-Length",        "Content-Type",          "Transfer-Encoding",
        "Connection",            "Upgrade",               "Host",
        "Sec-WebSocket-Accept",  "Sec-WebSocket-Key",     "Sec-WebSocket-Version",
        "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Origin",
    };
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (ci_equal(name, n, owned[i], strlen(owned[i])))
            return 1;
    return 0;
}

/* Extra headers from an application: names must be tokens, values free of
 * CTLs (so no CR, LF or NUL that could split the head), and not one the
 * library writes itself. */
static int check_extra_headers(const ws6455_header *h, size_t n)
{
    if (n && !h)
        return WS6455_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || (!h[i].value && h[i].value_len))
            return WS6455_ERR_INVALID_ARGUMENT;
        if (!is_token(h[i].name, h[i].name_len) || !is_field_value(h[i].value, h[i].value_len))
            return WS6455_ERR_INVALID_ARGUMENT;
        if (is_library_owned_header(h[i].name, h[i].name_len))
            return WS6455_ERR_INVALID_ARGUMENT;
    }
    return WS6455_OK;
}

/* ------------------------------------------------------------------ *
 * Server responses                                                     *
 * ------------------------------------------------------------------ */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 500 ? "Client Error" : "Server Error";
    }
}

/* A complete rejection. 405 names the allowed method (RFC 7231 6.5.5);
 * 426 names the protocol to upgrade to (RFC 7231 6.5.15, which needs the
 * "upgrade" connection option beside "close") and the version we speak
 * (RFC 6455 4.2.2). */
static int append_rejection(ws6455__buf *out, const ws6455_allocator *a, int status,
                            const ws6455_header *extra, size_t extra_count, const char *body)
{
    hs_writer w;
    w_begin(&w, out, a);
    w_str(&w, "HTTP/1.1 ");
    w_uint(&w, (size_t)status);
    w_str(&w, " ");
    w_str(&w, reason_phrase(status));
    w_str(&w, "\r\n");
    w_header(&w, "Content-Type", "text/plain; charset=utf-8");
    w_str(&w, "Content-Length: ");
    w_uint(&w, strlen(body));
    w_str(&w, "\r\n");
    if (status == 426) {
        w_header(&w, "Upgrade", "websocket");
        w_header(&w, "Connection", "Upgrade, close");
        w_header(&w, "Sec-WebSocket-Version", "13");
    } else {
        w_header(&w, "Connection", "close");
    }
    if (status == 405)
        w_header(&w, "Allow", "GET");
    w_extra_headers(&w, extra, extra_count);
    w_str(&w, "\r\n");
    w_str(&w, body);
    return w_end(&w);
}

static int error_status(int err)
{
    switch (err) {
    case WS6455_ERR_HS_METHOD: return 405;
    case WS6455_ERR_HS_WS_VERSION: return 426;
    case WS6455_ERR_HS_TOO_LARGE: return 431;
    case WS6455_ERR_NOMEM: return 500;
    default: return 400;
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
                            text_line(body, sizeof body, ws6455_strerror(err)));
}

/* The extensions the engine accepted (permessage-deflate, chosen by
 * src/deflate_negotiate.c among the offers), if any; every other offer is
 * ignored, as RFC 6455 9.1 permits. */
static void append_accepted_extensions(hs_writer *w, const char *extensions)
{
    if (extensions)
        w_header(w, "Sec-WebSocket-Extensions", extensions);
}

static int was_offered(const struct ws6455_request *r, const char *protocol)
{
    for (size_t i = 0; i < r->nprotocols; i++)
        if (strcmp(protocol, head_str(&r->head, r->protocols[i])) == 0)
            return 1;
    return 0;
}

static int append_switching_protocols(const ws6455__hs_server *s,
                                      const ws6455_handshake_reply *reply, ws6455__buf *out,
                                      const ws6455_allocator *a)
{
    hs_writer w;
    w_begin(&w, out, a);
    w_str(&w, "HTTP/1.1 101 Switching Protocols\r\n");
    w_header(&w, "Upgrade", "websocket");
    w_header(&w, "Connection", "Upgrade");
    w_header(&w, "Sec-WebSocket-Accept", s->accept);
    if (reply->subprotocol)
        w_header(&w, "Sec-WebSocket-Protocol", reply->subprotocol);
    append_accepted_extensions(&w, reply->extensions);
    w_extra_headers(&w, reply->headers, reply->header_count);
    w_str(&w, "\r\n");
    return w_end(&w);
}

int ws6455__hs_server_respond(const ws6455__hs_server *s, const ws6455_handshake_reply *reply,
                              ws6455__buf *out, const ws6455_allocator *a)
{
    if (!s || !reply || !out)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (s->result != 1)
        return WS6455_ERR_INVALID_STATE;
    int rc = check_extra_headers(reply->headers, reply->header_count);
    if (rc < 0)
        return rc;
    if (reply->extensions && !is_field_value(reply->extensions, strlen(reply->extensions)))
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
    const char *text =
        reply->body ? reply->body : text_line(body, sizeof body, reason_phrase(reply->status));
    return append_rejection(out, &ra, reply->status, reply->headers, reply->header_count, text);
}

/* ------------------------------------------------------------------ *
 * Client                                                               *
 * ------------------------------------------------------------------ */

struct ws6455_response {
    hs_head head;
};

struct ws6455__hs_client {
    struct ws6455_response resp;
    int requested;               /* a request was built: key and offers are set */
    int result;                  /* 0 reading, 1 valid response, <0 sticky error */
    char key[KEY_LEN + 1];
    char expected[ACCEPT_LEN + 1];
    int offered_extensions; /* the request offered extensions: the engine checks the answer */
    ws6455__buf offered; /* offered subprotocols, each followed by a NUL */
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
    head_init(&c->resp.head, &ra, lim, HS_KIND_RESPONSE);
    return c;
}

void ws6455__hs_client_free(ws6455__hs_client *c)
{
    if (!c)
        return;
    ws6455_allocator a = c->resp.head.a;
    ws6455__buf_free(&c->offered, &a);
    head_free(&c->resp.head);
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
        if (!p[i] || !is_token(p[i], strlen(p[i])))
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
    return check_extra_headers(p->headers, p->header_count);
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

static void write_client_request(hs_writer *w, const ws6455__hs_client_params *p,
                                 const char *key)
{
    w_str(w, "GET ");
    if (p->target[0] == '?')
        w_str(w, "/");
    w_str(w, p->target);
    w_str(w, " HTTP/1.1\r\n");
    w_header(w, "Host", p->host);
    w_header(w, "Upgrade", "websocket");
    w_header(w, "Connection", "Upgrade");
    w_header(w, "Sec-WebSocket-Key", key);
    w_header(w, "Sec-WebSocket-Version", "13");
    if (p->origin)
        w_header(w, "Origin", p->origin);
    if (p->protocol_count) {
        w_str(w, "Sec-WebSocket-Protocol: ");
        for (size_t i = 0; i < p->protocol_count; i++) {
            if (i)
                w_str(w, ", ");
            w_str(w, p->protocols[i]);
        }
        w_str(w, "\r\n");
    }
    if (p->extensions)
        w_header(w, "Sec-WebSocket-Extensions", p->extensions);
    w_extra_headers(w, p->headers, p->header_count);
    w_str(w, "\r\n");
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
    char key[KEY_LEN + 1], expected[ACCEPT_LEN + 1];
    if (ws6455_base64_encode(nonce, 16, key, sizeof key) != KEY_LEN ||
        ws6455_accept_key(key, KEY_LEN, expected) != WS6455_OK)
        return WS6455_ERR_INVALID_ARGUMENT; /* cannot happen with a 16-byte nonce */
    hs_writer w;
    w_begin(&w, out, &c->resp.head.a);
    write_client_request(&w, p, key);
    if ((rc = w_end(&w)) < 0)
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
    const char *v = field_value(h, "Sec-WebSocket-Accept", &len);
    return v && len == ACCEPT_LEN && memcmp(v, expected, ACCEPT_LEN) == 0 ? WS6455_OK
                                                                         : WS6455_ERR_HS_ACCEPT;
}

/* 4.1 item 5: extensions in the response must be ones we offered. Without
 * an offer any is an error; with one, the engine checks the answer against
 * it (src/deflate_negotiate.c), once the head is complete. */
static int check_no_extensions(const ws6455__hs_client *c)
{
    if (c->offered_extensions)
        return WS6455_OK;
    return find_field(&c->resp.head, "Sec-WebSocket-Extensions") ? WS6455_ERR_HS_EXTENSION
                                                                 : WS6455_OK;
}

/* 4.1 item 6: at most one value, and one we offered (exact match). Two
 * header lines join into "a, b", which is not one offered name. */
static int check_chosen_protocol(ws6455__hs_client *c)
{
    const hs_head *h = &c->resp.head;
    size_t len;
    const char *v = field_value(h, "Sec-WebSocket-Protocol", &len);
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
    if ((rc = check_status_101(h)) < 0 || (rc = check_upgrade(h)) < 0 ||
        (rc = check_connection(h)) < 0 || (rc = check_accept(h, c->expected)) < 0 ||
        (rc = check_no_extensions(c)) < 0 || (rc = check_chosen_protocol(c)) < 0)
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
    int rc = head_feed(&c->resp.head, p, n, &used);
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
    return r && name ? field_value(&r->head, name, len) : NULL;
}

size_t ws6455_response_header_count(const ws6455_response *r)
{
    return r ? r->head.nfields : 0;
}

int ws6455_response_header_at(const ws6455_response *r, size_t i, ws6455_header *out)
{
    return r ? header_at(&r->head, i, out) : WS6455_ERR_INVALID_ARGUMENT;
}
