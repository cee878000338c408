/* Frame codec (RFC 6455 section 5.2): header decoding, header encoding and
 * payload masking. Pure functions over caller memory; no allocation.
 *
 * Header layout, for reference:
 *   byte 0      FIN(0x80) RSV1(0x40) RSV2(0x20) RSV3(0x10) opcode(0x0F)
 *   byte 1      MASK(0x80) 7-bit length (0..125, 126 = 16-bit follows,
 *               127 = 64-bit follows)
 *   2 or 8      extended length, network byte order (big-endian)
 *   4           masking key, when MASK is set
 *
 * Order in which the decoder checks the rules. A header can break several
 * rules at once; the decoder must report the same one however the input is
 * split, and must report it as soon as the byte proving it has arrived. So
 * the rules are checked in byte order (bytes numbered from 0), and within
 * one byte from the most significant bit down:
 *   byte 0: RSV bits not allowed        -> WS6455_ERR_RSV_BITS
 *           reserved opcode (3-7, 11-15) -> WS6455_ERR_BAD_OPCODE
 *           control opcode without FIN   -> WS6455_ERR_CONTROL_FRAGMENTED
 *           (needs the opcode to be known valid, hence after BAD_OPCODE,
 *           although FIN is the higher bit)
 *   byte 1: MASK bit wrong for the role  -> WS6455_ERR_MASK_REQUIRED /
 *                                           WS6455_ERR_MASK_FORBIDDEN
 *           control frame, 7-bit length 126 or 127
 *                                        -> WS6455_ERR_CONTROL_TOO_LONG
 *   byte 2: 64-bit length, top bit set   -> WS6455_ERR_LENGTH_TOP_BIT
 *   byte 3: 16-bit length below 126      -> WS6455_ERR_LENGTH_NOT_MINIMAL
 *   byte 7: 64-bit length below 65536 (bytes 2..7 all zero; bytes 8
 *           and 9 cannot change that, so they are not waited for)
 *                                        -> WS6455_ERR_LENGTH_NOT_MINIMAL
 * The NOT_MINIMAL checks are skipped with WS6455_FRAME_LENIENT_LENGTH.
 * On error *consumed is the number of bytes of this call's input up to and
 * including the byte that proved the error, so the total position of the
 * error in the stream does not depend on how the input was split. The
 * error is sticky: later calls return it again and consume nothing.
 *
 * Speed: when the decoder holds no partial header and the whole header is
 * in the input (the usual case), ws6455_frame_decode() decodes it straight
 * from the input with all rules folded into one "anything wrong?" test. Only
 * a header split across calls, or a broken one, goes through the byte-wise
 * path, which is the reference for which error is reported where. At -Os
 * (src/mask.h) every header takes the byte-wise path.
 */
#include "ws6455.h"

#include "frame.h"
#include "mask.h"

#include <string.h>

/* Hints that keep the fast path straight-line code; no effect on results. */
#if defined(__GNUC__)
#define WS6455__LIKELY(x) __builtin_expect(!!(x), 1)
#define WS6455__NOINLINE __attribute__((noinline))
#else
#define WS6455__LIKELY(x) (x)
#define WS6455__NOINLINE
#endif

#define RSV_MASK 0x70u
/* Bit n set when opcode n is reserved: 3-7 and 11-15. */
#define RESERVED_OPCODES 0xF8F8u

/* Big-endian loads by explicit shifts: independent of the host's byte order
 * and of the input's alignment (compilers turn these into a load + bswap). */
static inline uint64_t load_be16(const uint8_t *p)
{
    return (uint64_t)p[0] << 8 | p[1];
}

static inline uint64_t load_be64(const uint8_t *p)
{
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | p[7];
}

/* Extended-length bytes announced by the 7-bit length field: 0, 2 or 8. */
static inline unsigned ext_len_size(unsigned len7)
{
    return len7 < 126 ? 0u : len7 == 126 ? 2u : 8u;
}

/* The MASK bit a frame must carry when received by `role`: clients mask
 * every frame they send (RFC 6455 section 5.1), servers never do. */
static inline unsigned mask_bit_expected(const ws6455_frame_decoder *d)
{
    return d->role == WS6455_ROLE_SERVER ? 0x80u : 0u;
}

void ws6455_frame_decoder_init(ws6455_frame_decoder *d, int role, unsigned allowed_rsv,
                               unsigned flags)
{
    memset(d, 0, sizeof *d);
    d->need = 2;
    /* Anything but CLIENT is treated as SERVER: requiring masks is the
     * stricter choice for a value the caller got wrong. */
    d->role = role == WS6455_ROLE_CLIENT ? WS6455_ROLE_CLIENT : WS6455_ROLE_SERVER;
    d->allowed_rsv = (uint8_t)(allowed_rsv & RSV_MASK);
    d->flags = flags;
}

size_t ws6455_frame_decoder_needed(const ws6455_frame_decoder *d)
{
    return (size_t)(d->need - d->have);
}

/* ---- the rules, one helper each, checked when their byte arrives ---- */

static int check_byte0(const ws6455_frame_decoder *d, unsigned b0)
{
    unsigned op = b0 & 0x0Fu;
    if (b0 & RSV_MASK & ~(unsigned)d->allowed_rsv)
        return WS6455_ERR_RSV_BITS;
    if ((RESERVED_OPCODES >> op) & 1u)
        return WS6455_ERR_BAD_OPCODE;
    /* RFC 6455 section 5.5: control frames MUST NOT be fragmented. */
    if ((op & 0x8u) && !(b0 & 0x80u))
        return WS6455_ERR_CONTROL_FRAGMENTED;
    return 0;
}

static int check_byte1(const ws6455_frame_decoder *d, unsigned b0, unsigned b1)
{
    if ((b1 & 0x80u) != mask_bit_expected(d))
        return d->role == WS6455_ROLE_SERVER ? WS6455_ERR_MASK_REQUIRED
                                             : WS6455_ERR_MASK_FORBIDDEN;
    /* RFC 6455 section 5.5: control payloads are at most 125 bytes, so any
     * extended length form is already too long. */
    if ((b0 & 0x8u) && (b1 & 0x7Fu) > WS6455_MAX_CONTROL_PAYLOAD)
        return WS6455_ERR_CONTROL_TOO_LONG;
    return 0;
}

/* Rules on the extended length; `idx` is the index of the byte just added
 * to d->buf. Only indices 2, 3 and 7 can prove anything (see the top). */
static int check_ext_byte(const ws6455_frame_decoder *d, unsigned idx)
{
    unsigned len7 = d->buf[1] & 0x7Fu;
    int strict = !(d->flags & WS6455_FRAME_LENIENT_LENGTH);
    if (len7 == 127) {
        /* RFC 6455 section 5.2: the most significant bit MUST be 0. */
        if (idx == 2 && (d->buf[2] & 0x80u))
            return WS6455_ERR_LENGTH_TOP_BIT;
        /* Bytes 2..7 all zero: the value fits 16 bits, so the 64-bit form
         * was not the shortest one, whatever bytes 8 and 9 are. */
        if (idx == 7 && strict &&
            (d->buf[2] | d->buf[3] | d->buf[4] | d->buf[5] | d->buf[6] | d->buf[7]) == 0)
            return WS6455_ERR_LENGTH_NOT_MINIMAL;
    } else if (len7 == 126) {
        if (idx == 3 && strict && load_be16(d->buf + 2) < 126)
            return WS6455_ERR_LENGTH_NOT_MINIMAL;
    }
    return 0;
}

/* Stores the fields of a checked header whose first two bytes are b0, b1,
 * payload length len and total size `size` (the mask key, if any, is its
 * last four bytes). Shared by the fast path and the byte-wise path. */
static inline void store_header(ws6455_frame_header *h, unsigned b0, unsigned b1, uint64_t len,
                                const uint8_t *p, unsigned size)
{
    h->payload_len = len;
    h->fin = (uint8_t)(b0 >> 7);
    h->rsv = (uint8_t)(b0 & RSV_MASK);
    h->opcode = (uint8_t)(b0 & 0x0Fu);
    h->masked = (uint8_t)(b1 >> 7);
    if (b1 & 0x80u)
        memcpy(h->mask, p + size - 4, 4);
    else
        memset(h->mask, 0, 4);
}

/* Fills *h from a complete header at p (already checked). */
static void fill_header(ws6455_frame_header *h, const uint8_t *p, unsigned size)
{
    unsigned len7 = p[1] & 0x7Fu;
    uint64_t len = len7;
    if (len7 == 126)
        len = load_be16(p + 2);
    else if (len7 == 127)
        len = load_be64(p + 2);
    store_header(h, p[0], p[1], len, p, size);
}

/* A failed decoder is marked by have == FAILED (never a valid count, since
 * headers are at most 14 bytes) with the error kept in buf[0], so the error
 * is sticky: a caller that ignores it cannot make the decoder resume in the
 * middle of a broken header, and buf can never be overrun. */
#define FAILED 0xFFu

static int decode_fail(ws6455_frame_decoder *d, int err)
{
    d->have = FAILED;
    d->need = FAILED;
    d->buf[0] = (uint8_t)-err;
    return err;
}

/* The byte-wise path: takes one byte at a time into d->buf and checks each
 * rule when the byte that decides it arrives. A header is at most 14 bytes,
 * so the per-byte cost only matters for headers split across calls. Kept
 * out of line so that the fast path stays small. */
WS6455__NOINLINE static int decode_slow(ws6455_frame_decoder *d, const uint8_t *p, size_t n,
                                        size_t *consumed, ws6455_frame_header *h)
{
    if (d->have == FAILED) {
        *consumed = 0;
        return -(int)d->buf[0];
    }
    size_t i = 0;
    while (i < n) {
        unsigned idx = d->have;
        d->buf[idx] = p[i++];
        d->have = (uint8_t)(idx + 1);
        int rc;
        if (idx == 0) {
            rc = check_byte0(d, d->buf[0]);
        } else if (idx == 1) {
            rc = check_byte1(d, d->buf[0], d->buf[1]);
            d->need = (uint8_t)(2 + ext_len_size(d->buf[1] & 0x7Fu) + (d->buf[1] >> 7) * 4u);
        } else {
            rc = check_ext_byte(d, idx);
        }
        if (rc) {
            *consumed = i;
            return decode_fail(d, rc);
        }
        if (d->have == d->need) {
            fill_header(h, d->buf, d->need);
            d->have = 0;
            d->need = 2;
            *consumed = i;
            return 1;
        }
    }
    *consumed = n;
    return 0;
}

int ws6455_frame_decode(ws6455_frame_decoder *d, const uint8_t *p, size_t n, size_t *consumed,
                        ws6455_frame_header *h)
{
    /* Fast path: no partial header held and at least the two fixed bytes
     * available. Every rule is folded into `bad`; a broken header is handed
     * to the byte-wise path, which finds which rule broke first and where.
     * Left out at -Os: the byte-wise path alone gives the same results. */
    if (WS6455__FAST_PATHS && WS6455__LIKELY(d->have == 0 && n >= 2)) {
        unsigned b0 = p[0], b1 = p[1], len7 = b1 & 0x7Fu;
        unsigned ext = ext_len_size(len7);
        size_t size = 2 + ext + (b1 >> 7) * 4u;
        /* Masks and shifts, no branches; the order of the rules does not
         * matter here. (b0 << 4) lifts the control bit (opcode & 8) to
         * 0x80, beside FIN; len7 + 2 has 0x80 set exactly when len7 > 125.
         * So bit 7 of the third term is "control and (not FIN or long)". */
        unsigned bad = (b0 & ~(unsigned)d->allowed_rsv & RSV_MASK) |
                       ((RESERVED_OPCODES >> (b0 & 0x0Fu)) & 1u) |
                       ((b0 << 4) & (~b0 | (len7 + 2)) & 0x80u) |
                       ((b1 ^ mask_bit_expected(d)) & 0x80u);
        if (WS6455__LIKELY(n >= size && !bad)) {
            uint64_t len = len7;
            if (ext) {
                unsigned strict = !(d->flags & WS6455_FRAME_LENIENT_LENGTH);
                if (ext == 2) {
                    len = load_be16(p + 2);
                    bad = (unsigned)(len < 126) & strict;
                } else {
                    len = load_be64(p + 2);
                    bad = (unsigned)(len >> 63) | ((unsigned)(len <= 0xFFFF) & strict);
                }
            }
            if (WS6455__LIKELY(!bad)) {
                store_header(h, b0, b1, len, p, size);
                *consumed = size;
                return 1;
            }
        }
    }
    return decode_slow(d, p, n, consumed, h);
}

int ws6455_frame_decode_unmask(uint8_t *buf, size_t n, int role, unsigned allowed_rsv,
                               unsigned flags, ws6455_frame_header *h, uint8_t **payload,
                               uint64_t *frame_size)
{
    *frame_size = 0;
    /* Small frames (7-bit length) that break no rule, in registers; every
     * other case, errors included, through the decoder. */
    if (WS6455__LIKELY(n >= 2)) {
        unsigned b0 = buf[0], b1 = buf[1], len = b1 & 0x7Fu;
        unsigned mask_bit = role == WS6455_ROLE_CLIENT ? 0u : 0x80u;
        unsigned bad = (b0 & ~allowed_rsv & RSV_MASK) | ((RESERVED_OPCODES >> (b0 & 0x0Fu)) & 1u) |
                       ((b0 << 4) & (~b0 | (len + 2)) & 0x80u) | ((b1 ^ mask_bit) & 0x80u);
        if (WS6455__LIKELY(len < 126 && !bad)) {
            size_t hlen = mask_bit ? 6 : 2;
            if (n < hlen)
                return 0; /* the header is not complete yet */
            *frame_size = hlen + len;
            if (n < hlen + len)
                return 0;
            store_header(h, b0, b1, len, buf, (unsigned)hlen);
            if (mask_bit)
                ws6455__unmask_small(buf + hlen, len, buf + 2);
            *payload = buf + hlen;
            return 1;
        }
    }
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, role, allowed_rsv, flags);
    size_t used;
    int rc = ws6455_frame_decode(&d, buf, n, &used, h);
    if (rc <= 0)
        return rc;
    /* The header is at most 14 bytes and the length below 2^63: no overflow. */
    uint64_t total = (uint64_t)used + h->payload_len;
    *frame_size = total;
    if (total > n)
        return 0;
    uint8_t *p = buf + used;
    if (h->masked)
        ws6455_mask(p, p, (size_t)h->payload_len, h->mask, 0);
    *payload = p;
    return 1;
}

/* ---- encoding ---- */

size_t ws6455_frame_header_size(uint64_t payload_len, int masked)
{
    size_t size = payload_len < 126 ? 2 : payload_len <= 0xFFFF ? 4 : 10;
    return size + (masked ? 4 : 0);
}

int ws6455_frame_header_encode(uint8_t out[WS6455_MAX_HEADER_SIZE], const ws6455_frame_header *h)
{
    if (!out || !h || h->opcode > 0x0F || (h->rsv & ~RSV_MASK) || (h->payload_len >> 63))
        return WS6455_ERR_INVALID_ARGUMENT;
    return (int)ws6455__frame_header_write(out, h);
}

size_t ws6455__frame_header_write(uint8_t out[WS6455_MAX_HEADER_SIZE], const ws6455_frame_header *h)
{
    uint64_t len = h->payload_len;
    unsigned mask_bit = h->masked ? 0x80u : 0u;
    size_t i;
    out[0] = (uint8_t)((h->fin ? 0x80u : 0u) | h->rsv | h->opcode);
    if (len < 126) {
        out[1] = (uint8_t)(mask_bit | len);
        i = 2;
    } else if (len <= 0xFFFF) {
        out[1] = (uint8_t)(mask_bit | 126u);
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        i = 4;
    } else {
        out[1] = (uint8_t)(mask_bit | 127u);
        for (unsigned k = 0; k < 8; k++)
            out[2 + k] = (uint8_t)(len >> (56 - 8 * k));
        i = 10;
    }
    if (mask_bit) {
        memcpy(out + i, h->mask, 4);
        i += 4;
    }
    return i;
}

/* ---- masking ---- */

/* The 64-bit key word whose byte j (in memory order) is key[(s + j) % 4].
 * When the compiler says the byte order, it is built in registers: storing
 * bytes and reloading them as a word stalls store-to-load forwarding, which
 * dominated masking of small frames. Both 32-bit halves of the base word are
 * the key in memory order whatever the byte order; moving memory byte j+s to
 * j is a right rotation on little-endian hosts and a left one on big-endian
 * hosts. When the byte order is unknown (a compiler without __BYTE_ORDER__,
 * or a mixed-endian host), the word is laid out in memory byte by byte and
 * loaded: correct on any host, one stall per call. (Guessing little-endian
 * here once masked 30,978 of 39,170 test cases wrongly on s390x.) make
 * test-byteorder runs the masking tests with __BYTE_ORDER__ undefined. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WS6455__MASK_ROTATE_RIGHT 1
#elif defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define WS6455__MASK_ROTATE_RIGHT 0
#endif

static uint64_t mask_word(const uint8_t key[4], unsigned s)
{
#if defined(WS6455__MASK_ROTATE_RIGHT)
    uint32_t k32;
    memcpy(&k32, key, 4);
    uint64_t w = (uint64_t)k32 << 32 | k32;
    unsigned r = 8u * s;
#if WS6455__MASK_ROTATE_RIGHT
    return (w >> r) | (w << ((64u - r) & 63u));
#else
    return (w << r) | (w >> ((64u - r) & 63u));
#endif
#else
    uint8_t bytes[8];
    uint64_t w;
    for (unsigned j = 0; j < 8; j++)
        bytes[j] = key[(s + j) & 3u];
    memcpy(&w, bytes, 8);
    return w;
#endif
}

void ws6455_mask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4],
                 uint64_t offset)
{
    /* key[(k + i) % 4] applies to dst[i]. */
    unsigned k = (unsigned)(offset & 3u);
    size_t i = 0;

    if (WS6455__FAST_PATHS && n >= 64) {
        /* Mask byte by byte until dst is 16-byte aligned: the stores of the
         * main loop then never straddle a cache line (worth ~30% when src
         * and dst are equally misaligned, the usual in-place case). */
        size_t head = (size_t)(-(uintptr_t)dst & 15u);
        for (; i < head; i++)
            dst[i] = src[i] ^ key[(k + i) & 3u];
    }
    if (WS6455__FAST_PATHS && i + 8 <= n) {
        /* memcpy loads and stores compile to plain (unaligned) moves and
         * respect the aliasing rules; dst == src is fine because each
         * block is loaded completely before it is stored. gcc and clang
         * turn the 32-byte block into two SSE2 XORs at -O2. */
        uint64_t kw = mask_word(key, (unsigned)((k + i) & 3u));
        for (; i + 32 <= n; i += 32) {
            uint64_t w0, w1, w2, w3;
            memcpy(&w0, src + i, 8);
            memcpy(&w1, src + i + 8, 8);
            memcpy(&w2, src + i + 16, 8);
            memcpy(&w3, src + i + 24, 8);
            w0 ^= kw;
            w1 ^= kw;
            w2 ^= kw;
            w3 ^= kw;
            memcpy(dst + i, &w0, 8);
            memcpy(dst + i + 8, &w1, 8);
            memcpy(dst + i + 16, &w2, 8);
            memcpy(dst + i + 24, &w3, 8);
        }
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, src + i, 8);
            w ^= kw;
            memcpy(dst + i, &w, 8);
        }
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ key[(k + i) & 3u];
}
