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
 * ------------------------------------------------------------------ */

/* Restart work allowed per compressed input byte (see deflate.h). */
#define RESTART_WORK_PER_BYTE 1024u

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
    f->ended = 0;
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
    f->ended = 0;
    return WS6455_OK;
}

/* The stream ended with a BFINAL block and more of the peer's blocks
 * follow: start a new stream that remembers the old window (7.2.1: the
 * next block follows the padded data). zlib has no "continue after the
 * final block", so the window is carried over as a dictionary. */
static int inflater_restart(ws6455__inflater *f)
{
    z_stream *zs = zs_of(f->zs);
    uInt have = 0;
    if (inflateGetDictionary(zs, Z_NULL, &have) != Z_OK)
        return WS6455_ERR_INVALID_STATE;
    uint64_t budget = ((uint64_t)1 << f->window_bits) + f->in * RESTART_WORK_PER_BYTE;
    f->restart_work += have;
    if (f->restart_work > budget)
        return WS6455_ERR_MESSAGE_TOO_BIG;
    uint8_t *window = NULL;
    if (have) {
        window = ws6455__alloc(f->a, have);
        if (!window)
            return WS6455_ERR_NOMEM;
        inflateGetDictionary(zs, window, &have);
    }
    int rc = inflateReset(zs);
    if (rc == Z_OK && have)
        rc = inflateSetDictionary(zs, window, have);
    ws6455__free(f->a, window);
    if (rc != Z_OK)
        return rc == Z_MEM_ERROR ? WS6455_ERR_NOMEM : WS6455_ERR_INVALID_STATE;
    f->ended = 0;
    return WS6455_OK;
}

/* Inflates in[0..n) (n <= SLICE). `tail`: these are our 00 00 ff ff, which
 * are simply dropped once the stream has ended. */
static int inflate_run(ws6455__inflater *f, const uint8_t *in, size_t n, int tail,
                       ws6455__inflate_sink sink, void *user)
{
    z_stream *zs = zs_of(f->zs);
    uint8_t chunk[WS6455__INFLATE_CHUNK];
    zs->next_in = in;
    zs->avail_in = (uInt)n;
    for (;;) {
        if (f->ended) {
            if (zs->avail_in == 0 || tail)
                return WS6455_OK;
            int rc = inflater_restart(f);
            if (rc < 0)
                return rc;
        }
        /* Room for at most one byte past the limit: enough to see it
         * crossed, never more than a chunk of work. */
        uint64_t room = f->limit - f->out;
        size_t cap = room < sizeof chunk ? (size_t)room + 1 : sizeof chunk;
        zs->next_out = chunk;
        zs->avail_out = (uInt)cap;
        int rc = inflate(zs, Z_SYNC_FLUSH);
        size_t got = cap - zs->avail_out;
        if (rc == Z_STREAM_END)
            f->ended = 1;
        else if (rc == Z_MEM_ERROR)
            return WS6455_ERR_NOMEM;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return WS6455__ERR_DEFLATE_DATA; /* Z_DATA_ERROR, Z_NEED_DICT */
        if (got > room)
            return WS6455_ERR_MESSAGE_TOO_BIG;
        if (got) {
            f->out += got;
            int src = sink(user, chunk, got);
            if (src < 0)
                return src;
        }
        /* Done with this input when zlib took it all and left output room
         * (so it holds nothing back). Z_BUF_ERROR with input left cannot
         * happen: zlib always progresses on input and output room. */
        if (!f->ended && zs->avail_in == 0 && zs->avail_out != 0)
            return WS6455_OK;
        if (rc == Z_BUF_ERROR && got == 0 && !f->ended)
            return WS6455__ERR_DEFLATE_DATA;
    }
}

/* zlib's data_type after inflate(): bits left in its bit buffer (low 6),
 * +64 inside the last block, +128 at a block boundary (zlib.h, inflate). */
static int at_clean_block_boundary(const z_stream *zs)
{
    return (zs->data_type & 128) && (zs->data_type & 63) == 0;
}

static int inflater_end_message(ws6455__inflater *f, ws6455__inflate_sink sink, void *user)
{
    int rc = WS6455_OK;
    if (f->in == 0) {
        /* An empty payload: no valid DEFLATE data, but unambiguous (an
         * empty message); the window is left untouched. */
    } else {
        rc = inflate_run(f, sync_tail, sizeof sync_tail, 1, sink, user);
        if (rc == WS6455_OK && !f->ended &&
            (zs_of(f->zs)->avail_in != 0 || !at_clean_block_boundary(zs_of(f->zs))))
            rc = WS6455__ERR_DEFLATE_DATA; /* the message ends inside a block */
    }
    if (rc < 0)
        return rc;
    f->out = 0;
    f->in = 0;
    f->restart_work = 0;
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
