/*
 * echo_server — a WebSocket echo server on Linux epoll, driving ws6455 in
 * callback-I/O mode.
 *
 *   echo_server [--host 127.0.0.1] [--port 9001] [--threads N]
 *               [--max-message BYTES] [--idle-timeout MS] [--verbose]
 *
 * Every text or binary message is sent back as the same type, so the
 * Autobahn|Testsuite fuzzing client can drive it. What it demonstrates:
 *  - non-blocking sockets in a level-triggered epoll loop, one thread per
 *    loop (--threads N runs N loops on N SO_REUSEPORT listening sockets);
 *  - the read/write callbacks over a file descriptor, EAGAIN mapped to
 *    WS6455_IO_WOULD_BLOCK;
 *  - backpressure: a client whose echoes are not being read (its queued
 *    output is over HIGH_WATER) is no longer read from until it drains;
 *  - time from CLOCK_MONOTONIC: each loop keeps its connections in a
 *    min-heap keyed by ws6455_conn_deadline() and sleeps in epoll_wait
 *    until the earliest one, then calls ws6455_conn_tick();
 *  - the end of a TCP connection: EOF reaches the engine, the socket is
 *    closed once ws6455_conn_should_close_socket() says so (after a short
 *    lingering close, so the peer reads our close frame before any RST);
 *  - SIGINT/SIGTERM: close 1001 to every client, up to 2 s for replies,
 *    exit status 0.
 */
#define _GNU_SOURCE
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Stop reading a client when this much output is queued for it; read again
 * when it is below LOW_WATER. */
#define HIGH_WATER ((size_t)1 << 20)
#define LOW_WATER ((size_t)256 << 10)
#define LINGER_MS 1000u   /* after our last byte: wait this long for the peer's EOF */
#define SHUTDOWN_MS 2000u /* on SIGINT/SIGTERM: wait this long for close replies */
#define MAX_EVENTS 256

/* ------------------------------------------------------------ options */

typedef struct options {
    const char *host;
    const char *port;
    int threads;
    size_t max_message;
    uint64_t idle_timeout_ms;
    int verbose;
} options;

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "A WebSocket echo server (epoll, non-blocking, callback I/O).\n"
            "  --host ADDR          address to listen on (default 127.0.0.1)\n"
            "  --port PORT          port to listen on (default 9001; 0 picks a free one)\n"
            "  --threads N          N event loops on SO_REUSEPORT sockets (default 1)\n"
            "  --max-message BYTES  largest message accepted (default 16777216)\n"
            "  --idle-timeout MS    ping a client silent for MS, drop it when still\n"
            "                       silent MS later (default 0: off)\n"
            "  --verbose            one line per connection open and close\n"
            "  --help               this text\n",
            argv0);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){"127.0.0.1", "9001", 1, WS6455_DEFAULT_MAX_MESSAGE_SIZE, 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        int has_arg = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0]);
            exit(0);
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = 1;
        } else if (!strcmp(a, "--host") && has_arg) {
            o->host = argv[++i];
        } else if (!strcmp(a, "--port") && has_arg) {
            o->port = argv[++i];
            if (parse_u64(o->port, &v) || v > 65535)
                return -1;
        } else if (!strcmp(a, "--threads") && has_arg) {
            if (parse_u64(argv[++i], &v) || v < 1 || v > 256)
                return -1;
            o->threads = (int)v;
        } else if (!strcmp(a, "--max-message") && has_arg) {
            if (parse_u64(argv[++i], &v) || v < 1 || v > ((uint64_t)1 << 31))
                return -1;
            o->max_message = (size_t)v;
        } else if (!strcmp(a, "--idle-timeout") && has_arg) {
            if (parse_u64(argv[++i], &o->idle_timeout_ms))
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ time */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ one loop */

/* A message that could not be queued (WS6455_ERR_WOULD_EXCEED_LIMIT); sent
 * once the client has drained, before anything else is read from it. */
typedef struct stashed {
    struct stashed *next;
    int opcode;
    size_t len;
    uint8_t data[];
} stashed;

typedef struct loop loop;

typedef struct client {
    loop *lp;
    int fd;
    unsigned long id;
    ws6455_conn *conn;
    uint32_t events;      /* what epoll watches now */
    int paused;           /* not reading: too much output queued */
    int lingering;        /* shut down for writing, waiting for the peer's EOF */
    uint64_t linger_until;
    uint64_t closed_at;   /* when the engine was first seen CLOSED, 0 before */
    size_t heap_index;    /* position in lp->heap */
    uint64_t heap_key;    /* deadline the heap was ordered by */
    stashed *stash_head, *stash_tail;
    struct client *prev, *next; /* every client of the loop */
    char peer[64];
} client;

struct loop {
    int index;
    int epfd;
    int listen_fd;
    int stop_fd;   /* eventfd: readable once shutdown starts (all loops) */
    int signal_fd; /* loop 0 only: SIGINT/SIGTERM */
    const options *opt;
    client *clients;
    size_t client_count;
    client **heap; /* min-heap on heap_key */
    size_t heap_len, heap_cap;
    int stopping;
    uint64_t stop_deadline;
    uint64_t now;
};

/* epoll tags for the loop's own descriptors; clients are tagged by pointer. */
static char tag_listen, tag_stop, tag_signal;
static atomic_ulong next_client_id = 1;

static void logf_(const loop *lp, const char *fmt, ...)
{
    if (!lp->opt->verbose)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per line: loops in different threads do not interleave. */
    fprintf(stdout, "%s\n", line);
    fflush(stdout);
}

/* ---- deadline heap: the client with the earliest deadline on top */

static uint64_t client_deadline(const client *cl)
{
    if (cl->lingering)
        return cl->linger_until;
    uint64_t d = ws6455_conn_deadline(cl->conn);
    /* CLOSED but the peer does not read what is left to send: give up. */
    if (cl->closed_at && cl->closed_at + LINGER_MS < d)
        d = cl->closed_at + LINGER_MS;
    return d;
}

static void heap_swap(loop *lp, size_t a, size_t b)
{
    client *t = lp->heap[a];
    lp->heap[a] = lp->heap[b];
    lp->heap[b] = t;
    lp->heap[a]->heap_index = a;
    lp->heap[b]->heap_index = b;
}

static void heap_fix(loop *lp, size_t i)
{
    while (i > 0 && lp->heap[(i - 1) / 2]->heap_key > lp->heap[i]->heap_key) {
        heap_swap(lp, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < lp->heap_len && lp->heap[l]->heap_key < lp->heap[m]->heap_key)
            m = l;
        if (r < lp->heap_len && lp->heap[r]->heap_key < lp->heap[m]->heap_key)
            m = r;
        if (m == i)
            return;
        heap_swap(lp, i, m);
        i = m;
    }
}

static int heap_push(loop *lp, client *cl)
{
    if (lp->heap_len == lp->heap_cap) {
        size_t cap = lp->heap_cap ? lp->heap_cap * 2 : 64;
        client **h = realloc(lp->heap, cap * sizeof *h);
        if (!h)
            return -1;
        lp->heap = h;
        lp->heap_cap = cap;
    }
    cl->heap_index = lp->heap_len;
    cl->heap_key = client_deadline(cl);
    lp->heap[lp->heap_len++] = cl;
    heap_fix(lp, cl->heap_index);
    return 0;
}

static void heap_remove(loop *lp, client *cl)
{
    size_t i = cl->heap_index;
    lp->heap_len--;
    if (i != lp->heap_len) {
        lp->heap[i] = lp->heap[lp->heap_len];
        lp->heap[i]->heap_index = i;
        heap_fix(lp, i);
    }
}

static void heap_update(loop *lp, client *cl)
{
    uint64_t key = client_deadline(cl);
    if (key != cl->heap_key) {
        cl->heap_key = key;
        heap_fix(lp, cl->heap_index);
    }
}

/* ---- the callbacks: plain non-blocking socket I/O */

static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    client *cl = user;
    /* Backpressure: while the client does not read its echoes, pretend the
     * socket is empty. The engine stops reading; EPOLLIN is switched off. */
    if (cl->stash_head || ws6455_conn_buffered_amount(cl->conn) > HIGH_WATER) {
        cl->paused = 1;
        return WS6455_IO_WOULD_BLOCK;
    }
    return net_recv(cl->fd, buf, cap);
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    return net_send(((client *)user)->fd, buf, len);
}

static void on_open(ws6455_conn *c, const char *subprotocol, void *user)
{
    (void)c;
    (void)subprotocol;
    client *cl = user;
    logf_(cl->lp, "open #%lu %s", cl->id, cl->peer);
}

static int stash(client *cl, int opcode, const uint8_t *data, size_t len)
{
    stashed *s = malloc(sizeof *s + len);
    if (!s)
        return -1;
    s->next = NULL;
    s->opcode = opcode;
    s->len = len;
    if (len)
        memcpy(s->data, data, len);
    if (cl->stash_tail)
        cl->stash_tail->next = s;
    else
        cl->stash_head = s;
    cl->stash_tail = s;
    cl->paused = 1;
    return 0;
}

static int send_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len)
{
    return opcode == WS6455_OP_TEXT ? ws6455_send_text(c, (const char *)data, len)
                                    : ws6455_send_binary(c, data, len);
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    client *cl = user;
    int rc = cl->stash_head ? WS6455_ERR_WOULD_EXCEED_LIMIT : send_message(c, opcode, data, len);
    if (rc == WS6455_ERR_WOULD_EXCEED_LIMIT) {
        /* Keep it, in order, for when the client has read what is queued. */
        if (stash(cl, opcode, data, len) == 0)
            return;
        rc = WS6455_ERR_NOMEM;
    }
    if (rc < 0 && rc != WS6455_ERR_INVALID_STATE) /* INVALID_STATE: closing */
        ws6455_close(c, 1011, "echo failed", 11);
}

static void on_close(ws6455_conn *c, int code, const char *reason, size_t len, void *user)
{
    (void)c;
    client *cl = user;
    /* The reason is printed as received but cut at the first control
     * character, so a log line stays one line. */
    size_t shown = 0;
    while (shown < len && (unsigned char)reason[shown] >= 0x20)
        shown++;
    logf_(cl->lp, "close #%lu %s code=%d reason=\"%.*s\"", cl->id, cl->peer, code, (int)shown,
          reason);
}

static void on_error(ws6455_conn *c, int err, void *user)
{
    (void)c;
    client *cl = user;
    logf_(cl->lp, "error #%lu %s %s", cl->id, cl->peer, ws6455_strerror(err));
}

/* ---- client lifetime */

static void watch(client *cl, uint32_t events)
{
    if (events == cl->events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = cl};
    if (epoll_ctl(cl->lp->epfd, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
        cl->events = events;
}

static void client_free(client *cl)
{
    loop *lp = cl->lp;
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
    close(cl->fd);
    heap_remove(lp, cl);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        lp->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    lp->client_count--;
    while (cl->stash_head) {
        stashed *s = cl->stash_head;
        cl->stash_head = s->next;
        free(s);
    }
    ws6455_conn_free(cl->conn);
    free(cl);
}

/* The engine is done with the connection and everything is sent: shut down
 * our side and wait a little for the peer's EOF, so that a peer which still
 * had bytes in flight reads our close frame instead of a reset. */
static void start_linger(client *cl)
{
    shutdown(cl->fd, SHUT_WR);
    cl->lingering = 1;
    cl->linger_until = cl->lp->now + LINGER_MS;
    watch(cl, EPOLLIN);
}

static void linger_read(client *cl)
{
    if (net_discard_input(cl->fd))
        client_free(cl); /* EOF or error: done */
}

/* Sends what was stashed while the queue was full; 1 when all of it went. */
static int unstash(client *cl)
{
    while (cl->stash_head) {
        if (ws6455_conn_buffered_amount(cl->conn) > HIGH_WATER)
            return 0;
        stashed *s = cl->stash_head;
        int rc = send_message(cl->conn, s->opcode, s->data, s->len);
        if (rc == WS6455_ERR_WOULD_EXCEED_LIMIT)
            return 0;
        cl->stash_head = s->next;
        if (!cl->stash_head)
            cl->stash_tail = NULL;
        free(s);
        if (rc < 0)
            ws6455_close(cl->conn, 1011, "echo failed", 11);
    }
    return 1;
}

/* After any activity: close, linger, or choose what to watch. Returns 0 when
 * the client was freed. */
static int client_settle(client *cl)
{
    if (cl->lingering) {
        heap_update(cl->lp, cl);
        return 1;
    }
    if (!cl->closed_at && ws6455_conn_state(cl->conn) == WS6455_STATE_CLOSED)
        cl->closed_at = cl->lp->now ? cl->lp->now : 1;
    if (ws6455_conn_should_close_socket(cl->conn)) {
        start_linger(cl);
        heap_update(cl->lp, cl);
        return 1;
    }
    if (cl->paused && ws6455_conn_buffered_amount(cl->conn) <= LOW_WATER && unstash(cl) &&
        ws6455_conn_buffered_amount(cl->conn) <= LOW_WATER)
        cl->paused = 0;
    uint32_t ev = 0;
    if (!cl->paused && ws6455_conn_wants_read(cl->conn))
        ev |= EPOLLIN;
    if (ws6455_conn_wants_write(cl->conn))
        ev |= EPOLLOUT;
    watch(cl, ev);
    heap_update(cl->lp, cl);
    return 1;
}

static void client_event(client *cl, uint32_t events)
{
    if (cl->lingering) {
        linger_read(cl);
        return;
    }
    ws6455_conn *c = cl->conn;
    /* Tell the engine the time first, so what it stamps now (last input,
     * close sent) carries the right time. */
    ws6455_conn_tick(c, cl->lp->now);
    int rc = WS6455_OK;
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        rc = ws6455_conn_on_writable(c);
    /* While paused, EPOLLIN is off; a hang-up is then noticed by writing. */
    if (rc != WS6455_ERR_IO && !cl->paused && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        rc = ws6455_conn_on_readable(c);
    if (rc == WS6455_ERR_IO) {
        /* The socket is broken: nothing more can be sent. */
        ws6455_conn_recv_eof(c);
        client_free(cl);
        return;
    }
    client_settle(cl);
}

static void accept_clients(loop *lp)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lp->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE)
                fprintf(stderr, "echo_server: accept: %s\n", strerror(errno));
            return; /* EAGAIN, or out of descriptors: try again later */
        }
        if (lp->stopping) {
            close(fd);
            continue;
        }
        net_set_nodelay(fd);

        client *cl = calloc(1, sizeof *cl);
        if (!cl) {
            close(fd);
            continue;
        }
        cl->lp = lp;
        cl->fd = fd;
        cl->id = atomic_fetch_add(&next_client_id, 1);
        char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(cl->peer, sizeof cl->peer, "%s:%s", host, port);

        ws6455_config cfg;
        ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
        cfg.max_frame_size = lp->opt->max_message;
        cfg.max_message_size = lp->opt->max_message;
        /* Room for a whole echo on top of the backpressure threshold, so a
         * send only fails when something is badly wrong. */
        cfg.max_output_buffer = HIGH_WATER + lp->opt->max_message + cfg.read_buffer_size + 4096;
        cfg.ping_interval_ms = lp->opt->idle_timeout_ms;
        cfg.ping_timeout_ms = lp->opt->idle_timeout_ms;
        ws6455_callbacks cb = {
            .read = io_read,
            .write = io_write,
            .on_open = on_open,
            .on_message = on_message,
            .on_close = on_close,
            .on_error = on_error,
        };
        int err;
        cl->conn = ws6455_conn_new_err(&cfg, &cb, cl, &err, NULL);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cl};
        if (!cl->conn || epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            fprintf(stderr, "echo_server: new connection: %s\n",
                    cl->conn ? strerror(errno) : ws6455_strerror(err));
            ws6455_conn_free(cl->conn);
            close(fd);
            free(cl);
            continue;
        }
        cl->events = EPOLLIN;
        ws6455_conn_tick(cl->conn, lp->now); /* starts the handshake timer */
        if (heap_push(lp, cl) < 0) {
            epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL);
            ws6455_conn_free(cl->conn);
            close(fd);
            free(cl);
            continue;
        }
        cl->next = lp->clients;
        if (lp->clients)
            lp->clients->prev = cl;
        lp->clients = cl;
        lp->client_count++;
    }
}

/* Shutdown: close 1001 to every open client, then wait for replies. */
static void begin_stop(loop *lp)
{
    if (lp->stopping)
        return;
    lp->stopping = 1;
    lp->stop_deadline = lp->now + SHUTDOWN_MS;
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, lp->listen_fd, NULL);
    close(lp->listen_fd);
    lp->listen_fd = -1;
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, lp->stop_fd, NULL);
    for (client *cl = lp->clients, *next; cl; cl = next) {
        next = cl->next;
        if (cl->lingering)
            continue;
        int st = ws6455_conn_state(cl->conn);
        if (st == WS6455_STATE_OPEN) {
            ws6455_close(cl->conn, 1001, "server shutting down", 20);
            ws6455_conn_on_writable(cl->conn);
            client_settle(cl);
        } else if (st == WS6455_STATE_CONNECTING) {
            ws6455_conn_recv_eof(cl->conn);
            client_free(cl);
        }
    }
}

static void run_timers(loop *lp)
{
    while (lp->heap_len && lp->heap[0]->heap_key <= lp->now) {
        client *cl = lp->heap[0];
        if (cl->lingering || (cl->closed_at && cl->closed_at + LINGER_MS <= lp->now)) {
            if (!cl->lingering)
                ws6455_conn_recv_eof(cl->conn);
            client_free(cl);
            continue;
        }
        int rc = ws6455_conn_tick(cl->conn, lp->now);
        if (rc == WS6455_OK && ws6455_conn_wants_write(cl->conn))
            rc = ws6455_conn_on_writable(cl->conn);
        if (rc == WS6455_ERR_IO) {
            client_free(cl);
            continue;
        }
        client_settle(cl);
        if (cl->heap_key <= lp->now) {
            /* The engine did not move its deadline (it always should):
             * drop the client rather than spin. */
            fprintf(stderr, "echo_server: #%lu: deadline did not move\n", cl->id);
            client_free(cl);
        }
    }
}

static int loop_timeout(const loop *lp)
{
    uint64_t d = lp->heap_len ? lp->heap[0]->heap_key : WS6455_NO_DEADLINE;
    if (lp->stopping && lp->stop_deadline < d)
        d = lp->stop_deadline;
    if (d == WS6455_NO_DEADLINE)
        return -1;
    if (d <= lp->now)
        return 0;
    uint64_t wait = d - lp->now;
    return wait > 60000 ? 60000 : (int)wait;
}

static void *loop_run(void *arg)
{
    loop *lp = arg;
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        lp->now = now_ms();
        if (lp->stopping && (lp->client_count == 0 || lp->now >= lp->stop_deadline))
            break;
        int n = epoll_wait(lp->epfd, evs, MAX_EVENTS, loop_timeout(lp));
        if (n < 0 && errno != EINTR) {
            perror("echo_server: epoll_wait");
            break;
        }
        lp->now = now_ms();
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &tag_listen) {
                accept_clients(lp);
            } else if (tag == &tag_signal) {
                struct signalfd_siginfo si;
                if (read(lp->signal_fd, &si, sizeof si) > 0) {
                    uint64_t one = 1;
                    if (write(lp->stop_fd, &one, sizeof one) < 0)
                        perror("echo_server: eventfd");
                }
                epoll_ctl(lp->epfd, EPOLL_CTL_DEL, lp->signal_fd, NULL);
                begin_stop(lp);
            } else if (tag == &tag_stop) {
                begin_stop(lp);
            } else {
                client_event(tag, evs[i].events);
            }
        }
        run_timers(lp);
    }
    /* Whoever is left did not answer in time. */
    while (lp->clients) {
        ws6455_conn_recv_eof(lp->clients->conn);
        client_free(lp->clients);
    }
    return NULL;
}

/* ------------------------------------------------------------ setup */

static int loop_init(loop *lp, int index, const options *o, int listen_fd, int stop_fd,
                     int signal_fd)
{
    memset(lp, 0, sizeof *lp);
    lp->index = index;
    lp->opt = o;
    lp->listen_fd = listen_fd;
    lp->stop_fd = stop_fd;
    lp->signal_fd = signal_fd;
    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (lp->epfd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
        return -1;
    ev.data.ptr = &tag_stop;
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, stop_fd, &ev) < 0)
        return -1;
    if (signal_fd >= 0) {
        ev.data.ptr = &tag_signal;
        if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, signal_fd, &ev) < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr, argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Thousands of connections need thousands of descriptors. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    /* Signals arrive on a descriptor in loop 0, never asynchronously. Block
     * them before any thread starts so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    int stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (signal_fd < 0 || stop_fd < 0) {
        perror("echo_server: signalfd/eventfd");
        return 1;
    }

    int n = o.threads;
    loop *loops = calloc((size_t)n, sizeof *loops);
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    if (!loops || !threads)
        return 1;
    char shown[96];
    const char *port = o.port;
    char chosen[8];
    for (int i = 0; i < n; i++) {
        int fd = net_listen("echo_server", o.host, port, n > 1, 4096);
        if (fd < 0)
            return 1;
        net_local_name(fd, shown, sizeof shown);
        if (i == 0) {
            /* With --port 0 the other loops join the port the first got. */
            const char *colon = strrchr(shown, ':');
            snprintf(chosen, sizeof chosen, "%s", colon ? colon + 1 : o.port);
            port = chosen;
        }
        if (loop_init(&loops[i], i, &o, fd, stop_fd, i == 0 ? signal_fd : -1) < 0) {
            perror("echo_server: epoll");
            return 1;
        }
    }
    printf("listening on ws://%s/\n", shown);
    fflush(stdout);

    for (int i = 1; i < n; i++) {
        if (pthread_create(&threads[i], NULL, loop_run, &loops[i]) != 0) {
            fprintf(stderr, "echo_server: cannot start thread %d\n", i);
            return 1;
        }
    }
    loop_run(&loops[0]);
    for (int i = 1; i < n; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < n; i++) {
        close(loops[i].epfd);
        free(loops[i].heap);
    }
    close(stop_fd);
    close(signal_fd);
    free(loops);
    free(threads);
    if (o.verbose) {
        printf("shut down\n");
        fflush(stdout);
    }
    return 0;
}
