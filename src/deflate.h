/* Internal: permessage-deflate (RFC 7692) in two layers the connection
 * engine calls. Neither knows about connections, frames or sockets.
 *
 *  - Negotiation (src/deflate_negotiate.c; libc only, always built): the
 *    knobs, the Sec-WebSocket-Extensions grammar, the server's choice among
 *    the client's offers, the client's offer and its validation of the
 *    server's response -- all of RFC 7692 section 7.1, both roles.
 *  - Codec (src/deflate.c; only with make WITH_ZLIB=1): a compressor and a
 *    decompressor for one direction each, built from an allocator and the
 *    agreed parameters only, so an engine can hold one of each per
 *    connection or share one compressor among a context's connections.
 *
 * Roles and directions. The agreed parameters name the *server's* and the
 * *client's* compressor (RFC 7692 names them so); ws6455__deflate_directions()
 * turns them into "what I send" and "what I receive" for one role.
 *
 * Window bits 8 (a 256-byte LZ77 window). zlib cannot deflate a raw stream
 * with windowBits 8 (zlib >= 1.2.9 refuses it, older ones silently used 9).
 * We still agree to 8 wherever RFC 7692 allows it, and compress with
 * windowBits 9: zlib's deflate never emits a match farther back than
 * w_size - MIN_LOOKAHEAD = 512 - 262 = 250 bytes, which a peer inflating
 * with a 256-byte window reads correctly (Node.js relies on the same fact
 * and documents it for zlib.createDeflateRaw). tests/test_deflate.c proves
 * it on the installed zlib by inflating our output with a strict 256-byte
 * window, and shows the same check failing for windowBits 10. We inflate
 * with exactly the agreed window, 8 included (zlib's inflate supports it).
 * But we never *ask* a peer for 8 (a client's server_max_window_bits, a
 * server's client_max_window_bits): peers that hand 8 to zlib fail (Python's
 * websockets drops the connection with ValueError), so a configured 8 is
 * asked as 9, which costs our decompressor 256 bytes. A client that offers
 * client_max_window_bits=8 itself is answered 8.
 */
#ifndef WS6455_DEFLATE_H
#define WS6455_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "ws6455.h"

/* Placeholder until the public error list has it: the peer's compressed
 * message is not valid DEFLATE data (or ends inside a DEFLATE block).
 * Proposed public entry:
 *   X(DEFLATE_DATA, -45, 1007, "compressed message is not valid DEFLATE data")
 * 1007 rather than 1002: the frames themselves obey the protocol (RSV1 was
 * negotiated); it is the message's data that is inconsistent with its type,
 * which is 1007's meaning in RFC 6455 7.4.1, the same code invalid UTF-8
 * gets. Node's ws closes with 1007 for inflate errors too. */
#define WS6455__ERR_DEFLATE_DATA WS6455_ERR_DEFLATE_DATA

/* The longest Sec-WebSocket-Extensions value this layer writes, with its
 * NUL: "permessage-deflate; server_no_context_takeover;
 * client_no_context_takeover; server_max_window_bits=NN;
 * client_max_window_bits=NN" is 128 characters. */
#define WS6455__DEFLATE_HEADER_MAX 129

/* ------------------------------------------------------------------------ */
/* The knobs                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * What this endpoint asks for (client) or is willing to accept (server).
 * Destined for the public ws6455_config. Defaults (ws6455__deflate_options_init)
 * in brackets, and why:
 *
 *  enabled [0]  Client: offer permessage-deflate. Server: accept an offer.
 *      Off by default: compression costs memory and CPU per connection,
 *      and mixing secrets with attacker-chosen text in one compressed
 *      context leaks through the compressed size (CRIME/BREACH); an
 *      application should choose it.
 *  server_no_context_takeover [1]  Server: announce that our compressor
 *      starts every message with an empty window (we always accept a
 *      client asking for it). Client: ask the server for it; a response
 *      without it then fails the connection (RFC 7692 7.1.1.1 makes it a
 *      MUST for the server).
 *  client_no_context_takeover [1]  Server: require it of the client, so
 *      our decompressor can be freed between messages. Client: offer it as
 *      a hint and never take over our own context.
 *      Both default to 1: an idle connection then holds no zlib memory at
 *      all (the target); context takeover compresses small
 *      repetitive messages much better and costs a window per direction
 *      per connection (see the bounds at the codec).
 *  server_max_window_bits [15]  8..15. The largest LZ77 window the
 *      server's compressor may use. Server: our compressor's window (we
 *      answer with the smaller of this and the client's request). Client:
 *      below 15, ask the server for it (our decompressor's window; 8 is
 *      asked as 9, see above); a response without it or with a larger
 *      value fails the connection.
 *  client_max_window_bits [15]  8..15. The client's compressor's window.
 *      Server: below 15, require it of the client (8 is asked as 9
 *      unless the client offered 8); an offer that does not advertise
 *      client_max_window_bits (Firefox's bare "permessage-deflate") is then
 *      declined, since the bound could not hold. Client: our compressor's
 *      window; below 15 it is sent as a value. The client always offers
 *      client_max_window_bits, as Chromium, Node's ws and Python's
 *      websockets do.
 *      Both 15 by default so every browser's offer is accepted.
 *  level [-1]  zlib level: -1 (zlib's default, 6) or 0..9.
 *  mem_level [4]  zlib memLevel 1..9: the compressor's hash table and
 *      buffers, 2^(mem_level+9) bytes besides the window. 4 rather than
 *      zlib's 8: at 15 bits the compressor takes 139 KiB instead of 262 KiB,
 *      and without context takeover each small message costs half the CPU
 *      (zlib clears the 2^(mem_level+8)-byte hash head for every message),
 *      for a ratio within 1 % on text at level 6 (bench/deflate; Python's
 *      websockets uses 5).
 *  min_size [64]  Messages shorter than this are sent uncompressed: below
 *      it DEFLATE rarely saves bytes and the zlib set-up costs more than
 *      the message.
 *
 * Flags are 0 or 1 (any non-zero means 1).
 */
typedef ws6455_deflate_options ws6455__deflate_options; /* public: include/ws6455.h */

/* Fills *o with the defaults above. */
void ws6455__deflate_options_init(ws6455__deflate_options *o);

/* WS6455_OK, or WS6455_ERR_INVALID_ARGUMENT when a field is out of range. */
int ws6455__deflate_options_check(const ws6455__deflate_options *o);

/* ------------------------------------------------------------------------ */
/* Negotiation (RFC 7692 section 7.1)                                         */
/* ------------------------------------------------------------------------ */

/* One permessage-deflate parameter set, as written in an offer or a
 * response. Window bits: 0 when the parameter is absent, 8..15 its value;
 * client_max_window_bits may also be WS6455__DEFLATE_BITS_NO_VALUE (present
 * without a value, allowed in an offer only). */
#define WS6455__DEFLATE_BITS_NO_VALUE 1
typedef struct ws6455__deflate_offer {
    uint8_t server_no_context_takeover;
    uint8_t client_no_context_takeover;
    uint8_t server_max_window_bits;
    uint8_t client_max_window_bits;
} ws6455__deflate_offer;

/* The agreed parameters: what each side's compressor does. Window bits are
 * always 8..15 here (15 when the handshake did not name them). */
typedef ws6455_deflate_params ws6455__deflate_params; /* public: include/ws6455.h */

/*
 * Parses one element of a Sec-WebSocket-Extensions list, e.g.
 * "permessage-deflate; client_max_window_bits" (surrounding whitespace
 * allowed), by RFC 6455 9.1's grammar: a token, then "; name" or
 * "; name=value" parameters, the value a token or a quoted-string whose
 * unescaped content is a token, whitespace allowed around ';' and '='.
 * Names compare exactly (they are registered lower-case tokens). `response`
 * says which rules apply: client_max_window_bits needs a value in a
 * response (7.1.2.2).
 * Returns 1: permessage-deflate with valid parameters, *out filled;
 * 0: a well-formed element naming another extension; WS6455_ERR_HS_EXTENSION:
 * malformed, or permessage-deflate with an unknown, repeated or invalid
 * parameter (7.1: such an offer is declined, such a response fails).
 */
int ws6455__deflate_parse(const char *s, size_t n, int response, ws6455__deflate_offer *out);

/*
 * Server: the first acceptable permessage-deflate offer in `value`, in the
 * client's order of preference. `value` is one element as the request view
 * gives it (ws6455_request_extension) or a whole header value with several
 * comma-separated elements (commas inside quoted-strings do not split).
 * Elements naming other extensions, malformed ones and offers that break
 * 7.1 or that these options cannot honour are declined and the next is
 * tried; the handshake is never rejected for them.
 * On acceptance fills *agreed and writes the response element, e.g.
 * "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
 * NUL-terminated, to resp (its length, without the NUL, to *resp_len).
 * Returns 1 when an offer was accepted, 0 when none was (go on without
 * compression; also when o->enabled is 0), WS6455_ERR_INVALID_ARGUMENT
 * (NULL pointers, bad options) or WS6455_ERR_BUFFER_TOO_SMALL (resp_cap
 * below the response's length + 1; WS6455__DEFLATE_HEADER_MAX always fits).
 */
int ws6455__deflate_server_select(const ws6455__deflate_options *o, const char *value, size_t len,
                                  ws6455__deflate_params *agreed, char *resp, size_t resp_cap,
                                  size_t *resp_len);

/* Client: the parameter set our offer carries for these options. */
void ws6455__deflate_client_offer_params(const ws6455__deflate_options *o,
                                         ws6455__deflate_offer *sent);

/*
 * Client: writes the offer for the request's Sec-WebSocket-Extensions,
 * e.g. "permessage-deflate; server_no_context_takeover;
 * client_no_context_takeover; client_max_window_bits", NUL-terminated.
 * Returns WS6455_OK (length without the NUL in *len), or
 * WS6455_ERR_INVALID_ARGUMENT (bad options, or o->enabled is 0: nothing to
 * offer), WS6455_ERR_BUFFER_TOO_SMALL.
 */
int ws6455__deflate_client_offer(const ws6455__deflate_options *o, char *out, size_t cap,
                                 size_t *len);

/*
 * Client: validates the server's Sec-WebSocket-Extensions value (NULL or
 * len 0 when the response has none) against the offer `sent`. We offer
 * only permessage-deflate, so any other extension fails, as does a second
 * permessage-deflate, an unknown, repeated or invalid parameter,
 * client_max_window_bits when we did not offer it or without a value,
 * server_max_window_bits missing or larger than we asked, or
 * server_no_context_takeover missing when we asked for it (7.1).
 * Returns 1 with *agreed filled, 0 when the server declined (no extension:
 * go on uncompressed), or WS6455_ERR_HS_EXTENSION (fail the connection).
 */
int ws6455__deflate_client_check(const ws6455__deflate_offer *sent, const char *value, size_t len,
                                 ws6455__deflate_params *agreed);

/* The same with the offer these options make (o->enabled 0: we offered
 * nothing, so any extension fails). WS6455_ERR_INVALID_ARGUMENT for bad
 * options. */
int ws6455__deflate_client_accept(const ws6455__deflate_options *o, const char *value, size_t len,
                                  ws6455__deflate_params *agreed);

/* One direction of compressed traffic. */
typedef struct ws6455__deflate_dir {
    uint8_t window_bits;         /* 8..15, as agreed */
    uint8_t no_context_takeover; /* each message starts with an empty window */
} ws6455__deflate_dir;

/* What a server (is_server != 0) or a client sends and receives under the
 * agreed parameters. */
void ws6455__deflate_directions(const ws6455__deflate_params *p, int is_server,
                                ws6455__deflate_dir *send, ws6455__deflate_dir *recv);

/* ------------------------------------------------------------------------ */
/* Codec (src/deflate.c, make WITH_ZLIB=1)                                    */
/* ------------------------------------------------------------------------ */

/*
 * Memory. All zlib memory comes from the allocator given at init, and none
 * exists until the first message that needs it. Per direction (w: zlib
 * window bits, m: memLevel; "state" is zlib's fixed part with our z_stream,
 * measured on zlib 1.2.13 x86-64: 5.9 KiB deflate, 7.1 KiB inflate):
 *   compressor:   4 * 2^w + 2^(m+9) + state     (w = max(agreed, 9))
 *                 15/8: 262 KiB, 15/9: 390 KiB, 15/1: 135 KiB,
 *                 12/4: 30 KiB, 10/1: 11 KiB, 8 or 9/1: 9 KiB
 *   decompressor: 2^w + state
 *                 15: 39 KiB, 12: 11 KiB, 8: 7.4 KiB
 * Without context takeover the state is freed at the end of every message
 * (not reset), so a connection between messages holds none; with it the
 * state lives until ws6455__*_free. A shared compressor keeps its state and
 * resets it. Empty messages never create state. tests/test_deflate.c checks
 * every window and memLevel against these bounds with a counting allocator.
 *
 * zlib checks a match's distance against the data it still holds, its
 * window and the output chunk being written, so the decompressor accepts
 * distances up to WS6455__INFLATE_CHUNK even under a smaller agreed window;
 * past that, a distance beyond the window is WS6455__ERR_DEFLATE_DATA. That
 * leniency costs no memory.
 */

/* Compressor for one direction. Embeddable: 32 bytes, all a connection
 * holds while no zlib state exists. */
typedef struct ws6455__deflater {
    const ws6455_allocator *a; /* must outlive the deflater */
    void *zs;                  /* zlib state (src/deflate.c), NULL while none is held */
    int err;                   /* sticky failure */
    uint8_t window_bits, no_context_takeover, mem_level, shared;
    int8_t level;
    uint8_t pending; /* input given since the last flush */
} ws6455__deflater;

/* ws6455__deflater_init flag: a compressor shared by connections (uWS's
 * "shared compressor"). Only without context takeover; it keeps its zlib
 * state and resets it after every message instead of freeing it. The
 * engine must finish one message (WS6455__DEFLATE_END) before it starts
 * another on it, and may use it only for connections whose agreed window
 * is at least its own. */
#define WS6455__DEFLATER_SHARED 1u

/* Sets up *d; allocates nothing. `a` is a resolved allocator (never NULL
 * functions) that outlives *d. WS6455_OK or WS6455_ERR_INVALID_ARGUMENT
 * (window bits outside 8..15, level outside -1..9, mem_level outside 1..9,
 * SHARED with context takeover). */
int ws6455__deflater_init(ws6455__deflater *d, const ws6455_allocator *a,
                          const ws6455__deflate_dir *dir, int level, int mem_level, unsigned flags);

/* Frees any zlib state. *d may be initialised again afterwards. */
void ws6455__deflater_free(ws6455__deflater *d);

/* How a piece of a message is given to ws6455__deflater_write. */
enum ws6455__deflate_mode {
    WS6455__DEFLATE_MORE = 0,  /* more of this message follows; output may lag */
    WS6455__DEFLATE_FLUSH = 1, /* more follows, but emit everything so far
                                  (ends with a 00 00 ff ff sync point that stays
                                  in the message, as in RFC 7692 7.2.3.5) */
    WS6455__DEFLATE_END = 2    /* the message ends with this piece */
};

/*
 * Compresses n bytes (the next piece of the current message) and appends
 * the output to *out, growing it through the deflater's allocator (a
 * caller's buffer that is kept between messages makes this allocation-free
 * once warm; the engine can pass its output queue or a scratch buffer). At
 * WS6455__DEFLATE_END the message is closed with a sync flush and the
 * trailing 00 00 ff ff removed (RFC 7692 7.2.1); a message, or an end
 * after a flush, with nothing to add gives the single byte 00 (7.2.3.6).
 * The bytes appended by one call may be taken off *out before the next.
 * Without context takeover the zlib state is freed at END (reset when
 * shared). Returns WS6455_OK, WS6455_ERR_INVALID_ARGUMENT (bad mode, NULL
 * with n > 0), WS6455_ERR_NOMEM (sticky: the message is lost).
 */
int ws6455__deflater_write(ws6455__deflater *d, const uint8_t *in, size_t n, int mode,
                           ws6455__buf *out);

/* Decompressed bytes are handed out in pieces of at most this size. */
#define WS6455__INFLATE_CHUNK 4096

/* Receives decompressed bytes (p[0..n), valid during the call; n > 0).
 * Returns WS6455_OK, or a negative code that stops decompression and is
 * returned by ws6455__inflater_write (e.g. WS6455_ERR_UTF8 from a
 * validating sink). */
typedef int (*ws6455__inflate_sink)(void *user, const uint8_t *p, size_t n);

/* Decompressor for one direction. Embeddable: 56 bytes, all a connection
 * holds while no zlib state exists. */
typedef struct ws6455__inflater {
    const ws6455_allocator *a; /* must outlive the inflater */
    void *zs;                  /* zlib state (src/deflate.c), NULL while none is held */
    uint64_t limit;            /* most inflated bytes per message */
    uint64_t out;              /* inflated bytes of the current message */
    uint64_t in;               /* compressed bytes of the current message */
    int err;                   /* sticky failure */
    uint8_t window_bits, no_context_takeover;
    /* Where zlib stands in the peer's blocks (see src/deflate.c, BFINAL). */
    uint8_t at_boundary, bits_left, last_byte, final_open, after_final;
} ws6455__inflater;

/* Sets up *f; allocates nothing. max_message_size: the most bytes one
 * message may inflate to (the engine's max_message_size; 0 means no
 * limit). WS6455_OK or WS6455_ERR_INVALID_ARGUMENT (window bits). */
int ws6455__inflater_init(ws6455__inflater *f, const ws6455_allocator *a,
                          const ws6455__deflate_dir *dir, uint64_t max_message_size);

/* Frees any zlib state. */
void ws6455__inflater_free(ws6455__inflater *f);

/*
 * Decompresses the next piece of the current compressed message (the
 * payload of one frame or any part of it, in order); `fin` marks the
 * message's last piece (the piece may be empty), after which 00 00 ff ff is
 * appended (RFC 7692 7.2.2) and the next call starts a new message.
 * Output goes to `sink` in pieces of at most WS6455__INFLATE_CHUNK bytes as
 * it appears; nothing the size of the message is ever allocated.
 *  - Limit: inflated bytes are counted as they appear; output up to the
 *    limit reaches the sink, and the first byte past it stops with
 *    WS6455_ERR_MESSAGE_TOO_BIG (1009) before the sink sees it. 128 MiB of
 *    zeros (127 KiB compressed) under a 16 MiB limit stops after about
 *    16 KiB of its input, in the decompressor's fixed memory.
 *  - BFINAL: a DEFLATE block with BFINAL set ends a zlib stream, but in
 *    RFC 7692 it ends no message: "The next DEFLATE block follows the
 *    padded data if any" (7.2.1, 7.2.3.4). Blocks after it are decoded
 *    with the same window (so later blocks and, with context takeover,
 *    later messages may refer back); a message whose data ends with a
 *    final block is complete without our 00 00 ff ff. This costs nothing
 *    per block (src/deflate.c says how), so a flood of empty final blocks
 *    ("03 00" ...) is as cheap as any other input.
 *  - A message must end at a block boundary once 00 00 ff ff is added,
 *    and those four bytes may not be read as data (they close an empty
 *    stored block); otherwise (truncated data, an unstripped tail)
 *    WS6455__ERR_DEFLATE_DATA.
 *  - A compressed message with an empty payload is taken as an empty
 *    message and leaves the window alone (a correct sender writes 00 for
 *    it; Python's websockets accepts the empty form too).
 * Without context takeover the zlib state is freed when the message ends.
 * Returns WS6455_OK, WS6455__ERR_DEFLATE_DATA, WS6455_ERR_MESSAGE_TOO_BIG,
 * WS6455_ERR_NOMEM, WS6455_ERR_INVALID_ARGUMENT (NULL with n > 0, no sink),
 * or the sink's code. Every failure is sticky: the connection is to fail.
 */
int ws6455__inflater_write(ws6455__inflater *f, const uint8_t *in, size_t n, int fin,
                           ws6455__inflate_sink sink, void *user);

#endif
