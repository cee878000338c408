/* permessage-deflate codec (RFC 7692 section 7.2) over zlib: one compressor
 * and one decompressor per direction, lazily allocated through the
 * library's allocator hooks, bounded in memory and in work per input byte.
 * Built only with make WITH_ZLIB=1. See src/deflate.h for the contract. */
#define ZLIB_CONST
#include "deflate.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

/* zlib counts in uInt: larger inputs are fed in slices of this size. */
#define SLICE ((size_t)1 << 30)
/* Compressed output is requested from the buffer in steps of at most this. */
#define OUT_STEP ((size_t)64 << 10)

static const uint8_t sync_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* ------------------------------------------------------------------ *
 * zlib's memory through the allocator hooks                            *
 * ------------------------------------------------------------------ */

/* The z_stream lives in a heap block with the allocator it came from, so
 * zlib's hooks find the allocator through `opaque` and the codec structs
 * that point to the block can be moved freely. */
typedef struct zbox {
    z_stream zs;
    const ws6455_allocator *a;
} zbox;

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    const zbox *box = opaque;
    if (size && items > SIZE_MAX / size)
        return Z_NULL;
    return ws6455__alloc(box->a, (size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    const zbox *box = opaque;
    ws6455__free(box->a, p);
}

static zbox *box_new(const ws6455_allocator *a)
{
    zbox *box = ws6455__alloc(a, sizeof *box);
    if (!box)
        return NULL;
    memset(box, 0, sizeof *box);
    box->a = a;
    box->zs.zalloc = z_alloc;
    box->zs.zfree = z_free;
    box->zs.opaque = box;
    return box;
}

static z_stream *zs_of(void *box)
{
    return &((zbox *)box)->zs;
}

/* ------------------------------------------------------------------ *
 * Compressor                                                           *
 * ------------------------------------------------------------------ */

int ws6455__deflater_init(ws6455__deflater *d, const ws6455_allocator *a,
                          const ws6455__deflate_dir *dir, int level, int mem_level, unsigned flags)
{
    if (!d || !a || !dir || dir->window_bits < 8 || dir->window_bits > 15 || level < -1 ||
        level > 9 || mem_level < 1 || mem_level > 9 || (flags & ~WS6455__DEFLATER_SHARED) ||
        ((flags & WS6455__DEFLATER_SHARED) && !dir->no_context_takeover))
        return WS6455_ERR_INVALID_ARGUMENT;
    memset(d, 0, sizeof *d);
    d->a = a;
    d->window_bits = dir->window_bits;
    d->no_context_takeover = (uint8_t)(dir->no_context_takeover != 0);
    d->mem_level = (uint8_t)mem_level;
    d->level = (int8_t)level;
    d->shared = (uint8_t)((flags & WS6455__DEFLATER_SHARED) != 0);
    return WS6455_OK;
}

static void deflater_drop_state(ws6455__deflater *d)
{
    if (d->zs) {
        deflateEnd(zs_of(d->zs));
        ws6455__free(d->a, d->zs);
        d->zs = NULL;
    }
}

void ws6455__deflater_free(ws6455__deflater *d)
{
    if (d)
        deflater_drop_state(d);
}

static int deflater_start(ws6455__deflater *d)
{
    zbox *box = box_new(d->a);
    if (!box)
        return WS6455_ERR_NOMEM;
    z_stream *zs = &box->zs;
    /* Raw DEFLATE. A window of 8 is compressed with 9, whose matches reach
     * at most 250 bytes back (see deflate.h). */
    int wbits = d->window_bits < 9 ? 9 : d->window_bits;
    int rc = deflateInit2(zs, d->level, Z_DEFLATED, -wbits, d->mem_level, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        ws6455__free(d->a, box);
        return rc == Z_MEM_ERROR ? WS6455_ERR_NOMEM : WS6455_ERR_INVALID_ARGUMENT;
    }
    d->zs = box;
    return WS6455_OK;
}

/* Runs deflate over in[0..n) with `flush`, appending to *out until zlib has
 * nothing more to give. Returns the bytes appended through *produced. */
static int deflate_run(ws6455__deflater *d, const uint8_t *in, size_t n, int flush,
                       ws6455__buf *out, size_t *produced)
{
    z_stream *zs = zs_of(d->zs);
    *produced = 0;
    for (;;) {
        size_t slice = n < SLICE ? n : SLICE;
        int last_slice = slice == n;
        zs->next_in = in;
        zs->avail_in = (uInt)slice;
        int f = last_slice ? flush : Z_NO_FLUSH;
        do {
            size_t want = zs->avail_in + zs->avail_in / 8 + 64;
            if (want > OUT_STEP)
                want = OUT_STEP;
            uint8_t *room = ws6455__buf_reserve(out, d->a, want);
            if (!room)
                return WS6455_ERR_NOMEM;
            zs->next_out = room;
            zs->avail_out = (uInt)want;
            int rc = deflate(zs, f);
            /* Z_BUF_ERROR: nothing to do (a flush right after a flush). */
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                return rc == Z_MEM_ERROR ? WS6455_ERR_NOMEM : WS6455_ERR_INVALID_STATE;
            size_t got = want - zs->avail_out;
            out->len += got;
            *produced += got;
        } while (zs->avail_out == 0);
        /* Output room was left over, so zlib took all of this slice. */
        in += slice;
        n -= slice;
        if (last_slice)
            return WS6455_OK;
    }
}

/* After the last byte of a message: forget the window when there is no
 * context takeover, freeing the state unless the compressor is shared. */
static void deflater_end_message(ws6455__deflater *d)
{
    d->pending = 0;
    if (!d->no_context_takeover || !d->zs)
        return;
    if (d->shared)
        deflateReset(zs_of(d->zs));
    else
        deflater_drop_state(d);
}

int ws6455__deflater_write(ws6455__deflater *d, const uint8_t *in, size_t n, int mode,
                           ws6455__buf *out)
{
    if (!d || !out || (!in && n) ||
        (mode != WS6455__DEFLATE_MORE && mode != WS6455__DEFLATE_FLUSH &&
         mode != WS6455__DEFLATE_END))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (d->err)
        return d->err;
    int rc = WS6455_OK;
    size_t produced = 0;
    if (n > 0 || (mode != WS6455__DEFLATE_MORE && d->pending)) {
        if (!d->zs)
            rc = deflater_start(d);
        if (rc == WS6455_OK)
            rc = deflate_run(d, in, n, mode == WS6455__DEFLATE_MORE ? Z_NO_FLUSH : Z_SYNC_FLUSH,
                             out, &produced);
        if (rc < 0) {
            d->err = rc;
            return rc;
        }
        d->pending = mode == WS6455__DEFLATE_MORE;
    }
    if (mode == WS6455__DEFLATE_FLUSH)
        return WS6455_OK;
    if (mode == WS6455__DEFLATE_END) {
        if (produced > 0) {
            /* A sync flush always ends with an empty stored block, whose
             * LEN/NLEN 7.2.1 strips; its header bits stay in the byte
             * before. */
            if (produced < 5 ||
                memcmp(out->data + out->off + out->len - 4, sync_tail, sizeof sync_tail) != 0) {
                d->err = WS6455_ERR_INVALID_STATE;
                return d->err;
            }
            out->len -= 4;
        } else {
            /* Nothing since the last sync point (or an empty message): the
             * data already ends byte-aligned, so the empty stored block of
             * 7.2.1 step 2 leaves only its header byte (7.2.3.6). */
            static const uint8_t empty_block = 0x00;
            rc = ws6455__buf_append(out, d->a, &empty_block, 1);
            if (rc < 0) {
                d->err = rc;
                return rc;
            }
        }
        deflater_end_message(d);
    }
    return WS6455_OK;
}

/* ------------------------------------------------------------------ *
 * Decompressor                                                         *
 * ------------------------------------------------------------------ *
 *
 * BFINAL. In RFC 7692 a block with BFINAL set ends no message and no
 * stream: "The next DEFLATE block follows the padded data if any" (7.2.1;
 * 7.2.3.4 shows a sender that flushes that way). zlib, though, stops for
 * good after a final block. So zlib never sees one: inflate runs with
 * Z_BLOCK, which returns at every block boundary before the next header is
 * read; there we look at that header's first bit (still in our input, or
 * among the < 8 bits left over from the last byte zlib took), and when it
 * is set we hand zlib the same bits with it cleared (inflatePrime). When
 * that block ends we drop its padding bits, as the final block's padding
 * would have been. The window carries on untouched, at no cost per block,
 * so a flood of empty final blocks costs no more than any other input. */

int ws6455__inflater_init(ws6455__inflater *f, const ws6455_allocator *a,
                          const ws6455__deflate_dir *dir, uint64_t max_message_size)
{
    if (!f || !a || !dir || dir->window_bits < 8 || dir->window_bits > 15)
        return WS6455_ERR_INVALID_ARGUMENT;
    memset(f, 0, sizeof *f);
    f->a = a;
    f->window_bits = dir->window_bits;
    f->no_context_takeover = (uint8_t)(dir->no_context_takeover != 0);
    f->limit = max_message_size ? max_message_size : UINT64_MAX;
    return WS6455_OK;
}

static void inflater_drop_state(ws6455__inflater *f)
{
    if (f->zs) {
        inflateEnd(zs_of(f->zs));
        ws6455__free(f->a, f->zs);
        f->zs = NULL;
    }
}

void ws6455__inflater_free(ws6455__inflater *f)
{
    if (f)
        inflater_drop_state(f);
}

static int inflater_start(ws6455__inflater *f)
{
    zbox *box = box_new(f->a);
    if (!box)
        return WS6455_ERR_NOMEM;
    int rc = inflateInit2(&box->zs, -(int)f->window_bits);
    if (rc != Z_OK) {
        ws6455__free(f->a, box);
        return rc == Z_MEM_ERROR ? WS6455_ERR_NOMEM : WS6455_ERR_INVALID_ARGUMENT;
    }
    f->zs = box;
    /* A raw stream starts with a block header. */
    f->at_boundary = 1;
    f->bits_left = 0;
    f->final_open = 0;
    f->after_final = 0;
    return WS6455_OK;
}

/* At a block boundary, before zlib reads the next header: clears the
 * header's BFINAL bit when set. Returns 0 when the bit is not here yet
 * (no leftover bits, no input), 1 when zlib may go on. */
static int inflater_header(ws6455__inflater *f, z_stream *zs)
{
    unsigned k = f->bits_left;
    unsigned bfinal;
    if (k)
        bfinal = (unsigned)(f->last_byte >> (8 - k)) & 1u;
    else if (zs->avail_in)
        bfinal = zs->next_in[0] & 1u;
    else
        return 0;
    /* The rewritten bits need no record: a block takes at least 10 bits,
     * so the next boundary comes after zlib took another byte. */
    if (bfinal) {
        if (k) {
            /* zlib holds the top k bits of the last byte it took. */
            unsigned v = ((unsigned)f->last_byte >> (8 - k)) & ~1u;
            inflatePrime(zs, -1, 0);
            inflatePrime(zs, (int)k, (int)v);
        } else {
            inflatePrime(zs, 8, (int)(zs->next_in[0] & ~1u));
            zs->next_in++;
            zs->avail_in--;
        }
        f->final_open = 1;
    }
    f->at_boundary = 0;
    f->after_final = 0;
    return 1;
}

/* After inflate() returned: notes a block boundary, and drops the padding
 * after a block the peer marked final. */
static int inflater_after(ws6455__inflater *f, z_stream *zs, const uint8_t *before)
{
    if (zs->next_in != before)
        f->last_byte = zs->next_in[-1];
    if (!(zs->data_type & 128))
        return WS6455_OK;
    unsigned k = (unsigned)zs->data_type & 63u;
    if (k > 7)
        return WS6455_ERR_INVALID_STATE; /* zlib.h: bits of the last byte only */
    f->at_boundary = 1;
    f->bits_left = (uint8_t)k;
    if (f->final_open) {
        inflatePrime(zs, -1, 0);
        f->bits_left = 0;
        f->final_open = 0;
        f->after_final = 1;
    }
    return WS6455_OK;
}

/* Inflates in[0..n) (n <= SLICE). `tail`: these are our 00 00 ff ff, of
 * which nothing is read once the peer's data ended with a final block. */
static int inflate_run(ws6455__inflater *f, const uint8_t *in, size_t n, int tail,
                       ws6455__inflate_sink sink, void *user)
{
    z_stream *zs = zs_of(f->zs);
    uint8_t chunk[WS6455__INFLATE_CHUNK];
    zs->next_in = in;
    zs->avail_in = (uInt)n;
    for (;;) {
        if (f->at_boundary) {
            if (tail && f->after_final)
                return WS6455_OK;
            if (!inflater_header(f, zs))
                return WS6455_OK; /* all input taken, at a boundary */
        }
        /* Room for at most one byte past the limit: enough to see it
         * crossed, never more than a chunk of work. */
        uint64_t room = f->limit - f->out;
        size_t cap = room < sizeof chunk ? (size_t)room + 1 : sizeof chunk;
        const uint8_t *before = zs->next_in;
        zs->next_out = chunk;
        zs->avail_out = (uInt)cap;
        int rc = inflate(zs, Z_BLOCK);
        size_t got = cap - zs->avail_out;
        if (rc == Z_MEM_ERROR)
            return WS6455_ERR_NOMEM;
        if (rc == Z_DATA_ERROR)
            return WS6455__ERR_DEFLATE_DATA;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return WS6455_ERR_INVALID_STATE; /* Z_STREAM_END cannot happen: no final blocks */
        /* Our 00 00 ff ff close an empty stored block; data read out of
         * them means the peer's message was cut short. */
        if (got && tail)
            return WS6455__ERR_DEFLATE_DATA;
        int over = got > room;
        if (over)
            got = (size_t)room; /* deliver up to the limit, nothing past it */
        if (got) {
            f->out += got;
            int src = sink(user, chunk, got);
            if (src < 0)
                return src;
        }
        if (over)
            return WS6455_ERR_MESSAGE_TOO_BIG;
        int arc = inflater_after(f, zs, before);
        if (arc < 0)
            return arc;
        /* Done with this input when zlib took it all and left output room
         * (so it holds nothing back); a boundary is handled above first. */
        if (!f->at_boundary && zs->avail_in == 0 && zs->avail_out != 0)
            return WS6455_OK;
        if (rc == Z_BUF_ERROR && got == 0 && zs->next_in == before && !f->at_boundary)
            return WS6455_ERR_INVALID_STATE; /* no progress possible: never loop */
    }
}

static int inflater_end_message(ws6455__inflater *f, ws6455__inflate_sink sink, void *user)
{
    int rc = WS6455_OK;
    if (f->in == 0) {
        /* An empty payload: not DEFLATE data, but unambiguous (an empty
         * message); the window is left untouched. */
    } else {
        rc = inflate_run(f, sync_tail, sizeof sync_tail, 1, sink, user);
        /* Complete when the data ended with the peer's final block, or
         * when the tail closed the last block on a byte boundary. */
        if (rc == WS6455_OK && !(f->at_boundary && f->after_final) &&
            !(f->at_boundary && f->bits_left == 0 && zs_of(f->zs)->avail_in == 0))
            rc = WS6455__ERR_DEFLATE_DATA; /* the message ends inside a block */
    }
    if (rc < 0)
        return rc;
    f->out = 0;
    f->in = 0;
    if (f->no_context_takeover)
        inflater_drop_state(f);
    return WS6455_OK;
}

int ws6455__inflater_write(ws6455__inflater *f, const uint8_t *in, size_t n, int fin,
                           ws6455__inflate_sink sink, void *user)
{
    if (!f || !sink || (!in && n))
        return WS6455_ERR_INVALID_ARGUMENT;
    if (f->err)
        return f->err;
    int rc = WS6455_OK;
    if (n > 0 && !f->zs)
        rc = inflater_start(f);
    while (rc == WS6455_OK && n > 0) {
        size_t slice = n < SLICE ? n : SLICE;
        f->in += slice;
        rc = inflate_run(f, in, slice, 0, sink, user);
        in += slice;
        n -= slice;
    }
    if (rc == WS6455_OK && fin)
        rc = inflater_end_message(f, sink, user);
    if (rc < 0)
        f->err = rc;
    return rc;
}
