/*
 * client_common — what ws_client and wss_client share: their common
 * command-line options, the callbacks that print messages and record the
 * close, and the poll() loop that sends each line of standard input as a
 * message until the connection has ended. The two programs differ only in
 * what carries the bytes under the engine: a TCP socket, or TLS over one.
 */
#ifndef WS6455_EXAMPLES_CLIENT_COMMON_H
#define WS6455_EXAMPLES_CLIENT_COMMON_H

#include "deflate_opts.h"

#include <ws6455.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLIENT_MAX_HEADERS 32
#define CLIENT_MAX_PROTOCOLS 16

typedef struct client_options {
    const char *prog; /* program name, the prefix of every message */
    const char *url;
    int binary, verbose;
    uint64_t ping_interval_ms;
    uint64_t handshake_timeout_ms; /* TLS and WebSocket handshakes together; 0: default */
    const char *protocols[CLIENT_MAX_PROTOCOLS];
    size_t protocol_count;
    ws6455_header headers[CLIENT_MAX_HEADERS];
    size_t header_count;
    ws6455_deflate_options deflate; /* --deflate... (deflate_opts.h) */
} client_options;

/* Zeroes *o, then the defaults: the library's deflate options (off). */
void client_options_init(client_options *o, const char *prog);

/* Takes argv[*i] when it is a common option (--binary, --verbose,
 * --protocol, --header, --ping-interval, --handshake-timeout, the
 * --deflate options) or the URL, moving *i past its argument. 1 when
 * taken, 0 when it is none of these, -1 when malformed. --help and each
 * program's own options are left to the program. */
int client_parse_option(client_options *o, int argc, char **argv, int *i);

/* After parsing: 0, or -1 when the options cannot work with this build
 * (--deflate without zlib; reported): exit with status 2 then. */
int client_options_check(const client_options *o);

/* The common options' usage lines (from --binary to --verbose). */
void client_usage_common(FILE *f);

/* One connection. A program that needs more per connection embeds this as
 * the first member of its own struct: the callbacks below receive that
 * struct as `user` and read it as a client_session. */
typedef struct client_session {
    int fd;
    ws6455_conn *conn;
    const client_options *opt;
    int close_code; /* from on_close; 0 before */
    char close_reason[128];
    /* The transport's part. buffered_input: bytes it has already received
     * that poll() cannot see on the socket (TLS decrypts whole records), or
     * NULL. handshake: a handshake of the transport's own (TLS) to run
     * before the WebSocket one, non-blocking, in the poll() loop and under
     * the same handshake timeout: returns 1 when done, 0 when it waits for
     * *events (POLLIN/POLLOUT) on the socket, -1 when it failed (reported);
     * NULL when there is none. wait_for_eof: after a completed close
     * handshake keep reading (up to 2 s) until the server closes the TCP
     * connection, as RFC 6455 lets the server close first; a TLS connection
     * just ends. */
    int (*buffered_input)(struct client_session *s);
    int (*handshake)(struct client_session *s, short *events);
    int wait_for_eof;
    int transport_up; /* the transport's handshake is done (or there is none) */
    char host_name[256];          /* what client_connect connected to */
    char host[300], target[4096]; /* request storage for ws6455_config_set_url */
} client_session;

/* on_open's --verbose line: "connected[ (DETAIL)], subprotocol: P, and what
 * was agreed ("permessage-deflate ..." or "no compression") on standard
 * error. */
void client_report_open(const client_session *s, const char *detail, const char *subprotocol);

/* Zeroes s for one connection with the options o; no descriptor yet. */
void client_session_init(client_session *s, const client_options *o);

/* Parses a URL; -1 (reported) when it is not a WebSocket URL. */
int client_parse_url(const client_session *s, const char *url_str, ws6455_url *url);

/* Connects s->fd to the URL's host and port (blocking, see net_connect),
 * keeping the name in s->host_name. -1 (reported) on failure. */
int client_connect(client_session *s, const ws6455_url *url);

/* Creates s->conn in the client role with the options' subprotocols,
 * headers, keepalive and handshake timeout and, unless 0,
 * max_output_buffer; the opening handshake is queued (client_run sends it
 * once the transport is up), and its timeout starts now. cb brings the transport (read, write) and the events
 * the program handles itself; on_close and on_error are the shared ones,
 * which keep the close code for the exit status and report errors. user
 * is s. -1 (reported). */
int client_start(client_session *s, const ws6455_url *url, const ws6455_callbacks *cb,
                 size_t max_output_buffer);

/* Drives the connection until it has ended; with read_input, each line of
 * standard input goes out as a message and the end of input starts the
 * close handshake. The exit status: 0 after a close with 1000 or 1001, 1
 * after any other ending, 2 when the transport's handshake failed or timed
 * out (no connection was made). Every wait is bounded: by the engine's
 * deadlines (handshake, close handshake, keepalive), and each readable
 * event reads a bounded amount (the engine's read budget), so a peer that
 * floods cannot keep the client past them. */
int client_run(client_session *s, int read_input);

/* Frees the engine and closes the socket. */
void client_session_end(client_session *s);

/* "closed: CODE [REASON]" on standard error (1006 when no close arrived). */
void client_report_close(const client_session *s);

/* An on_message callback: each message on its own line of standard
 * output. */
void client_print_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user);

#endif
