/*
 * echo_server — a WebSocket echo server on Linux epoll (or io_uring),
 * driving ws6455 in callback-I/O mode.
 *
 *   echo_server [--host 127.0.0.1] [--port 9001] [--threads N] [--io-uring]
 *               [--max-message BYTES] [--idle-timeout MS] [--close-timeout MS]
 *               [--verbose]
 *
 * Every text or binary message is sent back as the same type, so the
 * Autobahn|Testsuite fuzzing client can drive it. What it demonstrates:
 *  - one ws6455_context per event loop (configuration, callbacks and the
 *    read buffer shared by the loop's connections; an idle connection costs
 *    the engine's 192 bytes plus this file's 40);
 *  - a level-triggered epoll loop per thread (--threads N: N loops on N
 *    SO_REUSEPORT sockets) where a readable event costs one recv() and one
 *    sendmsg(): WS6455_SHORT_READ_DRAINED (a short read means drained, no
 *    second read to see EAGAIN), a read budget of one read (fairness), the
 *    echoes of one event written together by the engine (writev callback);
 *  - no epoll_ctl churn: interest changes only when it really changes
 *    (EPOLLOUT while output waits for the socket, EPOLLIN off while paused);
 *  - backpressure: a client whose echoes pile up past 1 MiB is not read from
 *    until its queue drains (on_drain);
 *  - time from CLOCK_MONOTONIC: connections in a min-heap keyed by
 *    ws6455_conn_deadline(); epoll_wait sleeps until the earliest, then
 *    ws6455_conn_tick(). Every connection ends by a deadline the engine
 *    announces, even one whose peer stopped reading;
 *  - closing: the socket is closed once ws6455_conn_should_close_socket()
 *    says so, after a short TCP lingering close when our last bytes went
 *    out (so the peer reads our close frame, not a reset);
 *  - out of descriptors (EMFILE): a reserve descriptor sheds the waiting
 *    connection instead of spinning on a listening socket that stays
 *    readable; one log line per burst;
 *  - SIGINT/SIGTERM: close 1001 to every client, up to 2 s for replies,
 *    exit status 0.
 * --io-uring runs the same echo on io_uring (echo_uring.c).
 */
#define _GNU_SOURCE
#include "echo_common.h"
#include "echo_uring.h"
#include "net.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* TCP, not WebSocket: after our last byte went out, how long we wait for
 * the peer's FIN before closing (so our close frame is read, not reset). */
#define LINGER_MS 1000u
#define SHUTDOWN_MS 2000u /* on SIGINT/SIGTERM: wait this long for close replies */
#define MAX_EVENTS 256
#define ACCEPT_BATCH 64   /* accepts per wakeup, so a connect storm takes turns too */

/*
 * Why level-triggered. With it, a connection whose read budget was spent
 * (ws6455_conn_on_readable() returned WS6455_MORE) needs nothing: its socket
 * is still readable, so the next epoll_wait reports it again, after every
 * other ready connection had its turn — round-robin fairness for free. An
 * edge-triggered loop would have to keep such connections on a ready list
 * of its own and must never miss one. The price of level-triggered is that
 * interest must be switched off when we do not want to hear about a socket
 * (paused for backpressure, nothing to write): both change rarely, and
 * watch() calls epoll_ctl only when the set really changes.
 */

typedef struct loop loop;

typedef struct client {
    echo_peer p; /* first: the heap's records are clients */
    loop *lp;
} client;

struct loop {
    const echo_options *opt;
    ws6455_context *ctx;
    int epfd;
    int listen_fd;
    int stop_fd;   /* eventfd: readable once shutdown starts (all loops) */
    int signal_fd; /* loop 0 only: SIGINT/SIGTERM */
    echo_heap heap; /* every client, by deadline */
    echo_reserve reserve;
    uint64_t accept_resume_at; /* accepting paused until then (0: not paused) */
    int stopping;
    uint64_t stop_deadline;
    uint64_t now;
};

/* epoll tags for the loop's own descriptors; clients are tagged by pointer. */
static char tag_listen, tag_stop, tag_signal;

/* ------------------------------------------------------------ callbacks */

static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    client *cl = user;
    /* Paused for backpressure: the socket is "empty" until the queue drains. */
    if (cl->p.flags & ECHO_PAUSED)
        return WS6455_IO_WOULD_BLOCK;
    return net_recv(cl->p.fd, buf, cap);
}

static ptrdiff_t io_writev(void *user, const ws6455_iovec *iov, size_t count)
{
    return net_sendv(((client *)user)->p.fd, iov, count);
}

static void on_open(ws6455_conn *c, const char *subprotocol, void *user)
{
    (void)c;
    (void)subprotocol;
    client *cl = user;
    echo_log_open(cl->lp->opt, &cl->p);
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    client *cl = user;
    if (echo_message(c, opcode, data, len))
        cl->p.flags |= ECHO_PAUSED;
}

static void on_close(ws6455_conn *c, int code, const char *reason, size_t len, void *user)
{
    (void)c;
    client *cl = user;
    echo_log_close(cl->lp->opt, &cl->p, code, reason, len);
}

static void on_error(ws6455_conn *c, int err, void *user)
{
    (void)c;
    client *cl = user;
    echo_log_error(cl->lp->opt, &cl->p, err);
}

/* The queue went from empty to non-empty. Inside on_readable/on_writable
 * the engine writes it itself at the end; anywhere else (a keepalive ping
 * from a tick, the shutdown's close) client_settle() writes it. */
static void on_output(ws6455_conn *c, void *user)
{
    (void)c;
    ((client *)user)->p.flags |= ECHO_DIRTY;
}

/* Everything was written: read again if we had stopped. */
static void on_drain(ws6455_conn *c, void *user)
{
    (void)c;
    ((client *)user)->p.flags &= (uint16_t) ~(ECHO_PAUSED | ECHO_STUCK);
}

/* ------------------------------------------------------------ clients */

/* Changes what epoll watches, only when it differs. */
static void watch(client *cl, uint16_t want)
{
    uint16_t now = cl->p.flags & (ECHO_WATCH_IN | ECHO_WATCH_OUT);
    if (want == now)
        return;
    struct epoll_event ev = {.events = ((want & ECHO_WATCH_IN) ? EPOLLIN : 0u) |
                                       ((want & ECHO_WATCH_OUT) ? EPOLLOUT : 0u),
                             .data.ptr = cl};
    if (epoll_ctl(cl->lp->epfd, EPOLL_CTL_MOD, cl->p.fd, &ev) == 0)
        cl->p.flags = (uint16_t)((cl->p.flags & ~(ECHO_WATCH_IN | ECHO_WATCH_OUT)) | want);
}

static void client_free(client *cl)
{
    loop *lp = cl->lp;
    /* on_close(1006) runs here for a connection that had not ended; it
     * logs the peer's address, so the socket is still open. */
    ws6455_conn_free(cl->p.conn);
    echo_heap_remove(&lp->heap, &cl->p);
    close(cl->p.fd); /* also removes it from the epoll set */
    free(cl);
}

/* The engine says the socket may close. When our last bytes were written,
 * shut down our side and give the peer LINGER_MS to read them and send its
 * FIN (closing with its data unread would reset the connection, and a reset
 * can destroy our close frame on the way). When output was dropped (the peer
 * stopped reading), there is nothing to wait for. */
static void client_finish(client *cl)
{
    if (cl->p.flags & ECHO_STUCK) {
        client_free(cl);
        return;
    }
    shutdown(cl->p.fd, SHUT_WR);
    cl->p.flags |= ECHO_LINGERING;
    watch(cl, ECHO_WATCH_IN);
    echo_heap_set(&cl->lp->heap, &cl->p, cl->lp->now + LINGER_MS);
}

static void client_broken(client *cl)
{
    ws6455_conn_abort(cl->p.conn); /* on_close(1006), output dropped */
    client_free(cl);
}

/* After any activity: write what was queued outside the engine's I/O
 * calls, close, or choose what to watch, and keep the deadline heap right.
 * Returns 0 when the client is gone. */
static int client_settle(client *cl)
{
    echo_peer *p = &cl->p;
    ws6455_conn *c = p->conn;
    if (p->flags & ECHO_DIRTY) {
        p->flags &= (uint16_t)~ECHO_DIRTY;
        if (ws6455_conn_on_writable(c) == WS6455_ERR_IO) {
            client_broken(cl);
            return 0;
        }
    }
    if (ws6455_conn_should_close_socket(c)) {
        client_finish(cl);
        return 0;
    }
    int out = ws6455_conn_wants_write(c);
    if (out)
        p->flags |= ECHO_STUCK;
    /* Automatic pongs and close replies fill the queue too, without an
     * echo to notice it. */
    if (ws6455_conn_buffered_amount(c) > ECHO_HIGH_WATER)
        p->flags |= ECHO_PAUSED;
    uint16_t want = (uint16_t)((!(p->flags & ECHO_PAUSED) && ws6455_conn_wants_read(c)
                                    ? ECHO_WATCH_IN
                                    : 0) |
                               (out ? ECHO_WATCH_OUT : 0));
    watch(cl, want);
    echo_heap_lower(&cl->lp->heap, p, ws6455_conn_deadline(c));
    return 1;
}

static void client_event(client *cl, uint32_t events)
{
    echo_peer *p = &cl->p;
    if (p->flags & ECHO_LINGERING) {
        if (net_discard_input(p->fd))
            client_free(cl); /* the peer's FIN (or an error): done */
        return;
    }
    ws6455_conn *c = p->conn;
    /* The engine's clock first, so what it stamps now (input seen, close
     * sent) carries this time. */
    ws6455_conn_tick(c, cl->lp->now);
    int rc = WS6455_OK;
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && ws6455_conn_wants_write(c))
        rc = ws6455_conn_on_writable(c);
    /* One read, the events it completes, one write. WS6455_MORE (budget
     * spent) needs nothing here: level-triggered, the socket is reported
     * again on the next round. */
    if (rc != WS6455_ERR_IO && !(p->flags & ECHO_PAUSED) &&
        (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && ws6455_conn_wants_read(c))
        rc = ws6455_conn_on_readable(c);
    p->flags &= (uint16_t)~ECHO_DIRTY; /* those calls wrote what was queued */
    if (rc == WS6455_ERR_IO) {
        client_broken(cl);
        return;
    }
    client_settle(cl);
}

static void client_add(loop *lp, int fd)
{
    client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        close(fd);
        return;
    }
    cl->lp = lp;
    cl->p.fd = fd;
    cl->p.id = echo_next_id();
    cl->p.flags = ECHO_WATCH_IN;
    net_set_nodelay(fd);
    int err = WS6455_OK;
    cl->p.conn = ws6455_conn_new_in_err(lp->ctx, cl, &err);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cl};
    if (!cl->p.conn || epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        fprintf(stderr, "echo_server: new connection: %s\n",
                cl->p.conn ? strerror(errno) : ws6455_strerror(err));
        ws6455_conn_free(cl->p.conn);
        close(fd);
        free(cl);
        return;
    }
    ws6455_conn_tick(cl->p.conn, lp->now); /* starts the handshake timer */
    if (echo_heap_push(&lp->heap, &cl->p, ws6455_conn_deadline(cl->p.conn)) < 0) {
        ws6455_conn_free(cl->p.conn);
        close(fd);
        free(cl);
    }
}

/* ------------------------------------------------------------ the loop */

static void pause_accepting(loop *lp)
{
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, lp->listen_fd, NULL);
    lp->accept_resume_at = lp->now + ECHO_ACCEPT_BACKOFF_MS;
}

static void resume_accepting(loop *lp)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
    lp->accept_resume_at = 0;
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->listen_fd, &ev) < 0)
        lp->accept_resume_at = lp->now + ECHO_ACCEPT_BACKOFF_MS;
}

static void accept_clients(loop *lp)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(lp->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            int shed = echo_reserve_shed(&lp->reserve, lp->listen_fd, errno);
            if (shed > 0)
                continue;
            if (shed < 0)
                pause_accepting(lp);
            return;
        }
        echo_reserve_ok(&lp->reserve);
        if (lp->stopping)
            close(fd);
        else
            client_add(lp, fd);
    }
}

/* Shutdown: close 1001 to every open client, then wait for replies. */
static void begin_stop(loop *lp)
{
    if (lp->stopping)
        return;
    lp->stopping = 1;
    lp->stop_deadline = lp->now + SHUTDOWN_MS;
    close(lp->listen_fd); /* leaves the epoll set with it */
    lp->listen_fd = -1;
    lp->accept_resume_at = 0;
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, lp->stop_fd, NULL);
    /* A copy: settling a client may free it and reorder the heap. */
    size_t n = lp->heap.len;
    client **all = malloc((n ? n : 1) * sizeof *all);
    if (!all)
        return; /* they go when the wait is over */
    memcpy(all, lp->heap.v, n * sizeof *all);
    for (size_t i = 0; i < n; i++) {
        client *cl = all[i];
        if (cl->p.flags & ECHO_LINGERING)
            continue;
        /* The clock first: the close timeout starts from the engine's time,
         * and a paused connection has not been ticked for a while. */
        ws6455_conn_tick(cl->p.conn, lp->now);
        int st = ws6455_conn_state(cl->p.conn);
        if (st == WS6455_STATE_OPEN) {
            ws6455_close(cl->p.conn, 1001, "server shutting down", 20);
            client_settle(cl);
        } else if (st == WS6455_STATE_CONNECTING) {
            client_broken(cl);
        }
    }
    free(all);
}

static uint64_t peer_deadline(echo_peer *p)
{
    return (p->flags & ECHO_LINGERING) ? p->key : ws6455_conn_deadline(p->conn);
}

static void run_timers(loop *lp)
{
    if (lp->accept_resume_at && lp->accept_resume_at <= lp->now)
        resume_accepting(lp);
    echo_peer *p;
    while ((p = echo_heap_due(&lp->heap, lp->now, peer_deadline))) {
        client *cl = (client *)p;
        if (p->flags & ECHO_LINGERING) {
            client_free(cl); /* the peer's FIN did not come in time */
            continue;
        }
        ws6455_conn_tick(p->conn, lp->now);
        if (!client_settle(cl))
            continue;
        uint64_t d = ws6455_conn_deadline(p->conn);
        if (d <= lp->now) {
            /* The engine always moves its deadline; never spin on one. */
            fprintf(stderr, "echo_server: #%lu: deadline did not move\n", (unsigned long)p->id);
            client_broken(cl);
            continue;
        }
        echo_heap_set(&lp->heap, p, d);
    }
}

static int loop_timeout(const loop *lp)
{
    uint64_t d = echo_heap_next(&lp->heap);
    if (lp->stopping && lp->stop_deadline < d)
        d = lp->stop_deadline;
    if (lp->accept_resume_at && lp->accept_resume_at < d)
        d = lp->accept_resume_at;
    return echo_wait_ms(d, lp->now);
}

static void on_signal(loop *lp)
{
    struct signalfd_siginfo si;
    if (read(lp->signal_fd, &si, sizeof si) > 0) {
        uint64_t one = 1;
        if (write(lp->stop_fd, &one, sizeof one) < 0)
            perror("echo_server: eventfd");
    }
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, lp->signal_fd, NULL);
    begin_stop(lp);
}

static void *loop_run(void *arg)
{
    loop *lp = arg;
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        lp->now = echo_now_ms();
        if (lp->stopping && (lp->heap.len == 0 || lp->now >= lp->stop_deadline))
            break;
        int n = epoll_wait(lp->epfd, evs, MAX_EVENTS, loop_timeout(lp));
        if (n < 0 && errno != EINTR) {
            perror("echo_server: epoll_wait");
            break;
        }
        lp->now = echo_now_ms();
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &tag_listen)
                accept_clients(lp);
            else if (tag == &tag_signal)
                on_signal(lp);
            else if (tag == &tag_stop)
                begin_stop(lp);
            else
                client_event(tag, evs[i].events);
        }
        run_timers(lp);
    }
    /* Whoever is left did not answer in time (on_close(1006) for them). */
    while (lp->heap.len)
        client_free((client *)lp->heap.v[0]);
    return NULL;
}

/* ------------------------------------------------------------ setup */

static int loop_init(loop *lp, const echo_options *o, int listen_fd, int stop_fd, int signal_fd)
{
    memset(lp, 0, sizeof *lp);
    lp->opt = o;
    lp->listen_fd = listen_fd;
    lp->stop_fd = stop_fd;
    lp->signal_fd = signal_fd;
    ws6455_config cfg;
    echo_config(o, &cfg);
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.read = io_read;
    cb.writev = io_writev;
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_close = on_close;
    cb.on_error = on_error;
    cb.on_output = on_output;
    cb.on_drain = on_drain;
    const char *bad = NULL;
    int err = WS6455_OK;
    lp->ctx = ws6455_context_new_err(&cfg, &cb, &err, &bad);
    if (!lp->ctx) {
        fprintf(stderr, "echo_server: context: %s%s%s\n", ws6455_strerror(err), bad ? ": " : "",
                bad ? bad : "");
        return -1;
    }
    if (echo_reserve_open(&lp->reserve, "echo_server") < 0)
        return -1;
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

static void loop_end(loop *lp)
{
    close(lp->epfd);
    free(lp->heap.v);
    echo_reserve_close(&lp->reserve);
    ws6455_context_free(lp->ctx);
}

static int run_epoll(const echo_options *o, const int *listen_fds, int n, int stop_fd,
                     int signal_fd)
{
    loop *loops = calloc((size_t)n, sizeof *loops);
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    if (!loops || !threads)
        return 1;
    for (int i = 0; i < n; i++) {
        if (loop_init(&loops[i], o, listen_fds[i], stop_fd, i == 0 ? signal_fd : -1) < 0) {
            perror("echo_server: loop");
            return 1;
        }
    }
    for (int i = 1; i < n; i++) {
        if (pthread_create(&threads[i], NULL, loop_run, &loops[i]) != 0) {
            fprintf(stderr, "echo_server: cannot start thread %d\n", i);
            return 1;
        }
    }
    loop_run(&loops[0]);
    for (int i = 1; i < n; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < n; i++)
        loop_end(&loops[i]);
    free(loops);
    free(threads);
    return 0;
}

int main(int argc, char **argv)
{
    echo_options o;
    echo_parse_options(argc, argv, ECHO_OPT_THREADS | ECHO_OPT_IO_URING,
                       "A WebSocket echo server (epoll or io_uring, non-blocking).", &o);
    signal(SIGPIPE, SIG_IGN);
    /* Thousands of connections need thousands of descriptors. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (o.io_uring) {
        char why[160];
        if (!echo_uring_probe(why, sizeof why)) {
            fprintf(stderr, "echo_server: --io-uring: %s; using epoll instead\n", why);
            o.io_uring = 0;
        }
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
    int *listen_fds = calloc((size_t)n, sizeof *listen_fds);
    if (!listen_fds)
        return 1;
    char shown[96];
    const char *port = o.port;
    char chosen[8];
    for (int i = 0; i < n; i++) {
        listen_fds[i] = net_listen("echo_server", o.host, port, n > 1, 4096);
        if (listen_fds[i] < 0)
            return 1;
        net_local_name(listen_fds[i], shown, sizeof shown);
        if (i == 0) {
            /* With --port 0 the other loops join the port the first got. */
            const char *colon = strrchr(shown, ':');
            snprintf(chosen, sizeof chosen, "%s", colon ? colon + 1 : o.port);
            port = chosen;
        }
    }
    printf("listening on ws://%s/%s\n", shown, o.io_uring ? " (io_uring)" : "");
    fflush(stdout);

    int rc = o.io_uring ? echo_uring_run(&o, listen_fds, n, stop_fd, signal_fd)
                        : run_epoll(&o, listen_fds, n, stop_fd, signal_fd);
    close(stop_fd);
    close(signal_fd);
    free(listen_fds);
    if (rc == 0 && o.verbose) {
        printf("shut down\n");
        fflush(stdout);
    }
    return rc;
}
