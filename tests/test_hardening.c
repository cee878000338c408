/* Hardening: what a hostile peer can make the engine spend, allocation
 * failure at every point of whole conversations, input flush against an
 * unreadable page, and the fuzz corpora replayed as regression tests.
 * The bounds asserted here are the ones docs/security.md promises. */
/* 64-bit file offsets for the corpus walk: a 32-bit build (make test-m32)
 * otherwise gets EOVERFLOW from readdir() on filesystems whose directory
 * offsets or inode numbers do not fit 32 bits, and finds no corpus. */
#define _FILE_OFFSET_BITS 64

#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The fuzz driver: fz_conn_run(), the counting allocator fz_mem and the
 * reference UTF-8 validator. Its invariant checks abort, failing the test. */
#include "../fuzz/conn_driver.h"
#include "handshake.h"
#include "core.h"

static const uint8_t KEY[4] = {0x37, 0xFA, 0x21, 0x3D};

/* A masked (client-to-server) frame header + payload into dst. */
static size_t cframe(uint8_t *dst, int fin, int op, const void *p, size_t n)
{
    ws6455_frame_header h = {n, (uint8_t)(fin ? 1 : 0), 0, (uint8_t)op, 1, {0}};
    memcpy(h.mask, KEY, 4);
    int k = ws6455_frame_header_encode(dst, &h);
    assert_true(k > 0);
    ws6455_mask(dst + k, p, n, KEY, 0);
    return (size_t)k + n;
}

typedef struct conn_fixture {
    fz_mem mem;
    ws6455_allocator alloc;
    ws6455_config cfg;
    ws6455_conn *c;
} conn_fixture;

static void fixture_open(conn_fixture *f, int role, unsigned flags)
{
    memset(f, 0, sizeof *f);
    fz_mem_allocator(&f->mem, &f->alloc);
    ws6455_config_init(&f->cfg, role);
    f->cfg.allocator = &f->alloc;
    f->cfg.flags = flags;
    if (role == WS6455_ROLE_CLIENT)
        f->cfg.host = "example.com";
}

static void fixture_new(conn_fixture *f)
{
    f->c = ws6455_conn_new(&f->cfg, NULL, NULL);
    assert_non_null(f->c);
}

static void fixture_close(conn_fixture *f)
{
    ws6455_conn_free(f->c);
    assert_int_equal(f->mem.live, 0);
    assert_int_equal(f->mem.live_blocks, 0);
}

/* Feeds bytes (copied: the engine unmasks in place). */
static int feed(ws6455_conn *c, const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, p, n);
    int rc = ws6455_conn_recv(c, copy, n, NULL);
    free(copy);
    return rc;
}

/* The code of the first close frame in a server's pending output (which
 * starts at a frame), or -1. */
static int pending_close_code(ws6455_conn *c)
{
    const uint8_t *p;
    size_t n = ws6455_conn_pending(c, &p), off = 0;
    while (off + 2 <= n) {
        ws6455_frame_decoder d;
        ws6455_frame_header h;
        size_t used;
        ws6455_frame_decoder_init(&d, WS6455_ROLE_CLIENT, 0, 0);
        if (ws6455_frame_decode(&d, p + off, n - off, &used, &h) != 1)
            return -1;
        off += used;
        if (h.opcode == WS6455_OP_CLOSE)
            return h.payload_len >= 2 && off + 2 <= n ? (p[off] << 8 | p[off + 1]) : 1005;
        off += (size_t)h.payload_len;
    }
    return -1;
}

/* ---------------------------------------------------------------- limits */

/* A frame claiming 2^63-1 bytes: 1009 from the header alone; nothing is
 * allocated for it (the only new block is the output queue's first one,
 * for the close frame). */
static void test_length_claim_2_63(void **state)
{
    (void)state;
    conn_fixture f;
    fixture_open(&f, WS6455_ROLE_SERVER, WS6455_SKIP_HANDSHAKE);
    fixture_new(&f);
    size_t base = f.mem.live, calls = f.mem.calls;
    uint8_t hdr[14] = {0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    memcpy(hdr + 10, KEY, 4);
    int rc = feed(f.c, hdr, sizeof hdr);
    assert_true(rc == WS6455_ERR_FRAME_TOO_BIG || rc == WS6455_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(ws6455_error_close_code(rc), 1009);
    assert_int_equal(pending_close_code(f.c), 1009);
    assert_true(f.mem.calls - calls <= 1);
    assert_true(f.mem.peak - base <= sizeof(ws6455__chunk) + WS6455__CHUNK_SMALL);
    /* The same claim fed one byte at a time. */
    fixture_close(&f);
    fixture_open(&f, WS6455_ROLE_SERVER, WS6455_SKIP_HANDSHAKE);
    fixture_new(&f);
    base = f.mem.live;
    for (size_t i = 0; i < sizeof hdr; i++)
        (void)feed(f.c, hdr + i, 1);
    assert_int_equal(ws6455_error_close_code(ws6455_conn_error(f.c)), 1009);
    assert_true(f.mem.peak - base <= sizeof(ws6455__chunk) + WS6455__CHUNK_SMALL);
    fixture_close(&f);
}

/* 1,000,000 empty continuation frames: no memory grows. */
static void test_million_empty_continuations(void **state)
{
    (void)state;
    conn_fixture f;
    fixture_open(&f, WS6455_ROLE_SERVER, WS6455_SKIP_HANDSHAKE);
    fixture_new(&f);
    enum { PER_CHUNK = 10000, FRAME = 6 };
    uint8_t *chunk = malloc(PER_CHUNK * FRAME);
    assert_non_null(chunk);
    for (size_t i = 0; i < PER_CHUNK; i++)
        assert_int_equal(cframe(chunk + i * FRAME, 0, WS6455_OP_CONTINUATION, NULL, 0), FRAME);
    uint8_t first[16];
    size_t k = cframe(first, 0, WS6455_OP_TEXT, "ab", 2);
    assert_int_equal(feed(f.c, first, k), WS6455_OK);
    assert_int_equal(feed(f.c, chunk, PER_CHUNK * FRAME), WS6455_OK);
    size_t peak = f.mem.peak, calls = f.mem.calls;
    for (int round = 1; round < 1000000 / PER_CHUNK; round++)
        assert_int_equal(feed(f.c, chunk, PER_CHUNK * FRAME), WS6455_OK);
    assert_int_equal(f.mem.peak, peak);
    assert_int_equal(f.mem.calls, calls);
    k = cframe(first, 1, WS6455_OP_CONTINUATION, "c", 1);
    assert_int_equal(feed(f.c, first, k), WS6455_OK);
    assert_int_equal(ws6455_conn_state(f.c), WS6455_STATE_OPEN);
    free(chunk);
    fixture_close(&f);
}

/* A peer that pings without end and never reads: what we queue for it
 * stays within max_output_buffer plus the control slack. */
static void test_ping_flood_never_read(void **state)
{
    (void)state;
    conn_fixture f;
    fixture_open(&f, WS6455_ROLE_SERVER, WS6455_SKIP_HANDSHAKE);
    f.cfg.max_output_buffer = 4096;
    fixture_new(&f);
    size_t base = f.mem.live;
    uint8_t payload[125];
    memset(payload, 'p', sizeof payload);
    enum { PINGS = 500, PING = 131 };
    uint8_t *burst = malloc(PINGS * PING);
    assert_non_null(burst);
    for (size_t i = 0; i < PINGS; i++)
        assert_int_equal(cframe(burst + i * PING, 1, WS6455_OP_PING, payload, 125), PING);
    size_t slack = 2 * (WS6455_MAX_HEADER_SIZE + WS6455_MAX_CONTROL_PAYLOAD);
    for (int round = 0; round < 40; round++) {
        assert_int_equal(feed(f.c, burst, PINGS * PING), WS6455_OK);
        assert_true(ws6455_conn_buffered_amount(f.c) <= 4096 + slack);
    }
    /* The queue limit, the kept pong and the queue's slack (chunks never
     * grow by copying). */
    assert_true(f.mem.peak - base <= 4096 + slack + sizeof(ws6455__aux) + WS6455__OUTQ_SLACK);
    /* Reading again lets the latest pong through. */
    const uint8_t *p;
    ws6455_conn_consume(f.c, ws6455_conn_pending(f.c, &p));
    assert_true(ws6455_conn_pending(f.c, &p) > 0);
    free(burst);
    fixture_close(&f);
}

/* A handshake that never ends: 10 MiB of header lines, and one endless
 * line. It fails; memory stays within the head limit. */
static void test_endless_handshake(void **state)
{
    (void)state;
    enum { CHUNK = 65536 };
    uint8_t *chunk = malloc(CHUNK);
    assert_non_null(chunk);
    for (int variant = 0; variant < 2; variant++) {
        conn_fixture f;
        fixture_open(&f, WS6455_ROLE_SERVER, 0);
        fixture_new(&f);
        size_t base = f.mem.live;
        static const char start[] = "GET / HTTP/1.1\r\n";
        assert_int_equal(feed(f.c, (const uint8_t *)start, sizeof start - 1), WS6455_OK);
        for (size_t i = 0; i < CHUNK; i++)
            chunk[i] = variant ? 'a' : "X-Header: aaaaaaaaaaaaaaa\r\n"[i % 27];
        int rc = WS6455_OK;
        for (size_t sent = 0; sent < (size_t)10 << 20; sent += CHUNK)
            rc = feed(f.c, chunk, CHUNK);
        assert_int_equal(rc, WS6455_ERR_HS_TOO_LARGE);
        assert_int_equal(ws6455_conn_state(f.c), WS6455_STATE_CLOSED);
        const uint8_t *p;
        size_t n = ws6455_conn_pending(f.c, &p);
        assert_true(n > 12 && memcmp(p, "HTTP/1.1 431", 12) == 0);
        assert_true(f.mem.peak - base <= 4 * WS6455_DEFAULT_MAX_HANDSHAKE_SIZE);
        fixture_close(&f);
    }
    free(chunk);
}

/* max_message_size + 1, in one frame and across fragments: 1009. */
static void test_message_one_over_limit(void **state)
{
    (void)state;
    enum { LIMIT = 1000 };
    uint8_t *msg = calloc(1, LIMIT + 1);
    uint8_t *wire = malloc(2 * (LIMIT + 32));
    assert_true(msg && wire);
    for (int variant = 0; variant < 3; variant++) {
        conn_fixture f;
        fixture_open(&f, WS6455_ROLE_SERVER,
                     WS6455_SKIP_HANDSHAKE | (variant == 2 ? WS6455_STREAM_FRAGMENTS : 0));
        f.cfg.max_message_size = LIMIT;
        fixture_new(&f);
        size_t base = f.mem.live;
        size_t n;
        if (variant == 0) {
            n = cframe(wire, 1, WS6455_OP_BINARY, msg, LIMIT + 1);
        } else {
            n = cframe(wire, 0, WS6455_OP_BINARY, msg, 600);
            n += cframe(wire + n, 1, WS6455_OP_CONTINUATION, msg, LIMIT + 1 - 600);
        }
        assert_int_equal(feed(f.c, wire, n), WS6455_ERR_MESSAGE_TOO_BIG);
        assert_int_equal(pending_close_code(f.c), 1009);
        assert_true(f.mem.peak - base <= 2 * LIMIT + 256);
        fixture_close(&f);
        /* Exactly the limit is fine. */
        fixture_open(&f, WS6455_ROLE_SERVER, WS6455_SKIP_HANDSHAKE);
        f.cfg.max_message_size = LIMIT;
        fixture_new(&f);
        n = cframe(wire, 0, WS6455_OP_BINARY, msg, 600);
        n += cframe(wire + n, 1, WS6455_OP_CONTINUATION, msg, LIMIT - 600);
        assert_int_equal(feed(f.c, wire, n), WS6455_OK);
        fixture_close(&f);
    }
    free(msg);
    free(wire);
}

/* ---------------------------------------------------------------- failing allocations */

/* The conversations use the connection driver's request and response
 * (fuzz/conn_driver.h): fz_request, and fz_response for its fixed key. */
#define REQUEST fz_request
#define RESPONSE fz_response

static int counting_random(void *user, uint8_t *buf, size_t n)
{
    uint8_t *next = user;
    for (size_t i = 0; i < n; i++)
        buf[i] = (*next)++;
    return 0;
}

static int saw_close, saw_open;
static void note_open(ws6455_conn *c, const char *proto, void *u)
{
    (void)c;
    (void)proto;
    (void)u;
    saw_open++;
}

static void note_close(ws6455_conn *c, int code, const char *r, size_t n, void *u)
{
    (void)c, (void)code, (void)r, (void)n, (void)u;
    saw_close++;
}

/* One whole conversation with the n-th allocation failing. Returns how
 * many allocations failed (0: the run got past every allocation). */
static size_t conversation_failing_at(int role, size_t n)
{
    const char *const protos[] = {"chat", "superchat"};
    conn_fixture f;
    fixture_open(&f, role, 0);
    f.mem.fail_at = n;
    f.cfg.subprotocols = protos;
    f.cfg.subprotocol_count = 2;
    f.cfg.max_message_size = 70000;
    uint8_t next = 0;
    ws6455_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.random = counting_random;
    cb.on_close = note_close;
    cb.on_open = note_open;
    saw_close = saw_open = 0;
    int err = 0;
    f.c = ws6455_conn_new_err(&f.cfg, &cb, &next, &err, NULL);
    if (!f.c) {
        assert_int_equal(err, WS6455_ERR_NOMEM);
        assert_int_equal(f.mem.live, 0);
        return f.mem.failures;
    }
    static uint8_t wire[200000];
    size_t k = 0;
    const char *head = role == WS6455_ROLE_SERVER ? REQUEST : RESPONSE;
    memcpy(wire, head, strlen(head));
    k += strlen(head);
    static uint8_t big[70000];
    int masked = role == WS6455_ROLE_SERVER;
    const struct { int fin, op; const void *p; size_t n; } frames[] = {
        {1, WS6455_OP_TEXT, "Hello", 5},
        {0, WS6455_OP_BINARY, big, 300},
        {1, WS6455_OP_PING, "mid", 3},
        {0, WS6455_OP_CONTINUATION, big, 70000 - 301},
        {1, WS6455_OP_CONTINUATION, big, 1},
        {1, WS6455_OP_TEXT, big, 0},
        {1, WS6455_OP_CLOSE, "\x03\xe8" "bye", 5},
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        ws6455_frame_header h = {frames[i].n, (uint8_t)frames[i].fin, 0, (uint8_t)frames[i].op,
                                 (uint8_t)masked, {0}};
        memcpy(h.mask, KEY, 4);
        int hl = ws6455_frame_header_encode(wire + k, &h);
        k += (size_t)hl;
        if (masked)
            ws6455_mask(wire + k, frames[i].p, frames[i].n, KEY, 0);
        else
            memcpy(wire + k, frames[i].p, frames[i].n);
        k += frames[i].n;
    }
    /* In three pieces, with sends in between, draining as we go. */
    size_t cut[4] = {0, strlen(head) / 2, strlen(head) + 40, k};
    for (int i = 0; i < 3; i++) {
        int rc = feed(f.c, wire + cut[i], cut[i + 1] - cut[i]);
        assert_true(rc == WS6455_OK || rc == WS6455_ERR_NOMEM);
        int s = ws6455_send_text(f.c, "reply", 5);
        assert_true(s == WS6455_OK || s == WS6455_ERR_NOMEM || s == WS6455_ERR_INVALID_STATE ||
                    s == WS6455_ERR_CLOSED);
        s = ws6455_send_binary(f.c, big, 1000);
        assert_true(s == WS6455_OK || s == WS6455_ERR_NOMEM || s == WS6455_ERR_INVALID_STATE ||
                    s == WS6455_ERR_CLOSED);
        const uint8_t *p;
        ws6455_conn_consume(f.c, ws6455_conn_pending(f.c, &p) / 2);
    }
    int e = ws6455_conn_error(f.c);
    assert_true(e == WS6455_OK || e == WS6455_ERR_NOMEM);
    /* The conversation ends, one way or the other; a server connection
     * that never opened reports no on_close. */
    assert_int_equal(saw_close, saw_open || role == WS6455_ROLE_CLIENT);
    assert_int_equal(ws6455_conn_state(f.c) == WS6455_STATE_CLOSED || e != WS6455_OK, 1);
    if (f.mem.failures == 0) {
        assert_int_equal(e, WS6455_OK);
        assert_int_equal(ws6455_conn_state(f.c), WS6455_STATE_CLOSED);
    }
    size_t failures = f.mem.failures;
    fixture_close(&f);
    return failures;
}

static void test_fail_every_allocation(void **state)
{
    (void)state;
    for (int role = 0; role < 2; role++) {
        size_t n = 1;
        while (conversation_failing_at(role, n) != 0) {
            n++;
            assert_true(n < 1000);
        }
        assert_true(n > 3); /* the conversation really allocates */
    }
}

/* ---------------------------------------------------------------- guard page */

/* Feeds p[0..n) as two pieces, each flush against an unreadable page. */
static int feed_guarded(ws6455_conn *c, const uint8_t *p, size_t n, size_t cut)
{
    int rc = WS6455_OK;
    size_t part[2] = {cut, n - cut};
    const uint8_t *src[2] = {p, p + cut};
    for (int i = 0; i < 2; i++) {
        uint8_t *g = tu_guard_copy(src[i], part[i]);
        rc = ws6455_conn_recv(c, g, part[i], NULL);
        tu_guard_free(g, part[i]);
    }
    return rc;
}

static void test_guard_page_frames_and_handshakes(void **state)
{
    (void)state;
    uint8_t wire[1024];
    size_t k = 0;
    k += cframe(wire + k, 1, WS6455_OP_TEXT, "h\xC3\xA9llo", 6);
    k += cframe(wire + k, 0, WS6455_OP_BINARY, "ab", 2);
    k += cframe(wire + k, 1, WS6455_OP_PING, "p", 1);
    static uint8_t mid[300];
    k += cframe(wire + k, 1, WS6455_OP_CONTINUATION, mid, sizeof mid);
    k += cframe(wire + k, 1, WS6455_OP_CLOSE, "\x03\xe8", 2);
    uint8_t req[1400];
    size_t rl = strlen(REQUEST);
    memcpy(req, REQUEST, rl);
    memcpy(req + rl, wire, k);
    uint8_t resp[1400];
    size_t sl = strlen(RESPONSE);
    memcpy(resp, RESPONSE, sl);
    resp[sl] = 0x81;
    resp[sl + 1] = 2;
    resp[sl + 2] = 'h';
    resp[sl + 3] = 'i';

    for (size_t cut = 0; cut <= k; cut++) {
        conn_fixture f;
        fixture_open(&f, WS6455_ROLE_SERVER, WS6455_SKIP_HANDSHAKE);
        fixture_new(&f);
        assert_int_equal(feed_guarded(f.c, wire, k, cut), WS6455_OK);
        assert_int_equal(ws6455_conn_state(f.c), WS6455_STATE_CLOSED);
        fixture_close(&f);
    }
    for (size_t cut = 0; cut <= rl + k; cut += 3) {
        conn_fixture f;
        fixture_open(&f, WS6455_ROLE_SERVER, 0);
        fixture_new(&f);
        assert_int_equal(feed_guarded(f.c, req, rl + k, cut), WS6455_OK);
        assert_int_equal(ws6455_conn_state(f.c), WS6455_STATE_CLOSED);
        fixture_close(&f);
    }
    for (size_t cut = 0; cut <= sl + 4; cut++) {
        conn_fixture f;
        fixture_open(&f, WS6455_ROLE_CLIENT, 0);
        static const char *const offer[] = {"chat"};
        f.cfg.subprotocols = offer;
        f.cfg.subprotocol_count = 1;
        uint8_t next = 0;
        ws6455_callbacks cb;
        memset(&cb, 0, sizeof cb);
        cb.random = counting_random;
        f.c = ws6455_conn_new(&f.cfg, &cb, &next);
        assert_non_null(f.c);
        assert_int_equal(feed_guarded(f.c, resp, sl + 4, cut), WS6455_OK);
        assert_int_equal(ws6455_conn_state(f.c), WS6455_STATE_OPEN);
        fixture_close(&f);
    }
    /* Every prefix of every header, alone against the guard. */
    for (size_t n = 0; n <= 14; n++) {
        static const uint8_t h64[14] = {0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4};
        uint8_t *g = tu_guard_copy(h64, n);
        ws6455_frame_decoder d;
        ws6455_frame_decoder_init(&d, WS6455_ROLE_SERVER, 0, 0);
        ws6455_frame_header h;
        size_t used;
        assert_int_equal(ws6455_frame_decode(&d, g, n, &used, &h), n == 14 ? 1 : 0);
        tu_guard_free(g, n);
    }
    /* Every prefix of the request, to the internal parser, and of a URL. */
    for (size_t n = 0; n <= rl; n++) {
        ws6455__hs_server *s = ws6455__hs_server_new(NULL, NULL);
        assert_non_null(s);
        uint8_t *g = tu_guard_copy(REQUEST, n);
        size_t used;
        assert_int_equal(ws6455__hs_server_feed(s, g, n, &used), n == rl ? 1 : 0);
        tu_guard_free(g, n);
        ws6455__hs_server_free(s);
    }
    static const char url[] = "wss://[::1]:8443/chat?room=1";
    for (size_t n = 0; n <= sizeof url - 1; n++) {
        uint8_t *g = tu_guard_copy(url, n);
        ws6455_url u;
        (void)ws6455_url_parse((const char *)g, n, &u);
        tu_guard_free(g, n);
    }
    static const char text[] = "a\xE2\x82\xAC\xF0\x9F\x98\x80";
    for (size_t n = 0; n <= sizeof text - 1; n++) {
        uint8_t *g = tu_guard_copy(text, n);
        assert_int_equal(ws6455_utf8_valid(g, n), fz_utf8_ref_valid(g, n, NULL));
        tu_guard_free(g, n);
    }
}

/* ---------------------------------------------------------------- corpora */

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long len = ftell(fp);
    assert_true(len >= 0);
    rewind(fp);
    uint8_t *p = malloc((size_t)len + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return p;
}

/* Replays every file of root/<dir>/ through the connection driver: the
 * conn_client corpus as a client, everything else as a server and (except
 * conn_server's) as a client too. Returns the number of files. */
static size_t replay_tree(const char *root)
{
    DIR *top = opendir(root);
    if (!top)
        return 0;
    size_t files = 0;
    struct dirent *t;
    while ((t = readdir(top)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", root, t->d_name);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        int as_server = strcmp(t->d_name, "conn_client") != 0;
        int as_client = strcmp(t->d_name, "conn_server") != 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char path[1024];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (e->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            size_t n;
            uint8_t *p = slurp(path, &n);
            if (as_server)
                fz_conn_run(p, n, WS6455_ROLE_SERVER);
            if (as_client)
                fz_conn_run(p, n, WS6455_ROLE_CLIENT);
            free(p);
            files++;
        }
        closedir(d);
    }
    closedir(top);
    return files;
}

static void test_replay_fuzz_corpora(void **state)
{
    (void)state;
    /* make test runs from the top directory; allow running from tests/. */
    struct stat st;
    const char *top = stat("fuzz/corpus", &st) == 0 ? "fuzz" : "../fuzz";
    char corpus[64], regressions[64];
    snprintf(corpus, sizeof corpus, "%s/corpus", top);
    snprintf(regressions, sizeof regressions, "%s/regressions", top);
    size_t n = replay_tree(corpus);
    assert_true(n > 100); /* the corpus was found */
    n += replay_tree(regressions);
    printf("replayed %zu corpus and regression files\n", n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_length_claim_2_63),
        cmocka_unit_test(test_million_empty_continuations),
        cmocka_unit_test(test_ping_flood_never_read),
        cmocka_unit_test(test_endless_handshake),
        cmocka_unit_test(test_message_one_over_limit),
        cmocka_unit_test(test_fail_every_allocation),
        cmocka_unit_test(test_guard_page_frames_and_handshakes),
        cmocka_unit_test(test_replay_fuzz_corpora),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
