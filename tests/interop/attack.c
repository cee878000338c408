/*
 * attack — hostile peers for the examples-under-attack interop sections
 * (tests/interop/run.sh). Raw sockets and hand-made frames, so each attack
 * does exactly what it says; 127.0.0.1 only; every mode ends by itself.
 *
 *   attack nonreader PORT [--term-pid PID] [--max-ms MS]
 *       Handshake, then send 64 KiB binary frames and never read. Once
 *       sending has made no progress for 300 ms, print "stalled after N
 *       bytes" (and send SIGTERM to PID when given: the server's shutdown
 *       close then has to time out), then wait, still not reading, until
 *       the server closes the connection. Prints "closed by the server N ms
 *       after the stall" (or after the SIGTERM); exit 0 when that happened
 *       within MS (default 20000), 1 otherwise.
 *
 *   attack flood PORT [--pong N] [--data N] [--seconds S] [--max-latency-ms M]
 *       N clients flood empty pongs as fast as they can, N flood 16-byte
 *       binary messages (reading their echoes), while one more client
 *       measures echo round trips of small text messages every 10 ms.
 *       Prints the round-trip statistics; exit 0 when every probe was
 *       echoed and the slowest took at most M ms (default 100).
 *
 *   attack hold PORT [--connections N] [--hold-ms MS]
 *       Opens N TCP connections (no handshake), holds them MS ms, prints
 *       how many the server ended meanwhile, closes them.
 *
 *   attack echo PORT [--timeout-ms MS]
 *       One client, one text echo; retried until it works or MS passed.
 *
 *   attack flood-server [--answer-close]
 *       A WebSocket server (port printed as "listening on ws://...") that
 *       answers the handshake, then floods its clients with 16 KiB binary
 *       frames and never answers their close frame; with --answer-close it
 *       answers it (close 1000) but goes on flooding and never closes the
 *       TCP connection.
 *
 *   attack silent
 *       A TCP listener that accepts and never says anything (a TLS server
 *       that never answers the ClientHello).
 *
 *   attack full-backlog
 *       A TCP listener that never accepts, its accept queue filled by its
 *       own connections before the port is printed: the kernel then drops
 *       further SYNs, so a client's connect() hangs as it would towards a
 *       host that drops packets.
 */
#define _GNU_SOURCE
#include "net.h" /* examples/net.h */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECONDS 60 /* no mode runs longer than this */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int port_arg;

/* ------------------------------------------------------------ client side */

/* A blocking connection to 127.0.0.1:port, or -1. */
static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    net_set_nodelay(fd);
    return fd;
}

static void set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The opening handshake on a blocking socket; 0 when the server said 101. */
static int ws_handshake(int fd)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";
    if (send_all(fd, req, sizeof req - 1) < 0)
        return -1;
    char head[1024];
    size_t n = 0;
    /* Byte by byte: nothing after the head may be swallowed. */
    while (n < sizeof head - 1) {
        ssize_t r = recv(fd, head + n, 1, 0);
        if (r <= 0)
            return -1;
        n++;
        if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
            break;
    }
    head[n] = '\0';
    return strncmp(head, "HTTP/1.1 101", 12) == 0 ? 0 : -1;
}

/* A masked client frame into out; returns its size. */
static size_t client_frame(uint8_t *out, int opcode, const uint8_t *payload, size_t n)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = 0;
    out[h++] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        out[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(n >> 8);
        out[h++] = (uint8_t)n;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(out + h, key, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        out[h + i] = payload[i] ^ key[i % 4];
    return h + n;
}

/* Reads one unmasked server frame (payload up to cap). Its opcode, or -1. */
static int read_frame(int fd, uint8_t *payload, size_t cap, size_t *len)
{
    uint8_t h[10];
    if (recv(fd, h, 2, MSG_WAITALL) != 2)
        return -1;
    uint64_t n = h[1] & 0x7f;
    if (n == 126) {
        if (recv(fd, h + 2, 2, MSG_WAITALL) != 2)
            return -1;
        n = (uint64_t)h[2] << 8 | h[3];
    } else if (n == 127) {
        if (recv(fd, h + 2, 8, MSG_WAITALL) != 8)
            return -1;
        n = 0;
        for (int i = 2; i < 10; i++)
            n = n << 8 | h[i];
    }
    if (n > cap || (n && recv(fd, payload, (size_t)n, MSG_WAITALL) != (ssize_t)n))
        return -1;
    *len = (size_t)n;
    return h[0] & 0x0f;
}

static int ws_client(int port)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return -1;
    set_timeouts(fd, 5000);
    if (ws_handshake(fd) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ------------------------------------------------------------ nonreader */

static int mode_nonreader(int argc, char **argv)
{
    long term_pid = 0, max_ms = 20000;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--term-pid"))
            term_pid = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-ms"))
            max_ms = atol(argv[i + 1]);
    }
    int fd = ws_client(port_arg);
    if (fd < 0) {
        fprintf(stderr, "attack nonreader: no connection\n");
        return 2;
    }
    static uint8_t payload[65536], frame[65536 + 14];
    memset(payload, 'n', sizeof payload);
    size_t flen = client_frame(frame, 2, payload, sizeof payload);
    net_set_nonblocking(fd);
    uint64_t start = now_us(), last_progress = start, sent = 0;
    size_t off = 0;
    while (now_us() - last_progress < 300000) {
        if (now_us() - start > (uint64_t)MAX_SECONDS * 1000000u) {
            fprintf(stderr, "attack nonreader: the server never stopped reading\n");
            return 1;
        }
        ssize_t w = send(fd, frame + off, flen - off, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (uint64_t)w;
            off = (off + (size_t)w) % flen;
            last_progress = now_us();
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            fprintf(stderr, "attack nonreader: closed before the stall: %s\n", strerror(errno));
            return 1;
        } else {
            struct pollfd pf = {fd, POLLOUT, 0};
            poll(&pf, 1, 50);
        }
    }
    printf("stalled after %llu bytes\n", (unsigned long long)sent);
    fflush(stdout);
    uint64_t t0 = now_us();
    if (term_pid > 0)
        kill((pid_t)term_pid, SIGTERM);
    /* Never read. With our receive buffer full of echoes, the server's
     * close() of a socket with our flood unread in it arrives as a reset:
     * poll() reports an error or a hang-up. */
    for (;;) {
        struct pollfd pf = {fd, 0, 0};
        int ready = poll(&pf, 1, 20);
        uint64_t ms = (now_us() - t0) / 1000;
        if (ready > 0 && (pf.revents & (POLLERR | POLLHUP))) {
            printf("closed by the server %llu ms after the %s\n", (unsigned long long)ms,
                   term_pid > 0 ? "SIGTERM" : "stall");
            return ms <= (uint64_t)max_ms ? 0 : 1;
        }
        if (ms > (uint64_t)max_ms + 2000) {
            printf("still open %llu ms after the %s\n", (unsigned long long)ms,
                   term_pid > 0 ? "SIGTERM" : "stall");
            return 1;
        }
    }
}

/* ------------------------------------------------------------ flood */

static volatile int flood_stop;
static unsigned long long pong_bytes, data_bytes;

static void *pong_flooder(void *arg)
{
    (void)arg;
    int fd = ws_client(port_arg);
    if (fd < 0)
        return NULL;
    set_timeouts(fd, 200);
    static uint8_t buf[65532]; /* 10,922 empty masked pongs */
    for (size_t i = 0; i + 6 <= sizeof buf; i += 6)
        client_frame(buf + i, 0xA, NULL, 0);
    unsigned long long n = 0;
    while (!flood_stop) {
        ssize_t w = send(fd, buf, sizeof buf, MSG_NOSIGNAL);
        if (w > 0)
            n += (unsigned long long)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR)
            break;
    }
    __atomic_add_fetch(&pong_bytes, n, __ATOMIC_RELAXED);
    close(fd);
    return NULL;
}

static void *data_flooder(void *arg)
{
    (void)arg;
    int fd = ws_client(port_arg);
    if (fd < 0)
        return NULL;
    net_set_nonblocking(fd);
    static const uint8_t msg[16] = "0123456789abcdef";
    uint8_t buf[22 * 2978]; /* 16-byte binary messages, 22 bytes each */
    for (size_t i = 0; i + 22 <= sizeof buf; i += 22)
        client_frame(buf + i, 2, msg, sizeof msg);
    uint8_t sink[65536];
    unsigned long long n = 0;
    size_t off = 0;
    while (!flood_stop) {
        struct pollfd pf = {fd, POLLIN | POLLOUT, 0};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        if (pf.revents & POLLIN) {
            ssize_t r = recv(fd, sink, sizeof sink, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                break;
        }
        if (pf.revents & POLLOUT) {
            ssize_t w = send(fd, buf + off, sizeof buf - off, MSG_NOSIGNAL);
            if (w > 0) {
                n += (unsigned long long)w;
                off = (off + (size_t)w) % sizeof buf;
            }
        }
    }
    __atomic_add_fetch(&data_bytes, n, __ATOMIC_RELAXED);
    close(fd);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int mode_flood(int argc, char **argv)
{
    long pongs = 1, datas = 1, seconds = 3, max_latency = 100;
    for (int i = 0; i + 1 < argc; i += 2) {
        long v = atol(argv[i + 1]);
        if (!strcmp(argv[i], "--pong"))
            pongs = v;
        else if (!strcmp(argv[i], "--data"))
            datas = v;
        else if (!strcmp(argv[i], "--seconds"))
            seconds = v;
        else if (!strcmp(argv[i], "--max-latency-ms"))
            max_latency = v;
    }
    if (pongs < 0 || datas < 0 || pongs + datas > 64 || seconds < 1 || seconds > MAX_SECONDS)
        return 2;
    pthread_t th[64];
    int nth = 0;
    for (long i = 0; i < pongs; i++)
        pthread_create(&th[nth++], NULL, pong_flooder, NULL);
    for (long i = 0; i < datas; i++)
        pthread_create(&th[nth++], NULL, data_flooder, NULL);

    int fd = ws_client(port_arg);
    if (fd < 0) {
        fprintf(stderr, "attack flood: the probe could not connect\n");
        flood_stop = 1;
        return 1;
    }
    set_timeouts(fd, 3000);
    usleep(300000); /* let the floods get going */
    static uint64_t rtt[MAX_SECONDS * 100];
    size_t probes = 0, lost = 0;
    uint64_t end = now_us() + (uint64_t)seconds * 1000000u;
    while (now_us() < end && probes < sizeof rtt / sizeof rtt[0]) {
        char text[32];
        int tl = snprintf(text, sizeof text, "probe %zu", probes);
        uint8_t frame[64], echo[64];
        size_t fl = client_frame(frame, 1, (const uint8_t *)text, (size_t)tl), el = 0;
        uint64_t t0 = now_us();
        if (send_all(fd, frame, fl) < 0 || read_frame(fd, echo, sizeof echo, &el) != 1 ||
            el != (size_t)tl || memcmp(echo, text, el)) {
            lost++;
            break;
        }
        rtt[probes++] = now_us() - t0;
        usleep(10000);
    }
    flood_stop = 1;
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    close(fd);
    if (!probes) {
        printf("flood: no probe was echoed\n");
        return 1;
    }
    qsort(rtt, probes, sizeof rtt[0], cmp_u64);
    double p50 = (double)rtt[probes / 2] / 1000, p99 = (double)rtt[probes * 99 / 100] / 1000,
           max = (double)rtt[probes - 1] / 1000;
    printf("flood: %ld pong flooder(s) sent %.1f MB (%.0f pongs/s), %ld data flooder(s) %.1f MB; "
           "probe: %zu echoes, %zu lost, round trip p50 %.2f ms, p99 %.2f ms, max %.2f ms "
           "(limit %ld ms)\n",
           pongs, (double)pong_bytes / 1e6, (double)pong_bytes / 6 / (double)seconds, datas,
           (double)data_bytes / 1e6, probes, lost, p50, p99, max, max_latency);
    return lost == 0 && max <= (double)max_latency ? 0 : 1;
}

/* ------------------------------------------------------------ hold */

static int mode_hold(int argc, char **argv)
{
    long count = 200, hold_ms = 3000;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--connections"))
            count = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--hold-ms"))
            hold_ms = atol(argv[i + 1]);
    }
    if (count < 1 || count > 10000 || hold_ms < 0 || hold_ms > MAX_SECONDS * 1000)
        return 2;
    struct pollfd *pf = calloc((size_t)count, sizeof *pf);
    if (!pf)
        return 2;
    long opened = 0, ended = 0;
    for (long i = 0; i < count; i++) {
        pf[i].fd = tcp_connect(port_arg);
        pf[i].events = POLLIN;
        if (pf[i].fd >= 0)
            opened++;
    }
    printf("hold: %ld of %ld connections made\n", opened, count);
    fflush(stdout);
    uint64_t end = now_us() + (uint64_t)hold_ms * 1000u;
    while (now_us() < end) {
        int wait = (int)((end - now_us()) / 1000) + 1;
        if (poll(pf, (nfds_t)count, wait) <= 0)
            continue;
        for (long i = 0; i < count; i++) {
            if (pf[i].fd < 0 || !pf[i].revents)
                continue;
            char b[256];
            ssize_t r = recv(pf[i].fd, b, sizeof b, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                close(pf[i].fd);
                pf[i].fd = -1;
                ended++;
            }
        }
    }
    for (long i = 0; i < count; i++)
        if (pf[i].fd >= 0)
            close(pf[i].fd);
    printf("hold: the server ended %ld of them within %ld ms\n", ended, hold_ms);
    free(pf);
    return 0;
}

/* ------------------------------------------------------------ echo */

static int mode_echo(int argc, char **argv)
{
    long timeout_ms = 10000;
    for (int i = 0; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--timeout-ms"))
            timeout_ms = atol(argv[i + 1]);
    uint64_t end = now_us() + (uint64_t)timeout_ms * 1000u;
    int attempts = 0;
    do {
        attempts++;
        int fd = ws_client(port_arg);
        if (fd >= 0) {
            static const char text[] = "still here";
            uint8_t frame[64], echo[64];
            size_t fl = client_frame(frame, 1, (const uint8_t *)text, sizeof text - 1), el = 0;
            int ok = send_all(fd, frame, fl) == 0 && read_frame(fd, echo, sizeof echo, &el) == 1 &&
                     el == sizeof text - 1 && !memcmp(echo, text, el);
            close(fd);
            if (ok) {
                printf("echo: answered (attempt %d)\n", attempts);
                return 0;
            }
        }
        usleep(100000);
    } while (now_us() < end);
    printf("echo: no answer in %ld ms (%d attempts)\n", timeout_ms, attempts);
    return 1;
}

/* ------------------------------------------------------------ servers */

static int listen_any(void)
{
    int fd = net_listen("attack", "127.0.0.1", "0", 0, 64);
    if (fd < 0)
        exit(2);
    net_set_nonblocking(fd); /* net_listen made it non-blocking; accept polls */
    char name[64];
    net_local_name(fd, name, sizeof name);
    printf("listening on ws://%s/\n", name);
    fflush(stdout);
    return fd;
}

static int accept_one(int lfd, int ms)
{
    struct pollfd pf = {lfd, POLLIN, 0};
    if (poll(&pf, 1, ms) <= 0)
        return -1;
    return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

static int answer_close;

/* Serves one client of flood-server. */
static void *flood_client(void *arg)
{
    int fd = (int)(intptr_t)arg;
    int close_seen = 0, close_sent = 0;
    set_timeouts(fd, 5000);
    char head[8192];
    size_t n = 0;
    while (n < sizeof head - 1) {
        ssize_t r = recv(fd, head + n, 1, 0);
        if (r <= 0)
            goto out;
        n++;
        if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
            break;
    }
    head[n] = '\0';
    const char *k = strcasestr(head, "\r\nSec-WebSocket-Key:");
    if (!k)
        goto out;
    k += 20;
    while (*k == ' ')
        k++;
    size_t kl = strcspn(k, "\r");
    char accept[29], resp[256];
    if (ws6455_accept_key(k, kl, accept) < 0)
        goto out;
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                      accept);
    if (send_all(fd, resp, (size_t)rl) < 0)
        goto out;
    /* 16 KiB binary frames, for ever; the client's close frame is read and
     * ignored. */
    static uint8_t frame[4 + 16384];
    frame[0] = 0x82;
    frame[1] = 126;
    frame[2] = 0x40;
    frame[3] = 0x00;
    memset(frame + 4, 'f', 16384);
    net_set_nonblocking(fd);
    size_t off = 0;
    uint64_t end = now_us() + (uint64_t)MAX_SECONDS * 1000000u;
    while (now_us() < end) {
        struct pollfd pf = {fd, POLLIN | POLLOUT, 0};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        if (pf.revents & POLLIN) {
            uint8_t sink[4096];
            ssize_t r = recv(fd, sink, sizeof sink, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                break;
            /* The client sends nothing but its close frame. */
            if (r > 0 && (sink[0] & 0x0f) == 0x8)
                close_seen = 1;
        }
        if (pf.revents & (POLLERR | POLLHUP))
            break;
        if (answer_close && close_seen && !close_sent && off == 0) {
            static const uint8_t close_1000[4] = {0x88, 0x02, 0x03, 0xe8};
            struct pollfd wp = {fd, POLLOUT, 0};
            while (poll(&wp, 1, 1000) > 0 && send(fd, close_1000, 4, MSG_NOSIGNAL) != 4)
                ;
            close_sent = 1; /* and on with the flood: data after the close */
        }
        if (pf.revents & POLLOUT) {
            ssize_t w = send(fd, frame + off, sizeof frame - off, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                break;
            if (w > 0)
                off = (off + (size_t)w) % sizeof frame;
        }
    }
out:
    close(fd);
    return NULL;
}

static int mode_flood_server(void)
{
    int lfd = listen_any();
    uint64_t end = now_us() + (uint64_t)MAX_SECONDS * 1000000u;
    while (now_us() < end) {
        int fd = accept_one(lfd, 500);
        if (fd < 0)
            continue;
        pthread_t t;
        if (pthread_create(&t, NULL, flood_client, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
    return 0;
}

static int mode_silent(void)
{
    int lfd = listen_any();
    int held[256], n = 0;
    uint64_t end = now_us() + (uint64_t)MAX_SECONDS * 1000000u;
    while (now_us() < end) {
        int fd = accept_one(lfd, 500);
        if (fd >= 0 && n < 256)
            held[n++] = fd; /* and never a byte */
        else if (fd >= 0)
            close(fd);
    }
    while (n)
        close(held[--n]);
    return 0;
}

static int mode_full_backlog(void)
{
    int lfd = net_listen("attack", "127.0.0.1", "0", 0, 0);
    if (lfd < 0)
        return 2;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(lfd, (struct sockaddr *)&ss, &sl) < 0)
        return 2;
    /* Backlog 0 queues one connection (two on some kernels); a few more
     * non-blocking connects make sure the queue is full and the rest of
     * the SYNs are being dropped. */
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fill[i] >= 0)
            (void)connect(fill[i], (struct sockaddr *)&ss, sl);
    }
    usleep(200 * 1000);
    char name[64];
    net_local_name(lfd, name, sizeof name);
    printf("listening on ws://%s/\n", name);
    fflush(stdout);
    sleep(MAX_SECONDS);
    for (int i = 0; i < 4; i++)
        if (fill[i] >= 0)
            close(fill[i]);
    close(lfd);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    alarm(MAX_SECONDS + 30); /* whatever happens, this process ends */
    if (argc >= 2 && !strcmp(argv[1], "flood-server")) {
        answer_close = argc >= 3 && !strcmp(argv[2], "--answer-close");
        return mode_flood_server();
    }
    if (argc >= 2 && !strcmp(argv[1], "silent"))
        return mode_silent();
    if (argc >= 2 && !strcmp(argv[1], "full-backlog"))
        return mode_full_backlog();
    if (argc < 3 || (port_arg = atoi(argv[2])) <= 0 || port_arg > 65535) {
        fprintf(stderr, "usage: attack nonreader|flood|hold|echo PORT [options]\n"
                        "       attack flood-server|silent|full-backlog\n");
        return 2;
    }
    if (!strcmp(argv[1], "nonreader"))
        return mode_nonreader(argc - 3, argv + 3);
    if (!strcmp(argv[1], "flood"))
        return mode_flood(argc - 3, argv + 3);
    if (!strcmp(argv[1], "hold"))
        return mode_hold(argc - 3, argv + 3);
    if (!strcmp(argv[1], "echo"))
        return mode_echo(argc - 3, argv + 3);
    fprintf(stderr, "attack: unknown mode %s\n", argv[1]);
    return 2;
}
