/* Internal: the opening handshake (RFC 6455 section 4), both roles. The
 * connection engine drives it while in the CONNECTING state; it is also
 * usable on its own. Parsers are incremental and bounded: they buffer at
 * most the configured request/response size. */
#ifndef WS6455_HANDSHAKE_H
#define WS6455_HANDSHAKE_H

#include "alloc.h"
#include "ws6455.h"

/* Size limits of one HTTP head (request or response). A zero field (or a
 * NULL pointer to the struct) means the default. */
typedef struct ws6455__hs_limits {
    size_t max_size;    /* whole head, request line to blank line (default 8192) */
    size_t max_headers; /* header lines (default 64) */
    size_t max_line;    /* any one line (default 8192) */
} ws6455__hs_limits;

/* ---------------------------------------------------------------- server */

typedef struct ws6455__hs_server ws6455__hs_server; /* defined in hs_server.c */

/* Allocates the server handshake state (NULL on allocation failure). */
ws6455__hs_server *ws6455__hs_server_new(const ws6455_allocator *a, const ws6455__hs_limits *lim);
void ws6455__hs_server_free(ws6455__hs_server *s);

/* Whether the head's header lines are kept for the request view: by
 * default yes, never with WS6455_NO_REQUEST_HEADERS. With 0 the server
 * reads as that build does (the view then has no headers or extension
 * offers), which lets tests and fuzzing compare both ways in one build.
 * Only before the first byte is fed. */
void ws6455__hs_server_keep_headers(ws6455__hs_server *s, int keep);

/* Feeds request bytes, in any split. Returns
 *   0  more needed (*consumed = n);
 *   1  a complete request that passed every rule of section 4.2.1;
 *      *consumed = bytes up to and including the blank line; what follows
 *      is frame input and is not consumed;
 *  <0  the request failed a rule (WS6455_ERR_HS_*, WS6455_ERR_NOMEM);
 *      sticky. */
int ws6455__hs_server_feed(ws6455__hs_server *s, const uint8_t *p, size_t n, size_t *consumed);

/* Validates a request that an embedding HTTP server already parsed, with
 * the same rules as _feed (the HTTP version included) and the same limits.
 * Everything is copied. Returns 1 (valid) or <0 as _feed;
 * WS6455_ERR_INVALID_ARGUMENT for NULL strings with lengths;
 * WS6455_ERR_INVALID_STATE after _feed or a previous call. */
int ws6455__hs_server_set_parsed(ws6455__hs_server *s, const ws6455_http_request *r);

/* The request, after _feed or _set_parsed returned 1 (NULL otherwise). */
const ws6455_request *ws6455__hs_server_request(const ws6455__hs_server *s);

/* The first of `supported` (server preference order) that the client
 * offered, or NULL. */
const char *ws6455__hs_choose_protocol(const ws6455_request *r, const char *const *supported,
                                       size_t supported_count);

/* Appends the response for the application's reply: the 101 (Upgrade,
 * Connection, Sec-WebSocket-Accept, Sec-WebSocket-Protocol only when one
 * was chosen, extra headers) or, for status 400..599, a complete rejection
 * (status line, Content-Type: text/plain, Content-Length, Connection: close,
 * extra headers, body). Returns WS6455_OK, WS6455_ERR_INVALID_ARGUMENT (bad
 * status, subprotocol not offered, CR/LF/NUL in a header, a header the
 * library writes itself such as Content-Length), WS6455_ERR_INVALID_STATE
 * (no valid request yet) or WS6455_ERR_NOMEM; on error nothing is
 * appended. */
int ws6455__hs_server_respond(const ws6455__hs_server *s, const ws6455_handshake_reply *reply,
                              ws6455__buf *out, const ws6455_allocator *a);

/* Appends the complete HTTP error response for an error _feed returned:
 * 405 with Allow: GET for HS_METHOD, 426 with Sec-WebSocket-Version: 13 for
 * HS_WS_VERSION, 431 for HS_TOO_LARGE, 400 otherwise (500 for NOMEM);
 * Content-Length, Connection: close and a short text body naming the
 * problem. Returns WS6455_OK or WS6455_ERR_NOMEM. */
int ws6455__hs_error_response(int err, ws6455__buf *out, const ws6455_allocator *a);

/* Appends the 500 that answers an application reply the library cannot
 * send (ws6455__hs_server_respond refused it). Returns WS6455_OK or
 * WS6455_ERR_NOMEM. */
int ws6455__hs_unusable_reply_response(ws6455__buf *out, const ws6455_allocator *a);

/* ---------------------------------------------------------------- client */

typedef struct ws6455__hs_client ws6455__hs_client; /* defined in hs_client.c */

typedef struct ws6455__hs_client_params {
    const char *host;   /* Host header value, with ":port" when not the default */
    const char *target; /* path and query, e.g. "/chat" */
    const char *origin; /* NULL: no Origin header */
    const char *const *protocols;
    size_t protocol_count;
    const ws6455_header *headers; /* extra request headers */
    size_t header_count;
    const char *extensions; /* Sec-WebSocket-Extensions offer, or NULL */
} ws6455__hs_client_params;

ws6455__hs_client *ws6455__hs_client_new(const ws6455_allocator *a, const ws6455__hs_limits *lim);
void ws6455__hs_client_free(ws6455__hs_client *c);

/* Appends the GET request with Sec-WebSocket-Key = base64(nonce) and
 * remembers the key and the offered protocols for checking the response.
 * The target must start with "/" (or "?", which gets a "/" in front; see
 * ws6455_url). Returns WS6455_OK, WS6455_ERR_INVALID_ARGUMENT (CR/LF/NUL in
 * a value, empty host/target, invalid or repeated protocol token, a header
 * the library writes itself), WS6455_ERR_INVALID_STATE (response bytes
 * already fed) or WS6455_ERR_NOMEM; on error nothing is appended. May be
 * called again before any response byte: the new key replaces the old. */
int ws6455__hs_client_request(ws6455__hs_client *c, const ws6455__hs_client_params *p,
                              const uint8_t nonce[16], ws6455__buf *out);

/* Feeds response bytes; returns 0 / 1 / <0 like the server's _feed. Errors:
 * WS6455_ERR_HS_STATUS (not 101; the response is still available),
 * HS_UPGRADE, HS_CONNECTION, HS_ACCEPT, HS_PROTOCOL, HS_EXTENSION,
 * HS_VERSION (status line older than HTTP/1.1), HS_MALFORMED, HS_TOO_LARGE,
 * NOMEM; INVALID_STATE before _request. */
int ws6455__hs_client_feed(ws6455__hs_client *c, const uint8_t *p, size_t n, size_t *consumed);

/* The response, once its head was read whole (so after _feed returned 1,
 * WS6455_ERR_HS_STATUS or another check's error); NULL before. */
const ws6455_response *ws6455__hs_client_response(const ws6455__hs_client *c);

/* The subprotocol the server chose, NUL-terminated, or NULL. */
const char *ws6455__hs_client_protocol(const ws6455__hs_client *c);

#endif
