/*
 * net — the socket chores every example and interop tool repeats: connect,
 * listen, non-blocking mode, and the recv()/send() calls behind ws6455's
 * read and write callbacks. POSIX sockets only. Functions that take `prog`
 * report their failures on standard error as "prog: ...".
 */
#ifndef WS6455_EXAMPLES_NET_H
#define WS6455_EXAMPLES_NET_H

#include <ws6455.h>

#include <stddef.h>
#include <stdint.h>

/* The URL's host (IPv6 without brackets) as a C string. -1 when it does not
 * fit in cap bytes. */
int net_url_host(const ws6455_url *u, char *host, size_t cap);

/* A TCP connection to host:port, trying every address the name resolves
 * to, with TCP_NODELAY; the descriptor is left blocking. The connects
 * together take at most timeout_ms (0: as long as the kernel takes), so a
 * host that drops SYNs cannot hold a client for the kernel's minutes of
 * retries. The descriptor, or -1 (reported; "timed out" after the limit). */
int net_connect(const char *prog, const char *host, uint16_t port, uint64_t timeout_ms);

/* A non-blocking, close-on-exec listening socket on host:port (numeric
 * port; "0" picks a free one). With reuseport, several sockets may share
 * the port (SO_REUSEPORT). The descriptor, or -1 (reported). */
int net_listen(const char *prog, const char *host, const char *port, int reuseport, int backlog);

/* The socket's own address as "host:port", IPv6 as "[host]:port". */
void net_local_name(int fd, char *out, size_t cap);

int net_set_nonblocking(int fd);

/* WebSocket frames are small and latency matters more than packet count. */
void net_set_nodelay(int fd);

/* recv() and send() on a non-blocking socket, answered the way ws6455's
 * read and write callbacks must: a byte count (0 from net_recv: end of
 * stream), WS6455_IO_WOULD_BLOCK, or WS6455_IO_ERROR. */
ptrdiff_t net_recv(int fd, uint8_t *buf, size_t cap);
ptrdiff_t net_send(int fd, const uint8_t *buf, size_t len);

/* The gather form of net_send, for ws6455's writev callback: the pieces
 * go out in one sendmsg() call (at most NET_MAX_IOV are used). */
#define NET_MAX_IOV 64
ptrdiff_t net_sendv(int fd, const ws6455_iovec *iov, size_t count);

/* Reads and throws away what has arrived on a non-blocking socket, for
 * waiting out the peer after the close handshake. 1 once the peer has
 * closed its end (or the socket failed), 0 while it is still open. Reads
 * at most 64 KiB per call, so a peer that floods cannot keep the caller
 * here: a level-triggered or poll() loop simply comes back. */
int net_discard_input(int fd);

/* The peer's address as "host:port" ("[host]:port" for IPv6), for log
 * lines: computed when needed instead of kept per connection. */
void net_peer_name(int fd, char *out, size_t cap);

#endif
