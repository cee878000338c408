/*
 * deflate_opts — the permessage-deflate (RFC 7692) command-line options
 * every example shares (echo_server, uv_echo, ws_client, wss_client,
 * chat_server): parsing them into ws6455_config.deflate, their usage text,
 * the refusal when the library was built without zlib, and a one-line
 * description of what a connection agreed to, for logs.
 *
 *   --deflate                  server: accept an offer; client: offer it
 *   --deflate-server-takeover  the server's compressor keeps its window
 *                              between messages (no server_no_context_takeover)
 *   --deflate-client-takeover  the client's compressor may keep its window
 *                              (no client_no_context_takeover)
 *   --deflate-server-window B  server_max_window_bits, 8..15
 *   --deflate-client-window B  client_max_window_bits, 8..15
 *   --deflate-level N          zlib level, -1..9
 *   --deflate-mem-level N      zlib memLevel, 1..9
 *   --deflate-min-size BYTES   shorter messages go uncompressed
 *
 * Every --deflate-* option implies --deflate. What each setting means in
 * each role, and what it costs per connection, is in docs/deflate.md.
 */
#ifndef WS6455_EXAMPLES_DEFLATE_OPTS_H
#define WS6455_EXAMPLES_DEFLATE_OPTS_H

#include <ws6455.h>

#include <stddef.h>
#include <stdio.h>

/* Takes argv[*i] when it is one of the options above, moving *i past its
 * argument: 1 when taken, 0 when it is none of them, -1 when its argument
 * is missing or out of range. *d must hold the defaults first
 * (ws6455_config_init's config.deflate). */
int deflate_opts_parse(ws6455_deflate_options *d, int argc, char **argv, int *i);

/* The usage lines of the options above, for a program's --help. */
void deflate_opts_usage(FILE *f);

/* When *d asks for permessage-deflate and this build of the library has no
 * zlib: "PROG: --deflate: built without zlib ..." on standard error, and
 * -1; else 0. Call it after parsing: programs exit with status 2. */
int deflate_opts_check(const char *prog, const ws6455_deflate_options *d);

/* What c agreed to, for a log line: "permessage-deflate server_max_window_bits=15
 * client_max_window_bits=10 server_no_context_takeover" (flags only when
 * set), or "no compression". Returns out. */
const char *deflate_opts_describe(const ws6455_conn *c, char *out, size_t cap);

#endif
