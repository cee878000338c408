/* The permessage-deflate codec (src/deflate.c, make WITH_ZLIB=1): RFC 7692
 * section 7.2.3's examples byte for byte in both directions, BFINAL in every
 * position a sender can put it, invalid data, bombs under a counting
 * allocator, the memory bound of every setting, allocation failure at every
 * allocation, random round trips in random pieces for each context-takeover
 * combination, window bits 8 against a strict 256-byte inflater, and the
 * shared compressor. */
#include "testutil.h"

#include "deflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "../fuzz/fuzz.h" /* fz_mem: the counting, failing allocator */

/* ------------------------------------------------------------ helpers */

/* A sink that keeps what it is given (up to `keep` bytes; the rest is only
 * counted) and can fail on a chosen call. */
typedef struct collect {
    uint8_t *p;
    size_t len, cap, keep;
    uint64_t total;
    size_t calls, largest;
    size_t fail_on_call; /* 1-based; 0: never */
    int fail_with;
    unsigned any_nonzero;
} collect;

static void collect_init(collect *c, size_t keep)
{
    memset(c, 0, sizeof *c);
    c->keep = keep;
}

static int collect_sink(void *user, const uint8_t *p, size_t n)
{
    collect *c = user;
    c->calls++;
    assert_true(n > 0 && n <= WS6455__INFLATE_CHUNK);
    if (n > c->largest)
        c->largest = n;
    if (c->fail_on_call && c->calls == c->fail_on_call)
        return c->fail_with;
    c->total += n;
    for (size_t i = 0; i < n; i++)
        c->any_nonzero |= p[i];
    size_t take = c->len + n <= c->keep ? n : (c->keep > c->len ? c->keep - c->len : 0);
    if (take) {
        if (c->len + take > c->cap) {
            size_t cap = c->cap ? c->cap : 256;
            while (cap < c->len + take)
                cap *= 2;
            c->p = realloc(c->p, cap);
            assert_non_null(c->p);
            c->cap = cap;
        }
        memcpy(c->p + c->len, p, take);
        c->len += take;
    }
    return WS6455_OK;
}

static void collect_reset(collect *c)
{
    c->len = 0;
    c->total = 0;
}

static void collect_free(collect *c)
{
    free(c->p);
    c->p = NULL;
}

static ws6455_allocator libc_alloc(void)
{
    ws6455_allocator a;
    ws6455__allocator_resolve(&a, NULL);
    return a;
}

static void deflater_new(ws6455__deflater *d, const ws6455_allocator *a, int bits, int nct,
                         int level, int mem)
{
    ws6455__deflate_dir dir = {(uint8_t)bits, (uint8_t)nct};
    assert_int_equal(ws6455__deflater_init(d, a, &dir, level, mem, 0), WS6455_OK);
}

static void inflater_new(ws6455__inflater *f, const ws6455_allocator *a, int bits, int nct,
                         uint64_t limit)
{
    ws6455__deflate_dir dir = {(uint8_t)bits, (uint8_t)nct};
    assert_int_equal(ws6455__inflater_init(f, a, &dir, limit), WS6455_OK);
}

/* Compresses one whole message; the payload is left in out (cleared first). */
static void compress_msg(ws6455__deflater *d, const void *p, size_t n, ws6455__buf *out)
{
    out->len = 0;
    out->off = 0;
    assert_int_equal(ws6455__deflater_write(d, p, n, WS6455__DEFLATE_END, out), WS6455_OK);
}

static const uint8_t *buf_bytes(const ws6455__buf *b)
{
    return b->data + b->off;
}

static void assert_bytes(const uint8_t *got, size_t n, const char *hex)
{
    uint8_t want[256];
    size_t wn = tu_hex(hex, want, sizeof want);
    if (n != wn) {
        char s[1024] = "";
        for (size_t i = 0; i < n && i < 300; i++)
            snprintf(s + strlen(s), sizeof s - strlen(s), "%02x ", got[i]);
        fail_msg("got %zu bytes (%s), want %zu (%s)", n, s, wn, hex);
    }
    assert_memory_equal(got, want, n);
}

/* Inflates one message given as hex, in pieces of `piece` bytes (0: whole);
 * returns the code and leaves the output in *c. */
static int inflate_hex(ws6455__inflater *f, const char *hex, size_t piece, collect *c)
{
    uint8_t in[256];
    size_t n = tu_hex(hex, in, sizeof in);
    collect_reset(c);
    if (piece == 0)
        piece = n ? n : 1;
    size_t off = 0;
    do {
        size_t k = n - off < piece ? n - off : piece;
        int fin = off + k == n;
        uint8_t *g = tu_guard_copy(in + off, k);
        int rc = ws6455__inflater_write(f, g, k, fin, collect_sink, c);
        tu_guard_free(g, k);
        if (rc < 0)
            return rc;
        off += k;
    } while (off < n);
    return WS6455_OK;
}

static void assert_inflates_to(ws6455__inflater *f, const char *hex, const char *text)
{
    collect c;
    collect_init(&c, SIZE_MAX);
    int rc = inflate_hex(f, hex, 0, &c);
    if (rc != WS6455_OK)
        fail_msg("'%s' failed: %s", hex, ws6455_errname(rc));
    assert_int_equal(c.len, strlen(text));
    if (c.len)
        assert_memory_equal(c.p, text, c.len);
    collect_free(&c);
}

/* Every split of a message into two pieces, and one byte at a time, with a
 * fresh inflater each time, gives `text`. */
static void assert_inflates_every_split(int bits, const char *hex, const char *text)
{
    ws6455_allocator a = libc_alloc();
    for (size_t piece = 0; piece <= 16; piece++) {
        ws6455__inflater f;
        inflater_new(&f, &a, bits, 1, 0);
        collect c;
        collect_init(&c, SIZE_MAX);
        assert_int_equal(inflate_hex(&f, hex, piece, &c), WS6455_OK);
        assert_int_equal(c.len, strlen(text));
        if (c.len)
            assert_memory_equal(c.p, text, c.len);
        collect_free(&c);
        ws6455__inflater_free(&f);
    }
}

/* ------------------------------------------------------------ RFC 7692 7.2.3 */

/* 7.2.3.1: "Hello" in one compressed block is f2 48 cd c9 c9 07 00, and
 * sent in fragments of 3 and 4 octets it reads back the same. */
static void test_rfc_7_2_3_1_one_block(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    static const int levels[] = {-1, 1, 6, 9};
    for (int nct = 0; nct <= 1; nct++) {
        for (size_t i = 0; i < 4; i++) {
            ws6455__deflater d;
            deflater_new(&d, &a, 15, nct, levels[i], 8);
            ws6455__buf out = {0};
            compress_msg(&d, "Hello", 5, &out);
            assert_bytes(buf_bytes(&out), out.len, "f2 48 cd c9 c9 07 00");
            ws6455__buf_free(&out, &a);
            ws6455__deflater_free(&d);
        }
    }
    ws6455__inflater f;
    inflater_new(&f, &a, 15, 1, 0);
    assert_inflates_to(&f, "f2 48 cd c9 c9 07 00", "Hello");
    /* The fragments of the RFC's example: "f2 48 cd" then "c9 c9 07 00". */
    collect c;
    collect_init(&c, SIZE_MAX);
    assert_int_equal(inflate_hex(&f, "f2 48 cd c9 c9 07 00", 3, &c), WS6455_OK);
    assert_int_equal(c.len, 5);
    assert_memory_equal(c.p, "Hello", 5);
    collect_free(&c);
    ws6455__inflater_free(&f);
    assert_inflates_every_split(15, "f2 48 cd c9 c9 07 00", "Hello");
}

/* 7.2.3.2: with context takeover the second "Hello" is f2 00 11 00 00;
 * without, it is the first message's bytes again. An inflater without
 * takeover really forgets: the short form then refers to nothing. */
static void test_rfc_7_2_3_2_sharing_the_window(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    ws6455__buf out = {0};
    ws6455__deflater d;
    deflater_new(&d, &a, 15, 0, -1, 8);
    compress_msg(&d, "Hello", 5, &out);
    assert_bytes(buf_bytes(&out), out.len, "f2 48 cd c9 c9 07 00");
    compress_msg(&d, "Hello", 5, &out);
    assert_bytes(buf_bytes(&out), out.len, "f2 00 11 00 00");
    ws6455__deflater_free(&d);

    deflater_new(&d, &a, 15, 1, -1, 8);
    for (int i = 0; i < 2; i++) {
        compress_msg(&d, "Hello", 5, &out);
        assert_bytes(buf_bytes(&out), out.len, "f2 48 cd c9 c9 07 00");
    }
    ws6455__deflater_free(&d);
    ws6455__buf_free(&out, &a);

    ws6455__inflater f;
    inflater_new(&f, &a, 15, 0, 0);
    assert_inflates_to(&f, "f2 48 cd c9 c9 07 00", "Hello");
    assert_inflates_to(&f, "f2 00 11 00 00", "Hello");
    assert_inflates_to(&f, "f2 00 11 00 00", "Hello");
    ws6455__inflater_free(&f);

    inflater_new(&f, &a, 15, 1, 0);
    assert_inflates_to(&f, "f2 48 cd c9 c9 07 00", "Hello");
    collect c;
    collect_init(&c, SIZE_MAX);
    assert_int_equal(inflate_hex(&f, "f2 00 11 00 00", 0, &c), WS6455__ERR_DEFLATE_DATA);
    collect_free(&c);
    ws6455__inflater_free(&f);
}

/* 7.2.3.3: a block with no compression; zlib's level 0 writes exactly it. */
static void test_rfc_7_2_3_3_stored_block(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    ws6455__deflater d;
    deflater_new(&d, &a, 15, 1, 0, 8);
    ws6455__buf out = {0};
    compress_msg(&d, "Hello", 5, &out);
    assert_bytes(buf_bytes(&out), out.len, "00 05 00 fa ff 48 65 6c 6c 6f 00");
    ws6455__buf_free(&out, &a);
    ws6455__deflater_free(&d);
    assert_inflates_every_split(15, "00 05 00 fa ff 48 65 6c 6c 6f 00", "Hello");
}

/* 7.2.3.4: a block with BFINAL set, then the 00 that lets the payload be
 * read like any other. The window survives the final block: a following
 * message (context takeover) and following blocks may refer back. */
static void test_rfc_7_2_3_4_bfinal(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    assert_inflates_every_split(15, "f3 48 cd c9 c9 07 00 00", "Hello");
    ws6455__inflater f;
    inflater_new(&f, &a, 15, 0, 0);
    assert_inflates_to(&f, "f3 48 cd c9 c9 07 00 00", "Hello");
    assert_inflates_to(&f, "f2 00 11 00 00", "Hello");
    /* A final block inside a message, and blocks after it. */
    assert_inflates_to(&f, "f3 48 cd c9 c9 07 00 f2 00 11 00 00", "HelloHello");
    /* Data that ends with the final block is complete without the 00. */
    assert_inflates_to(&f, "f3 48 cd c9 c9 07 00", "Hello");
    assert_inflates_to(&f, "f2 00 11 00 00", "Hello");
    /* PHP's empty message: one empty final fixed block. */
    assert_inflates_to(&f, "03 00", "");
    /* A stored final block. */
    assert_inflates_to(&f, "01 05 00 fa ff 48 65 6c 6c 6f 00", "Hello");
    assert_inflates_to(&f, "01 05 00 fa ff 48 65 6c 6c 6f", "Hello");
    assert_inflates_to(&f, "f2 00 11 00 00", "Hello");
    ws6455__inflater_free(&f);
    assert_inflates_every_split(15, "f3 48 cd c9 c9 07 00 f2 00 11 00 00", "HelloHello");
    assert_inflates_every_split(15, "03 00 03 00 03 00 f3 48 cd c9 c9 07 00", "Hello");
}

/* 7.2.3.5: two blocks in one message: "He" flushed, then "llo". */
static void test_rfc_7_2_3_5_two_blocks(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    ws6455__deflater d;
    deflater_new(&d, &a, 15, 1, -1, 8);
    ws6455__buf out = {0};
    assert_int_equal(
        ws6455__deflater_write(&d, (const uint8_t *)"He", 2, WS6455__DEFLATE_FLUSH, &out),
        WS6455_OK);
    assert_bytes(buf_bytes(&out), out.len, "f2 48 05 00 00 00 ff ff");
    /* What one call appended may be taken off before the next. */
    ws6455__buf_consume(&out, out.len);
    assert_int_equal(
        ws6455__deflater_write(&d, (const uint8_t *)"llo", 3, WS6455__DEFLATE_END, &out),
        WS6455_OK);
    assert_bytes(buf_bytes(&out), out.len, "ca c9 c9 07 00");
    ws6455__buf_free(&out, &a);
    ws6455__deflater_free(&d);
    assert_inflates_every_split(15, "f2 48 05 00 00 00 ff ff ca c9 c9 07 00", "Hello");
}

/* 7.2.3.6 and empty messages: an empty message is the byte 00, so is an
 * end with nothing after a flush; an empty payload reads as an empty
 * message and touches nothing. None of it allocates zlib state. */
static void test_rfc_7_2_3_6_empty(void **state)
{
    (void)state;
    fz_mem m;
    ws6455_allocator a;
    fz_mem_start(&m, &a, 0);
    ws6455_allocator plain = libc_alloc();
    ws6455__buf out = {0};
    ws6455__deflater d;
    deflater_new(&d, &a, 15, 0, -1, 8);
    assert_int_equal(ws6455__deflater_write(&d, NULL, 0, WS6455__DEFLATE_MORE, &out), WS6455_OK);
    assert_int_equal(ws6455__deflater_write(&d, NULL, 0, WS6455__DEFLATE_FLUSH, &out), WS6455_OK);
    assert_int_equal(out.len, 0);
    size_t calls_before = m.calls;
    ws6455__buf scratch = {0};
    assert_non_null(ws6455__buf_reserve(&scratch, &plain, 64));
    assert_int_equal(ws6455__deflater_write(&d, NULL, 0, WS6455__DEFLATE_END, &scratch), WS6455_OK);
    assert_bytes(buf_bytes(&scratch), scratch.len, "00");
    assert_int_equal(m.calls, calls_before); /* no zlib state for an empty message */
    assert_null(d.zs);
    ws6455__buf_free(&scratch, &plain);
    /* After a flush, an empty end is 00 too. */
    assert_int_equal(
        ws6455__deflater_write(&d, (const uint8_t *)"Hello", 5, WS6455__DEFLATE_FLUSH, &out),
        WS6455_OK);
    assert_int_equal(ws6455__deflater_write(&d, NULL, 0, WS6455__DEFLATE_END, &out), WS6455_OK);
    assert_bytes(buf_bytes(&out), out.len, "f2 48 cd c9 c9 07 00 00 00 ff ff 00");
    ws6455__buf_free(&out, &a);
    ws6455__deflater_free(&d);
    assert_int_equal(m.live, 0);

    assert_inflates_every_split(15, "00", "");
    assert_inflates_every_split(15, "f2 48 cd c9 c9 07 00 00 00 ff ff 00", "Hello");
    ws6455__inflater f;
    inflater_new(&f, &a, 15, 0, 0);
    calls_before = m.calls;
    assert_inflates_to(&f, "", "");
    assert_int_equal(m.calls, calls_before);
    assert_inflates_to(&f, "f2 48 cd c9 c9 07 00", "Hello");
    assert_inflates_to(&f, "", "");
    assert_inflates_to(&f, "00", "");
    assert_inflates_to(&f, "f2 00 11 00 00", "Hello"); /* the window was left alone */
    ws6455__inflater_free(&f);
    assert_int_equal(m.live, 0);
}

/* ------------------------------------------------------------ invalid data */

static void test_invalid_data_is_a_distinct_sticky_error(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    static const char *const bad[] = {
        "ff",                                  /* reserved block type 11 */
        "07",                                  /* BFINAL, type 11 */
        "f2 48",                               /* ends inside a block */
        "f2 48 cd c9 c9 07 00 00 00 ff ff",    /* tail not stripped */
        "00 05 00 00 00 48 65 6c 6c 6f 00",    /* stored LEN/NLEN mismatch */
        "f2 00 11 00 00",                      /* refers before the start */
        "ec c0 81 00 00 00 00 80 90 fe af 1e", /* invalid Huffman tables */
        "fc ff ff ff ff",                      /* too many length symbols */
        "01 05 00 fa ff 48 65",                /* final stored block cut short */
        "00 05 00 fa ff 48 65 6c",             /* stored block cut short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t piece = 0; piece <= 2; piece++) {
            ws6455__inflater f;
            inflater_new(&f, &a, 15, i & 1, 0);
            collect c;
            collect_init(&c, SIZE_MAX);
            int rc = inflate_hex(&f, bad[i], piece, &c);
            if (rc != WS6455__ERR_DEFLATE_DATA)
                fail_msg("'%s': %s", bad[i], ws6455_errname(rc));
            /* Sticky, whatever comes next. */
            assert_int_equal(
                ws6455__inflater_write(&f, (const uint8_t *)"\x00", 1, 1, collect_sink, &c),
                WS6455__ERR_DEFLATE_DATA);
            collect_free(&c);
            ws6455__inflater_free(&f);
        }
    }
}

static void test_sink_error_stops_and_sticks(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    ws6455__inflater f;
    inflater_new(&f, &a, 15, 0, 0);
    collect c;
    collect_init(&c, SIZE_MAX);
    c.fail_on_call = 1;
    c.fail_with = WS6455_ERR_UTF8;
    assert_int_equal(inflate_hex(&f, "f2 48 cd c9 c9 07 00", 0, &c), WS6455_ERR_UTF8);
    assert_int_equal(inflate_hex(&f, "00", 0, &c), WS6455_ERR_UTF8);
    assert_int_equal(c.calls, 1);
    collect_free(&c);
    ws6455__inflater_free(&f);
}

static void test_arguments(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    ws6455__deflater d;
    ws6455__inflater f;
    ws6455__deflate_dir ok = {15, 1}, takeover = {15, 0}, bad7 = {7, 0}, bad16 = {16, 0};
    assert_int_equal(ws6455__deflater_init(&d, &a, &bad7, -1, 8, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, &a, &bad16, -1, 8, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, &a, &ok, -2, 8, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, &a, &ok, 10, 8, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, &a, &ok, -1, 0, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, &a, &ok, -1, 10, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, &a, &ok, -1, 8, 2), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, &a, &takeover, -1, 8, WS6455__DEFLATER_SHARED),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, NULL, &ok, -1, 8, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_init(&d, &a, &ok, -1, 8, 0), WS6455_OK);
    ws6455__buf out = {0};
    assert_int_equal(ws6455__deflater_write(&d, NULL, 1, WS6455__DEFLATE_END, &out),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_write(&d, NULL, 0, 3, &out), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflater_write(&d, NULL, 0, WS6455__DEFLATE_END, NULL),
                     WS6455_ERR_INVALID_ARGUMENT);
    ws6455__deflater_free(&d);
    ws6455__deflater_free(NULL);
    assert_int_equal(ws6455__inflater_init(&f, &a, &bad7, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__inflater_init(&f, &a, &bad16, 0), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__inflater_init(&f, &a, &ok, 0), WS6455_OK);
    collect c;
    collect_init(&c, 0);
    assert_int_equal(ws6455__inflater_write(&f, NULL, 1, 1, collect_sink, &c),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__inflater_write(&f, (const uint8_t *)"\x00", 1, 1, NULL, &c),
                     WS6455_ERR_INVALID_ARGUMENT);
    ws6455__inflater_free(&f);
    ws6455__inflater_free(NULL);
}

/* ------------------------------------------------------------ bombs */

/* 128 MiB of zeros, compressed by us at level 9: about 127 KiB. */
static uint8_t *make_bomb(size_t *n)
{
    ws6455_allocator a = libc_alloc();
    ws6455__deflater d;
    deflater_new(&d, &a, 15, 1, 9, 9);
    uint8_t *zeros = calloc(1, 1 << 20);
    assert_non_null(zeros);
    ws6455__buf out = {0};
    for (int i = 0; i < 128; i++)
        assert_int_equal(
            ws6455__deflater_write(&d, zeros, 1 << 20,
                                   i == 127 ? WS6455__DEFLATE_END : WS6455__DEFLATE_MORE, &out),
            WS6455_OK);
    free(zeros);
    ws6455__deflater_free(&d);
    uint8_t *p = malloc(out.len);
    assert_non_null(p);
    memcpy(p, buf_bytes(&out), out.len);
    *n = out.len;
    ws6455__buf_free(&out, &a);
    return p;
}

/* The most an inflater at 15 bits may hold: window, zlib's state and our
 * box (measured 7.1 KiB of state on zlib 1.2.13; 8 KiB allowed). */
#define INFLATE_BOUND(w) (((size_t)1 << (w)) + 8192)
#define DEFLATE_STATE_SLACK 8192

/* Feeds in[0..n) in pieces of `piece` bytes as one message; returns the
 * code and the compressed bytes taken before it came. */
static int feed_message(ws6455__inflater *f, const uint8_t *in, size_t n, size_t piece, collect *c,
                        size_t *fed)
{
    size_t off = 0;
    int rc = WS6455_OK;
    while (rc == WS6455_OK && off < n) {
        size_t k = n - off < piece ? n - off : piece;
        rc = ws6455__inflater_write(f, in + off, k, off + k == n, collect_sink, c);
        off += k;
    }
    *fed = off;
    return rc;
}

static void test_bomb_stops_at_the_limit_with_bounded_memory(void **state)
{
    (void)state;
    size_t bn;
    uint8_t *bomb = make_bomb(&bn);
    assert_true(bn < 160 * 1024);
    const size_t pieces[] = {SIZE_MAX, 1024, 7};
    const uint64_t limits[] = {(uint64_t)16 << 20, (uint64_t)1 << 20, 1};
    for (size_t li = 0; li < 3; li++) {
        for (size_t pi = 0; pi < 3; pi++) {
            fz_mem m;
            ws6455_allocator a;
            fz_mem_start(&m, &a, 0);
            ws6455__inflater f;
            inflater_new(&f, &a, 15, 1, limits[li]);
            collect c;
            collect_init(&c, 0);
            size_t fed;
            int rc = feed_message(&f, bomb, bn, pieces[pi], &c, &fed);
            assert_int_equal(rc, WS6455_ERR_MESSAGE_TOO_BIG);
            /* Everything up to the limit was delivered, nothing past it. */
            assert_int_equal(c.total, limits[li]);
            assert_int_equal(c.any_nonzero, 0);
            /* Stopped early: at most ~1/1000 of the limit's worth of input
             * past what the limit needs (DEFLATE cannot expand more than
             * 1032:1), plus one piece. */
            if (pieces[pi] != SIZE_MAX)
                assert_true(fed <= limits[li] / 1000 + 2 * pieces[pi] + 64);
            assert_true(m.peak <= INFLATE_BOUND(15));
            ws6455__inflater_free(&f);
            assert_int_equal(m.live, 0);
        }
    }
    /* No limit at all: all 128 MiB come out, 4 KiB at a time, in the same
     * memory. */
    fz_mem m;
    ws6455_allocator a;
    fz_mem_start(&m, &a, 0);
    ws6455__inflater f;
    inflater_new(&f, &a, 15, 1, 0);
    collect c;
    collect_init(&c, 0);
    size_t fed;
    assert_int_equal(feed_message(&f, bomb, bn, 4096, &c, &fed), WS6455_OK);
    assert_int_equal(c.total, (uint64_t)128 << 20);
    assert_int_equal(c.largest, WS6455__INFLATE_CHUNK);
    assert_true(m.peak <= INFLATE_BOUND(15));
    assert_int_equal(m.live, 0); /* no takeover: freed at the end */
    ws6455__inflater_free(&f);
    free(bomb);
}

/* A stream of nothing but empty final blocks (RFC 7692 lets each one be
 * followed by more) costs no memory beyond the state and no output. */
static void test_flood_of_final_blocks(void **state)
{
    (void)state;
    size_t n = (size_t)1 << 20;
    uint8_t *p = malloc(n + 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i += 2) {
        p[i] = 0x03;
        p[i + 1] = 0x00;
    }
    fz_mem m;
    ws6455_allocator a;
    fz_mem_start(&m, &a, 0);
    ws6455__inflater f;
    inflater_new(&f, &a, 15, 0, 1024);
    collect c;
    collect_init(&c, 0);
    size_t fed;
    assert_int_equal(feed_message(&f, p, n, 65536, &c, &fed), WS6455_OK);
    assert_int_equal(c.total, 0);
    assert_true(m.peak <= INFLATE_BOUND(15));
    assert_true(m.calls <= 4);
    ws6455__inflater_free(&f);
    free(p);
}

/* ------------------------------------------------------------ memory */

static const char *sample_text(size_t i)
{
    static const char *const words[] = {
        "{\"type\":\"message\",", "\"user\":\"alice\",",      "\"text\":\"hello there\",",
        "\"room\":42,",           "\"ts\":1700000000}",       "lorem ipsum dolor sit amet ",
        "the quick brown fox ",   "jumps over the lazy dog ", "0123456789 "};
    return words[i % (sizeof words / sizeof words[0])];
}

static uint8_t *make_text(tu_rng *r, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    size_t off = 0;
    while (off < n) {
        const char *w = sample_text((size_t)tu_rng_below(r, 1000));
        size_t k = strlen(w);
        if (k > n - off)
            k = n - off;
        memcpy(p + off, w, k);
        off += k;
    }
    return p;
}

static void test_memory_bound_of_every_setting(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 7);
    size_t n = 64 << 10;
    uint8_t *text = make_text(&r, n);
    static const int mems[] = {1, 4, 8, 9};
    for (int w = 8; w <= 15; w++) {
        for (size_t mi = 0; mi < 4; mi++) {
            for (int nct = 0; nct <= 1; nct++) {
                fz_mem m;
                ws6455_allocator a;
                fz_mem_start(&m, &a, 0);
                ws6455__deflater d;
                deflater_new(&d, &a, w, nct, -1, mems[mi]);
                assert_int_equal(m.calls, 0); /* nothing until the first message */
                ws6455__buf out = {0};
                assert_non_null(ws6455__buf_reserve(&out, &a, 2 * n));
                size_t base = m.live;
                m.peak = m.live;
                assert_int_equal(ws6455__deflater_write(&d, text, n, WS6455__DEFLATE_END, &out),
                                 WS6455_OK);
                int zw = w < 9 ? 9 : w;
                size_t bound =
                    ((size_t)4 << zw) + ((size_t)1 << (mems[mi] + 9)) + DEFLATE_STATE_SLACK;
                size_t used = m.peak - base;
                if (used > bound)
                    fail_msg("deflate w=%d m=%d: %zu > %zu", w, mems[mi], used, bound);
                /* The formula is tight: within the state's size of it. */
                assert_true(used + DEFLATE_STATE_SLACK >= bound);
                if (nct)
                    assert_int_equal(m.live, base); /* freed, not reset */
                else
                    assert_int_equal(m.live - base, used);

                /* The decompressor of the same direction. */
                fz_mem mi2;
                ws6455_allocator a2;
                fz_mem_start(&mi2, &a2, 0);
                ws6455__inflater f;
                inflater_new(&f, &a2, w, nct, 0);
                assert_int_equal(mi2.calls, 0);
                collect c;
                collect_init(&c, SIZE_MAX);
                assert_int_equal(
                    ws6455__inflater_write(&f, buf_bytes(&out), out.len, 1, collect_sink, &c),
                    WS6455_OK);
                assert_int_equal(c.len, n);
                assert_memory_equal(c.p, text, n);
                collect_free(&c);
                assert_true(mi2.peak <= INFLATE_BOUND(w));
                assert_true(mi2.peak + 8192 >= ((size_t)1 << w));
                assert_int_equal(mi2.live, nct ? 0 : mi2.peak);
                ws6455__inflater_free(&f);
                assert_int_equal(mi2.live, 0);
                ws6455__buf_free(&out, &a);
                ws6455__deflater_free(&d);
                assert_int_equal(m.live, 0);
            }
        }
    }
    free(text);
}

/* With context takeover, once the state exists and the output buffer has
 * grown, messages cost no allocation either way. */
static void test_warm_codec_does_not_allocate(void **state)
{
    (void)state;
    fz_mem m;
    ws6455_allocator a;
    fz_mem_start(&m, &a, 0);
    ws6455__deflater d;
    ws6455__inflater f;
    deflater_new(&d, &a, 15, 0, -1, 4);
    inflater_new(&f, &a, 15, 0, 0);
    ws6455__buf out = {0};
    tu_rng r;
    tu_rng_seed(&r, 11);
    uint8_t *text = make_text(&r, 4000);
    size_t warm_calls = 0;
    for (int i = 0; i < 20; i++) {
        size_t n = 100 + (size_t)tu_rng_below(&r, 3900);
        out.len = 0;
        assert_int_equal(ws6455__deflater_write(&d, text, n, WS6455__DEFLATE_END, &out), WS6455_OK);
        collect c;
        collect_init(&c, 0);
        assert_int_equal(ws6455__inflater_write(&f, buf_bytes(&out), out.len, 1, collect_sink, &c),
                         WS6455_OK);
        assert_int_equal(c.total, n);
        if (i == 0) {
            /* Grow the output buffer once to the largest message's size. */
            assert_non_null(ws6455__buf_reserve(&out, &a, 8192));
            warm_calls = m.calls;
        }
    }
    assert_int_equal(m.calls, warm_calls);
    ws6455__buf_free(&out, &a);
    ws6455__deflater_free(&d);
    ws6455__inflater_free(&f);
    assert_int_equal(m.live, 0);
    free(text);
}

/* ------------------------------------------------------------ allocation failure */

/* Three messages each way on one deflater/inflater pair that fails its
 * fail_at-th allocation: every call either works or reports NOMEM, the
 * error sticks, nothing leaks. Returns whether an allocation failed. */
static int run_with_failure(size_t fail_at, int nct)
{
    fz_mem m;
    ws6455_allocator a;
    fz_mem_start(&m, &a, fail_at);
    ws6455__deflater d;
    ws6455__inflater f;
    deflater_new(&d, &a, 12, nct, 6, 5);
    inflater_new(&f, &a, 12, nct, 0);
    ws6455__buf out = {0};
    int failed = 0;
    static const char *const msgs[] = {"Hello, Hello, Hello", "", "another message, Hello"};
    for (size_t i = 0; i < 3; i++) {
        out.len = 0;
        int rc = ws6455__deflater_write(&d, (const uint8_t *)msgs[i], strlen(msgs[i]),
                                        WS6455__DEFLATE_FLUSH, &out);
        if (rc == WS6455_OK)
            rc = ws6455__deflater_write(&d, NULL, 0, WS6455__DEFLATE_END, &out);
        if (rc != WS6455_OK) {
            assert_int_equal(rc, WS6455_ERR_NOMEM);
            assert_int_equal(ws6455__deflater_write(&d, NULL, 0, WS6455__DEFLATE_END, &out),
                             WS6455_ERR_NOMEM);
            failed = 1;
            break;
        }
        collect c;
        collect_init(&c, SIZE_MAX);
        rc = ws6455__inflater_write(&f, buf_bytes(&out), out.len, 1, collect_sink, &c);
        if (rc != WS6455_OK) {
            assert_int_equal(rc, WS6455_ERR_NOMEM);
            assert_int_equal(ws6455__inflater_write(&f, NULL, 0, 1, collect_sink, &c),
                             WS6455_ERR_NOMEM);
            collect_free(&c);
            failed = 1;
            break;
        }
        assert_int_equal(c.len, strlen(msgs[i]));
        collect_free(&c);
    }
    ws6455__buf_free(&out, &a);
    ws6455__deflater_free(&d);
    ws6455__inflater_free(&f);
    assert_int_equal(m.live, 0);
    assert_int_equal(m.failures, failed ? 1 : 0);
    return failed;
}

static void test_fail_every_allocation(void **state)
{
    (void)state;
    for (int nct = 0; nct <= 1; nct++) {
        size_t n = 1;
        while (run_with_failure(n, nct))
            n++;
        /* Every allocation of the run was failed once before it passed. */
        assert_true(n > 5);
    }
}

/* ------------------------------------------------------------ round trips */

static void fill_message(tu_rng *r, uint8_t *p, size_t n)
{
    switch (tu_rng_below(r, 4)) {
    case 0: /* random bytes: incompressible */
        tu_rng_fill(r, p, n);
        break;
    case 1: /* zeros */
        memset(p, 0, n);
        break;
    default: {
        uint8_t *t = make_text(r, n);
        memcpy(p, t, n);
        free(t);
    }
    }
}

static size_t random_size(tu_rng *r)
{
    switch (tu_rng_below(r, 8)) {
    case 0:
        return 0;
    case 1:
        return (size_t)tu_rng_below(r, 70000);
    default:
        return (size_t)tu_rng_below(r, 600);
    }
}

/* Compresses p[0..n) in random pieces with random flushes, taking the
 * output off the buffer after every call into `wire`. */
static void compress_in_pieces(tu_rng *r, ws6455__deflater *d, const uint8_t *p, size_t n,
                               ws6455__buf *out, ws6455__buf *wire, const ws6455_allocator *a)
{
    size_t off = 0;
    for (;;) {
        size_t k = n - off;
        if (k > 1 && tu_rng_below(r, 2))
            k = (size_t)tu_rng_below(r, k);
        int mode = off + k == n
                       ? WS6455__DEFLATE_END
                       : (tu_rng_below(r, 3) == 0 ? WS6455__DEFLATE_FLUSH : WS6455__DEFLATE_MORE);
        assert_int_equal(ws6455__deflater_write(d, p + off, k, mode, out), WS6455_OK);
        assert_int_equal(ws6455__buf_append(wire, a, buf_bytes(out), out->len), WS6455_OK);
        ws6455__buf_consume(out, out->len);
        off += k;
        if (mode == WS6455__DEFLATE_END)
            return;
    }
}

/* Inflates p[0..n) as one message in random pieces. */
static void inflate_in_pieces(tu_rng *r, ws6455__inflater *f, const uint8_t *p, size_t n,
                              collect *c)
{
    size_t off = 0;
    do {
        size_t k = n - off;
        if (k > 1 && tu_rng_below(r, 2))
            k = tu_rng_below(r, 4) == 0 ? 1 : (size_t)tu_rng_below(r, k);
        int rc = ws6455__inflater_write(f, p + off, k, off + k == n, collect_sink, c);
        if (rc != WS6455_OK)
            fail_msg("inflate: %s", ws6455_errname(rc));
        off += k;
    } while (off < n);
}

static void test_random_round_trips(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x7692);
    ws6455_allocator a = libc_alloc();
    /* (compressor resets, decompressor resets): the decompressor may keep a
     * window the compressor never uses, not the other way round. */
    static const int combos[3][2] = {{0, 0}, {1, 0}, {1, 1}};
    uint8_t *msg = malloc(70000);
    assert_non_null(msg);
    for (size_t ci = 0; ci < 3; ci++) {
        for (int round = 0; round < 12; round++) {
            int w = 8 + (int)tu_rng_below(&r, 8);
            ws6455__deflater d;
            ws6455__inflater f;
            deflater_new(&d, &a, w, combos[ci][0], (int)tu_rng_below(&r, 11) - 1,
                         1 + (int)tu_rng_below(&r, 9));
            inflater_new(&f, &a, w, combos[ci][1], 0);
            ws6455__buf out = {0}, wire = {0};
            for (int k = 0; k < 10; k++) {
                size_t n = random_size(&r);
                fill_message(&r, msg, n);
                wire.len = 0;
                compress_in_pieces(&r, &d, msg, n, &out, &wire, &a);
                collect c;
                collect_init(&c, SIZE_MAX);
                inflate_in_pieces(&r, &f, buf_bytes(&wire), wire.len, &c);
                assert_int_equal(c.len, n);
                if (n)
                    assert_memory_equal(c.p, msg, n);
                collect_free(&c);
            }
            ws6455__buf_free(&out, &a);
            ws6455__buf_free(&wire, &a);
            ws6455__deflater_free(&d);
            ws6455__inflater_free(&f);
        }
    }
    free(msg);
}

/* After a flush, everything given so far can be read back. */
static void test_flush_emits_everything_so_far(void **state)
{
    (void)state;
    ws6455_allocator a = libc_alloc();
    tu_rng r;
    tu_rng_seed(&r, 3);
    uint8_t *text = make_text(&r, 5000);
    ws6455__deflater d;
    ws6455__inflater f;
    deflater_new(&d, &a, 15, 0, 9, 9);
    inflater_new(&f, &a, 15, 0, 0);
    ws6455__buf out = {0};
    collect c;
    collect_init(&c, SIZE_MAX);
    for (size_t off = 0; off < 5000; off += 1000) {
        assert_int_equal(
            ws6455__deflater_write(&d, text + off, 1000,
                                   off + 1000 == 5000 ? WS6455__DEFLATE_END : WS6455__DEFLATE_FLUSH,
                                   &out),
            WS6455_OK);
        assert_int_equal(ws6455__inflater_write(&f, buf_bytes(&out), out.len, off + 1000 == 5000,
                                                collect_sink, &c),
                         WS6455_OK);
        ws6455__buf_consume(&out, out.len);
        assert_int_equal(c.len, off + 1000);
    }
    assert_memory_equal(c.p, text, 5000);
    collect_free(&c);
    ws6455__buf_free(&out, &a);
    ws6455__deflater_free(&d);
    ws6455__inflater_free(&f);
    free(text);
}

/* ------------------------------------------------------------ BFINAL senders */

/* A sender that flushes with final blocks (RFC 7692 7.2.3.4's "platforms
 * without the empty-block flush"): each piece of a message is its own zlib
 * stream ending in a final block, primed with the history as a dictionary
 * when context is taken over. Pieces may also end with Z_BLOCK, leaving the
 * next (final) block's header in the middle of a byte. After the last
 * piece comes the 00 of 7.2.3.4, or nothing. Raw zlib, not our code, so
 * the decompressor is checked against an independent sender. */
typedef struct bfinal_sender {
    z_stream zs;
    uint8_t hist[32768];
    size_t hist_len;
    int takeover;
} bfinal_sender;

static void hist_add(bfinal_sender *s, const uint8_t *p, size_t n)
{
    if (n >= sizeof s->hist) {
        memcpy(s->hist, p + n - sizeof s->hist, sizeof s->hist);
        s->hist_len = sizeof s->hist;
        return;
    }
    size_t keep = s->hist_len + n > sizeof s->hist ? sizeof s->hist - n : s->hist_len;
    memmove(s->hist, s->hist + s->hist_len - keep, keep);
    memcpy(s->hist + keep, p, n);
    s->hist_len = keep + n;
}

static void z_out(z_stream *zs, const uint8_t *in, size_t n, int flush, ws6455__buf *wire,
                  const ws6455_allocator *a)
{
    zs->next_in = in;
    zs->avail_in = (uInt)n;
    do {
        uint8_t *room = ws6455__buf_reserve(wire, a, 4096);
        assert_non_null(room);
        zs->next_out = room;
        zs->avail_out = 4096;
        int rc = deflate(zs, flush);
        assert_true(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
        wire->len += 4096 - zs->avail_out;
    } while (zs->avail_out == 0);
}

static void bfinal_message(tu_rng *r, bfinal_sender *s, const uint8_t *p, size_t n,
                           ws6455__buf *wire, const ws6455_allocator *a)
{
    if (!s->takeover)
        s->hist_len = 0;
    size_t off = 0;
    do {
        size_t k = n - off;
        if (k > 1 && tu_rng_below(r, 2))
            k = (size_t)tu_rng_below(r, k) + 1;
        assert_int_equal(deflateReset(&s->zs), Z_OK);
        if (s->hist_len)
            assert_int_equal(deflateSetDictionary(&s->zs, s->hist, (uInt)s->hist_len), Z_OK);
        size_t k1 = tu_rng_below(r, 2) ? k / 2 : 0;
        if (k1)
            z_out(&s->zs, p + off, k1, Z_BLOCK, wire, a); /* final header mid-byte next */
        z_out(&s->zs, p + off + k1, k - k1, Z_FINISH, wire, a);
        hist_add(s, p + off, k);
        off += k;
    } while (off < n);
    if (tu_rng_below(r, 2)) {
        static const uint8_t stored_header = 0x00;
        assert_int_equal(ws6455__buf_append(wire, a, &stored_header, 1), WS6455_OK);
    }
}

static void test_bfinal_senders_round_trip(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0xBF1);
    ws6455_allocator a = libc_alloc();
    uint8_t *msg = malloc(70000);
    assert_non_null(msg);
    bfinal_sender *s = calloc(1, sizeof *s);
    assert_non_null(s);
    for (int takeover = 0; takeover <= 1; takeover++) {
        for (int round = 0; round < 6; round++) {
            assert_int_equal(deflateInit2(&s->zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
            s->takeover = takeover;
            s->hist_len = 0;
            ws6455__inflater f;
            inflater_new(&f, &a, 15, !takeover, 0);
            ws6455__buf wire = {0};
            for (int k = 0; k < 12; k++) {
                size_t n = random_size(&r);
                if (n == 0)
                    n = 1; /* an empty zlib stream is not a message body */
                fill_message(&r, msg, n);
                wire.len = 0;
                bfinal_message(&r, s, msg, n, &wire, &a);
                collect c;
                collect_init(&c, SIZE_MAX);
                inflate_in_pieces(&r, &f, buf_bytes(&wire), wire.len, &c);
                assert_int_equal(c.len, n);
                assert_memory_equal(c.p, msg, n);
                collect_free(&c);
            }
            ws6455__buf_free(&wire, &a);
            ws6455__inflater_free(&f);
            deflateEnd(&s->zs);
        }
    }
    free(s);
    free(msg);
}

/* ------------------------------------------------------------ window bits 8 */

/* Text from a vocabulary of 60 random words: enough variety that a 1 KiB
 * window finds matches farther back than 256 bytes. */
static uint8_t *make_vocab_text(tu_rng *r, size_t n)
{
    char vocab[60][10];
    for (size_t i = 0; i < 60; i++) {
        size_t len = 3 + (size_t)tu_rng_below(r, 7);
        for (size_t j = 0; j < len; j++)
            vocab[i][j] = (char)('a' + tu_rng_below(r, 10));
        vocab[i][len] = '\0';
    }
    uint8_t *p = malloc(n);
    assert_non_null(p);
    size_t off = 0;
    while (off < n) {
        const char *w = vocab[tu_rng_below(r, 60)];
        size_t k = strlen(w) + 1;
        for (size_t j = 0; j < k && off < n; j++)
            p[off++] = (uint8_t)(j + 1 < k ? w[j] : ' ');
    }
    return p;
}

/* Inflates with zlib directly, holding nothing but its 256-byte window:
 * one output byte per call, so no match can reach back into a larger
 * output buffer (zlib checks distances against the data it still has). */
static int strict_inflate_8(const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *got)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, -8), Z_OK);
    static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
    int rc = Z_OK;
    size_t done = 0;
    for (int part = 0; part < 2 && (rc == Z_OK || rc == Z_BUF_ERROR); part++) {
        zs.next_in = part ? tail : p;
        zs.avail_in = part ? 4 : (uInt)n;
        do {
            zs.next_out = out + done;
            zs.avail_out = done < cap ? 1 : 0;
            rc = inflate(&zs, Z_SYNC_FLUSH);
            done += (done < cap ? 1 : 0) - zs.avail_out;
        } while (rc == Z_OK && done < cap && (zs.avail_in > 0 || zs.avail_out == 0));
    }
    *got = done;
    inflateEnd(&zs);
    return rc == Z_OK || rc == Z_BUF_ERROR ? 0 : -1;
}

/* Agreed window 8: we compress with zlib's 9, whose matches never reach
 * past 250 bytes, so a strict 256-byte inflater reads it. The same check
 * fails for a stream made with a 1 KiB window: it is not vacuous. */
static void test_window_bits_8(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 8);
    ws6455_allocator a = libc_alloc();
    size_t n = 32 << 10;
    uint8_t *text = make_vocab_text(&r, n);
    uint8_t *back = malloc(n);
    assert_non_null(back);
    for (int level = 1; level <= 9; level += 4) {
        ws6455__deflater d;
        deflater_new(&d, &a, 8, 1, level, 8);
        ws6455__buf out = {0};
        compress_msg(&d, text, n, &out);
        size_t got;
        assert_int_equal(strict_inflate_8(buf_bytes(&out), out.len, back, n, &got), 0);
        assert_int_equal(got, n);
        assert_memory_equal(back, text, n);
        /* And through our own inflater at 8. */
        ws6455__inflater f;
        inflater_new(&f, &a, 8, 1, 0);
        collect c;
        collect_init(&c, SIZE_MAX);
        assert_int_equal(ws6455__inflater_write(&f, buf_bytes(&out), out.len, 1, collect_sink, &c),
                         WS6455_OK);
        assert_int_equal(c.len, n);
        collect_free(&c);
        ws6455__inflater_free(&f);
        ws6455__buf_free(&out, &a);
        ws6455__deflater_free(&d);
    }
    /* Context takeover at 8: matches into the previous message too. */
    ws6455__deflater d;
    ws6455__inflater f;
    deflater_new(&d, &a, 8, 0, 9, 9);
    inflater_new(&f, &a, 8, 0, 0);
    ws6455__buf out = {0};
    for (size_t off = 0; off < n; off += 1000) {
        size_t k = n - off < 1000 ? n - off : 1000;
        compress_msg(&d, text + off, k, &out);
        collect c;
        collect_init(&c, SIZE_MAX);
        assert_int_equal(ws6455__inflater_write(&f, buf_bytes(&out), out.len, 1, collect_sink, &c),
                         WS6455_OK);
        assert_int_equal(c.len, k);
        assert_memory_equal(c.p, text + off, k);
        collect_free(&c);
    }
    ws6455__inflater_free(&f);
    ws6455__deflater_free(&d);
    /* Control: a 1 KiB window's stream breaks the strict inflater and ours. */
    deflater_new(&d, &a, 10, 1, 9, 8);
    compress_msg(&d, text, n, &out);
    size_t got;
    assert_int_equal(strict_inflate_8(buf_bytes(&out), out.len, back, n, &got), -1);
    inflater_new(&f, &a, 8, 1, 0);
    collect c;
    collect_init(&c, 0);
    assert_int_equal(ws6455__inflater_write(&f, buf_bytes(&out), out.len, 1, collect_sink, &c),
                     WS6455__ERR_DEFLATE_DATA);
    ws6455__inflater_free(&f);
    ws6455__deflater_free(&d);
    ws6455__buf_free(&out, &a);
    free(back);
    free(text);
}

/* ------------------------------------------------------------ shared compressor */

static void test_shared_compressor(void **state)
{
    (void)state;
    fz_mem m;
    ws6455_allocator a;
    fz_mem_start(&m, &a, 0);
    ws6455__deflater shared;
    ws6455__deflate_dir dir = {15, 1};
    assert_int_equal(ws6455__deflater_init(&shared, &a, &dir, -1, 8, WS6455__DEFLATER_SHARED),
                     WS6455_OK);
    ws6455_allocator plain = libc_alloc();
    ws6455__buf out = {0};
    assert_non_null(ws6455__buf_reserve(&out, &plain, 1024));
    /* Messages of two connections, alternating: each compresses as if
     * alone, and the state stays allocated (reset, not freed). */
    size_t live_after_first = 0;
    for (int i = 0; i < 6; i++) {
        out.len = 0;
        assert_int_equal(
            ws6455__deflater_write(&shared, (const uint8_t *)"Hello", 5, WS6455__DEFLATE_END, &out),
            WS6455_OK);
        assert_bytes(buf_bytes(&out), out.len, "f2 48 cd c9 c9 07 00");
        if (i == 0)
            live_after_first = m.live;
        assert_true(m.live > 200000);
        assert_int_equal(m.live, live_after_first);
    }
    size_t calls = m.calls;
    out.len = 0;
    assert_int_equal(
        ws6455__deflater_write(&shared, (const uint8_t *)"Hello", 5, WS6455__DEFLATE_END, &out),
        WS6455_OK);
    assert_int_equal(m.calls, calls); /* warm: no allocation per message */
    ws6455__deflater_free(&shared);
    assert_int_equal(m.live, 0);
    ws6455__buf_free(&out, &plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_7_2_3_1_one_block),
        cmocka_unit_test(test_rfc_7_2_3_2_sharing_the_window),
        cmocka_unit_test(test_rfc_7_2_3_3_stored_block),
        cmocka_unit_test(test_rfc_7_2_3_4_bfinal),
        cmocka_unit_test(test_rfc_7_2_3_5_two_blocks),
        cmocka_unit_test(test_rfc_7_2_3_6_empty),
        cmocka_unit_test(test_invalid_data_is_a_distinct_sticky_error),
        cmocka_unit_test(test_sink_error_stops_and_sticks),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_bomb_stops_at_the_limit_with_bounded_memory),
        cmocka_unit_test(test_flood_of_final_blocks),
        cmocka_unit_test(test_memory_bound_of_every_setting),
        cmocka_unit_test(test_warm_codec_does_not_allocate),
        cmocka_unit_test(test_fail_every_allocation),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_flush_emits_everything_so_far),
        cmocka_unit_test(test_bfinal_senders_round_trip),
        cmocka_unit_test(test_window_bits_8),
        cmocka_unit_test(test_shared_compressor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
