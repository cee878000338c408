/* Frame codec: header decoding (every rule, every split, guard pages),
 * header encoding (every length form, byte for byte) and masking (against a
 * byte-by-byte reference for every alignment, offset and length). Payloads
 * are never allocated for the big lengths: only headers are built. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define TOP_BIT_LEN (UINT64_C(1) << 63)
#define MAX_LEN (TOP_BIT_LEN - 1)

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void assert_header_equal(const ws6455_frame_header *a, const ws6455_frame_header *b)
{
    assert_true(a->payload_len == b->payload_len);
    assert_int_equal(a->fin, b->fin);
    assert_int_equal(a->rsv, b->rsv);
    assert_int_equal(a->opcode, b->opcode);
    assert_int_equal(a->masked, b->masked);
    if (a->masked)
        assert_memory_equal(a->mask, b->mask, 4);
}

static ws6455_frame_header make_header(int fin, unsigned rsv, unsigned opcode, int masked,
                                       uint64_t len, const uint8_t key[4])
{
    ws6455_frame_header h;
    memset(&h, 0, sizeof h);
    h.fin = (uint8_t)fin;
    h.rsv = (uint8_t)rsv;
    h.opcode = (uint8_t)opcode;
    h.masked = (uint8_t)masked;
    h.payload_len = len;
    if (masked)
        memcpy(h.mask, key, 4);
    return h;
}

/* The role that receives such a frame legitimately: servers get masked
 * frames, clients unmasked ones. */
static int receiver_role(int masked)
{
    return masked ? WS6455_ROLE_SERVER : WS6455_ROLE_CLIENT;
}

/* Decodes p[0..n) in one call with a fresh decoder; returns the status. */
static int decode_once(int role, unsigned allowed_rsv, unsigned flags, const uint8_t *p, size_t n,
                       size_t *consumed, ws6455_frame_header *h)
{
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, role, allowed_rsv, flags);
    *consumed = 12345;
    return ws6455_frame_decode(&d, p, n, consumed, h);
}

/* Feeds p[0..n) to a fresh decoder in pieces ending at cuts[0..ncuts) (sorted,
 * each <= n) and then at n. Stops at the first non-zero status, which is
 * returned with *pos = the total bytes consumed up to that point. Checks the
 * invariants of every call on the way: 0 consumes everything and leaves a
 * positive need; 1 and errors never consume more than was offered. */
static int feed_split(int role, unsigned allowed_rsv, unsigned flags, const uint8_t *p, size_t n,
                      const size_t *cuts, size_t ncuts, size_t *pos, ws6455_frame_header *h)
{
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, role, allowed_rsv, flags);
    size_t start = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : n;
        assert_true(end >= start && end <= n);
        size_t consumed = 12345;
        int rc = ws6455_frame_decode(&d, p + start, end - start, &consumed, h);
        if (rc != 0) {
            assert_true(consumed <= end - start);
            *pos = start + consumed;
            return rc;
        }
        assert_true(consumed == end - start);
        assert_true(ws6455_frame_decoder_needed(&d) >= 1);
        start = end;
    }
    *pos = n;
    return 0;
}

/* Feeds one byte at a time (each byte in its own exact-size guard copy, so
 * reading anything but that byte crashes). */
static int feed_bytewise(int role, unsigned allowed_rsv, unsigned flags, const uint8_t *p,
                         size_t n, size_t *pos, ws6455_frame_header *h)
{
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, role, allowed_rsv, flags);
    for (size_t i = 0; i < n; i++) {
        uint8_t *g = tu_guard_copy(p + i, 1);
        size_t consumed = 12345;
        int rc = ws6455_frame_decode(&d, g, 1, &consumed, h);
        tu_guard_free(g, 1);
        if (rc != 0) {
            assert_int_equal(consumed, 1);
            *pos = i + 1;
            return rc;
        }
        assert_int_equal(consumed, 1);
    }
    *pos = n;
    return 0;
}

/* Feeds p[0..n) under every split schedule we check: whole, every single
 * cut, every pair of cuts within the first 16 bytes, and one byte at a
 * time. Every schedule must give status `want_rc` at total position
 * `want_pos`, and (on success) the header `want`. */
static void check_all_splits(int role, unsigned allowed_rsv, unsigned flags, const uint8_t *p,
                             size_t n, int want_rc, size_t want_pos,
                             const ws6455_frame_header *want)
{
    ws6455_frame_header h;
    size_t pos;
    int rc = feed_split(role, allowed_rsv, flags, p, n, NULL, 0, &pos, &h);
    assert_int_equal(rc, want_rc);
    assert_int_equal(pos, want_pos);
    if (rc == 1)
        assert_header_equal(&h, want);

    for (size_t a = 0; a <= n; a++) {
        size_t cuts[2] = {a, 0};
        rc = feed_split(role, allowed_rsv, flags, p, n, cuts, 1, &pos, &h);
        assert_int_equal(rc, want_rc);
        assert_int_equal(pos, want_pos);
        if (rc == 1)
            assert_header_equal(&h, want);
        for (size_t b = a; b <= n && b <= 16; b++) {
            cuts[1] = b;
            rc = feed_split(role, allowed_rsv, flags, p, n, cuts, 2, &pos, &h);
            assert_int_equal(rc, want_rc);
            assert_int_equal(pos, want_pos);
            if (rc == 1)
                assert_header_equal(&h, want);
        }
    }

    rc = feed_bytewise(role, allowed_rsv, flags, p, n, &pos, &h);
    assert_int_equal(rc, want_rc);
    assert_int_equal(pos, want_pos);
    if (rc == 1)
        assert_header_equal(&h, want);
}

/* ------------------------------------------------------------------------ */
/* RFC 6455 section 5.7 examples                                             */
/* ------------------------------------------------------------------------ */

static const uint8_t rfc_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Decodes one frame at p with `role`, checks the header against `want`,
 * re-encodes it and compares byte for byte; returns the header size. */
static size_t check_vector_frame(int role, const uint8_t *p, size_t n,
                                 const ws6455_frame_header *want)
{
    ws6455_frame_header h;
    size_t consumed;
    assert_int_equal(decode_once(role, 0, 0, p, n, &consumed, &h), 1);
    assert_header_equal(&h, want);
    assert_int_equal(consumed, ws6455_frame_header_size(want->payload_len, want->masked));
    /* The payload following the header was offered but not consumed. */
    assert_true(consumed < n || want->payload_len == 0);

    uint8_t out[WS6455_MAX_HEADER_SIZE];
    assert_int_equal(ws6455_frame_header_encode(out, want), (int)consumed);
    assert_memory_equal(out, p, consumed);
    return consumed;
}

static void test_rfc_unmasked_text(void **state)
{
    (void)state;
    uint8_t f[16];
    size_t n = tu_hex("81 05 48 65 6c 6c 6f", f, sizeof f);
    ws6455_frame_header want = make_header(1, 0, WS6455_OP_TEXT, 0, 5, NULL);
    size_t hs = check_vector_frame(WS6455_ROLE_CLIENT, f, n, &want);
    assert_int_equal(hs, 2);
    assert_memory_equal(f + hs, "Hello", 5);
}

static void test_rfc_masked_text(void **state)
{
    (void)state;
    uint8_t f[16], plain[5];
    size_t n = tu_hex("81 85 37 fa 21 3d 7f 9f 4d 51 58", f, sizeof f);
    ws6455_frame_header want = make_header(1, 0, WS6455_OP_TEXT, 1, 5, rfc_key);
    size_t hs = check_vector_frame(WS6455_ROLE_SERVER, f, n, &want);
    assert_int_equal(hs, 6);
    ws6455_mask(plain, f + hs, 5, want.mask, 0);
    assert_memory_equal(plain, "Hello", 5);
    /* Masking is its own inverse: masking "Hello" gives the wire bytes. */
    uint8_t wire[5];
    ws6455_mask(wire, (const uint8_t *)"Hello", 5, rfc_key, 0);
    assert_memory_equal(wire, f + hs, 5);
    /* And in place. */
    ws6455_mask(f + hs, f + hs, 5, rfc_key, 0);
    assert_memory_equal(f + hs, "Hello", 5);
}

static void test_rfc_fragmented(void **state)
{
    (void)state;
    uint8_t f[16];
    /* Both fragments in one buffer: the decoder must stop at each header. */
    size_t n = tu_hex("01 03 48 65 6c 80 02 6c 6f", f, sizeof f);
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, WS6455_ROLE_CLIENT, 0, 0);
    ws6455_frame_header h;
    size_t consumed;

    assert_int_equal(ws6455_frame_decode(&d, f, n, &consumed, &h), 1);
    assert_int_equal(consumed, 2);
    ws6455_frame_header want1 = make_header(0, 0, WS6455_OP_TEXT, 0, 3, NULL);
    assert_header_equal(&h, &want1);
    assert_memory_equal(f + 2, "Hel", 3);

    assert_int_equal(ws6455_frame_decode(&d, f + 5, n - 5, &consumed, &h), 1);
    assert_int_equal(consumed, 2);
    ws6455_frame_header want2 = make_header(1, 0, WS6455_OP_CONTINUATION, 0, 2, NULL);
    assert_header_equal(&h, &want2);
    assert_memory_equal(f + 7, "lo", 2);

    check_vector_frame(WS6455_ROLE_CLIENT, f, 5, &want1);
    check_vector_frame(WS6455_ROLE_CLIENT, f + 5, 4, &want2);
}

static void test_rfc_ping_pong(void **state)
{
    (void)state;
    uint8_t f[16], plain[5];
    size_t n = tu_hex("89 05 48 65 6c 6c 6f", f, sizeof f);
    ws6455_frame_header ping = make_header(1, 0, WS6455_OP_PING, 0, 5, NULL);
    assert_int_equal(check_vector_frame(WS6455_ROLE_CLIENT, f, n, &ping), 2);
    assert_memory_equal(f + 2, "Hello", 5);

    n = tu_hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58", f, sizeof f);
    ws6455_frame_header pong = make_header(1, 0, WS6455_OP_PONG, 1, 5, rfc_key);
    assert_int_equal(check_vector_frame(WS6455_ROLE_SERVER, f, n, &pong), 6);
    ws6455_mask(plain, f + 6, 5, rfc_key, 0);
    assert_memory_equal(plain, "Hello", 5);
}

static void test_rfc_binary_256_and_64k(void **state)
{
    (void)state;
    uint8_t f[16];
    /* Headers only, followed by the first payload bytes (the rest of the
     * payload is never needed to decode a header). */
    size_t n = tu_hex("82 7E 0100 | 00 01 02", f, sizeof f);
    ws6455_frame_header want = make_header(1, 0, WS6455_OP_BINARY, 0, 256, NULL);
    assert_int_equal(n, 7);
    assert_int_equal(check_vector_frame(WS6455_ROLE_CLIENT, f, n, &want), 4);

    n = tu_hex("82 7F 0000000000010000 | 00 01 02", f, sizeof f);
    want.payload_len = 65536;
    assert_int_equal(n, 13);
    assert_int_equal(check_vector_frame(WS6455_ROLE_CLIENT, f, n, &want), 10);
}

/* ------------------------------------------------------------------------ */
/* lengths                                                                   */
/* ------------------------------------------------------------------------ */

static const struct {
    uint64_t len;
    const char *hex; /* byte 1 without the mask bit, then the extended length */
} boundary_lengths[] = {
    {0, "00"},
    {1, "01"},
    {125, "7d"},
    {126, "7e 00 7e"},
    {127, "7e 00 7f"},
    {65535, "7e ff ff"},
    {65536, "7f 00 00 00 00 00 01 00 00"},
    {UINT64_C(1) << 32, "7f 00 00 00 01 00 00 00 00"},
    {MAX_LEN, "7f 7f ff ff ff ff ff ff ff"},
};
#define N_BOUNDARY (sizeof boundary_lengths / sizeof boundary_lengths[0])

static void test_boundary_lengths(void **state)
{
    (void)state;
    static const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
    for (size_t i = 0; i < N_BOUNDARY; i++) {
        for (int masked = 0; masked <= 1; masked++) {
            uint8_t want[WS6455_MAX_HEADER_SIZE + 8], out[WS6455_MAX_HEADER_SIZE];
            want[0] = 0x82;
            size_t wn = 1 + tu_hex(boundary_lengths[i].hex, want + 1, sizeof want - 1);
            if (masked) {
                want[1] |= 0x80;
                memcpy(want + wn, key, 4);
                wn += 4;
            }
            ws6455_frame_header h =
                make_header(1, 0, WS6455_OP_BINARY, masked, boundary_lengths[i].len, key);
            assert_int_equal(ws6455_frame_header_size(h.payload_len, masked), wn);
            memset(out, 0xAA, sizeof out);
            assert_int_equal(ws6455_frame_header_encode(out, &h), (int)wn);
            assert_memory_equal(out, want, wn);
            for (size_t k = wn; k < sizeof out; k++) /* nothing written past the header */
                assert_int_equal(out[k], 0xAA);

            /* Decode back, with a few payload bytes after it that must not
             * be consumed (the payload itself is never allocated). */
            memset(want + wn, 0x55, 8);
            ws6455_frame_header got;
            size_t consumed;
            assert_int_equal(
                decode_once(receiver_role(masked), 0, 0, want, wn + 8, &consumed, &got), 1);
            assert_int_equal(consumed, wn);
            assert_header_equal(&got, &h);
            check_all_splits(receiver_role(masked), 0, 0, want, wn + 8, 1, wn, &h);
        }
    }
}

static void test_header_size(void **state)
{
    (void)state;
    assert_int_equal(ws6455_frame_header_size(0, 0), 2);
    assert_int_equal(ws6455_frame_header_size(125, 0), 2);
    assert_int_equal(ws6455_frame_header_size(126, 0), 4);
    assert_int_equal(ws6455_frame_header_size(65535, 0), 4);
    assert_int_equal(ws6455_frame_header_size(65536, 0), 10);
    assert_int_equal(ws6455_frame_header_size(MAX_LEN, 0), 10);
    assert_int_equal(ws6455_frame_header_size(0, 1), 6);
    assert_int_equal(ws6455_frame_header_size(126, 1), 8);
    assert_int_equal(ws6455_frame_header_size(65536, 1), 14);
    assert_int_equal(ws6455_frame_header_size(65536, 7), 14); /* any non-zero is masked */
}

static void test_non_minimal_lengths(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        uint64_t len;
        size_t err_pos;
    } cases[] = {
        {"82 7e 00 00", 0, 4},
        {"82 7e 00 7d", 125, 4},
        {"82 7f 00 00 00 00 00 00 00 00", 0, 8},
        {"82 7f 00 00 00 00 00 00 00 7d", 125, 8},
        {"82 7f 00 00 00 00 00 00 00 7e", 126, 8},
        {"82 7f 00 00 00 00 00 00 ff ff", 65535, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t f[16];
        size_t n = tu_hex(cases[i].hex, f, sizeof f);
        ws6455_frame_header h, want = make_header(1, 0, WS6455_OP_BINARY, 0, cases[i].len, NULL);
        size_t consumed;
        /* Strict by default: the error is known once the bytes that make
         * the value small have been seen (not waiting for the last ones). */
        assert_int_equal(decode_once(WS6455_ROLE_CLIENT, 0, 0, f, n, &consumed, &h),
                         WS6455_ERR_LENGTH_NOT_MINIMAL);
        assert_int_equal(consumed, cases[i].err_pos);
        check_all_splits(WS6455_ROLE_CLIENT, 0, 0, f, n, WS6455_ERR_LENGTH_NOT_MINIMAL,
                         cases[i].err_pos, NULL);
        /* Lenient: accepted with the value as written. */
        assert_int_equal(decode_once(WS6455_ROLE_CLIENT, 0, WS6455_FRAME_LENIENT_LENGTH, f, n,
                                     &consumed, &h),
                         1);
        assert_int_equal(consumed, n);
        assert_header_equal(&h, &want);
        check_all_splits(WS6455_ROLE_CLIENT, 0, WS6455_FRAME_LENIENT_LENGTH, f, n, 1, n, &want);
    }

    /* The smallest value of each form is minimal. */
    uint8_t f[16];
    ws6455_frame_header h;
    size_t consumed, n = tu_hex("82 7e 00 7e", f, sizeof f);
    assert_int_equal(decode_once(WS6455_ROLE_CLIENT, 0, 0, f, n, &consumed, &h), 1);
    assert_true(h.payload_len == 126);
    n = tu_hex("82 7f 00 00 00 00 00 01 00 00", f, sizeof f);
    assert_int_equal(decode_once(WS6455_ROLE_CLIENT, 0, 0, f, n, &consumed, &h), 1);
    assert_true(h.payload_len == 65536);
}

static void test_length_top_bit(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "82 7f 80 00 00 00 00 00 00 00",
        "82 7f ff ff ff ff ff ff ff ff",
        "82 ff 80 00 00 00 00 00 00 00 01 02 03 04",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t f[16];
        size_t n = tu_hex(cases[i], f, sizeof f);
        int role = receiver_role(f[1] >> 7);
        /* Rejected even when lenient, at the first length byte. */
        for (unsigned flags = 0; flags <= WS6455_FRAME_LENIENT_LENGTH; flags++) {
            ws6455_frame_header h;
            size_t consumed;
            assert_int_equal(decode_once(role, 0, flags, f, n, &consumed, &h),
                             WS6455_ERR_LENGTH_TOP_BIT);
            assert_int_equal(consumed, 3);
            check_all_splits(role, 0, flags, f, n, WS6455_ERR_LENGTH_TOP_BIT, 3, NULL);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* opcodes, control frames, RSV, masking by role                             */
/* ------------------------------------------------------------------------ */

static int opcode_valid(unsigned op)
{
    return op <= 2 || (op >= 8 && op <= 10);
}

static void test_every_opcode(void **state)
{
    (void)state;
    for (unsigned op = 0; op < 16; op++) {
        for (unsigned fin = 0; fin <= 1; fin++) {
            uint8_t f[4] = {(uint8_t)(fin << 7 | op), 0x00, 0xEE, 0xEE};
            ws6455_frame_header h;
            size_t consumed;
            int rc = decode_once(WS6455_ROLE_CLIENT, 0, 0, f, sizeof f, &consumed, &h);
            if (!opcode_valid(op)) {
                assert_int_equal(rc, WS6455_ERR_BAD_OPCODE);
                assert_int_equal(consumed, 1);
                check_all_splits(WS6455_ROLE_CLIENT, 0, 0, f, sizeof f, WS6455_ERR_BAD_OPCODE,
                                 1, NULL);
            } else if (op >= 8 && !fin) {
                assert_int_equal(rc, WS6455_ERR_CONTROL_FRAGMENTED);
                assert_int_equal(consumed, 1);
            } else {
                assert_int_equal(rc, 1);
                assert_int_equal(consumed, 2);
                assert_int_equal(h.opcode, op);
                assert_int_equal(h.fin, fin);
                assert_true(h.payload_len == 0);
            }
        }
        /* The encoder writes whatever opcode fits in 4 bits. */
        uint8_t out[WS6455_MAX_HEADER_SIZE];
        ws6455_frame_header e = make_header(1, 0, op, 0, 0, NULL);
        assert_int_equal(ws6455_frame_header_encode(out, &e), 2);
        assert_int_equal(out[0], 0x80 | op);
    }
}

static void test_control_frames(void **state)
{
    (void)state;
    static const uint8_t ops[] = {WS6455_OP_CLOSE, WS6455_OP_PING, WS6455_OP_PONG};
    for (size_t i = 0; i < sizeof ops; i++) {
        for (int masked = 0; masked <= 1; masked++) {
            int role = receiver_role(masked);
            uint8_t m = masked ? 0x80 : 0x00;
            ws6455_frame_header h;
            size_t consumed;

            /* 125: the longest allowed. */
            uint8_t ok[6] = {(uint8_t)(0x80 | ops[i]), (uint8_t)(m | 125), 1, 2, 3, 4};
            size_t okn = masked ? 6 : 2;
            ws6455_frame_header want = make_header(1, 0, ops[i], masked, 125, ok + 2);
            check_all_splits(role, 0, 0, ok, okn, 1, okn, &want);

            /* 126 and 127 forms: too long, known from byte 1. */
            uint8_t f[16];
            memset(f, 0, sizeof f);
            f[0] = (uint8_t)(0x80 | ops[i]);
            f[1] = (uint8_t)(m | 126);
            f[2] = 0x00;
            f[3] = 0x7e; /* 126 in minimal form */
            assert_int_equal(decode_once(role, 0, 0, f, 8, &consumed, &h),
                             WS6455_ERR_CONTROL_TOO_LONG);
            assert_int_equal(consumed, 2);
            check_all_splits(role, 0, 0, f, 8, WS6455_ERR_CONTROL_TOO_LONG, 2, NULL);
            f[1] = (uint8_t)(m | 127);
            memset(f + 2, 0, 8);
            f[8] = 0x01; /* 65536 in minimal form */
            check_all_splits(role, 0, 0, f, 14, WS6455_ERR_CONTROL_TOO_LONG, 2, NULL);

            /* Without FIN: fragmented, known from byte 0. */
            uint8_t nf[6] = {ops[i], (uint8_t)(m | 5), 1, 2, 3, 4};
            check_all_splits(role, 0, 0, nf, okn, WS6455_ERR_CONTROL_FRAGMENTED, 1, NULL);
        }
    }
    /* Data frames may be long and fragmented. */
    uint8_t f[4] = {0x02, 0x7e, 0x01, 0x00};
    ws6455_frame_header want = make_header(0, 0, WS6455_OP_BINARY, 0, 256, NULL);
    check_all_splits(WS6455_ROLE_CLIENT, 0, 0, f, 4, 1, 4, &want);
}

static void test_rsv_bits(void **state)
{
    (void)state;
    static const unsigned bits[] = {WS6455_RSV1, WS6455_RSV2, WS6455_RSV3};
    for (size_t i = 0; i < 3; i++) {
        uint8_t f[2] = {(uint8_t)(0x81 | bits[i]), 0x03};
        ws6455_frame_header h;
        size_t consumed;
        check_all_splits(WS6455_ROLE_CLIENT, 0, 0, f, 2, WS6455_ERR_RSV_BITS, 1, NULL);
        /* Allowing a different bit does not help. */
        check_all_splits(WS6455_ROLE_CLIENT, 0x70 & ~bits[i], 0, f, 2, WS6455_ERR_RSV_BITS, 1,
                         NULL);
        ws6455_frame_header want = make_header(1, bits[i], WS6455_OP_TEXT, 0, 3, NULL);
        check_all_splits(WS6455_ROLE_CLIENT, bits[i], 0, f, 2, 1, 2, &want);
        assert_int_equal(decode_once(WS6455_ROLE_CLIENT, 0x70, 0, f, 2, &consumed, &h), 1);
        assert_int_equal(h.rsv, bits[i]);

        uint8_t out[WS6455_MAX_HEADER_SIZE];
        assert_int_equal(ws6455_frame_header_encode(out, &want), 2);
        assert_memory_equal(out, f, 2);
    }
    /* Bits outside 0x70 in allowed_rsv are ignored. */
    uint8_t f[2] = {0xC1, 0x00};
    ws6455_frame_header h;
    size_t consumed;
    assert_int_equal(decode_once(WS6455_ROLE_CLIENT, 0x8F, 0, f, 2, &consumed, &h),
                     WS6455_ERR_RSV_BITS);
    assert_int_equal(decode_once(WS6455_ROLE_CLIENT, 0xFF, 0, f, 2, &consumed, &h), 1);
    assert_int_equal(h.rsv, WS6455_RSV1);
}

static void test_mask_by_role(void **state)
{
    (void)state;
    uint8_t unmasked[2] = {0x81, 0x00};
    uint8_t masked[6] = {0x81, 0x80, 1, 2, 3, 4};
    /* A server receives client frames: they must be masked. */
    check_all_splits(WS6455_ROLE_SERVER, 0, 0, unmasked, 2, WS6455_ERR_MASK_REQUIRED, 2, NULL);
    ws6455_frame_header want = make_header(1, 0, WS6455_OP_TEXT, 1, 0, masked + 2);
    check_all_splits(WS6455_ROLE_SERVER, 0, 0, masked, 6, 1, 6, &want);
    /* A client receives server frames: they must not be. */
    check_all_splits(WS6455_ROLE_CLIENT, 0, 0, masked, 6, WS6455_ERR_MASK_FORBIDDEN, 2, NULL);
    want = make_header(1, 0, WS6455_OP_TEXT, 0, 0, NULL);
    check_all_splits(WS6455_ROLE_CLIENT, 0, 0, unmasked, 2, 1, 2, &want);
    /* An unknown role is treated as the stricter server. */
    check_all_splits(7, 0, 0, unmasked, 2, WS6455_ERR_MASK_REQUIRED, 2, NULL);
    /* Unmasked headers report an all-zero key. */
    ws6455_frame_header h;
    size_t consumed;
    memset(&h, 0xAB, sizeof h);
    assert_int_equal(decode_once(WS6455_ROLE_CLIENT, 0, 0, unmasked, 2, &consumed, &h), 1);
    assert_int_equal(h.mask[0] | h.mask[1] | h.mask[2] | h.mask[3], 0);
}

/* Headers breaking several rules: the first in byte order wins, whatever
 * the split (the order is documented in src/frame.c). */
static void test_error_order(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        int role;
        unsigned allowed_rsv;
        int err;
        size_t pos;
    } cases[] = {
        /* no FIN, all RSV, reserved opcode 11, wrong mask, 127 form */
        {"3b ff 80 00 00 00 00 00 00 00", WS6455_ROLE_CLIENT, 0, WS6455_ERR_RSV_BITS, 1},
        {"3b ff 80 00 00 00 00 00 00 00", WS6455_ROLE_CLIENT, 0x70, WS6455_ERR_BAD_OPCODE, 1},
        /* ping without FIN, wrong mask, too long */
        {"09 fe 00 00", WS6455_ROLE_CLIENT, 0, WS6455_ERR_CONTROL_FRAGMENTED, 1},
        /* ping with FIN, wrong mask, too long */
        {"89 fe 00 00", WS6455_ROLE_CLIENT, 0, WS6455_ERR_MASK_FORBIDDEN, 2},
        {"89 7f 80 00 00 00 00 00 00 00", WS6455_ROLE_SERVER, 0, WS6455_ERR_MASK_REQUIRED, 2},
        /* ping, right mask, 64-bit form with top bit set: too long first */
        {"89 7f 80 00 00 00 00 00 00 00", WS6455_ROLE_CLIENT, 0, WS6455_ERR_CONTROL_TOO_LONG, 2},
        /* binary, wrong mask and non-minimal length */
        {"82 fe 00 10 01 02 03 04", WS6455_ROLE_CLIENT, 0, WS6455_ERR_MASK_FORBIDDEN, 2},
        {"82 7e 00 10", WS6455_ROLE_CLIENT, 0, WS6455_ERR_LENGTH_NOT_MINIMAL, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t f[16];
        size_t n = tu_hex(cases[i].hex, f, sizeof f);
        check_all_splits(cases[i].role, cases[i].allowed_rsv, 0, f, n, cases[i].err,
                         cases[i].pos, NULL);
    }
}

static void test_error_is_sticky(void **state)
{
    (void)state;
    ws6455_frame_decoder d;
    ws6455_frame_header h;
    size_t consumed;
    /* Fails at the last byte of a 4-byte header: further bytes must neither
     * resume the header nor overrun the decoder's buffer. */
    uint8_t bad[4] = {0x82, 0x7e, 0x00, 0x05};
    uint8_t good[2] = {0x82, 0x00};
    ws6455_frame_decoder_init(&d, WS6455_ROLE_CLIENT, 0, 0);
    assert_int_equal(ws6455_frame_decode(&d, bad, 4, &consumed, &h),
                     WS6455_ERR_LENGTH_NOT_MINIMAL);
    assert_int_equal(consumed, 4);
    for (int i = 0; i < 40; i++) {
        consumed = 99;
        assert_int_equal(ws6455_frame_decode(&d, good, 2, &consumed, &h),
                         WS6455_ERR_LENGTH_NOT_MINIMAL);
        assert_int_equal(consumed, 0);
    }
    assert_int_equal(ws6455_frame_decoder_needed(&d), 0);
    /* Re-initialising recovers. */
    ws6455_frame_decoder_init(&d, WS6455_ROLE_CLIENT, 0, 0);
    assert_int_equal(ws6455_frame_decode(&d, good, 2, &consumed, &h), 1);
}

/* An independent, deliberately plain statement of the rules in the order
 * src/frame.c documents; p must hold the whole header. Returns the status
 * and the total position at which it is known. */
static int ref_decode(int role, unsigned allowed_rsv, unsigned flags, const uint8_t *p,
                      size_t *pos, ws6455_frame_header *h)
{
    unsigned b0 = p[0], b1 = p[1], op = b0 & 15, len7 = b1 & 127;
    int lenient = (flags & WS6455_FRAME_LENIENT_LENGTH) != 0;
    int masked = b1 >> 7;
    *pos = 1;
    if (b0 & 0x70 & ~allowed_rsv)
        return WS6455_ERR_RSV_BITS;
    if (!opcode_valid(op))
        return WS6455_ERR_BAD_OPCODE;
    if (op >= 8 && !(b0 & 0x80))
        return WS6455_ERR_CONTROL_FRAGMENTED;
    *pos = 2;
    if (role == WS6455_ROLE_SERVER && !masked)
        return WS6455_ERR_MASK_REQUIRED;
    if (role == WS6455_ROLE_CLIENT && masked)
        return WS6455_ERR_MASK_FORBIDDEN;
    if (op >= 8 && len7 > 125)
        return WS6455_ERR_CONTROL_TOO_LONG;
    uint64_t len = len7;
    size_t at = 2;
    if (len7 == 126) {
        len = (uint64_t)p[2] * 256 + p[3];
        at = 4;
        *pos = 4;
        if (!lenient && len < 126)
            return WS6455_ERR_LENGTH_NOT_MINIMAL;
    } else if (len7 == 127) {
        *pos = 3;
        if (p[2] >= 0x80)
            return WS6455_ERR_LENGTH_TOP_BIT;
        len = 0;
        for (int k = 0; k < 8; k++)
            len = len * 256 + p[2 + k];
        at = 10;
        *pos = 8;
        if (!lenient && len < 65536)
            return WS6455_ERR_LENGTH_NOT_MINIMAL;
    }
    *h = make_header(b0 >> 7, b0 & 0x70, op, masked, len, p + at);
    *pos = at + (masked ? 4 : 0);
    return 1;
}

/* Every first two bytes, under every role, RSV allowance and length mode,
 * with extended-length bytes biased towards the boundaries: decoding in one
 * call (the fast path) and one byte at a time (the buffered path) both agree
 * with the reference, on the status, the position and the header. */
static void test_all_first_bytes_against_reference(void **state)
{
    (void)state;
    static const unsigned allowed[] = {0, WS6455_RSV1, 0x70};
    static const size_t every_byte[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    tu_rng r;
    tu_rng_seed(&r, 7);
    for (unsigned b = 0; b < 65536; b++) {
        uint8_t f[16];
        f[0] = (uint8_t)(b >> 8);
        f[1] = (uint8_t)b;
        for (size_t k = 2; k < sizeof f; k++) /* mostly zero: near the minimal-form limits */
            f[k] = tu_rng_below(&r, 4) ? 0 : (uint8_t)tu_rng_next(&r);
        if (tu_rng_below(&r, 4) == 0)
            f[2] |= 0x80; /* 64-bit top bit */
        for (int role = 0; role <= 1; role++) {
            for (size_t a = 0; a < sizeof allowed / sizeof allowed[0]; a++) {
                for (unsigned flags = 0; flags <= WS6455_FRAME_LENIENT_LENGTH; flags++) {
                    ws6455_frame_header want, got;
                    size_t want_pos, pos, consumed;
                    int want_rc = ref_decode(role, allowed[a], flags, f, &want_pos, &want);
                    int rc = decode_once(role, allowed[a], flags, f, sizeof f, &consumed, &got);
                    assert_int_equal(rc, want_rc);
                    assert_int_equal(consumed, want_pos);
                    if (rc == 1)
                        assert_header_equal(&got, &want);
                    rc = feed_split(role, allowed[a], flags, f, sizeof f, every_byte,
                                    sizeof every_byte / sizeof every_byte[0], &pos, &got);
                    assert_int_equal(rc, want_rc);
                    assert_int_equal(pos, want_pos);
                    if (rc == 1)
                        assert_header_equal(&got, &want);
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* incremental decoding                                                      */
/* ------------------------------------------------------------------------ */

static void test_needed_and_empty_input(void **state)
{
    (void)state;
    ws6455_frame_decoder d;
    ws6455_frame_header h;
    size_t consumed;
    ws6455_frame_decoder_init(&d, WS6455_ROLE_SERVER, 0, 0);
    assert_int_equal(ws6455_frame_decoder_needed(&d), 2);
    assert_int_equal(ws6455_frame_decode(&d, NULL, 0, &consumed, &h), 0);
    assert_int_equal(consumed, 0);

    uint8_t f[14] = {0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6};
    static const size_t need_after[14] = {2, 1, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    for (size_t i = 0; i < 13; i++) {
        assert_int_equal(ws6455_frame_decoder_needed(&d), need_after[i]);
        assert_int_equal(ws6455_frame_decode(&d, f + i, 1, &consumed, &h), 0);
        assert_int_equal(consumed, 1);
        assert_int_equal(ws6455_frame_decode(&d, f + i, 0, &consumed, &h), 0);
        assert_int_equal(consumed, 0);
    }
    assert_int_equal(ws6455_frame_decoder_needed(&d), 1);
    assert_int_equal(ws6455_frame_decode(&d, f + 13, 1, &consumed, &h), 1);
    assert_true(h.payload_len == 65536);
    assert_memory_equal(h.mask, f + 10, 4);
    /* Reset for the next frame. */
    assert_int_equal(ws6455_frame_decoder_needed(&d), 2);
}

/* Many frames back to back in one buffer, stepping over each payload. */
static void test_frame_stream(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 42);
    static uint8_t stream[64 * 1024];
    ws6455_frame_header hs[300];
    size_t len = 0, count = 0;
    while (count < 300) {
        uint8_t key[4];
        tu_rng_fill(&r, key, 4);
        uint64_t pl = tu_rng_below(&r, 200);
        ws6455_frame_header h = make_header(1, 0, WS6455_OP_BINARY, 1, pl, key);
        if (len + WS6455_MAX_HEADER_SIZE + pl > sizeof stream)
            break;
        int n = ws6455_frame_header_encode(stream + len, &h);
        assert_true(n > 0);
        len += (size_t)n;
        tu_rng_fill(&r, stream + len, (size_t)pl);
        len += (size_t)pl;
        hs[count++] = h;
    }
    ws6455_frame_decoder d;
    ws6455_frame_decoder_init(&d, WS6455_ROLE_SERVER, 0, 0);
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        ws6455_frame_header h;
        size_t consumed;
        assert_int_equal(ws6455_frame_decode(&d, stream + off, len - off, &consumed, &h), 1);
        assert_header_equal(&h, &hs[i]);
        off += consumed + (size_t)h.payload_len;
    }
    assert_int_equal(off, len);
}

/* Every header size, and every prefix of it, flush against a guard page. */
static void test_guard_page(void **state)
{
    (void)state;
    static const char *const hdrs[] = {
        "81 05",
        "82 7e 01 00",
        "82 7f 00 00 00 00 00 01 00 00",
        "81 85 37 fa 21 3d",
        "82 fe 01 00 37 fa 21 3d",
        "82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d",
    };
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        uint8_t f[16];
        size_t n = tu_hex(hdrs[i], f, sizeof f);
        int role = receiver_role(f[1] >> 7);
        for (size_t k = 0; k <= n; k++) {
            /* A prefix alone: more needed, nothing read past it. */
            uint8_t *g = tu_guard_copy(f, k);
            ws6455_frame_header h;
            size_t consumed;
            int rc = decode_once(role, 0, 0, g, k, &consumed, &h);
            assert_int_equal(rc, k == n ? 1 : 0);
            assert_int_equal(consumed, k);
            tu_guard_free(g, k);

            /* The prefix buffered, then the rest flush against the guard. */
            ws6455_frame_decoder d;
            ws6455_frame_decoder_init(&d, role, 0, 0);
            assert_int_equal(ws6455_frame_decode(&d, f, k, &consumed, &h), k == n ? 1 : 0);
            if (k == n)
                continue;
            g = tu_guard_copy(f + k, n - k);
            assert_int_equal(ws6455_frame_decode(&d, g, n - k, &consumed, &h), 1);
            assert_int_equal(consumed, n - k);
            tu_guard_free(g, n - k);
        }
    }
    /* Broken headers flush against the guard page, too. */
    static const char *const bad[] = {"83", "82 fe", "82 7f 80", "82 7e 00 05",
                                      "82 7f 00 00 00 00 00 00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t f[16];
        size_t n = tu_hex(bad[i], f, sizeof f);
        uint8_t *g = tu_guard_copy(f, n);
        ws6455_frame_header h;
        size_t consumed;
        assert_true(decode_once(WS6455_ROLE_CLIENT, 0, 0, g, n, &consumed, &h) < 0);
        assert_int_equal(consumed, n);
        tu_guard_free(g, n);
    }
}

/* ------------------------------------------------------------------------ */
/* encoding                                                                  */
/* ------------------------------------------------------------------------ */

static void test_encode_invalid(void **state)
{
    (void)state;
    uint8_t out[WS6455_MAX_HEADER_SIZE];
    ws6455_frame_header h = make_header(1, 0, 16, 0, 0, NULL);
    assert_int_equal(ws6455_frame_header_encode(out, &h), WS6455_ERR_INVALID_ARGUMENT);
    h.opcode = 0xFF;
    assert_int_equal(ws6455_frame_header_encode(out, &h), WS6455_ERR_INVALID_ARGUMENT);
    h.opcode = WS6455_OP_TEXT;
    static const uint8_t bad_rsv[] = {0x80, 0x08, 0x01, 0x0F, 0xF0};
    for (size_t i = 0; i < sizeof bad_rsv; i++) {
        h.rsv = bad_rsv[i];
        assert_int_equal(ws6455_frame_header_encode(out, &h), WS6455_ERR_INVALID_ARGUMENT);
    }
    h.rsv = 0x70;
    assert_int_equal(ws6455_frame_header_encode(out, &h), 2);
    assert_int_equal(out[0], 0xF1);
    h.rsv = 0;
    h.payload_len = TOP_BIT_LEN;
    assert_int_equal(ws6455_frame_header_encode(out, &h), WS6455_ERR_INVALID_ARGUMENT);
    h.payload_len = UINT64_MAX;
    assert_int_equal(ws6455_frame_header_encode(out, &h), WS6455_ERR_INVALID_ARGUMENT);
    h.payload_len = 0;
    assert_int_equal(ws6455_frame_header_encode(NULL, &h), WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455_frame_header_encode(out, NULL), WS6455_ERR_INVALID_ARGUMENT);
    /* Non-zero fin and masked mean 1. */
    h.fin = 2;
    h.masked = 9;
    memcpy(h.mask, rfc_key, 4);
    assert_int_equal(ws6455_frame_header_encode(out, &h), 6);
    assert_int_equal(out[0], 0x81);
    assert_int_equal(out[1], 0x80);
    assert_memory_equal(out + 2, rfc_key, 4);
}

/* Random header -> encode -> decode (at a random split) -> same header. */
static void test_roundtrip_random(void **state)
{
    (void)state;
    static const uint8_t data_ops[] = {0, 1, 2};
    static const uint8_t ctrl_ops[] = {8, 9, 10};
    tu_rng r;
    tu_rng_seed(&r, 6455);
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t key[4];
        tu_rng_fill(&r, key, 4);
        int ctrl = tu_rng_below(&r, 4) == 0;
        unsigned op = ctrl ? ctrl_ops[tu_rng_below(&r, 3)] : data_ops[tu_rng_below(&r, 3)];
        int fin = ctrl ? 1 : (int)tu_rng_below(&r, 2);
        unsigned rsv = (unsigned)tu_rng_below(&r, 8) << 4;
        int masked = (int)tu_rng_below(&r, 2);
        uint64_t len;
        switch (ctrl ? 0 : tu_rng_below(&r, 3)) {
        case 0:
            len = tu_rng_below(&r, 126);
            break;
        case 1:
            len = 126 + tu_rng_below(&r, 65536 - 126);
            break;
        default:
            len = 65536 + tu_rng_below(&r, MAX_LEN - 65536 + 1);
            break;
        }
        ws6455_frame_header h = make_header(fin, rsv, op, masked, len, key);
        uint8_t buf[WS6455_MAX_HEADER_SIZE + 4];
        int n = ws6455_frame_header_encode(buf, &h);
        assert_int_equal(n, (int)ws6455_frame_header_size(len, masked));
        memset(buf + n, 0x77, 4); /* payload bytes that must not be consumed */

        size_t total = (size_t)n + 4;
        size_t cut = (size_t)tu_rng_below(&r, total + 1);
        ws6455_frame_header got;
        size_t pos;
        assert_int_equal(
            feed_split(receiver_role(masked), 0x70, 0, buf, total, &cut, 1, &pos, &got), 1);
        assert_int_equal(pos, (size_t)n);
        assert_header_equal(&got, &h);
    }
}

/* ------------------------------------------------------------------------ */
/* masking                                                                   */
/* ------------------------------------------------------------------------ */

static void mask_ref(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4],
                     uint64_t offset)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] ^ key[(offset + i) % 4];
}

/* Masks n bytes from src alignment sa to dst alignment da (or in place)
 * and compares with the reference; bytes around dst must stay untouched. */
static void check_mask(const uint8_t *data, size_t n, size_t sa, size_t da, int in_place,
                       const uint8_t key[4], uint64_t offset, uint8_t *sbuf, uint8_t *dbuf,
                       uint8_t *want)
{
    enum { PAD = 16 };
    mask_ref(want, data, n, key, offset);
    memset(dbuf, 0xC3, n + 2 * PAD + 8);
    uint8_t *dst = dbuf + PAD + da;
    if (in_place) {
        memcpy(dst, data, n);
        ws6455_mask(dst, dst, n, key, offset);
    } else {
        uint8_t *src = sbuf + sa;
        memcpy(src, data, n);
        ws6455_mask(dst, src, n, key, offset);
        assert_memory_equal(src, data, n); /* the source is left alone */
    }
    assert_memory_equal(dst, want, n);
    for (size_t k = 0; k < PAD + da; k++)
        assert_int_equal(dbuf[k], 0xC3);
    for (size_t k = PAD + da + n; k < n + 2 * PAD + 8; k++)
        assert_int_equal(dbuf[k], 0xC3);
}

static void test_mask_every_alignment(void **state)
{
    (void)state;
    enum { MAXN = 300 };
    static const uint64_t offsets[] = {0, 1, 2, 3, (UINT64_C(1) << 32) + 3, UINT64_MAX};
    uint8_t data[MAXN], want[MAXN];
    /* uint64_t arrays: 8-byte aligned bases, so sa/da are true alignments. */
    uint64_t sbuf[(MAXN + 8) / 8 + 1], dbuf[(MAXN + 48) / 8 + 1];
    tu_rng r;
    tu_rng_seed(&r, 1);
    tu_rng_fill(&r, data, sizeof data);
    const uint8_t key[4] = {0x01, 0x80, 0x5A, 0xFF};
    for (size_t oi = 0; oi < sizeof offsets / sizeof offsets[0]; oi++)
        for (size_t sa = 0; sa < 8; sa++)
            for (size_t da = 0; da < 8; da++)
                for (size_t n = 0; n <= MAXN; n++)
                    check_mask(data, n, sa, da, 0, key, offsets[oi], (uint8_t *)sbuf,
                               (uint8_t *)dbuf, want);
    for (size_t oi = 0; oi < sizeof offsets / sizeof offsets[0]; oi++)
        for (size_t da = 0; da < 8; da++)
            for (size_t n = 0; n <= MAXN; n++)
                check_mask(data, n, 0, da, 1, key, offsets[oi], (uint8_t *)sbuf,
                           (uint8_t *)dbuf, want);
}

static void test_mask_long_random(void **state)
{
    (void)state;
    enum { MAXN = 100 * 1024 };
    uint8_t *data = malloc(MAXN), *want = malloc(MAXN);
    uint8_t *sbuf = malloc(MAXN + 8), *dbuf = malloc(MAXN + 48);
    assert_non_null(data);
    assert_non_null(want);
    assert_non_null(sbuf);
    assert_non_null(dbuf);
    tu_rng r;
    tu_rng_seed(&r, 2);
    tu_rng_fill(&r, data, MAXN);
    for (int iter = 0; iter < 24; iter++) {
        uint8_t key[4];
        tu_rng_fill(&r, key, 4);
        size_t n = iter == 0 ? MAXN : (size_t)tu_rng_below(&r, MAXN + 1);
        check_mask(data, n, (size_t)tu_rng_below(&r, 8), (size_t)tu_rng_below(&r, 8),
                   iter & 1, key, tu_rng_next(&r), sbuf, dbuf, want);
    }
    free(data);
    free(want);
    free(sbuf);
    free(dbuf);
}

/* Unmasking a payload in random pieces with a running offset gives the same
 * bytes as one pass, in place or not. */
static void test_mask_in_pieces(void **state)
{
    (void)state;
    enum { N = 5000 };
    static uint8_t data[N], once[N], pieces[N];
    tu_rng r;
    tu_rng_seed(&r, 3);
    for (int iter = 0; iter < 50; iter++) {
        uint8_t key[4];
        tu_rng_fill(&r, key, 4);
        tu_rng_fill(&r, data, N);
        size_t n = (size_t)tu_rng_below(&r, N + 1);
        uint64_t base = iter & 1 ? tu_rng_next(&r) : 0; /* frame offset to start at */
        ws6455_mask(once, data, n, key, base);
        int in_place = iter % 3 == 0;
        if (in_place)
            memcpy(pieces, data, n);
        size_t off = 0;
        while (off < n) {
            size_t k = (size_t)tu_rng_below(&r, iter & 2 ? 9 : 400);
            if (k > n - off)
                k = n - off;
            ws6455_mask(pieces + off, in_place ? pieces + off : data + off, k, key, base + off);
            off += k;
        }
        assert_memory_equal(once, pieces, n);
    }
}

/* The source flush against a guard page: masking reads no byte past it. */
static void test_mask_guard_page(void **state)
{
    (void)state;
    uint8_t data[80], out[80], want[80];
    tu_rng r;
    tu_rng_seed(&r, 4);
    tu_rng_fill(&r, data, sizeof data);
    for (size_t n = 0; n <= sizeof data; n++) {
        uint8_t *g = tu_guard_copy(data, n);
        ws6455_mask(out, g, n, rfc_key, n);
        mask_ref(want, data, n, rfc_key, n);
        assert_memory_equal(out, want, n);
        ws6455_mask(g, g, n, rfc_key, n); /* in place: the writes stop at the guard too */
        assert_memory_equal(g, want, n);
        tu_guard_free(g, n);
    }
}


/* The one-call codec: a whole frame decoded and unmasked in place. */
static void test_decode_unmask_whole_frame(void **state)
{
    (void)state;
    /* RFC 6455 5.7: a masked "Hello" from a client, then one more byte */
    uint8_t buf[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0x00};
    ws6455_frame_header h;
    uint8_t *payload = NULL;
    uint64_t size;
    for (size_t n = 0; n < 11; n++) { /* every prefix: more is needed, nothing touched */
        uint8_t copy[sizeof buf];
        memcpy(copy, buf, sizeof buf);
        assert_int_equal(ws6455_frame_decode_unmask(copy, n, WS6455_ROLE_SERVER, 0, 0, &h,
                                                    &payload, &size),
                         0);
        assert_true(size == (n >= 6 ? 11u : 0u));
        assert_memory_equal(copy, buf, sizeof buf);
    }
    assert_int_equal(ws6455_frame_decode_unmask(buf, sizeof buf, WS6455_ROLE_SERVER, 0, 0, &h,
                                                &payload, &size),
                     1);
    assert_true(size == 11);
    assert_ptr_equal(payload, buf + 6);
    assert_memory_equal(payload, "Hello", 5);
    assert_int_equal(h.opcode, WS6455_OP_TEXT);
    assert_true(h.payload_len == 5);
    /* rule violations as ws6455_frame_decode */
    uint8_t unmasked[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
    assert_int_equal(ws6455_frame_decode_unmask(unmasked, sizeof unmasked, WS6455_ROLE_SERVER, 0,
                                                0, &h, &payload, &size),
                     WS6455_ERR_MASK_REQUIRED);
    assert_true(size == 0);
    assert_int_equal(ws6455_frame_decode_unmask(unmasked, sizeof unmasked, WS6455_ROLE_CLIENT, 0,
                                                0, &h, &payload, &size),
                     1);
    assert_memory_equal(payload, "Hello", 5);
    uint8_t rsv[] = {0xc1, 0x00};
    assert_int_equal(ws6455_frame_decode_unmask(rsv, 2, WS6455_ROLE_CLIENT, 0, 0, &h, &payload,
                                                &size),
                     WS6455_ERR_RSV_BITS);
    assert_int_equal(ws6455_frame_decode_unmask(rsv, 2, WS6455_ROLE_CLIENT, WS6455_RSV1, 0, &h,
                                                &payload, &size),
                     1);
    assert_int_equal(ws6455_frame_decode_unmask(NULL, 0, WS6455_ROLE_CLIENT, 0, 0, &h, &payload,
                                                &size),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_unmasked_text),
        cmocka_unit_test(test_rfc_masked_text),
        cmocka_unit_test(test_rfc_fragmented),
        cmocka_unit_test(test_rfc_ping_pong),
        cmocka_unit_test(test_rfc_binary_256_and_64k),
        cmocka_unit_test(test_boundary_lengths),
        cmocka_unit_test(test_header_size),
        cmocka_unit_test(test_non_minimal_lengths),
        cmocka_unit_test(test_length_top_bit),
        cmocka_unit_test(test_every_opcode),
        cmocka_unit_test(test_control_frames),
        cmocka_unit_test(test_rsv_bits),
        cmocka_unit_test(test_mask_by_role),
        cmocka_unit_test(test_error_order),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_all_first_bytes_against_reference),
        cmocka_unit_test(test_needed_and_empty_input),
        cmocka_unit_test(test_frame_stream),
        cmocka_unit_test(test_guard_page),
        cmocka_unit_test(test_encode_invalid),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_mask_every_alignment),
        cmocka_unit_test(test_mask_long_random),
        cmocka_unit_test(test_mask_in_pieces),
        cmocka_unit_test(test_mask_guard_page),
        cmocka_unit_test(test_decode_unmask_whole_frame),
    };
    return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
