/* The client's opening handshake: ws6455__hs_client_request builds a fixed
 * request (nonce 00..0f, key AAECAwQFBgcICQoLDA0ODw==, protocols chat and
 * superchat), then the fuzz bytes are fed as the server's response in
 * fuzz-chosen pieces, with fuzz-chosen limits and allocation failure.
 * Checks: consumed <= n, all consumed while 0, sticky results, the head
 * limit, a success means status 101 and a protocol we offered, a non-101
 * leaves the response readable, and no memory is left behind.
 * Input: byte 0 = bits0-1 limits, bit2 fail an allocation (byte 1 says
 * which), bits 4-7 piece count; byte 1; piece lengths; the response. */
#include "fuzz_hs.h"

static const char *const offered[] = {"chat", "superchat"};

static void check_response(const ws6455_response *r)
{
    size_t n = ws6455_response_header_count(r);
    for (size_t i = 0; i < n; i++) {
        ws6455_header h;
        FZ_CHECK(ws6455_response_header_at(r, i, &h) == WS6455_OK);
        FZ_CHECK(h.name && h.value && h.name_len > 0);
    }
    ws6455_header h;
    FZ_CHECK(ws6455_response_header_at(r, n, &h) == WS6455_ERR_INVALID_ARGUMENT);
    size_t len;
    const char *v = ws6455_response_header(r, "Location", &len);
    FZ_CHECK(v == NULL || strlen(v) == len);
    /* RFC 9110 15: 100..599 (fuzz finding F2 was "050" read as 50). */
    int st = ws6455_response_status(r);
    FZ_CHECK(st >= 100 && st <= 599);
}

static int feed_client(void *c, const uint8_t *p, size_t n, size_t *used)
{
    return ws6455__hs_client_feed(c, p, n, used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    unsigned b0 = fz_u8(&in), b1 = fz_u8(&in);
    const uint8_t *lens;
    size_t nl = fz_take(&in, b0 >> 4, &lens);

    fz_mem mem;
    ws6455_allocator a;
    fz_mem_start(&mem, &a, (b0 & 4u) ? (b1 ? b1 : 1) : 0);
    const ws6455__hs_limits *lim = fz_hs_limits(b0);
    ws6455__hs_client *c = ws6455__hs_client_new(&a, lim);
    if (!c) {
        FZ_CHECK(mem.live == 0);
        return 0;
    }
    static const ws6455_header extra[] = {{"Cookie", 6, "a=b", 3}};
    ws6455__hs_client_params p = {"example.com", "/chat?x=1", "http://example.com", offered, 2,
                                  extra, 1, NULL};
    uint8_t nonce[16];
    for (int i = 0; i < 16; i++)
        nonce[i] = (uint8_t)i;
    ws6455__buf req;
    memset(&req, 0, sizeof req);
    int rc = ws6455__hs_client_request(c, &p, nonce, &req);
    if (rc != WS6455_OK) {
        FZ_CHECK(rc == WS6455_ERR_NOMEM);
    } else {
        FZ_CHECK(req.len > 4 && memcmp(req.data + req.off, "GET /chat?x=1 HTTP/1.1\r\n", 24) == 0);
        FZ_CHECK(memcmp(req.data + req.off + req.len - 4, "\r\n\r\n", 4) == 0);
        rc = fz_hs_feed_pieces(feed_client, c, lim, in.p, in.n, lens, nl);
        if (rc == 0) /* an incomplete head shows no response */
            FZ_CHECK(ws6455__hs_client_response(c) == NULL);
        const ws6455_response *resp = ws6455__hs_client_response(c);
        const char *proto = ws6455__hs_client_protocol(c);
        if (rc == 1) {
            FZ_CHECK(resp != NULL && ws6455_response_status(resp) == 101);
            check_response(resp);
            FZ_CHECK(proto == NULL || strcmp(proto, "chat") == 0 ||
                     strcmp(proto, "superchat") == 0);
        } else if (rc == WS6455_ERR_HS_STATUS) {
            FZ_CHECK(resp != NULL && ws6455_response_status(resp) != 101);
            check_response(resp);
        } else if (rc < 0) {
            FZ_CHECK(rc == WS6455_ERR_NOMEM ||
                     (rc <= WS6455_ERR_HS_TOO_LARGE && rc >= WS6455_ERR_HS_EXTENSION));
            if (resp)
                check_response(resp);
        }
    }
    ws6455__buf_free(&req, &a);
    ws6455__hs_client_free(c);
    FZ_CHECK(mem.live == 0 && mem.live_blocks == 0);
    return 0;
}
