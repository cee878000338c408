/*
 * chat_load — many chat clients on ws6455's client role against one or
 * more chat_server nodes: every client joins a room, waits until the
 * cluster-wide user lists are complete, then senders post numbered,
 * timestamped messages and every receiver checks that each message of its
 * room arrives exactly once and in order per sender.
 *
 *   chat_load --url ws://127.0.0.1:P1/chat [--url ...]... [--clients 10000]
 *             [--rooms 100] [--senders-per-room N] [--messages 1] [--rate 5000]
 *             [--idle N] [--server-pid PID]... [--timeout-ms 120000]
 *
 * Clients go round-robin over the URLs; client i is "u<i>" in room
 * "room-<i % rooms>". --idle N adds N clients that join other rooms and
 * stay silent (for the cost-per-message benchmark). --server-pid: report
 * the CPU time those processes used during the message phase, per message
 * (from /proc/PID/schedstat). Prints messages/s, deliveries/s and latency
 * percentiles; exit status 0 only when every check passed.
 */
#define _GNU_SOURCE
#include "net.h" /* examples/net.h */

#include <errno.h>
#include <inttypes.h>
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

#define MAX_URLS 8
#define MAX_PIDS 8

typedef struct client {
    int fd, index, room, url;
    int idle;
    ws6455_conn *ws;
    uint32_t events;
    int open, joined, users, closed, failed;
    uint32_t *next_seq; /* per sender slot of the room: next sequence number due */
    uint32_t sent;
} client;

static long nclients = 10000, nrooms = 100, senders_per_room = -1, messages = 1, rate = 5000,
            nidle = 0, timeout_ms = 120000;
static long room_size;
static client *clients;
static int epfd;
static int nurls;
static ws6455_context *ctx[MAX_URLS];
static struct addrinfo *addr[MAX_URLS];
static pid_t pids[MAX_PIDS];
static int npids;

static int closing; /* phase 3: how connections end no longer counts */
static long opened, joined_count, complete_lists, deliveries, expected_deliveries, bad, errors,
            failures, closed_count;
static uint32_t *lat;
static size_t nlat;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    FILE *f = fopen(path, "r");
    unsigned long long ns = 0;
    if (f) {
        if (fscanf(f, "%llu", &ns) != 1)
            ns = 0;
        fclose(f);
    }
    return ns;
}

static uint64_t servers_cpu_ns(void)
{
    uint64_t sum = 0;
    for (int i = 0; i < npids; i++)
        sum += cpu_ns(pids[i]);
    return sum;
}

static void fail(client *c, const char *why)
{
    failures++;
    if (failures <= 10)
        fprintf(stderr, "chat_load: client %d: %s\n", c->index, why);
}

static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    return net_recv(((client *)user)->fd, buf, cap);
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    return net_send(((client *)user)->fd, buf, len);
}

static void on_open(ws6455_conn *w, const char *sp, void *user)
{
    (void)sp;
    client *c = user;
    c->open = 1;
    opened++;
    char buf[128];
    int n = c->idle ? snprintf(buf, sizeof buf,
                               "{\"type\":\"join\",\"room\":\"idle-%d\",\"name\":\"i%d\"}",
                               c->room, c->index)
                    : snprintf(buf, sizeof buf,
                               "{\"type\":\"join\",\"room\":\"room-%d\",\"name\":\"u%d\"}",
                               c->room, c->index);
    ws6455_send_text(w, buf, (size_t)n);
}

/* A client's list is complete when it holds the whole room. */
static void set_users(client *c, int n)
{
    int was = !c->idle && c->joined && c->users == room_size;
    c->users = n;
    int now = !c->idle && c->joined && c->users == room_size;
    complete_lists += now - was;
}

static int count_users(const uint8_t *p, size_t n)
{
    const char *a = memmem(p, n, "\"users\":[", 9);
    if (!a)
        return -1;
    a += 9;
    const char *end = (const char *)p + n;
    if (a < end && *a == ']')
        return 0;
    int k = 1;
    for (; a < end && *a != ']'; a++)
        if (*a == ',')
            k++;
    return k;
}

static void on_message(ws6455_conn *w, int opcode, const uint8_t *data, size_t len, void *user)
{
    (void)w;
    (void)opcode;
    client *c = user;
    uint64_t t = now_us();
    if (len > 12 && !memcmp(data, "{\"type\":\"mes", 12)) {
        const char *tx = memmem(data, len, "\"text\":\"s", 9);
        long from;
        unsigned long seq;
        unsigned long long sent_at;
        if (!tx || sscanf(tx + 9, "%ld %lu %llu", &from, &seq, &sent_at) != 3 || from < 0 ||
            from >= nclients || from % nrooms != c->room || from == c->index || c->idle) {
            bad++;
            fail(c, "a message from outside its room, from itself, or garbled");
            return;
        }
        uint32_t *next = &c->next_seq[from / nrooms];
        if (seq != *next) {
            bad++;
            char why[96];
            snprintf(why, sizeof why, "from u%ld got #%lu, expected #%u (lost, repeated or reordered)",
                     from, seq, *next);
            fail(c, why);
            *next = (uint32_t)seq + 1;
            return;
        }
        (*next)++;
        deliveries++;
        if (nlat < (size_t)expected_deliveries && t >= sent_at)
            lat[nlat++] = (uint32_t)(t - sent_at > UINT32_MAX ? UINT32_MAX : t - sent_at);
    } else if (len > 12 && !memcmp(data, "{\"type\":\"use", 12)) {
        if (!c->joined)
            joined_count++;
        c->joined = 1;
        set_users(c, count_users(data, len));
    } else if (len > 12 && !memcmp(data, "{\"type\":\"joi", 12)) {
        set_users(c, c->users + 1);
    } else if (len > 12 && !memcmp(data, "{\"type\":\"lea", 12)) {
        set_users(c, c->users - 1);
    } else {
        errors++;
        char why[200];
        snprintf(why, sizeof why, "unexpected event %.*s", (int)(len > 150 ? 150 : len), data);
        fail(c, why);
    }
}

static void on_close(ws6455_conn *w, int code, const char *reason, size_t len, void *user)
{
    (void)w;
    (void)reason;
    (void)len;
    client *c = user;
    c->closed = 1;
    closed_count++;
    if (!closing && code != 1000 && code != 1001) {
        char why[64];
        snprintf(why, sizeof why, "closed with %d", code);
        fail(c, why);
    }
}

static void settle(client *c)
{
    if (c->fd < 0)
        return;
    if (ws6455_conn_should_close_socket(c->ws)) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        return;
    }
    uint32_t ev = EPOLLIN;
    if (ws6455_conn_wants_write(c->ws))
        ev |= EPOLLOUT;
    if (ev != c->events) {
        struct epoll_event e = {.events = ev, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
        c->events = ev;
    }
}

static int start_client(client *c)
{
    struct addrinfo *ai = addr[c->url];
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("chat_load: socket");
        return -1;
    }
    net_set_nodelay(c->fd);
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        perror("chat_load: connect");
        return -1;
    }
    c->ws = ws6455_conn_new_in(ctx[c->url], c);
    if (!c->ws)
        return -1;
    ws6455_conn_tick(c->ws, now_us() / 1000);
    c->events = EPOLLIN | EPOLLOUT;
    struct epoll_event e = {.events = c->events, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e);
}

static void pump(int timeout)
{
    struct epoll_event evs[512];
    int n = epoll_wait(epfd, evs, 512, timeout);
    for (int i = 0; i < n; i++) {
        client *c = evs[i].data.ptr;
        int rc = WS6455_OK;
        if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            rc = ws6455_conn_on_writable(c->ws);
        if (rc != WS6455_ERR_IO && evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            rc = ws6455_conn_on_readable(c->ws);
        if (rc == WS6455_ERR_IO) {
            if (!c->failed && !c->closed)
                fail(c, "I/O error");
            c->failed = 1;
            ws6455_conn_abort(c->ws);
        }
        settle(c);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* A non-negative decimal argument, or -1. */
static long num(const char *v)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    return errno || end == v || *end || n < 0 ? -1 : n;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: chat_load --url ws://HOST:PORT/chat [--url ...] [--clients N] [--rooms N]\n"
               "       [--senders-per-room N] [--messages N] [--rate MSGS_PER_S] [--idle N]\n"
               "       [--server-pid PID]... [--timeout-ms MS]\n");
}

int main(int argc, char **argv)
{
    const char *urls[MAX_URLS];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--url") && num(v) < 0) {
            fprintf(stderr, "chat_load: %s wants a number, got %s\n", a, v);
            return 2;
        }
        if (!strcmp(a, "--url") && nurls < MAX_URLS)
            urls[nurls++] = v;
        else if (!strcmp(a, "--clients"))
            nclients = num(v);
        else if (!strcmp(a, "--rooms"))
            nrooms = num(v);
        else if (!strcmp(a, "--senders-per-room"))
            senders_per_room = num(v);
        else if (!strcmp(a, "--messages"))
            messages = num(v);
        else if (!strcmp(a, "--rate"))
            rate = num(v);
        else if (!strcmp(a, "--idle"))
            nidle = num(v);
        else if (!strcmp(a, "--timeout-ms"))
            timeout_ms = num(v);
        else if (!strcmp(a, "--server-pid") && npids < MAX_PIDS)
            pids[npids++] = (pid_t)num(v);
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!nurls || nclients < 2 || nrooms < 1 || nclients % nrooms || nclients / nrooms < 2 ||
        rate < 1 || timeout_ms < 1) {
        fprintf(stderr, "chat_load: need --url; --clients a multiple of --rooms with 2+ per room\n");
        return 2;
    }
    room_size = nclients / nrooms;
    if (senders_per_room < 0 || senders_per_room > room_size)
        senders_per_room = room_size;
    signal(SIGPIPE, SIG_IGN);
    long total = nclients + nidle;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)total + 64) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < (rlim_t)total + 64) {
            fprintf(stderr, "chat_load: RLIMIT_NOFILE %lu is too low for %ld clients\n",
                    (unsigned long)rl.rlim_cur, total);
            return 2;
        }
    }

    /* One context per URL: the Host header and target are the context's. */
    static char hs[MAX_URLS][300], target[MAX_URLS][1024];
    for (int u = 0; u < nurls; u++) {
        ws6455_url url;
        if (ws6455_url_parse(urls[u], strlen(urls[u]), &url) < 0 || url.secure) {
            fprintf(stderr, "chat_load: bad URL %s\n", urls[u]);
            return 2;
        }
        char host[256], port[8];
        net_url_host(&url, host, sizeof host);
        snprintf(port, sizeof port, "%u", (unsigned)url.port);
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        if (getaddrinfo(host, port, &hints, &addr[u])) {
            fprintf(stderr, "chat_load: cannot resolve %s\n", host);
            return 2;
        }
        ws6455_config cfg;
        ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
        ws6455_config_set_url(&cfg, &url, hs[u], sizeof hs[u], target[u], sizeof target[u]);
        cfg.flags |= WS6455_SHORT_READ_DRAINED;
        cfg.handshake_timeout_ms = 0; /* the overall timeout covers it */
        ws6455_callbacks cb;
        ws6455_callbacks_init(&cb);
        cb.read = io_read;
        cb.write = io_write;
        cb.on_open = on_open;
        cb.on_message = on_message;
        cb.on_close = on_close;
        ctx[u] = ws6455_context_new(&cfg, &cb);
        if (!ctx[u])
            return 1;
    }

    long senders = nrooms * senders_per_room;
    expected_deliveries = senders * messages * (room_size - 1);
    lat = malloc(((size_t)expected_deliveries + 1) * sizeof *lat);
    clients = calloc((size_t)total, sizeof *clients);
    uint32_t *seqs = calloc((size_t)nclients * (size_t)room_size, sizeof *seqs);
    if (!lat || !clients || !seqs)
        return 1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    for (long i = 0; i < total; i++) {
        client *c = &clients[i];
        c->index = (int)i;
        c->fd = -1;
        c->idle = i >= nclients;
        c->room = c->idle ? (int)(i % 100) : (int)(i % nrooms);
        c->url = (int)(i % nurls);
        c->next_seq = c->idle ? NULL : seqs + (size_t)i * (size_t)room_size;
    }

    uint64_t t0 = now_us(), deadline = t0 + (uint64_t)timeout_ms * 1000u;
    int ok = 1;
    /* Phase 1: connect (at most 500 handshakes at a time) and join. */
    long started = 0;
    while ((joined_count < total || complete_lists < nclients) && now_us() < deadline) {
        while (started < total && started - joined_count < 500) {
            if (start_client(&clients[started]) < 0)
                return 1;
            started++;
        }
        pump(10);
        if (failures)
            break;
    }
    uint64_t t_joined = now_us();
    printf("chat_load: %ld clients (+%ld idle) on %d node(s) in %ld rooms of %ld: connected and "
           "joined in %.2f s; joined %ld/%ld, complete user lists: %ld/%ld\n",
           nclients, nidle, nurls, nrooms, room_size, (double)(t_joined - t0) / 1e6,
           joined_count, total, complete_lists, nclients);
    if (complete_lists < nclients || joined_count < total)
        ok = 0;

    /* Phase 2: senders post their messages, paced at --rate, round robin. */
    uint64_t cpu0 = servers_cpu_ns(), t_send = now_us();
    long total_msgs = senders * messages, sent = 0, next_sender = 0;
    char buf[128];
    while (ok && (sent < total_msgs || deliveries + bad < expected_deliveries) &&
           now_us() < deadline) {
        uint64_t t = now_us();
        long due = (long)((double)(t - t_send) * (double)rate / 1e6) + 1;
        if (due > total_msgs)
            due = total_msgs;
        while (sent < due) {
            /* the senders are clients 0 .. senders-1: the first
             * senders_per_room members of every room */
            long k = next_sender;
            next_sender = (next_sender + 1) % senders;
            client *c = &clients[k];
            if (c->sent >= (uint32_t)messages)
                continue;
            int n = snprintf(buf, sizeof buf, "{\"type\":\"message\",\"text\":\"s%d %u %llu\"}",
                             c->index, c->sent, (unsigned long long)now_us());
            if (ws6455_send_text(c->ws, buf, (size_t)n) < 0) {
                fail(c, "send refused");
                ok = 0;
                break;
            }
            c->sent++;
            sent++;
            ws6455_conn_on_writable(c->ws);
            settle(c);
        }
        pump(sent < total_msgs ? 1 : 20);
    }
    uint64_t t_done = now_us(), cpu1 = servers_cpu_ns();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double secs = (double)(t_done - t_send) / 1e6;
    if (deliveries != expected_deliveries || bad || errors)
        ok = 0;
    /* every receiver got every message of every other sender of its room */
    long incomplete = 0;
    for (long i = 0; i < nclients; i++)
        for (long s = 0; s < senders_per_room; s++) {
            long from = s * nrooms + clients[i].room;
            if (from != i && clients[i].next_seq[s] != (uint32_t)messages)
                incomplete++;
        }
    if (incomplete)
        ok = 0;
    qsort(lat, nlat, sizeof *lat, cmp_u32);
    uint32_t p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(size_t)((double)nlat * 0.99)] : 0,
             pmax = nlat ? lat[nlat - 1] : 0;
    printf("chat_load: %ld messages from %ld senders, %ld/%ld deliveries (each exactly once, in "
           "order per sender), %ld missing receiver/sender pairs, %ld bad, %ld unexpected events\n",
           sent, senders, deliveries, expected_deliveries, incomplete, bad, errors);
    printf("chat_load: %.0f messages/s, %.0f deliveries/s over %.2f s; latency p50 %.2f ms, p99 "
           "%.2f ms, max %.2f ms\n",
           secs > 0 ? (double)sent / secs : 0.0, secs > 0 ? (double)deliveries / secs : 0.0, secs,
           p50 / 1000.0, p99 / 1000.0, pmax / 1000.0);
    printf("chat_load: this client used %.1f s of CPU in all\n",
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    if (npids && sent)
        printf("chat_load: server CPU %.1f ms for %ld messages: %.2f us per message (%.3f us per "
               "delivery)\n",
               (double)(cpu1 - cpu0) / 1e6, sent, (double)(cpu1 - cpu0) / 1e3 / (double)sent,
               deliveries ? (double)(cpu1 - cpu0) / 1e3 / (double)deliveries : 0.0);

    /* Phase 3: close 1000 everywhere, briefly wait for the replies. */
    closing = 1;
    for (long i = 0; i < total; i++)
        if (clients[i].ws && clients[i].fd >= 0) {
            ws6455_close(clients[i].ws, 1000, NULL, 0);
            ws6455_conn_on_writable(clients[i].ws);
            settle(&clients[i]);
        }
    uint64_t end = now_us() + 3000000;
    while (closed_count < total && now_us() < end)
        pump(20);
    for (long i = 0; i < total; i++) {
        ws6455_conn_free(clients[i].ws);
        if (clients[i].fd >= 0)
            close(clients[i].fd);
    }
    for (int u = 0; u < nurls; u++) {
        ws6455_context_free(ctx[u]);
        freeaddrinfo(addr[u]);
    }
    free(clients);
    free(seqs);
    free(lat);
    close(epfd);
    if (failures)
        ok = 0;
    printf("chat_load: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
