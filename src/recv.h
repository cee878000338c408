/* Internal: incoming frames (recv.c), below the public entry points in
 * conn.c. */
#ifndef WS6455_RECV_H
#define WS6455_RECV_H

#include "core.h"

/* Processes frame bytes (OPEN or CLOSING), unmasking them in place and
 * delivering events. Stops at a failure, the peer's close, or a free
 * requested from a callback. */
void ws6455__rx_frames(ws6455_conn *c, uint8_t *p, size_t n);

#endif
