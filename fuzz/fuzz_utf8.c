/* UTF-8: the library's validator against fuzz/fuzz.h's byte-by-byte
 * reference. They must agree on validity and on the fail offset (the
 * library promises to fail at the first byte no continuation can save),
 * whole and when the input is fed in fuzz-chosen pieces, at every
 * alignment (the fast paths read words and SSE blocks).
 * Input: byte 0 = alignment (low 4 bits) and piece count (high 4 bits),
 * then one byte per piece length, then the text. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    unsigned b0 = fz_u8(&in);
    unsigned align = b0 & 15u, npieces = b0 >> 4;
    const uint8_t *lens;
    size_t nl = fz_take(&in, npieces, &lens);
    size_t n = in.n;

    /* The text at the chosen alignment, ending exactly at the end of its
     * allocation so ASan catches a read past it. */
    uint8_t *base = malloc(align + n + 1);
    FZ_CHECK(base != NULL);
    uint8_t *p = base + align;
    if (n)
        memcpy(p, in.p, n);

    size_t ref_fail;
    int ref_ok = fz_utf8_ref_valid(p, n, &ref_fail);
    int ref_bad = ref_fail < n; /* provably invalid at ref_fail */

    FZ_CHECK(ws6455_utf8_valid(p, n) == ref_ok);

    /* Whole. */
    ws6455_utf8 v;
    ws6455_utf8_init(&v);
    size_t at = 99999;
    int rc = ws6455_utf8_update(&v, p, n, &at);
    if (ref_bad) {
        FZ_CHECK(rc == WS6455_ERR_UTF8 && at == ref_fail);
        FZ_CHECK(ws6455_utf8_finish(&v) == WS6455_ERR_UTF8);
        /* Sticky: further input fails at offset 0. */
        at = 7;
        FZ_CHECK(ws6455_utf8_update(&v, (const uint8_t *)"a", 1, &at) == WS6455_ERR_UTF8 &&
                 at == 0);
    } else {
        FZ_CHECK(rc == WS6455_OK && at == 99999);
        FZ_CHECK((ws6455_utf8_finish(&v) == WS6455_OK) == ref_ok);
    }

    /* In pieces (the last piece takes the rest; lengths cycle). */
    ws6455_utf8_init(&v);
    size_t off = 0, i = 0;
    int failed = 0;
    while (off < n || i == 0) {
        size_t len = nl ? lens[i % nl] : n;
        if (i + 1 >= 64 || len > n - off)
            len = n - off;
        i++;
        at = 99999;
        rc = ws6455_utf8_update(&v, p + off, len, &at);
        if (rc != WS6455_OK) {
            FZ_CHECK(rc == WS6455_ERR_UTF8 && ref_bad && off + at == ref_fail && at < len);
            failed = 1;
            break;
        }
        /* Still valid so far: the reference agrees up to here. */
        FZ_CHECK(!ref_bad || ref_fail >= off + len);
        off += len;
        if (n == 0)
            break;
    }
    FZ_CHECK(failed == ref_bad);
    if (!failed)
        FZ_CHECK((ws6455_utf8_finish(&v) == WS6455_OK) == ref_ok);
    free(base);
    return 0;
}
