/*
 * wslay_echo — a WebSocket echo server on wslay's event API, the C
 * comparison server of `make bench-e2e`.
 *
 *   wslay_echo [--host 127.0.0.1] [--port 9002] [--naive]
 *
 * Prints "listening on ws://HOST:PORT/" once it accepts connections. One
 * thread, level-triggered epoll, non-blocking sockets. Every text or binary
 * message goes back as the same type; wslay itself answers pings and
 * closes, and validates UTF-8.
 *
 * Written to be a fair opponent, the way a careful wslay user would:
 *  - reading: wslay pulls through the recv callback until it is told "would
 *    block". A recv() that returned less than was asked for emptied the
 *    socket, so the next call says "would block" without a syscall (safe
 *    with level-triggered epoll: anything arriving later wakes us again);
 *  - writing: wslay hands the header and the payload of every frame to the
 *    send callback separately. They are gathered in one buffer shared by
 *    the loop (a cork) and written with one send() per event; only what
 *    the socket does not take is copied to the connection;
 *  - epoll_ctl only when the watched events change;
 *  - no per-connection buffer beyond wslay's own context.
 * --naive instead does what wslay's bundled examples do: one send() per
 * callback (MSG_MORE on the header) and recv() until EAGAIN.
 *
 * The HTTP upgrade is minimal (a GET with Sec-WebSocket-Key, nothing else
 * checked); the Sec-WebSocket-Accept value comes from ws6455_accept_key()
 * in libws6455, so this program does not carry its own SHA-1 and base64.
 */
#define _GNU_SOURCE
#include <ws6455.h>

#include <wslay/wslay.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_MAX 8192 /* the upgrade request must fit in this */
#define CORK_SIZE ((size_t)64 << 10)
#define MAX_EVENTS 256

typedef struct server server;

typedef struct client {
    server *srv;
    int fd;
    uint32_t events;            /* what epoll watches */
    int drained;                /* the last recv() emptied the socket */
    wslay_event_context_ptr ws; /* NULL until the upgrade is done */
    char *req;                  /* an upgrade request that came in pieces */
    size_t req_len;
    uint8_t *early; /* bytes that followed the request */
    size_t early_len, early_off;
    uint8_t *backlog; /* output the socket did not take */
    size_t backlog_len;
} client;

struct server {
    int epfd, listen_fd;
    int naive;
    uint8_t *cork;                 /* this event's output, for the connection in hand */
    char request[REQUEST_MAX + 1]; /* upgrade requests that come whole */
    size_t cork_len;
};

static char tag_listen;

/* ------------------------------------------------------------ output */

/* Appends to the connection's backlog; -1 when out of memory. */
static int backlog_add(client *cl, const uint8_t *p, size_t len)
{
    uint8_t *b = realloc(cl->backlog, cl->backlog_len + len);
    if (!b)
        return -1;
    memcpy(b + cl->backlog_len, p, len);
    cl->backlog = b;
    cl->backlog_len += len;
    return 0;
}

/* Writes p[0..len) now, keeping what the socket does not take. */
static int write_or_keep(client *cl, const uint8_t *p, size_t len)
{
    size_t done = 0;
    if (!cl->backlog_len) {
        ssize_t n = send(cl->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        done = n > 0 ? (size_t)n : 0;
    }
    return done == len ? 0 : backlog_add(cl, p + done, len - done);
}

static int flush_backlog(client *cl)
{
    if (!cl->backlog_len)
        return 0;
    ssize_t n = send(cl->fd, cl->backlog, cl->backlog_len, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    cl->backlog_len -= (size_t)n;
    memmove(cl->backlog, cl->backlog + n, cl->backlog_len);
    if (!cl->backlog_len) {
        free(cl->backlog);
        cl->backlog = NULL;
    }
    return 0;
}

static int flush_cork(client *cl)
{
    server *s = cl->srv;
    size_t len = s->cork_len;
    s->cork_len = 0;
    return len ? write_or_keep(cl, s->cork, len) : 0;
}

/* ------------------------------------------------------------ wslay callbacks */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    client *cl = user;
    if (cl->early_off < cl->early_len) {
        size_t n = cl->early_len - cl->early_off;
        n = n < len ? n : len;
        memcpy(buf, cl->early + cl->early_off, n);
        cl->early_off += n;
        if (cl->early_off == cl->early_len) {
            free(cl->early);
            cl->early = NULL;
            cl->early_len = cl->early_off = 0;
        }
        return (ssize_t)n;
    }
    if (cl->drained) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    ssize_t n = recv(cl->fd, buf, len, 0);
    if (n > 0) {
        if ((size_t)n < len && !cl->srv->naive)
            cl->drained = 1;
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* EOF or error */
    return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    client *cl = user;
    server *s = cl->srv;
    if (s->naive) {
        ssize_t n =
            send(cl->fd, data, len, MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0));
        if (n >= 0)
            return n;
        wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                                       ? WSLAY_ERR_WOULDBLOCK
                                       : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    /* Behind a backlog, new output waits for the socket (EPOLLOUT). */
    if (cl->backlog_len) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (s->cork_len + len > CORK_SIZE) {
        if (flush_cork(cl) < 0) {
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }
        if (cl->backlog_len) {
            wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
            return -1;
        }
        if (len > CORK_SIZE)
            len = CORK_SIZE;
    }
    memcpy(s->cork + s->cork_len, data, len);
    s->cork_len += len;
    return (ssize_t)len;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    (void)user;
    if (wslay_is_ctrl_frame(arg->opcode))
        return; /* pings and closes are wslay's business */
    struct wslay_event_msg msg = {arg->opcode, arg->msg, arg->msg_length};
    wslay_event_queue_msg(ctx, &msg);
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = on_recv,
    .send_callback = on_send,
    .on_msg_recv_callback = on_msg,
};

/* ------------------------------------------------------------ clients */

static void client_free(client *cl)
{
    epoll_ctl(cl->srv->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
    close(cl->fd);
    if (cl->ws)
        wslay_event_context_free(cl->ws);
    free(cl->req);
    free(cl->early);
    free(cl->backlog);
    free(cl);
}

static void watch(client *cl, uint32_t ev)
{
    if (ev == cl->events)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = cl};
    if (epoll_ctl(cl->srv->epfd, EPOLL_CTL_MOD, cl->fd, &e) == 0)
        cl->events = ev;
}

/* Case-insensitive header lookup in a complete request; the value trimmed
 * of blanks, or NULL. */
static const char *header_value(char *req, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    for (char *line = strstr(req, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (!strncasecmp(line, name, nlen) && line[nlen] == ':') {
            char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            char *end = strstr(v, "\r\n");
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            *len = (size_t)(end - v);
            return v;
        }
    }
    return NULL;
}

static int reject(client *cl)
{
    static const char bad[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                              "Content-Length: 0\r\n\r\n";
    (void)send(cl->fd, bad, sizeof bad - 1, MSG_NOSIGNAL);
    return -1;
}

/* Reads the upgrade request; answers it once whole. -1: drop the client.
 * A request that arrives in one piece (the usual case) is read into the
 * loop's buffer and never costs the connection an allocation. */
static int handshake_read(client *cl)
{
    char *req = cl->req ? cl->req : cl->srv->request;
    ssize_t n = recv(cl->fd, req + cl->req_len, REQUEST_MAX - cl->req_len, 0);
    if (n <= 0)
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    size_t have = cl->req_len + (size_t)n;
    req[have] = 0;
    char *end = memmem(req, have, "\r\n\r\n", 4);
    if (!end) {
        if (have == REQUEST_MAX)
            return reject(cl);
        if (!cl->req) {
            if (!(cl->req = malloc(REQUEST_MAX + 1)))
                return -1;
            memcpy(cl->req, req, have);
        }
        cl->req_len = have;
        return 0;
    }
    end[2] = 0; /* headers end with the last header's CRLF */
    size_t key_len;
    const char *key = header_value(req, "Sec-WebSocket-Key", &key_len);
    char accept[29];
    if (strncmp(req, "GET ", 4) || !key || ws6455_accept_key(key, key_len, accept) != 0)
        return reject(cl);
    char resp[160];
    int rlen = snprintf(resp, sizeof resp,
                        "HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: %s\r\n\r\n",
                        accept);
    if (write_or_keep(cl, (const uint8_t *)resp, (size_t)rlen) < 0)
        return -1;
    size_t head = (size_t)(end + 4 - req);
    if (head < have) {
        cl->early_len = have - head;
        if (!(cl->early = malloc(cl->early_len)))
            return -1;
        memcpy(cl->early, req + head, cl->early_len);
    }
    free(cl->req);
    cl->req = NULL;
    cl->req_len = 0;
    if (wslay_event_context_server_init(&cl->ws, &callbacks, cl) != 0)
        return -1;
    return 0;
}

/* After any activity: what to watch, or whether the connection is over. */
static int settle(client *cl)
{
    if (!cl->ws)
        return 0;
    int want_read = wslay_event_want_read(cl->ws);
    int want_write = wslay_event_want_write(cl->ws) || cl->backlog_len;
    if (!want_read && !want_write)
        return -1;
    watch(cl, (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0));
    return 0;
}

static void client_event(client *cl, uint32_t ev)
{
    int rc = 0;
    if (!cl->ws) {
        rc = handshake_read(cl);
        /* After the 101, read on only if frames came with the request. */
        ev = cl->ws && cl->early_len ? EPOLLIN : 0;
    }
    if (rc == 0 && cl->ws) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            rc = flush_backlog(cl);
        if (rc == 0 && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
            cl->drained = 0;
            rc = wslay_event_recv(cl->ws);
        }
        /* Echoes go out in the same event, corked into one send(). */
        if (rc == 0 && wslay_event_want_write(cl->ws) && !cl->backlog_len)
            rc = wslay_event_send(cl->ws);
        if (rc == 0 && !cl->srv->naive)
            rc = flush_cork(cl);
        cl->srv->cork_len = 0;
    }
    if (rc != 0 || settle(cl) < 0)
        client_free(cl);
}

static void accept_clients(server *s)
{
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE)
                perror("wslay_echo: accept");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        client *cl = calloc(1, sizeof *cl);
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = cl};
        if (!cl || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
            free(cl);
            close(fd);
            continue;
        }
        cl->srv = s;
        cl->fd = fd;
        cl->events = EPOLLIN;
    }
}

/* ------------------------------------------------------------ setup */

static int listen_on(const char *host, const char *port, char *shown, size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai;
    int err = getaddrinfo(host, port, &hints, &ai);
    if (err) {
        fprintf(stderr, "wslay_echo: %s:%s: %s\n", host, port, gai_strerror(err));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
        perror("wslay_echo: listen");
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[INET6_ADDRSTRLEN], p[8];
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p,
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(shown, cap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
    return fd;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "9002";
    static server s; /* large: not on the stack */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--naive")) {
            s.naive = 1;
        } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
            host = argv[++i];
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--host ADDR] [--port PORT] [--naive]\n", argv[0]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char shown[96];
    s.listen_fd = listen_on(host, port, shown, sizeof shown);
    s.epfd = epoll_create1(EPOLL_CLOEXEC);
    s.cork = malloc(CORK_SIZE);
    if (s.listen_fd < 0 || s.epfd < 0 || !s.cork)
        return 1;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &tag_listen};
    if (epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.listen_fd, &e) < 0)
        return 1;
    printf("listening on ws://%s/\n", shown);
    fflush(stdout);
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(s.epfd, evs, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) {
            perror("wslay_echo: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &tag_listen)
                accept_clients(&s);
            else
                client_event(evs[i].data.ptr, evs[i].events);
        }
    }
}
