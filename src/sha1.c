/* SHA-1 as specified in FIPS 180-4, section 6.1. WebSocket needs it only for
 * the handshake's Sec-WebSocket-Accept value, where collision resistance is
 * irrelevant, so the aim is a short, obviously correct implementation rather
 * than a fast one. Words are read and written big-endian by explicit shifts
 * so the code is independent of the host's byte order and alignment. */
#include "ws6455.h"

#include <string.h>

#define SHA1_BLOCK 64

static uint32_t rol32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static uint32_t load32_be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store32_be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void store64_be(uint8_t *p, uint64_t v)
{
    store32_be(p, (uint32_t)(v >> 32));
    store32_be(p + 4, (uint32_t)v);
}

/* The round function f_t and constant K_t of FIPS 180-4 section 4.1.1 and
 * 4.2.1, selected by which quarter of the 80 rounds t falls in. */
static uint32_t round_mix(unsigned t, uint32_t b, uint32_t c, uint32_t d)
{
    if (t < 20)
        return ((b & c) | (~b & d)) + 0x5A827999u;
    if (t < 40)
        return (b ^ c ^ d) + 0x6ED9EBA1u;
    if (t < 60)
        return ((b & c) | (b & d) | (c & d)) + 0x8F1BBCDCu;
    return (b ^ c ^ d) + 0xCA62C1D6u;
}

static void sha1_block(uint32_t h[5], const uint8_t block[SHA1_BLOCK])
{
    /* A 16-word ring instead of the 80-word schedule: W_t only ever needs
     * W_{t-3}, W_{t-8}, W_{t-14} and W_{t-16}. */
    uint32_t w[16];
    for (unsigned t = 0; t < 16; t++)
        w[t] = load32_be(block + (size_t)4 * t);

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (unsigned t = 0; t < 80; t++) {
        if (t >= 16)
            w[t & 15] = rol32(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
        uint32_t tmp = rol32(a, 5) + round_mix(t, b, c, d) + e + w[t & 15];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void ws6455_sha1_init(ws6455_sha1 *ctx)
{
    ctx->h[0] = 0x67452301u;
    ctx->h[1] = 0xEFCDAB89u;
    ctx->h[2] = 0x98BADCFEu;
    ctx->h[3] = 0x10325476u;
    ctx->h[4] = 0xC3D2E1F0u;
    ctx->total_len = 0;
    ctx->block_len = 0;
}

void ws6455_sha1_update(ws6455_sha1 *ctx, const void *p, size_t n)
{
    /* Returning early keeps a NULL p away from pointer arithmetic and
     * memcpy, both undefined for NULL even with a zero length. */
    if (n == 0)
        return;
    const uint8_t *in = p;
    ctx->total_len += n;

    if (ctx->block_len > 0) {
        size_t take = SHA1_BLOCK - ctx->block_len;
        if (take > n)
            take = n;
        memcpy(ctx->block + ctx->block_len, in, take);
        ctx->block_len += take;
        in += take;
        n -= take;
        if (ctx->block_len < SHA1_BLOCK)
            return;
        sha1_block(ctx->h, ctx->block);
        ctx->block_len = 0;
    }
    /* Whole blocks are hashed straight from the caller's buffer. */
    for (; n >= SHA1_BLOCK; in += SHA1_BLOCK, n -= SHA1_BLOCK)
        sha1_block(ctx->h, in);
    if (n > 0) {
        memcpy(ctx->block, in, n);
        ctx->block_len = n;
    }
}

void ws6455_sha1_final(ws6455_sha1 *ctx, uint8_t digest[20])
{
    /* Padding (FIPS 180-4 5.1.1): a 1 bit, zeros up to 56 bytes mod 64, then
     * the message length in bits as a 64-bit big-endian number. The length
     * is taken before padding touches the block. */
    uint64_t bit_len = ctx->total_len * 8;
    size_t used = ctx->block_len;

    ctx->block[used++] = 0x80;
    if (used > SHA1_BLOCK - 8) {
        memset(ctx->block + used, 0, SHA1_BLOCK - used);
        sha1_block(ctx->h, ctx->block);
        used = 0;
    }
    memset(ctx->block + used, 0, SHA1_BLOCK - 8 - used);
    store64_be(ctx->block + SHA1_BLOCK - 8, bit_len);
    sha1_block(ctx->h, ctx->block);

    for (unsigned i = 0; i < 5; i++)
        store32_be(digest + (size_t)4 * i, ctx->h[i]);
}
