/*
 * ws_client — a websocat-style command-line WebSocket client.
 *
 *   ws_client [options] ws://host[:port]/path
 *   ws_client --autobahn ws://127.0.0.1:9001 --agent ws6455
 *
 * Each line of standard input is sent as one text message (--binary: one
 * binary message); each message received is printed on its own line. At
 * the end of input it sends close 1000 and waits for the server's reply.
 * The exit status says how the connection ended: 0 after a close with
 * 1000 or 1001, 1 after any other close or a broken connection, 2 when it
 * could not connect at all. The close code is printed on standard error.
 *
 * What it demonstrates: the client role driven by callback I/O over a
 * non-blocking TCP socket in a poll() loop with standard input, URL parsing
 * (ws6455_url_parse, ws6455_config_set_url), subprotocols and extra request
 * headers, keepalive pings, the close handshake from the client's side,
 * and backpressure (standard input is not read while output is queued).
 *
 * With --autobahn it is a client for the Autobahn|Testsuite fuzzing server:
 * it asks /getCaseCount, echoes every message of /runCase?case=N for each
 * case, then asks for /updateReports.
 */
#define _POSIX_C_SOURCE 200809L
#include <ws6455.h>

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
#define MAX_LINE ((size_t)16 << 20)          /* longest input line sent */
#define STDIN_PAUSE_AT ((size_t)1 << 20)     /* stop reading stdin above this much queued */
#define EOF_WAIT_MS 2000u                    /* after the close handshake: wait for the server's FIN */

typedef struct options {
    const char *url;
    int binary;
    int verbose;
    uint64_t ping_interval_ms;
    const char *protocols[MAX_PROTOCOLS];
    size_t protocol_count;
    ws6455_header headers[MAX_HEADERS];
    size_t header_count;
    const char *autobahn_url;
    const char *agent;
} options;

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options] ws://host[:port]/path\n"
            "       %s --autobahn ws://host:port [--agent NAME]\n"
            "Sends each line of standard input as a message and prints each message\n"
            "received on its own line. At end of input: close 1000, wait for the reply.\n"
            "Exit status: 0 after close 1000/1001, 1 after another close, 2 when the\n"
            "connection could not be made.\n"
            "  --binary             send lines as binary messages\n"
            "  --protocol NAME      offer a subprotocol (repeatable)\n"
            "  --header 'K: V'      add a request header (repeatable)\n"
            "  --ping-interval MS   ping after MS of silence; fail if no answer in MS\n"
            "  --autobahn URL       run the Autobahn|Testsuite fuzzing-server cases\n"
            "  --agent NAME         agent name for --autobahn (default ws6455)\n"
            "  --verbose            report the connection on standard error\n"
            "  --help               this text\n"
            "wss:// URLs need TLS: use wss_client.\n",
            argv0, argv0);
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->agent = "ws6455";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_arg = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0]);
            exit(0);
        } else if (!strcmp(a, "--binary")) {
            o->binary = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = 1;
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
        } else if (!strcmp(a, "--autobahn") && has_arg) {
            o->autobahn_url = argv[++i];
        } else if (!strcmp(a, "--agent") && has_arg) {
            o->agent = argv[++i];
        } else if (a[0] != '-' && !o->url) {
            o->url = a;
        } else {
            return -1;
        }
    }
    return (o->url != NULL) != (o->autobahn_url != NULL) ? 0 : -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ TCP */

/* Connects to the URL's host and port (blocking), then makes the socket
 * non-blocking. Returns the descriptor or -1 (reported). */
static int tcp_connect(const ws6455_url *u)
{
    char host[256], port[8];
    if (u->host_len >= sizeof host) {
        fprintf(stderr, "ws_client: host name too long\n");
        return -1;
    }
    memcpy(host, u->host, u->host_len);
    host[u->host_len] = '\0';
    snprintf(port, sizeof port, "%u", (unsigned)u->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "ws_client: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "ws_client: cannot connect to %s port %s: %s\n", host, port,
                strerror(err));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* ------------------------------------------------------------ session */

enum mode {
    MODE_STDIN,   /* lines of stdin out, messages to stdout */
    MODE_ECHO,    /* send every message back (Autobahn cases) */
    MODE_CAPTURE  /* keep the first text message, then close (getCaseCount) */
};

typedef struct session {
    int fd;
    ws6455_conn *conn;
    enum mode mode;
    const options *opt;
    int close_code;  /* from on_close; 0 before */
    char close_reason[128];
    int error;       /* from on_error */
    char captured[64];
    int have_capture;
} session;

static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    session *s = user;
    for (;;) {
        ssize_t n = recv(s->fd, buf, cap, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? WS6455_IO_WOULD_BLOCK : WS6455_IO_ERROR;
    }
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    session *s = user;
    for (;;) {
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? WS6455_IO_WOULD_BLOCK : WS6455_IO_ERROR;
    }
}

static void on_open(ws6455_conn *c, const char *subprotocol, void *user)
{
    (void)c;
    session *s = user;
    if (s->opt->verbose)
        fprintf(stderr, "connected, subprotocol: %s\n", subprotocol ? subprotocol : "(none)");
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    session *s = user;
    switch (s->mode) {
    case MODE_STDIN:
        fwrite(data, 1, len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        break;
    case MODE_ECHO: {
        int rc = opcode == WS6455_OP_TEXT ? ws6455_send_text(c, (const char *)data, len)
                                          : ws6455_send_binary(c, data, len);
        if (rc < 0 && rc != WS6455_ERR_INVALID_STATE)
            ws6455_close(c, 1011, "echo failed", 11);
        break;
    }
    case MODE_CAPTURE:
        if (!s->have_capture && opcode == WS6455_OP_TEXT) {
            size_t n = len < sizeof s->captured - 1 ? len : sizeof s->captured - 1;
            memcpy(s->captured, data, n);
            s->captured[n] = '\0';
            s->have_capture = 1;
            ws6455_close(c, 1000, NULL, 0);
        }
        break;
    }
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
    session *s = user;
    s->error = err;
    if (err == WS6455_ERR_HS_STATUS) {
        const ws6455_response *r = ws6455_conn_response(c);
        fprintf(stderr, "ws_client: handshake refused: HTTP status %d\n",
                r ? ws6455_response_status(r) : 0);
    } else if (err != WS6455_ERR_ABNORMAL_CLOSURE) {
        fprintf(stderr, "ws_client: %s\n", ws6455_strerror(err));
    }
}

/* Standard input, split into lines. */
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
        fprintf(stderr, "ws_client: line is not valid UTF-8, not sent (try --binary)\n");
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "ws_client: send: %s\n", ws6455_strerror(rc));
        return -1;
    }
    return 0;
}

/* Reads what standard input has, sends every complete line; at end of
 * input sends the unterminated rest and starts the close handshake. */
static int read_stdin(session *s, line_reader *lr)
{
    if (lr->cap - lr->len < 65536) {
        size_t cap = lr->cap ? lr->cap * 2 : 131072;
        if (cap > MAX_LINE + 65536) {
            fprintf(stderr, "ws_client: input line longer than %zu bytes\n", MAX_LINE);
            return -1;
        }
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

/* One connection from handshake to closed socket. Returns the exit status:
 * 0 clean close (1000/1001), 1 other ending, 2 could not connect. */
static int run_session(const char *url_str, enum mode mode, const options *o, session *s)
{
    ws6455_url url;
    int rc = ws6455_url_parse(url_str, strlen(url_str), &url);
    if (rc < 0) {
        fprintf(stderr, "ws_client: %s: %s\n", url_str, ws6455_strerror(rc));
        return 2;
    }
    if (url.secure) {
        fprintf(stderr, "ws_client: %s: wss:// needs TLS; use wss_client (built with OpenSSL)\n",
                url_str);
        return 2;
    }
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->opt = o;
    s->fd = tcp_connect(&url);
    if (s->fd < 0)
        return 2;

    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    char host[300], target[4096];
    if (ws6455_config_set_url(&cfg, &url, host, sizeof host, target, sizeof target) < 0) {
        fprintf(stderr, "ws_client: URL too long\n");
        close(s->fd);
        return 2;
    }
    cfg.subprotocols = o->protocols;
    cfg.subprotocol_count = o->protocol_count;
    cfg.headers = o->headers;
    cfg.header_count = o->header_count;
    cfg.ping_interval_ms = o->ping_interval_ms;
    cfg.ping_timeout_ms = o->ping_interval_ms;
    cfg.max_output_buffer = (size_t)64 << 20; /* Autobahn echoes messages up to 16 MiB */
    ws6455_callbacks cb = {.read = io_read,
                           .write = io_write,
                           .on_open = on_open,
                           .on_message = on_message,
                           .on_close = on_close,
                           .on_error = on_error};
    int err;
    s->conn = ws6455_conn_new_err(&cfg, &cb, s, &err);
    if (!s->conn) {
        fprintf(stderr, "ws_client: %s\n", ws6455_strerror(err));
        close(s->fd);
        return 2;
    }
    ws6455_conn_tick(s->conn, now_ms());
    ws6455_conn_on_writable(s->conn); /* the opening handshake request */

    line_reader lr = {NULL, 0, 0, mode != MODE_STDIN};
    uint64_t closed_at = 0; /* when the engine reached CLOSED */
    int status = -1;
    while (status < 0) {
        ws6455_conn *c = s->conn;
        uint64_t now = now_ms();
        ws6455_conn_tick(c, now);
        int state = ws6455_conn_state(c);
        if (state == WS6455_STATE_CLOSED && !closed_at)
            closed_at = now;

        struct pollfd pf[2] = {{s->fd, 0, 0}, {STDIN_FILENO, 0, 0}};
        /* After the close handshake keep reading: the server closes the TCP
         * connection first, and its FIN ends the session. */
        pf[0].events = POLLIN;
        if (ws6455_conn_wants_write(c))
            pf[0].events |= POLLOUT;
        nfds_t nfds = 1;
        if (!lr.eof && state == WS6455_STATE_OPEN &&
            ws6455_conn_buffered_amount(c) < STDIN_PAUSE_AT) {
            pf[1].events = POLLIN;
            nfds = 2;
        }
        uint64_t deadline = ws6455_conn_deadline(c);
        if (closed_at && closed_at + EOF_WAIT_MS < deadline)
            deadline = closed_at + EOF_WAIT_MS;
        int timeout = deadline == WS6455_NO_DEADLINE ? -1
                      : deadline <= now               ? 0
                                                      : (int)(deadline - now);
        if (closed_at && now >= closed_at + EOF_WAIT_MS)
            break; /* the server never closed its end */
        if (poll(pf, nfds, timeout) < 0) {
            if (errno == EINTR)
                continue;
            perror("ws_client: poll");
            break;
        }
        ws6455_conn_tick(c, now_ms());
        if (pf[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
            if (ws6455_conn_on_writable(c) == WS6455_ERR_IO)
                break;
        }
        if (pf[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            if (ws6455_conn_wants_read(c)) {
                rc = ws6455_conn_on_readable(c);
                if (rc == WS6455_ERR_IO)
                    break;
            } else {
                /* CLOSED: discard anything else until the server's FIN. */
                uint8_t sink[4096];
                ssize_t n = recv(s->fd, sink, sizeof sink, 0);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                    break;
            }
        }
        if (nfds == 2 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (read_stdin(s, &lr) < 0) {
                ws6455_close(c, 1011, "client input failed", 19);
                lr.eof = 1;
            }
            ws6455_conn_on_writable(c);
        }
        if (ws6455_conn_wants_read(c) == 0 && ws6455_conn_state(c) == WS6455_STATE_CLOSED &&
            ws6455_conn_error(c) && ws6455_conn_error(c) != WS6455_ERR_ABNORMAL_CLOSURE &&
            !ws6455_conn_wants_write(c))
            break; /* failed: nothing more will come */
    }
    /* A stream that ended without a close handshake is 1006. */
    if (ws6455_conn_state(s->conn) != WS6455_STATE_CLOSED)
        ws6455_conn_recv_eof(s->conn);
    status = s->close_code == 1000 || s->close_code == 1001 ? 0 : 1;
    free(lr.buf);
    ws6455_conn_free(s->conn);
    s->conn = NULL;
    close(s->fd);
    return status;
}

/* ------------------------------------------------------------ Autobahn */

/* base + path + percent-encoded agent name. */
static void autobahn_url(char *out, size_t cap, const char *base, const char *path,
                         const char *agent)
{
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    int k = snprintf(out, cap, "%.*s%s", (int)bl, base, path);
    for (const unsigned char *p = (const unsigned char *)agent; *p && k + 4 < (int)cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_')
            out[k++] = (char)*p;
        else
            k += snprintf(out + k, cap - (size_t)k, "%%%02X", *p);
    }
    out[k] = '\0';
}

static int run_autobahn(const options *o)
{
    char url[1024];
    session s;
    autobahn_url(url, sizeof url, o->autobahn_url, "/getCaseCount", "");
    run_session(url, MODE_CAPTURE, o, &s);
    if (!s.have_capture) {
        fprintf(stderr, "ws_client: no case count from %s\n", url);
        return 2;
    }
    int count = atoi(s.captured);
    fprintf(stderr, "autobahn: %d cases\n", count);
    for (int i = 1; i <= count; i++) {
        char path[64];
        snprintf(path, sizeof path, "/runCase?case=%d&agent=", i);
        autobahn_url(url, sizeof url, o->autobahn_url, path, o->agent);
        run_session(url, MODE_ECHO, o, &s);
        if (o->verbose)
            fprintf(stderr, "autobahn: case %d/%d closed with %d\n", i, count, s.close_code);
    }
    autobahn_url(url, sizeof url, o->autobahn_url, "/updateReports?agent=", o->agent);
    int st = run_session(url, MODE_ECHO, o, &s);
    fprintf(stderr, "autobahn: reports updated for agent %s\n", o->agent);
    return st;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr, argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (o.autobahn_url)
        return run_autobahn(&o);
    session s;
    int status = run_session(o.url, MODE_STDIN, &o, &s);
    if (status != 2) {
        if (s.close_reason[0])
            fprintf(stderr, "closed: %d %s\n", s.close_code, s.close_reason);
        else
            fprintf(stderr, "closed: %d\n", s.close_code ? s.close_code : 1006);
    }
    return status;
}
