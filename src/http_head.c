/* The HTTP/1.1 head under both handshakes (see http_head.h).
 *
 * One bounded, incremental head reader serves both sides: it takes bytes
 * one at a time (so any split of the input gives the same result), stores
 * the head in a buffer that never grows past the configured size, and
 * checks every line as soon as its CRLF arrives. Names and values are
 * NUL-terminated in place; joined repeated headers (and, for the server,
 * the offered subprotocol and extension lists) are appended to the same
 * store once the head is complete. Everything is addressed by offsets into
 * that store, so it may move when it grows. */
#include "http_head.h"

#include "ascii.h"

#include <string.h>

enum {
    DEFAULT_MAX_SIZE = 8192,
    DEFAULT_MAX_HEADERS = 64,
    DEFAULT_MAX_LINE = 8192,
    FIRST_STORE_CAP = 256,
    FIRST_FIELDS_CAP = 8,
};

/* ------------------------------------------------------------------ *
 * Character classes (RFC 7230 section 3.2.6)                           *
 * ------------------------------------------------------------------ */

int ws6455__http_is_token(const char *s, size_t n)
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
int ws6455__http_is_field_value(const char *s, size_t n)
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

/* Finds the list element starting at *pos in v[0..n): OWS-trimmed, commas
 * inside a quoted-string (extension parameters may carry them) do not
 * split. Advances *pos past the element and its comma. Returns 0 when the
 * list is exhausted. Empty elements are returned too (callers skip them,
 * as RFC 7230 tells recipients to). */
static int scan_list_element(const char *v, size_t n, size_t *pos, hs_span *elem, int *quoted_in_out)
{
    size_t i = *pos;
    if (i > n)
        return 0;
    int quoted = *quoted_in_out;
    size_t start = i;
    while (i < n && (quoted || v[i] != ',')) {
        if (quoted && v[i] == '\\' && i + 1 < n)
            i++; /* quoted-pair: the escaped byte cannot end the string */
        else if (v[i] == '"')
            quoted = !quoted;
        i++;
    }
    size_t end = i;
    *quoted_in_out = quoted; /* 0 at a comma; at the end, the line's final state */
    *pos = i + 1;            /* past the comma, or past n at the end */
    while (start < end && ws6455__is_ows(v[start]))
        start++;
    while (end > start && ws6455__is_ows(v[end - 1]))
        end--;
    elem->off = start;
    elem->len = end - start;
    return 1;
}

int ws6455__http_next_list_element(const char *v, size_t n, size_t *pos, hs_span *elem)
{
    int quoted = 0;
    return scan_list_element(v, n, pos, elem, &quoted);
}

int ws6455__http_name_is(const char *name, size_t n, const char *literal)
{
    return ci_equal(name, n, literal, strlen(literal));
}

int ws6455__http_list_line_has(const char *v, size_t n, const char *token, int *quoted)
{
    size_t pos = 0;
    hs_span e;
    int found = 0, continued = *quoted;
    while (scan_list_element(v, n, &pos, &e, quoted)) {
        found |= !continued && ws6455__http_name_is(v + e.off, e.len, token);
        continued = 0;
    }
    return found;
}

/* ------------------------------------------------------------------ *
 * The HTTP head: storage, fields and the incremental reader            *
 * ------------------------------------------------------------------ */

void ws6455__head_init(hs_head *h, const ws6455_allocator *a, const ws6455__hs_limits *lim,
                       int kind)
{
    memset(h, 0, sizeof *h);
    ws6455__allocator_resolve(&h->a, a);
    h->lim.max_size = (lim && lim->max_size) ? lim->max_size : DEFAULT_MAX_SIZE;
    h->lim.max_headers = (lim && lim->max_headers) ? lim->max_headers : DEFAULT_MAX_HEADERS;
    h->lim.max_line = (lim && lim->max_line) ? lim->max_line : DEFAULT_MAX_LINE;
    h->kind = kind;
    h->keep_fields = 1;
}

void ws6455__head_free(hs_head *h)
{
    ws6455__free(&h->a, h->store);
    ws6455__free(&h->a, h->fields);
    h->store = NULL;
    h->fields = NULL;
}

const char *ws6455__head_str(const hs_head *h, hs_span s)
{
    return h->store + s.off;
}

/* Makes room for `extra` bytes. While reading, `limit` caps the capacity at
 * the head size limit, so a hostile peer never makes us hold more than that;
 * 0 means no cap (appending derived strings after the head is complete). */
int ws6455__head_reserve(hs_head *h, size_t extra, size_t limit)
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
int ws6455__head_append_str(hs_head *h, const char *p, size_t n, size_t limit, hs_span *out)
{
    if (n == SIZE_MAX)
        return WS6455_ERR_NOMEM;
    int rc = ws6455__head_reserve(h, n + 1, limit);
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

int ws6455__head_push_field(hs_head *h, hs_span name, hs_span value)
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
    return ci_equal(ws6455__head_str(h, f->name), f->name.len, name, name_len);
}

const hs_field *ws6455__head_find(const hs_head *h, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < h->nfields; i++)
        if (field_name_is(h, &h->fields[i], name, n))
            return &h->fields[i];
    return NULL;
}

size_t ws6455__head_count(const hs_head *h, const char *name)
{
    size_t n = strlen(name), count = 0;
    for (size_t i = 0; i < h->nfields; i++)
        count += (size_t)field_name_is(h, &h->fields[i], name, n);
    return count;
}

/* The joined value of a header, or NULL when absent. */
const char *ws6455__head_value(const hs_head *h, const char *name, size_t *len)
{
    const hs_field *f = ws6455__head_find(h, name);
    if (!f)
        return NULL;
    if (len)
        *len = f->joined.len;
    return ws6455__head_str(h, f->joined);
}

/* Joins the values of one repeated header with ", " (RFC 7230 section
 * 3.2.2) into a new string in the store, and points every occurrence at it. */
static int join_one_name(hs_head *h, size_t first)
{
    const hs_field *f0 = &h->fields[first];
    size_t total = 0, count = 0;
    for (size_t i = first; i < h->nfields; i++) {
        if (!field_name_is(h, &h->fields[i], ws6455__head_str(h, f0->name), f0->name.len))
            continue;
        total += h->fields[i].value.len + (count ? 2 : 0);
        count++;
    }
    if (count < 2)
        return WS6455_OK;
    int rc = ws6455__head_reserve(h, total + 1, 0);
    if (rc < 0)
        return rc;
    hs_span joined = {h->len, total};
    char *dst = h->store + h->len;
    size_t k = 0, values = 0;
    for (size_t i = first; i < h->nfields; i++) {
        hs_field *f = &h->fields[i];
        if (!field_name_is(h, f, ws6455__head_str(h, h->fields[first].name),
                           h->fields[first].name.len))
            continue;
        /* Count values, not bytes: an empty first value still takes a
         * separator, as the length computed above assumed. */
        if (values++) {
            memcpy(dst + k, ", ", 2);
            k += 2;
        }
        memcpy(dst + k, ws6455__head_str(h, f->value), f->value.len);
        k += f->value.len;
        f->joined = joined;
    }
    dst[k] = '\0';
    h->len += total + 1;
    return WS6455_OK;
}

int ws6455__head_join_repeated(hs_head *h)
{
    for (size_t i = 0; i < h->nfields; i++) {
        int seen_before = 0;
        for (size_t j = 0; j < i && !seen_before; j++)
            seen_before = field_name_is(h, &h->fields[j], ws6455__head_str(h, h->fields[i].name),
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
int ws6455__http_parse_version(const char *s, size_t n, int *major, int *minor)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || !ws6455__is_digit(s[5]) || s[6] != '.' ||
        !ws6455__is_digit(s[7]))
        return WS6455_ERR_HS_MALFORMED;
    *major = s[5] - '0';
    *minor = s[7] - '0';
    return WS6455_OK;
}

/* RFC 6455 4.2.1 item 1 asks for HTTP/1.1 or higher. Any later version
 * (1.2 .. 1.9, and 2.0 or above should one ever appear in an HTTP/1 start
 * line) counts as "higher"; 1.0 and 0.x do not. */
int ws6455__http_check_version(int major, int minor)
{
    if (major > 1 || (major == 1 && minor >= 1))
        return WS6455_OK;
    return WS6455_ERR_HS_VERSION;
}

/* RFC 6455 4.2.1 item 1: the method must be GET (methods are case-sensitive). */
int ws6455__head_check_method(const hs_head *h)
{
    if (h->method.len == 3 && memcmp(ws6455__head_str(h, h->method), "GET", 3) == 0)
        return WS6455_OK;
    return WS6455_ERR_HS_METHOD;
}

/* The request target: origin-form ("/path?query") or, as RFC 6455 4.2.1
 * also allows, absolute-form ("http://host/path"). Visible ASCII only. */
int ws6455__http_check_target(const char *t, size_t n)
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
    while (i < n && (ws6455__is_alpha(t[i]) || ws6455__is_digit(t[i]) || t[i] == '+' ||
                     t[i] == '-' || t[i] == '.'))
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
    if (!ws6455__http_is_token(line, (size_t)(sp1 - line)))
        return WS6455_ERR_HS_MALFORMED;
    int rc = ws6455__http_check_target(target, (size_t)(sp2 - target));
    if (rc < 0)
        return rc;
    int major, minor;
    rc = ws6455__http_parse_version(sp2 + 1, (size_t)(line_end - sp2 - 1), &major, &minor);
    if (rc < 0)
        return rc;
    h->method.off = start;
    h->method.len = (size_t)(sp1 - line);
    h->target.off = (size_t)(target - h->store);
    h->target.len = (size_t)(sp2 - target);
    *sp1 = '\0';
    *sp2 = '\0';
    rc = ws6455__head_check_method(h);
    if (rc < 0)
        return rc;
    return ws6455__http_check_version(major, minor);
}

#if !defined(WS6455_NO_CLIENT)
/* HTTP-version SP 3DIGIT [SP reason-phrase]. The reason phrase is ignored;
 * its space is optional because some servers omit an empty phrase's SP. */
static int parse_status_line(hs_head *h, size_t start, size_t end)
{
    const char *line = h->store + start;
    size_t n = end - start;
    if (n < 12 || line[8] != ' ')
        return WS6455_ERR_HS_MALFORMED;
    int major, minor;
    int rc = ws6455__http_parse_version(line, 8, &major, &minor);
    if (rc < 0)
        return rc;
    /* RFC 9110 15: a status code is three digits, 100..599. A first digit
     * of 0 would read "050" as 50 (fuzz finding F2). */
    if (line[9] < '1' || line[9] > '5' || !ws6455__is_digit(line[10]) ||
        !ws6455__is_digit(line[11]))
        return WS6455_ERR_HS_MALFORMED;
    if (n > 12 && line[12] != ' ')
        return WS6455_ERR_HS_MALFORMED;
    h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    return ws6455__http_check_version(major, minor);
}
#endif

/* field-name ":" OWS field-value OWS. A line starting with whitespace is
 * obs-fold (RFC 7230 3.2.4 lets us reject it); whitespace before the colon
 * is refused because it has been used for request smuggling. */
static int parse_header_line(hs_head *h, size_t start, size_t end)
{
    char *line = h->store + start, *line_end = h->store + end;
    if (ws6455__is_ows(line[0]))
        return WS6455_ERR_HS_MALFORMED;
    char *colon = (char *)find_byte(line, line_end, ':');
    if (!colon || !ws6455__http_is_token(line, (size_t)(colon - line)))
        return WS6455_ERR_HS_MALFORMED;
    char *v = colon + 1, *v_end = line_end;
    while (v < v_end && ws6455__is_ows(*v))
        v++;
    while (v_end > v && ws6455__is_ows(v_end[-1]))
        v_end--;
    hs_span name = {start, (size_t)(colon - line)};
    hs_span value = {(size_t)(v - h->store), (size_t)(v_end - v)};
    h->lines++;
    if (WS6455__HEAD_KEEPS(h)) {
        int rc = ws6455__head_push_field(h, name, value);
        if (rc < 0)
            return rc;
    }
    *colon = '\0';
    *v_end = '\0'; /* at most the CR of this line */
    return h->on_field ? h->on_field(h->field_arg, line, name.len, v, value.len) : WS6455_OK;
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
#if !defined(WS6455_NO_CLIENT)
        if (h->kind == HS_KIND_RESPONSE)
            return parse_status_line(h, start, end);
#endif
        return parse_request_line(h, start, end);
    }
    int rc = parse_header_line(h, start, end);
    if (!WS6455__HEAD_KEEPS(h)) /* seen by on_field: its room is the next line's */
        h->len = h->line_start = start;
    return rc;
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
        if (line_len == 1 && h->have_start_line && h->lines >= h->lim.max_headers)
            return WS6455_ERR_HS_TOO_LARGE;
    }
    if (h->read >= h->lim.max_size)
        return WS6455_ERR_HS_TOO_LARGE;
    int rc = ws6455__head_reserve(h, 1, h->lim.max_size);
    if (rc < 0)
        return rc;
    h->read++;
    h->store[h->len++] = (char)c;
    h->saw_cr = c == '\r';
    return c == '\n' ? head_end_of_line(h) : 0;
}

/* Feeds bytes until the head ends. Returns 0 (all consumed, more needed),
 * 1 (head complete; *consumed ends at its blank line) or an error
 * (*consumed counts the byte that proved it). */
int ws6455__head_feed(hs_head *h, const uint8_t *p, size_t n, size_t *consumed)
{
    for (size_t i = 0; i < n; i++) {
        int rc = head_take_byte(h, p[i]);
        if (rc == 0)
            continue;
        *consumed = i + 1;
        if (rc < 0)
            return rc;
        if (WS6455__HEAD_KEEPS(h) && (rc = ws6455__head_join_repeated(h)) < 0)
            return rc;
        h->complete = 1;
        return 1;
    }
    *consumed = n;
    return 0;
}

/* The header's joined value lists the token (case-insensitive). */
int ws6455__head_lists(const hs_head *h, const char *name, const char *token)
{
    size_t len;
    const char *v = ws6455__head_value(h, name, &len);
    int quoted = 0;
    return v && ws6455__http_list_line_has(v, len, token, &quoted);
}

const char *ws6455__head_span(const hs_head *h, hs_span s, size_t *len)
{
    if (len)
        *len = s.len;
    return ws6455__head_str(h, s);
}

int ws6455__head_field_at(const hs_head *h, size_t i, ws6455_header *out)
{
    if (!out || i >= h->nfields)
        return WS6455_ERR_INVALID_ARGUMENT;
    out->name = ws6455__head_span(h, h->fields[i].name, &out->name_len);
    out->value = ws6455__head_span(h, h->fields[i].value, &out->value_len);
    return WS6455_OK;
}

/* ------------------------------------------------------------------ *
 * Writing HTTP heads                                                   *
 * ------------------------------------------------------------------ */

void ws6455__writer_begin(hs_writer *w, ws6455__buf *out, const ws6455_allocator *a)
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

void ws6455__write_str(hs_writer *w, const char *s)
{
    w_mem(w, s, strlen(s));
}

void ws6455__write_uint(hs_writer *w, size_t v)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    w_mem(w, digits + i, sizeof digits - i);
}

void ws6455__write_header(hs_writer *w, const char *name, const char *value)
{
    ws6455__write_str(w, name);
    ws6455__write_str(w, ": ");
    ws6455__write_str(w, value);
    ws6455__write_str(w, "\r\n");
}

void ws6455__write_extra_headers(hs_writer *w, const ws6455_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        w_mem(w, h[i].name, h[i].name_len);
        ws6455__write_str(w, ": ");
        w_mem(w, h[i].value, h[i].value_len);
        ws6455__write_str(w, "\r\n");
    }
}

int ws6455__writer_end(hs_writer *w)
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
        "Content-Length",
        "Content-Type",
        "Transfer-Encoding",
        "Connection",
        "Upgrade",
        "Host",
        "Sec-WebSocket-Accept",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Protocol",
        "Sec-WebSocket-Extensions",
        "Origin",
    };
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (ci_equal(name, n, owned[i], strlen(owned[i])))
            return 1;
    return 0;
}

/* Extra headers from an application: names must be tokens, values free of
 * CTLs (so no CR, LF or NUL that could split the head), and not one the
 * library writes itself. */
int ws6455__http_check_extra_headers(const ws6455_header *h, size_t n)
{
    if (n && !h)
        return WS6455_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || (!h[i].value && h[i].value_len))
            return WS6455_ERR_INVALID_ARGUMENT;
        if (!ws6455__http_is_token(h[i].name, h[i].name_len) ||
            !ws6455__http_is_field_value(h[i].value, h[i].value_len))
            return WS6455_ERR_INVALID_ARGUMENT;
        if (is_library_owned_header(h[i].name, h[i].name_len))
            return WS6455_ERR_INVALID_ARGUMENT;
    }
    return WS6455_OK;
}
