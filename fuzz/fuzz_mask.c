/* Masking: ws6455_mask (word at a time, with an alignment prologue) against
 * a byte-by-byte reference, with a running offset across fuzz-chosen
 * pieces, at fuzz-chosen source and destination alignments, in place and
 * out of place. Input: 4 key bytes, 8 offset bytes, 1 byte of alignments,
 * 1 byte mode/piece count, piece lengths (2 bytes each), then the data. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t key[4];
    for (int i = 0; i < 4; i++)
        key[i] = fz_u8(&in);
    uint64_t offset = fz_u64(&in);
    unsigned al = fz_u8(&in), mode = fz_u8(&in);
    unsigned sa = al & 15u, da = al >> 4, in_place = mode & 1u, npieces = (mode >> 1) & 31u;
    uint16_t lens[32];
    for (unsigned i = 0; i < npieces; i++)
        lens[i] = fz_u16(&in);
    size_t n = in.n;

    uint8_t *expect = malloc(n ? n : 1);
    uint8_t *sbase = malloc(sa + n + 1);
    uint8_t *dbase = malloc(da + n + 1);
    FZ_CHECK(expect && sbase && dbase);
    /* Buffers end exactly where their data does (ASan catches over-reads
     * and over-writes past the end). */
    uint8_t *src = sbase + sa + 1;
    uint8_t *dst = in_place ? src : dbase + da + 1;
    if (n)
        memcpy(src, in.p, n);
    for (size_t i = 0; i < n; i++)
        expect[i] = (uint8_t)(in.p[i] ^ key[(offset + i) % 4]);

    size_t off = 0, i = 0;
    while (off < n) {
        size_t len = npieces ? lens[i % npieces] : n;
        i++;
        if (len > n - off || i > 256)
            len = n - off;
        ws6455_mask(dst + off, src + off, len, key, offset + off);
        off += len;
    }
    if (n == 0)
        ws6455_mask(dst, src, 0, key, offset);
    FZ_CHECK(n == 0 || memcmp(dst, expect, n) == 0);
    /* Masking is its own inverse. */
    ws6455_mask(dst, dst, n, key, offset);
    FZ_CHECK(n == 0 || memcmp(dst, in.p, n) == 0);
    free(expect);
    free(sbase);
    free(dbase);
    return 0;
}
