/*
 * uv_echo — the echo server on libuv, driving ws6455 sans-I/O.
 *
 *   uv_echo [--host 127.0.0.1] [--port 9001] [--max-message BYTES]
 *           [--idle-timeout MS] [--close-timeout MS] [--verbose]
 *
 * The same behaviour as echo_server, in libuv's terms:
 *  - uv_read_start: libuv reads into one buffer per loop (alloc_cb; a read
 *    callback consumes it before the next read) and read_cb hands the bytes
 *    to ws6455_conn_recv();
 *  - fairness: libuv goes on reading a socket that fills its buffer up to
 *    32 times per turn; a connection that got READ_BUDGET bytes in this
 *    turn is stopped and resumed in the check phase, so a flooding client
 *    gets one budget's worth per turn like everyone else (a stop and start
 *    within one turn costs libuv no epoll_ctl);
 *  - output: on_output puts the connection on a to-do list; a uv_check
 *    handle (run once per loop iteration, after the I/O callbacks) writes
 *    each listed connection's output, the iovecs ws6455_conn_pending_iov()
 *    hands out: uv_try_write first (what the socket takes at once is
 *    consumed at once), and uv_write for the rest. Those bytes stay where
 *    they are until consumed, so libuv writes straight from the engine's
 *    queue, and ws6455_conn_consume() runs in the write callback: no copy.
 *    Echoes of one iteration go out together;
 *  - time: uv_now() is the engine's clock; one uv_timer per connection,
 *    armed for ws6455_conn_deadline() (lazily: re-armed only when the
 *    deadline moves earlier; a timer that fires early finds the true
 *    deadline and re-arms);
 *  - closing: once ws6455_conn_should_close_socket() says so, uv_shutdown
 *    (our FIN after the last byte) and a short wait for the peer's FIN, then
 *    uv_close; at once when output was dropped;
 *  - backpressure: uv_read_stop above 1 MiB queued, uv_read_start on_drain;
 *  - out of descriptors: libuv keeps a reserve descriptor of its own and
 *    sheds the waiting connections (one log line per burst when even that
 *    fails);
 *  - SIGINT/SIGTERM (uv_signal): close 1001 to everyone, up to 2 s, exit 0.
 *
 * One rule an asynchronous writer must keep: the engine may drop its queued
 * output (a timeout, ws6455_conn_abort, ws6455_conn_free) while a uv_write
 * still points into it. libuv touches a write's bytes only from the loop's
 * I/O phase, so dropping is safe when the handle is closed in the same
 * callback (uv_close cancels the write before libuv would write again):
 * close_now() does exactly that.
 */
#define _GNU_SOURCE
#include "echo_common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define LINGER_MS 1000u   /* TCP: wait for the peer's FIN after our last byte */
#define SHUTDOWN_MS 2000u /* on SIGINT/SIGTERM: wait this long for close replies */
#define WRITE_IOV 16
#define READ_BUDGET (4 * ECHO_READ_SIZE) /* bytes per connection per loop turn */

typedef struct server server;

typedef struct uconn {
    echo_peer p;        /* id, fd (for log lines), conn, flags */
    server *srv;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    uv_shutdown_t sd;
    size_t write_len;   /* bytes of the uv_write in flight */
    uint64_t armed;     /* when the timer fires (WS6455_NO_DEADLINE: stopped) */
    uint32_t turn;      /* the loop turn `got` counts for */
    uint32_t got;       /* bytes read in that turn */
    struct uconn *prev, *next, *todo_next;
    int handles;        /* libuv handles still open */
} uconn;

struct server {
    const echo_options *opt;
    uv_loop_t *loop;
    ws6455_context *ctx;
    uv_tcp_t listener;
    uv_check_t flusher;
    uv_signal_t sigint, sigterm;
    uv_timer_t stop_timer;
    uconn *conns;       /* every connection */
    uconn *todo;        /* connections with output to write */
    char rbuf[ECHO_READ_SIZE];
    uint32_t turn;      /* loop turns, counted by the check handle */
    int stopping;
    unsigned long refused; /* accept failures in this burst */
};

static void settle(uconn *cn);
static void close_now(uconn *cn);

/* ------------------------------------------------------------ engine events */

static void on_open(ws6455_conn *c, const char *subprotocol, void *user)
{
    (void)c;
    (void)subprotocol;
    uconn *cn = user;
    echo_log_open(cn->srv->opt, &cn->p);
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    uconn *cn = user;
    if (echo_message(c, opcode, data, len))
        cn->p.flags |= ECHO_PAUSED;
}

static void on_close(ws6455_conn *c, int code, const char *reason, size_t len, void *user)
{
    (void)c;
    uconn *cn = user;
    echo_log_close(cn->srv->opt, &cn->p, code, reason, len);
}

static void on_error(ws6455_conn *c, int err, void *user)
{
    (void)c;
    uconn *cn = user;
    echo_log_error(cn->srv->opt, &cn->p, err);
}

/* Puts the connection on the list the check handle goes through at the
 * end of this loop iteration. */
static void todo_add(uconn *cn)
{
    if (cn->p.flags & ECHO_DIRTY)
        return;
    cn->p.flags |= ECHO_DIRTY;
    cn->todo_next = cn->srv->todo;
    cn->srv->todo = cn;
}

/* Noted; written by the check handle at the end of this loop iteration. */
static void on_output(ws6455_conn *c, void *user)
{
    (void)c;
    todo_add(user);
}

static void on_drain(ws6455_conn *c, void *user)
{
    (void)c;
    uconn *cn = user;
    cn->p.flags &= (uint16_t) ~(ECHO_PAUSED | ECHO_STUCK);
}

/* ------------------------------------------------------------ writing */

static void on_written(uv_write_t *req, int status)
{
    uconn *cn = req->data;
    cn->p.flags &= (uint16_t)~ECHO_WRITING;
    if (cn->p.flags & ECHO_CLOSING)
        return; /* cancelled by uv_close */
    if (status < 0) {
        close_now(cn);
        return;
    }
    ws6455_conn_consume(cn->p.conn, cn->write_len); /* on_drain when all went */
    settle(cn);
}

/* The engine's pending output as libuv buffers (uv_write copies these
 * descriptors, not the bytes). */
static size_t pending_bufs(uconn *cn, uv_buf_t *bufs, size_t *total)
{
    ws6455_iovec iov[WRITE_IOV];
    size_t n = ws6455_conn_pending_iov(cn->p.conn, iov, WRITE_IOV, total);
    for (size_t i = 0; i < n; i++)
        bufs[i] = uv_buf_init((char *)iov[i].base, (unsigned)iov[i].len);
    return *total ? n : 0;
}

static void write_pending(uconn *cn)
{
    if (cn->p.flags & (ECHO_WRITING | ECHO_CLOSING | ECHO_LINGERING))
        return;
    uv_buf_t bufs[WRITE_IOV];
    size_t total = 0;
    size_t n = pending_bufs(cn, bufs, &total);
    if (!n)
        return;
    /* Usually the socket takes everything at once: uv_try_write, consumed
     * at once. (A uv_write, even one that completes at once, makes libuv
     * re-register the socket with epoll afterwards: one epoll_ctl per
     * message.) */
    int w = uv_try_write((uv_stream_t *)&cn->tcp, bufs, (unsigned)n);
    if (w < 0 && w != UV_EAGAIN) {
        close_now(cn);
        return;
    }
    if (w > 0) {
        ws6455_conn_consume(cn->p.conn, (size_t)w); /* on_drain when all went */
        n = pending_bufs(cn, bufs, &total);
        if (!n) {
            settle(cn);
            return;
        }
    }
    /* The rest waits for the socket. libuv keeps pointers into the engine's
     * queue, whose bytes stay put until on_written consumes them. */
    cn->wr.data = cn;
    if (uv_write(&cn->wr, (uv_stream_t *)&cn->tcp, bufs, (unsigned)n, on_written) < 0) {
        close_now(cn);
        return;
    }
    cn->write_len = total;
    cn->p.flags |= ECHO_WRITING;
    settle(cn);
}

static void set_reading(uconn *cn, int on);

/* The check phase: after this iteration's callbacks, one uv_write per
 * connection that has output, and reading resumed for those that spent
 * their read budget. */
static void on_check(uv_check_t *h)
{
    server *s = h->data;
    s->turn++;
    while (s->todo) {
        uconn *cn = s->todo;
        s->todo = cn->todo_next;
        cn->p.flags &= (uint16_t)~ECHO_DIRTY;
        write_pending(cn);
        if (cn->p.flags & ECHO_THROTTLED) {
            cn->p.flags &= (uint16_t)~ECHO_THROTTLED;
            if (!(cn->p.flags & (ECHO_PAUSED | ECHO_CLOSING | ECHO_LINGERING)) &&
                ws6455_conn_wants_read(cn->p.conn))
                set_reading(cn, 1);
        }
    }
}

/* ------------------------------------------------------------ lifetime */

static void on_handle_closed(uv_handle_t *h)
{
    uconn *cn = h->data;
    if (--cn->handles > 0)
        return;
    ws6455_conn_free(cn->p.conn);
    free(cn);
}

static void unlink_todo(uconn *cn)
{
    if (!(cn->p.flags & ECHO_DIRTY))
        return;
    for (uconn **pp = &cn->srv->todo; *pp; pp = &(*pp)->todo_next) {
        if (*pp == cn) {
            *pp = cn->todo_next;
            break;
        }
    }
    cn->p.flags &= (uint16_t)~ECHO_DIRTY;
}

static void close_now(uconn *cn)
{
    if (cn->p.flags & ECHO_CLOSING)
        return;
    server *s = cn->srv;
    cn->p.flags |= ECHO_CLOSING;
    /* on_close(1006) while the socket is still open (for the log line) if
     * the connection had not ended; queued output is dropped, and the
     * uv_close below cancels a write in flight before libuv writes again. */
    ws6455_conn_abort(cn->p.conn);
    unlink_todo(cn);
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        s->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    uv_close((uv_handle_t *)&cn->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&cn->timer, on_handle_closed);
    if (s->stopping && !s->conns) {
        /* The last one: nothing left to wait for. */
        uv_timer_stop(&s->stop_timer);
        uv_close((uv_handle_t *)&s->stop_timer, NULL);
        uv_close((uv_handle_t *)&s->flusher, NULL);
    }
}

static void on_timer(uv_timer_t *t);

/* Arms the timer for `d` when that is earlier than what it is armed for. */
static void timer_lower(uconn *cn, uint64_t d)
{
    if (d >= cn->armed)
        return;
    uint64_t now = uv_now(cn->srv->loop);
    cn->armed = d;
    uv_timer_start(&cn->timer, on_timer, d > now ? d - now : 0, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status; /* the linger timer ends it either way */
}

/* The engine says the socket may close. */
static void finish(uconn *cn)
{
    /* Output dropped: nothing to wait for. The peer's FIN already read:
     * nothing is left unread, so closing sends no reset. */
    if (cn->p.flags & (ECHO_STUCK | ECHO_WRITING | ECHO_PEER_EOF)) {
        close_now(cn);
        return;
    }
    cn->p.flags |= ECHO_LINGERING;
    cn->sd.data = cn;
    if (uv_shutdown(&cn->sd, (uv_stream_t *)&cn->tcp, on_shutdown) < 0) {
        close_now(cn);
        return;
    }
    cn->p.flags &= (uint16_t)~ECHO_PAUSED;
    set_reading(cn, 1); /* to see the FIN; what arrives is thrown away */
    cn->armed = WS6455_NO_DEADLINE;
    timer_lower(cn, uv_now(cn->srv->loop) + LINGER_MS);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* uv_read_start/stop only when it changes. */
static void set_reading(uconn *cn, int on)
{
    if (on == !!(cn->p.flags & ECHO_READING))
        return;
    if (on) {
        if (uv_read_start((uv_stream_t *)&cn->tcp, on_alloc, on_read) == 0)
            cn->p.flags |= ECHO_READING;
    } else {
        uv_read_stop((uv_stream_t *)&cn->tcp);
        cn->p.flags &= (uint16_t)~ECHO_READING;
    }
}

/* After engine activity: close, or start/stop reading, note output, and
 * keep the timer right. */
static void settle(uconn *cn)
{
    ws6455_conn *c = cn->p.conn;
    if (cn->p.flags & (ECHO_CLOSING | ECHO_LINGERING))
        return;
    if (ws6455_conn_should_close_socket(c)) {
        finish(cn);
        return;
    }
    int out = ws6455_conn_wants_write(c);
    if (out) {
        cn->p.flags |= ECHO_STUCK;
        if (!(cn->p.flags & ECHO_WRITING))
            todo_add(cn);
    }
    if (ws6455_conn_buffered_amount(c) > ECHO_HIGH_WATER)
        cn->p.flags |= ECHO_PAUSED;
    set_reading(cn, !(cn->p.flags & (ECHO_PAUSED | ECHO_THROTTLED)) && ws6455_conn_wants_read(c));
    timer_lower(cn, ws6455_conn_deadline(c));
}

static void on_timer(uv_timer_t *t)
{
    uconn *cn = t->data;
    uint64_t now = uv_now(cn->srv->loop);
    cn->armed = WS6455_NO_DEADLINE;
    if (cn->p.flags & ECHO_LINGERING) {
        close_now(cn); /* the peer's FIN did not come in time */
        return;
    }
    uint64_t d = ws6455_conn_deadline(cn->p.conn);
    if (d > now) { /* fired early: the deadline moved on */
        timer_lower(cn, d);
        return;
    }
    ws6455_conn_tick(cn->p.conn, now); /* may drop output: settle closes at once then */
    settle(cn);
}

/* ------------------------------------------------------------ reading */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    uconn *cn = h->data;
    /* One buffer for the loop: each read is consumed before the next. */
    *buf = uv_buf_init(cn->srv->rbuf, sizeof cn->srv->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    uconn *cn = st->data;
    if (cn->p.flags & ECHO_CLOSING)
        return;
    if (cn->p.flags & ECHO_LINGERING) {
        if (nread < 0)
            close_now(cn); /* the peer's FIN: done */
        return;
    }
    ws6455_conn *c = cn->p.conn;
    ws6455_conn_tick(c, uv_now(cn->srv->loop));
    if (nread > 0) {
        ws6455_conn_recv(c, (uint8_t *)buf->base, (size_t)nread, NULL);
        if (cn->turn != cn->srv->turn) {
            cn->turn = cn->srv->turn;
            cn->got = 0;
        }
        cn->got += (uint32_t)nread;
        if (cn->got >= READ_BUDGET) {
            /* Enough for this turn: the others' turn; resumed at the check. */
            cn->p.flags |= ECHO_THROTTLED;
            set_reading(cn, 0);
            todo_add(cn);
        }
    } else if (nread == UV_EOF) {
        cn->p.flags |= ECHO_PEER_EOF;
        ws6455_conn_recv_eof(c);
    } else if (nread < 0) {
        close_now(cn); /* reset or error */
        return;
    }
    settle(cn);
}

/* ------------------------------------------------------------ accepting */

static void on_connection(uv_stream_t *listener, int status)
{
    server *s = listener->data;
    if (status < 0) {
        /* libuv already tried its reserve descriptor; say it once. */
        if (s->refused++ == 0)
            fprintf(stderr, "uv_echo: cannot accept (%s): refusing new connections until "
                            "descriptors free up\n",
                    uv_strerror(status));
        return;
    }
    if (s->refused) {
        fprintf(stderr, "uv_echo: accepting again; %lu accept failures meanwhile\n", s->refused);
        s->refused = 0;
    }
    uconn *cn = calloc(1, sizeof *cn);
    if (!cn)
        return;
    cn->srv = s;
    cn->armed = WS6455_NO_DEADLINE;
    cn->p.id = echo_next_id();
    uv_tcp_init(s->loop, &cn->tcp);
    uv_timer_init(s->loop, &cn->timer);
    cn->tcp.data = cn->timer.data = cn;
    cn->handles = 2;
    if (uv_accept(listener, (uv_stream_t *)&cn->tcp) < 0 ||
        !(cn->p.conn = ws6455_conn_new_in(s->ctx, cn))) {
        cn->p.flags |= ECHO_CLOSING;
        uv_close((uv_handle_t *)&cn->tcp, on_handle_closed);
        uv_close((uv_handle_t *)&cn->timer, on_handle_closed);
        return;
    }
    uv_os_fd_t fd;
    cn->p.fd = uv_fileno((uv_handle_t *)&cn->tcp, &fd) == 0 ? (int)fd : -1;
    uv_tcp_nodelay(&cn->tcp, 1);
    cn->next = s->conns;
    if (s->conns)
        s->conns->prev = cn;
    s->conns = cn;
    ws6455_conn_tick(cn->p.conn, uv_now(s->loop)); /* starts the handshake timer */
    settle(cn);
    if (s->stopping)
        close_now(cn);
}

/* ------------------------------------------------------------ shutdown */

static void on_stop_timer(uv_timer_t *t)
{
    server *s = t->data;
    while (s->conns)
        close_now(s->conns); /* did not answer in time */
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    server *s = h->data;
    if (s->stopping)
        return;
    s->stopping = 1;
    uv_close((uv_handle_t *)&s->listener, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_timer_init(s->loop, &s->stop_timer);
    s->stop_timer.data = s;
    uv_timer_start(&s->stop_timer, on_stop_timer, SHUTDOWN_MS, 0);
    for (uconn *cn = s->conns, *next; cn; cn = next) {
        next = cn->next;
        if (cn->p.flags & ECHO_LINGERING)
            continue;
        /* The clock first: the close timeout starts from the engine's time,
         * and a paused connection has not been ticked for a while. */
        ws6455_conn_tick(cn->p.conn, uv_now(s->loop));
        int st = ws6455_conn_state(cn->p.conn);
        if (st == WS6455_STATE_OPEN) {
            ws6455_close(cn->p.conn, 1001, "server shutting down", 20);
            settle(cn);
        } else if (st == WS6455_STATE_CONNECTING) {
            close_now(cn);
        }
    }
    if (!s->conns) {
        uv_timer_stop(&s->stop_timer);
        uv_close((uv_handle_t *)&s->stop_timer, NULL);
        uv_close((uv_handle_t *)&s->flusher, NULL);
    }
}

/* ------------------------------------------------------------ setup */

static int listen_on(server *s, const echo_options *o)
{
    struct sockaddr_storage ss;
    int port = atoi(o->port);
    if (uv_ip4_addr(o->host, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(o->host, port, (struct sockaddr_in6 *)&ss) != 0) {
        fprintf(stderr, "uv_echo: %s: not a numeric address\n", o->host);
        return -1;
    }
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    int rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 4096, on_connection);
    if (rc < 0) {
        fprintf(stderr, "uv_echo: cannot listen on %s port %s: %s\n", o->host, o->port,
                uv_strerror(rc));
        return -1;
    }
    int len = sizeof ss;
    char host[64] = "?";
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
        printf("listening on ws://[%s]:%d/\n", host, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
        printf("listening on ws://%s:%d/\n", host, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    echo_options o;
    echo_parse_options(argc, argv, 0, "A WebSocket echo server on libuv (ws6455 sans-I/O).", &o);
    signal(SIGPIPE, SIG_IGN);
    server *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    s->opt = &o;
    s->loop = uv_default_loop();

    ws6455_config cfg;
    echo_config(&o, &cfg);
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb); /* no read/write callbacks: libuv does the I/O */
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_close = on_close;
    cb.on_error = on_error;
    cb.on_output = on_output;
    cb.on_drain = on_drain;
    s->ctx = ws6455_context_new(&cfg, &cb);
    if (!s->ctx || listen_on(s, &o) < 0)
        return 1;
    uv_check_init(s->loop, &s->flusher);
    s->flusher.data = s;
    uv_check_start(&s->flusher, on_check);
    uv_signal_init(s->loop, &s->sigint);
    uv_signal_init(s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);

    uv_run(s->loop, UV_RUN_DEFAULT);

    uv_loop_close(s->loop);
    ws6455_context_free(s->ctx);
    free(s);
    if (o.verbose) {
        printf("shut down\n");
        fflush(stdout);
    }
    return 0;
}
