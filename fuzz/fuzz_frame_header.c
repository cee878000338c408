/* Frame headers: ws6455_frame_decode fed a stream of frames in fuzz-chosen
 * pieces, with a fuzz-chosen role, allowed RSV bits and length strictness.
 * Checks: consumed <= n and 0 means all consumed; a decoded header obeys
 * every rule for the role; decoding the same header bytes in one call gives
 * the same header; with strict lengths, re-encoding gives the same bytes;
 * an error is reported at the same stream position however the input is
 * split, and is sticky.
 * Input: byte 0 = bit0 client role, bit1 lenient, bits 4-6 allowed RSV;
 * byte 1 = piece count; one byte per piece length; then the stream (each
 * decoded header's payload is skipped). */
#include "fuzz.h"

static int decode_whole(int role, unsigned rsv, unsigned flags, const uint8_t *p, size_t n,
                        size_t *used, ws6455_frame_header *h)
{
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, role, rsv, flags);
    return ws6455_frame_decode(&d, p, n, used, h);
}

static void check_rules(const ws6455_frame_header *h, int role, unsigned rsv, int strict,
                        size_t hsize)
{
    FZ_CHECK(h->masked == (role == WS6455_ROLE_SERVER));
    FZ_CHECK((h->rsv & ~rsv) == 0 && (h->rsv & 0x8Fu) == 0);
    FZ_CHECK(h->opcode <= 2 || (h->opcode >= 8 && h->opcode <= 10));
    if (h->opcode >= 8)
        FZ_CHECK(h->fin && h->payload_len <= WS6455_MAX_CONTROL_PAYLOAD);
    FZ_CHECK(!(h->payload_len >> 63));
    if (strict)
        FZ_CHECK(hsize == ws6455_frame_header_size(h->payload_len, h->masked));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    unsigned b0 = fz_u8(&in);
    int role = (b0 & 1u) ? WS6455_ROLE_CLIENT : WS6455_ROLE_SERVER;
    unsigned flags = (b0 & 2u) ? WS6455_FRAME_LENIENT_LENGTH : 0;
    unsigned rsv = b0 & 0x70u;
    const uint8_t *lens;
    size_t nl = fz_take(&in, fz_u8(&in) & 31u, &lens);
    size_t n = in.n;
    uint8_t *s = malloc(n ? n : 1);
    FZ_CHECK(s != NULL);
    if (n)
        memcpy(s, in.p, n);

    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, role, rsv, flags);
    FZ_CHECK(ws6455_frame_decoder_needed(&d) >= 1);
    fz_pieces ps;
    fz_pieces_init(&ps, s, n, lens, nl);
    size_t len, hstart = 0;
    uint8_t *piece;
    while (ps.count < 100000 && (piece = fz_piece(&ps, &len)) != NULL) {
        size_t used = 99999;
        ws6455_frame_header h;
        int rc = ws6455_frame_decode(&d, piece, len, &used, &h);
        FZ_CHECK(used <= len);
        if (rc == 0) {
            FZ_CHECK(used == len && ws6455_frame_decoder_needed(&d) >= 1);
            ps.off += len;
            continue;
        }
        ps.off += used;
        size_t off = ps.off;
        /* The same bytes in one call: same outcome at the same place. */
        ws6455_frame_header h2;
        size_t used2 = 99999;
        int rc2 = decode_whole(role, rsv, flags, s + hstart, n - hstart, &used2, &h2);
        FZ_CHECK(rc2 == rc && hstart + used2 == off);
        if (rc < 0) {
            FZ_CHECK(rc >= WS6455_ERR_MASK_FORBIDDEN && rc <= WS6455_ERR_RSV_BITS);
            FZ_CHECK(ws6455_error_close_code(rc) == 1002);
            ws6455_frame_header h3;
            FZ_CHECK(ws6455_frame_decode(&d, s, n, &used, &h3) == rc && used == 0);
            break;
        }
        FZ_CHECK(rc == 1 && memcmp(&h, &h2, sizeof h) == 0);
        size_t hsize = off - hstart;
        check_rules(&h, role, rsv, !(flags & WS6455_FRAME_LENIENT_LENGTH), hsize);
        uint8_t enc[WS6455_MAX_HEADER_SIZE];
        int elen = ws6455_frame_header_encode(enc, &h);
        FZ_CHECK(elen == (int)ws6455_frame_header_size(h.payload_len, h.masked));
        if (!(flags & WS6455_FRAME_LENIENT_LENGTH))
            FZ_CHECK((size_t)elen == hsize && memcmp(enc, s + hstart, hsize) == 0);
        /* Skip the payload; the next header starts after it. */
        uint64_t skip = h.payload_len < n - off ? h.payload_len : n - off;
        ps.off = off + (size_t)skip;
        hstart = ps.off;
    }
    fz_pieces_end(&ps);
    free(s);
    return 0;
}
