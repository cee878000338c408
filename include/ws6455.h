/*
 * ws6455 — an embeddable RFC 6455 (WebSocket) protocol library.
 *
 * This header is the reference documentation: every public symbol is
 * documented where it is declared. The library performs no I/O, reads no
 * clock, starts no thread and keeps no global mutable state. Every function
 * is safe to call concurrently on different objects; one object (decoder,
 * validator, connection) must not be used by two threads at once.
 *
 * Conventions
 *  - Functions that can fail return an int: 0 (WS6455_OK) or a positive
 *    count on success, a negative WS6455_ERR_* code on failure. The codes a
 *    function can return are listed in its comment.
 *  - No ssize_t in the API; lengths are size_t, wire lengths uint64_t.
 *  - Structs marked "caller-owned" may live on the stack and need no free.
 *  - Pointer arguments must not be NULL unless the comment says what NULL
 *    means. Out-parameters documented "(if not NULL)" may be NULL. A data
 *    pointer may be NULL when its length is 0.
 *  - Which calls may be made from inside callbacks: see ws6455_callbacks.
 *
 * Build switches (the library's own compile flags, in the style of SQLite's
 * OMIT options; see docs/embedded.md for the code size of each):
 *  - WS6455_WITH_ZLIB (make WITH_ZLIB=1): permessage-deflate through zlib.
 *    Without it offers are declined and ws6455_deflate_available() is 0.
 *  - WS6455_NO_CLIENT: the server role only. The functions marked
 *    "client role" below are left out (a program calling one fails to
 *    link), and a configuration with WS6455_ROLE_CLIENT is refused with
 *    WS6455_ERR_UNSUPPORTED naming the field "role". A context keeps no
 *    copy of the configuration's client fields (host, target, origin,
 *    headers: they are still checked).
 *  - WS6455_NO_OS_RANDOM: no getrandom(), open() or read() of
 *    /dev/urandom. Only the client role draws random bytes (masking keys
 *    and the handshake nonce), so a client context must then have the
 *    `random` callback: without it creation fails with
 *    WS6455_ERR_UNSUPPORTED naming "random".
 *  - WS6455_NO_ERROR_STRINGS: ws6455_strerror() returns "error" (or
 *    "success" for 0) and ws6455_errname() "ERR" (or "OK"), so the close
 *    reasons and HTTP error bodies the library writes say "error" instead
 *    of naming the rule, and HTTP rejections carry the reason phrase
 *    "Client Error" or "Server Error"; codes, close codes and statuses are
 *    unchanged.
 *  - WS6455_NO_REQUEST_HEADERS: a server keeps no header lines of the
 *    request. Every rule is checked as each line streams past, with the same
 *    answers, so reading a request holds its request line, one header line,
 *    the Origin and the offered subprotocols instead of the whole head (up
 *    to max_handshake_size). The request view keeps its method, target,
 *    Origin (ws6455_request_origin) and offered subprotocols; the functions
 *    marked "request headers" below are left out (a program calling one
 *    fails to link), so on_request cannot read cookies or credentials:
 *    authenticate inside the connection. Cannot be combined with
 *    WS6455_WITH_ZLIB, which needs the extension offers.
 *  - WS6455_NO_RESPONSE_EXTRAS: a server's handshake responses carry what
 *    RFC 6455 and HTTP require and nothing more. A rejection has no body
 *    ("Content-Length: 0", no Content-Type); its status and the headers
 *    its status needs (Allow for 405; Upgrade and Sec-WebSocket-Version for
 *    426) stay. on_request still chooses the status and the subprotocol,
 *    but a reply that sets ws6455_handshake_reply.headers, .header_count or
 *    .body, which this build cannot send, is refused as an unusable reply:
 *    the client gets 500 and on_error WS6455_ERR_CALLBACK.
 *  - WS6455_NO_CALLBACK_IO: sans-I/O only (ws6455_conn_recv,
 *    ws6455_conn_pending / _consume). ws6455_conn_on_readable and
 *    ws6455_conn_on_writable are left out (a program calling one fails to
 *    link), and so is writing through to the socket (WS6455_WRITE_THROUGH
 *    has no effect); a context whose callbacks set read, write or writev
 *    is refused with WS6455_ERR_UNSUPPORTED naming that callback.
 *
 * ABI policy (see docs/abi.md): while the version is 0.x, every MINOR may
 * change the API and ABI and gets its own SONAME, libws6455.so.0.MINOR
 * (libws6455.so.0.1 for 0.1.x); a PATCH release never changes them. From
 * 1.0 on the SONAME is libws6455.so.MAJOR and changes only with an
 * incompatible release. Exported symbols carry the version node
 * WS6455_MAJOR.MINOR. Error code numbers never change once released.
 */
#ifndef WS6455_H
#define WS6455_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * WS6455_API marks the exported symbols; everything else is hidden. A
 * program may define it before including this header, as SQLite allows
 * SQLITE_API: `static` when it compiles the amalgamation (dist/ws6455.c)
 * into the same translation unit as its own code, so that the compiler
 * sees the whole program, inlines what is called once and keeps only what
 * the program uses (docs/embedded.md); or a platform's export attribute.
 */
#if !defined(WS6455_API)
#if defined(WS6455_BUILDING) && defined(__GNUC__)
#define WS6455_API __attribute__((visibility("default")))
#else
#define WS6455_API
#endif
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/** Library version as a string, "MAJOR.MINOR.PATCH". */
#define WS6455_VERSION "0.2.0"
/** Library version as a number: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define WS6455_VERSION_NUM 200

/** The version of the library actually linked (may differ from the header
 *  when linking the shared library). Never NULL. */
WS6455_API const char *ws6455_version(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * The single list every error code, name and message is generated from.
 * Columns: NAME, number (negative, stable), close code the error causes when
 * a peer commits it (0 when it is a local or caller error), message.
 *
 * Caller mistakes (INVALID_ARGUMENT, INVALID_STATE, ...) are told apart from
 * peer violations, and every peer violation carries the close code the
 * connection sends because of it (see ws6455_error_close_code()).
 */
#define WS6455_ERROR_LIST(X)                                                              \
    /* caller and local errors */                                                         \
    X(INVALID_ARGUMENT, -1, 0, "invalid argument")                                        \
    X(INVALID_STATE, -2, 0, "operation not allowed in the connection's current state")    \
    X(NOMEM, -3, 1011, "out of memory")                                                   \
    X(BUFFER_TOO_SMALL, -4, 0, "output buffer too small")                                 \
    X(WOULD_EXCEED_LIMIT, -5, 0, "output queue would exceed its configured limit")        \
    X(RANDOM, -6, 1011, "random source failed")                                           \
    X(CALLBACK, -7, 1011, "a callback reported failure")                                  \
    X(CLOSED, -8, 0, "connection is closed")                                              \
    X(IO, -9, 0, "read or write callback reported an I/O error")                          \
    X(TIMEOUT, -10, 0, "deadline passed (handshake, close handshake or keepalive)")       \
    X(ABNORMAL_CLOSURE, -11, 0, "stream ended without a close frame (1006)")              \
    X(TOO_BIG_TO_SEND, -12, 0, "frame larger than max_output_buffer: it can never be queued") \
    X(UNSUPPORTED, -13, 0, "feature left out of this build (a WS6455_NO_* switch)")        \
    /* encoding */                                                                        \
    X(BASE64, -20, 0, "invalid base64")                                                   \
    X(BAD_KEY, -21, 0, "Sec-WebSocket-Key is not base64 of exactly 16 bytes")             \
    X(UTF8, -22, 1007, "invalid UTF-8 in text")                                           \
    /* frame rules, RFC 6455 section 5 */                                                 \
    X(RSV_BITS, -30, 1002, "reserved bits set without a negotiated extension")            \
    X(BAD_OPCODE, -31, 1002, "reserved opcode")                                           \
    X(CONTROL_TOO_LONG, -32, 1002, "control frame payload longer than 125 bytes")         \
    X(CONTROL_FRAGMENTED, -33, 1002, "control frame without FIN")                         \
    X(LENGTH_TOP_BIT, -34, 1002, "64-bit payload length with the top bit set")            \
    X(LENGTH_NOT_MINIMAL, -35, 1002, "payload length not in its shortest form")           \
    X(MASK_REQUIRED, -36, 1002, "frame from a client is not masked")                      \
    X(MASK_FORBIDDEN, -37, 1002, "frame from a server is masked")                         \
    X(FRAME_TOO_BIG, -38, 1009, "frame payload exceeds max_frame_size")                   \
    X(MESSAGE_TOO_BIG, -39, 1009, "message exceeds max_message_size")                     \
    X(UNEXPECTED_CONTINUATION, -40, 1002, "continuation frame without a message")         \
    X(EXPECTED_CONTINUATION, -41, 1002, "new data frame inside a fragmented message")     \
    X(CLOSE_PAYLOAD, -42, 1002, "close frame payload of 1 byte")                          \
    X(CLOSE_CODE, -43, 1002, "invalid close code")                                        \
    X(CLOSE_REASON, -44, 1007, "close reason is not valid UTF-8")                         \
    X(DEFLATE_DATA, -45, 1007, "compressed message is not valid DEFLATE data")            \
    /* opening handshake, RFC 6455 section 4 */                                           \
    X(HS_TOO_LARGE, -60, 0, "handshake exceeds a size limit")                             \
    X(HS_MALFORMED, -61, 0, "malformed HTTP message")                                     \
    X(HS_METHOD, -62, 0, "request method is not GET")                                     \
    X(HS_VERSION, -63, 0, "HTTP version is not 1.1 or later")                             \
    X(HS_HOST, -64, 0, "missing, repeated or invalid Host header")                                 \
    X(HS_UPGRADE, -65, 0, "Upgrade header does not contain websocket")                    \
    X(HS_CONNECTION, -66, 0, "Connection header does not contain Upgrade")                \
    X(HS_KEY, -67, 0, "missing, repeated or invalid Sec-WebSocket-Key")                   \
    X(HS_WS_VERSION, -68, 0, "Sec-WebSocket-Version is not 13")                           \
    X(HS_BODY, -69, 0, "upgrade request carries a body")                                  \
    X(HS_REJECTED, -70, 0, "application rejected the handshake")                          \
    X(HS_STATUS, -71, 0, "server did not answer 101 Switching Protocols")                 \
    X(HS_ACCEPT, -72, 0, "Sec-WebSocket-Accept does not match the key")                   \
    X(HS_PROTOCOL, -73, 0, "server chose a subprotocol the client did not offer")         \
    X(HS_EXTENSION, -74, 0, "server accepted an extension the client did not offer")      \
    /* URLs */                                                                            \
    X(URL_SCHEME, -80, 0, "URL scheme is not ws or wss")                                  \
    X(URL_HOST, -81, 0, "URL host is missing or invalid")                                 \
    X(URL_PORT, -82, 0, "URL port is invalid")                                            \
    X(URL_USERINFO, -83, 0, "URL carries userinfo, which WebSocket URLs must not")        \
    X(URL_FRAGMENT, -84, 0, "URL carries a fragment, which WebSocket URLs must not")      \
    X(URL_MALFORMED, -85, 0, "malformed URL")

/** Success. */
#define WS6455_OK 0

/** Error codes: always negative. */
enum ws6455_error {
#define WS6455__ERROR_ENUM(name, num, close, msg) WS6455_ERR_##name = (num),
    WS6455_ERROR_LIST(WS6455__ERROR_ENUM)
#undef WS6455__ERROR_ENUM
    WS6455__ERR_LAST_ /* not an error; keeps the enum valid C */
};

/** A human-readable message for an error code. Never NULL: unknown codes
 *  give "unknown error", 0 gives "success". The string is static. */
WS6455_API const char *ws6455_strerror(int err);

/** The symbolic name of an error code without prefix, e.g. "UTF8" for
 *  WS6455_ERR_UTF8, "OK" for 0, "UNKNOWN" otherwise. Static, never NULL. */
WS6455_API const char *ws6455_errname(int err);

/** The close code a connection sends when the peer commits this error
 *  (1002 protocol error, 1007 invalid data, 1009 too big, 1011 internal),
 *  or 0 when the error is not a peer violation. */
WS6455_API int ws6455_error_close_code(int err);

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Allocator hooks. Every allocation the library makes goes through these,
 * with `user` passed back. A NULL pointer to this struct (or a struct whose
 * three functions are NULL) means the C library's malloc/realloc/free.
 * `resize` follows realloc's contract; `release` must accept NULL.
 */
typedef struct ws6455_allocator {
    void *(*alloc)(size_t size, void *user);             /**< like malloc */
    void *(*resize)(void *ptr, size_t size, void *user); /**< like realloc */
    void (*release)(void *ptr, void *user);              /**< like free */
    void *user;                                          /**< passed to the three */
} ws6455_allocator;

/* ------------------------------------------------------------------------ */
/* SHA-1 (FIPS 180-4) — streaming, caller-owned context                      */
/* ------------------------------------------------------------------------ */

/** SHA-1 context. Caller-owned; may live on the stack. Fields are private. */
typedef struct ws6455_sha1 {
    uint32_t h[5];      /**< private */
    uint64_t total_len; /**< private */
    uint8_t block[64];  /**< private */
    size_t block_len;   /**< private */
} ws6455_sha1;

/** Starts a new digest. */
WS6455_API void ws6455_sha1_init(ws6455_sha1 *ctx);
/** Adds n bytes (n may be 0; p may be NULL when n is 0). */
WS6455_API void ws6455_sha1_update(ws6455_sha1 *ctx, const void *p, size_t n);
/** Writes the 20-byte digest. The context must be re-initialised before reuse. */
WS6455_API void ws6455_sha1_final(ws6455_sha1 *ctx, uint8_t digest[20]);

/* ------------------------------------------------------------------------ */
/* base64 (RFC 4648, standard alphabet, with padding)                        */
/* ------------------------------------------------------------------------ */

/** Bytes needed to encode n bytes, not counting a terminating NUL. */
#define WS6455_BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/**
 * Encodes n bytes of src into dst, padded with '='. Writes exactly
 * WS6455_BASE64_ENCODED_LEN(n) characters followed by a NUL, so `dst_cap`
 * must be at least that plus one.
 * Returns the number of characters written (without the NUL), or
 * WS6455_ERR_BUFFER_TOO_SMALL (nothing useful written).
 */
WS6455_API int ws6455_base64_encode(const uint8_t *src, size_t n, char *dst, size_t dst_cap);

/**
 * Strict decode: the input length must be a multiple of 4, only the
 * standard alphabet is allowed, padding ('=') only at the end and only in
 * canonical form (the unused bits before the padding must be zero), no
 * whitespace. Writes the decoded bytes to dst and their count to *out_len.
 * Returns WS6455_OK, WS6455_ERR_BASE64, WS6455_ERR_BUFFER_TOO_SMALL or
 * WS6455_ERR_INVALID_ARGUMENT.
 */
WS6455_API int ws6455_base64_decode(const char *src, size_t n, uint8_t *dst, size_t dst_cap,
                                    size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Opening-handshake key (RFC 6455 section 4.2.2)                            */
/* ------------------------------------------------------------------------ */

/** The GUID RFC 6455 appends to the client's key. */
#define WS6455_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/**
 * Computes Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64 of
 * SHA-1(key + GUID). The key (key_len bytes, no NUL needed, no surrounding
 * whitespace) must be the base64 encoding of exactly 16 bytes, i.e. 24
 * characters ending in "==". Writes 28 characters and a NUL to out.
 * Example (RFC 6455): "dGhlIHNhbXBsZSBub25jZQ==" -> "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
 * Returns WS6455_OK, WS6455_ERR_BAD_KEY, or WS6455_ERR_INVALID_ARGUMENT
 * (NULL key or out).
 */
WS6455_API int ws6455_accept_key(const char *key, size_t key_len, char out[29]);

/* ------------------------------------------------------------------------ */
/* UTF-8 validation — incremental, fails fast                                */
/* ------------------------------------------------------------------------ */

/**
 * Incremental UTF-8 validator state. Caller-owned; initialise with
 * ws6455_utf8_init(). The state survives any split of the input, so a text
 * message can be validated chunk by chunk, fragment by fragment, or one byte
 * at a time. Fields are private.
 */
typedef struct ws6455_utf8 {
    uint32_t state; /**< private */
} ws6455_utf8;

/** Resets the validator to the start of a new text. */
WS6455_API void ws6455_utf8_init(ws6455_utf8 *v);

/**
 * Validates the next n bytes of a text. Rejects overlong forms, surrogates
 * (U+D800..U+DFFF), code points above U+10FFFF and stray continuation bytes,
 * and fails fast: it fails at the first byte after which no continuation of
 * the input could be valid UTF-8 (F4 90 fails at 90; ED A0 at A0; C0 at C0).
 * Returns WS6455_OK (the input so far is valid or a valid prefix) or
 * WS6455_ERR_UTF8, in which case *fail_at (if not NULL) is the offset within
 * this call's input of the failing byte. After a failure the validator stays
 * failed until re-initialised (further calls fail at offset 0).
 */
WS6455_API int ws6455_utf8_update(ws6455_utf8 *v, const uint8_t *p, size_t n, size_t *fail_at);

/**
 * Ends a text: returns WS6455_OK when everything fed so far is complete,
 * valid UTF-8, and WS6455_ERR_UTF8 when it failed or ends inside a sequence.
 */
WS6455_API int ws6455_utf8_finish(const ws6455_utf8 *v);

/** One-shot: 1 when p[0..n) is complete, valid UTF-8, 0 otherwise. */
WS6455_API int ws6455_utf8_valid(const uint8_t *p, size_t n);

/* ------------------------------------------------------------------------ */
/* Frames (RFC 6455 section 5)                                               */
/* ------------------------------------------------------------------------ */

/** Frame opcodes. */
enum ws6455_opcode {
    WS6455_OP_CONTINUATION = 0x0,
    WS6455_OP_TEXT = 0x1,
    WS6455_OP_BINARY = 0x2,
    WS6455_OP_CLOSE = 0x8,
    WS6455_OP_PING = 0x9,
    WS6455_OP_PONG = 0xA
};

/** Endpoint roles. A server receives masked frames and sends unmasked ones;
 *  a client the reverse. */
enum ws6455_role { WS6455_ROLE_SERVER = 0, WS6455_ROLE_CLIENT = 1 };

/** RSV bits as they appear in the first header byte. */
#define WS6455_RSV1 0x40u
#define WS6455_RSV2 0x20u /**< RSV2 bit */
#define WS6455_RSV3 0x10u /**< RSV3 bit */

/** Longest possible frame header: 2 + 8 (64-bit length) + 4 (mask key). */
#define WS6455_MAX_HEADER_SIZE 14
/** Longest control frame payload. */
#define WS6455_MAX_CONTROL_PAYLOAD 125

/** A decoded (or to-be-encoded) frame header. */
typedef struct ws6455_frame_header {
    uint64_t payload_len; /**< payload length in bytes */
    uint8_t fin;          /**< 1 when this is the final fragment */
    uint8_t rsv;          /**< RSV bits, as WS6455_RSV1|2|3 */
    uint8_t opcode;       /**< enum ws6455_opcode */
    uint8_t masked;       /**< 1 when a masking key follows */
    uint8_t mask[4];      /**< masking key, valid when masked */
} ws6455_frame_header;

/** Decoder options, for ws6455_frame_decoder_init(). */
enum ws6455_frame_flags {
    /** Accept lengths that are not in their shortest form (RFC 6455 says
     *  the minimal number of bytes MUST be used; strict by default). */
    WS6455_FRAME_LENIENT_LENGTH = 1u << 0
};

/**
 * Incremental frame-header decoder. Caller-owned; initialise with
 * ws6455_frame_decoder_init(), then call ws6455_frame_decode() with
 * whatever bytes are available. Fields are private.
 */
typedef struct ws6455_frame_decoder {
    uint8_t buf[WS6455_MAX_HEADER_SIZE]; /**< private: header bytes of a split header */
    uint8_t have;        /**< private: header bytes gathered so far */
    uint8_t need;        /**< private: header bytes needed in total, once known */
    uint8_t role;        /**< private: enum ws6455_role of the receiving side */
    uint8_t allowed_rsv; /**< private: RSV bits a negotiated extension permits */
    uint32_t flags;      /**< private: enum ws6455_frame_flags */
} ws6455_frame_decoder;

/**
 * Prepares a decoder for the receiving side `role`: a server requires every
 * frame masked, a client requires none masked. `allowed_rsv` is the RSV bits
 * a negotiated extension allows (0 without extensions). `flags` is a mask of
 * enum ws6455_frame_flags.
 */
WS6455_API void ws6455_frame_decoder_init(ws6455_frame_decoder *d, int role, unsigned allowed_rsv,
                                          unsigned flags);

/**
 * Feeds up to n bytes of header. Never reads past p[n-1]; never consumes
 * payload bytes. Returns:
 *  - 1 when the header is complete: *h holds it, *consumed the number of
 *    bytes of p that belonged to the header; the decoder is reset for the
 *    next frame;
 *  - 0 when more bytes are needed: all n bytes were consumed (*consumed = n)
 *    and ws6455_frame_decoder_needed() says at least how many more;
 *  - a negative error for the first rule the header breaks:
 *    WS6455_ERR_RSV_BITS, WS6455_ERR_BAD_OPCODE, WS6455_ERR_CONTROL_TOO_LONG,
 *    WS6455_ERR_CONTROL_FRAGMENTED, WS6455_ERR_LENGTH_TOP_BIT,
 *    WS6455_ERR_LENGTH_NOT_MINIMAL, WS6455_ERR_MASK_REQUIRED,
 *    WS6455_ERR_MASK_FORBIDDEN. Errors are reported as soon as the byte that
 *    proves them has been seen, and *consumed is then the number of bytes
 *    of p up to and including that byte, so the error's position in the
 *    stream does not depend on how the input was split. When a header
 *    breaks several rules, the first in byte order is reported (order
 *    documented in src/frame.c). The error is sticky: later calls return
 *    it again with *consumed = 0 until ws6455_frame_decoder_init().
 * *h is written only when 1 is returned. n may be 0 (p may then be NULL).
 */
WS6455_API int ws6455_frame_decode(ws6455_frame_decoder *d, const uint8_t *p, size_t n,
                                   size_t *consumed, ws6455_frame_header *h);

/** At least how many more bytes the decoder needs to finish the header. */
WS6455_API size_t ws6455_frame_decoder_needed(const ws6455_frame_decoder *d);

/** Size of the header ws6455_frame_header_encode() writes for this length
 *  and masking: 2, 4 or 10 bytes, plus 4 when masked. */
WS6455_API size_t ws6455_frame_header_size(uint64_t payload_len, int masked);

/**
 * Encodes a header in its shortest form into out (at least
 * WS6455_MAX_HEADER_SIZE bytes). Writes h->mask when h->masked.
 * Returns the header size (2..14), or WS6455_ERR_INVALID_ARGUMENT when the
 * header is not encodable (opcode above 15, RSV outside the RSV bits, or a
 * length with the top bit set). Protocol rules (control frame length, FIN)
 * are the caller's; the encoder writes what it is given.
 */
WS6455_API int ws6455_frame_header_encode(uint8_t out[WS6455_MAX_HEADER_SIZE],
                                          const ws6455_frame_header *h);

/**
 * XORs n bytes with the masking key, starting `offset` bytes into the frame's
 * payload (the key repeats every 4 bytes, so only offset % 4 matters), and
 * writes them to dst. dst may equal src (in-place unmasking); otherwise the
 * two must not overlap. Works a machine word at a time, so a payload masked
 * in arbitrary pieces with a running offset gives the same bytes as one pass.
 */
WS6455_API void ws6455_mask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4],
                            uint64_t offset);

/**
 * One call for a whole frame at the start of buf[0..n): decodes the header
 * for the receiving side `role` (flags as ws6455_frame_decoder_init; no RSV
 * bits allowed unless `allowed_rsv` says so), and when the whole frame is
 * present unmasks its payload IN PLACE and sets *payload to it. Stateless:
 * for callers that keep their input in one buffer (with an incremental
 * reader, use ws6455_frame_decoder). Returns:
 *  - 1: *h is the header, *payload points into buf, *frame_size is the
 *    frame's total size (header + payload);
 *  - 0: more bytes are needed; *frame_size is the total size of the frame
 *    once its header is complete, else 0 (the header is not complete yet);
 *    buf is not modified;
 *  - a negative error as ws6455_frame_decode() (*frame_size is 0).
 * h, payload and frame_size must not be NULL; buf may be NULL when n is 0.
 */
WS6455_API int ws6455_frame_decode_unmask(uint8_t *buf, size_t n, int role, unsigned allowed_rsv,
                                          unsigned flags, ws6455_frame_header *h,
                                          uint8_t **payload, uint64_t *frame_size);


/* ------------------------------------------------------------------------ */
/* Opening handshake: request and response views, URLs                       */
/* ------------------------------------------------------------------------ */

/** An HTTP header as two byte strings (not NUL-terminated). */
typedef struct ws6455_header {
    const char *name;  /**< header name */
    size_t name_len;   /**< its length */
    const char *value; /**< header value */
    size_t value_len;  /**< its length */
} ws6455_header;

/**
 * The opening-handshake request a server received: a read-only view, valid
 * only during the on_request callback. All strings returned are byte
 * strings with their length; they are also NUL-terminated.
 */
typedef struct ws6455_request ws6455_request;

/** Request method, e.g. "GET". */
WS6455_API const char *ws6455_request_method(const ws6455_request *r, size_t *len);
/** Request target (path and query), e.g. "/chat?room=1". */
WS6455_API const char *ws6455_request_target(const ws6455_request *r, size_t *len);
/**
 * Value of a header by case-insensitive name, optional whitespace trimmed;
 * repeated headers are joined with ", " as RFC 7230 section 3.2.2 allows.
 * NULL when absent. Use it for Host, Origin (check it to defend against
 * cross-site WebSocket hijacking), Cookie, Authorization, ...
 * Request headers: not in a WS6455_NO_REQUEST_HEADERS build.
 */
WS6455_API const char *ws6455_request_header(const ws6455_request *r, const char *name,
                                             size_t *len);
/**
 * The Origin header (RFC 6454), as ws6455_request_header(r, "Origin") gives
 * it (repeated lines joined with ", "), or NULL when the request has none.
 * In every build, WS6455_NO_REQUEST_HEADERS included: a server that
 * browsers can reach compares it with its own origin to refuse cross-site
 * WebSocket hijacking (a page elsewhere opening a connection that carries
 * the user's cookies). Non-browser clients usually send none.
 */
WS6455_API const char *ws6455_request_origin(const ws6455_request *r, size_t *len);
/** Number of header lines in the request (repeated headers counted apart).
 *  Request headers: not in a WS6455_NO_REQUEST_HEADERS build. */
WS6455_API size_t ws6455_request_header_count(const ws6455_request *r);
/** The i-th header line as received (trimmed). WS6455_OK or
 *  WS6455_ERR_INVALID_ARGUMENT when i is out of range. Request headers: not
 *  in a WS6455_NO_REQUEST_HEADERS build. */
WS6455_API int ws6455_request_header_at(const ws6455_request *r, size_t i, ws6455_header *out);
/** Number of subprotocols the client offered (Sec-WebSocket-Protocol). */
WS6455_API size_t ws6455_request_protocol_count(const ws6455_request *r);
/** The i-th offered subprotocol, in the client's order; NULL when out of range. */
WS6455_API const char *ws6455_request_protocol(const ws6455_request *r, size_t i, size_t *len);
/** Number of extensions the client offered (Sec-WebSocket-Extensions).
 *  Request headers: not in a WS6455_NO_REQUEST_HEADERS build. */
WS6455_API size_t ws6455_request_extension_count(const ws6455_request *r);
/** The i-th offered extension with its parameters as sent, e.g.
 *  "permessage-deflate; client_max_window_bits"; NULL when out of range.
 *  Request headers: not in a WS6455_NO_REQUEST_HEADERS build. */
WS6455_API const char *ws6455_request_extension(const ws6455_request *r, size_t i, size_t *len);

/**
 * A server application's answer to a handshake request, filled in by the
 * on_request callback. The engine initialises it to "accept, with the
 * subprotocol chosen from ws6455_config.subprotocols" before the call.
 * Pointers must stay valid until the callback returns (they are copied).
 */
typedef struct ws6455_handshake_reply {
    /** 101 accepts; 400..599 rejects with that status (e.g. 401, 403). */
    int status;
    /** Subprotocol to accept (must be one the client offered) or NULL. */
    const char *subprotocol;
    /** Extra response headers, e.g. Set-Cookie. Names and values must not
     *  contain CR, LF or NUL (refused with WS6455_ERR_INVALID_ARGUMENT).
     *  Not in a WS6455_NO_RESPONSE_EXTRAS build (must stay NULL). */
    const ws6455_header *headers;
    size_t header_count; /**< number of entries in headers */
    /** Text body of a rejection; NULL for a default naming the status.
     *  Not in a WS6455_NO_RESPONSE_EXTRAS build (must stay NULL: rejections
     *  have no body there). */
    const char *body;
    /** The Sec-WebSocket-Extensions value the library will answer with:
     *  permessage-deflate with the agreed parameters when the client offered
     *  it and the configuration accepts it (see ws6455_deflate_options),
     *  else NULL. Set it to NULL to decline compression for this
     *  connection (the handshake goes on uncompressed); any other change is
     *  refused with 500. */
    const char *extensions;
} ws6455_handshake_reply;

/**
 * The opening-handshake response a client received: a read-only view, valid
 * until the connection is freed. Useful when the server did not answer 101
 * (WS6455_ERR_HS_STATUS): an application can follow a redirect (Location)
 * or show a 401. Client role: the ws6455_response_* functions are not in a
 * WS6455_NO_CLIENT build.
 */
typedef struct ws6455_response ws6455_response;

/** Status code, e.g. 101, 301, 401. */
WS6455_API int ws6455_response_status(const ws6455_response *r);
/** Header value by case-insensitive name (repeated ones joined with ", "),
 *  NULL when absent. */
WS6455_API const char *ws6455_response_header(const ws6455_response *r, const char *name,
                                              size_t *len);
/** Number of header lines. */
WS6455_API size_t ws6455_response_header_count(const ws6455_response *r);
/** The i-th header line (see ws6455_request_header_at). */
WS6455_API int ws6455_response_header_at(const ws6455_response *r, size_t i, ws6455_header *out);

/** A parsed ws:// or wss:// URL (client role: ws6455_url_parse and
 *  ws6455_config_set_url are not in a WS6455_NO_CLIENT build). Pointers
 *  point into the parsed string, except `target`, which is a static "/"
 *  when the URL has neither path nor query. A URL with a query but no path ("ws://h?x") gives target "?x":
 *  the request line needs "/?x", which the client handshake adds. */
typedef struct ws6455_url {
    int secure;         /**< 1 for wss:// */
    const char *host;   /**< host name, IPv4 literal, or IPv6 literal without brackets */
    size_t host_len;    /**< length of host */
    int host_is_ipv6;   /**< 1 when the host was a bracketed IPv6 literal */
    uint16_t port;      /**< explicit port, or 80 (ws) / 443 (wss) */
    int port_explicit;  /**< 1 when the URL named the port */
    const char *target; /**< path and query, e.g. "/chat?x=1" */
    size_t target_len;  /**< length of target */
} ws6455_url;

/**
 * Parses a WebSocket URL (RFC 6455 section 3): scheme ws or wss (case-
 * insensitive), a host (name, IPv4, or [IPv6]), optional port 1..65535
 * (an empty port, "ws://h:/", means the default), optional path and query.
 * Strict: only visible ASCII (percent-encode anything else), RFC 3986
 * characters in each part, no IPv6 zone identifiers. Returns WS6455_OK, WS6455_ERR_URL_SCHEME,
 * WS6455_ERR_URL_HOST, WS6455_ERR_URL_PORT, WS6455_ERR_URL_USERINFO,
 * WS6455_ERR_URL_FRAGMENT, WS6455_ERR_URL_MALFORMED or
 * WS6455_ERR_INVALID_ARGUMENT.
 */
WS6455_API int ws6455_url_parse(const char *url, size_t len, ws6455_url *out);

/* The connection engine                                                     */
/* ------------------------------------------------------------------------ */

/**
 * One WebSocket connection, server or client role: a state machine that
 * turns bytes in into events and API calls into bytes out. Opaque. It never
 * touches a socket, a clock or a thread. Drive it either
 *  - sans-I/O: ws6455_conn_recv() with whatever bytes arrived, and
 *    ws6455_conn_pending() (or ws6455_conn_pending_iov()) /
 *    ws6455_conn_consume() for what to send; or
 *  - with callbacks: set ws6455_callbacks.read / .write (and optionally
 *    .writev) and call ws6455_conn_on_readable() / ws6455_conn_on_writable()
 *    from the event loop.
 * Connections are created in a ws6455_context (shared configuration,
 * callbacks, allocator and buffers) or on their own with ws6455_conn_new().
 * A context and all its connections belong to one thread at a time.
 */
typedef struct ws6455_conn ws6455_conn;

/**
 * Shared, read-only state for many connections: the configuration (copied,
 * strings included), the callbacks, the allocator, the read buffer of
 * callback I/O and a small pool of output buffers. Like an event loop, a
 * context and its connections are used by one thread at a time; use one
 * context per event-loop thread. Reference-counted: every connection holds
 * a reference, so ws6455_context_free() may be called while connections
 * still live (the context goes when the last of them is freed).
 */
typedef struct ws6455_context ws6455_context;

/** Connection states. CLOSING: we sent a close frame and wait for the
 *  peer's (or, with WS6455_NO_AUTO_CLOSE_REPLY, the peer's close arrived and
 *  the application has not answered yet). CLOSED: the closing handshake is
 *  over, or the connection failed or was aborted; no more input is
 *  processed. */
enum ws6455_state {
    WS6455_STATE_CONNECTING = 0,
    WS6455_STATE_OPEN = 1,
    WS6455_STATE_CLOSING = 2,
    WS6455_STATE_CLOSED = 3
};

/** Behaviour switches for ws6455_config.flags. */
enum ws6455_config_flags {
    /** Do not answer pings automatically; on_ping is still called and the
     *  application answers with ws6455_pong(). */
    WS6455_NO_AUTO_PONG = 1u << 0,
    /** Streaming mode: deliver data through on_fragment as it arrives
     *  instead of reassembling whole messages for on_message. */
    WS6455_STREAM_FRAGMENTS = 1u << 1,
    /** Accept payload lengths not in their shortest form. */
    WS6455_LENIENT_LENGTH = 1u << 2,
    /** The opening handshake was done elsewhere: start in the OPEN state. */
    WS6455_SKIP_HANDSHAKE = 1u << 3,
    /** Do not echo the peer's close frame automatically; the application
     *  answers with ws6455_close() from on_close (or later, within
     *  close_timeout_ms). */
    WS6455_NO_AUTO_CLOSE_REPLY = 1u << 4,
    /** Callback I/O on plain sockets: a read that returns fewer bytes than
     *  asked means the socket is drained, so ws6455_conn_on_readable() stops
     *  there instead of reading once more to see it would block. Right for
     *  plain TCP and Unix sockets (level- or edge-triggered); WRONG for TLS
     *  (SSL_read returns one record at a time while more may be buffered). */
    WS6455_SHORT_READ_DRAINED = 1u << 5,
    /** Callback I/O: a send made outside any library call (not from inside
     *  a callback) when nothing is queued writes straight through the
     *  writev (or write) callback, without copying the payload into the
     *  queue; what the socket does not take is queued as usual. Without
     *  this flag the library calls read/write/writev only from
     *  ws6455_conn_on_readable() and ws6455_conn_on_writable(). */
    WS6455_WRITE_THROUGH = 1u << 6
};

/** Documented defaults (ws6455_config_init). */
#define WS6455_DEFAULT_MAX_FRAME_SIZE ((size_t)16 << 20)     /* 16 MiB */
#define WS6455_DEFAULT_MAX_MESSAGE_SIZE ((size_t)16 << 20)   /**< 16 MiB */
#define WS6455_DEFAULT_MAX_OUTPUT_BUFFER ((size_t)16 << 20)  /**< 16 MiB */
#define WS6455_DEFAULT_MAX_HANDSHAKE_SIZE ((size_t)8192)     /**< 8 KiB */
#define WS6455_DEFAULT_MAX_HANDSHAKE_HEADERS ((size_t)64)    /**< header lines */
#define WS6455_DEFAULT_MAX_HANDSHAKE_LINE ((size_t)8192)     /**< bytes per line */
#define WS6455_DEFAULT_READ_BUFFER_SIZE ((size_t)16384)      /**< callback I/O */
#define WS6455_DEFAULT_READ_BUDGET ((size_t)65536)           /**< callback I/O, per call */
#define WS6455_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000u           /**< 10 s */
#define WS6455_DEFAULT_CLOSE_TIMEOUT_MS 5000u                /**< 5 s */

/**
 * permessage-deflate (RFC 7692), in ws6455_config.deflate. Used only when
 * the library was built with zlib (make WITH_ZLIB=1; see
 * ws6455_deflate_available()); otherwise offers are declined and a client
 * offers nothing. ws6455_config_init() fills the defaults in brackets.
 * docs/deflate.md has the memory each setting costs per connection.
 */
typedef struct ws6455_deflate_options {
    /** [0] Client: offer permessage-deflate. Server: accept an offer. Off
     *  by default: compression costs memory and CPU per connection, and
     *  compressing secrets together with attacker-chosen text leaks through
     *  sizes (CRIME/BREACH). */
    int enabled;
    /** [1] Server: our compressor starts every message afresh (announced).
     *  Client: ask the server for that; a response without it fails. */
    int server_no_context_takeover;
    /** [1] Server: require it of the client, so our decompressor is freed
     *  between messages. Client: offer it and keep to it. With both set an
     *  idle connection holds no zlib memory at all. */
    int client_no_context_takeover;
    /** [15] 8..15: the server's compressor's LZ77 window (server: ours, at
     *  most what the client asks; client: ask for it when below 15). */
    int server_max_window_bits;
    /** [15] 8..15: the client's compressor's window (server: below 15,
     *  required of the client; client: ours). */
    int client_max_window_bits;
    /** [-1] zlib level: -1 (zlib's default, 6) or 0..9. */
    int level;
    /** [4] zlib memLevel 1..9: the compressor's hash table and buffers. */
    int mem_level;
    /** [64] Messages shorter than this are sent uncompressed. */
    size_t min_size;
} ws6455_deflate_options;

/** What a connection agreed to (ws6455_conn_deflate()): each side's
 *  compressor, window bits 8..15. */
typedef struct ws6455_deflate_params {
    uint8_t server_no_context_takeover; /**< the server's compressor resets per message */
    uint8_t client_no_context_takeover; /**< the client's compressor resets per message */
    uint8_t server_max_window_bits;     /**< the server's compressor's window */
    uint8_t client_max_window_bits;     /**< the client's compressor's window */
} ws6455_deflate_params;

/** 1 when this build of the library can compress (built with zlib), else
 *  0: permessage-deflate is then never negotiated. */
WS6455_API int ws6455_deflate_available(void);

/**
 * Configuration. Initialise with ws6455_config_init(), then change fields.
 * ws6455_context_new() and ws6455_conn_new() copy it, strings and arrays
 * included, so the caller need not keep it alive. `struct_size` lets later
 * versions add fields at the end without breaking callers compiled against
 * this header (docs/abi.md).
 */
typedef struct ws6455_config {
    size_t struct_size; /**< set by ws6455_config_init; leave it */
    int role;           /**< enum ws6455_role */
    unsigned flags;     /**< enum ws6455_config_flags */

    /* Limits. A peer exceeding max_frame_size or max_message_size fails the
     * connection with 1009, decided from the frame header before anything
     * is allocated. */
    size_t max_frame_size;        /**< largest data frame payload accepted */
    size_t max_message_size;      /**< largest message (all fragments) accepted */
    size_t max_output_buffer;     /**< backpressure: queued output limit for data sends */
    size_t max_handshake_size;    /**< HTTP head, request or response (> 0) */
    size_t max_handshake_headers; /**< header lines in the HTTP head */
    size_t max_handshake_line;    /**< one line of the HTTP head */
    size_t read_buffer_size;      /**< callback I/O: the context's read buffer (> 0) */
    size_t read_budget;           /**< callback I/O: bytes one ws6455_conn_on_readable()
                                       reads at most before returning WS6455_MORE
                                       (fairness); 0 means read_buffer_size */

    /* Time, in milliseconds of the caller's clock. */
    uint64_t handshake_timeout_ms; /**< CONNECTING longer than this fails (0: off) */
    uint64_t close_timeout_ms;     /**< the closing handshake, and then draining the
                                        output of a CLOSED connection, each take at
                                        most this long (> 0: it cannot be turned off) */
    uint64_t ping_interval_ms;     /**< keepalive: ping after this much silence (0: off) */
    uint64_t ping_timeout_ms;      /**< keepalive: fail if nothing arrives this long
                                        after the ping (0: wait for ever) */

    /* Handshake. Server: the subprotocols supported, in order of
     * preference (used when there is no on_request callback, and as the
     * reply's default). Client: the subprotocols offered. */
    const char *const *subprotocols; /**< subprotocol names (see above) */
    size_t subprotocol_count;        /**< number of entries in subprotocols */

    /* Client role only. */
    const char *host;   /**< Host header, with ":port" when not the default */
    const char *target; /**< request target, e.g. "/chat?room=1"; default "/" */
    const char *origin; /**< Origin header, or NULL */
    const ws6455_header *headers; /**< extra request headers (cookies, auth) */
    size_t header_count;          /**< number of entries in headers */

    /** Allocator hooks; NULL means libc. Copied. */
    const ws6455_allocator *allocator;

    /** permessage-deflate (RFC 7692): off by default. */
    ws6455_deflate_options deflate;
} ws6455_config;

/** Fills *cfg with safe defaults for `role` (enum ws6455_role): the
 *  WS6455_DEFAULT_* limits and timeouts, auto-pong and auto close reply on,
 *  keepalive off, no subprotocols, libc allocator. */
WS6455_API void ws6455_config_init(ws6455_config *cfg, int role);

/**
 * Checks a configuration without creating anything. Returns WS6455_OK, or
 * WS6455_ERR_INVALID_ARGUMENT with *bad_field (if bad_field is not NULL)
 * set to the name of the first wrong field, e.g. "role", "close_timeout_ms",
 * "host" (a client needs one), "subprotocols" (a NULL entry or array). The
 * name is a static string. A NULL cfg is WS6455_ERR_INVALID_ARGUMENT with
 * *bad_field "cfg".
 */
WS6455_API int ws6455_config_check(const ws6455_config *cfg, const char **bad_field);

/** Sets cfg->host and cfg->target from a parsed URL, using `storage`
 *  (at least url->host_len + 9 bytes, plus 2 for an IPv6 literal) for the
 *  Host value (brackets for IPv6, ":port" when not the default) and a
 *  NUL-terminated target in `target_storage` (url->target_len + 1 bytes).
 *  Returns WS6455_OK, WS6455_ERR_BUFFER_TOO_SMALL or
 *  WS6455_ERR_INVALID_ARGUMENT (a NULL pointer). */
WS6455_API int ws6455_config_set_url(ws6455_config *cfg, const ws6455_url *url, char *storage,
                                     size_t storage_cap, char *target_storage,
                                     size_t target_cap);

/** What read and write callbacks return instead of a byte count. */
#define WS6455_IO_WOULD_BLOCK ((ptrdiff_t)-1) /**< nothing now; wait for readiness */
#define WS6455_IO_ERROR ((ptrdiff_t)-2)       /**< the transport failed */

/** A positive status: ws6455_conn_on_readable() stopped because its read
 *  budget was spent, and more input may be waiting. */
#define WS6455_MORE 1

/** One piece of output for a gather write. Same members as POSIX
 *  `struct iovec` (copy them over; do not cast). */
typedef struct ws6455_iovec {
    const void *base; /**< first byte of the piece */
    size_t len;       /**< bytes in the piece */
} ws6455_iovec;

/**
 * Callbacks. All optional (NULL). Initialise with ws6455_callbacks_init()
 * (or set struct_size = sizeof(ws6455_callbacks)) and set what you need.
 * `user` (given to ws6455_conn_new() or ws6455_conn_new_in()) is passed to
 * every one; the connection comes first where there is one.
 *
 * Re-entrancy. From inside any callback that receives the connection, the
 * application may call: every send (ws6455_send_*, ws6455_ping,
 * ws6455_pong, ws6455_close), ws6455_conn_abort(), every query
 * (ws6455_conn_state, _error, _was_clean, _pending, _pending_iov,
 * _buffered_amount, _wants_write, _wants_read, _should_close_socket,
 * _deadline, _subprotocol, _response, _user, _context), and
 * ws6455_conn_free(). ws6455_conn_free() from inside a callback is
 * deferred: the connection is freed when the outermost library call that ran
 * the callback returns, and that call returns WS6455_ERR_CLOSED (a call that
 * returns void or a size just returns); the caller must not touch the
 * connection after it. Refused with WS6455_ERR_INVALID_STATE from inside a
 * callback: ws6455_conn_recv(), ws6455_conn_recv_eof(),
 * ws6455_conn_on_readable(), ws6455_conn_on_writable(), ws6455_conn_tick(),
 * ws6455_conn_accept_upgrade(); ws6455_conn_consume() is ignored there.
 * Callbacks for one connection never run concurrently and never nest
 * except that a send inside an event may run on_output.
 *
 * Payload pointers passed to events are valid only during the call.
 */
typedef struct ws6455_callbacks {
    size_t struct_size; /**< set by ws6455_callbacks_init (0 reads as this
                             version's size; see docs/abi.md) */

    /* ---- I/O, for the callback mode (ws6455_conn_on_readable/writable);
     *      a WS6455_NO_CALLBACK_IO build refuses a context with any of
     *      the three (WS6455_ERR_UNSUPPORTED, bad field "read", "write" or
     *      "writev") */
    /** Read up to cap bytes into buf: return the count (> 0), 0 at end of
     *  stream, WS6455_IO_WOULD_BLOCK, or WS6455_IO_ERROR. `buf` is the
     *  context's shared read buffer. */
    ptrdiff_t (*read)(void *user, uint8_t *buf, size_t cap);
    /** Write up to len bytes: return how many were written (> 0),
     *  WS6455_IO_WOULD_BLOCK (0 is treated the same), or WS6455_IO_ERROR.
     *  Partial writes are normal. The bytes stay at the same address until
     *  written (so OpenSSL's SSL_write retry rule is met even without
     *  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, as long as the length given on
     *  a retry is not smaller; see docs/loops.md). */
    ptrdiff_t (*write)(void *user, const uint8_t *buf, size_t len);
    /** Optional gather write (writev): like write, over `count` pieces in
     *  order. Used instead of write when set. */
    ptrdiff_t (*writev)(void *user, const ws6455_iovec *iov, size_t count);

    /** Fill buf with n unpredictable bytes (client keys and masks); return 0,
     *  or non-zero on failure. NULL: the OS (getrandom, else /dev/urandom). */
    int (*random)(void *user, uint8_t *buf, size_t n);

    /* ---- events */
    /**
     * Server: the opening-handshake request passed every RFC rule; decide.
     * `reply` arrives initialised to accept with the default subprotocol
     * choice; change it to reject (status 400..599) or pick another
     * subprotocol, add headers. Return 0 to go on, non-zero to answer 500.
     * Without this callback every valid request is accepted. The request
     * view is valid only during the call.
     */
    int (*on_request)(ws6455_conn *c, const ws6455_request *req, ws6455_handshake_reply *reply,
                      void *user);
    /** The handshake succeeded; the connection is OPEN. `subprotocol` is the
     *  negotiated one (NUL-terminated) or NULL. */
    void (*on_open)(ws6455_conn *c, const char *subprotocol, void *user);
    /** A whole message. `opcode` is WS6455_OP_TEXT (valid UTF-8, checked)
     *  or WS6455_OP_BINARY. `data` points into the caller's input when the
     *  message arrived in one frame within one ws6455_conn_recv() call,
     *  else into the engine's reassembly buffer; valid during the call. */
    void (*on_message)(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user);
    /** Streaming mode (WS6455_STREAM_FRAGMENTS): a piece of a message as it
     *  arrives. `first` on the first piece of a message, `last` on its final
     *  piece (which may be empty). Text pieces have been checked as a valid
     *  prefix; a piece may end inside a multi-byte character. */
    void (*on_fragment)(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, int first,
                        int last, void *user);
    /** A ping arrived (answered automatically unless WS6455_NO_AUTO_PONG). */
    void (*on_ping)(ws6455_conn *c, const uint8_t *data, size_t len, void *user);
    /** A pong arrived (solicited or not). */
    void (*on_pong)(ws6455_conn *c, const uint8_t *data, size_t len, void *user);
    /**
     * The connection ended. Exactly once for every connection that fired
     * on_open, and for every client connection, however it ends: the peer's
     * close frame, our close answered, a failure, a timeout, the end of the
     * stream, ws6455_conn_abort() or ws6455_conn_free(). A server connection
     * whose opening handshake never completed reports no on_close (as Node's
     * `ws` emits no 'close' for a failed upgrade); a client whose handshake
     * fails gets 1006, as a browser does.
     * `code`: the peer's close code (1005 when its close frame had none);
     * the code we sent when we failed the connection (1002, 1007, 1009,
     * 1011); 1006 when it ended without a close frame (end of stream,
     * timeout, abort, free, failed handshake). `reason` is the peer's UTF-8
     * reason (not NUL-terminated; may be empty). ws6455_conn_was_clean()
     * tells whether the closing handshake completed.
     */
    void (*on_close)(ws6455_conn *c, int code, const char *reason, size_t len, void *user);
    /** The connection failed: `err` is the WS6455_ERR_* cause (a peer
     *  violation, WS6455_ERR_TIMEOUT, WS6455_ERR_ABNORMAL_CLOSURE for an end
     *  of stream without a close frame, a handshake error...). Called once,
     *  before on_close. */
    void (*on_error)(ws6455_conn *c, int err, void *user);

    /* ---- the loop contract */
    /** The output queue went from empty to non-empty, whatever queued it (a
     *  send, an automatic pong or close reply, a handshake response, a
     *  keepalive ping): arm write interest, or note the connection for a
     *  flush at the end of this loop iteration. Not called while the queue
     *  already holds bytes. */
    void (*on_output)(ws6455_conn *c, void *user);
    /** The output queue became empty again (Node's 'drain'): resume
     *  producing, disarm write interest. */
    void (*on_drain)(ws6455_conn *c, void *user);
} ws6455_callbacks;

/** Zeroes *cb and sets its struct_size. */
WS6455_API void ws6455_callbacks_init(ws6455_callbacks *cb);

/* ---- contexts */

/**
 * Creates a context: `cfg` (NULL: ws6455_config_init(server)) and `cb`
 * (NULL: no callbacks) are copied. Besides them a context holds what its
 * connections borrow between uses: the read buffer of callback I/O, pools
 * of output chunks (up to 32 of 512 B and 32 of 8 KiB) and reassembly
 * buffers given back between messages (up to 256 KiB in all). Returns
 * NULL on allocation failure or an invalid configuration;
 * ws6455_context_new_err() says which.
 */
WS6455_API ws6455_context *ws6455_context_new(const ws6455_config *cfg,
                                              const ws6455_callbacks *cb);
/** As ws6455_context_new, reporting why creation failed: *err (if not NULL)
 *  is WS6455_OK, WS6455_ERR_NOMEM or WS6455_ERR_INVALID_ARGUMENT, and
 *  *bad_field (if not NULL) names the wrong configuration field (see
 *  ws6455_config_check) or is NULL. */
WS6455_API ws6455_context *ws6455_context_new_err(const ws6455_config *cfg,
                                                  const ws6455_callbacks *cb, int *err,
                                                  const char **bad_field);
/** Drops the caller's reference; the context is freed once its last
 *  connection is freed too. NULL is fine. */
WS6455_API void ws6455_context_free(ws6455_context *ctx);

/**
 * Creates a connection in a context. A client connection queues its
 * opening-handshake request at once (on_output is not called for it: check
 * ws6455_conn_wants_write()). Returns NULL on allocation or random-source
 * failure (see ws6455_conn_new_in_err).
 */
WS6455_API ws6455_conn *ws6455_conn_new_in(ws6455_context *ctx, void *user);
/** As ws6455_conn_new_in; *err (if not NULL): WS6455_OK, WS6455_ERR_NOMEM,
 *  WS6455_ERR_RANDOM or WS6455_ERR_INVALID_ARGUMENT (NULL ctx). */
WS6455_API ws6455_conn *ws6455_conn_new_in_err(ws6455_context *ctx, void *user, int *err);

/**
 * Creates a connection with a context of its own (for programs with few
 * connections): ws6455_context_new(cfg, cb) then ws6455_conn_new_in().
 * Returns NULL on allocation failure, random-source failure or invalid
 * configuration (see ws6455_conn_new_err for the reason).
 */
WS6455_API ws6455_conn *ws6455_conn_new(const ws6455_config *cfg, const ws6455_callbacks *cb,
                                        void *user);

/** As ws6455_conn_new, reporting why creation failed: *err (if not NULL)
 *  is WS6455_OK, WS6455_ERR_NOMEM, WS6455_ERR_RANDOM or
 *  WS6455_ERR_INVALID_ARGUMENT, and *bad_field (if not NULL) names the
 *  wrong configuration field (see ws6455_config_check) or is NULL. */
WS6455_API ws6455_conn *ws6455_conn_new_err(const ws6455_config *cfg, const ws6455_callbacks *cb,
                                            void *user, int *err, const char **bad_field);

/** The connection's context. */
WS6455_API ws6455_context *ws6455_conn_context(const ws6455_conn *c);

/**
 * Frees the connection and everything it owns; queued output is dropped.
 * If on_open fired and on_close has not, on_close(1006) is called first
 * (ws6455_conn_was_clean() is then 0). NULL is fine. From inside a callback
 * the free is deferred (see ws6455_callbacks).
 */
WS6455_API void ws6455_conn_free(ws6455_conn *c);

/**
 * Ends the connection at once, like Node's terminate(): no close frame,
 * queued output dropped, state CLOSED, on_close(1006) if it has not been
 * called (no on_error), ws6455_conn_should_close_socket() 1 at once; later
 * sends return WS6455_ERR_CLOSED. Returns WS6455_OK (also when already
 * CLOSED), WS6455_ERR_INVALID_ARGUMENT (NULL), or WS6455_ERR_CLOSED when
 * on_close freed the connection (it is gone).
 */
WS6455_API int ws6455_conn_abort(ws6455_conn *c);

/** The connection's state (enum ws6455_state). */
WS6455_API int ws6455_conn_state(const ws6455_conn *c);

/** The first fatal error (sticky), or WS6455_OK. */
WS6455_API int ws6455_conn_error(const ws6455_conn *c);

/** 1 when the closing handshake completed: our close frame was queued
 *  (and not dropped) and the peer's close frame arrived, like the browser's
 *  CloseEvent.wasClean. 0 otherwise. Usable inside on_close. */
WS6455_API int ws6455_conn_was_clean(const ws6455_conn *c);

/**
 * Feeds bytes received from the peer, in any split. Handshake bytes, then
 * frames; events are delivered from inside this call. The engine may
 * unmask payloads IN PLACE, so `data` is modified (this is what makes
 * zero-copy delivery possible); which bytes it modifies is unspecified
 * (payload bound for the reassembly buffer is unmasked on its way there).
 * A connection whose input ends between frames, with no message in
 * progress, holds no reassembly buffer afterwards (it goes back to the
 * context); one whose input ends inside a frame keeps its buffer if it is
 * at most 64 KiB, for the next message. Input after the peer's close
 * frame, or once the connection is CLOSED, is ignored. *consumed (if not
 * NULL) is set to len: the engine buffers what it needs.
 * Returns WS6455_OK; the connection's sticky error once it has failed
 * (WS6455_ERR_* of the violation; the close frame is queued);
 * WS6455_ERR_CLOSED when a callback freed the connection;
 * WS6455_ERR_INVALID_STATE from inside a callback;
 * WS6455_ERR_INVALID_ARGUMENT (NULL c, or NULL data with len > 0).
 */
WS6455_API int ws6455_conn_recv(ws6455_conn *c, uint8_t *data, size_t len, size_t *consumed);

/** The peer ended the stream (read returned 0). Without a prior close
 *  handshake this is reported as close code 1006 (never sent) with
 *  on_error(WS6455_ERR_ABNORMAL_CLOSURE). Returns WS6455_OK, the sticky
 *  error (WS6455_ERR_ABNORMAL_CLOSURE when this call caused it),
 *  WS6455_ERR_CLOSED (freed by a callback) or WS6455_ERR_INVALID_STATE
 *  (from inside a callback). */
WS6455_API int ws6455_conn_recv_eof(ws6455_conn *c);

/**
 * Pending output: sets *out to the first contiguous run of bytes to send and
 * returns its length (0: nothing; *out is then a valid empty string). No
 * copy: the bytes stay at this address, whatever is queued after them,
 * until ws6455_conn_consume() has consumed them (or the connection is
 * aborted or freed), so an asynchronous write (uv_write, io_uring,
 * SSL_write retries) may hold them. More bytes may follow in further runs:
 * call again after consuming, or use ws6455_conn_pending_iov(). A message
 * sent by reference (ws6455_send_message, frames over 512 bytes) is handed
 * out from the message's own memory.
 */
WS6455_API size_t ws6455_conn_pending(ws6455_conn *c, const uint8_t **out);

/**
 * Gather form of ws6455_conn_pending(): fills up to `max` pieces, in order,
 * and returns how many; *total (if not NULL) is the sum of their lengths.
 * Same lifetime rule. Consume what was written with ws6455_conn_consume().
 */
WS6455_API size_t ws6455_conn_pending_iov(ws6455_conn *c, ws6455_iovec *iov, size_t max,
                                          size_t *total);

/**
 * Marks n bytes of pending output as sent (n is capped at what is queued).
 * When the queue becomes empty on_drain is called. Returns WS6455_OK, or
 * WS6455_ERR_CLOSED when on_drain freed the connection. From inside a
 * callback it does nothing and returns WS6455_ERR_INVALID_STATE.
 */
WS6455_API int ws6455_conn_consume(ws6455_conn *c, size_t n);

/** Bytes queued and not yet sent (like a browser's bufferedAmount). */
WS6455_API size_t ws6455_conn_buffered_amount(const ws6455_conn *c);

/**
 * 1 when the caller should close the socket now: the connection is CLOSED
 * and its output is flushed or was dropped. Once the connection is CLOSING
 * or CLOSED, ws6455_conn_deadline() is finite until this returns 1: a close
 * the peer does not answer fails at close_timeout_ms (WS6455_ERR_TIMEOUT);
 * output a CLOSED connection cannot flush (a peer that stopped reading) is
 * dropped close_timeout_ms after CLOSED, or at once after a timeout or an
 * abort. (The server closes the TCP connection first, RFC 6455 7.1.1; a
 * client gets 1 as well once CLOSED and flushed, and may prefer to wait for
 * the server's end of stream first.)
 */
WS6455_API int ws6455_conn_should_close_socket(const ws6455_conn *c);

/** The negotiated subprotocol (NUL-terminated), or NULL. */
WS6455_API const char *ws6455_conn_subprotocol(const ws6455_conn *c);

/** 1 when permessage-deflate was negotiated (*out, if not NULL, then holds
 *  the agreed parameters), else 0. */
WS6455_API int ws6455_conn_deflate(const ws6455_conn *c, ws6455_deflate_params *out);

/** Client role: the server's handshake response (see ws6455_response),
 *  once one arrived; NULL before and for servers. Valid until the
 *  connection is freed. Not in a WS6455_NO_CLIENT build. */
WS6455_API const ws6455_response *ws6455_conn_response(const ws6455_conn *c);

/** The user pointer given at creation. */
WS6455_API void *ws6455_conn_user(const ws6455_conn *c);

/**
 * An HTTP request an embedding server already parsed, for
 * ws6455_conn_accept_upgrade(). Strings are byte strings with lengths (no
 * NUL needed) and need not outlive the call.
 */
typedef struct ws6455_http_request {
    const char *method;  /**< e.g. "GET" */
    size_t method_len;   /**< bytes of method */
    const char *target;  /**< e.g. "/chat?room=1" */
    size_t target_len;   /**< bytes of target */
    const char *version; /**< the request line's HTTP-version, e.g. "HTTP/1.1" */
    size_t version_len;  /**< bytes of version */
    const ws6455_header *headers; /**< header lines as received (values may
                                       carry surrounding whitespace) */
    size_t header_count; /**< entries in headers */
} ws6455_http_request;

/**
 * Embedding in an existing HTTP server (like Node's 'upgrade' event): for a
 * server connection still CONNECTING that has received no bytes, hands over
 * a request already parsed elsewhere plus `head`, the bytes that followed
 * it (frame input; unmasked in place; may be NULL with head_len 0). The
 * same rules are checked as for a request the library reads itself (HTTP
 * version 1.1 or later per RFC 6455 4.1 and RFC 7230 2.6, exactly one Host
 * with a valid host[:port] value, GET, Upgrade, Connection, key, version,
 * no body, the size limits) and on_request is called; the 101 (or the
 * error response: 400, 405, 426, 431) is queued, and on success the
 * connection is OPEN and `head` is processed as frames.
 * Returns WS6455_OK, a WS6455_ERR_HS_* code (the error response is queued
 * and the connection is CLOSED), WS6455_ERR_HS_REJECTED (on_request
 * rejected it; its response is queued), WS6455_ERR_CALLBACK (on_request
 * failed or gave an unusable reply; 500 is queued), WS6455_ERR_NOMEM,
 * WS6455_ERR_INVALID_ARGUMENT (NULL c or req, NULL strings with lengths),
 * WS6455_ERR_INVALID_STATE (not a fresh server connection, or from inside
 * a callback), WS6455_ERR_CLOSED (a callback freed the connection), or the
 * connection's sticky error when `head` broke a frame rule.
 */
WS6455_API int ws6455_conn_accept_upgrade(ws6455_conn *c, const ws6455_http_request *req,
                                          uint8_t *head, size_t head_len);

/* ---- sending.
 * Each send returns WS6455_OK or:
 *  WS6455_ERR_CLOSED           nothing more can be sent: we sent our close,
 *                              the peer's close arrived, the connection
 *                              failed, was aborted, or is CLOSED;
 *  WS6455_ERR_INVALID_STATE    not OPEN yet (CONNECTING), or a fragmented
 *                              send is in progress / not in progress as the
 *                              call requires;
 *  WS6455_ERR_INVALID_ARGUMENT bad arguments (NULL c, NULL data with n > 0,
 *                              control payload > 125, invalid close code);
 *  WS6455_ERR_UTF8             text (or close reason) not valid UTF-8;
 *  WS6455_ERR_WOULD_EXCEED_LIMIT  the queue is too full right now
 *                              (max_output_buffer); nothing queued: retry
 *                              after on_drain;
 *  WS6455_ERR_TOO_BIG_TO_SEND  the frame is larger than max_output_buffer
 *                              and can never be queued: do not retry;
 *  WS6455_ERR_RANDOM           the client's masking key could not be made;
 *  WS6455_ERR_NOMEM;
 *  WS6455_ERR_IO               (WS6455_WRITE_THROUGH only) the write
 *                              callback failed: treat the socket as dead;
 *  WS6455_ERR_CLOSED also when a callback run by the send (on_output)
 *                              freed the connection.
 * The payload is copied (and masked in the client role) into the queue,
 * except with WS6455_WRITE_THROUGH and for ws6455_send_message(). A send
 * that queues the first bytes calls on_output. Control frames (ping, pong,
 * close) are never refused for backpressure. */

/** Flags for ws6455_send_ex() and ws6455_send_message_ex(). */
enum ws6455_send_flags {
    /** Send this message uncompressed even when permessage-deflate was
     *  negotiated (given on its first fragment, it covers the message). */
    WS6455_SEND_UNCOMPRESSED = 1u << 0
};

/**
 * The general send: a whole message (`fin` 1 with WS6455_OP_TEXT or
 * WS6455_OP_BINARY), or a fragment of one (as ws6455_send_fragment()),
 * with flags (enum ws6455_send_flags). With permessage-deflate negotiated,
 * a message of at least deflate.min_size bytes (judged on its first piece)
 * is compressed unless WS6455_SEND_UNCOMPRESSED; a compressed fragmented
 * message is flushed at every fragment, so each frame carries its data.
 * ws6455_send_text(c, s, n) is ws6455_send_ex(c, WS6455_OP_TEXT, s, n, 1, 0).
 * Returns as the sends above.
 */
WS6455_API int ws6455_send_ex(ws6455_conn *c, int opcode, const void *p, size_t n, int fin,
                              unsigned flags);
/** Sends a text message in one frame; `s` must be valid UTF-8. */
WS6455_API int ws6455_send_text(ws6455_conn *c, const char *s, size_t n);
/** Sends a binary message in one frame. */
WS6455_API int ws6455_send_binary(ws6455_conn *c, const void *p, size_t n);
/**
 * Streams a message in fragments: the first call names WS6455_OP_TEXT or
 * WS6455_OP_BINARY, later calls WS6455_OP_CONTINUATION; `fin` = 1 on the
 * last. Control frames may be sent in between; other data may not. Text
 * is validated across fragments (a piece may end inside a character; the
 * final piece must complete it). A refused piece changes nothing: it may be
 * sent again.
 */
WS6455_API int ws6455_send_fragment(ws6455_conn *c, int opcode, const void *p, size_t n, int fin);
/** Sends a ping (payload at most 125 bytes). */
WS6455_API int ws6455_ping(ws6455_conn *c, const void *p, size_t n);
/** Sends a pong (payload at most 125 bytes). */
WS6455_API int ws6455_pong(ws6455_conn *c, const void *p, size_t n);
/**
 * Starts (or, with WS6455_NO_AUTO_CLOSE_REPLY, answers) the closing
 * handshake. `code` 0 sends a close frame without payload (the peer sees
 * 1005); otherwise it must be valid to send (1000-1003, 1007-1014,
 * 3000-4999) and `reason` valid UTF-8 of at most 123 bytes (NULL when n is
 * 0). After it no data may be sent. Returns as the sends above
 * (WS6455_ERR_CLOSED when our close was already sent, also for a second
 * call; WS6455_ERR_INVALID_STATE while CONNECTING: abort instead).
 */
WS6455_API int ws6455_close(ws6455_conn *c, unsigned code, const char *reason, size_t n);

/** 1 when `code` may appear in a close frame on the wire: 1000-1003,
 *  1007-1014 and 3000-4999. (1012-1014 are registered with IANA and
 *  accepted on purpose.) */
WS6455_API int ws6455_close_code_valid(unsigned code);

/* ---- prepared messages: built once, sent to many by reference */

/**
 * A data message whose frame is built and validated once and then queued by
 * reference to any number of connections (broadcast): a 64 KiB message sent
 * to 10,000 connections is held once. Reference-counted: the creator holds
 * one reference (dropped with ws6455_message_free()), every queued send
 * holds one until its bytes are consumed. References are counted atomically
 * where C11 atomics exist (__STDC_NO_ATOMICS__ undefined), so a message may
 * be sent to connections of different threads; otherwise use it from one
 * thread only.
 */
typedef struct ws6455_message ws6455_message;

/**
 * Builds a message from a copy of data[0..len): opcode WS6455_OP_TEXT (must
 * be valid UTF-8) or WS6455_OP_BINARY. The frame (server form, unmasked) is
 * built at once, header and payload in one block. `a` NULL means libc.
 * Returns NULL on an invalid opcode, invalid UTF-8, a NULL data with len > 0,
 * or allocation failure.
 */
WS6455_API ws6455_message *ws6455_message_new(const ws6455_allocator *a, int opcode,
                                              const void *data, size_t len);

/**
 * Builds a message that refers to the caller's data[0..len) instead of
 * copying it: `release(user, data)` (may be NULL) is called exactly once
 * when the last reference is gone (ws6455_message_free() and every queued
 * send consumed, aborted or freed); until then the data must stay valid and
 * unchanged. Only the small message header is allocated, through `a` (NULL:
 * libc). Text must be valid UTF-8. Returns NULL like ws6455_message_new (in
 * which case release is not called).
 */
WS6455_API ws6455_message *ws6455_message_wrap(const ws6455_allocator *a, int opcode,
                                               const void *data, size_t len,
                                               void (*release)(void *user, const void *data),
                                               void *user);

/** Drops the caller's reference. NULL is fine. */
WS6455_API void ws6455_message_free(ws6455_message *m);

/** The message's opcode (WS6455_OP_TEXT or WS6455_OP_BINARY); 0 for NULL. */
WS6455_API int ws6455_message_opcode(const ws6455_message *m);
/** The message's payload (not the frame) and, in *len (if not NULL), its
 *  length; NULL (and 0) for NULL or an empty wrapped message. Valid while
 *  the caller holds its reference. */
WS6455_API const uint8_t *ws6455_message_data(const ws6455_message *m, size_t *len);

/**
 * Queues a prepared message. Server role: a frame larger than 512 bytes
 * that does not fit the free room of the queue's last chunk goes by
 * reference, nothing copied (a few dozen bytes of queue bookkeeping);
 * ws6455_conn_pending() then hands out the message's own bytes. Smaller
 * frames are copied into the queue: cheaper than a reference, and it keeps
 * the queue's memory within twice its bytes (docs/engine.md). Client
 * role: the frame must be masked with a fresh key, so the payload is
 * copied and masked into the queue. Either way the message may be freed
 * (ws6455_message_free) at once. Returns as the sends above.
 */
WS6455_API int ws6455_send_message(ws6455_conn *c, ws6455_message *m);

/** ws6455_send_message with flags (enum ws6455_send_flags). With
 *  permessage-deflate negotiated a prepared message is compressed for the
 *  connection like any other (its frame cannot be shared then), unless it
 *  is shorter than deflate.min_size or WS6455_SEND_UNCOMPRESSED is given. */
WS6455_API int ws6455_send_message_ex(ws6455_conn *c, ws6455_message *m, unsigned flags);

/* ---- callback I/O (ws6455_conn_on_readable and _on_writable are not in a
 *      WS6455_NO_CALLBACK_IO build) */

/**
 * The socket is readable: reads with the read callback into the context's
 * read buffer and feeds the engine, until the read would block, the stream
 * ends, the connection closes, the read budget (config read_budget) is
 * spent, or (WS6455_SHORT_READ_DRAINED) a read comes back short; then
 * writes pending output once.
 * Returns WS6455_OK (the socket is drained as far as we know, or the stream
 * ended after the closing handshake: see ws6455_conn_should_close_socket()),
 * WS6455_ERR_ABNORMAL_CLOSURE (the stream ended without a close frame:
 * 1006, the connection is CLOSED), WS6455_MORE (the budget was
 * spent: more input may be waiting; a level-triggered loop simply comes
 * back, an edge-triggered loop must call again later without waiting for a
 * new edge, after serving other connections), the sticky error of a
 * protocol violation (the close frame is queued), WS6455_ERR_IO (the read
 * or write callback failed: treat the socket as dead), WS6455_ERR_NOMEM
 * (no read buffer), WS6455_ERR_INVALID_STATE (no read or write callback,
 * or from inside a callback) or WS6455_ERR_CLOSED (freed by a callback).
 */
WS6455_API int ws6455_conn_on_readable(ws6455_conn *c);
/** The socket is writable: writes pending output until done or it would
 *  block. Returns WS6455_OK, WS6455_ERR_IO, WS6455_ERR_INVALID_STATE (no
 *  write callback, or from inside a callback) or WS6455_ERR_CLOSED (on_drain
 *  freed the connection). */
WS6455_API int ws6455_conn_on_writable(ws6455_conn *c);
/** 1 when there is output waiting: watch the socket for writability. */
WS6455_API int ws6455_conn_wants_write(const ws6455_conn *c);
/** 1 while the engine still wants input (not CLOSED, no end of stream). */
WS6455_API int ws6455_conn_wants_read(const ws6455_conn *c);

/* ---- time, from the caller */

/** No deadline. */
#define WS6455_NO_DEADLINE UINT64_MAX

/** When (in the caller's milliseconds) ws6455_conn_tick() should next be
 *  called, or WS6455_NO_DEADLINE. Never WS6455_NO_DEADLINE while the
 *  connection is CLOSING, or CLOSED with ws6455_conn_should_close_socket()
 *  still 0. */
WS6455_API uint64_t ws6455_conn_deadline(const ws6455_conn *c);
/**
 * Tells the engine the time and acts on expired timers: handshake timeout
 * (CLOSED, WS6455_ERR_TIMEOUT), close timeout (CLOSED, WS6455_ERR_TIMEOUT,
 * queued output dropped), keepalive ping, keepalive failure
 * (WS6455_ERR_TIMEOUT, CLOSED, output dropped), and the end of the drain
 * allowance of a CLOSED connection (output dropped). The engine's time is the
 * now_ms of the last tick: timers armed between ticks start from it, so call
 * this when the connection is created and whenever the event loop wakes.
 * Time must not go backwards (an earlier value is ignored). Returns WS6455_OK,
 * the sticky error, WS6455_ERR_CLOSED (freed by a callback) or
 * WS6455_ERR_INVALID_STATE (from inside a callback).
 */
WS6455_API int ws6455_conn_tick(ws6455_conn *c, uint64_t now_ms);


#ifdef __cplusplus
}
#endif

#endif /* WS6455_H */
