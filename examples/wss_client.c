/*
 * wss_client — ws_client over TLS: WebSocket through OpenSSL, plugged into
 * ws6455's read/write callbacks.
 *
 *   wss_client [--cafile FILE | --insecure] [options] wss://host[:port]/path
 *
 * Each line of standard input is sent as a text message (--binary: binary),
 * each message received is printed on its own line; at the end of input it
 * sends close 1000 and waits for the reply. Exit status: 0 after close
 * 1000/1001, 1 after another ending, 2 when no connection was made.
 *
 * The TLS part is all in tls_read/tls_write: SSL_read and SSL_write on a
 * non-blocking socket, SSL_ERROR_WANT_READ / SSL_ERROR_WANT_WRITE mapped to
 * WS6455_IO_WOULD_BLOCK, the peer's TLS close_notify mapped to end of
 * stream. The engine neither knows nor cares that the bytes are encrypted.
 * Certificates are checked against the system store (or --cafile),
 * including the host name or IP address; --insecure skips that.
 */
#define _POSIX_C_SOURCE 200809L
#include <ws6455.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 32
#define MAX_PROTOCOLS 16
#define MAX_LINE ((size_t)16 << 20)
#define STDIN_PAUSE_AT ((size_t)1 << 20)
#define EOF_WAIT_MS 2000u

typedef struct options {
    const char *url;
    const char *cafile;
    int insecure, binary, verbose;
    uint64_t ping_interval_ms;
    const char *protocols[MAX_PROTOCOLS];
    size_t protocol_count;
    ws6455_header headers[MAX_HEADERS];
    size_t header_count;
} options;

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options] wss://host[:port]/path\n"
            "ws_client over TLS (OpenSSL): lines of standard input out as messages,\n"
            "messages in printed one per line; close 1000 at end of input.\n"
            "  --cafile FILE        trust the certificates in FILE (PEM)\n"
            "  --insecure           do not verify the server's certificate\n"
            "  --binary             send lines as binary messages\n"
            "  --protocol NAME      offer a subprotocol (repeatable)\n"
            "  --header 'K: V'      add a request header (repeatable)\n"
            "  --ping-interval MS   ping after MS of silence; fail if no answer in MS\n"
            "  --verbose            report the connection on standard error\n"
            "  --help               this text\n",
            argv0);
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_arg = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0]);
            exit(0);
        } else if (!strcmp(a, "--binary")) {
            o->binary = 1;
        } else if (!strcmp(a, "--insecure") || !strcmp(a, "-k")) {
            o->insecure = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = 1;
        } else if (!strcmp(a, "--cafile") && has_arg) {
            o->cafile = argv[++i];
        } else if (!strcmp(a, "--protocol") && has_arg) {
            if (o->protocol_count == MAX_PROTOCOLS)
                return -1;
            o->protocols[o->protocol_count++] = argv[++i];
        } else if (!strcmp(a, "--header") && has_arg) {
            const char *h = argv[++i], *colon = strchr(h, ':');
            if (!colon || colon == h || o->header_count == MAX_HEADERS)
                return -1;
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            o->headers[o->header_count++] =
                (ws6455_header){h, (size_t)(colon - h), v, strlen(v)};
        } else if (!strcmp(a, "--ping-interval") && has_arg) {
            char *end;
            o->ping_interval_ms = strtoull(argv[++i], &end, 10);
            if (*end)
                return -1;
        } else if (a[0] != '-' && !o->url) {
            o->url = a;
        } else {
            return -1;
        }
    }
    return o->url ? 0 : -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void tls_errors(const char *what)
{
    fprintf(stderr, "wss_client: %s", what);
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        fprintf(stderr, ": %s", buf);
    }
    fputc('\n', stderr);
}

/* ------------------------------------------------------------ session */

typedef struct session {
    int fd;
    SSL *ssl;
    ws6455_conn *conn;
    const options *opt;
    int close_code;
    char close_reason[128];
} session;

/* The TLS transport: what the engine's callbacks see as a byte stream. */
static ptrdiff_t tls_read(void *user, uint8_t *buf, size_t cap)
{
    session *s = user;
    ERR_clear_error();
    int n = SSL_read(s->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    if (n > 0)
        return n;
    switch (SSL_get_error(s->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* renegotiation or key update in progress */
        return WS6455_IO_WOULD_BLOCK;
    case SSL_ERROR_ZERO_RETURN: /* the server's close_notify: end of stream */
        return 0;
    default:
        return WS6455_IO_ERROR;
    }
}

static ptrdiff_t tls_write(void *user, const uint8_t *buf, size_t len)
{
    session *s = user;
    ERR_clear_error();
    int n = SSL_write(s->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(s->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return WS6455_IO_WOULD_BLOCK;
    default:
        return WS6455_IO_ERROR;
    }
}

static void on_open(ws6455_conn *c, const char *subprotocol, void *user)
{
    (void)c;
    session *s = user;
    if (s->opt->verbose)
        fprintf(stderr, "connected (%s), subprotocol: %s\n", SSL_get_version(s->ssl),
                subprotocol ? subprotocol : "(none)");
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    (void)c;
    (void)opcode;
    (void)user;
    fwrite(data, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static void on_close(ws6455_conn *c, int code, const char *reason, size_t len, void *user)
{
    (void)c;
    session *s = user;
    s->close_code = code;
    size_t n = len < sizeof s->close_reason - 1 ? len : sizeof s->close_reason - 1;
    memcpy(s->close_reason, reason, n);
    s->close_reason[n] = '\0';
}

static void on_error(ws6455_conn *c, int err, void *user)
{
    (void)user;
    if (err == WS6455_ERR_HS_STATUS) {
        const ws6455_response *r = ws6455_conn_response(c);
        fprintf(stderr, "wss_client: handshake refused: HTTP status %d\n",
                r ? ws6455_response_status(r) : 0);
    } else if (err != WS6455_ERR_ABNORMAL_CLOSURE) {
        fprintf(stderr, "wss_client: %s\n", ws6455_strerror(err));
    }
}

/* TCP connect (blocking), then the TLS handshake (blocking, with the
 * certificate checks), then non-blocking for the event loop. */
static int tls_connect(session *s, SSL_CTX *ctx, const ws6455_url *u, const options *o)
{
    char host[256], port[8];
    if (u->host_len >= sizeof host)
        return -1;
    memcpy(host, u->host, u->host_len);
    host[u->host_len] = '\0';
    snprintf(port, sizeof port, "%u", (unsigned)u->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "wss_client: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        err = errno;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "wss_client: cannot connect to %s port %s: %s\n", host, port,
                strerror(err));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->fd = fd;
    s->ssl = SSL_new(ctx);
    if (!s->ssl || !SSL_set_fd(s->ssl, fd))
        return -1;
    /* SNI for names, and the name or address the certificate must carry. */
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(s->ssl, host);
    if (!o->insecure) {
        X509_VERIFY_PARAM *param = SSL_get0_param(s->ssl);
        if (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(param, host)
                  : !X509_VERIFY_PARAM_set1_host(param, host, 0))
            return -1;
    }
    ERR_clear_error();
    if (SSL_connect(s->ssl) != 1) {
        long v = SSL_get_verify_result(s->ssl);
        if (v != X509_V_OK)
            fprintf(stderr, "wss_client: certificate not trusted: %s (--cafile FILE or --insecure)\n",
                    X509_verify_cert_error_string(v));
        else
            tls_errors("TLS handshake failed");
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

typedef struct line_reader {
    char *buf;
    size_t len, cap;
    int eof;
} line_reader;

static int send_line(session *s, const char *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    int rc = s->opt->binary ? ws6455_send_binary(s->conn, p, n)
                            : ws6455_send_text(s->conn, p, n);
    if (rc == WS6455_ERR_UTF8) {
        fprintf(stderr, "wss_client: line is not valid UTF-8, not sent (try --binary)\n");
        return 0;
    }
    return rc < 0 ? -1 : 0;
}

static int read_stdin(session *s, line_reader *lr)
{
    if (lr->cap - lr->len < 65536) {
        size_t cap = lr->cap ? lr->cap * 2 : 131072;
        if (cap > MAX_LINE + 65536)
            return -1;
        char *b = realloc(lr->buf, cap);
        if (!b)
            return -1;
        lr->buf = b;
        lr->cap = cap;
    }
    ssize_t n = read(STDIN_FILENO, lr->buf + lr->len, lr->cap - lr->len);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0) {
        lr->eof = 1;
        if (lr->len && send_line(s, lr->buf, lr->len) < 0)
            return -1;
        lr->len = 0;
        int rc = ws6455_close(s->conn, 1000, NULL, 0);
        return rc == WS6455_OK || rc == WS6455_ERR_INVALID_STATE ? 0 : -1;
    }
    size_t start = 0, scan = lr->len;
    lr->len += (size_t)n;
    for (size_t i = scan; i < lr->len; i++) {
        if (lr->buf[i] != '\n')
            continue;
        if (send_line(s, lr->buf + start, i - start) < 0)
            return -1;
        start = i + 1;
    }
    memmove(lr->buf, lr->buf + start, lr->len - start);
    lr->len -= start;
    return 0;
}

static int run(session *s, const options *o)
{
    ws6455_url url;
    int rc = ws6455_url_parse(o->url, strlen(o->url), &url);
    if (rc < 0) {
        fprintf(stderr, "wss_client: %s: %s\n", o->url, ws6455_strerror(rc));
        return 2;
    }
    if (!url.secure) {
        fprintf(stderr, "wss_client: %s: not a wss:// URL (ws_client speaks plain ws://)\n",
                o->url);
        return 2;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return 2;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* The engine may hand a different pointer (its queue moved) and more
     * bytes when a write is retried, and takes partial writes in stride. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (o->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (o->cafile ? SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1
                      : SSL_CTX_set_default_verify_paths(ctx) != 1) {
            tls_errors("cannot load trusted certificates");
            SSL_CTX_free(ctx);
            return 2;
        }
    }
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->opt = o;
    int status = 2;
    if (tls_connect(s, ctx, &url, o) < 0)
        goto out;

    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    char host[300], target[4096];
    if (ws6455_config_set_url(&cfg, &url, host, sizeof host, target, sizeof target) < 0)
        goto out;
    cfg.subprotocols = o->protocols;
    cfg.subprotocol_count = o->protocol_count;
    cfg.headers = o->headers;
    cfg.header_count = o->header_count;
    cfg.ping_interval_ms = o->ping_interval_ms;
    cfg.ping_timeout_ms = o->ping_interval_ms;
    ws6455_callbacks cb = {.read = tls_read,
                           .write = tls_write,
                           .on_open = on_open,
                           .on_message = on_message,
                           .on_close = on_close,
                           .on_error = on_error};
    s->conn = ws6455_conn_new(&cfg, &cb, s);
    if (!s->conn)
        goto out;
    ws6455_conn_tick(s->conn, now_ms());
    ws6455_conn_on_writable(s->conn);

    line_reader lr = {NULL, 0, 0, 0};
    uint64_t closed_at = 0;
    for (;;) {
        ws6455_conn *c = s->conn;
        uint64_t now = now_ms();
        ws6455_conn_tick(c, now);
        int state = ws6455_conn_state(c);
        if (state == WS6455_STATE_CLOSED && !closed_at)
            closed_at = now;
        if (closed_at && (now >= closed_at + EOF_WAIT_MS || !ws6455_conn_wants_write(c)))
            break; /* the TLS layer's own end is not worth waiting for */
        struct pollfd pf[2] = {{s->fd, POLLIN, 0}, {STDIN_FILENO, 0, 0}};
        if (ws6455_conn_wants_write(c))
            pf[0].events |= POLLOUT;
        nfds_t nfds = 1;
        if (!lr.eof && state == WS6455_STATE_OPEN &&
            ws6455_conn_buffered_amount(c) < STDIN_PAUSE_AT) {
            pf[1].events = POLLIN;
            nfds = 2;
        }
        /* Decrypted bytes may wait inside OpenSSL with the socket empty. */
        int timeout = SSL_pending(s->ssl) ? 0 : -1;
        uint64_t deadline = ws6455_conn_deadline(c);
        if (timeout && deadline != WS6455_NO_DEADLINE)
            timeout = deadline <= now ? 0 : (int)(deadline - now);
        if (poll(pf, nfds, timeout) < 0 && errno != EINTR)
            break;
        ws6455_conn_tick(c, now_ms());
        if ((pf[0].revents & (POLLOUT | POLLERR | POLLHUP)) &&
            ws6455_conn_on_writable(c) == WS6455_ERR_IO)
            break;
        if (((pf[0].revents & (POLLIN | POLLERR | POLLHUP)) || SSL_pending(s->ssl)) &&
            ws6455_conn_wants_read(c) && ws6455_conn_on_readable(c) == WS6455_ERR_IO)
            break;
        if (nfds == 2 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (read_stdin(s, &lr) < 0) {
                ws6455_close(c, 1011, "client input failed", 19);
                lr.eof = 1;
            }
            ws6455_conn_on_writable(c);
        }
    }
    free(lr.buf);
    if (ws6455_conn_state(s->conn) != WS6455_STATE_CLOSED)
        ws6455_conn_recv_eof(s->conn);
    status = s->close_code == 1000 || s->close_code == 1001 ? 0 : 1;
    SSL_shutdown(s->ssl); /* our close_notify; best effort */
out:
    ws6455_conn_free(s->conn);
    SSL_free(s->ssl);
    if (s->fd >= 0)
        close(s->fd);
    SSL_CTX_free(ctx);
    return status;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr, argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    session s;
    int status = run(&s, &o);
    if (status != 2) {
        if (s.close_reason[0])
            fprintf(stderr, "closed: %d %s\n", s.close_code, s.close_reason);
        else
            fprintf(stderr, "closed: %d\n", s.close_code ? s.close_code : 1006);
    }
    return status;
}
