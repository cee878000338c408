/* permessage-deflate negotiation, RFC 7692 section 7.1, both roles: the
 * Sec-WebSocket-Extensions grammar of RFC 6455 9.1, the server's choice
 * among the client's offers and the client's offer and validation of the
 * response. libc only; see src/deflate.h for the decisions. */
#include "deflate.h"

#include "ascii.h"
#include "http_head.h"

#include <string.h>

static const char pmd_name[] = "permessage-deflate";

void ws6455__deflate_options_init(ws6455__deflate_options *o)
{
    o->enabled = 0;
    o->server_no_context_takeover = 1;
    o->client_no_context_takeover = 1;
    o->server_max_window_bits = 15;
    o->client_max_window_bits = 15;
    o->level = -1;
    o->mem_level = 4;
    o->min_size = 64;
}

static int bits_ok(int b)
{
    return b >= 8 && b <= 15;
}

int ws6455__deflate_options_check(const ws6455__deflate_options *o)
{
    if (!o || !bits_ok(o->server_max_window_bits) || !bits_ok(o->client_max_window_bits) ||
        o->level < -1 || o->level > 9 || o->mem_level < 1 || o->mem_level > 9)
        return WS6455_ERR_INVALID_ARGUMENT;
    return WS6455_OK;
}

/* ------------------------------------------------------------------ *
 * Grammar (RFC 6455 9.1 over RFC 7230 tokens and quoted-strings)       *
 * ------------------------------------------------------------------ */

/* A cursor over one list element. */
typedef struct cursor {
    const char *s;
    size_t n, i;
} cursor;

static void skip_ows(cursor *c)
{
    while (c->i < c->n && ws6455__is_ows(c->s[c->i]))
        c->i++;
}

/* Reads a token; returns its length (0: none here). */
static size_t read_token(cursor *c, const char **start)
{
    *start = c->s + c->i;
    size_t k = c->i;
    while (c->i < c->n && ws6455__is_tchar((unsigned char)c->s[c->i]))
        c->i++;
    return c->i - k;
}

/* A parameter value after unescaping. Values longer than a window-bits
 * number are only checked for form, not kept. */
typedef struct pvalue {
    char text[4];
    size_t len; /* full unescaped length, may exceed sizeof text */
} pvalue;

static void value_put(pvalue *v, char ch)
{
    if (v->len < sizeof v->text)
        v->text[v->len] = ch;
    v->len++;
}

/* Reads a value: a token, or a quoted-string whose unescaped content must
 * itself be a token (RFC 6455 9.1). Returns 0 when malformed. */
static int read_value(cursor *c, pvalue *v)
{
    v->len = 0;
    if (c->i < c->n && c->s[c->i] == '"') {
        c->i++;
        for (;;) {
            if (c->i >= c->n)
                return 0; /* unterminated */
            unsigned char ch = (unsigned char)c->s[c->i++];
            if (ch == '"')
                break;
            if (ch == '\\') {
                if (c->i >= c->n)
                    return 0;
                ch = (unsigned char)c->s[c->i++];
            }
            if (!ws6455__is_tchar(ch))
                return 0;
            value_put(v, (char)ch);
        }
        return v->len > 0;
    }
    const char *t;
    size_t k = read_token(c, &t);
    for (size_t j = 0; j < k; j++)
        value_put(v, t[j]);
    return k > 0;
}

/* "8".."15", no sign, no leading zero. 0 when not one of them. */
static uint8_t window_value(const pvalue *v)
{
    if (v->len == 1 && (v->text[0] == '8' || v->text[0] == '9'))
        return (uint8_t)(v->text[0] - '0');
    if (v->len == 2 && v->text[0] == '1' && v->text[1] >= '0' && v->text[1] <= '5')
        return (uint8_t)(10 + v->text[1] - '0');
    return 0;
}

static int name_is(const char *t, size_t k, const char *name)
{
    return k == strlen(name) && memcmp(t, name, k) == 0;
}

/* Applies one permessage-deflate parameter to *o. 0 when it is unknown,
 * repeated or has an invalid value (RFC 7692 7.1). */
static int apply_param(ws6455__deflate_offer *o, const char *name, size_t k, int has_value,
                       const pvalue *v, int response)
{
    if (name_is(name, k, "server_no_context_takeover")) {
        if (o->server_no_context_takeover || has_value)
            return 0;
        o->server_no_context_takeover = 1;
        return 1;
    }
    if (name_is(name, k, "client_no_context_takeover")) {
        if (o->client_no_context_takeover || has_value)
            return 0;
        o->client_no_context_takeover = 1;
        return 1;
    }
    if (name_is(name, k, "server_max_window_bits")) {
        uint8_t b = has_value ? window_value(v) : 0;
        if (o->server_max_window_bits || b == 0)
            return 0;
        o->server_max_window_bits = b;
        return 1;
    }
    if (name_is(name, k, "client_max_window_bits")) {
        if (o->client_max_window_bits)
            return 0;
        if (!has_value) {
            if (response)
                return 0; /* 7.1.2.2: a response names the value */
            o->client_max_window_bits = WS6455__DEFLATE_BITS_NO_VALUE;
            return 1;
        }
        uint8_t b = window_value(v);
        if (b == 0)
            return 0;
        o->client_max_window_bits = b;
        return 1;
    }
    return 0;
}

int ws6455__deflate_parse(const char *s, size_t n, int response, ws6455__deflate_offer *out)
{
    if (!s && n)
        return WS6455_ERR_HS_EXTENSION;
    cursor c = {s, n, 0};
    skip_ows(&c);
    const char *name;
    size_t k = read_token(&c, &name);
    if (k == 0)
        return WS6455_ERR_HS_EXTENSION;
    int ours = name_is(name, k, pmd_name);
    ws6455__deflate_offer o = {0, 0, 0, 0};
    for (;;) {
        skip_ows(&c);
        if (c.i == c.n)
            break;
        if (c.s[c.i] != ';')
            return WS6455_ERR_HS_EXTENSION;
        c.i++;
        skip_ows(&c);
        const char *pname;
        size_t pk = read_token(&c, &pname);
        if (pk == 0)
            return WS6455_ERR_HS_EXTENSION;
        skip_ows(&c);
        int has_value = 0;
        pvalue v = {{0}, 0};
        if (c.i < c.n && c.s[c.i] == '=') {
            c.i++;
            skip_ows(&c);
            if (!read_value(&c, &v))
                return WS6455_ERR_HS_EXTENSION;
            has_value = 1;
        }
        if (ours && !apply_param(&o, pname, pk, has_value, &v, response))
            return WS6455_ERR_HS_EXTENSION;
    }
    if (!ours)
        return 0;
    if (out)
        *out = o;
    return 1;
}

/* The next non-empty element of a comma-separated list, through the
 * handshake's list walker (quoted commas do not split, OWS trimmed);
 * empty elements are skipped. Returns 0 at the end. */
static int next_element(const char *v, size_t n, size_t *pos, const char **e, size_t *elen)
{
    hs_span el;
    while (ws6455__http_next_list_element(v, n, pos, &el)) {
        if (el.len) {
            *e = v + el.off;
            *elen = el.len;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ *
 * Writing an element                                                   *
 * ------------------------------------------------------------------ */

typedef struct writer {
    char *p;
    size_t cap, len;
    int overflow;
} writer;

static void put_str(writer *w, const char *s)
{
    size_t k = strlen(s);
    if (w->len + k >= w->cap) { /* keep room for the NUL */
        w->overflow = 1;
        return;
    }
    memcpy(w->p + w->len, s, k);
    w->len += k;
    w->p[w->len] = '\0';
}

static void put_param(writer *w, const char *name, unsigned bits)
{
    put_str(w, "; ");
    put_str(w, name);
    if (bits >= 8) {
        char num[4] = {'=', 0, 0, 0};
        if (bits >= 10) {
            num[1] = '1';
            num[2] = (char)('0' + bits - 10);
        } else {
            num[1] = (char)('0' + bits);
        }
        put_str(w, num);
    }
}

/* Writes "permessage-deflate" and the parameters of *o (window bits 0:
 * absent, WS6455__DEFLATE_BITS_NO_VALUE: without a value). */
static int write_element(const ws6455__deflate_offer *o, char *out, size_t cap, size_t *len)
{
    writer w = {out, cap, 0, cap == 0};
    if (cap)
        out[0] = '\0';
    put_str(&w, pmd_name);
    if (o->server_no_context_takeover)
        put_param(&w, "server_no_context_takeover", 0);
    if (o->client_no_context_takeover)
        put_param(&w, "client_no_context_takeover", 0);
    if (o->server_max_window_bits)
        put_param(&w, "server_max_window_bits", o->server_max_window_bits);
    if (o->client_max_window_bits)
        put_param(&w, "client_max_window_bits", o->client_max_window_bits);
    if (w.overflow)
        return WS6455_ERR_BUFFER_TOO_SMALL;
    if (len)
        *len = w.len;
    return WS6455_OK;
}

/* ------------------------------------------------------------------ *
 * Server                                                               *
 * ------------------------------------------------------------------ */

static uint8_t min_bits(unsigned a, unsigned b)
{
    return (uint8_t)(a < b ? a : b);
}

/* The window we ask a peer's compressor for. Never 8: zlib refuses a raw
 * 8-bit deflate window, and peers that pass 8 to it fail (Python's
 * websockets raises ValueError and drops the connection) where 9 works
 * everywhere; it costs our decompressor 256 bytes. A peer that asks us
 * for 8 gets it (see the note on 8 in deflate.h). */
static unsigned ask_bits(unsigned bits)
{
    return bits < 9 ? 9 : bits;
}

/* The server's answer to one valid offer: 1 with *p and *resp filled, 0
 * when these options cannot honour it. */
static int answer_offer(const ws6455__deflate_options *o, const ws6455__deflate_offer *off,
                         ws6455__deflate_params *p, ws6455__deflate_offer *resp)
{
    unsigned opt_client_bits = (unsigned)o->client_max_window_bits;
    unsigned opt_server_bits = (unsigned)o->server_max_window_bits;
    /* Bounding the client's window needs an offer that allows naming it
     * (7.1.2.2: no client_max_window_bits in the offer, none in the
     * response); accepting it unbounded would break our memory bound. */
    if (opt_client_bits < 15 && off->client_max_window_bits == 0)
        return 0;
    memset(resp, 0, sizeof *resp);
    /* We can always reset our own compressor; we announce it when asked
     * (7.1.1.1: MUST) or when configured to. */
    p->server_no_context_takeover =
        (uint8_t)(off->server_no_context_takeover || o->server_no_context_takeover);
    /* The client's hint is worth echoing: it lets us free our decompressor
     * between messages (7.1.1.2: the server MAY include it). */
    p->client_no_context_takeover =
        (uint8_t)(off->client_no_context_takeover || o->client_no_context_takeover);
    resp->server_no_context_takeover = p->server_no_context_takeover;
    resp->client_no_context_takeover = p->client_no_context_takeover;
    /* 7.1.2.1: an offered server_max_window_bits is answered with the
     * same or a smaller value; we may also name one unasked. Any value
     * 8..15 is one we can honour (see the note on 8 in deflate.h). */
    if (off->server_max_window_bits) {
        p->server_max_window_bits = min_bits(off->server_max_window_bits, opt_server_bits);
        resp->server_max_window_bits = p->server_max_window_bits;
    } else {
        p->server_max_window_bits = (uint8_t)opt_server_bits;
        if (opt_server_bits < 15)
            resp->server_max_window_bits = p->server_max_window_bits;
    }
    /* 7.1.2.2: only when offered; a value in the offer is a hint we take
     * to save memory. We never ask for 8 on our own (see ask_bits). */
    if (off->client_max_window_bits) {
        unsigned b = ask_bits(opt_client_bits);
        if (off->client_max_window_bits >= 8)
            b = min_bits(b, off->client_max_window_bits);
        p->client_max_window_bits = (uint8_t)b;
        if (b < 15)
            resp->client_max_window_bits = (uint8_t)b;
    } else {
        p->client_max_window_bits = 15;
    }
    return 1;
}

int ws6455__deflate_server_select(const ws6455__deflate_options *o, const char *value, size_t len,
                                  ws6455__deflate_params *agreed, char *resp, size_t resp_cap,
                                  size_t *resp_len)
{
    if (!agreed || !resp || (!value && len) || ws6455__deflate_options_check(o) < 0)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (!o->enabled)
        return 0;
    size_t pos = 0, elen;
    const char *e;
    while (next_element(value, len, &pos, &e, &elen)) {
        ws6455__deflate_offer off;
        if (ws6455__deflate_parse(e, elen, 0, &off) != 1)
            continue; /* another extension, or an offer 7.1 says to decline */
        ws6455__deflate_params p;
        ws6455__deflate_offer answer;
        if (!answer_offer(o, &off, &p, &answer))
            continue;
        int rc = write_element(&answer, resp, resp_cap, resp_len);
        if (rc < 0)
            return rc;
        *agreed = p;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ *
 * Client                                                               *
 * ------------------------------------------------------------------ */

void ws6455__deflate_client_offer_params(const ws6455__deflate_options *o,
                                         ws6455__deflate_offer *sent)
{
    sent->server_no_context_takeover = (uint8_t)(o->server_no_context_takeover != 0);
    sent->client_no_context_takeover = (uint8_t)(o->client_no_context_takeover != 0);
    sent->server_max_window_bits =
        (uint8_t)(o->server_max_window_bits < 15 ? ask_bits((unsigned)o->server_max_window_bits)
                                                 : 0);
    /* Always advertised, so a server that wants to bound our window can. */
    sent->client_max_window_bits =
        (uint8_t)(o->client_max_window_bits < 15 ? o->client_max_window_bits
                                                 : WS6455__DEFLATE_BITS_NO_VALUE);
}

int ws6455__deflate_client_offer(const ws6455__deflate_options *o, char *out, size_t cap,
                                 size_t *len)
{
    if (!out || ws6455__deflate_options_check(o) < 0 || !o->enabled)
        return WS6455_ERR_INVALID_ARGUMENT;
    ws6455__deflate_offer sent;
    ws6455__deflate_client_offer_params(o, &sent);
    return write_element(&sent, out, cap, len);
}

/* Checks a parsed response against what we offered (7.1: the client fails
 * the connection on a configuration it does not support) and fills *p. */
static int client_agree(const ws6455__deflate_offer *sent, const ws6455__deflate_offer *r,
                        ws6455__deflate_params *p)
{
    if (r->client_max_window_bits && !sent->client_max_window_bits)
        return WS6455_ERR_HS_EXTENSION; /* 7.1.2.2: never offered */
    if (sent->server_max_window_bits &&
        (!r->server_max_window_bits || r->server_max_window_bits > sent->server_max_window_bits))
        return WS6455_ERR_HS_EXTENSION; /* 7.1.2.1: same or smaller, and present */
    if (sent->server_no_context_takeover && !r->server_no_context_takeover)
        return WS6455_ERR_HS_EXTENSION; /* 7.1.1.1: the server MUST include it */
    p->server_no_context_takeover = r->server_no_context_takeover;
    /* Our own hint binds us even when the server does not repeat it. */
    p->client_no_context_takeover =
        (uint8_t)(r->client_no_context_takeover || sent->client_no_context_takeover);
    p->server_max_window_bits = r->server_max_window_bits ? r->server_max_window_bits : 15;
    unsigned b = 15;
    if (sent->client_max_window_bits >= 8)
        b = sent->client_max_window_bits;
    if (r->client_max_window_bits)
        b = min_bits(b, r->client_max_window_bits);
    p->client_max_window_bits = (uint8_t)b;
    return 1;
}

int ws6455__deflate_client_check(const ws6455__deflate_offer *sent, const char *value, size_t len,
                                 ws6455__deflate_params *agreed)
{
    if (!agreed || (!value && len))
        return WS6455_ERR_INVALID_ARGUMENT;
    size_t pos = 0, elen, count = 0;
    const char *e;
    ws6455__deflate_offer r = {0, 0, 0, 0};
    while (next_element(value, len, &pos, &e, &elen)) {
        /* We offered permessage-deflate alone, and once (RFC 6455 9.1: an
         * extension not offered fails the connection). */
        if (!sent || ++count > 1 || ws6455__deflate_parse(e, elen, 1, &r) != 1)
            return WS6455_ERR_HS_EXTENSION;
    }
    if (count == 0)
        return 0;
    return client_agree(sent, &r, agreed);
}

int ws6455__deflate_client_accept(const ws6455__deflate_options *o, const char *value, size_t len,
                                  ws6455__deflate_params *agreed)
{
    if (ws6455__deflate_options_check(o) < 0)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (!o->enabled)
        return ws6455__deflate_client_check(NULL, value, len, agreed);
    ws6455__deflate_offer sent;
    ws6455__deflate_client_offer_params(o, &sent);
    return ws6455__deflate_client_check(&sent, value, len, agreed);
}

void ws6455__deflate_directions(const ws6455__deflate_params *p, int is_server,
                                ws6455__deflate_dir *send, ws6455__deflate_dir *recv)
{
    ws6455__deflate_dir server = {p->server_max_window_bits, p->server_no_context_takeover};
    ws6455__deflate_dir client = {p->client_max_window_bits, p->client_no_context_takeover};
    if (send)
        *send = is_server ? server : client;
    if (recv)
        *recv = is_server ? client : server;
}
