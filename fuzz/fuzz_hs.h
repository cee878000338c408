/* What the two handshake targets share: the parser limits a fuzz byte
 * picks (default, small, tiny, one header line), so both parsers are
 * driven into every limit the same way. */
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

#endif
