/*
 * loadgen_e2e — the load generator of `make bench-e2e`: closed-loop echo
 * load on any WebSocket echo server over loopback, with latency, server CPU
 * and server syscalls per message.
 *
 *   loadgen_e2e --port P [--host 127.0.0.1] [--connections 100] [--size 16]
 *               [--depth 1] [--binary] [--warmup 1] [--seconds 5]
 *               [--server-pid PID] [--syscalls] [--label NAME]
 *   loadgen_e2e --port P --idle N [--hold SECONDS]
 *
 * Why it is cheap enough not to be the bottleneck:
 *  - one thread, one level-triggered epoll set, non-blocking sockets;
 *  - its own client-side framing, no library: every connection has a frame
 *    built and masked once (fixed mask key per connection); sending a
 *    message is a memcpy of that frame plus 8 timestamp bytes XORed with
 *    the key;
 *  - per readable event exactly one recv() (into one shared 256 KiB
 *    buffer, never "read until EAGAIN") and at most one send() carrying
 *    one new message per echo just received;
 *  - one clock read per event; latencies go into a fixed log-linear
 *    histogram (1.6 % resolution), no allocation while running.
 * Its own CPU use over the measured window is printed (gen_util), next to
 * the server's (server_util): when gen_util is near 1 and server_util is
 * not, the numbers measure the generator, and the run script says so.
 *
 * Each connection keeps --depth messages in flight: every echo received is
 * answered by one new message. A message's payload starts with its send
 * time (8 characters, 6 bits each, so text stays ASCII), followed by a
 * fixed filler; every echo is checked (opcode, length, filler, timestamp)
 * and any mismatch fails the run.
 *
 * Measured window: messages whose echo arrives between the end of the
 * warm-up and the end of the run. Server CPU is utime+stime of
 * /proc/PID/stat (all threads) read at both ends of the window. With
 * --syscalls, `perf stat` counts the server's syscall tracepoints during
 * exactly that window (started disabled, switched with --control): a
 * separate run is advised, because counting costs the server time.
 *
 * Prints one line "result key=value ..." on standard output; exit status
 * 0 only when every connection opened and every echo was correct.
 *
 * --idle N opens N connections (handshake only, at most 128 opening at a
 * time), prints "idle open N", then holds them for --hold seconds (default
 * 3600) or until killed: the idle-memory benchmark (idle_rss.sh).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TS_CHARS 8 /* send time in the first 8 payload bytes */
#define RBUF_SIZE ((size_t)256 << 10)
#define HANDSHAKE_MAX 1024 /* the 101 response must fit in this */
#define OPENING_WINDOW 128 /* connections in connect/handshake at once */
#define OPEN_TIMEOUT_NS 30000000000ull
#define MAX_EVENTS 512

/* The RFC 6455 sample key and its accept value (section 1.3). */
#define CLIENT_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define CLIENT_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* ------------------------------------------------------------ options */

typedef struct options {
    const char *host;
    int port;
    long connections;
    size_t size;
    long depth;
    int binary;
    double warmup, seconds;
    long server_pid;
    int syscalls;
    const char *label;
    long idle;
    double hold;
} options;

static void usage(FILE *f)
{
    fprintf(f, "usage: loadgen_e2e --port P [options]\n"
               "  --host ADDR        server address (default 127.0.0.1)\n"
               "  --connections N    connections (default 100)\n"
               "  --size BYTES       payload bytes per message, 8..65535 (default 16)\n"
               "  --depth N          messages in flight per connection (default 1)\n"
               "  --binary           binary messages (default text)\n"
               "  --warmup S         seconds before the measured window (default 1)\n"
               "  --seconds S        measured seconds (default 5)\n"
               "  --server-pid PID   read the server's CPU time from /proc/PID/stat\n"
               "  --syscalls         count the server's syscalls with perf (needs --server-pid)\n"
               "  --label NAME       copied into the result line\n"
               "  --idle N           open N idle connections and hold them\n"
               "  --hold S           with --idle: seconds to hold (default 3600)\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){"127.0.0.1", 0, 100, 16, 1, 0, 1.0, 5.0, 0, 0, "", 0, 3600.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long n;
        int bad = 0;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--binary")) {
            o->binary = 1;
            continue;
        } else if (!strcmp(a, "--syscalls")) {
            o->syscalls = 1;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i]; /* every other option takes a value */
        if (!strcmp(a, "--host")) {
            o->host = v;
        } else if (!strcmp(a, "--label")) {
            o->label = v;
        } else if (!strcmp(a, "--port")) {
            bad = parse_long(v, 1, 65535, &n);
            o->port = (int)n;
        } else if (!strcmp(a, "--connections")) {
            bad = parse_long(v, 1, 1000000, &o->connections);
        } else if (!strcmp(a, "--size")) {
            bad = parse_long(v, TS_CHARS, 65535, &n);
            o->size = (size_t)n;
        } else if (!strcmp(a, "--depth")) {
            bad = parse_long(v, 1, 4096, &o->depth);
        } else if (!strcmp(a, "--warmup")) {
            bad = parse_double(v, 0, 3600, &o->warmup);
        } else if (!strcmp(a, "--seconds")) {
            bad = parse_double(v, 0.01, 3600, &o->seconds);
        } else if (!strcmp(a, "--server-pid")) {
            bad = parse_long(v, 1, 1L << 30, &o->server_pid);
        } else if (!strcmp(a, "--idle")) {
            bad = parse_long(v, 1, 1000000, &o->idle);
        } else if (!strcmp(a, "--hold")) {
            bad = parse_double(v, 0, 1e7, &o->hold);
        } else {
            return -1;
        }
        if (bad)
            return -1;
    }
    if (!o->port || (o->syscalls && !o->server_pid))
        return -1;
    /* Everything a connection may have in flight must fit in one read. */
    if ((size_t)o->depth * (o->size + 14) > RBUF_SIZE / 2)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ time, CPU */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* utime + stime of every thread of pid, in seconds; -1 when unreadable. */
static double proc_cpu_seconds(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may hold spaces and parentheses: fields are counted
     * from the last ')'. utime and stime are fields 14 and 15. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut, st;
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Busy CPU-seconds of the whole machine (every process, interrupts and
 * steal), for telling whether something else ran during the window. */
static double machine_busy_seconds(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return -1;
    /* user nice system idle iowait irq softirq steal: all but idle, iowait */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------ histogram */

/* Log-linear: values below 128 ns exact, then 64 buckets per power of two
 * (at most 1/64 = 1.6 % wide), up to 2^41 ns. */
#define HIST_SUB 64
#define HIST_BUCKETS (HIST_SUB * 37)

static uint64_t hist[HIST_BUCKETS];
static uint64_t hist_count, hist_max;

static void hist_add(uint64_t v)
{
    size_t idx;
    if (v < 2 * HIST_SUB) {
        idx = (size_t)v;
    } else {
        int msb = 63 - __builtin_clzll(v);
        int shift = msb - 6;
        idx = (size_t)shift * HIST_SUB + (size_t)(v >> shift);
        if (idx >= HIST_BUCKETS)
            idx = HIST_BUCKETS - 1;
    }
    hist[idx]++;
    hist_count++;
    if (v > hist_max)
        hist_max = v;
}

/* The middle of the bucket holding the q-quantile. */
static double hist_quantile(double q)
{
    if (!hist_count)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)hist_count);
    if (rank >= hist_count)
        rank = hist_count - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen > rank) {
            if (i < 2 * HIST_SUB)
                return (double)i;
            size_t shift = i / HIST_SUB - 1;
            uint64_t low = (uint64_t)(i - shift * HIST_SUB) << shift;
            return (double)low + (double)((uint64_t)1 << shift) / 2;
        }
    }
    return (double)hist_max;
}

/* ------------------------------------------------------------ perf */

/* `perf stat` attached to the server, started disabled; switched on and
 * off through --control pipes so it counts exactly the measured window. */
typedef struct perf_run {
    pid_t pid;
    int ctl_w, ack_r;
    char out[64];
} perf_run;

static const char *const syscall_names[] = {
    "read",         "write",     "readv",          "writev",     "recvfrom",
    "sendto",       "recvmsg",   "sendmsg",        "epoll_wait", "epoll_pwait",
    "epoll_pwait2", "epoll_ctl", "io_uring_enter", "futex",
};
#define N_SYSCALLS (sizeof syscall_names / sizeof syscall_names[0])
static int syscall_present[N_SYSCALLS];
static double syscall_count[N_SYSCALLS];
static double syscall_total = -1;

static int perf_start(perf_run *pr, long pid)
{
    char events[2048] = "raw_syscalls:sys_enter";
    for (size_t i = 0; i < N_SYSCALLS; i++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/kernel/tracing/events/syscalls/sys_enter_%s",
                 syscall_names[i]);
        if (access(path, F_OK) == 0) {
            syscall_present[i] = 1;
            size_t len = strlen(events);
            snprintf(events + len, sizeof events - len, ",syscalls:sys_enter_%s", syscall_names[i]);
        }
    }
    int ctl[2], ack[2];
    if (pipe(ctl) < 0 || pipe(ack) < 0)
        return -1;
    snprintf(pr->out, sizeof pr->out, "/tmp/loadgen_e2e.perf.%ld", (long)getpid());
    char pidstr[32], control[64];
    snprintf(pidstr, sizeof pidstr, "%ld", pid);
    snprintf(control, sizeof control, "fd:%d,%d", ctl[0], ack[1]);
    pr->pid = fork();
    if (pr->pid < 0)
        return -1;
    if (pr->pid == 0) {
        close(ctl[1]);
        close(ack[0]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2); /* "Events enabled" chatter */
        execlp("perf", "perf", "stat", "-x,", "-e", events, "-p", pidstr, "-D", "-1", "--control",
               control, "-o", pr->out, (char *)NULL);
        _exit(127);
    }
    close(ctl[0]);
    close(ack[1]);
    pr->ctl_w = ctl[1];
    pr->ack_r = ack[0];
    return 0;
}

/* Sends "enable" or "disable" and waits (up to 5 s) for perf's ack. */
static int perf_command(perf_run *pr, const char *cmd)
{
    if (write(pr->ctl_w, cmd, strlen(cmd)) < 0)
        return -1;
    struct pollfd pf = {.fd = pr->ack_r, .events = POLLIN};
    if (poll(&pf, 1, 5000) != 1)
        return -1;
    char ack[16];
    return read(pr->ack_r, ack, sizeof ack) > 0 ? 0 : -1;
}

static void perf_finish(perf_run *pr)
{
    kill(pr->pid, SIGINT);
    int st;
    waitpid(pr->pid, &st, 0);
    close(pr->ctl_w);
    close(pr->ack_r);
    FILE *f = fopen(pr->out, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        /* CSV: count,unit,event,... ; "<not counted>" when nothing ran. */
        char *c1 = strchr(line, ',');
        char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
        if (line[0] == '#' || !c3)
            continue;
        *c1 = 0;
        *c3 = 0;
        double v = line[0] == '<' ? 0 : strtod(line, NULL);
        const char *ev = c2 + 1;
        if (!strcmp(ev, "raw_syscalls:sys_enter"))
            syscall_total = v;
        for (size_t i = 0; i < N_SYSCALLS; i++)
            if (!strncmp(ev, "syscalls:sys_enter_", 19) && !strcmp(ev + 19, syscall_names[i]))
                syscall_count[i] = v;
    }
    fclose(f);
    unlink(pr->out);
}

/* ------------------------------------------------------------ connections */

enum { ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_DEAD };

typedef struct conn {
    int fd;
    int state;
    uint32_t events; /* what epoll watches */
    uint8_t mask[4];
    uint8_t *frame; /* this connection's masked message, built once */
    uint8_t *pend;  /* the start of an incomplete frame (or of the 101) */
    size_t pend_len;
    uint8_t *out; /* bytes the socket did not take yet (rare) */
    size_t out_len, out_cap;
} conn;

typedef struct gen {
    options o;
    int epfd;
    conn *conns;
    long n_conns, n_open, n_opening, next_to_start;
    size_t hdr_out, frame_out; /* client frame: header bytes, total bytes */
    size_t hdr_in, frame_in;   /* server frame */
    uint8_t in_hdr[4];
    uint8_t *plain; /* the unmasked payload template */
    uint8_t *rbuf, *wbuf;
    uint64_t base; /* timestamps are relative to this */
    int measuring, stopping;
    uint64_t window_msgs, total_msgs;
    long failures;
    char req[512];
    size_t req_len;
} gen;

static void failf(gen *g, long idx, const char *why)
{
    if (++g->failures <= 5)
        fprintf(stderr, "loadgen_e2e: connection %ld: %s\n", idx, why);
}

static void watch(gen *g, conn *c, uint32_t ev)
{
    if (c->events == ev)
        return;
    struct epoll_event e = {.events = ev, .data.u64 = (uint64_t)(c - g->conns)};
    if (epoll_ctl(g->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
        c->events = ev;
}

static void kill_conn(gen *g, conn *c)
{
    if (c->state == ST_DEAD)
        return;
    if (c->state != ST_OPEN)
        g->n_opening--;
    else
        g->n_open--;
    c->state = ST_DEAD;
    epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
}

static int start_conn(gen *g, long idx)
{
    conn *c = &g->conns[idx];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g->o.port)};
    if (inet_pton(AF_INET, g->o.host, &sa.sin_addr) != 1) {
        fprintf(stderr, "loadgen_e2e: --host must be an IPv4 address\n");
        exit(2);
    }
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("loadgen_e2e: socket");
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        perror("loadgen_e2e: connect");
        close(c->fd);
        return -1;
    }
    c->state = ST_CONNECTING;
    c->events = EPOLLOUT;
    struct epoll_event e = {.events = EPOLLOUT, .data.u64 = (uint64_t)idx};
    if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) {
        perror("loadgen_e2e: epoll_ctl");
        close(c->fd);
        return -1;
    }
    g->n_opening++;
    return 0;
}

static void start_more(gen *g)
{
    while (g->next_to_start < g->n_conns && g->n_opening < OPENING_WINDOW) {
        long idx = g->next_to_start++;
        if (start_conn(g, idx) < 0) {
            g->conns[idx].state = ST_DEAD;
            g->failures++;
        }
    }
}

/* Builds connection idx's masked frame: header, key, payload XOR key. */
static void build_frame(gen *g, conn *c, long idx)
{
    /* Any key will do; a different one per connection. */
    uint32_t k = (uint32_t)idx * 2654435761u ^ 0x5bd1e995u;
    for (int i = 0; i < 4; i++)
        c->mask[i] = (uint8_t)(k >> (8 * i));
    uint8_t *f = c->frame;
    f[0] = (uint8_t)(0x80 | (g->o.binary ? 2 : 1));
    size_t h;
    if (g->o.size < 126) {
        f[1] = (uint8_t)(0x80 | g->o.size);
        h = 2;
    } else {
        f[1] = 0x80 | 126;
        f[2] = (uint8_t)(g->o.size >> 8);
        f[3] = (uint8_t)g->o.size;
        h = 4;
    }
    memcpy(f + h, c->mask, 4);
    for (size_t i = 0; i < g->o.size; i++)
        f[g->hdr_out + i] = g->plain[i] ^ c->mask[i & 3];
}

/* Appends one message stamped `t` to dst; returns the bytes written. */
static size_t put_message(const gen *g, const conn *c, uint8_t *dst, uint64_t t)
{
    memcpy(dst, c->frame, g->frame_out);
    uint8_t *p = dst + g->hdr_out;
    for (int i = 0; i < TS_CHARS; i++)
        p[i] = (uint8_t)('0' + ((t >> (6 * i)) & 63)) ^ c->mask[i & 3];
    return g->frame_out;
}

/* Sends len bytes of g->wbuf (or queues them behind earlier output). */
static void send_bytes(gen *g, conn *c, long idx, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    if (!c->out_len) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            failf(g, idx, strerror(errno));
            kill_conn(g, c);
            return;
        }
        done = n > 0 ? (size_t)n : 0;
    }
    if (done == len)
        return;
    if (c->out_len + len - done > c->out_cap) {
        size_t cap = (c->out_len + len - done) * 2;
        uint8_t *p = realloc(c->out, cap);
        if (!p) {
            failf(g, idx, "out of memory");
            kill_conn(g, c);
            return;
        }
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, buf + done, len - done);
    c->out_len += len - done;
    watch(g, c, EPOLLIN | EPOLLOUT);
}

static void flush_out(gen *g, conn *c, long idx)
{
    ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            failf(g, idx, strerror(errno));
            kill_conn(g, c);
        }
        return;
    }
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (size_t)n;
    if (!c->out_len)
        watch(g, c, EPOLLIN);
}

static void send_messages(gen *g, conn *c, long idx, long count, uint64_t now)
{
    uint64_t t = now - g->base;
    size_t len = 0;
    for (long i = 0; i < count; i++)
        len += put_message(g, c, g->wbuf + len, t);
    send_bytes(g, c, idx, g->wbuf, len);
}

/* One echo: checks it, records its latency. 0, or -1 when it is wrong. */
static int take_echo(gen *g, const uint8_t *payload, uint64_t now)
{
    uint64_t t = 0;
    for (int i = 0; i < TS_CHARS; i++) {
        unsigned v = (unsigned)payload[i] - '0';
        if (v > 63)
            return -1;
        t |= (uint64_t)v << (6 * i);
    }
    if (memcmp(payload + TS_CHARS, g->plain + TS_CHARS, g->o.size - TS_CHARS))
        return -1;
    uint64_t rel = now - g->base;
    if (t > rel)
        return -1;
    if (g->measuring)
        hist_add(rel - t);
    return 0;
}

/* Parses whole echoes at p[0..len); returns how many, or -1. *used gets
 * the bytes they took. */
static long parse_echoes(gen *g, const uint8_t *p, size_t len, size_t *used, uint64_t now)
{
    long count = 0;
    size_t off = 0;
    while (len - off >= g->frame_in) {
        if (memcmp(p + off, g->in_hdr, g->hdr_in))
            return -1;
        if (take_echo(g, p + off + g->hdr_in, now) < 0)
            return -1;
        off += g->frame_in;
        count++;
    }
    /* What is left must be the start of the next expected frame. */
    size_t head = len - off < g->hdr_in ? len - off : g->hdr_in;
    if (memcmp(p + off, g->in_hdr, head))
        return -1;
    *used = off;
    return count;
}

static void on_open(gen *g, conn *c)
{
    c->state = ST_OPEN;
    g->n_opening--;
    g->n_open++;
    watch(g, c, EPOLLIN);
}

/* The 101 response: accumulated in pend until its blank line. */
static void handshake_read(gen *g, conn *c, long idx)
{
    ssize_t n = recv(c->fd, c->pend + c->pend_len, HANDSHAKE_MAX - c->pend_len, 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        failf(g, idx, n ? strerror(errno) : "closed during the handshake");
        kill_conn(g, c);
        return;
    }
    c->pend_len += (size_t)n;
    uint8_t *end = memmem(c->pend, c->pend_len, "\r\n\r\n", 4);
    if (!end) {
        if (c->pend_len == HANDSHAKE_MAX) {
            failf(g, idx, "handshake response too long");
            kill_conn(g, c);
        }
        return;
    }
    size_t head = (size_t)(end - c->pend) + 4;
    if (c->pend_len < 13 || memcmp(c->pend, "HTTP/1.1 101", 12) ||
        !memmem(c->pend, head, CLIENT_ACCEPT, strlen(CLIENT_ACCEPT))) {
        failf(g, idx, "not a 101 with the right Sec-WebSocket-Accept");
        kill_conn(g, c);
        return;
    }
    /* Nothing may follow: no message was sent yet. */
    if (c->pend_len != head) {
        failf(g, idx, "bytes after the 101");
        kill_conn(g, c);
        return;
    }
    c->pend_len = 0;
    on_open(g, c);
}

static void connected(gen *g, conn *c, long idx)
{
    int err = 0;
    socklen_t sl = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
    if (err) {
        failf(g, idx, strerror(err));
        kill_conn(g, c);
        return;
    }
    /* The request is small; a fresh socket takes it whole. */
    if (send(c->fd, g->req, g->req_len, MSG_NOSIGNAL) != (ssize_t)g->req_len) {
        failf(g, idx, "could not send the request");
        kill_conn(g, c);
        return;
    }
    c->state = ST_HANDSHAKE;
    watch(g, c, EPOLLIN);
}

static void echo_read(gen *g, conn *c, long idx)
{
    /* An incomplete frame from the last read goes first. */
    memcpy(g->rbuf, c->pend, c->pend_len);
    ssize_t n = recv(c->fd, g->rbuf + c->pend_len, RBUF_SIZE - c->pend_len, 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        failf(g, idx, n ? strerror(errno) : "server closed the connection");
        kill_conn(g, c);
        return;
    }
    uint64_t now = now_ns();
    size_t len = c->pend_len + (size_t)n, used = 0;
    long count = parse_echoes(g, g->rbuf, len, &used, now);
    if (count < 0) {
        failf(g, idx, "wrong echo");
        kill_conn(g, c);
        return;
    }
    c->pend_len = len - used;
    memcpy(c->pend, g->rbuf + used, c->pend_len);
    g->total_msgs += (uint64_t)count;
    if (g->measuring)
        g->window_msgs += (uint64_t)count;
    if (count && !g->stopping)
        send_messages(g, c, idx, count, now);
}

static void conn_event(gen *g, long idx, uint32_t ev)
{
    conn *c = &g->conns[idx];
    switch (c->state) {
    case ST_CONNECTING:
        connected(g, c, idx);
        break;
    case ST_HANDSHAKE:
        handshake_read(g, c, idx);
        break;
    case ST_OPEN:
        if ((ev & EPOLLOUT) && c->out_len)
            flush_out(g, c, idx);
        if (c->state == ST_OPEN && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            echo_read(g, c, idx);
        break;
    default:
        break;
    }
    if (c->state == ST_DEAD)
        start_more(g);
}

static int poll_once(gen *g, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(g->epfd, evs, MAX_EVENTS, timeout_ms);
    if (n < 0 && errno != EINTR) {
        perror("loadgen_e2e: epoll_wait");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        long idx = (long)evs[i].data.u64;
        int was_open = g->conns[idx].state == ST_OPEN;
        conn_event(g, idx, evs[i].events);
        if (!was_open && g->conns[idx].state == ST_OPEN)
            start_more(g);
    }
    return 0;
}

/* Opens every connection; 0 when all are OPEN. */
static int open_all(gen *g)
{
    uint64_t deadline = now_ns() + OPEN_TIMEOUT_NS;
    start_more(g);
    while (g->n_open + g->failures < g->n_conns) {
        if (now_ns() > deadline) {
            fprintf(stderr, "loadgen_e2e: %ld of %ld connections open after %llu s\n", g->n_open,
                    g->n_conns, OPEN_TIMEOUT_NS / 1000000000ull);
            return -1;
        }
        if (poll_once(g, 100) < 0)
            return -1;
    }
    return g->failures ? -1 : 0;
}

static int ms_until(uint64_t t)
{
    uint64_t now = now_ns();
    if (now >= t)
        return 0;
    uint64_t ms = (t - now + 999999) / 1000000;
    return ms > 100 ? 100 : (int)ms;
}

/* Politely ends every connection: a masked close frame (1000), then close. */
static void close_all(gen *g)
{
    static const uint8_t close_frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
    for (long i = 0; i < g->n_conns; i++) {
        conn *c = &g->conns[i];
        if (c->state == ST_OPEN && !c->out_len)
            (void)send(c->fd, close_frame, sizeof close_frame, MSG_NOSIGNAL);
        kill_conn(g, c);
    }
}

static int gen_init(gen *g, const options *o, long n_conns)
{
    memset(g, 0, sizeof *g);
    g->o = *o;
    g->n_conns = n_conns;
    g->hdr_out = (o->size < 126 ? 2 : 4) + 4;
    g->frame_out = g->hdr_out + o->size;
    g->hdr_in = o->size < 126 ? 2 : 4;
    g->frame_in = g->hdr_in + o->size;
    g->in_hdr[0] = (uint8_t)(0x80 | (o->binary ? 2 : 1));
    if (o->size < 126) {
        g->in_hdr[1] = (uint8_t)o->size;
    } else {
        g->in_hdr[1] = 126;
        g->in_hdr[2] = (uint8_t)(o->size >> 8);
        g->in_hdr[3] = (uint8_t)o->size;
    }
    g->plain = malloc(o->size);
    g->rbuf = malloc(RBUF_SIZE);
    g->wbuf = malloc((size_t)o->depth * g->frame_out + RBUF_SIZE / g->frame_in * g->frame_out);
    g->conns = calloc((size_t)n_conns, sizeof *g->conns);
    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!g->plain || !g->rbuf || !g->wbuf || !g->conns || g->epfd < 0)
        return -1;
    /* Filler: printable ASCII that varies, so a shifted echo shows. */
    for (size_t i = 0; i < o->size; i++)
        g->plain[i] = (uint8_t)('a' + (i * 7) % 26);
    size_t pend_cap = g->frame_in > HANDSHAKE_MAX ? g->frame_in : HANDSHAKE_MAX;
    for (long i = 0; i < n_conns; i++) {
        conn *c = &g->conns[i];
        c->fd = -1;
        c->state = ST_DEAD;
        c->frame = malloc(g->frame_out);
        c->pend = malloc(pend_cap);
        if (!c->frame || !c->pend)
            return -1;
        build_frame(g, c, i);
    }
    g->req_len = (size_t)snprintf(g->req, sizeof g->req,
                                  "GET / HTTP/1.1\r\n"
                                  "Host: %s:%d\r\n"
                                  "Upgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: " CLIENT_KEY "\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"
                                  "\r\n",
                                  o->host, o->port);
    return 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int run_idle(gen *g)
{
    if (open_all(g) < 0)
        return 1;
    printf("idle open %ld\n", g->n_open);
    fflush(stdout);
    uint64_t end = now_ns() + (uint64_t)(g->o.hold * 1e9);
    while (now_ns() < end) {
        /* Idle servers send nothing; anything that arrives is drained. */
        struct epoll_event evs[MAX_EVENTS];
        int n = epoll_wait(g->epfd, evs, MAX_EVENTS, ms_until(end) > 0 ? 1000 : 0);
        for (int i = 0; i < n; i++) {
            conn *c = &g->conns[evs[i].data.u64];
            if (recv(c->fd, g->rbuf, RBUF_SIZE, 0) == 0) {
                failf(g, (long)evs[i].data.u64, "closed by the server while idle");
                kill_conn(g, c);
            }
        }
    }
    return g->failures ? 1 : 0;
}

static int run_load(gen *g)
{
    const options *o = &g->o;
    perf_run pr = {.pid = -1};
    if (o->syscalls && perf_start(&pr, o->server_pid) < 0) {
        perror("loadgen_e2e: perf");
        return 1;
    }
    if (open_all(g) < 0)
        return 1;

    g->base = now_ns();
    for (long i = 0; i < g->n_conns; i++)
        send_messages(g, &g->conns[i], i, o->depth, g->base);
    uint64_t w0 = g->base + (uint64_t)(o->warmup * 1e9);
    uint64_t w1 = w0 + (uint64_t)(o->seconds * 1e9);
    while (now_ns() < w0 && g->n_open == g->n_conns)
        if (poll_once(g, ms_until(w0)) < 0)
            return 1;

    if (o->syscalls && perf_command(&pr, "enable\n") < 0)
        fprintf(stderr, "loadgen_e2e: perf did not acknowledge enable\n");
    double srv0 = o->server_pid ? proc_cpu_seconds(o->server_pid) : -1;
    double self0 = self_cpu_seconds();
    double busy0 = machine_busy_seconds();
    uint64_t t0 = now_ns();
    g->measuring = 1;
    while (now_ns() < w1 && g->n_open == g->n_conns)
        if (poll_once(g, ms_until(w1)) < 0)
            return 1;
    g->measuring = 0;
    uint64_t t1 = now_ns();
    double srv1 = o->server_pid ? proc_cpu_seconds(o->server_pid) : -1;
    double self1 = self_cpu_seconds();
    double busy1 = machine_busy_seconds();
    if (o->syscalls) {
        if (perf_command(&pr, "disable\n") < 0)
            fprintf(stderr, "loadgen_e2e: perf did not acknowledge disable\n");
        perf_finish(&pr);
    }
    g->stopping = 1;
    close_all(g);

    double secs = (double)(t1 - t0) / 1e9;
    double msgs = (double)g->window_msgs;
    printf("result label=%s size=%zu depth=%ld connections=%ld binary=%d seconds=%.3f msgs=%.0f "
           "msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f gen_util=%.3f "
           "gen_cpu_us_per_msg=%.3f",
           o->label[0] ? o->label : "-", o->size, o->depth, g->n_conns, o->binary, secs, msgs,
           msgs / secs, hist_quantile(0.50) / 1e3, hist_quantile(0.99) / 1e3,
           hist_quantile(0.999) / 1e3, (double)hist_max / 1e3, (self1 - self0) / secs,
           msgs > 0 ? (self1 - self0) * 1e6 / msgs : 0);
    if (srv0 >= 0 && srv1 >= 0)
        printf(" server_util=%.3f server_cpu_us_per_msg=%.3f", (srv1 - srv0) / secs,
               msgs > 0 ? (srv1 - srv0) * 1e6 / msgs : 0);
    /* What ran besides the server and the generator, in CPUs. */
    if (srv0 >= 0 && srv1 >= 0 && busy0 >= 0 && busy1 >= 0)
        printf(" other_util=%.3f", ((busy1 - busy0) - (srv1 - srv0) - (self1 - self0)) / secs);
    if (o->syscalls && syscall_total >= 0) {
        printf(" syscalls_per_msg=%.3f", msgs > 0 ? syscall_total / msgs : 0);
        for (size_t i = 0; i < N_SYSCALLS; i++)
            if (syscall_present[i] && syscall_count[i] > 0)
                printf(" sc_%s=%.3f", syscall_names[i], syscall_count[i] / msgs);
    }
    printf(" failures=%ld\n", g->failures);
    fflush(stdout);
    if (g->failures || g->window_msgs == 0) {
        fprintf(stderr, "loadgen_e2e: %s\n",
                g->failures ? "some connections failed" : "no echo in the measured window");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    gen g;
    if (gen_init(&g, &o, o.idle ? o.idle : o.connections) < 0) {
        fprintf(stderr, "loadgen_e2e: out of memory\n");
        return 1;
    }
    return o.idle ? run_idle(&g) : run_load(&g);
}
