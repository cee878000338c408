/* The server's opening handshake, two ways:
 *  1. the internal parser, ws6455__hs_server_feed, with fuzz-chosen limits
 *     and pieces, a counting allocator that may fail; then the request
 *     views, protocol choice and the response builders; and a twin that
 *     keeps no header lines (how WS6455_NO_REQUEST_HEADERS builds read),
 *     which must give the same verdict, offers and response bytes;
 *  2. a server-role connection with the default configuration, fed the
 *     same bytes in the same pieces, output drained after every feed.
 * Input: byte 0 = bits0-1 limits (default / small / tiny / 1-header),
 * bit2 fail an allocation (byte 1 says which), bits 4-7 piece count;
 * byte 1; one byte per piece length; then the request bytes. */
#include "fuzz_hs.h"

static const char *const supported[] = {"superchat", "chat", "v2.example"};

static void check_request(const ws6455_request *r)
{
    size_t len = 0;
    const char *m = ws6455_request_method(r, &len);
    FZ_CHECK(m != NULL && strlen(m) == len);
    const char *t = ws6455_request_target(r, &len);
    FZ_CHECK(t != NULL && strlen(t) == len);
    size_t nh = ws6455_request_header_count(r);
    for (size_t i = 0; i < nh; i++) {
        ws6455_header h;
        FZ_CHECK(ws6455_request_header_at(r, i, &h) == WS6455_OK);
        FZ_CHECK(h.name != NULL && h.value != NULL && h.name_len > 0);
        /* Lookup by the same name finds a value (joined if repeated). */
        char name[256];
        if (h.name_len < sizeof name) {
            memcpy(name, h.name, h.name_len);
            name[h.name_len] = '\0';
            const char *v = ws6455_request_header(r, name, &len);
            FZ_CHECK(v != NULL && strlen(v) == len && len >= h.value_len);
        }
    }
    FZ_CHECK(ws6455_request_header(r, "sec-websocket-key", &len) != NULL && len == 24);
    /* ws6455_request_origin, kept apart for every build, is the view's. */
    size_t olen = 0;
    const char *o = ws6455_request_origin(r, &olen);
    const char *vo = ws6455_request_header(r, "Origin", &len);
    FZ_CHECK((o == NULL) == (vo == NULL));
    FZ_CHECK(!o || (olen == len && strlen(o) == olen && memcmp(o, vo, len) == 0));
    size_t np = ws6455_request_protocol_count(r);
    for (size_t i = 0; i < np; i++) {
        const char *p = ws6455_request_protocol(r, i, &len);
        FZ_CHECK(p != NULL && len > 0 && strlen(p) == len);
    }
    FZ_CHECK(ws6455_request_protocol(r, np, &len) == NULL);
    size_t ne = ws6455_request_extension_count(r);
    for (size_t i = 0; i < ne; i++)
        FZ_CHECK(ws6455_request_extension(r, i, &len) != NULL && len > 0);
    FZ_CHECK(ws6455_request_extension(r, ne, &len) == NULL);
    const char *chosen = ws6455__hs_choose_protocol(r, supported, 3);
    if (chosen) {
        int offered = 0;
        for (size_t i = 0; i < np; i++)
            offered |= strcmp(ws6455_request_protocol(r, i, &len), chosen) == 0;
        FZ_CHECK(offered);
    }
}

static int feed_server(void *s, const uint8_t *p, size_t n, size_t *used)
{
    return ws6455__hs_server_feed(s, p, n, used);
}

/* The 101 (or the error response) for a fed server, into *out. */
static int answer(ws6455__hs_server *s, int rc, ws6455__buf *out, const ws6455_allocator *a)
{
    if (rc != 1)
        return ws6455__hs_error_response(rc, out, a);
    const ws6455_request *r = ws6455__hs_server_request(s);
    ws6455_handshake_reply rep = {101, ws6455__hs_choose_protocol(r, supported, 3), NULL, 0, NULL,
                                  NULL};
    return ws6455__hs_server_respond(s, &rep, out, a);
}

/* The same pieces through a server that keeps no header lines: unless the
 * first one ran out of memory, the same result and the same bytes out. */
static void run_twin(const uint8_t *p, size_t n, const uint8_t *lens, size_t nl, unsigned b0,
                     int rc, ws6455__hs_server *first, const ws6455_allocator *first_a)
{
    if (rc == 0 || rc == WS6455_ERR_NOMEM)
        return;
    fz_mem mem;
    ws6455_allocator a;
    fz_mem_start(&mem, &a, 0);
    const ws6455__hs_limits *lim = fz_hs_limits(b0);
    ws6455__hs_server *twin = ws6455__hs_server_new(&a, lim);
    FZ_CHECK(twin != NULL);
    ws6455__hs_server_keep_headers(twin, 0);
    FZ_CHECK(fz_hs_feed_pieces(feed_server, twin, lim, p, n, lens, nl) == rc);
    ws6455__buf want, got;
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    if (rc == 1) {
        size_t l1 = 0, l2 = 0;
        const char *o1 = ws6455_request_origin(ws6455__hs_server_request(first), &l1);
        const char *o2 = ws6455_request_origin(ws6455__hs_server_request(twin), &l2);
        FZ_CHECK((o1 == NULL) == (o2 == NULL) && l1 == l2 && (!o1 || memcmp(o1, o2, l1) == 0));
    }
    if (answer(first, rc, &want, first_a) == WS6455_OK) {
        FZ_CHECK(answer(twin, rc, &got, &a) == WS6455_OK);
        FZ_CHECK(got.len == want.len &&
                 memcmp(got.data + got.off, want.data + want.off, got.len) == 0);
    }
    ws6455__buf_free(&want, first_a);
    ws6455__buf_free(&got, &a);
    ws6455__hs_server_free(twin);
    FZ_CHECK(mem.live == 0 && mem.live_blocks == 0);
}

static void run_internal(const uint8_t *p, size_t n, const uint8_t *lens, size_t nl,
                         unsigned b0, unsigned b1)
{
    fz_mem mem;
    ws6455_allocator a;
    fz_mem_start(&mem, &a, (b0 & 4u) ? (b1 ? b1 : 1) : 0);
    const ws6455__hs_limits *lim = fz_hs_limits(b0);
    ws6455__hs_server *s = ws6455__hs_server_new(&a, lim);
    if (!s) {
        FZ_CHECK(mem.live == 0);
        return;
    }
    int rc = fz_hs_feed_pieces(feed_server, s, lim, p, n, lens, nl);
    run_twin(p, n, lens, nl, b0, rc, s, &a);
    ws6455__buf out;
    memset(&out, 0, sizeof out);
    if (rc == 1) {
        const ws6455_request *r = ws6455__hs_server_request(s);
        FZ_CHECK(r != NULL);
        check_request(r);
        size_t len;
        static const ws6455_header extra[] = {{"Set-Cookie", 10, "id=1", 4}};
        ws6455_handshake_reply rep = {101, ws6455__hs_choose_protocol(r, supported, 3), extra, 1,
                                      NULL, NULL};
        int rr = ws6455__hs_server_respond(s, &rep, &out, &a);
        FZ_CHECK(rr == WS6455_OK || rr == WS6455_ERR_NOMEM);
        if (rr == WS6455_OK)
            FZ_CHECK(out.len > 12 && memcmp(out.data + out.off, "HTTP/1.1 101", 12) == 0);
        ws6455__buf_free(&out, &a);
        rep.status = 400 + (int)(b1 % 200);
        rep.body = (b1 & 1u) ? "nope" : NULL;
        rr = ws6455__hs_server_respond(s, &rep, &out, &a);
        FZ_CHECK(rr == WS6455_OK || rr == WS6455_ERR_NOMEM);
        rep.subprotocol = "never-offered";
        rep.status = 101;
        ws6455__buf_free(&out, &a);
        int offered = 0;
        for (size_t k = 0; k < ws6455_request_protocol_count(r); k++)
            offered |= strcmp(ws6455_request_protocol(r, k, &len), "never-offered") == 0;
        if (!offered) /* a subprotocol the client did not offer is refused */
            FZ_CHECK(ws6455__hs_server_respond(s, &rep, &out, &a) != WS6455_OK);
    } else if (rc < 0) {
        FZ_CHECK(rc == WS6455_ERR_NOMEM || (rc <= WS6455_ERR_HS_TOO_LARGE &&
                                            rc >= WS6455_ERR_HS_BODY));
        int rr = ws6455__hs_error_response(rc, &out, &a);
        FZ_CHECK(rr == WS6455_OK || rr == WS6455_ERR_NOMEM);
        if (rr == WS6455_OK)
            FZ_CHECK(out.len > 12 && memcmp(out.data + out.off, "HTTP/1.1 ", 9) == 0);
    }
    ws6455__buf_free(&out, &a);
    ws6455__hs_server_free(s);
    FZ_CHECK(mem.live == 0 && mem.live_blocks == 0);
}

static void run_conn(const uint8_t *p, size_t n, const uint8_t *lens, size_t nl)
{
    ws6455_conn *c = ws6455_conn_new(NULL, NULL, NULL);
    FZ_CHECK(c != NULL);
    fz_pieces ps;
    fz_pieces_init(&ps, p, n, lens, nl);
    size_t len;
    uint8_t *piece;
    while ((piece = fz_piece(&ps, &len)) != NULL) {
        int rc = ws6455_conn_recv(c, piece, len, NULL);
        FZ_CHECK(rc == ws6455_conn_error(c));
        const uint8_t *o;
        size_t k = ws6455_conn_pending(c, &o);
        ws6455_conn_consume(c, k);
        ps.off += len;
    }
    int st = ws6455_conn_state(c);
    FZ_CHECK(st != WS6455_STATE_CLOSING);
    ws6455_conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    unsigned b0 = fz_u8(&in), b1 = fz_u8(&in);
    const uint8_t *lens;
    size_t nl = fz_take(&in, b0 >> 4, &lens);
    run_internal(in.p, in.n, lens, nl, b0, b1);
    run_conn(in.p, in.n, lens, nl);
    return 0;
}
