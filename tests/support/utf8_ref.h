/* The UTF-8 reference shared by tests/test_utf8.c and tests/exhaustive_utf8.c:
 * Unicode Table 3-7 written out position by position, and the library's
 * verdict in the same shape. It shares no code or
 * tables with src/utf8.c, which is what makes the comparison meaningful. */
#ifndef WS6455_TEST_UTF8_REF_H
#define WS6455_TEST_UTF8_REF_H

#include <stddef.h>
#include <stdint.h>

#include "ws6455.h"

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
static verdict ref_scan(const uint8_t *p, size_t n)
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

/* The library's verdict on the same input: one update, then finish. */
static verdict lib_oneshot(const uint8_t *p, size_t n)
{
    ws6455_utf8 v;
    size_t at = 12345;
    ws6455_utf8_init(&v);
    if (ws6455_utf8_update(&v, p, n, &at) != WS6455_OK)
        return (verdict){at, 0};
    return (verdict){NO_FAIL, ws6455_utf8_finish(&v) == WS6455_OK};
}

#endif
