/* The permessage-deflate codec (make WITH_ZLIB=1), two ways:
 *  - inflate: the data is compressed messages from a hostile peer, fed in
 *    fuzz-chosen pieces under a fuzz-chosen limit: every outcome is a
 *    defined code, output never passes the limit nor comes in pieces over
 *    WS6455__INFLATE_CHUNK, errors stick, memory stays within the window's
 *    bound, nothing leaks (also when an allocation fails);
 *  - round trip: the data is plaintext messages, compressed by our
 *    compressor with fuzz-chosen settings, pieces and flushes, then
 *    inflated in other pieces: the same bytes must come back.
 * Input: byte 0 = bits 0-2 window bits - 8, bit 3 no context takeover,
 * bit 4 round trip, bits 5-7 limit (none, 1, 100, 4 KiB, 64 KiB, 1 MiB, 7,
 * 300); byte 1 = allocation to fail (0: none); byte 2 = bits 0-3 level
 * (10 or more: -1), bits 4-7 memLevel (0 is 1, over 9 is 9); byte 3 =
 * piece count; one byte per piece: bits 0-6 length - 1, bit 7 "the message
 * ends after this piece" (round trip: bit 6 flushes); then the data. */
#include "fuzz.h"

#include "deflate.h"

static const uint64_t limits[8] = {0, 1, 100, 4096, 65536, 1 << 20, 7, 300};

typedef struct out_state {
    uint64_t limit, msg_total;
    uint8_t *keep; /* round trip: where the inflated bytes go */
    size_t keep_len, keep_cap;
} out_state;

static int sink(void *user, const uint8_t *p, size_t n)
{
    out_state *o = user;
    FZ_CHECK(n > 0 && n <= WS6455__INFLATE_CHUNK);
    o->msg_total += n;
    FZ_CHECK(o->limit == 0 || o->msg_total <= o->limit);
    if (o->keep) {
        FZ_CHECK(o->keep_len + n <= o->keep_cap);
        memcpy(o->keep + o->keep_len, p, n);
        o->keep_len += n;
    }
    return WS6455_OK;
}

/* The next piece: its length (at most what is left) and whether the
 * message ends after it (always at the end of the data). */
static size_t next_piece(const uint8_t *lens, size_t nl, size_t i, size_t left, int *fin,
                         int *flush)
{
    uint8_t b = nl ? lens[i % nl] : 0x80;
    size_t k = nl ? (size_t)(b & 0x7f) + 1 : left;
    if (k >= left) {
        k = left;
        *fin = 1;
    } else {
        *fin = (b & 0x80) != 0;
    }
    *flush = (b & 0x40) != 0;
    return k;
}

static void run_inflate(const ws6455_allocator *a, fz_mem *m, int bits, int nct, uint64_t limit,
                        const uint8_t *lens, size_t nl, const uint8_t *p, size_t n)
{
    ws6455__inflater f;
    ws6455__deflate_dir dir = {(uint8_t)bits, (uint8_t)nct};
    FZ_CHECK(ws6455__inflater_init(&f, a, &dir, limit) == WS6455_OK);
    out_state o = {limit, 0, NULL, 0, 0};
    size_t off = 0, i = 0;
    int err = 0;
    while (off < n && !err) {
        int fin, flush;
        size_t k = next_piece(lens, nl, i++, n - off, &fin, &flush);
        /* An exact-size copy: reading past a piece trips ASan. */
        uint8_t *piece = malloc(k);
        FZ_CHECK(piece != NULL);
        memcpy(piece, p + off, k);
        int rc = ws6455__inflater_write(&f, piece, k, fin, sink, &o);
        free(piece);
        off += k;
        if (rc != WS6455_OK) {
            FZ_CHECK(rc == WS6455__ERR_DEFLATE_DATA || rc == WS6455_ERR_MESSAGE_TOO_BIG ||
                     rc == WS6455_ERR_NOMEM);
            FZ_CHECK(rc != WS6455_ERR_NOMEM || m->failures > 0);
            FZ_CHECK(rc != WS6455_ERR_MESSAGE_TOO_BIG || (limit && o.msg_total == limit));
            FZ_CHECK(ws6455__inflater_write(&f, NULL, 0, 1, sink, &o) == rc); /* sticky */
            err = 1;
        }
        if (fin)
            o.msg_total = 0;
        /* Never more than the window and zlib's state. */
        FZ_CHECK(m->peak <= ((size_t)1 << bits) + 8192);
    }
    ws6455__inflater_free(&f);
}

static void run_round_trip(const ws6455_allocator *a, fz_mem *m, int bits, int nct, int level,
                           int mem, const uint8_t *lens, size_t nl, const uint8_t *p, size_t n)
{
    ws6455__deflater d;
    ws6455__inflater f;
    ws6455__deflate_dir dir = {(uint8_t)bits, (uint8_t)nct};
    FZ_CHECK(ws6455__deflater_init(&d, a, &dir, level, mem, 0) == WS6455_OK);
    FZ_CHECK(ws6455__inflater_init(&f, a, &dir, 0) == WS6455_OK);
    ws6455__buf out = {0};
    out_state o = {0, 0, malloc(n ? n : 1), 0, n};
    FZ_CHECK(o.keep != NULL);
    size_t off = 0, i = 0, msg_start = 0;
    while (off < n || (n == 0 && i == 0)) {
        int fin, flush;
        size_t k = next_piece(lens, nl, i++, n - off, &fin, &flush);
        int mode =
            fin ? WS6455__DEFLATE_END : (flush ? WS6455__DEFLATE_FLUSH : WS6455__DEFLATE_MORE);
        int rc = ws6455__deflater_write(&d, p + off, k, mode, &out);
        if (rc != WS6455_OK) {
            FZ_CHECK(rc == WS6455_ERR_NOMEM && m->failures > 0);
            break;
        }
        off += k;
        /* Inflate what this piece produced, in two pieces of its own. */
        size_t half = out.len / 2;
        rc = ws6455__inflater_write(&f, out.data + out.off, half, 0, sink, &o);
        if (rc == WS6455_OK)
            rc = ws6455__inflater_write(&f, out.data + out.off + half, out.len - half, fin, sink,
                                        &o);
        ws6455__buf_consume(&out, out.len);
        if (rc != WS6455_OK) {
            FZ_CHECK(rc == WS6455_ERR_NOMEM && m->failures > 0);
            break;
        }
        if (fin) {
            FZ_CHECK(o.keep_len == off &&
                     memcmp(o.keep + msg_start, p + msg_start, off - msg_start) == 0);
            msg_start = off;
        }
        if (n == 0)
            break;
    }
    free(o.keep);
    ws6455__buf_free(&out, a);
    ws6455__deflater_free(&d);
    ws6455__inflater_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in), fail = fz_u8(&in), b2 = fz_u8(&in), npieces = fz_u8(&in);
    int bits = 8 + (b0 & 7), nct = (b0 >> 3) & 1, round_trip = (b0 >> 4) & 1;
    uint64_t limit = limits[b0 >> 5];
    int level = (b2 & 15) >= 10 ? -1 : (b2 & 15);
    int mem = b2 >> 4;
    mem = mem < 1 ? 1 : mem > 9 ? 9 : mem;
    const uint8_t *lens;
    size_t nl = fz_take(&in, npieces, &lens);

    fz_mem m;
    ws6455_allocator a;
    fz_mem_start(&m, &a, fail);
    if (round_trip)
        run_round_trip(&a, &m, bits, nct, level, mem, lens, nl, in.p, in.n);
    else
        run_inflate(&a, &m, bits, nct, limit, lens, nl, in.p, in.n);
    FZ_CHECK(m.live == 0 && m.live_blocks == 0);
    return 0;
}
