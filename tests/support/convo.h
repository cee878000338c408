/* Conversation scripts for the connection engine: a recorder that turns
 * events into a text transcript, an independent frame builder, and drivers
 * that feed the same input whole, split at every position, one byte at a
 * time, and through callback I/O with partial writes. */
#ifndef WS6455_CONVO_H
#define WS6455_CONVO_H

#include "testutil.h"

#define TU_LOG_CAP 16384
#define TU_OUT_CAP (1u << 20)

typedef struct tu_convo {
    ws6455_conn *c;
    char log[TU_LOG_CAP];
    size_t log_len;
    /* streaming pieces, gathered so transcripts do not depend on splits */
    uint8_t *stream;
    size_t stream_len;
    int stream_open;
    /* callback I/O */
    const uint8_t *in;
    size_t in_len, in_off, read_chunk;
    int read_block_toggle; /* alternate would-block answers */
    int eof_at_end;
    uint8_t *out;
    size_t out_len;
    size_t write_chunk; /* partial writes of at most this many bytes */
    int write_block_toggle;
    /* hooks for individual tests */
    void (*on_message_hook)(struct tu_convo *t, int opcode, const uint8_t *p, size_t n);
    void (*on_close_hook)(struct tu_convo *t, int code);
    int events;
    int outputs, drains;   /* on_output / on_drain calls (not logged) */
    int closes;            /* on_close calls */
    int clean_at_close;    /* ws6455_conn_was_clean() inside on_close */
    uint8_t rand_byte;
} tu_convo;

/* Callbacks that record into a tu_convo (pass the tu_convo as user). The
 * random callback is deterministic (bytes counting up from rand_byte). */
void tu_convo_callbacks(ws6455_callbacks *cb);
void tu_convo_init(tu_convo *t);
void tu_convo_free(tu_convo *t);
void tu_logf(tu_convo *t, const char *fmt, ...);

/* Builds one frame by hand, independently of the library's encoder: mask
 * NULL for unmasked. Returns its size. */
size_t tu_frame(uint8_t *dst, int fin, int opcode, const void *payload, size_t n,
                const uint8_t *mask);
size_t tu_frame_rsv(uint8_t *dst, int fin, unsigned rsv, int opcode, const void *payload,
                    size_t n, const uint8_t *mask);

/* Result of one run. */
typedef struct tu_result {
    char log[TU_LOG_CAP];
    uint8_t *out;
    size_t out_len;
    int state;
    int error;
} tu_result;

/* How to feed: pieces of split_first bytes then the rest (0: whole), or
 * `chunk` bytes at a time (chunk > 0 overrides), or callback I/O with
 * read/write chunks. */
typedef struct tu_feed {
    size_t split_first;
    size_t chunk;
    int callback_io;
    size_t io_read_chunk, io_write_chunk;
    int eof_at_end;
} tu_feed;

void tu_run(const ws6455_config *cfg, const uint8_t *in, size_t n, const tu_feed *how,
            tu_result *r);
void tu_result_free(tu_result *r);

/* Runs the input whole, then split at every position (inputs up to 600
 * bytes; at sampled positions beyond), one byte at a time, in chunks of 7,
 * and through callback I/O with 1- and 5-byte reads and 3-byte partial
 * writes; asserts identical transcripts, output, state and error, and
 * compares the transcript with `expected_log` and, if not NULL, the output
 * with expected_out. Returns nothing; fails the test on mismatch. */
void tu_script(const ws6455_config *cfg, const uint8_t *in, size_t n, const char *expected_log,
               const uint8_t *expected_out, size_t expected_out_len);

#endif
