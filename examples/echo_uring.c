/*
 * echo_server --io-uring: the echo on io_uring, driving ws6455 sans-I/O.
 *
 * Per loop thread: one ring, one ws6455_context, one deadline heap. Per
 * connection at most one recv and one writev in flight:
 *  - recv: IORING_OP_RECV with IOSQE_BUFFER_SELECT from a ring of provided
 *    buffers shared by the loop (no buffer per connection); the bytes go to
 *    ws6455_conn_recv() and the buffer goes back at once;
 *  - writev: the iovecs come from ws6455_conn_pending_iov(), which points
 *    into the engine's queue. Those bytes stay where they are until
 *    consumed, whatever is queued after them, so the kernel writes straight
 *    from the engine's memory; ws6455_conn_consume() runs only when the CQE
 *    says how much went out. No copy, no bounce buffer;
 *  - corking: on_output only notes the connection on the loop's to-do list;
 *    the writes (and recv re-arms) of a whole batch of completions are
 *    prepared after it and submitted with the next wait, in one
 *    io_uring_enter;
 *  - time: io_uring_submit_and_wait_timeout() sleeps until a completion or
 *    the earliest deadline of the heap (the wait's own io_uring timeout: no
 *    timeout SQE to cancel and re-arm whenever the earliest deadline moves);
 *  - accept: multishot; out of descriptors, the reserve sheds connections
 *    as in the epoll loop.
 *
 * The one rule an asynchronous writer must add: the engine may drop its
 * queued output (a close or keepalive timeout, ws6455_conn_free), and the
 * kernel must not be reading it then. So a connection is ticked at a due
 * deadline only with no write in flight (the write is cancelled first), and
 * freed only once its recv and write have completed.
 */
#define _GNU_SOURCE
#include "echo_uring.h"

#ifndef ECHO_HAVE_URING

int echo_uring_probe(char *why, size_t cap)
{
    snprintf(why, cap, "built without liburing (install liburing-dev and rebuild)");
    return 0;
}

int echo_uring_run(const echo_options *o, const int *listen_fds, int n, int stop_fd,
                   int signal_fd)
{
    (void)o;
    (void)listen_fds;
    (void)n;
    (void)stop_fd;
    (void)signal_fd;
    return 1;
}

#else

#include "net.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define RING_ENTRIES 4096u
#define BUF_COUNT 256u          /* provided receive buffers per loop (power of 2) */
#define BUF_SIZE ECHO_READ_SIZE /* each: one read's worth */
#define BUF_GROUP 0
#define WRITE_IOV 16            /* pieces per writev */
#define LINGER_MS 1000u         /* TCP: wait for the peer's FIN after our last byte */
#define SHUTDOWN_MS 2000u       /* on SIGINT/SIGTERM: wait this long for close replies */
#define CANCEL_WAIT_MS 500u     /* then this long for cancelled operations */
#define ACCEPT_BATCH 64

/* What a completion is about: the low bits of user_data. Connections are
 * at least 8-byte aligned, so their address carries the operation. */
enum { OP_RECV = 1, OP_WRITE = 2, OP_MASK = 7 };
enum { UD_IGNORE = 0, UD_ACCEPT = 1, UD_STOP = 2, UD_SIGNAL = 3, UD_LISTEN = 4 };

typedef struct uloop uloop;

/* An iovec array for one writev in flight: it must stay valid until the
 * completion (kept in a free list). */
typedef struct wop {
    struct wop *next;
    struct iovec iov[WRITE_IOV];
} wop;

typedef struct uclient {
    echo_peer p;                /* first: the heap's records are clients */
    uloop *lp;
    struct uclient *todo_next;  /* on the to-do list (ECHO_DIRTY) */
    wop *w;                     /* the writev in flight (ECHO_WRITING) */
} uclient;

/* A tick is due but must wait for the write in flight to be cancelled. */
#define ECHO_CANCELLING (1u << 9)

struct uloop {
    const echo_options *opt;
    ws6455_context *ctx;
    struct io_uring ring;
    struct io_uring_buf_ring *br;
    uint8_t *bufs;
    int listen_fd, stop_fd, signal_fd;
    echo_heap heap;          /* live connections by deadline */
    size_t clients;          /* including those being torn down */
    uclient *todo;           /* connections with a write or a recv to submit */
    wop *free_wops;
    echo_reserve reserve;
    int accepting;           /* a multishot accept is armed */
    int listen_polled;       /* out of descriptors: waiting for a connection */
    uint64_t accept_resume_at;
    int stopping, torn_down;
    uint64_t stop_deadline;
    uint64_t now;
};

/* ------------------------------------------------------------ ring chores */

static struct io_uring_sqe *sqe_get(uloop *lp)
{
    struct io_uring_sqe *s = io_uring_get_sqe(&lp->ring);
    if (!s) {
        io_uring_submit(&lp->ring); /* the queue is full: send it off */
        s = io_uring_get_sqe(&lp->ring);
    }
    return s;
}

static uint64_t ud_of(uclient *cl, int op)
{
    return (uint64_t)(uintptr_t)cl | (uint64_t)op;
}

static void cancel(uloop *lp, uint64_t target)
{
    struct io_uring_sqe *s = sqe_get(lp);
    if (!s)
        return;
    io_uring_prep_cancel64(s, target, 0);
    io_uring_sqe_set_data64(s, UD_IGNORE);
}

static void give_back_buffer(uloop *lp, unsigned bid)
{
    io_uring_buf_ring_add(lp->br, lp->bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(lp->br, 1);
}

/* ------------------------------------------------------------ connections */

static void todo_add(uclient *cl)
{
    if (cl->p.flags & ECHO_DIRTY)
        return;
    cl->p.flags |= ECHO_DIRTY;
    cl->todo_next = cl->lp->todo;
    cl->lp->todo = cl;
}

/* Frees a connection being torn down once nothing of it is in flight. */
static void maybe_free(uclient *cl)
{
    if (!(cl->p.flags & ECHO_CLOSING) || (cl->p.flags & (ECHO_READING | ECHO_WRITING | ECHO_DIRTY)))
        return;
    uloop *lp = cl->lp;
    ws6455_conn_free(cl->p.conn); /* on_close(1006) if it had not ended */
    close(cl->p.fd);
    lp->clients--;
    free(cl);
}

/* Ends a connection: cancels what is in flight, frees when all is back. */
static void teardown(uclient *cl)
{
    if (cl->p.flags & ECHO_CLOSING)
        return;
    uloop *lp = cl->lp;
    cl->p.flags |= ECHO_CLOSING;
    echo_heap_remove(&lp->heap, &cl->p);
    if (cl->p.flags & ECHO_READING)
        cancel(lp, ud_of(cl, OP_RECV));
    if (cl->p.flags & ECHO_WRITING)
        cancel(lp, ud_of(cl, OP_WRITE));
    maybe_free(cl);
}

/* The engine says the socket may close: the same TCP lingering close as
 * the epoll loop (see echo_server.c), or at once when output was dropped. */
static void finish(uclient *cl)
{
    if (cl->p.flags & (ECHO_STUCK | ECHO_WRITING)) {
        teardown(cl);
        return;
    }
    shutdown(cl->p.fd, SHUT_WR);
    cl->p.flags |= ECHO_LINGERING;
    echo_heap_set(&cl->lp->heap, &cl->p, cl->lp->now + LINGER_MS);
    todo_add(cl); /* keep a recv armed to see the FIN */
}

/* After engine activity: close, or note what to submit, and keep the heap
 * right. 0 when the connection is ending (torn down or lingering). */
static int settle(uclient *cl)
{
    echo_peer *p = &cl->p;
    ws6455_conn *c = p->conn;
    if (ws6455_conn_should_close_socket(c)) {
        finish(cl);
        return 0;
    }
    int out = ws6455_conn_wants_write(c);
    if (out)
        p->flags |= ECHO_STUCK;
    if (ws6455_conn_buffered_amount(c) > ECHO_HIGH_WATER)
        p->flags |= ECHO_PAUSED;
    if ((out && !(p->flags & ECHO_WRITING)) ||
        (!(p->flags & (ECHO_PAUSED | ECHO_READING)) && ws6455_conn_wants_read(c)))
        todo_add(cl);
    echo_heap_lower(&cl->lp->heap, p, ws6455_conn_deadline(c));
    return 1;
}

/* The engine's clock, except at a due deadline while the kernel may still
 * read the queue: that tick (which may drop the queue) is run_timers'. */
static void tick_safely(uclient *cl)
{
    if (!(cl->p.flags & ECHO_WRITING) || cl->lp->now < ws6455_conn_deadline(cl->p.conn))
        ws6455_conn_tick(cl->p.conn, cl->lp->now);
}

static void submit_write(uloop *lp, uclient *cl)
{
    ws6455_iovec iov[WRITE_IOV];
    size_t total = 0;
    size_t n = ws6455_conn_pending_iov(cl->p.conn, iov, WRITE_IOV, &total);
    if (!n || !total)
        return;
    wop *w = lp->free_wops;
    if (w)
        lp->free_wops = w->next;
    else if (!(w = malloc(sizeof *w)))
        return; /* tried again at the next settle */
    struct io_uring_sqe *s = sqe_get(lp);
    if (!s) {
        w->next = lp->free_wops;
        lp->free_wops = w;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        w->iov[i].iov_base = (void *)iov[i].base;
        w->iov[i].iov_len = iov[i].len;
    }
    io_uring_prep_writev(s, cl->p.fd, w->iov, (unsigned)n, 0);
    io_uring_sqe_set_data64(s, ud_of(cl, OP_WRITE));
    cl->w = w;
    cl->p.flags |= ECHO_WRITING;
}

static void submit_recv(uloop *lp, uclient *cl)
{
    struct io_uring_sqe *s = sqe_get(lp);
    if (!s)
        return;
    io_uring_prep_recv(s, cl->p.fd, NULL, BUF_SIZE, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = BUF_GROUP;
    io_uring_sqe_set_data64(s, ud_of(cl, OP_RECV));
    cl->p.flags |= ECHO_READING;
}

/* Prepares what the batch of completions asked for: one writev per
 * connection with output (the whole batch's echoes corked together), one
 * recv per connection that reads. */
static void run_todo(uloop *lp)
{
    while (lp->todo) {
        uclient *cl = lp->todo;
        lp->todo = cl->todo_next;
        cl->p.flags &= (uint16_t)~ECHO_DIRTY;
        uint16_t f = cl->p.flags;
        if (f & ECHO_CLOSING) {
            maybe_free(cl);
            continue;
        }
        if (!(f & (ECHO_WRITING | ECHO_LINGERING)) && ws6455_conn_wants_write(cl->p.conn))
            submit_write(lp, cl);
        if (!(f & ECHO_READING) &&
            ((f & ECHO_LINGERING) ||
             (!(f & ECHO_PAUSED) && ws6455_conn_wants_read(cl->p.conn))))
            submit_recv(lp, cl);
    }
}

static void broken(uclient *cl)
{
    teardown(cl); /* ws6455_conn_free reports 1006 once nothing is in flight */
}

static void on_recv(uclient *cl, int res, unsigned cflags)
{
    uloop *lp = cl->lp;
    cl->p.flags &= (uint16_t)~ECHO_READING;
    int has_buf = (cflags & IORING_CQE_F_BUFFER) != 0;
    unsigned bid = cflags >> IORING_CQE_BUFFER_SHIFT;
    uint8_t *data = has_buf ? lp->bufs + (size_t)bid * BUF_SIZE : NULL;
    if (cl->p.flags & ECHO_CLOSING) {
        if (has_buf)
            give_back_buffer(lp, bid);
        maybe_free(cl);
        return;
    }
    /* ENOBUFS: every buffer was taken; try again after the batch.
     * ECANCELED outside a teardown: a cancellation meant for an earlier
     * connection at this address; nothing is wrong with this one. */
    if (res == -ENOBUFS || res == -ECANCELED) {
        if (has_buf)
            give_back_buffer(lp, bid);
        todo_add(cl);
        return;
    }
    if (cl->p.flags & ECHO_LINGERING) {
        if (has_buf)
            give_back_buffer(lp, bid);
        if (res > 0)
            todo_add(cl); /* late data: thrown away, until the FIN or the linger ends */
        else
            teardown(cl);
        return;
    }
    if (res < 0 || (res > 0 && !has_buf)) {
        if (has_buf)
            give_back_buffer(lp, bid);
        broken(cl);
        return;
    }
    tick_safely(cl);
    if (res > 0) {
        /* Unmasked in place, events delivered, echoes queued (on_output). */
        ws6455_conn_recv(cl->p.conn, data, (size_t)res, NULL);
        give_back_buffer(lp, bid);
    } else {
        ws6455_conn_recv_eof(cl->p.conn);
    }
    settle(cl);
}

static void on_write(uclient *cl, int res)
{
    uloop *lp = cl->lp;
    cl->p.flags &= (uint16_t) ~(ECHO_WRITING | ECHO_CANCELLING);
    cl->w->next = lp->free_wops;
    lp->free_wops = cl->w;
    cl->w = NULL;
    if (cl->p.flags & ECHO_CLOSING) {
        maybe_free(cl);
        return;
    }
    if (res > 0) {
        /* Only now are those bytes done with: on_drain once all went. */
        ws6455_conn_consume(cl->p.conn, (size_t)res);
    } else if (res != -ECANCELED && res != -EINTR) {
        broken(cl);
        return;
    }
    settle(cl);
}

/* ------------------------------------------------------------ callbacks */

static void on_open(ws6455_conn *c, const char *subprotocol, void *user)
{
    (void)c;
    (void)subprotocol;
    uclient *cl = user;
    echo_log_open(cl->lp->opt, &cl->p);
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    uclient *cl = user;
    if (echo_message(c, opcode, data, len))
        cl->p.flags |= ECHO_PAUSED;
}

static void on_close(ws6455_conn *c, int code, const char *reason, size_t len, void *user)
{
    (void)c;
    uclient *cl = user;
    echo_log_close(cl->lp->opt, &cl->p, code, reason, len);
}

static void on_error(ws6455_conn *c, int err, void *user)
{
    (void)c;
    uclient *cl = user;
    echo_log_error(cl->lp->opt, &cl->p, err);
}

static void on_output(ws6455_conn *c, void *user)
{
    (void)c;
    todo_add(user); /* written after this batch of completions */
}

static void on_drain(ws6455_conn *c, void *user)
{
    (void)c;
    uclient *cl = user;
    cl->p.flags &= (uint16_t) ~(ECHO_PAUSED | ECHO_STUCK);
}

/* ------------------------------------------------------------ accepting */

static void arm_accept(uloop *lp)
{
    struct io_uring_sqe *s = sqe_get(lp);
    if (!s)
        return;
    io_uring_prep_multishot_accept(s, lp->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(s, UD_ACCEPT);
    lp->accepting = 1;
}

static void arm_poll_listen(uloop *lp)
{
    struct io_uring_sqe *s = sqe_get(lp);
    if (!s)
        return;
    io_uring_prep_poll_add(s, lp->listen_fd, POLLIN);
    io_uring_sqe_set_data64(s, UD_LISTEN);
    lp->listen_polled = 1;
}

static void on_listen_ready(uloop *lp)
{
    lp->listen_polled = 0;
    if (!lp->accepting && !lp->stopping && !lp->accept_resume_at)
        arm_accept(lp);
}

static void client_add(uloop *lp, int fd)
{
    uclient *cl = calloc(1, sizeof *cl);
    if (!cl) {
        close(fd);
        return;
    }
    cl->lp = lp;
    cl->p.fd = fd;
    cl->p.id = echo_next_id();
    net_set_nodelay(fd);
    int err = WS6455_OK;
    cl->p.conn = ws6455_conn_new_in_err(lp->ctx, cl, &err);
    if (!cl->p.conn) {
        fprintf(stderr, "echo_server: new connection: %s\n", ws6455_strerror(err));
        close(fd);
        free(cl);
        return;
    }
    ws6455_conn_tick(cl->p.conn, lp->now); /* starts the handshake timer */
    if (echo_heap_push(&lp->heap, &cl->p, ws6455_conn_deadline(cl->p.conn)) < 0) {
        ws6455_conn_free(cl->p.conn);
        close(fd);
        free(cl);
        return;
    }
    lp->clients++;
    todo_add(cl);
}

static void on_accept(uloop *lp, int res, unsigned cflags)
{
    if (!(cflags & IORING_CQE_F_MORE))
        lp->accepting = 0;
    if (res >= 0) {
        echo_reserve_ok(&lp->reserve);
        if (lp->stopping)
            close(res);
        else
            client_add(lp, res);
    } else if (res != -ECANCELED && !lp->stopping) {
        int shed = 0;
        for (int i = 0; i < ACCEPT_BATCH; i++) {
            shed = echo_reserve_shed(&lp->reserve, lp->listen_fd, -res);
            if (shed <= 0)
                break;
        }
        if (lp->accepting) {
            cancel(lp, UD_ACCEPT); /* a multishot accept that failed is not trusted */
            lp->accepting = 0;
        }
        if (shed < 0) {
            lp->accept_resume_at = lp->now + ECHO_ACCEPT_BACKOFF_MS;
        } else {
            /* io_uring's accept takes a descriptor before it looks for a
             * connection: out of descriptors it fails at once, even with
             * nobody waiting, and re-arming it would spin. Wait until a
             * connection is there (or more of the same), then try again. */
            lp->accept_resume_at = 0;
            arm_poll_listen(lp);
            return;
        }
    }
    if (!lp->accepting && !lp->stopping && !lp->accept_resume_at && !lp->listen_polled)
        arm_accept(lp);
}

/* ------------------------------------------------------------ the loop */

static void arm_poll(uloop *lp, int fd, uint64_t ud)
{
    struct io_uring_sqe *s = sqe_get(lp);
    if (!s)
        return;
    io_uring_prep_poll_add(s, fd, POLLIN);
    io_uring_sqe_set_data64(s, ud);
}

static void begin_stop(uloop *lp)
{
    if (lp->stopping)
        return;
    lp->stopping = 1;
    lp->stop_deadline = lp->now + SHUTDOWN_MS;
    if (lp->accepting)
        cancel(lp, UD_ACCEPT);
    if (lp->listen_polled)
        cancel(lp, UD_LISTEN);
    close(lp->listen_fd);
    lp->listen_fd = -1;
    size_t n = lp->heap.len;
    uclient **all = malloc((n ? n : 1) * sizeof *all);
    if (!all)
        return;
    memcpy(all, lp->heap.v, n * sizeof *all);
    for (size_t i = 0; i < n; i++) {
        uclient *cl = all[i];
        if (cl->p.flags & ECHO_LINGERING)
            continue;
        /* The clock first: the close timeout starts from the engine's time,
         * and a paused connection has not been ticked for a while. */
        tick_safely(cl);
        int st = ws6455_conn_state(cl->p.conn);
        if (st == WS6455_STATE_OPEN) {
            ws6455_close(cl->p.conn, 1001, "server shutting down", 20);
            settle(cl);
        } else if (st == WS6455_STATE_CONNECTING) {
            teardown(cl);
        }
    }
    free(all);
}

static void on_signal(uloop *lp)
{
    struct signalfd_siginfo si;
    if (read(lp->signal_fd, &si, sizeof si) > 0) {
        uint64_t one = 1;
        if (write(lp->stop_fd, &one, sizeof one) < 0)
            perror("echo_server: eventfd");
    }
    begin_stop(lp);
}

static uint64_t peer_deadline(echo_peer *p)
{
    return (p->flags & ECHO_LINGERING) ? p->key : ws6455_conn_deadline(p->conn);
}

static void run_timers(uloop *lp)
{
    if (lp->accept_resume_at && lp->accept_resume_at <= lp->now) {
        lp->accept_resume_at = 0;
        if (!lp->accepting && !lp->stopping && !lp->listen_polled)
            arm_accept(lp);
    }
    echo_peer *p;
    while ((p = echo_heap_due(&lp->heap, lp->now, peer_deadline))) {
        uclient *cl = (uclient *)p;
        if (p->flags & ECHO_LINGERING) {
            teardown(cl); /* the peer's FIN did not come in time */
            continue;
        }
        if (p->flags & ECHO_WRITING) {
            /* The tick may drop the queue the kernel is reading: cancel the
             * write first, tick when its completion is in (1 ms at most). */
            if (!(p->flags & ECHO_CANCELLING)) {
                p->flags |= ECHO_CANCELLING;
                cancel(lp, ud_of(cl, OP_WRITE));
            }
            echo_heap_set(&lp->heap, p, lp->now + 1);
            continue;
        }
        ws6455_conn_tick(p->conn, lp->now);
        if (!settle(cl))
            continue;
        uint64_t d = ws6455_conn_deadline(p->conn);
        if (d <= lp->now) {
            fprintf(stderr, "echo_server: #%lu: deadline did not move\n", (unsigned long)p->id);
            broken(cl);
            continue;
        }
        echo_heap_set(&lp->heap, p, d);
    }
}

static void dispatch(uloop *lp, uint64_t ud, int res, unsigned cflags)
{
    if (ud & ~(uint64_t)OP_MASK) {
        uclient *cl = (uclient *)(uintptr_t)(ud & ~(uint64_t)OP_MASK);
        if ((ud & OP_MASK) == OP_RECV)
            on_recv(cl, res, cflags);
        else
            on_write(cl, res);
        return;
    }
    switch (ud) {
    case UD_ACCEPT:
        on_accept(lp, res, cflags);
        break;
    case UD_STOP:
        begin_stop(lp);
        break;
    case UD_SIGNAL:
        on_signal(lp);
        break;
    case UD_LISTEN:
        on_listen_ready(lp);
        break;
    default:
        break; /* a cancel's own completion */
    }
}

static uint64_t next_wakeup(const uloop *lp)
{
    uint64_t d = echo_heap_next(&lp->heap);
    if (lp->stopping) {
        uint64_t end = lp->stop_deadline + (lp->torn_down ? CANCEL_WAIT_MS : 0);
        if (end < d)
            d = end;
    }
    if (lp->accept_resume_at && lp->accept_resume_at < d)
        d = lp->accept_resume_at;
    return d;
}

static void *loop_run(void *arg)
{
    uloop *lp = arg;
    arm_accept(lp);
    arm_poll(lp, lp->stop_fd, UD_STOP);
    if (lp->signal_fd >= 0)
        arm_poll(lp, lp->signal_fd, UD_SIGNAL);
    for (;;) {
        lp->now = echo_now_ms();
        if (lp->stopping) {
            if (lp->clients == 0)
                break;
            if (lp->now >= lp->stop_deadline && !lp->torn_down) {
                /* Whoever is left did not answer in time. */
                lp->torn_down = 1;
                while (lp->heap.len)
                    teardown((uclient *)lp->heap.v[0]);
            }
            if (lp->torn_down && lp->now >= lp->stop_deadline + CANCEL_WAIT_MS)
                break;
        }
        run_todo(lp);
        int wait = echo_wait_ms(next_wakeup(lp), lp->now);
        struct __kernel_timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};
        struct io_uring_cqe *cqe;
        int rc = io_uring_submit_and_wait_timeout(&lp->ring, &cqe, 1, wait < 0 ? NULL : &ts, NULL);
        if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) {
            fprintf(stderr, "echo_server: io_uring wait: %s\n", strerror(-rc));
            break;
        }
        lp->now = echo_now_ms();
        while (io_uring_peek_cqe(&lp->ring, &cqe) == 0) {
            uint64_t ud = io_uring_cqe_get_data64(cqe);
            int res = cqe->res;
            unsigned cflags = cqe->flags;
            io_uring_cqe_seen(&lp->ring, cqe);
            dispatch(lp, ud, res, cflags);
        }
        run_timers(lp);
    }
    return NULL;
}

/* ------------------------------------------------------------ setup */

static int setup_buffers(uloop *lp)
{
    size_t ring_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
    void *mem = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -errno;
    lp->br = mem;
    lp->bufs = malloc((size_t)BUF_COUNT * BUF_SIZE);
    if (!lp->bufs)
        return -ENOMEM;
    struct io_uring_buf_reg reg = {
        .ring_addr = (unsigned long)(uintptr_t)mem, .ring_entries = BUF_COUNT, .bgid = BUF_GROUP};
    int rc = io_uring_register_buf_ring(&lp->ring, &reg, 0);
    if (rc < 0)
        return rc;
    io_uring_buf_ring_init(lp->br);
    for (unsigned i = 0; i < BUF_COUNT; i++)
        io_uring_buf_ring_add(lp->br, lp->bufs + (size_t)i * BUF_SIZE, BUF_SIZE,
                              (unsigned short)i, io_uring_buf_ring_mask(BUF_COUNT), (int)i);
    io_uring_buf_ring_advance(lp->br, BUF_COUNT);
    return 0;
}

static int loop_init(uloop *lp, const echo_options *o, int listen_fd, int stop_fd, int signal_fd)
{
    memset(lp, 0, sizeof *lp);
    lp->opt = o;
    lp->listen_fd = listen_fd;
    lp->stop_fd = stop_fd;
    lp->signal_fd = signal_fd;
    struct io_uring_params params = {.flags = IORING_SETUP_CQSIZE, .cq_entries = 4 * RING_ENTRIES};
    int rc = io_uring_queue_init_params(RING_ENTRIES, &lp->ring, &params);
    if (rc < 0) {
        fprintf(stderr, "echo_server: io_uring_setup: %s\n", strerror(-rc));
        return -1;
    }
    rc = setup_buffers(lp);
    if (rc < 0) {
        fprintf(stderr, "echo_server: io_uring buffers: %s\n", strerror(-rc));
        return -1;
    }
    ws6455_config cfg;
    echo_config(o, &cfg);
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb); /* no read/write: sans-I/O */
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_close = on_close;
    cb.on_error = on_error;
    cb.on_output = on_output;
    cb.on_drain = on_drain;
    lp->ctx = ws6455_context_new(&cfg, &cb);
    if (!lp->ctx)
        return -1;
    return echo_reserve_open(&lp->reserve, "echo_server");
}

static void loop_end(uloop *lp)
{
    io_uring_queue_exit(&lp->ring);
    /* Connections still waiting for cancellations when the loop gave up
     * are left to the process exit. */
    while (lp->free_wops) {
        wop *w = lp->free_wops;
        lp->free_wops = w->next;
        free(w);
    }
    munmap(lp->br, BUF_COUNT * sizeof(struct io_uring_buf));
    free(lp->bufs);
    free(lp->heap.v);
    echo_reserve_close(&lp->reserve);
    ws6455_context_free(lp->ctx);
}

int echo_uring_probe(char *why, size_t cap)
{
    struct io_uring ring;
    int rc = io_uring_queue_init(8, &ring, 0);
    if (rc < 0) {
        const char *hint = rc == -ENOSYS   ? " (not in this kernel)"
                           : rc == -EPERM ? " (disabled: sysctl kernel.io_uring_disabled, or a "
                                             "seccomp filter)"
                                           : "";
        snprintf(why, cap, "io_uring_setup failed: %s%s", strerror(-rc), hint);
        return 0;
    }
    struct io_uring_probe *pr = io_uring_get_probe_ring(&ring);
    static const int ops[] = {IORING_OP_RECV, IORING_OP_WRITEV, IORING_OP_ACCEPT,
                              IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL};
    int ok = pr != NULL;
    for (size_t i = 0; ok && i < sizeof ops / sizeof ops[0]; i++)
        ok = io_uring_opcode_supported(pr, ops[i]);
    if (pr)
        io_uring_free_probe(pr);
    if (!ok)
        snprintf(why, cap, "the kernel's io_uring lacks recv, writev, accept, poll or cancel");
    /* Provided-buffer rings and multishot accept: Linux 5.19. */
    void *mem = ok ? mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                   : MAP_FAILED;
    if (ok && mem != MAP_FAILED) {
        struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)(uintptr_t)mem,
                                       .ring_entries = 8,
                                       .bgid = 0};
        rc = io_uring_register_buf_ring(&ring, &reg, 0);
        if (rc < 0) {
            ok = 0;
            snprintf(why, cap, "no provided-buffer rings (Linux 5.19 or later): %s",
                     strerror(-rc));
        }
        munmap(mem, 4096);
    }
    io_uring_queue_exit(&ring);
    return ok;
}

int echo_uring_run(const echo_options *o, const int *listen_fds, int n, int stop_fd,
                   int signal_fd)
{
    uloop *loops = calloc((size_t)n, sizeof *loops);
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    if (!loops || !threads)
        return 1;
    for (int i = 0; i < n; i++)
        if (loop_init(&loops[i], o, listen_fds[i], stop_fd, i == 0 ? signal_fd : -1) < 0)
            return 1;
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

#endif
