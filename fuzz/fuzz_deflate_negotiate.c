/* permessage-deflate negotiation, both roles, on a fuzz-chosen
 * Sec-WebSocket-Extensions value:
 *  1. the element parser, as an offer and as a response;
 *  2. the server's choice over the whole value, against the same choice
 *     made element by element with an independent list splitter (they must
 *     pick the same offer and answer the same), and the answer checked as
 *     the client that sent that offer would check it: it must accept, and
 *     both ends must agree on what each compressor does;
 *  3. the client's validation of the value as a response, against the
 *     options it offered with;
 *  4. the client's offer: written, parsed back, answered by the server.
 * Input: byte 0 = server options, byte 1 = client options (bit 0
 * server_no_context_takeover, bit 1 client_no_context_takeover, bits 2-4
 * server_max_window_bits - 8, bits 5-7 client_max_window_bits - 8), byte 2
 * = response buffer size for the server (0: the full size), then the value. */
#include "fuzz.h"

#include "deflate.h"

static void options_from(uint8_t b, ws6455__deflate_options *o)
{
    ws6455__deflate_options_init(o);
    o->enabled = 1;
    o->server_no_context_takeover = b & 1;
    o->client_no_context_takeover = (b >> 1) & 1;
    o->server_max_window_bits = 8 + ((b >> 2) & 7);
    o->client_max_window_bits = 8 + ((b >> 5) & 7);
}

/* We never ask a peer's compressor for 8 (see deflate.h): 8 goes as 9. */
static int ask(int bits)
{
    return bits < 9 ? 9 : bits;
}

static int bits_valid(unsigned b)
{
    return b >= 8 && b <= 15;
}

static void check_params(const ws6455__deflate_params *p)
{
    FZ_CHECK(p->server_no_context_takeover <= 1 && p->client_no_context_takeover <= 1);
    FZ_CHECK(bits_valid(p->server_max_window_bits) && bits_valid(p->client_max_window_bits));
}

/* The next list element, split independently of the library: commas
 * outside quoted-strings (with backslash escapes) separate; whitespace
 * around elements and empty elements are ignored by the parser anyway, so
 * they are kept here. */
static int split_next(const char *v, size_t n, size_t *pos, size_t *start, size_t *len)
{
    if (*pos > n)
        return 0;
    size_t i = *pos;
    int quoted = 0, escaped = 0;
    *start = i;
    for (; i < n; i++) {
        char c = v[i];
        if (escaped)
            escaped = 0;
        else if (quoted && c == '\\')
            escaped = 1;
        else if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            break;
    }
    *len = i - *start;
    *pos = i + 1;
    return 1;
}

static void check_server(const ws6455__deflate_options *so, const char *v, size_t n, size_t cap)
{
    ws6455__deflate_params agreed;
    char resp[WS6455__DEFLATE_HEADER_MAX];
    size_t rlen = 0;
    int rc = ws6455__deflate_server_select(so, v, n, &agreed, resp, sizeof resp, &rlen);
    FZ_CHECK(rc == 0 || rc == 1);

    /* Element by element, the first accepted one must be the same. */
    size_t pos = 0, start, len;
    int found = 0;
    while (!found && split_next(v, n, &pos, &start, &len)) {
        ws6455__deflate_params p1;
        char r1[WS6455__DEFLATE_HEADER_MAX];
        size_t l1;
        int rc1 = ws6455__deflate_server_select(so, v + start, len, &p1, r1, sizeof r1, &l1);
        FZ_CHECK(rc1 == 0 || rc1 == 1);
        if (rc1 != 1)
            continue;
        found = 1;
        FZ_CHECK(rc == 1 && l1 == rlen && memcmp(r1, resp, rlen + 1) == 0);
        FZ_CHECK(memcmp(&p1, &agreed, sizeof p1) == 0);
        /* The offer accepted parses as one, and its sender accepts the
         * answer, agreeing with the server. */
        ws6455__deflate_offer sent;
        FZ_CHECK(ws6455__deflate_parse(v + start, len, 0, &sent) == 1);
        ws6455__deflate_params cp;
        FZ_CHECK(ws6455__deflate_client_check(&sent, resp, rlen, &cp) == 1);
        check_params(&cp);
        FZ_CHECK(cp.server_no_context_takeover == agreed.server_no_context_takeover);
        FZ_CHECK(cp.server_max_window_bits == agreed.server_max_window_bits);
        FZ_CHECK(cp.client_max_window_bits <= agreed.client_max_window_bits);
        FZ_CHECK(cp.client_no_context_takeover >= agreed.client_no_context_takeover);
        /* Within the server's options (8 for the client's window being
         * asked as 9), and what the client asked for. */
        FZ_CHECK(agreed.server_max_window_bits <= so->server_max_window_bits);
        FZ_CHECK(agreed.client_max_window_bits <= ask(so->client_max_window_bits));
        FZ_CHECK(!sent.server_max_window_bits ||
                 agreed.server_max_window_bits <= sent.server_max_window_bits);
        FZ_CHECK(!sent.server_no_context_takeover || agreed.server_no_context_takeover);
    }
    if (!found)
        FZ_CHECK(rc == 0);
    if (rc != 1)
        return;
    check_params(&agreed);
    FZ_CHECK(rlen == strlen(resp) && rlen < WS6455__DEFLATE_HEADER_MAX);
    /* A smaller buffer: too small exactly when the answer does not fit. */
    if (cap) {
        char *small = malloc(cap);
        FZ_CHECK(small != NULL);
        size_t slen = 0;
        int src = ws6455__deflate_server_select(so, v, n, &agreed, small, cap, &slen);
        if (cap > rlen)
            FZ_CHECK(src == 1 && slen == rlen && memcmp(small, resp, rlen + 1) == 0);
        else
            FZ_CHECK(src == WS6455_ERR_BUFFER_TOO_SMALL);
        free(small);
    }
}

static void check_client(const ws6455__deflate_options *co, const char *v, size_t n)
{
    ws6455__deflate_params p;
    int rc = ws6455__deflate_client_accept(co, v, n, &p);
    FZ_CHECK(rc == 0 || rc == 1 || rc == WS6455_ERR_HS_EXTENSION);
    if (rc != 1)
        return;
    check_params(&p);
    /* Nothing looser than what we offered. */
    if (co->server_max_window_bits < 15)
        FZ_CHECK(p.server_max_window_bits <= ask(co->server_max_window_bits));
    if (co->server_no_context_takeover)
        FZ_CHECK(p.server_no_context_takeover);
    if (co->client_no_context_takeover)
        FZ_CHECK(p.client_no_context_takeover);
    FZ_CHECK(p.client_max_window_bits <= co->client_max_window_bits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    ws6455__deflate_options so, co;
    options_from(fz_u8(&in), &so);
    options_from(fz_u8(&in), &co);
    size_t cap = fz_u8(&in);
    /* The value as an exact-size copy, so reading past it trips ASan. */
    char *v = malloc(in.n ? in.n : 1);
    FZ_CHECK(v != NULL);
    if (in.n)
        memcpy(v, in.p, in.n);
    size_t n = in.n;

    for (int response = 0; response <= 1; response++) {
        ws6455__deflate_offer o;
        int rc = ws6455__deflate_parse(v, n, response, &o);
        FZ_CHECK(rc == 0 || rc == 1 || rc == WS6455_ERR_HS_EXTENSION);
        if (rc == 1) {
            FZ_CHECK(o.server_no_context_takeover <= 1 && o.client_no_context_takeover <= 1);
            FZ_CHECK(!o.server_max_window_bits || bits_valid(o.server_max_window_bits));
            FZ_CHECK(!o.client_max_window_bits || bits_valid(o.client_max_window_bits) ||
                     (!response && o.client_max_window_bits == WS6455__DEFLATE_BITS_NO_VALUE));
        }
    }
    check_server(&so, v, n, cap);
    check_client(&co, v, n);

    /* Our own offer round-trips through our server and back. */
    char offer[WS6455__DEFLATE_HEADER_MAX];
    size_t olen;
    FZ_CHECK(ws6455__deflate_client_offer(&co, offer, sizeof offer, &olen) == WS6455_OK);
    check_server(&so, offer, olen, 0);
    ws6455__deflate_params sp, cp;
    char resp[WS6455__DEFLATE_HEADER_MAX];
    size_t rlen;
    FZ_CHECK(ws6455__deflate_server_select(&so, offer, olen, &sp, resp, sizeof resp, &rlen) == 1);
    FZ_CHECK(ws6455__deflate_client_accept(&co, resp, rlen, &cp) == 1);
    free(v);
    return 0;
}
