/* The part of ws_client and wss_client that does not care about TLS; see
 * client_common.h. */
#define _POSIX_C_SOURCE 200809L
#include "client_common.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE ((size_t)16 << 20)      /* longest input line sent */
#define STDIN_PAUSE_AT ((size_t)1 << 20) /* stop reading stdin above this much queued */
#define EOF_WAIT_MS 2000u                /* after the close handshake: wait for the server's FIN */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ options */

void client_options_init(client_options *o, const char *prog)
{
    memset(o, 0, sizeof *o);
    o->prog = prog;
    ws6455_config defaults;
    ws6455_config_init(&defaults, WS6455_ROLE_CLIENT);
    o->deflate = defaults.deflate;
}

int client_parse_option(client_options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    int has_arg = *i + 1 < argc;
    int deflate = deflate_opts_parse(&o->deflate, argc, argv, i);
    if (deflate)
        return deflate;
    if (!strcmp(a, "--binary")) {
        o->binary = 1;
    } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
        o->verbose = 1;
    } else if (!strcmp(a, "--protocol") && has_arg) {
        if (o->protocol_count == CLIENT_MAX_PROTOCOLS)
            return -1;
        o->protocols[o->protocol_count++] = argv[++*i];
    } else if (!strcmp(a, "--header") && has_arg) {
        const char *h = argv[++*i], *colon = strchr(h, ':');
        if (!colon || colon == h || o->header_count == CLIENT_MAX_HEADERS)
            return -1;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        o->headers[o->header_count++] = (ws6455_header){h, (size_t)(colon - h), v, strlen(v)};
    } else if (!strcmp(a, "--ping-interval") && has_arg) {
        char *end;
        o->ping_interval_ms = strtoull(argv[++*i], &end, 10);
        if (*end)
            return -1;
    } else if (!strcmp(a, "--handshake-timeout") && has_arg) {
        char *end;
        o->handshake_timeout_ms = strtoull(argv[++*i], &end, 10);
        if (*end || o->handshake_timeout_ms == 0)
            return -1;
    } else if (a[0] != '-' && !o->url) {
        o->url = a;
    } else {
        return 0;
    }
    return 1;
}

int client_options_check(const client_options *o)
{
    return deflate_opts_check(o->prog, &o->deflate);
}

void client_usage_common(FILE *f)
{
    fprintf(f,
            "  --binary             send lines as binary messages\n"
            "  --protocol NAME      offer a subprotocol (repeatable)\n"
            "  --header 'K: V'      add a request header (repeatable)\n"
            "  --ping-interval MS   ping after MS of silence; fail if no answer in MS\n"
            "  --handshake-timeout MS  the TCP connect, then the opening handshake (TLS\n"
            "                       included), must each be done within MS (default 10000)\n");
    deflate_opts_usage(f);
    fprintf(f, "  --verbose            report the connection on standard error\n");
}

/* ------------------------------------------------------------ callbacks */

void client_report_open(const client_session *s, const char *detail, const char *subprotocol)
{
    char pmd[128];
    fprintf(stderr, "connected%s%s%s, subprotocol: %s, %s\n", detail ? " (" : "",
            detail ? detail : "", detail ? ")" : "", subprotocol ? subprotocol : "(none)",
            deflate_opts_describe(s->conn, pmd, sizeof pmd));
}

void client_print_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
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
    client_session *s = user;
    s->close_code = code;
    size_t n = len < sizeof s->close_reason - 1 ? len : sizeof s->close_reason - 1;
    memcpy(s->close_reason, reason, n);
    s->close_reason[n] = '\0';
}

static uint64_t handshake_timeout(const client_options *o)
{
    return o->handshake_timeout_ms ? o->handshake_timeout_ms : WS6455_DEFAULT_HANDSHAKE_TIMEOUT_MS;
}

static void on_error(ws6455_conn *c, int err, void *user)
{
    client_session *s = user;
    if (err == WS6455_ERR_TIMEOUT && ws6455_conn_state(c) == WS6455_STATE_CONNECTING) {
        /* A transport handshake that timed out is reported by client_run. */
        if (s->transport_up)
            fprintf(stderr, "%s: no answer to the opening handshake within %llu ms\n",
                    s->opt->prog, (unsigned long long)handshake_timeout(s->opt));
    } else if (err == WS6455_ERR_TIMEOUT && ws6455_conn_state(c) == WS6455_STATE_CLOSING) {
        fprintf(stderr, "%s: no answer to our close within %llu ms: giving up\n", s->opt->prog,
                (unsigned long long)WS6455_DEFAULT_CLOSE_TIMEOUT_MS);
    } else if (err == WS6455_ERR_TIMEOUT) {
        fprintf(stderr, "%s: no answer to a keepalive ping within %llu ms\n", s->opt->prog,
                (unsigned long long)s->opt->ping_interval_ms);
    } else if (err == WS6455_ERR_HS_STATUS) {
        const ws6455_response *r = ws6455_conn_response(c);
        fprintf(stderr, "%s: handshake refused: HTTP status %d\n", s->opt->prog,
                r ? ws6455_response_status(r) : 0);
    } else if (err != WS6455_ERR_ABNORMAL_CLOSURE) {
        /* 1006 is how every unfinished connection ends; the exit status
         * and "closed: 1006" already say so. */
        fprintf(stderr, "%s: %s\n", s->opt->prog, ws6455_strerror(err));
    }
}

/* ------------------------------------------------------------ connection */

void client_session_init(client_session *s, const client_options *o)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->opt = o;
}

int client_parse_url(const client_session *s, const char *url_str, ws6455_url *url)
{
    int rc = ws6455_url_parse(url_str, strlen(url_str), url);
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", s->opt->prog, url_str, ws6455_strerror(rc));
        return -1;
    }
    return 0;
}

int client_connect(client_session *s, const ws6455_url *url)
{
    if (net_url_host(url, s->host_name, sizeof s->host_name) < 0) {
        fprintf(stderr, "%s: host name too long\n", s->opt->prog);
        return -1;
    }
    /* The handshake timeout bounds the TCP connect too (then, from the
     * connection's start, the TLS and WebSocket handshakes). */
    s->fd = net_connect(s->opt->prog, s->host_name, url->port, handshake_timeout(s->opt));
    return s->fd < 0 ? -1 : 0;
}

int client_start(client_session *s, const ws6455_url *url, const ws6455_callbacks *cb,
                 size_t max_output_buffer)
{
    const client_options *o = s->opt;
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    int rc = ws6455_config_set_url(&cfg, url, s->host, sizeof s->host, s->target, sizeof s->target);
    if (rc < 0) {
        fprintf(stderr, "%s: URL too long\n", o->prog);
        return -1;
    }
    cfg.subprotocols = o->protocols;
    cfg.subprotocol_count = o->protocol_count;
    cfg.headers = o->headers;
    cfg.header_count = o->header_count;
    cfg.ping_interval_ms = o->ping_interval_ms;
    cfg.ping_timeout_ms = o->ping_interval_ms;
    cfg.handshake_timeout_ms = handshake_timeout(o);
    cfg.deflate = o->deflate;
    if (max_output_buffer)
        cfg.max_output_buffer = max_output_buffer;
    ws6455_callbacks all = *cb;
    all.on_close = on_close;
    all.on_error = on_error;
    int err;
    s->conn = ws6455_conn_new_err(&cfg, &all, s, &err, NULL);
    if (!s->conn) {
        fprintf(stderr, "%s: %s\n", o->prog, ws6455_strerror(err));
        return -1;
    }
    ws6455_conn_tick(s->conn, now_ms()); /* the handshake timeout starts now */
    return 0;
}

void client_session_end(client_session *s)
{
    ws6455_conn_free(s->conn);
    s->conn = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

void client_report_close(const client_session *s)
{
    if (s->close_reason[0])
        fprintf(stderr, "closed: %d %s\n", s->close_code, s->close_reason);
    else
        fprintf(stderr, "closed: %d\n", s->close_code ? s->close_code : 1006);
}

/* ------------------------------------------------------------ standard input */

/* Standard input, split into lines. */
typedef struct line_reader {
    char *buf;
    size_t len, cap;
    int eof;
} line_reader;

static int send_line(client_session *s, const char *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    int rc = s->opt->binary ? ws6455_send_binary(s->conn, p, n) : ws6455_send_text(s->conn, p, n);
    if (rc == WS6455_ERR_UTF8) {
        fprintf(stderr, "%s: line is not valid UTF-8, not sent (try --binary)\n", s->opt->prog);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: send: %s\n", s->opt->prog, ws6455_strerror(rc));
        return -1;
    }
    return 0;
}

/* Reads what standard input has, sends every complete line; at end of
 * input sends the unterminated rest and starts the close handshake. */
static int read_stdin(client_session *s, line_reader *lr)
{
    if (lr->cap - lr->len < 65536) {
        size_t cap = lr->cap ? lr->cap * 2 : 131072;
        if (cap > MAX_LINE + 65536) {
            fprintf(stderr, "%s: input line longer than %zu bytes\n", s->opt->prog, MAX_LINE);
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

/* ------------------------------------------------------------ event loop */

static int transport_buffered(client_session *s)
{
    return s->buffered_input && s->buffered_input(s);
}

/* Runs the transport's own handshake (TLS) in a poll() loop until it is
 * done, failed, or the engine's handshake deadline passed. 0 when done. */
static int transport_handshake(client_session *s)
{
    ws6455_conn *c = s->conn;
    for (;;) {
        short events = 0;
        int r = s->handshake(s, &events);
        if (r != 0)
            return r > 0 ? 0 : -1;
        ws6455_conn_tick(c, now_ms());
        if (ws6455_conn_state(c) == WS6455_STATE_CLOSED) {
            fprintf(stderr, "%s: %s: no TLS handshake within %llu ms (the server does not answer)\n",
                    s->opt->prog, s->host_name, (unsigned long long)handshake_timeout(s->opt));
            return -1;
        }
        uint64_t now = now_ms(), deadline = ws6455_conn_deadline(c);
        int wait = deadline == WS6455_NO_DEADLINE ? -1
                   : deadline <= now              ? 0
                                                  : (int)(deadline - now);
        struct pollfd pf = {s->fd, events ? events : POLLIN, 0};
        if (poll(&pf, 1, wait) < 0 && errno != EINTR) {
            fprintf(stderr, "%s: poll: %s\n", s->opt->prog, strerror(errno));
            return -1;
        }
    }
}

/* How long poll() may sleep: until the engine's next deadline, and no
 * longer than the wait for the server's FIN once the engine is CLOSED. */
static int poll_timeout(ws6455_conn *c, uint64_t now, uint64_t closed_at)
{
    uint64_t deadline = ws6455_conn_deadline(c);
    if (closed_at && closed_at + EOF_WAIT_MS < deadline)
        deadline = closed_at + EOF_WAIT_MS;
    if (deadline == WS6455_NO_DEADLINE)
        return -1;
    return deadline <= now ? 0 : (int)(deadline - now);
}

int client_run(client_session *s, int read_input)
{
    ws6455_conn *c = s->conn;
    if (s->handshake && transport_handshake(s) < 0)
        return 2;
    s->transport_up = 1;
    ws6455_conn_on_writable(c); /* the opening handshake request */
    line_reader lr = {NULL, 0, 0, !read_input};
    uint64_t closed_at = 0; /* when the engine reached CLOSED */
    for (;;) {
        uint64_t now = now_ms();
        ws6455_conn_tick(c, now);
        int state = ws6455_conn_state(c);
        if (state == WS6455_STATE_CLOSED && !closed_at)
            closed_at = now;
        /* CLOSED, and our last bytes sent or dropped (the engine drops them
         * at a deadline it announces): the server's FIN is worth waiting
         * for only after a completed close handshake, and then not long. */
        if (closed_at && ws6455_conn_should_close_socket(c) &&
            (!s->wait_for_eof || !ws6455_conn_was_clean(c) || now >= closed_at + EOF_WAIT_MS))
            break;

        /* After the close handshake keep reading: with wait_for_eof the
         * server's FIN ends the session. */
        struct pollfd pf[2] = {{s->fd, POLLIN, 0}, {STDIN_FILENO, 0, 0}};
        if (ws6455_conn_wants_write(c))
            pf[0].events |= POLLOUT;
        nfds_t nfds = 1;
        if (!lr.eof && state == WS6455_STATE_OPEN &&
            ws6455_conn_buffered_amount(c) < STDIN_PAUSE_AT) {
            pf[1].events = POLLIN;
            nfds = 2;
        }
        if (poll(pf, nfds, transport_buffered(s) ? 0 : poll_timeout(c, now, closed_at)) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: poll: %s\n", s->opt->prog, strerror(errno));
            break;
        }
        ws6455_conn_tick(c, now_ms());
        if ((pf[0].revents & (POLLOUT | POLLERR | POLLHUP)) &&
            ws6455_conn_on_writable(c) == WS6455_ERR_IO)
            break;
        if ((pf[0].revents & (POLLIN | POLLERR | POLLHUP)) || transport_buffered(s)) {
            if (ws6455_conn_wants_read(c)) {
                if (ws6455_conn_on_readable(c) == WS6455_ERR_IO)
                    break;
            } else if (s->wait_for_eof && net_discard_input(s->fd)) {
                break; /* CLOSED, and now the server's FIN */
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
    free(lr.buf);
    /* A stream that ended without a close handshake is 1006. */
    if (ws6455_conn_state(c) != WS6455_STATE_CLOSED)
        ws6455_conn_abort(c);
    return s->close_code == 1000 || s->close_code == 1001 ? 0 : 1;
}
