/* Internal: the HTTP/1.1 head layer under both handshakes (hs_server.c,
 * hs_client.c): character classes and lists of RFC 7230, the bounded
 * incremental head reader with its field store, and the all-or-nothing
 * head writer. Nothing here knows about WebSocket beyond the two header
 * checks both roles share (Upgrade and Connection). */
#ifndef WS6455_HTTP_HEAD_H
#define WS6455_HTTP_HEAD_H

#include "handshake.h"

enum {
    HS_KEY_LEN = 24,    /* Sec-WebSocket-Key: base64 of 16 bytes */
    HS_ACCEPT_LEN = 28, /* Sec-WebSocket-Accept: base64 of a 20-byte SHA-1 digest */
};

/* A string in a head's store, by offset (the store moves when it grows). */
typedef struct hs_span {
    size_t off, len;
} hs_span;

typedef struct hs_field {
    hs_span name;   /* as received, NUL-terminated in the store */
    hs_span value;  /* OWS-trimmed, NUL-terminated */
    hs_span joined; /* all values of this name joined with ", " (same as
                       value when the name occurs once) */
} hs_field;

enum hs_kind { HS_KIND_REQUEST, HS_KIND_RESPONSE };

/* Called for each header line as it is read (and for each header of a
 * request handed over parsed): the OWS-trimmed value, neither string
 * NUL-terminated. A negative return fails the head with that error. */
typedef int (*hs_field_fn)(void *arg, const char *name, size_t name_len, const char *value,
                           size_t value_len);

typedef struct hs_head {
    ws6455_allocator a; /* resolved */
    ws6455__hs_limits lim;
    int kind;
    /* Whether header lines are kept (fields, joined values) once read.
     * Without, the store holds the start line and the line being read,
     * and each header is seen only by on_field. */
    int keep_fields;
    hs_field_fn on_field; /* or NULL */
    void *field_arg;
    char *store;
    size_t len, cap;
    hs_field *fields;
    size_t nfields, fields_cap;
    /* reader state */
    size_t read;         /* bytes of the head taken (the max_size limit) */
    size_t lines;        /* header lines read (the max_headers limit) */
    size_t line_start;   /* offset of the current line in the store */
    int saw_cr;          /* the previous byte was CR */
    int have_start_line; /* request line or status line done */
    int complete;        /* blank line seen and fields joined */
    /* start line */
    hs_span method, target; /* requests */
    int status;             /* responses */
} hs_head;

/* Whether head h keeps its header lines: a constant 0 when no head of this
 * build does (a server without the request view, and no client), so that
 * the field store is left out altogether. */
#if defined(WS6455_NO_REQUEST_HEADERS) && defined(WS6455_NO_CLIENT)
#define WS6455__HEAD_KEEPS(h) ((void)(h), 0)
#else
#define WS6455__HEAD_KEEPS(h) ((h)->keep_fields)
#endif

/* ---- RFC 7230 syntax */

/* A token (RFC 7230 3.2.6): one or more tchars. */
int ws6455__http_is_token(const char *s, size_t n);
/* A field value: any byte but CTLs, horizontal tab allowed. */
int ws6455__http_is_field_value(const char *s, size_t n);
/* Finds the list element starting at *pos in v[0..n): OWS-trimmed, commas
 * inside a quoted-string (extension parameters may carry them) do not
 * split. Advances *pos past the element and its comma. Returns 0 when the
 * list is exhausted. Empty elements are returned too (callers skip them,
 * as RFC 7230 tells recipients to). */
int ws6455__http_next_list_element(const char *v, size_t n, size_t *pos, hs_span *elem);
/* True when the list v[0..n) has an element equal to `token`, compared
 * case-insensitively (Upgrade and Connection tokens are). For one line of a
 * header that may be repeated: *quoted says whether the lines before it,
 * joined with ", " (RFC 7230 3.2.2), ended inside a quoted-string, and is
 * updated for the next line. The answer over all lines is then the answer
 * on their joined value: an element that continues a quoted-string from an
 * earlier line holds a quote and never equals a token. */
int ws6455__http_list_line_has(const char *v, size_t n, const char *token, int *quoted);
/* Names are compared case-insensitively (RFC 7230 3.2). */
int ws6455__http_name_is(const char *name, size_t n, const char *literal);
/* "HTTP/" DIGIT "." DIGIT into *major, *minor; WS6455_ERR_HS_MALFORMED. */
int ws6455__http_parse_version(const char *s, size_t n, int *major, int *minor);
/* HTTP/1.1 or later (RFC 6455 4.1 and 4.2.1 item 1); WS6455_ERR_HS_VERSION. */
int ws6455__http_check_version(int major, int minor);
/* An origin-form or absolute-form request target; WS6455_ERR_HS_MALFORMED. */
int ws6455__http_check_target(const char *t, size_t n);
/* Extra headers from an application: token names, CTL-free values, none
 * the library writes itself; WS6455_ERR_INVALID_ARGUMENT otherwise. */
int ws6455__http_check_extra_headers(const ws6455_header *h, size_t n);

/* ---- the head: store, fields and reader */

/* Zero lengths in *lim (or a NULL lim) take the defaults. */
void ws6455__head_init(hs_head *h, const ws6455_allocator *a, const ws6455__hs_limits *lim,
                       int kind);
void ws6455__head_free(hs_head *h);
const char *ws6455__head_str(const hs_head *h, hs_span s);
/* As _str, with the length in *len (if not NULL). */
const char *ws6455__head_span(const hs_head *h, hs_span s, size_t *len);
/* Makes room for `extra` bytes; a nonzero `limit` caps the store's
 * capacity (the head size limit while reading). */
int ws6455__head_reserve(hs_head *h, size_t extra, size_t limit);
/* Appends n bytes and a NUL; the span (without the NUL) goes to *out. */
int ws6455__head_append_str(hs_head *h, const char *p, size_t n, size_t limit, hs_span *out);
/* Adds a field (WS6455_ERR_HS_TOO_LARGE past max_headers). */
int ws6455__head_push_field(hs_head *h, hs_span name, hs_span value);
/* The first field of that name (case-insensitive), or NULL. */
const hs_field *ws6455__head_find(const hs_head *h, const char *name);
/* How many fields have that name. */
size_t ws6455__head_count(const hs_head *h, const char *name);
/* The joined value of a header, or NULL when absent. */
const char *ws6455__head_value(const hs_head *h, const char *name, size_t *len);
/* Field i as a public ws6455_header; WS6455_ERR_INVALID_ARGUMENT past the end. */
int ws6455__head_field_at(const hs_head *h, size_t i, ws6455_header *out);
/* Joins the values of every repeated header with ", " (RFC 7230 3.2.2). */
int ws6455__head_join_repeated(hs_head *h);
/* RFC 6455 4.2.1 item 1: the method is GET; WS6455_ERR_HS_METHOD. */
int ws6455__head_check_method(const hs_head *h);
/* Feeds bytes until the head ends. Returns 0 (all consumed, more needed),
 * 1 (head complete; *consumed ends at its blank line) or an error
 * (*consumed counts the byte that proved it). */
int ws6455__head_feed(hs_head *h, const uint8_t *p, size_t n, size_t *consumed);
/* Whether the (joined) header `name` lists `token`, case-insensitively:
 * Upgrade lists "websocket", Connection lists "Upgrade" (RFC 6455 4.1). */
int ws6455__head_lists(const hs_head *h, const char *name, const char *token);

/* ---- writing heads */

/* Appends pieces to a buffer and remembers the first failure;
 * ws6455__writer_end() removes everything appended when one failed, so
 * callers append all or nothing. */
typedef struct hs_writer {
    ws6455__buf *out;
    const ws6455_allocator *a;
    size_t mark;
    int err;
} hs_writer;

void ws6455__writer_begin(hs_writer *w, ws6455__buf *out, const ws6455_allocator *a);
void ws6455__write_str(hs_writer *w, const char *s);
void ws6455__write_uint(hs_writer *w, size_t v);
/* "name: value\r\n" */
void ws6455__write_header(hs_writer *w, const char *name, const char *value);
void ws6455__write_extra_headers(hs_writer *w, const ws6455_header *h, size_t n);
/* WS6455_OK, or the first failure (the partial head is then removed). */
int ws6455__writer_end(hs_writer *w);

#endif
