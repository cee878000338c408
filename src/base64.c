/* base64 with the standard alphabet and padding (RFC 4648 section 4).
 *
 * Decoding is strict on purpose: the only caller in the protocol is the
 * handshake, where RFC 6455 requires Sec-WebSocket-Key to be the base64 of
 * exactly 16 bytes. Accepting several spellings of the same bytes (stray
 * bits before the padding, whitespace, the URL-safe alphabet) would let two
 * different keys yield the same nonce, so everything non-canonical is
 * rejected (RFC 4648 section 3.5 permits this). */
#include "base64.h"

#include "ws6455.h"

#include <limits.h>

/* RFC 4648 table 1. */
static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- encoding ---------------------------------------------------------- */

/* The largest input whose encoded length still fits the int that
 * ws6455_base64_encode returns; below it WS6455_BASE64_ENCODED_LEN cannot
 * wrap either. */
#define MAX_ENCODE_INPUT ((size_t)INT_MAX / 4 * 3)

int ws6455_base64_encode(const uint8_t *src, size_t n, char *dst, size_t dst_cap)
{
    if ((src == NULL && n > 0) || dst == NULL)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (n > MAX_ENCODE_INPUT)
        return WS6455_ERR_INVALID_ARGUMENT;
    size_t len = WS6455_BASE64_ENCODED_LEN(n);
    if (dst_cap <= len) {
        /* Leave a valid, empty string so a careless caller prints nothing
         * rather than stale bytes. */
        if (dst_cap > 0)
            dst[0] = '\0';
        return WS6455_ERR_BUFFER_TOO_SMALL;
    }

    /* Each group of up to 3 bytes gives 4 characters; a short last group
     * is padded with '='. */
    char *out = dst;
    for (size_t i = 0; i < n; i += 3, out += 4) {
        size_t left = n - i;
        uint32_t v = (uint32_t)src[i] << 16;
        if (left > 1)
            v |= (uint32_t)src[i + 1] << 8;
        if (left > 2)
            v |= src[i + 2];
        for (unsigned k = 0; k < 4; k++)
            out[k] = k <= left ? alphabet[(v >> (18 - 6 * k)) & 63] : '=';
    }
    *out = '\0';
    return (int)len;
}

/* ---- decoding ---------------------------------------------------------- */

/* Decodes one 4-character group into out[0..3) and returns how many bytes
 * it carries (3, or 2 / 1 for a padded group), or -1 when the group is not
 * canonical base64. Padding is accepted only when `last` is set. */
static int decode_group(const unsigned char *g, int last, uint8_t out[3])
{
    int pad = 0;
    if (last && g[3] == '=')
        pad = g[2] == '=' ? 2 : 1;

    uint32_t v = 0;
    for (int k = 0; k < 4 - pad; k++) {
        int s = ws6455__base64_sextet(g[k]);
        if (s < 0)
            return -1;
        v = v << 6 | (uint32_t)s;
    }
    v <<= 6 * pad;

    /* Padding leaves 4 (one byte) or 2 (two bytes) bits of the last sextet
     * unused; non-zero bits there would be a second spelling of the same
     * bytes. */
    uint32_t unused = pad == 2 ? 0xFFFFu : pad == 1 ? 0xFFu : 0;
    if (v & unused)
        return -1;

    out[0] = (uint8_t)(v >> 16);
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)v;
    return 3 - pad;
}

int ws6455_base64_decode(const char *src, size_t n, uint8_t *dst, size_t dst_cap, size_t *out_len)
{
    if (out_len == NULL || (src == NULL && n > 0) || (dst == NULL && dst_cap > 0))
        return WS6455_ERR_INVALID_ARGUMENT;
    *out_len = 0;
    if (n % 4 != 0)
        return WS6455_ERR_BASE64;

    /* One pass: malformed input is reported as such even when dst is also
     * too small, so the whole input is checked before a verdict on size. */
    const unsigned char *in = (const unsigned char *)src;
    size_t written = 0;
    int too_small = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint8_t bytes[3];
        int got = decode_group(in + i, i + 4 == n, bytes);
        if (got < 0)
            return WS6455_ERR_BASE64;
        if (too_small || dst_cap - written < (size_t)got) {
            too_small = 1;
            continue;
        }
        for (int k = 0; k < got; k++)
            dst[written++] = bytes[k];
    }
    if (too_small)
        return WS6455_ERR_BUFFER_TOO_SMALL;
    *out_len = written;
    return WS6455_OK;
}
