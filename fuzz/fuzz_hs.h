/* What the two handshake targets share: the parser limits a fuzz byte
 * picks (default, small, tiny, one header line), so both parsers are
 * driven into every limit the same way, and the piecewise feeding with the
 * checks both parsers promise. */
#ifndef WS6455_FUZZ_HS_H
#define WS6455_FUZZ_HS_H

#include "fuzz.h"
#include "handshake.h"

/* Limits by the low two bits of sel: {max_size, max_headers, max_line}. */
static FZ_UNUSED const ws6455__hs_limits *fz_hs_limits(unsigned sel)
{
    static const ws6455__hs_limits lims[4] = {
        {8192, 64, 8192}, {512, 8, 128}, {64, 2, 32}, {4096, 1, 4096}};
    return &lims[sel & 3u];
}

/* A head parser's feed: ws6455__hs_server_feed or _client_feed behind a
 * void * (each target wraps its own, since the two take different types). */
typedef int (*fz_hs_feed)(void *parser, const uint8_t *p, size_t n, size_t *used);

/* Feeds p[0..n) in the pieces `lens` gives and checks what both parsers
 * promise: used <= piece, all of a piece is taken while the head is
 * incomplete, never more head than lim->max_size, and a final result is
 * sticky (the same result again, nothing used). Returns the result. */
static FZ_UNUSED int fz_hs_feed_pieces(fz_hs_feed feed, void *parser, const ws6455__hs_limits *lim,
                                       const uint8_t *p, size_t n, const uint8_t *lens, size_t nl)
{
    fz_pieces ps;
    fz_pieces_init(&ps, p, n, lens, nl);
    size_t len, total = 0;
    uint8_t *piece;
    int rc = 0;
    while ((piece = fz_piece(&ps, &len)) != NULL) {
        size_t used = 99999;
        rc = feed(parser, piece, len, &used);
        FZ_CHECK(used <= len);
        total += used;
        FZ_CHECK(total <= lim->max_size || rc < 0);
        if (rc != 0)
            break;
        FZ_CHECK(used == len);
        ps.off += len;
    }
    fz_pieces_end(&ps);
    if (rc != 0) {
        size_t used = 99999;
        FZ_CHECK(feed(parser, p, n, &used) == rc && used == 0);
    }
    return rc;
}

#endif
