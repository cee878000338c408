/* UTF-8: the library's validator against fuzz/fuzz.h's byte-by-byte
 * reference. They must agree on validity and on the fail offset (the
 * library promises to fail at the first byte no continuation can save),
 * whole and when the input is fed in fuzz-chosen pieces, at every
 * alignment (the fast paths read words and vectors); through the public
 * functions, through every variant of the validator this machine can run
 * (src/utf8_impl.h), and through the one-pass unmask and validate (in
 * place and into a separate buffer).
 * Input: byte 0 = alignment (low 4 bits) and piece count (high 4 bits),
 * then one byte per piece length, then the text. */
#include "fuzz.h"
#include "utf8_impl.h"

enum { PLAIN, MASKED_IN_PLACE, MASKED_APART };

/* Feeds p[0..n) in the pieces (lengths cycle; the last takes the rest)
 * through one variant: plain, or masked with key first and unmasked by the
 * library in place (p is masked here) or into a separate buffer (from a
 * masked copy). Checks the verdict against the reference's, and that
 * masked text comes back unmasked, with nothing written past the
 * destination and the separate source left as it was. */
static void check_variant(uint8_t *p, size_t n, const uint8_t *lens, size_t nl, int variant,
                          int mode, size_t ref_fail, int ref_ok)
{
    static const uint8_t key[4] = {0x5A, 0x80, 0xFF, 0x17};
    int ref_bad = ref_fail < n;
    uint8_t *src = p, *dst = p, *apart = NULL;
    if (mode == MASKED_IN_PLACE)
        ws6455_mask(p, p, n, key, 0);
    if (mode == MASKED_APART) {
        apart = malloc(2 * n + 1);
        FZ_CHECK(apart != NULL);
        src = apart;
        dst = apart + n;
        ws6455_mask(src, p, n, key, 0);
        memset(dst, 0xEE, n + 1);
    }
    ws6455_utf8 v;
    ws6455_utf8_init(&v);
    size_t off = 0, i = 0;
    int failed = 0;
    while (off < n || i == 0) {
        size_t len = nl ? lens[i % nl] : n;
        if (i + 1 >= 64 || len > n - off)
            len = n - off;
        i++;
        size_t at = 99999;
        int rc = mode != PLAIN ? ws6455__utf8_unmask_update_variant(&v, dst + off, src + off, len,
                                                                    key, off, &at, variant)
                               : ws6455__utf8_update_variant(&v, p + off, len, &at, variant);
        if (rc != WS6455_OK) {
            FZ_CHECK(rc == WS6455_ERR_UTF8 && ref_bad && off + at == ref_fail && at < len);
            failed = 1;
            if (mode != PLAIN) /* the rest was unmasked all the same; this does the rest */
                ws6455_mask(dst + off + len, src + off + len, n - off - len, key, off + len);
            break;
        }
        FZ_CHECK(!ref_bad || ref_fail >= off + len);
        off += len;
        if (n == 0)
            break;
    }
    FZ_CHECK(failed == ref_bad);
    if (!failed)
        FZ_CHECK((ws6455_utf8_finish(&v) == WS6455_OK) == ref_ok);
    if (mode == MASKED_APART) {
        FZ_CHECK((n == 0 || memcmp(dst, p, n) == 0) && dst[n] == 0xEE);
        ws6455_mask(src, src, n, key, 0);
        FZ_CHECK(n == 0 || memcmp(src, p, n) == 0);
        free(apart);
    }
}

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

    /* Every variant, plain and masked. */
    uint8_t *copy = malloc(n + 1);
    FZ_CHECK(copy != NULL);
    for (int var = 0; var < WS6455__UTF8_VARIANTS; var++) {
        if (!ws6455__utf8_variant_available(var))
            continue;
        check_variant(p, n, lens, nl, var, PLAIN, ref_fail, ref_ok);
        if (n)
            memcpy(copy, p, n);
        check_variant(p, n, lens, nl, var, MASKED_IN_PLACE, ref_fail, ref_ok);
        FZ_CHECK(n == 0 || memcmp(copy, p, n) == 0); /* unmasked exactly */
        check_variant(p, n, lens, nl, var, MASKED_APART, ref_fail, ref_ok);
    }
    free(copy);
    free(base);
    return 0;
}
