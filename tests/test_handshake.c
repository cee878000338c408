/* The opening handshake, both roles (src/http_head.c, src/hs_server.c,
 * src/hs_client.c): every rule of RFC 6455 sections 4.1 and 4.2.1 on its
 * own, exact response bytes, every input split at every position, recorded
 * real-client requests, hostile inputs, bounded memory, and failure of
 * every allocation.
 *
 * The Makefile builds this file twice: as it is, and with the library and
 * this file compiled with WS6455_NO_REQUEST_HEADERS, where the server keeps
 * no header lines. Every verdict, consumed count and response byte must be
 * the same; only the request view's headers and extension offers (the
 * VIEW_HEADERS parts) are not there to check. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

#define LIT(s) (s), (sizeof(s) - 1)

#if defined(WS6455_NO_REQUEST_HEADERS)
#define VIEW_HEADERS 0
#else
#define VIEW_HEADERS 1
#endif

/* ------------------------------------------------------------------ *
 * A counting allocator that can fail the n-th request                 *
 * ------------------------------------------------------------------ */

typedef struct counting {
    size_t live, peak, calls;
    long fail_at; /* index of the call that fails; -1: none */
    int failed;
} counting;

typedef union prefix {
    size_t size;
    max_align_t align;
} prefix;

static int should_fail(counting *c)
{
    long n = (long)c->calls++;
    if (c->fail_at >= 0 && n == c->fail_at) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

static void note_live(counting *c, size_t add, size_t sub)
{
    c->live = c->live + add - sub;
    if (c->live > c->peak)
        c->peak = c->live;
}

static void *c_alloc(size_t n, void *user)
{
    counting *c = user;
    if (should_fail(c))
        return NULL;
    prefix *p = malloc(sizeof(prefix) + n);
    if (!p)
        return NULL;
    p->size = n;
    note_live(c, n, 0);
    return p + 1;
}

static void *c_resize(void *ptr, size_t n, void *user)
{
    counting *c = user;
    if (should_fail(c))
        return NULL;
    prefix *old = ptr ? (prefix *)ptr - 1 : NULL;
    size_t old_size = old ? old->size : 0;
    prefix *p = realloc(old, sizeof(prefix) + n);
    if (!p)
        return NULL;
    p->size = n;
    note_live(c, n, old_size);
    return p + 1;
}

static void c_release(void *ptr, void *user)
{
    counting *c = user;
    if (!ptr)
        return;
    prefix *p = (prefix *)ptr - 1;
    note_live(c, 0, p->size);
    free(p);
}

static ws6455_allocator counting_allocator(counting *c, long fail_at)
{
    memset(c, 0, sizeof *c);
    c->fail_at = fail_at;
    ws6455_allocator a = {c_alloc, c_resize, c_release, c};
    return a;
}

/* ------------------------------------------------------------------ *
 * Inputs                                                              *
 * ------------------------------------------------------------------ */

/* RFC 6455 section 1.3. */
static const char rfc_request[] = "GET /chat HTTP/1.1\r\n"
                                  "Host: server.example.com\r\n"
                                  "Upgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Origin: http://example.com\r\n"
                                  "Sec-WebSocket-Protocol: chat, superchat\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"
                                  "\r\n";

static const char rfc_response[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                   "Upgrade: websocket\r\n"
                                   "Connection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                   "Sec-WebSocket-Protocol: chat\r\n"
                                   "\r\n";

static const uint8_t sample_nonce[16] = "the sample nonce";

/* The minimal valid request, with `extra` header lines spliced in before
 * the ones named by `omit_mask`... kept simple: a template with slots. */
static char *request_with(const char *lines)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "GET /chat HTTP/1.1\r\n%s\r\n", lines);
    return buf;
}

#define HOST "Host: h\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define VER "Sec-WebSocket-Version: 13\r\n"
#define GOOD HOST UPG CONN KEY VER

/* ------------------------------------------------------------------ *
 * Feeding helpers                                                     *
 * ------------------------------------------------------------------ */

enum { SERVER, CLIENT };

typedef struct peer {
    int role;
    ws6455__hs_server *s;
    ws6455__hs_client *c;
} peer;

static const char *const offered_protocols[] = {"chat", "superchat"};

static peer peer_new(int role, const ws6455__hs_limits *lim, const ws6455_allocator *a)
{
    peer p = {role, NULL, NULL};
    if (role == SERVER) {
        p.s = ws6455__hs_server_new(a, lim);
        assert_non_null(p.s);
        return p;
    }
    p.c = ws6455__hs_client_new(a, lim);
    assert_non_null(p.c);
    ws6455__hs_client_params params = {"server.example.com", "/chat", "http://example.com",
                                       offered_protocols, 2, NULL, 0, NULL};
    ws6455__buf out = {0};
    ws6455_allocator libc;
    ws6455__allocator_resolve(&libc, NULL);
    assert_int_equal(ws6455__hs_client_request(p.c, &params, sample_nonce, &out), WS6455_OK);
    ws6455__buf_free(&out, &libc);
    return p;
}

static int peer_feed(peer *p, const uint8_t *d, size_t n, size_t *used)
{
    return p->role == SERVER ? ws6455__hs_server_feed(p->s, d, n, used)
                             : ws6455__hs_client_feed(p->c, d, n, used);
}

static void peer_free(peer *p)
{
    ws6455__hs_server_free(p->s);
    ws6455__hs_client_free(p->c);
}

typedef struct outcome {
    int rc;
    size_t consumed;
    size_t header_count;
} outcome;

/* Feeds `len` bytes as pieces ending at the given cut points, each piece
 * copied flush against a guard page, and stops at the first non-zero
 * result. While more is needed, every piece must be consumed whole. */
static outcome feed_pieces(int role, const char *data, size_t len, const size_t *cuts,
                           size_t ncuts)
{
    peer p = peer_new(role, NULL, NULL);
    /* A server twin that keeps no header lines (as WS6455_NO_REQUEST_HEADERS
     * builds read) must answer every piece the same way. */
    ws6455__hs_server *twin = role == SERVER ? ws6455__hs_server_new(NULL, NULL) : NULL;
    if (twin)
        ws6455__hs_server_keep_headers(twin, 0);
    outcome o = {0, 0, 0};
    size_t start = 0;
    for (size_t i = 0; i <= ncuts && o.rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        uint8_t *g = tu_guard_copy(data + start, end - start);
        size_t used = 12345;
        o.rc = peer_feed(&p, g, end - start, &used);
        if (twin) {
            size_t twin_used = 54321;
            assert_int_equal(ws6455__hs_server_feed(twin, g, end - start, &twin_used), o.rc);
            assert_int_equal(twin_used, used);
        }
        tu_guard_free(g, end - start);
        if (o.rc == 0)
            assert_int_equal(used, end - start);
        o.consumed += used;
        start = end;
    }
#if VIEW_HEADERS
    if (o.rc == 1 && role == SERVER)
        o.header_count = ws6455_request_header_count(ws6455__hs_server_request(p.s));
#endif
    if (role == CLIENT && ws6455__hs_client_response(p.c))
        o.header_count = ws6455_response_header_count(ws6455__hs_client_response(p.c));
    if (o.rc == 1 && twin) {
        const ws6455_request *r = ws6455__hs_server_request(p.s);
        const ws6455_request *t = ws6455__hs_server_request(twin);
        assert_int_equal(ws6455_request_protocol_count(t), ws6455_request_protocol_count(r));
        for (size_t i = 0; i < ws6455_request_protocol_count(r); i++)
            assert_string_equal(ws6455_request_protocol(t, i, NULL),
                                ws6455_request_protocol(r, i, NULL));
        assert_string_equal(ws6455_request_target(t, NULL), ws6455_request_target(r, NULL));
        size_t rl = 1, tl = 2;
        const char *ro = ws6455_request_origin(r, &rl), *to = ws6455_request_origin(t, &tl);
        assert_int_equal(ro == NULL, to == NULL);
        if (ro) {
            assert_int_equal(tl, rl);
            assert_memory_equal(to, ro, rl);
        }
#if VIEW_HEADERS
        /* And it is what the view's header lookup gives. */
        const char *vo = ws6455_request_header(r, "Origin", &tl);
        assert_int_equal(vo == NULL, ro == NULL);
        if (ro) {
            assert_int_equal(tl, rl);
            assert_string_equal(vo, ro);
        }
#endif
    }
    ws6455__hs_server_free(twin);
    peer_free(&p);
    return o;
}

/* Whole, split at every position, and one byte at a time: same result. */
static outcome expect_any_split(int role, const char *data, size_t len, int rc, size_t consumed)
{
    outcome whole = feed_pieces(role, data, len, NULL, 0);
    assert_int_equal(whole.rc, rc);
    assert_int_equal(whole.consumed, consumed);
    for (size_t k = 1; k < len; k++) {
        outcome o = feed_pieces(role, data, len, &k, 1);
        assert_int_equal(o.rc, whole.rc);
        assert_int_equal(o.consumed, whole.consumed);
        assert_int_equal(o.header_count, whole.header_count);
    }
    size_t *cuts = malloc(len * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t k = 0; k + 1 < len; k++)
        cuts[k] = k + 1;
    outcome bytes = feed_pieces(role, data, len, cuts, len ? len - 1 : 0);
    free(cuts);
    assert_int_equal(bytes.rc, whole.rc);
    assert_int_equal(bytes.consumed, whole.consumed);
    assert_int_equal(bytes.header_count, whole.header_count);
    return whole;
}

static int server_result(const char *req)
{
    return feed_pieces(SERVER, req, strlen(req), NULL, 0).rc;
}

/* Feeds a request that must be valid; the caller frees the server. */
static ws6455__hs_server *valid_server(const char *req, size_t len)
{
    ws6455__hs_server *s = ws6455__hs_server_new(NULL, NULL);
    assert_non_null(s);
    size_t used;
    assert_int_equal(ws6455__hs_server_feed(s, (const uint8_t *)req, len, &used), 1);
    assert_int_equal(used, len);
    return s;
}

static void assert_buf_equals(const ws6455__buf *b, const char *expect, size_t n)
{
    if (b->len != n || memcmp(b->data + b->off, expect, n) != 0) {
        fprintf(stderr, "got:\n%.*s\nexpected:\n%.*s\n", (int)b->len,
                (const char *)b->data + b->off, (int)n, expect);
        fail();
    }
}

static ws6455_allocator libc_allocator(void)
{
    ws6455_allocator a;
    ws6455__allocator_resolve(&a, NULL);
    return a;
}

/* ------------------------------------------------------------------ *
 * Server: a valid request and its view                                *
 * ------------------------------------------------------------------ */

static void test_server_rfc_example(void **state)
{
    (void)state;
    ws6455__hs_server *s = valid_server(LIT(rfc_request));
    const ws6455_request *r = ws6455__hs_server_request(s);
    assert_non_null(r);
    size_t n;
    assert_string_equal(ws6455_request_method(r, &n), "GET");
    assert_int_equal(n, 3);
    assert_string_equal(ws6455_request_target(r, &n), "/chat");
    assert_int_equal(n, 5);
#if VIEW_HEADERS
    assert_string_equal(ws6455_request_header(r, "host", &n), "server.example.com");
    assert_string_equal(ws6455_request_header(r, "ORIGIN", NULL), "http://example.com");
    assert_null(ws6455_request_header(r, "Cookie", &n));
    assert_int_equal(ws6455_request_header_count(r), 7);
    ws6455_header h;
    assert_int_equal(ws6455_request_header_at(r, 3, &h), WS6455_OK);
    assert_int_equal(h.name_len, 17);
    assert_memory_equal(h.name, "Sec-WebSocket-Key", 17);
    assert_string_equal(h.value, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_int_equal(ws6455_request_header_at(r, 7, &h), WS6455_ERR_INVALID_ARGUMENT);
#endif
    assert_int_equal(ws6455_request_protocol_count(r), 2);
    assert_string_equal(ws6455_request_protocol(r, 0, &n), "chat");
    assert_int_equal(n, 4);
    assert_string_equal(ws6455_request_protocol(r, 1, NULL), "superchat");
    assert_null(ws6455_request_protocol(r, 2, NULL));
#if VIEW_HEADERS
    assert_int_equal(ws6455_request_extension_count(r), 0);
    assert_null(ws6455_request_extension(r, 0, NULL));
#endif

    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    ws6455_handshake_reply reply = {101, "chat", NULL, 0, NULL, NULL};
    assert_int_equal(ws6455__hs_server_respond(s, &reply, &out, &a), WS6455_OK);
    assert_buf_equals(&out, LIT(rfc_response));
    ws6455__buf_free(&out, &a);
    ws6455__hs_server_free(s);
}

static void test_server_any_split(void **state)
{
    (void)state;
    outcome o = expect_any_split(SERVER, LIT(rfc_request), 1, sizeof rfc_request - 1);
    assert_int_equal(o.header_count, VIEW_HEADERS ? 7 : 0);
}

/* Bytes after the blank line are the first frames: not consumed. */
static void test_server_leaves_frame_bytes(void **state)
{
    (void)state;
    char buf[sizeof rfc_request + 6];
    memcpy(buf, rfc_request, sizeof rfc_request - 1);
    memcpy(buf + sizeof rfc_request - 1, "\x81\x85\x01\x02\x03\x04", 6);
    expect_any_split(SERVER, buf, sizeof buf, 1, sizeof rfc_request - 1);

    ws6455__hs_server *s = valid_server(LIT(rfc_request));
    size_t used = 99;
    /* After success the state is sticky and consumes nothing more. */
    assert_int_equal(ws6455__hs_server_feed(s, (const uint8_t *)"\x81", 1, &used), 1);
    assert_int_equal(used, 0);
    ws6455__hs_server_free(s);
}

static void test_server_errors_any_split(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "POST /chat HTTP/1.1\r\n" GOOD "\r\n",
        "GET /chat HTTP/1.0\r\n" GOOD "\r\n",
        "GET /chat HTTP/1.1\r\n" UPG CONN KEY VER "\r\n",
        "GET /chat HTTP/1.1\r\nHost: h\nUpgrade: websocket\r\n\r\n",
        "GET /chat HTTP/1.1\r\nHost: h\rUpgrade: websocket\r\n\r\n",
        "GET /chat HTTP/1.1\r\nHost h\r\n\r\n",
        "GET /chat HTTP/1.1\r\n" HOST UPG CONN VER "Sec-WebSocket-Version: 8\r\n\r\n",
    };
    static const int expect[] = {
        WS6455_ERR_HS_METHOD,    WS6455_ERR_HS_VERSION,   WS6455_ERR_HS_HOST,
        WS6455_ERR_HS_MALFORMED, WS6455_ERR_HS_MALFORMED, WS6455_ERR_HS_MALFORMED,
        WS6455_ERR_HS_WS_VERSION,
    };
    /* Where each error is decided: the byte that proves it. */
    static const size_t at[] = {21, 20, 0, 28, 29, 28, 0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]);
        expect_any_split(SERVER, bad[i], len, expect[i], at[i] ? at[i] : len);
    }
}

/* ------------------------------------------------------------------ *
 * Server: one test per rule of section 4.2.1                          *
 * ------------------------------------------------------------------ */

static void test_rule_method_get(void **state)
{
    (void)state;
    assert_int_equal(server_result("POST /chat HTTP/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_METHOD);
    assert_int_equal(server_result("get /chat HTTP/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_METHOD);
    assert_int_equal(server_result("HEAD /chat HTTP/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_METHOD);
    assert_int_equal(server_result(request_with(GOOD)), 1);
}

static void test_rule_http_version(void **state)
{
    (void)state;
    assert_int_equal(server_result("GET / HTTP/1.0\r\n" GOOD "\r\n"), WS6455_ERR_HS_VERSION);
    assert_int_equal(server_result("GET / HTTP/0.9\r\n" GOOD "\r\n"), WS6455_ERR_HS_VERSION);
    assert_int_equal(server_result("GET / HTTP/1.1\r\n" GOOD "\r\n"), 1);
    /* Decided: any later version counts as "1.1 or higher". */
    assert_int_equal(server_result("GET / HTTP/1.2\r\n" GOOD "\r\n"), 1);
    assert_int_equal(server_result("GET / HTTP/2.0\r\n" GOOD "\r\n"), 1);
    /* Not the RFC 7230 grammar at all. */
    assert_int_equal(server_result("GET / HTTP/1.10\r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("GET / http/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("GET / HTTP/1.1 \r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("GET /\r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
}

static void test_rule_request_line_shape(void **state)
{
    (void)state;
    assert_int_equal(server_result("GET  /chat HTTP/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("GET * HTTP/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("GET chat HTTP/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("GET /\x80 HTTP/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("\r\nGET / HTTP/1.1\r\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    /* Absolute-form is allowed by RFC 6455 4.2.1 item 1. */
    assert_int_equal(server_result("GET http://h/chat?x=1 HTTP/1.1\r\n" GOOD "\r\n"), 1);
}

static void test_rule_host(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(UPG CONN KEY VER)), WS6455_ERR_HS_HOST);
    assert_int_equal(server_result(request_with(GOOD HOST)), WS6455_ERR_HS_HOST);
    assert_int_equal(server_result(request_with(GOOD "Host: other\r\n")), WS6455_ERR_HS_HOST);
    assert_int_equal(server_result(request_with("Host:\r\n" UPG CONN KEY VER)), WS6455_ERR_HS_HOST);
    assert_int_equal(server_result(request_with("hOsT: h:8080\r\n" UPG CONN KEY VER)), 1);
}

static void test_rule_upgrade(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(HOST CONN KEY VER)), WS6455_ERR_HS_UPGRADE);
    assert_int_equal(server_result(request_with(HOST "Upgrade: h2c\r\n" CONN KEY VER)),
                     WS6455_ERR_HS_UPGRADE);
    assert_int_equal(server_result(request_with(HOST "Upgrade: websockets\r\n" CONN KEY VER)),
                     WS6455_ERR_HS_UPGRADE);
    assert_int_equal(server_result(request_with(HOST "Upgrade: WebSocket\r\n" CONN KEY VER)), 1);
    assert_int_equal(server_result(request_with(HOST "Upgrade: h2c, websocket\r\n" CONN KEY VER)),
                     1);
    /* Repeated headers form one list. */
    assert_int_equal(
        server_result(request_with(HOST "Upgrade: h2c\r\nUpgrade: websocket\r\n" CONN KEY VER)), 1);
}

static void test_rule_connection(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(HOST UPG KEY VER)), WS6455_ERR_HS_CONNECTION);
    assert_int_equal(server_result(request_with(HOST UPG "Connection: keep-alive\r\n" KEY VER)),
                     WS6455_ERR_HS_CONNECTION);
    assert_int_equal(server_result(request_with(HOST UPG "Connection: upgraded\r\n" KEY VER)),
                     WS6455_ERR_HS_CONNECTION);
    /* Older Firefox releases send exactly this. */
    assert_int_equal(
        server_result(request_with(HOST UPG "Connection: keep-alive, Upgrade\r\n" KEY VER)), 1);
    assert_int_equal(server_result(request_with(HOST UPG "Connection: UPGRADE\r\n" KEY VER)), 1);
    assert_int_equal(
        server_result(request_with(HOST UPG "Connection: keep-alive\r\nConnection: upgrade\r\n" KEY
                                       VER)),
        1);
}

static void test_rule_key(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(HOST UPG CONN VER)), WS6455_ERR_HS_KEY);
    /* Duplicate, even with the same value. */
    assert_int_equal(server_result(request_with(GOOD KEY)), WS6455_ERR_HS_KEY);
    /* Conflicting. */
    assert_int_equal(
        server_result(request_with(GOOD "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n")),
        WS6455_ERR_HS_KEY);
    /* Two keys in one line. */
    assert_int_equal(
        server_result(request_with(
            HOST UPG CONN VER
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==, AAAAAAAAAAAAAAAAAAAAAA==\r\n")),
        WS6455_ERR_HS_KEY);
    /* base64 of 15 and of 17 bytes, not base64, empty. */
    assert_int_equal(
        server_result(request_with(HOST UPG CONN VER "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n")),
        WS6455_ERR_HS_KEY);
    assert_int_equal(server_result(request_with(
                         HOST UPG CONN VER "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZXM=\r\n")),
                     WS6455_ERR_HS_KEY);
    assert_int_equal(server_result(request_with(
                         HOST UPG CONN VER "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!!\r\n")),
                     WS6455_ERR_HS_KEY);
    assert_int_equal(server_result(request_with(HOST UPG CONN VER "Sec-WebSocket-Key:\r\n")),
                     WS6455_ERR_HS_KEY);
    /* Surrounding whitespace is OWS, not part of the key. */
    assert_int_equal(server_result(request_with(
                         HOST UPG CONN VER "Sec-WebSocket-Key: \t dGhlIHNhbXBsZSBub25jZQ==  \r\n")),
                     1);
}

static void test_rule_ws_version(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(HOST UPG CONN KEY)), WS6455_ERR_HS_WS_VERSION);
    assert_int_equal(server_result(request_with(HOST UPG CONN KEY "Sec-WebSocket-Version: 8\r\n")),
                     WS6455_ERR_HS_WS_VERSION);
    assert_int_equal(server_result(request_with(HOST UPG CONN KEY "Sec-WebSocket-Version: 013\r\n")),
                     WS6455_ERR_HS_WS_VERSION);
    assert_int_equal(server_result(request_with(GOOD VER)), WS6455_ERR_HS_WS_VERSION);
    /* An old draft client sends neither version nor key: the answer is 426. */
    assert_int_equal(server_result(request_with(HOST UPG CONN)), WS6455_ERR_HS_WS_VERSION);
}

static void test_rule_no_body(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(GOOD "Transfer-Encoding: chunked\r\n")),
                     WS6455_ERR_HS_BODY);
    assert_int_equal(server_result(request_with(GOOD "Content-Length: 5\r\n")), WS6455_ERR_HS_BODY);
    assert_int_equal(server_result(request_with(GOOD "Content-Length: 0, 5\r\n")),
                     WS6455_ERR_HS_BODY);
    assert_int_equal(server_result(request_with(GOOD "Content-Length:\r\n")), WS6455_ERR_HS_BODY);
    assert_int_equal(server_result(request_with(GOOD "Content-Length: 0\r\n")), 1);
    /* Two lines are their joined value, "0, 5" or "0, 0": refused. */
    assert_int_equal(
        server_result(request_with(GOOD "Content-Length: 0\r\nContent-Length: 5\r\n")),
        WS6455_ERR_HS_BODY);
    assert_int_equal(
        server_result(request_with(GOOD "Content-Length: 0\r\ncontent-length: 0\r\n")),
        WS6455_ERR_HS_BODY);
}

/* ------------------------------------------------------------------ *
 * Server: HTTP syntax                                                 *
 * ------------------------------------------------------------------ */

static void test_syntax_header_without_colon(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(GOOD "X-Thing\r\n")), WS6455_ERR_HS_MALFORMED);
}

static void test_syntax_space_before_colon(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(GOOD "X-Thing : v\r\n")), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result(request_with(GOOD ": v\r\n")), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result(request_with(GOOD "X(y): v\r\n")), WS6455_ERR_HS_MALFORMED);
}

static void test_syntax_obs_fold(void **state)
{
    (void)state;
    assert_int_equal(server_result(request_with(GOOD "X-A: one\r\n two\r\n")),
                     WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result(request_with(GOOD "X-A: one\r\n\ttwo\r\n")),
                     WS6455_ERR_HS_MALFORMED);
}

static void test_syntax_bare_lf_and_cr(void **state)
{
    (void)state;
    assert_int_equal(server_result("GET / HTTP/1.1\n" GOOD "\r\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result(request_with(GOOD "X-A: a\nb\r\n")), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result(request_with(GOOD "X-A: a\rb\r\n")), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("GET / HTTP/1.1\r\n" GOOD "\n"), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result("GET / HTTP/1.1\r\n" GOOD "\r\r\n"), WS6455_ERR_HS_MALFORMED);
}

static void test_syntax_control_bytes(void **state)
{
    (void)state;
    static const char nul_value[] = "GET / HTTP/1.1\r\n" GOOD "X-A: a\0b\r\n\r\n";
    static const char nul_name[] = "GET / HTTP/1.1\r\n" GOOD "X\0A: b\r\n\r\n";
    assert_int_equal(feed_pieces(SERVER, LIT(nul_value), NULL, 0).rc, WS6455_ERR_HS_MALFORMED);
    assert_int_equal(feed_pieces(SERVER, LIT(nul_name), NULL, 0).rc, WS6455_ERR_HS_MALFORMED);
    /* The NUL byte itself is where the request fails. */
    assert_int_equal(feed_pieces(SERVER, LIT(nul_value), NULL, 0).consumed,
                     strlen("GET / HTTP/1.1\r\n" GOOD "X-A: a") + 1);
    assert_int_equal(server_result(request_with(GOOD "X-A: a\x01" "b\r\n")),
                     WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result(request_with(GOOD "X-A: a\x7f\r\n")), WS6455_ERR_HS_MALFORMED);
    /* Tabs and obs-text are fine inside values. */
    assert_int_equal(server_result(request_with(GOOD "X-A: a\tb \xc3\xa9\r\n")), 1);
}

static void test_header_names_any_case_and_ows(void **state)
{
    (void)state;
    const char *req = "GET /x?y=1 HTTP/1.1\r\n"
                      "HOST: h\r\n"
                      "upgrade:websocket\r\n"
                      "CONNECTION:   Upgrade   \r\n"
                      "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "SEC-WEBSOCKET-VERSION:13\r\n"
                      "x-empty:\r\n"
                      "X-Multi: a\r\n"
                      "x-multi: b , c\r\n"
                      "X-MULTI:\t\td\t\r\n"
                      "\r\n";
    ws6455__hs_server *s = valid_server(req, strlen(req));
    const ws6455_request *r = ws6455__hs_server_request(s);
#if VIEW_HEADERS
    size_t n;
    assert_string_equal(ws6455_request_header(r, "Connection", &n), "Upgrade");
    assert_int_equal(n, 7);
    assert_string_equal(ws6455_request_header(r, "x-empty", &n), "");
    assert_int_equal(n, 0);
    assert_string_equal(ws6455_request_header(r, "x-multi", &n), "a, b , c, d");
    assert_int_equal(n, 11);
    ws6455_header h;
    assert_int_equal(ws6455_request_header_at(r, 7, &h), WS6455_OK);
    assert_int_equal(h.name_len, 7);
    assert_string_equal(h.name, "x-multi");
    assert_string_equal(h.value, "b , c");
#endif
    assert_string_equal(ws6455_request_target(r, NULL), "/x?y=1");
    ws6455__hs_server_free(s);
}

static void test_offered_protocols_and_extensions(void **state)
{
    (void)state;
    const char *req = request_with(GOOD "Sec-WebSocket-Protocol: a, b\r\n"
                                        "Sec-WebSocket-Protocol:c,,  d \r\n"
                                        "Sec-WebSocket-Extensions: permessage-deflate; "
                                        "client_max_window_bits, x-foo; q=\"a,b\"\r\n"
                                        "Sec-WebSocket-Extensions: x-bar\r\n");
    ws6455__hs_server *s = valid_server(req, strlen(req));
    const ws6455_request *r = ws6455__hs_server_request(s);
    static const char *const protos[] = {"a", "b", "c", "d"};
    assert_int_equal(ws6455_request_protocol_count(r), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(ws6455_request_protocol(r, i, NULL), protos[i]);
    /* In any order (the view walks on from where it last stopped). */
    static const size_t order[] = {3, 1, 1, 0, 2, 3, 0};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        size_t len = 0;
        assert_string_equal(ws6455_request_protocol(r, order[k], &len), protos[order[k]]);
        assert_int_equal(len, 1);
    }
    assert_null(ws6455_request_protocol(r, 4, NULL));
#if VIEW_HEADERS
    assert_int_equal(ws6455_request_extension_count(r), 3);
    assert_string_equal(ws6455_request_extension(r, 0, NULL),
                        "permessage-deflate; client_max_window_bits");
    assert_string_equal(ws6455_request_extension(r, 1, NULL), "x-foo; q=\"a,b\"");
    assert_string_equal(ws6455_request_extension(r, 2, NULL), "x-bar");
#endif
    ws6455__hs_server_free(s);

    /* A subprotocol must be a token. */
    assert_int_equal(server_result(request_with(GOOD "Sec-WebSocket-Protocol: a b\r\n")),
                     WS6455_ERR_HS_MALFORMED);
    assert_int_equal(server_result(request_with(GOOD "Sec-WebSocket-Protocol: a/b\r\n")),
                     WS6455_ERR_HS_MALFORMED);
}

static void test_choose_protocol(void **state)
{
    (void)state;
    ws6455__hs_server *s = valid_server(LIT(rfc_request)); /* offers chat, superchat */
    const ws6455_request *r = ws6455__hs_server_request(s);
    static const char *const prefer_super[] = {"v2", "superchat", "chat"};
    static const char *const none[] = {"Chat", "SUPERCHAT"};
    assert_string_equal(ws6455__hs_choose_protocol(r, prefer_super, 3), "superchat");
    assert_ptr_equal(ws6455__hs_choose_protocol(r, prefer_super, 3), prefer_super[1]);
    assert_null(ws6455__hs_choose_protocol(r, none, 2)); /* case-sensitive */
    assert_null(ws6455__hs_choose_protocol(r, prefer_super, 0));
    assert_null(ws6455__hs_choose_protocol(r, NULL, 0));
    ws6455__hs_server_free(s);

    /* A request that offers none: nothing to choose, and no list to walk
     * (regression, fuzz/regressions/handshake_server/d9349e88...: the empty
     * list's NULL start was offset, which clang's UBSan refuses). */
    const char *plain = request_with(GOOD);
    s = valid_server(plain, strlen(plain));
    r = ws6455__hs_server_request(s);
    assert_int_equal(ws6455_request_protocol_count(r), 0);
    assert_null(ws6455__hs_choose_protocol(r, prefer_super, 3));
    assert_null(ws6455_request_protocol(r, 0, NULL));
    ws6455__hs_server_free(s);
}

/* ------------------------------------------------------------------ *
 * Server: limits and hostile input                                    *
 * ------------------------------------------------------------------ */

static void test_limit_header_count(void **state)
{
    (void)state;
    /* 10,000 tiny headers: refused at the first byte of the 65th. */
    size_t len = 16 + 10000 * 5 + 2;
    char *req = malloc(len);
    assert_non_null(req);
    memcpy(req, "GET / HTTP/1.1\r\n", 16);
    for (size_t i = 0; i < 10000; i++)
        memcpy(req + 16 + i * 5, "a:b\r\n", 5);
    memcpy(req + len - 2, "\r\n", 2);
    outcome o = feed_pieces(SERVER, req, len, NULL, 0);
    assert_int_equal(o.rc, WS6455_ERR_HS_TOO_LARGE);
    assert_int_equal(o.consumed, 16 + 64 * 5 + 1);
    free(req);

    /* Exactly the limit is fine. */
    ws6455__hs_limits lim = {0, 5, 0};
    ws6455__hs_server *s = ws6455__hs_server_new(NULL, &lim);
    const char *ok = request_with(GOOD);
    size_t used;
    assert_int_equal(ws6455__hs_server_feed(s, (const uint8_t *)ok, strlen(ok), &used), 1);
    ws6455__hs_server_free(s);
    lim.max_headers = 4;
    s = ws6455__hs_server_new(NULL, &lim);
    assert_int_equal(ws6455__hs_server_feed(s, (const uint8_t *)ok, strlen(ok), &used),
                     WS6455_ERR_HS_TOO_LARGE);
    ws6455__hs_server_free(s);
}

static void test_limit_long_line_fails_early(void **state)
{
    (void)state;
    size_t big = 1u << 20;
    char *req = malloc(big);
    assert_non_null(req);
    memset(req, 'a', big);
    memcpy(req, "GET / HTTP/1.1\r\nX: ", 19);
    for (int with_line_limit = 0; with_line_limit < 2; with_line_limit++) {
        ws6455__hs_limits lim = {0, 0, with_line_limit ? 1000 : 0};
        ws6455__hs_server *s = ws6455__hs_server_new(NULL, &lim);
        size_t used;
        assert_int_equal(ws6455__hs_server_feed(s, (const uint8_t *)req, big, &used),
                         WS6455_ERR_HS_TOO_LARGE);
        /* With the line limit: the 1001st byte of the line; without: the
         * 8193rd byte of the head. */
        assert_int_equal(used, with_line_limit ? 16 + 1001 : 8193);
        ws6455__hs_server_free(s);
    }
    /* The request line is bounded the same way. */
    memset(req, 'a', 32);
    memcpy(req, "GET /", 5);
    ws6455__hs_limits lim = {0, 0, 100};
    ws6455__hs_server *s = ws6455__hs_server_new(NULL, &lim);
    size_t used;
    assert_int_equal(ws6455__hs_server_feed(s, (const uint8_t *)req, big, &used),
                     WS6455_ERR_HS_TOO_LARGE);
    assert_int_equal(used, 101);
    ws6455__hs_server_free(s);
    free(req);
}

/* 10 MiB of a request that never ends, in 4 KiB pieces: it must fail,
 * and never hold more than the head limit (plus the fixed bookkeeping). */
static void never_ending(const char *line, size_t line_len, size_t max_headers)
{
    counting c;
    ws6455_allocator a = counting_allocator(&c, -1);
    ws6455__hs_limits lim = {8192, max_headers, 0};
    ws6455__hs_server *s = ws6455__hs_server_new(&a, &lim);
    assert_non_null(s);
    uint8_t chunk[4096];
    size_t fill = 0;
    memcpy(chunk, "GET / HTTP/1.1\r\n", 16);
    fill = 16;
    int rc = 0;
    size_t total = 0, used = 0;
    while (rc == 0 && total < (10u << 20)) {
        while (fill + line_len <= sizeof chunk) {
            memcpy(chunk + fill, line, line_len);
            fill += line_len;
        }
        rc = ws6455__hs_server_feed(s, chunk, fill, &used);
        total += used;
        fill = 0;
    }
    assert_int_equal(rc, WS6455_ERR_HS_TOO_LARGE);
    assert_true(total <= 8193);
    /* The store is capped at 8192; the header table at max_headers
     * entries of a few words; the state itself is a few hundred bytes. */
    assert_true(c.peak <= 8192 + max_headers * 6 * sizeof(size_t) + 1024);
    ws6455__hs_server_free(s);
    assert_int_equal(c.live, 0);
}

static void test_limit_never_ending_request(void **state)
{
    (void)state;
    never_ending(LIT("X-Filler: 0123456789012345678901234567890123456789\r\n"), 64);
    never_ending(LIT("X-Filler: 0123456789012345678901234567890123456789\r\n"), 1000);
    never_ending(LIT("a:b\r\n"), 64);
    never_ending(LIT("X"), 64); /* one endless line */
}

/* ------------------------------------------------------------------ *
 * Server: error responses                                             *
 * ------------------------------------------------------------------ */

static void expect_error_response(int err, const char *expect)
{
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    assert_int_equal(ws6455__hs_error_response(err, &out, &a), WS6455_OK);
    assert_buf_equals(&out, expect, strlen(expect));
    ws6455__buf_free(&out, &a);
}

static void test_error_response_400(void **state)
{
    (void)state;
    expect_error_response(WS6455_ERR_HS_KEY, "HTTP/1.1 400 Bad Request\r\n"
                                             "Content-Type: text/plain; charset=utf-8\r\n"
                                             "Content-Length: 47\r\n"
                                             "Connection: close\r\n"
                                             "\r\n"
                                             "missing, repeated or invalid Sec-WebSocket-Key\n");
    expect_error_response(WS6455_ERR_HS_MALFORMED, "HTTP/1.1 400 Bad Request\r\n"
                                                   "Content-Type: text/plain; charset=utf-8\r\n"
                                                   "Content-Length: 23\r\n"
                                                   "Connection: close\r\n"
                                                   "\r\n"
                                                   "malformed HTTP message\n");
}

static void test_error_response_405(void **state)
{
    (void)state;
    expect_error_response(WS6455_ERR_HS_METHOD, "HTTP/1.1 405 Method Not Allowed\r\n"
                                                "Content-Type: text/plain; charset=utf-8\r\n"
                                                "Content-Length: 26\r\n"
                                                "Connection: close\r\n"
                                                "Allow: GET\r\n"
                                                "\r\n"
                                                "request method is not GET\n");
}

static void test_error_response_426(void **state)
{
    (void)state;
    expect_error_response(WS6455_ERR_HS_WS_VERSION, "HTTP/1.1 426 Upgrade Required\r\n"
                                                    "Content-Type: text/plain; charset=utf-8\r\n"
                                                    "Content-Length: 32\r\n"
                                                    "Upgrade: websocket\r\n"
                                                    "Connection: Upgrade, close\r\n"
                                                    "Sec-WebSocket-Version: 13\r\n"
                                                    "\r\n"
                                                    "Sec-WebSocket-Version is not 13\n");
}

static void test_error_response_431_and_500(void **state)
{
    (void)state;
    expect_error_response(WS6455_ERR_HS_TOO_LARGE, "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                                   "Content-Type: text/plain; charset=utf-8\r\n"
                                                   "Content-Length: 31\r\n"
                                                   "Connection: close\r\n"
                                                   "\r\n"
                                                   "handshake exceeds a size limit\n");
    expect_error_response(WS6455_ERR_NOMEM, "HTTP/1.1 500 Internal Server Error\r\n"
                                            "Content-Type: text/plain; charset=utf-8\r\n"
                                            "Content-Length: 14\r\n"
                                            "Connection: close\r\n"
                                            "\r\n"
                                            "out of memory\n");
}

/* Content-Length always matches the body, whatever the error. */
static void test_error_response_lengths_match(void **state)
{
    (void)state;
    static const int errs[] = {
        WS6455_ERR_HS_TOO_LARGE, WS6455_ERR_HS_MALFORMED, WS6455_ERR_HS_METHOD,
        WS6455_ERR_HS_VERSION,   WS6455_ERR_HS_HOST,      WS6455_ERR_HS_UPGRADE,
        WS6455_ERR_HS_CONNECTION, WS6455_ERR_HS_KEY,      WS6455_ERR_HS_WS_VERSION,
        WS6455_ERR_HS_BODY,      WS6455_ERR_NOMEM,        -9999,
    };
    ws6455_allocator a = libc_allocator();
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        ws6455__buf out = {0};
        assert_int_equal(ws6455__hs_error_response(errs[i], &out, &a), WS6455_OK);
        const char *p = (const char *)out.data;
        const char *cl = strstr(p, "Content-Length: ");
        const char *end = strstr(p, "\r\n\r\n");
        assert_non_null(cl);
        assert_non_null(end);
        size_t body = out.len - (size_t)(end + 4 - p);
        assert_int_equal(strtoul(cl + 16, NULL, 10), body);
        ws6455__buf_free(&out, &a);
    }
}

/* Appending to a buffer that already holds output keeps what was there. */
static void test_error_response_appends(void **state)
{
    (void)state;
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    assert_int_equal(ws6455__buf_append(&out, &a, "xy", 2), WS6455_OK);
    assert_int_equal(ws6455__hs_error_response(WS6455_ERR_HS_HOST, &out, &a), WS6455_OK);
    assert_memory_equal(out.data, "xyHTTP/1.1 400 ", 15);
    ws6455__buf_free(&out, &a);
}

/* ------------------------------------------------------------------ *
 * Server: the application's reply                                     *
 * ------------------------------------------------------------------ */

static void respond_expect(const ws6455_handshake_reply *reply, int rc, const char *expect)
{
    ws6455__hs_server *s = valid_server(LIT(rfc_request));
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    assert_int_equal(ws6455__hs_server_respond(s, reply, &out, &a), rc);
    if (expect)
        assert_buf_equals(&out, expect, strlen(expect));
    else
        assert_int_equal(out.len, 0);
    ws6455__buf_free(&out, &a);
    ws6455__hs_server_free(s);
}

static void test_respond_101_without_protocol(void **state)
{
    (void)state;
    ws6455_handshake_reply reply = {101, NULL, NULL, 0, NULL, NULL};
    respond_expect(&reply, WS6455_OK,
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                   "\r\n");
}

static void test_respond_101_with_extra_headers(void **state)
{
    (void)state;
    static const ws6455_header extra[] = {
        {"Set-Cookie", 10, "id=1; HttpOnly", 14},
        {"X-Server", 8, "ws6455", 6},
    };
    ws6455_handshake_reply reply = {101, "superchat", extra, 2, NULL, NULL};
    respond_expect(&reply, WS6455_OK,
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                   "Sec-WebSocket-Protocol: superchat\r\n"
                   "Set-Cookie: id=1; HttpOnly\r\n"
                   "X-Server: ws6455\r\n"
                   "\r\n");
}

/* Extensions offered are ignored: no Sec-WebSocket-Extensions in the 101. */
static void test_respond_ignores_extension_offers(void **state)
{
    (void)state;
    const char *req = request_with(GOOD "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    ws6455__hs_server *s = valid_server(req, strlen(req));
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    ws6455_handshake_reply reply = {101, NULL, NULL, 0, NULL, NULL};
    assert_int_equal(ws6455__hs_server_respond(s, &reply, &out, &a), WS6455_OK);
    const char *expect = "HTTP/1.1 101 Switching Protocols\r\n"
                         "Upgrade: websocket\r\n"
                         "Connection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                         "\r\n";
    assert_buf_equals(&out, expect, strlen(expect));
    ws6455__buf_free(&out, &a);
    ws6455__hs_server_free(s);
}

static void test_respond_reject(void **state)
{
    (void)state;
    static const ws6455_header extra[] = {{"WWW-Authenticate", 16, "Basic realm=\"ws\"", 16}};
    ws6455_handshake_reply reply = {401, "chat", extra, 1, "log in first\n", NULL};
    respond_expect(&reply, WS6455_OK,
                   "HTTP/1.1 401 Unauthorized\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: 13\r\n"
                   "Connection: close\r\n"
                   "WWW-Authenticate: Basic realm=\"ws\"\r\n"
                   "\r\n"
                   "log in first\n");
    ws6455_handshake_reply forbidden = {403, NULL, NULL, 0, NULL, NULL};
    respond_expect(&forbidden, WS6455_OK,
                   "HTTP/1.1 403 Forbidden\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: 10\r\n"
                   "Connection: close\r\n"
                   "\r\n"
                   "Forbidden\n");
    ws6455_handshake_reply teapot = {418, NULL, NULL, 0, "", NULL};
    respond_expect(&teapot, WS6455_OK,
                   "HTTP/1.1 418 Client Error\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: 0\r\n"
                   "Connection: close\r\n"
                   "\r\n");
    ws6455_handshake_reply s599 = {599, NULL, NULL, 0, "x", NULL};
    respond_expect(&s599, WS6455_OK,
                   "HTTP/1.1 599 Server Error\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: 1\r\n"
                   "Connection: close\r\n"
                   "\r\n"
                   "x");
    ws6455_handshake_reply s405 = {405, NULL, NULL, 0, "no\n", NULL};
    respond_expect(&s405, WS6455_OK,
                   "HTTP/1.1 405 Method Not Allowed\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: 3\r\n"
                   "Connection: close\r\n"
                   "Allow: GET\r\n"
                   "\r\n"
                   "no\n");
}

static void test_respond_reason_phrases(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *line;
    } table[] = {
        {400, "HTTP/1.1 400 Bad Request\r\n"},
        {401, "HTTP/1.1 401 Unauthorized\r\n"},
        {403, "HTTP/1.1 403 Forbidden\r\n"},
        {404, "HTTP/1.1 404 Not Found\r\n"},
        {405, "HTTP/1.1 405 Method Not Allowed\r\n"},
        {426, "HTTP/1.1 426 Upgrade Required\r\n"},
        {429, "HTTP/1.1 429 Too Many Requests\r\n"},
        {431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
        {500, "HTTP/1.1 500 Internal Server Error\r\n"},
        {503, "HTTP/1.1 503 Service Unavailable\r\n"},
        {499, "HTTP/1.1 499 Client Error\r\n"},
        {555, "HTTP/1.1 555 Server Error\r\n"},
    };
    ws6455__hs_server *s = valid_server(LIT(rfc_request));
    ws6455_allocator a = libc_allocator();
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        ws6455__buf out = {0};
        ws6455_handshake_reply reply = {table[i].status, NULL, NULL, 0, NULL, NULL};
        assert_int_equal(ws6455__hs_server_respond(s, &reply, &out, &a), WS6455_OK);
        assert_true(out.len > strlen(table[i].line));
        assert_memory_equal(out.data, table[i].line, strlen(table[i].line));
        ws6455__buf_free(&out, &a);
    }
    ws6455__hs_server_free(s);
}

static void test_respond_refuses_bad_replies(void **state)
{
    (void)state;
    static const int bad_status[] = {0, 100, 200, 204, 301, 399, 600, 1000, -1};
    for (size_t i = 0; i < sizeof bad_status / sizeof bad_status[0]; i++) {
        ws6455_handshake_reply reply = {bad_status[i], NULL, NULL, 0, NULL, NULL};
        respond_expect(&reply, WS6455_ERR_INVALID_ARGUMENT, NULL);
    }
    ws6455_handshake_reply not_offered = {101, "v2", NULL, 0, NULL, NULL};
    respond_expect(&not_offered, WS6455_ERR_INVALID_ARGUMENT, NULL);
    ws6455_handshake_reply wrong_case = {101, "Chat", NULL, 0, NULL, NULL};
    respond_expect(&wrong_case, WS6455_ERR_INVALID_ARGUMENT, NULL);

    static const ws6455_header bad_headers[] = {
        {"X-A", 3, "a\r\nInjected: 1", 14},
        {"X-A", 3, "a\nb", 3},
        {"X-A", 3, "a\0b", 3},
        {"X-A\r\n", 5, "v", 1},
        {"X A", 3, "v", 1},
        {"", 0, "v", 1},
        {"Content-Length", 14, "0", 1},
        {"sec-websocket-accept", 20, "x", 1},
        {"Connection", 10, "keep-alive", 10},
    };
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        ws6455_handshake_reply r101 = {101, NULL, &bad_headers[i], 1, NULL, NULL};
        respond_expect(&r101, WS6455_ERR_INVALID_ARGUMENT, NULL);
        ws6455_handshake_reply r403 = {403, NULL, &bad_headers[i], 1, NULL, NULL};
        respond_expect(&r403, WS6455_ERR_INVALID_ARGUMENT, NULL);
    }

    /* Nothing to respond to before a valid request. */
    ws6455__hs_server *s = ws6455__hs_server_new(NULL, NULL);
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    ws6455_handshake_reply ok = {101, NULL, NULL, 0, NULL, NULL};
    assert_int_equal(ws6455__hs_server_respond(s, &ok, &out, &a), WS6455_ERR_INVALID_STATE);
    assert_int_equal(ws6455__hs_server_respond(s, NULL, &out, &a), WS6455_ERR_INVALID_ARGUMENT);
    assert_null(ws6455__hs_server_request(s));
    ws6455__hs_server_free(s);
}

/* ------------------------------------------------------------------ *
 * Server: embedding (a request parsed by another HTTP server)         *
 * ------------------------------------------------------------------ */

static void test_set_parsed_valid_and_copied(void **state)
{
    (void)state;
    char method[] = "GET", target[] = "/chat?x=1";
    char names[6][32] = {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
                         "Sec-WebSocket-Version", "Sec-WebSocket-Protocol"};
    char values[6][32] = {"h", "websocket", "keep-alive, Upgrade", " dGhlIHNhbXBsZSBub25jZQ== ",
                          "13", "chat,superchat"};
    ws6455_header h[6];
    for (size_t i = 0; i < 6; i++) {
        h[i].name = names[i];
        h[i].name_len = strlen(names[i]);
        h[i].value = values[i];
        h[i].value_len = strlen(values[i]);
    }
    ws6455__hs_server *s = ws6455__hs_server_new(NULL, NULL);
    char version[] = "HTTP/1.1";
    ws6455_http_request req = {method, 3, target, 9, version, 8, h, 6};
    assert_int_equal(ws6455__hs_server_set_parsed(s, &req), 1);
    /* The caller's strings need not outlive the call. */
    memset(method, 'X', sizeof method);
    memset(target, 'X', sizeof target);
    memset(version, 'X', sizeof version);
    memset(names, 'X', sizeof names);
    memset(values, 'X', sizeof values);
    const ws6455_request *r = ws6455__hs_server_request(s);
    assert_string_equal(ws6455_request_method(r, NULL), "GET");
    assert_string_equal(ws6455_request_target(r, NULL), "/chat?x=1");
#if VIEW_HEADERS
    assert_string_equal(ws6455_request_header(r, "sec-websocket-key", NULL),
                        "dGhlIHNhbXBsZSBub25jZQ==");
#endif
    assert_int_equal(ws6455_request_protocol_count(r), 2);
    assert_string_equal(ws6455_request_protocol(r, 1, NULL), "superchat");
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    ws6455_handshake_reply reply = {101, "chat", NULL, 0, NULL, NULL};
    assert_int_equal(ws6455__hs_server_respond(s, &reply, &out, &a), WS6455_OK);
    assert_buf_equals(&out, LIT(rfc_response));
    ws6455__buf_free(&out, &a);
    /* It is a one-shot. */
    ws6455_http_request again = {"GET", 3, "/", 1, "HTTP/1.1", 8, NULL, 0};
    assert_int_equal(ws6455__hs_server_set_parsed(s, &again), WS6455_ERR_INVALID_STATE);
    ws6455__hs_server_free(s);
}

static int set_parsed_version(const char *method, const char *target, const char *version,
                              const ws6455_header *h, size_t n, const ws6455__hs_limits *lim)
{
    ws6455__hs_server *s = ws6455__hs_server_new(NULL, lim);
    ws6455_http_request req = {method, strlen(method), target, strlen(target),
                               version, strlen(version), h, n};
    int rc = ws6455__hs_server_set_parsed(s, &req);
    ws6455__hs_server_free(s);
    return rc;
}

static int set_parsed_result(const char *method, const char *target, const ws6455_header *h,
                             size_t n, const ws6455__hs_limits *lim)
{
    return set_parsed_version(method, target, "HTTP/1.1", h, n, lim);
}

#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static void test_set_parsed_rules(void **state)
{
    (void)state;
    ws6455_header good[] = {H("Host", "h"), H("Upgrade", "websocket"),
                            H("Connection", "Upgrade"),
                            H("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                            H("Sec-WebSocket-Version", "13"), H("X", "")};
    assert_int_equal(set_parsed_result("GET", "/", good, 5, NULL), 1);
    assert_int_equal(set_parsed_result("POST", "/", good, 5, NULL), WS6455_ERR_HS_METHOD);
    assert_int_equal(set_parsed_result("GET", "", good, 5, NULL), WS6455_ERR_HS_MALFORMED);
    assert_int_equal(set_parsed_result("GET", "/", good + 1, 4, NULL), WS6455_ERR_HS_HOST);
    ws6455__hs_limits lim = {0, 4, 0};
    assert_int_equal(set_parsed_result("GET", "/", good, 5, &lim), WS6455_ERR_HS_TOO_LARGE);
    lim.max_headers = 0;
    lim.max_size = 100;
    assert_int_equal(set_parsed_result("GET", "/", good, 5, &lim), WS6455_ERR_HS_TOO_LARGE);
    ws6455_header injected = H("X", "a\r\nb");
    good[5] = injected;
    assert_int_equal(set_parsed_result("GET", "/", good, 6, NULL), WS6455_ERR_HS_MALFORMED);
    ws6455_header bad_name = H("X Y", "a");
    good[5] = bad_name;
    assert_int_equal(set_parsed_result("GET", "/", good, 6, NULL), WS6455_ERR_HS_MALFORMED);
    ws6455_header nul = {"X", 1, "a\0b", 3};
    good[5] = nul;
    assert_int_equal(set_parsed_result("GET", "/", good, 6, NULL), WS6455_ERR_HS_MALFORMED);
    ws6455_header te = H("Transfer-Encoding", "chunked");
    good[5] = te;
    assert_int_equal(set_parsed_result("GET", "/", good, 6, NULL), WS6455_ERR_HS_BODY);
    ws6455__hs_server *s = ws6455__hs_server_new(NULL, NULL);
    ws6455_http_request no_method = {NULL, 3, "/", 1, "HTTP/1.1", 8, good, 5};
    assert_int_equal(ws6455__hs_server_set_parsed(s, &no_method), WS6455_ERR_INVALID_ARGUMENT);
    ws6455_http_request no_headers = {"GET", 3, "/", 1, "HTTP/1.1", 8, NULL, 5};
    assert_int_equal(ws6455__hs_server_set_parsed(s, &no_headers), WS6455_ERR_INVALID_ARGUMENT);
    ws6455_http_request no_version = {"GET", 3, "/", 1, NULL, 8, good, 5};
    assert_int_equal(ws6455__hs_server_set_parsed(s, &no_version), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__hs_server_set_parsed(s, NULL), WS6455_ERR_INVALID_ARGUMENT);
    ws6455__hs_server_free(s);

    /* An empty value may come as NULL (length 0): an empty Host, an empty
     * Origin, read like "" (regression: NULL reached memchr). */
    ws6455_header null_host[] = {{"Host", 4, NULL, 0}, H("Upgrade", "websocket"),
                                 H("Connection", "Upgrade"),
                                 H("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                 H("Sec-WebSocket-Version", "13")};
    assert_int_equal(set_parsed_result("GET", "/", null_host, 5, NULL), WS6455_ERR_HS_HOST);
    ws6455_header null_origin[] = {H("Host", "h"),
                                   H("Upgrade", "websocket"),
                                   H("Connection", "Upgrade"),
                                   H("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                   H("Sec-WebSocket-Version", "13"),
                                   {"Origin", 6, NULL, 0}};
    assert_int_equal(set_parsed_result("GET", "/", null_origin, 6, NULL), 1);
}

/* The embedding path checks the HTTP version as the library's own parser
 * does (RFC 6455 4.1: 1.1 or later; RFC 7230 2.6: HTTP/DIGIT.DIGIT). */
static void test_set_parsed_http_version(void **state)
{
    (void)state;
    ws6455_header good[] = {H("Host", "h"), H("Upgrade", "websocket"),
                            H("Connection", "Upgrade"),
                            H("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                            H("Sec-WebSocket-Version", "13")};
    assert_int_equal(set_parsed_version("GET", "/", "HTTP/1.1", good, 5, NULL), 1);
    /* A higher minor version is processed as 1.1 (RFC 7230 2.6). */
    assert_int_equal(set_parsed_version("GET", "/", "HTTP/1.2", good, 5, NULL), 1);
    assert_int_equal(set_parsed_version("GET", "/", "HTTP/1.0", good, 5, NULL),
                     WS6455_ERR_HS_VERSION);
    assert_int_equal(set_parsed_version("GET", "/", "HTTP/0.9", good, 5, NULL),
                     WS6455_ERR_HS_VERSION);
    const char *malformed[] = {"HTTP/1.x", "HTTP/1", "HTTP/1.10", "http/1.1", "HTTP/11",
                               "", "HTTP/1.1 ", "HTTPS/1.1", "HTTP/a.1"};
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++)
        assert_int_equal(set_parsed_version("GET", "/", malformed[i], good, 5, NULL),
                         WS6455_ERR_HS_MALFORMED);
    /* The method is checked first, as on the wire (405 before 400). */
    assert_int_equal(set_parsed_version("POST", "/", "HTTP/1.0", good, 5, NULL),
                     WS6455_ERR_HS_METHOD);
}

/* Host values (RFC 7230 5.4, RFC 3986 3.2.2), on both paths. */
static int host_result(const char *host, size_t len)
{
    ws6455_header h[] = {{"Host", 4, host, len}, H("Upgrade", "websocket"),
                         H("Connection", "Upgrade"),
                         H("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                         H("Sec-WebSocket-Version", "13")};
    return set_parsed_result("GET", "/", h, 5, NULL);
}

static void test_host_syntax(void **state)
{
    (void)state;
    const char *ok[] = {"h", "example.com", "example.com:8080", "127.0.0.1", "127.0.0.1:80",
                        "[::1]", "[::1]:9001", "[2001:db8::7]:443", "a-b_c~d.e",
                        "xn--bcher-kva.example", "h:", "%41bc", "[v1.fe80::a+en1]",
                        "sub!$&'()*+,;=delims"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_int_equal(host_result(ok[i], strlen(ok[i])), 1);
    const char *bad[] = {"a b",          "a\tb",         "ex\xc3\xa9mple.com", "\x80",
                         "h:80:80",      "h:8o",         "h:123456",         "[::1",
                         "[]",           "[::1]x",       "[::g]",            ":80",
                         "a/b",          "a?b",          "a#b",              "user@host",
                         "%4",           "%zz",          "a\"b",             "[::1]:x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (host_result(bad[i], strlen(bad[i])) != WS6455_ERR_HS_HOST)
            fail_msg("accepted Host \"%s\"", bad[i]);
    assert_int_equal(host_result("a\0b", 3), WS6455_ERR_HS_MALFORMED);
}

/* ------------------------------------------------------------------ *
 * Server: recorded requests from real clients                          *
 * ------------------------------------------------------------------ */

static char *read_fixture(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (tests run from the project root)", path);
    char *buf = malloc(65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

static void check_fixture_bytes(const char *req, size_t len, size_t headers, size_t protocols,
                                size_t extensions, const char *origin);

static void check_fixture(const char *name, size_t headers, size_t protocols, size_t extensions,
                          const char *origin)
{
    size_t len;
    char *req = read_fixture(name, &len);
    check_fixture_bytes(req, len, headers, protocols, extensions, origin);
    free(req);
}

static void check_fixture_bytes(const char *req, size_t len, size_t headers, size_t protocols,
                                size_t extensions, const char *origin)
{
    expect_any_split(SERVER, req, len, 1, len);
    ws6455__hs_server *s = valid_server(req, len);
    const ws6455_request *r = ws6455__hs_server_request(s);
    assert_int_equal(ws6455_request_protocol_count(r), protocols);
    /* The 101 carries the accept value computed from this key. */
    size_t klen = 24;
#if VIEW_HEADERS
    assert_int_equal(ws6455_request_header_count(r), headers);
    assert_int_equal(ws6455_request_extension_count(r), extensions);
    if (origin)
        assert_string_equal(ws6455_request_header(r, "Origin", NULL), origin);
    else
        assert_null(ws6455_request_header(r, "Origin", NULL));
    const char *key = ws6455_request_header(r, "Sec-WebSocket-Key", &klen);
#else
    (void)headers, (void)extensions, (void)origin;
    const char *key = strstr(req, "Sec-WebSocket-Key: "); /* every fixture spells it so */
    assert_non_null(key);
    key += strlen("Sec-WebSocket-Key: ");
#endif
    char accept[29];
    assert_int_equal(ws6455_accept_key(key, klen, accept), WS6455_OK);
    static const char *const supported[] = {"superchat", "chat"};
    ws6455_handshake_reply reply = {101, ws6455__hs_choose_protocol(r, supported, 2), NULL, 0,
                                    NULL, NULL};
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    assert_int_equal(ws6455__hs_server_respond(s, &reply, &out, &a), WS6455_OK);
    char expect[512];
    snprintf(expect, sizeof expect,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
             "Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
             accept, reply.subprotocol ? "Sec-WebSocket-Protocol: " : "",
             reply.subprotocol ? reply.subprotocol : "", reply.subprotocol ? "\r\n" : "");
    assert_buf_equals(&out, expect, strlen(expect));
    ws6455__buf_free(&out, &a);
    ws6455__hs_server_free(s);
}

static void test_fixture_chromium(void **state)
{
    (void)state;
    check_fixture("chromium.txt", 13, 2, 1, "http://127.0.0.1:9107");
}

static void test_fixture_firefox(void **state)
{
    (void)state;
    check_fixture("firefox.txt", 17, 2, 1, "http://127.0.0.1:9109");
}

static void test_fixture_node_ws(void **state)
{
    (void)state;
    check_fixture("node-ws.txt", 8, 2, 1, "http://127.0.0.1:9102");
}

static void test_fixture_python_websockets(void **state)
{
    (void)state;
    check_fixture("python-websockets.txt", 8, 1, 1, NULL);
}

/* The recipe curl users copy sends "SGVsbG8sIHdvcmxkIQ==", base64 of the
 * 13 bytes "Hello, world!": not a valid key, and refused as such. With a
 * real 16-byte key in its place, the same request is accepted. */
static void test_fixture_curl(void **state)
{
    (void)state;
    size_t len;
    char *req = read_fixture("curl.txt", &len);
    expect_any_split(SERVER, req, len, WS6455_ERR_HS_KEY, len);
    char *key = strstr(req, "SGVsbG8sIHdvcmxkIQ==");
    assert_non_null(key);
    char *fixed = malloc(len + 4);
    assert_non_null(fixed);
    size_t before = (size_t)(key - req);
    memcpy(fixed, req, before);
    memcpy(fixed + before, "dGhlIHNhbXBsZSBub25jZQ==", 24);
    memcpy(fixed + before + 24, key + 20, len - before - 20);
    check_fixture_bytes(fixed, len + 4, 7, 0, 0, NULL);
    free(fixed);
    free(req);
}

/* ------------------------------------------------------------------ *
 * Server: allocation failure                                          *
 * ------------------------------------------------------------------ */

/* The whole server path with the n-th allocation failing, for every n:
 * each run ends cleanly (an error or success) and frees everything. */
static void test_server_every_allocation_fails(void **state)
{
    (void)state;
    const char *req = request_with(GOOD "Sec-WebSocket-Protocol: chat, superchat\r\n"
                                        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                        "X-A: 1\r\nX-A: 2\r\n");
    size_t len = strlen(req);
    int succeeded = 0;
    for (long n = 0; n < 1000 && !succeeded; n++) {
        counting c;
        ws6455_allocator a = counting_allocator(&c, n);
        ws6455__hs_server *s = ws6455__hs_server_new(&a, NULL);
        if (!s) {
            assert_true(c.failed);
            assert_int_equal(c.live, 0);
            continue;
        }
        /* One byte at a time, so growth happens at every step. */
        int rc = 0;
        size_t used;
        for (size_t i = 0; i < len && rc == 0; i++)
            rc = ws6455__hs_server_feed(s, (const uint8_t *)req + i, 1, &used);
        ws6455__buf out = {0};
        if (rc < 0) {
            assert_int_equal(ws6455__hs_server_feed(s, (const uint8_t *)"x", 1, &used),
                             WS6455_ERR_NOMEM); /* sticky */
        } else if (rc == 1) {
            ws6455_handshake_reply reply = {101, "chat", NULL, 0, NULL, NULL};
            rc = ws6455__hs_server_respond(s, &reply, &out, &a);
            if (rc == WS6455_OK)
                succeeded = !c.failed;
            else
                assert_int_equal(out.len, 0);
        }
        if (rc < 0) {
            assert_int_equal(rc, WS6455_ERR_NOMEM);
            assert_true(c.failed);
            int erc = ws6455__hs_error_response(rc, &out, &a);
            assert_true(erc == WS6455_OK || erc == WS6455_ERR_NOMEM);
        }
        ws6455__buf_free(&out, &a);
        ws6455__hs_server_free(s);
        assert_int_equal(c.live, 0);
    }
    assert_true(succeeded);
}

/* ------------------------------------------------------------------ *
 * Client: the request                                                 *
 * ------------------------------------------------------------------ */

static int client_request(const ws6455__hs_client_params *p, ws6455__buf *out)
{
    ws6455__hs_client *c = ws6455__hs_client_new(NULL, NULL);
    int rc = ws6455__hs_client_request(c, p, sample_nonce, out);
    ws6455__hs_client_free(c);
    return rc;
}

static void test_client_request_bytes(void **state)
{
    (void)state;
    static const ws6455_header extra[] = {H("Cookie", "a=1"), H("User-Agent", "ws6455")};
    ws6455__hs_client_params p = {"server.example.com", "/chat", "http://example.com",
                                  offered_protocols, 2, extra, 2, NULL};
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    assert_int_equal(client_request(&p, &out), WS6455_OK);
    const char *expect = "GET /chat HTTP/1.1\r\n"
                         "Host: server.example.com\r\n"
                         "Upgrade: websocket\r\n"
                         "Connection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n"
                         "Origin: http://example.com\r\n"
                         "Sec-WebSocket-Protocol: chat, superchat\r\n"
                         "Cookie: a=1\r\n"
                         "User-Agent: ws6455\r\n"
                         "\r\n";
    assert_buf_equals(&out, expect, strlen(expect));
    ws6455__buf_free(&out, &a);

    ws6455__hs_client_params minimal = {"h:8080", "?x=1", NULL, NULL, 0, NULL, 0, NULL};
    assert_int_equal(client_request(&minimal, &out), WS6455_OK);
    expect = "GET /?x=1 HTTP/1.1\r\n"
             "Host: h:8080\r\n"
             "Upgrade: websocket\r\n"
             "Connection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n"
             "\r\n";
    assert_buf_equals(&out, expect, strlen(expect));
    ws6455__buf_free(&out, &a);
}

/* What our client sends, our server accepts. */
static void test_client_request_round_trip(void **state)
{
    (void)state;
    ws6455__hs_client_params p = {"h", "/a/b?c", "https://o", offered_protocols, 2, NULL, 0, NULL};
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    assert_int_equal(client_request(&p, &out), WS6455_OK);
    ws6455__hs_server *s = valid_server((const char *)out.data, out.len);
    assert_int_equal(ws6455_request_protocol_count(ws6455__hs_server_request(s)), 2);
    ws6455__hs_server_free(s);
    ws6455__buf_free(&out, &a);
}

static void test_client_request_refuses_bad_params(void **state)
{
    (void)state;
    static const char *const bad_token[] = {"chat", "a b"};
    static const char *const dup[] = {"chat", "chat"};
    static const char *const empty[] = {""};
    static const ws6455_header inject[] = {H("X", "a\r\nb")};
    static const ws6455_header owned[] = {H("Sec-WebSocket-Key", "x")};
    const ws6455__hs_client_params bad[] = {
        {"h\r\nX: 1", "/", NULL, NULL, 0, NULL, 0, NULL},
        {"", "/", NULL, NULL, 0, NULL, 0, NULL},
        {NULL, "/", NULL, NULL, 0, NULL, 0, NULL},
        {"h", "", NULL, NULL, 0, NULL, 0, NULL},
        {"h", "chat", NULL, NULL, 0, NULL, 0, NULL},
        {"h", "/a b", NULL, NULL, 0, NULL, 0, NULL},
        {"h", "/\n", NULL, NULL, 0, NULL, 0, NULL},
        {"h", "/", "o\r\n", NULL, 0, NULL, 0, NULL},
        {"h", "/", NULL, bad_token, 2, NULL, 0, NULL},
        {"h", "/", NULL, dup, 2, NULL, 0, NULL},
        {"h", "/", NULL, empty, 1, NULL, 0, NULL},
        {"h", "/", NULL, NULL, 1, NULL, 0, NULL},
        {"h", "/", NULL, NULL, 0, inject, 1, NULL},
        {"h", "/", NULL, NULL, 0, owned, 1, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ws6455__buf out = {0};
        assert_int_equal(client_request(&bad[i], &out), WS6455_ERR_INVALID_ARGUMENT);
        assert_int_equal(out.len, 0);
        assert_null(out.data);
    }
}

/* ------------------------------------------------------------------ *
 * Client: the response                                                *
 * ------------------------------------------------------------------ */

static int client_result(const char *resp, ws6455__hs_client **keep)
{
    peer p = peer_new(CLIENT, NULL, NULL);
    size_t used;
    int rc = ws6455__hs_client_feed(p.c, (const uint8_t *)resp, strlen(resp), &used);
    if (keep)
        *keep = p.c;
    else
        peer_free(&p);
    return rc;
}

#define R101 "HTTP/1.1 101 Switching Protocols\r\n"
#define RUPG "Upgrade: websocket\r\n"
#define RCONN "Connection: Upgrade\r\n"
#define RACC "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"

static void test_client_rfc_example(void **state)
{
    (void)state;
    ws6455__hs_client *c;
    assert_int_equal(client_result(rfc_response, &c), 1);
    assert_string_equal(ws6455__hs_client_protocol(c), "chat");
    const ws6455_response *r = ws6455__hs_client_response(c);
    assert_int_equal(ws6455_response_status(r), 101);
    assert_int_equal(ws6455_response_header_count(r), 4);
    assert_string_equal(ws6455_response_header(r, "upgrade", NULL), "websocket");
    ws6455_header h;
    assert_int_equal(ws6455_response_header_at(r, 2, &h), WS6455_OK);
    assert_string_equal(h.value, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ws6455__hs_client_free(c);
}

static void test_client_any_split(void **state)
{
    (void)state;
    char buf[sizeof rfc_response + 3];
    memcpy(buf, rfc_response, sizeof rfc_response - 1);
    memcpy(buf + sizeof rfc_response - 1, "\x81\x01" "a", 3);
    outcome o = expect_any_split(CLIENT, buf, sizeof buf, 1, sizeof rfc_response - 1);
    assert_int_equal(o.header_count, 4);
    const char *bad = "HTTP/1.1 101 OK\r\n" RUPG RCONN
                      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n";
    expect_any_split(CLIENT, bad, strlen(bad), WS6455_ERR_HS_ACCEPT, strlen(bad));
}

static void test_client_status_not_101(void **state)
{
    (void)state;
    const char *resp = "HTTP/1.1 403 Forbidden\r\n"
                       "Content-Type: text/plain\r\n"
                       "Content-Length: 10\r\n"
                       "\r\n"
                       "Forbidden\n";
    size_t head = strlen(resp) - 10;
    expect_any_split(CLIENT, resp, strlen(resp), WS6455_ERR_HS_STATUS, head);
    ws6455__hs_client *c;
    assert_int_equal(client_result(resp, &c), WS6455_ERR_HS_STATUS);
    const ws6455_response *r = ws6455__hs_client_response(c);
    assert_non_null(r);
    assert_int_equal(ws6455_response_status(r), 403);
    assert_string_equal(ws6455_response_header(r, "content-length", NULL), "10");
    assert_null(ws6455__hs_client_protocol(c));
    ws6455__hs_client_free(c);
    assert_int_equal(client_result("HTTP/1.1 200 OK\r\n" RUPG RCONN RACC "\r\n", NULL),
                     WS6455_ERR_HS_STATUS);
    assert_int_equal(
        client_result("HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\n\r\n", NULL),
        WS6455_ERR_HS_STATUS);
}

static void test_client_status_line(void **state)
{
    (void)state;
    /* Any reason phrase, or none at all. */
    assert_int_equal(client_result("HTTP/1.1 101 Web Socket Protocol Handshake\r\n" RUPG RCONN RACC
                                   "\r\n",
                                   NULL),
                     1);
    assert_int_equal(client_result("HTTP/1.1 101 \r\n" RUPG RCONN RACC "\r\n", NULL), 1);
    assert_int_equal(client_result("HTTP/1.1 101\r\n" RUPG RCONN RACC "\r\n", NULL), 1);
    assert_int_equal(client_result("HTTP/1.0 101 OK\r\n" RUPG RCONN RACC "\r\n", NULL),
                     WS6455_ERR_HS_VERSION);
    assert_int_equal(client_result("HTTP/1.1 1010 OK\r\n" RUPG RCONN RACC "\r\n", NULL),
                     WS6455_ERR_HS_MALFORMED);
    assert_int_equal(client_result("HTTP/1.1  101 OK\r\n" RUPG RCONN RACC "\r\n", NULL),
                     WS6455_ERR_HS_MALFORMED);
    assert_int_equal(client_result("ICY 101 OK\r\n" RUPG RCONN RACC "\r\n", NULL),
                     WS6455_ERR_HS_MALFORMED);
    assert_int_equal(client_result("HTTP/1.1 101 OK\n" RUPG RCONN RACC "\r\n", NULL),
                     WS6455_ERR_HS_MALFORMED);
}

static void test_client_rule_upgrade(void **state)
{
    (void)state;
    assert_int_equal(client_result(R101 RCONN RACC "\r\n", NULL), WS6455_ERR_HS_UPGRADE);
    assert_int_equal(client_result(R101 "Upgrade: h2c\r\n" RCONN RACC "\r\n", NULL),
                     WS6455_ERR_HS_UPGRADE);
    assert_int_equal(client_result(R101 "Upgrade: WEBSOCKET\r\n" RCONN RACC "\r\n", NULL), 1);
}

static void test_client_rule_connection(void **state)
{
    (void)state;
    assert_int_equal(client_result(R101 RUPG RACC "\r\n", NULL), WS6455_ERR_HS_CONNECTION);
    assert_int_equal(client_result(R101 RUPG "Connection: close\r\n" RACC "\r\n", NULL),
                     WS6455_ERR_HS_CONNECTION);
    assert_int_equal(client_result(R101 RUPG "connection: upgrade\r\n" RACC "\r\n", NULL), 1);
}

static void test_client_rule_accept(void **state)
{
    (void)state;
    assert_int_equal(client_result(R101 RUPG RCONN "\r\n", NULL), WS6455_ERR_HS_ACCEPT);
    assert_int_equal(client_result(R101 RUPG RCONN RACC RACC "\r\n", NULL), WS6455_ERR_HS_ACCEPT);
    assert_int_equal(
        client_result(R101 RUPG RCONN "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n\r\n",
                      NULL),
        WS6455_ERR_HS_ACCEPT);
    assert_int_equal(
        client_result(R101 RUPG RCONN "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=x\r\n\r\n",
                      NULL),
        WS6455_ERR_HS_ACCEPT);
    assert_int_equal(client_result(R101 RUPG RCONN
                                   "sec-websocket-accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n\r\n",
                                   NULL),
                     1);
}

static void test_client_rule_extensions(void **state)
{
    (void)state;
    assert_int_equal(
        client_result(R101 RUPG RCONN RACC "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                      NULL),
        WS6455_ERR_HS_EXTENSION);
    assert_int_equal(client_result(R101 RUPG RCONN RACC "Sec-WebSocket-Extensions:\r\n\r\n", NULL),
                     WS6455_ERR_HS_EXTENSION);
}

static void test_client_rule_protocol(void **state)
{
    (void)state;
    ws6455__hs_client *c;
    assert_int_equal(client_result(R101 RUPG RCONN RACC "\r\n", &c), 1);
    assert_null(ws6455__hs_client_protocol(c)); /* the server may choose none */
    ws6455__hs_client_free(c);
    assert_int_equal(client_result(R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: superchat\r\n\r\n",
                                   &c),
                     1);
    assert_string_equal(ws6455__hs_client_protocol(c), "superchat");
    ws6455__hs_client_free(c);
    static const char *const bad[] = {
        R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: v2\r\n\r\n",
        R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: Chat\r\n\r\n",
        R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
        R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
        R101 RUPG RCONN RACC "Sec-WebSocket-Protocol:\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(client_result(bad[i], NULL), WS6455_ERR_HS_PROTOCOL);

    /* A client that offered nothing accepts no protocol. */
    ws6455__hs_client *none = ws6455__hs_client_new(NULL, NULL);
    ws6455__hs_client_params p = {"h", "/", NULL, NULL, 0, NULL, 0, NULL};
    ws6455_allocator a = libc_allocator();
    ws6455__buf out = {0};
    assert_int_equal(ws6455__hs_client_request(none, &p, sample_nonce, &out), WS6455_OK);
    ws6455__buf_free(&out, &a);
    const char *resp = R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: chat\r\n\r\n";
    size_t used;
    assert_int_equal(ws6455__hs_client_feed(none, (const uint8_t *)resp, strlen(resp), &used),
                     WS6455_ERR_HS_PROTOCOL);
    ws6455__hs_client_free(none);
}

static void test_client_limits_and_state(void **state)
{
    (void)state;
    ws6455__hs_client *c = ws6455__hs_client_new(NULL, NULL);
    size_t used;
    /* No request sent yet. */
    assert_int_equal(ws6455__hs_client_feed(c, (const uint8_t *)"H", 1, &used),
                     WS6455_ERR_INVALID_STATE);
    assert_null(ws6455__hs_client_response(c));
    ws6455__hs_client_free(c);

    ws6455__hs_limits lim = {0, 3, 0};
    peer p = peer_new(CLIENT, &lim, NULL);
    assert_int_equal(ws6455__hs_client_feed(p.c, (const uint8_t *)rfc_response,
                                            sizeof rfc_response - 1, &used),
                     WS6455_ERR_HS_TOO_LARGE);
    assert_null(ws6455__hs_client_response(p.c));
    peer_free(&p);

    size_t big = 1u << 20;
    char *resp = malloc(big);
    assert_non_null(resp);
    memset(resp, 'a', big);
    memcpy(resp, R101 "X: ", strlen(R101) + 3);
    p = peer_new(CLIENT, NULL, NULL);
    assert_int_equal(ws6455__hs_client_feed(p.c, (const uint8_t *)resp, big, &used),
                     WS6455_ERR_HS_TOO_LARGE);
    assert_int_equal(used, 8193);
    peer_free(&p);
    free(resp);
}

static void test_client_every_allocation_fails(void **state)
{
    (void)state;
    int succeeded = 0;
    for (long n = 0; n < 1000 && !succeeded; n++) {
        counting c;
        ws6455_allocator a = counting_allocator(&c, n);
        ws6455__hs_client *cl = ws6455__hs_client_new(&a, NULL);
        if (!cl) {
            assert_int_equal(c.live, 0);
            continue;
        }
        ws6455__hs_client_params p = {"server.example.com", "/chat", NULL, offered_protocols, 2,
                                      NULL, 0, NULL};
        ws6455__buf out = {0};
        int rc = ws6455__hs_client_request(cl, &p, sample_nonce, &out);
        if (rc < 0) {
            assert_int_equal(rc, WS6455_ERR_NOMEM);
            assert_int_equal(out.len, 0);
        } else {
            size_t used;
            rc = 0;
            for (size_t i = 0; i + 1 < sizeof rfc_response && rc == 0; i++)
                rc = ws6455__hs_client_feed(cl, (const uint8_t *)rfc_response + i, 1, &used);
            if (rc == 1)
                succeeded = !c.failed;
            else
                assert_int_equal(rc, WS6455_ERR_NOMEM);
        }
        ws6455__buf_free(&out, &a);
        ws6455__hs_client_free(cl);
        assert_int_equal(c.live, 0);
    }
    assert_true(succeeded);
}

/* Origin is kept in every build: absent, empty, once, and repeated (joined
 * as the view joins), whatever the case of its name. */
static void test_request_origin(void **state)
{
    (void)state;
    static const struct {
        const char *lines;
        const char *want; /* NULL: none */
    } cases[] = {
        {"", NULL},
        {"Origin: http://example.com\r\n", "http://example.com"},
        {"origin:   https://a.example:8443  \r\n", "https://a.example:8443"},
        {"Origin:\r\n", ""},
        {"Origin: a\r\nX-Other: b\r\nORIGIN: c\r\n", "a, c"},
        {"Origin:\r\nOrigin: null\r\n", ", null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char lines[256];
        snprintf(lines, sizeof lines, GOOD "%s", cases[i].lines);
        const char *req = request_with(lines);
        expect_any_split(SERVER, req, strlen(req), 1, strlen(req));
        ws6455__hs_server *s = valid_server(req, strlen(req));
        size_t len = 999;
        const char *o = ws6455_request_origin(ws6455__hs_server_request(s), &len);
        if (!cases[i].want) {
            assert_null(o);
        } else {
            assert_non_null(o);
            assert_string_equal(o, cases[i].want);
            assert_int_equal(len, strlen(cases[i].want));
        }
        ws6455__hs_server_free(s);
    }
    assert_null(ws6455_request_origin(NULL, NULL));
}

/* What WS6455_NO_REQUEST_HEADERS is for: the head is checked as it
 * streams past, so a request costs its request line and its longest header
 * line, not the whole head. 50 header lines of 100 bytes: the full build
 * keeps them all (over 5 KB), the other one line's worth. */
static void test_memory_of_a_long_request(void **state)
{
    (void)state;
    static char req[8192];
    size_t len = (size_t)snprintf(req, sizeof req, "GET /chat HTTP/1.1\r\n" GOOD);
    for (int i = 0; i < 50; i++) {
        len += (size_t)snprintf(req + len, sizeof req - len, "X-Pad-%02d: ", i);
        memset(req + len, 'a', 88);
        len += 88;
        len += (size_t)snprintf(req + len, sizeof req - len, "\r\n");
    }
    len += (size_t)snprintf(req + len, sizeof req - len, "\r\n");
    counting c;
    ws6455_allocator a = counting_allocator(&c, -1);
    peer p = peer_new(SERVER, NULL, &a);
    size_t used = 0;
    assert_int_equal(peer_feed(&p, (const uint8_t *)req, len, &used), 1);
    assert_int_equal(used, len);
    if (VIEW_HEADERS)
        assert_true(c.peak > 5000);
    else
        assert_true(c.peak < 1024);
    peer_free(&p);
    assert_int_equal(c.live, 0);
}

/* The list rules read Upgrade and Connection line by line, carrying
 * whether a quoted-string is still open; RFC 7230 3.2.2 defines a repeated
 * header as its values joined with ", ". A reference here reads the joined
 * value the plain way, and every pair of Upgrade lines built from these
 * pieces must get the same verdict. */
static int joined_lists_websocket(const char *a, const char *b)
{
    char v[128];
    snprintf(v, sizeof v, "%s, %s", a, b);
    size_t n = strlen(v), i = 0;
    while (i <= n) {
        size_t start = i;
        int quoted = 0;
        while (i < n && (quoted || v[i] != ',')) {
            if (quoted && v[i] == '\\' && i + 1 < n)
                i++;
            else if (v[i] == '"')
                quoted = !quoted;
            i++;
        }
        size_t end = i++;
        while (start < end && (v[start] == ' ' || v[start] == '\t'))
            start++;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        int same = end - start == 9;
        for (size_t k = 0; same && k < 9; k++)
            same = (v[start + k] | 0x20) == "websocket"[k];
        if (same)
            return 1;
    }
    return 0;
}

static void test_list_rules_match_the_joined_value(void **state)
{
    (void)state;
    static const char *const pieces[] = {"websocket", "x\"",        "\"x",      "a, \"b",
                                         "c\", websocket", "\\\"",  "\"a\\\"b\"", "",
                                         "WebSocket ", "\"websocket\"", "y, \"z, websocket\""};
    size_t np = sizeof pieces / sizeof pieces[0];
    int accepted = 0, refused = 0;
    for (size_t i = 0; i < np; i++) {
        for (size_t j = 0; j < np; j++) {
            char lines[256];
            snprintf(lines, sizeof lines, HOST CONN KEY VER "Upgrade: %s\r\nUpgrade: %s\r\n",
                     pieces[i], pieces[j]);
            int want = joined_lists_websocket(pieces[i], pieces[j]) ? 1 : WS6455_ERR_HS_UPGRADE;
            assert_int_equal(server_result(request_with(lines)), want);
            accepted += want == 1;
            refused += want != 1;
        }
    }
    assert_true(accepted > 10 && refused > 10);
    /* Each list has its own quoted-string state: an Upgrade line left
     * inside quotes does not swallow the Connection line after it. */
    assert_int_equal(server_result(request_with(HOST KEY VER "Upgrade: x\"\r\n"
                                                             "Connection: Upgrade\r\n"
                                                             "Upgrade: websocket\r\n")),
                     WS6455_ERR_HS_UPGRADE);
    assert_int_equal(server_result(request_with(HOST KEY VER "Connection: x\"\r\n"
                                                             "Upgrade: websocket\r\n"
                                                             "Connection: Upgrade\r\n")),
                     WS6455_ERR_HS_CONNECTION);
    assert_int_equal(server_result(request_with(HOST KEY VER "Upgrade: x\"\r\n"
                                                             "Connection: Upgrade\r\n"
                                                             "Upgrade: \", websocket\r\n")),
                     1);
}

/* Regression (fuzz/regressions/handshake_server/02cabb6e...): a repeated
 * header whose first value is empty is joined as ", value", and the length
 * reported is exactly the string's. */
static void test_repeated_header_with_empty_first_value(void **state)
{
    (void)state;
    static const char req[] = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\nX-Empty:\r\nX-Empty: value\r\n\r\n";
    ws6455__hs_server *s = valid_server(req, sizeof req - 1);
#if VIEW_HEADERS
    size_t len = 0;
    const char *v = ws6455_request_header(ws6455__hs_server_request(s), "X-Empty", &len);
    assert_non_null(v);
    assert_int_equal(len, 7);
    assert_int_equal(strlen(v), 7);
    assert_memory_equal(v, ", value", 7);
#endif
    ws6455__hs_server_free(s);
}

/* Regression (fuzz/regressions/handshake_client/38928a98...): a status code
 * is 100..599, so "050" is malformed rather than status 50, and the first
 * digit is checked on its own (six status lines around the edges). */
static void test_client_status_code_range(void **state)
{
    (void)state;
    static const char *const malformed[] = {"050", "000", "099", "600", "999", "0101"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        char resp[256];
        snprintf(resp, sizeof resp, "HTTP/1.1 %s X\r\n" RUPG RCONN RACC "\r\n", malformed[i]);
        assert_int_equal(client_result(resp, NULL), WS6455_ERR_HS_MALFORMED);
    }
    ws6455__hs_client *c;
    assert_int_equal(client_result("HTTP/1.1 599 X\r\n\r\n", &c), WS6455_ERR_HS_STATUS);
    assert_int_equal(ws6455_response_status(ws6455__hs_client_response(c)), 599);
    ws6455__hs_client_free(c);
    assert_int_equal(client_result("HTTP/1.1 100 X\r\n\r\n", &c), WS6455_ERR_HS_STATUS);
    assert_int_equal(ws6455_response_status(ws6455__hs_client_response(c)), 100);
    ws6455__hs_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_rfc_example),
        cmocka_unit_test(test_server_any_split),
        cmocka_unit_test(test_server_leaves_frame_bytes),
        cmocka_unit_test(test_server_errors_any_split),
        cmocka_unit_test(test_rule_method_get),
        cmocka_unit_test(test_rule_http_version),
        cmocka_unit_test(test_rule_request_line_shape),
        cmocka_unit_test(test_rule_host),
        cmocka_unit_test(test_rule_upgrade),
        cmocka_unit_test(test_rule_connection),
        cmocka_unit_test(test_rule_key),
        cmocka_unit_test(test_rule_ws_version),
        cmocka_unit_test(test_rule_no_body),
        cmocka_unit_test(test_syntax_header_without_colon),
        cmocka_unit_test(test_syntax_space_before_colon),
        cmocka_unit_test(test_syntax_obs_fold),
        cmocka_unit_test(test_syntax_bare_lf_and_cr),
        cmocka_unit_test(test_syntax_control_bytes),
        cmocka_unit_test(test_header_names_any_case_and_ows),
        cmocka_unit_test(test_offered_protocols_and_extensions),
        cmocka_unit_test(test_choose_protocol),
        cmocka_unit_test(test_limit_header_count),
        cmocka_unit_test(test_limit_long_line_fails_early),
        cmocka_unit_test(test_limit_never_ending_request),
        cmocka_unit_test(test_error_response_400),
        cmocka_unit_test(test_error_response_405),
        cmocka_unit_test(test_error_response_426),
        cmocka_unit_test(test_error_response_431_and_500),
        cmocka_unit_test(test_error_response_lengths_match),
        cmocka_unit_test(test_error_response_appends),
        cmocka_unit_test(test_respond_101_without_protocol),
        cmocka_unit_test(test_respond_101_with_extra_headers),
        cmocka_unit_test(test_respond_ignores_extension_offers),
        cmocka_unit_test(test_respond_reject),
        cmocka_unit_test(test_respond_reason_phrases),
        cmocka_unit_test(test_respond_refuses_bad_replies),
        cmocka_unit_test(test_set_parsed_valid_and_copied),
        cmocka_unit_test(test_set_parsed_rules),
        cmocka_unit_test(test_set_parsed_http_version),
        cmocka_unit_test(test_host_syntax),
        cmocka_unit_test(test_fixture_chromium),
        cmocka_unit_test(test_fixture_firefox),
        cmocka_unit_test(test_fixture_node_ws),
        cmocka_unit_test(test_fixture_python_websockets),
        cmocka_unit_test(test_fixture_curl),
        cmocka_unit_test(test_server_every_allocation_fails),
        cmocka_unit_test(test_client_request_bytes),
        cmocka_unit_test(test_client_request_round_trip),
        cmocka_unit_test(test_client_request_refuses_bad_params),
        cmocka_unit_test(test_client_rfc_example),
        cmocka_unit_test(test_client_any_split),
        cmocka_unit_test(test_client_status_not_101),
        cmocka_unit_test(test_client_status_line),
        cmocka_unit_test(test_client_rule_upgrade),
        cmocka_unit_test(test_client_rule_connection),
        cmocka_unit_test(test_client_rule_accept),
        cmocka_unit_test(test_client_rule_extensions),
        cmocka_unit_test(test_client_rule_protocol),
        cmocka_unit_test(test_client_limits_and_state),
        cmocka_unit_test(test_client_every_allocation_fails),
        cmocka_unit_test(test_request_origin),
        cmocka_unit_test(test_memory_of_a_long_request),
        cmocka_unit_test(test_list_rules_match_the_joined_value),
        cmocka_unit_test(test_repeated_header_with_empty_first_value),
        cmocka_unit_test(test_client_status_code_range),
    };
    return cmocka_run_group_tests_name("handshake", tests, NULL, NULL);
}
