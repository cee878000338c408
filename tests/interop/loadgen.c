/*
 * loadgen — many simultaneous connections on ws6455's client role, each
 * sending numbered messages to an echo server and checking that every echo
 * arrives intact and in order.
 *
 *   loadgen --url ws://127.0.0.1:PORT/ [--connections 1000] [--messages 1000]
 *           [--size 64] [--window 32] [--timeout-ms 30000]
 *
 * One thread, epoll, non-blocking sockets, callback I/O. Each connection
 * keeps up to --window messages in flight. Prints messages/s; exit status
 * 0 only when every echo arrived, byte for byte and in order.
 */
#define _GNU_SOURCE
#include "net.h" /* examples/net.h */

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    int index;
    ws6455_conn *ws;
    long sent, received;
    int open, done, failed;
    uint32_t events;
} conn;

static long messages = 1000, connections = 1000, window = 32, msg_size = 64;
static long total_received, opened, finished, failed;
static int epfd;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Message `seq` of connection `index`: a header naming both, padded with a
 * pattern that depends on them, so any corruption or reordering shows. */
static size_t make_message(char *buf, int index, long seq)
{
    int n = snprintf(buf, (size_t)msg_size + 1, "c%d m%ld ", index, seq);
    for (long i = n; i < msg_size; i++)
        buf[i] = (char)('a' + (i * 7 + seq + index) % 26);
    return (size_t)msg_size;
}

static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    return net_recv(((conn *)user)->fd, buf, cap);
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    return net_send(((conn *)user)->fd, buf, len);
}

static void fail(conn *c, const char *why)
{
    if (!c->failed && !c->done) {
        c->failed = 1;
        failed++;
        if (failed <= 5)
            fprintf(stderr, "loadgen: connection %d: %s (sent %ld, received %ld)\n", c->index,
                    why, c->sent, c->received);
    }
}

static void fill_window(conn *c)
{
    char buf[65536];
    while (c->sent < messages && c->sent - c->received < window) {
        size_t n = make_message(buf, c->index, c->sent);
        if (ws6455_send_text(c->ws, buf, n) < 0) {
            fail(c, "send failed");
            return;
        }
        c->sent++;
    }
}

static void on_open(ws6455_conn *w, const char *sp, void *user)
{
    (void)w;
    (void)sp;
    conn *c = user;
    c->open = 1;
    opened++;
    fill_window(c);
}

static void on_message(ws6455_conn *w, int opcode, const uint8_t *data, size_t len, void *user)
{
    conn *c = user;
    char want[65536];
    size_t n = make_message(want, c->index, c->received);
    if (opcode != WS6455_OP_TEXT || len != n || memcmp(data, want, n)) {
        fail(c, "echo differs from what was sent (corrupt or out of order)");
        ws6455_close(w, 1000, NULL, 0);
        return;
    }
    c->received++;
    total_received++;
    if (c->received == messages) {
        c->done = 1;
        finished++;
        ws6455_close(w, 1000, NULL, 0);
        return;
    }
    fill_window(c);
}

static void on_close(ws6455_conn *w, int code, const char *reason, size_t len, void *user)
{
    (void)w;
    (void)reason;
    (void)len;
    conn *c = user;
    if (!c->done) {
        char why[64];
        snprintf(why, sizeof why, "closed early with %d", code);
        fail(c, why);
    }
}

static void update(conn *c)
{
    uint32_t ev = EPOLLIN;
    if (ws6455_conn_wants_write(c->ws))
        ev |= EPOLLOUT;
    if (ev != c->events) {
        struct epoll_event e = {.events = ev, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
        c->events = ev;
    }
}

int main(int argc, char **argv)
{
    const char *url_str = NULL;
    long timeout_ms = 30000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--help")) {
            printf("usage: %s --url ws://127.0.0.1:PORT/ [--connections N] [--messages N]\n"
                   "       [--size BYTES] [--window N] [--timeout-ms MS]\n",
                   argv[0]);
            return 0;
        } else if (!strcmp(a, "--url") && has) {
            url_str = argv[++i];
        } else if (!strcmp(a, "--connections") && has) {
            connections = atol(argv[++i]);
        } else if (!strcmp(a, "--messages") && has) {
            messages = atol(argv[++i]);
        } else if (!strcmp(a, "--size") && has) {
            msg_size = atol(argv[++i]);
        } else if (!strcmp(a, "--window") && has) {
            window = atol(argv[++i]);
        } else if (!strcmp(a, "--timeout-ms") && has) {
            timeout_ms = atol(argv[++i]);
        } else {
            fprintf(stderr, "loadgen: bad argument %s (see --help)\n", a);
            return 2;
        }
    }
    if (!url_str || connections < 1 || messages < 1 || window < 1 || msg_size < 24 ||
        msg_size > 65000) {
        fprintf(stderr, "loadgen: need --url; sizes 24..65000 (see --help)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)connections + 64) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < (rlim_t)connections + 64)
            fprintf(stderr, "loadgen: RLIMIT_NOFILE %lu may be too low\n",
                    (unsigned long)rl.rlim_cur);
    }

    ws6455_url url;
    if (ws6455_url_parse(url_str, strlen(url_str), &url) < 0 || url.secure) {
        fprintf(stderr, "loadgen: bad URL %s\n", url_str);
        return 2;
    }
    char host[256], port[8];
    snprintf(host, sizeof host, "%.*s", (int)url.host_len, url.host);
    snprintf(port, sizeof port, "%u", (unsigned)url.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res)) {
        fprintf(stderr, "loadgen: cannot resolve %s\n", host);
        return 2;
    }

    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    char hs[300], target[1024];
    ws6455_config_set_url(&cfg, &url, hs, sizeof hs, target, sizeof target);
    cfg.handshake_timeout_ms = 0; /* the overall timeout covers it */
    ws6455_callbacks cb = {.read = io_read,
                           .write = io_write,
                           .on_open = on_open,
                           .on_message = on_message,
                           .on_close = on_close};

    epfd = epoll_create1(0);
    conn *conns = calloc((size_t)connections, sizeof *conns);
    if (!conns)
        return 1;
    uint64_t t0 = now_ms();
    for (long i = 0; i < connections; i++) {
        conn *c = &conns[i];
        c->index = (int)i;
        c->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c->fd < 0) {
            perror("loadgen: socket");
            return 1;
        }
        net_set_nodelay(c->fd);
        if (connect(c->fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
            perror("loadgen: connect");
            return 1;
        }
        c->ws = ws6455_conn_new(&cfg, &cb, c);
        if (!c->ws)
            return 1;
        ws6455_conn_tick(c->ws, t0);
        c->events = EPOLLIN | EPOLLOUT;
        struct epoll_event e = {.events = c->events, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e);
    }
    freeaddrinfo(res);

    struct epoll_event evs[512];
    uint64_t t_open = 0;
    while (finished + failed < connections) {
        uint64_t now = now_ms();
        if (now - t0 > (uint64_t)timeout_ms) {
            fprintf(stderr, "loadgen: timed out after %ld ms\n", timeout_ms);
            break;
        }
        if (!t_open && opened == connections)
            t_open = now;
        int n = epoll_wait(epfd, evs, 512, 100);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->done || c->failed) {
                /* Finished: wait for the server to close. */
                if (net_discard_input(c->fd))
                    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                if (ws6455_conn_wants_write(c->ws))
                    ws6455_conn_on_writable(c->ws);
                continue;
            }
            int rc = WS6455_OK;
            if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                rc = ws6455_conn_on_writable(c->ws);
            if (rc != WS6455_ERR_IO && evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                rc = ws6455_conn_on_readable(c->ws);
            if (rc == WS6455_ERR_IO) {
                fail(c, "I/O error");
                epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            if (rc < 0 && rc != WS6455_ERR_ABNORMAL_CLOSURE)
                fail(c, ws6455_strerror(rc));
            update(c);
        }
    }
    uint64_t t1 = now_ms();
    double secs = (double)(t1 - t0) / 1000.0;
    long expected = connections * messages;
    printf("loadgen: %ld connections opened in %llu ms; %ld/%ld echoes intact and in order; "
           "%.0f messages/s echoed (%.2f s in all), %ld failed connections\n",
           opened, (unsigned long long)((t_open ? t_open : t1) - t0), total_received, expected,
           secs > 0 ? (double)total_received / secs : 0.0, secs, failed);
    for (long i = 0; i < connections; i++) {
        ws6455_conn_free(conns[i].ws);
        close(conns[i].fd);
    }
    free(conns);
    close(epfd);
    return total_received == expected && failed == 0 ? 0 : 1;
}
