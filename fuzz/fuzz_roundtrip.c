/* Round trip: a header built by ws6455_frame_header_encode from fuzzed
 * parameters decodes (in two fuzz-chosen pieces) to the same parameters,
 * or to the error the RFC rule it breaks calls for; the payload masked with
 * the key and unmasked in fuzz-chosen pieces comes back unchanged.
 * Input: byte 0 = FIN/RSV/opcode as on the wire; byte 1 = bit0 masked,
 * bits1-2 length form, bit3 lenient decoder, bit4 top bit; 8 length bytes;
 * 4 key bytes; 1 split byte; 1 piece byte; then the payload. */
#include "fuzz.h"

static int expected_error(const ws6455_frame_header *h, int role)
{
    int control = h->opcode >= 8;
    if (h->opcode > 2 && !(control && h->opcode <= 10))
        return WS6455_ERR_BAD_OPCODE;
    if (control && !h->fin)
        return WS6455_ERR_CONTROL_FRAGMENTED;
    if (h->masked != (role == WS6455_ROLE_SERVER))
        return role == WS6455_ROLE_SERVER ? WS6455_ERR_MASK_REQUIRED : WS6455_ERR_MASK_FORBIDDEN;
    if (control && h->payload_len > WS6455_MAX_CONTROL_PAYLOAD)
        return WS6455_ERR_CONTROL_TOO_LONG;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    unsigned b0 = fz_u8(&in), b1 = fz_u8(&in);
    uint64_t raw = fz_u64(&in);
    ws6455_frame_header h;
    memset(&h, 0, sizeof h);
    h.fin = (uint8_t)(b0 >> 7);
    h.rsv = (uint8_t)(b0 & 0x70u);
    h.opcode = (uint8_t)(b0 & 0x0Fu);
    h.masked = (uint8_t)(b1 & 1u);
    for (int i = 0; i < 4; i++)
        h.mask[i] = fz_u8(&in);
    if (!h.masked)
        memset(h.mask, 0, 4);
    unsigned split = fz_u8(&in), piece = fz_u8(&in);
    const uint8_t *payload = in.p;
    size_t plen = in.n;
    switch ((b1 >> 1) & 3u) {
    case 0:
        h.payload_len = plen; /* a real frame with this payload */
        break;
    case 1:
        h.payload_len = raw & 0x7F;
        break;
    case 2:
        h.payload_len = raw & 0xFFFF;
        break;
    default:
        h.payload_len = raw & (UINT64_MAX >> 1);
        break;
    }
    if (b1 & 0x10u)
        h.payload_len |= (uint64_t)1 << 63;

    uint8_t buf[WS6455_MAX_HEADER_SIZE];
    int n = ws6455_frame_header_encode(buf, &h);
    if (h.payload_len >> 63) {
        FZ_CHECK(n == WS6455_ERR_INVALID_ARGUMENT);
        return 0;
    }
    FZ_CHECK(n == (int)ws6455_frame_header_size(h.payload_len, h.masked));

    int role = h.masked ? WS6455_ROLE_SERVER : WS6455_ROLE_CLIENT;
    unsigned flags = (b1 & 8u) ? WS6455_FRAME_LENIENT_LENGTH : 0;
    unsigned allowed = (b0 & 1u) ? 0x70u : 0u;
    int want = expected_error(&h, role);
    if (h.rsv & ~allowed)
        want = WS6455_ERR_RSV_BITS;

    /* Two pieces, the first split % (n + 1) bytes long. */
    size_t first = split % (size_t)(n + 1);
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, role, allowed, flags);
    ws6455_frame_header out;
    size_t used = 0, used2 = 0;
    int rc = ws6455_frame_decode(&d, buf, first, &used, &out);
    if (rc == 0)
        rc = ws6455_frame_decode(&d, buf + first, (size_t)n - first, &used2, &out);
    if (want < 0) {
        FZ_CHECK(rc == want);
        return 0;
    }
    FZ_CHECK(rc == 1 && used + used2 == (size_t)n);
    FZ_CHECK(out.fin == h.fin && out.rsv == h.rsv && out.opcode == h.opcode &&
             out.masked == h.masked && out.payload_len == h.payload_len &&
             memcmp(out.mask, h.mask, 4) == 0);

    if (((b1 >> 1) & 3u) != 0 || !h.masked)
        return 0;
    /* Mask the payload as a client would, unmask in pieces as a server. */
    uint8_t *wire = malloc(plen ? plen : 1);
    FZ_CHECK(wire != NULL);
    ws6455_mask(wire, payload, plen, h.mask, 0);
    size_t off = 0, step = (size_t)piece + 1;
    while (off < plen) {
        size_t k = step < plen - off ? step : plen - off;
        ws6455_mask(wire + off, wire + off, k, out.mask, off);
        off += k;
    }
    FZ_CHECK(plen == 0 || memcmp(wire, payload, plen) == 0);
    free(wire);
    return 0;
}
