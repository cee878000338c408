/* What the echo servers share; see echo_common.h. */
#define _GNU_SOURCE
#include "echo_common.h"
#include "deflate_opts.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ options */

static void usage(FILE *f, const char *argv0, unsigned extra, const char *what)
{
    fprintf(f,
            "usage: %s [options]\n"
            "%s\n"
            "  --host ADDR          address to listen on (default 127.0.0.1)\n"
            "  --port PORT          port to listen on (default 9001; 0 picks a free one)\n",
            argv0, what);
    if (extra & ECHO_OPT_THREADS)
        fprintf(f, "  --threads N          N event loops on SO_REUSEPORT sockets (default 1)\n");
    if (extra & ECHO_OPT_IO_URING)
        fprintf(f, "  --io-uring           io_uring instead of epoll (falls back to epoll,\n"
                   "                       with a message, where io_uring is unavailable)\n");
    fprintf(f,
            "  --max-message BYTES  largest message accepted (default 16777216)\n"
            "  --idle-timeout MS    ping a client silent for MS, drop it when still\n"
            "                       silent MS later (default 0: off)\n"
            "  --close-timeout MS   how long a closing handshake, and then sending what\n"
            "                       is left to a closed client, may take (default 5000)\n"
            "  --verbose            one line per connection open and close\n");
    deflate_opts_usage(f);
    fprintf(f, "  --help               this text\n");
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

/* One option (with its argument); 0 when taken, -1 when not or malformed. */
static int parse_one(int argc, char **argv, int *i, unsigned extra, echo_options *o)
{
    const char *a = argv[*i];
    const char *arg = *i + 1 < argc ? argv[*i + 1] : NULL;
    uint64_t v;
    if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
        o->verbose = 1;
        return 0;
    }
    if (!strcmp(a, "--io-uring") && (extra & ECHO_OPT_IO_URING)) {
        o->io_uring = 1;
        return 0;
    }
    int taken = deflate_opts_parse(&o->deflate, argc, argv, i);
    if (taken)
        return taken > 0 ? 0 : -1;
    if (!arg)
        return -1;
    ++*i;
    if (!strcmp(a, "--host")) {
        o->host = arg;
    } else if (!strcmp(a, "--port")) {
        if (parse_u64(arg, &v) || v > 65535)
            return -1;
        o->port = arg;
    } else if (!strcmp(a, "--threads") && (extra & ECHO_OPT_THREADS)) {
        if (parse_u64(arg, &v) || v < 1 || v > 256)
            return -1;
        o->threads = (int)v;
    } else if (!strcmp(a, "--max-message")) {
        if (parse_u64(arg, &v) || v < 1 || v > ((uint64_t)1 << 31))
            return -1;
        o->max_message = (size_t)v;
    } else if (!strcmp(a, "--idle-timeout")) {
        if (parse_u64(arg, &o->idle_timeout_ms))
            return -1;
    } else if (!strcmp(a, "--close-timeout")) {
        if (parse_u64(arg, &v) || v < 1)
            return -1;
        o->close_timeout_ms = v;
    } else {
        return -1;
    }
    return 0;
}

void echo_parse_options(int argc, char **argv, unsigned extra, const char *what,
                        echo_options *o)
{
    *o = (echo_options){.host = "127.0.0.1",
                        .port = "9001",
                        .threads = 1,
                        .max_message = WS6455_DEFAULT_MAX_MESSAGE_SIZE,
                        .close_timeout_ms = WS6455_DEFAULT_CLOSE_TIMEOUT_MS};
    ws6455_config defaults;
    ws6455_config_init(&defaults, WS6455_ROLE_SERVER);
    o->deflate = defaults.deflate;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout, argv[0], extra, what);
            exit(0);
        }
        if (parse_one(argc, argv, &i, extra, o) < 0) {
            usage(stderr, argv[0], extra, what);
            exit(2);
        }
    }
    const char *slash = strrchr(argv[0], '/');
    if (deflate_opts_check(slash ? slash + 1 : argv[0], &o->deflate) < 0)
        exit(2);
}

uint64_t echo_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ the engine */

void echo_config(const echo_options *o, ws6455_config *cfg)
{
    ws6455_config_init(cfg, WS6455_ROLE_SERVER);
    /* Plain TCP: a short read means the socket is drained, so a readable
     * event costs one recv(), not a second one to see EAGAIN. */
    cfg->flags |= WS6455_SHORT_READ_DRAINED;
    cfg->max_frame_size = o->max_message;
    cfg->max_message_size = o->max_message;
    /* One read per call: a client flooding frames gets one read's worth of
     * attention per turn of the loop, like everybody else. */
    cfg->read_buffer_size = ECHO_READ_SIZE;
    cfg->read_budget = ECHO_READ_SIZE;
    /* Reading stops once more than ECHO_HIGH_WATER is queued, and one read
     * can complete at most its own bytes' worth of frames plus one message
     * reassembled earlier (server frames are never longer than the masked
     * client frames they echo). So the queue never reaches this limit and
     * an echo is never refused: no message needs to be kept aside. */
    cfg->max_output_buffer = ECHO_HIGH_WATER + o->max_message + ECHO_READ_SIZE + 4096;
    cfg->ping_interval_ms = o->idle_timeout_ms;
    cfg->ping_timeout_ms = o->idle_timeout_ms;
    cfg->close_timeout_ms = o->close_timeout_ms;
    /* --deflate: an echo is compressed again, on its own, so its queued
     * size is what our compressor makes of it, not what the peer sent. A
     * peer that compresses much better than zlib does (or that refers to
     * earlier messages, with --deflate-client-takeover) can make one read's
     * echoes outgrow the bound above; such an echo is refused and the
     * connection closed with 1011 (echo_message). Bounded either way. */
    cfg->deflate = o->deflate;
}

int echo_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len)
{
    int rc = opcode == WS6455_OP_TEXT ? ws6455_send_text(c, (const char *)data, len)
                                      : ws6455_send_binary(c, data, len);
    /* CLOSED: our close (or the peer's) is out; nothing more is echoed. */
    if (rc < 0 && rc != WS6455_ERR_CLOSED)
        ws6455_close(c, 1011, "echo failed", 11);
    return ws6455_conn_buffered_amount(c) > ECHO_HIGH_WATER;
}

/* ------------------------------------------------------------ connections */

static atomic_uint_least32_t next_id = 1;

uint32_t echo_next_id(void)
{
    return (uint32_t)atomic_fetch_add(&next_id, 1);
}

static void heap_swap(echo_heap *h, size_t a, size_t b)
{
    echo_peer *t = h->v[a];
    h->v[a] = h->v[b];
    h->v[b] = t;
    h->v[a]->heap_index = (uint32_t)a;
    h->v[b]->heap_index = (uint32_t)b;
}

/* Restores the heap order around index i, in whichever direction. */
static void heap_fix(echo_heap *h, size_t i)
{
    while (i > 0 && h->v[(i - 1) / 2]->key > h->v[i]->key) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->len && h->v[l]->key < h->v[m]->key)
            m = l;
        if (r < h->len && h->v[r]->key < h->v[m]->key)
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

int echo_heap_push(echo_heap *h, echo_peer *p, uint64_t key)
{
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        echo_peer **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    p->key = key;
    p->heap_index = (uint32_t)h->len;
    h->v[h->len++] = p;
    heap_fix(h, p->heap_index);
    return 0;
}

void echo_heap_remove(echo_heap *h, echo_peer *p)
{
    size_t i = p->heap_index;
    h->len--;
    if (i != h->len) {
        h->v[i] = h->v[h->len];
        h->v[i]->heap_index = (uint32_t)i;
        heap_fix(h, i);
    }
}

void echo_heap_set(echo_heap *h, echo_peer *p, uint64_t key)
{
    if (key != p->key) {
        p->key = key;
        heap_fix(h, p->heap_index);
    }
}

void echo_heap_lower(echo_heap *h, echo_peer *p, uint64_t key)
{
    if (key < p->key)
        echo_heap_set(h, p, key);
}

uint64_t echo_heap_next(const echo_heap *h)
{
    return h->len ? h->v[0]->key : WS6455_NO_DEADLINE;
}

echo_peer *echo_heap_due(echo_heap *h, uint64_t now, uint64_t (*deadline_of)(echo_peer *))
{
    while (h->len && h->v[0]->key <= now) {
        echo_peer *p = h->v[0];
        uint64_t d = deadline_of(p);
        if (d <= now)
            return p;
        echo_heap_set(h, p, d); /* the key was early: the deadline moved on */
    }
    return NULL;
}

int echo_wait_ms(uint64_t deadline, uint64_t now)
{
    if (deadline == WS6455_NO_DEADLINE)
        return -1;
    if (deadline <= now)
        return 0;
    uint64_t wait = deadline - now;
    return wait > 60000 ? 60000 : (int)wait;
}

/* ------------------------------------------------------------ logging */

void echo_log(const echo_options *o, const char *fmt, ...)
{
    if (!o->verbose)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stdout, "%s\n", line);
    fflush(stdout);
}

void echo_log_open(const echo_options *o, const echo_peer *p)
{
    if (!o->verbose)
        return;
    char peer[64], pmd[128];
    net_peer_name(p->fd, peer, sizeof peer);
    if (ws6455_conn_deflate(p->conn, NULL))
        echo_log(o, "open #%lu %s %s", (unsigned long)p->id, peer,
                 deflate_opts_describe(p->conn, pmd, sizeof pmd));
    else
        echo_log(o, "open #%lu %s", (unsigned long)p->id, peer);
}

void echo_log_close(const echo_options *o, const echo_peer *p, int code, const char *reason,
                    size_t len)
{
    if (!o->verbose)
        return;
    size_t shown = 0;
    while (shown < len && (unsigned char)reason[shown] >= 0x20 && reason[shown] != 0x7f)
        shown++;
    char peer[64];
    net_peer_name(p->fd, peer, sizeof peer);
    echo_log(o, "close #%lu %s code=%d reason=\"%.*s\"", (unsigned long)p->id, peer, code,
             (int)shown, reason);
}

void echo_log_error(const echo_options *o, const echo_peer *p, int err)
{
    if (!o->verbose)
        return;
    char peer[64];
    net_peer_name(p->fd, peer, sizeof peer);
    echo_log(o, "error #%lu %s %s", (unsigned long)p->id, peer, ws6455_strerror(err));
}

/* ------------------------------------------------------------ descriptors */

int echo_reserve_open(echo_reserve *r, const char *prog)
{
    r->prog = prog;
    r->shed = 0;
    r->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        fprintf(stderr, "%s: reserve descriptor: %s\n", prog, strerror(errno));
    return r->fd < 0 ? -1 : 0;
}

void echo_reserve_close(echo_reserve *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

/* The first refusal of a burst is logged, the rest only counted. */
static void note_refusal(echo_reserve *r, const char *why)
{
    if (r->shed++ == 0)
        fprintf(stderr, "%s: cannot accept (%s): refusing new connections until descriptors "
                        "free up\n",
                r->prog, why);
}

int echo_reserve_shed(echo_reserve *r, int listen_fd, int err)
{
    if (err != EMFILE && err != ENFILE) {
        note_refusal(r, strerror(err)); /* ENOBUFS, ENOMEM...: wait a moment */
        return -1;
    }
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int aerr = errno;
    if (fd >= 0)
        close(fd);
    r->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 && (aerr == EAGAIN || aerr == EWOULDBLOCK))
        return r->fd >= 0 ? 0 : -1;
    note_refusal(r, strerror(err));
    /* Without the reserve back (another thread took the descriptor) the
     * next EMFILE could not be shed: back off instead. */
    return fd >= 0 && r->fd >= 0 ? 1 : -1;
}

void echo_reserve_ok(echo_reserve *r)
{
    if (r->shed) {
        fprintf(stderr, "%s: accepting again; %lu connection%s refused meanwhile\n", r->prog,
                r->shed, r->shed == 1 ? " was" : "s were");
        r->shed = 0;
    }
}
