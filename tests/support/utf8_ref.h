/* The UTF-8 reference shared by tests/test_utf8.c and tests/exhaustive_utf8.c:
 * Unicode Table 3-7 written out position by position, and the library's
 * verdict in the same shape. It shares no code or
 * tables with src/utf8.c, which is what makes the comparison meaningful. */
#ifndef WS6455_TEST_UTF8_REF_H
#define WS6455_TEST_UTF8_REF_H

#include <stddef.h>
#include <stdint.h>

#include "ws6455.h"
#include "utf8_impl.h" /* the variants: ws6455__utf8_update_variant */

#define NO_FAIL ((size_t)-1)

/* What a validator says about a whole input. */
typedef struct {
    size_t fail;  /* fail offset, or NO_FAIL when the input is a valid prefix */
    int complete; /* valid and not ending inside a sequence */
} verdict;

/* Reference 1: Unicode Table 3-7 ("well-formed UTF-8 byte sequences"),
 * position by position. Each lead byte selects the allowed range of its
 * first continuation byte; later continuation bytes are 80..BF. A byte
 * outside the allowed range is where the input stops being completable. */
static inline verdict ref_scan(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (b <= 0x7F) {
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            len = 2;
        } else if (b == 0xE0) {
            len = 3, lo = 0xA0;
        } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
            len = 3;
        } else if (b == 0xED) {
            len = 3, hi = 0x9F;
        } else if (b == 0xF0) {
            len = 4, lo = 0x90;
        } else if (b >= 0xF1 && b <= 0xF3) {
            len = 4;
        } else if (b == 0xF4) {
            len = 4, hi = 0x8F;
        } else { /* 80..BF without a lead, C0, C1, F5..FF */
            return (verdict){i, 0};
        }
        for (size_t k = 1; k < len; k++) {
            if (i + k == n)
                return (verdict){NO_FAIL, 0}; /* cut off: a valid prefix */
            uint8_t c = p[i + k];
            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF))
                return (verdict){i + k, 0};
        }
        i += len;
    }
    return (verdict){NO_FAIL, 1};
}

/* The library's verdict on the same input through one variant of the
 * validator (src/utf8_impl.h): one update, then finish. */
static inline verdict lib_oneshot(int variant, const uint8_t *p, size_t n)
{
    ws6455_utf8 v;
    size_t at = 12345;
    ws6455_utf8_init(&v);
    if (ws6455__utf8_update_variant(&v, p, n, &at, variant) != WS6455_OK)
        return (verdict){at, 0};
    return (verdict){NO_FAIL, ws6455_utf8_finish(&v) == WS6455_OK};
}

/* Short inputs inside ASCII, for the vector kernels: s[0..len) at EMBED_AT
 * of EMBED_LEN bytes, so that the first vector (16 or 32 bytes, with its
 * context shifted in) ends inside or just after them and the last vector
 * (overlapping, with context read from memory) covers them again. */
#define EMBED_AT 14
#define EMBED_LEN 40

/* What the reference verdict `want` on s becomes inside the ASCII: a
 * failure moves by EMBED_AT; a cut-off sequence fails at the 'a' after it. */
static inline verdict embedded_verdict(verdict want, size_t len)
{
    if (want.fail != NO_FAIL)
        want.fail += EMBED_AT;
    else if (!want.complete)
        want.fail = EMBED_AT + len;
    want.complete = want.fail == NO_FAIL;
    return want;
}

/* The variant's verdict on s embedded in emb[EMBED_LEN] (which holds 'a'
 * outside EMBED_AT..EMBED_AT+len). */
static inline verdict lib_embedded(int variant, uint8_t *emb, const uint8_t *s, size_t len)
{
    for (size_t k = 0; k < len; k++)
        emb[EMBED_AT + k] = s[k];
    return lib_oneshot(variant, emb, EMBED_LEN);
}

#endif
