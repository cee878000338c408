/* The frame header writer the library's send paths share: the public
 * ws6455_frame_header_encode without its argument checks, for headers the
 * library builds itself (valid by construction). */
#ifndef WS6455_FRAME_H
#define WS6455_FRAME_H

#include "ws6455.h"

/* Writes h's header to out; returns its size (2 to 14 bytes). h->opcode
 * is at most 0x0F, h->rsv within the RSV bits, h->payload_len below 2^63. */
size_t ws6455__frame_header_write(uint8_t out[WS6455_MAX_HEADER_SIZE], const ws6455_frame_header *h);

#endif
