/*
 * chat_server — chat rooms over WebSocket, one process or several joined
 * through Redis. One port serves the browser page over plain HTTP at / and
 * WebSocket at /chat.
 *
 *   chat_server [--host 127.0.0.1] [--port 9002] [--page FILE] [--verbose]
 *               [--redis HOST:PORT [--node-ttl MS] [--redis-queue BYTES]]
 *               [--close-timeout MS] [--ping-interval MS] [--deflate...]
 *
 * What it demonstrates:
 *  - embedding ws6455 in an HTTP server of your own (chat_http.c parses
 *    the request, ws6455_conn_accept_upgrade() checks the RFC 6455 rules,
 *    on_request refuses foreign Origins);
 *  - a server whose cost per message does not grow with idle connections:
 *    one ws6455_context, rooms with member lists (chat_hub.c), events built
 *    once and queued as one frame (ws6455_send_message), output written once
 *    per loop iteration for the connections that got some (on_output),
 *    deadlines in a heap (chat_timers.c);
 *  - scaling out: with --redis, several chat_server processes behind a
 *    load balancer share rooms, user lists and names through Redis
 *    (chat_cluster.c; docs/examples.md);
 *  - the loop contract: fair reads (a read budget), members that stop
 *    reading closed by a deadline the engine announces, calm when out of
 *    descriptors, SIGINT/SIGTERM: close 1001 to everyone.
 *
 * The protocol is JSON text messages:
 *   client: {"type":"join","room":"r","name":"n"}   {"type":"message","text":"..."}
 *   server: {"type":"users","room":"r","users":["a","b"]} to who joined;
 *           {"type":"join","room":"r","name":"n"}, {"type":"message","room":"r",
 *           "name":"n","text":"..."}, {"type":"leave","room":"r","name":"n"}
 *           to everyone else in the room; {"type":"error","error":"..."}.
 */
#define _GNU_SOURCE
#include "chat_server.h"

#include "chat_log.h"
#include "deflate_opts.h"
#include "net.h"
#ifdef CHAT_WITH_REDIS
#include "chat_cluster.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAGE (1u << 20)
#define ACCEPT_PAUSE_MS 250u
#define SHUTDOWN_MS 2000u

#define CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static chat_server srv;

/* ---- peers */

void chat_peer_watch(peer *p, uint32_t events)
{
    if (events == p->events)
        return;
    p->events = events;
    chat_loop_mod(&p->srv->loop, p->fd, &p->watch, events);
}

void chat_peer_free(peer *p, int reset)
{
    chat_server *s = p->srv;
    if (p->kind == PEER_WS) {
        chat_ws_peer_free(p);
        chat_logv("socket closed %s%s", p->addr, reset ? " (reset: unsent output dropped)" : "");
    }
    chat_http_free(p);
    chat_timers_cancel(&s->loop.timers, &p->timer);
    chat_loop_del(&s->loop, p->fd);
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(p->fd);
    if (p->prev)
        p->prev->next = p->next;
    else
        s->peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    s->npeers--;
    free(p);
}

static void peer_event(chat_watch *w, uint32_t events)
{
    peer *p = (peer *)w;
    if (p->kind == PEER_WS)
        chat_ws_event(p, events);
    else
        chat_http_event(p, events);
}

static void peer_timer(chat_timer *t, uint64_t now)
{
    (void)now;
    peer *p = CONTAINER(t, peer, timer);
    if (p->kind == PEER_WS)
        chat_ws_timer(p);
    else
        chat_http_timer(p);
}

/* ---- accepting, and running out of descriptors */

static struct {
    int fd;
    chat_watch watch;
    chat_timer resume;
    int reserve;  /* a descriptor kept in hand for when the table is full */
    int starved;  /* logged "out of descriptors", not yet "accepting again" */
    uint64_t refused;
} lsn;

static void new_peer(chat_server *s, int fd, const struct sockaddr_storage *ss, socklen_t sl)
{
    peer *p = calloc(1, sizeof *p);
    if (!p) {
        close(fd);
        return;
    }
    net_set_nodelay(fd);
    char host[64] = "?", serv[8] = "?";
    getnameinfo((const struct sockaddr *)ss, sl, host, sizeof host, serv, sizeof serv,
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(p->addr, sizeof p->addr, "%s:%s", host, serv);
    p->watch.on_event = peer_event;
    p->srv = s;
    p->fd = fd;
    p->events = EPOLLIN;
    chat_timer_init(&p->timer, peer_timer);
    if (chat_loop_add(&s->loop, fd, &p->watch, EPOLLIN) < 0) {
        close(fd);
        free(p);
        return;
    }
    p->next = s->peers;
    if (s->peers)
        s->peers->prev = p;
    s->peers = p;
    s->npeers++;
    chat_http_start(p);
}

/* The descriptor table is full. Level-triggered epoll would report the
 * listening socket again at once, for ever (a busy loop that also logs in a
 * loop): instead give up the reserve descriptor, accept the waiting
 * connection and close it at once (the client sees it refused, not
 * hanging), and take the reserve back. Without a reserve, stop listening
 * for a moment. Logged once per episode. */
static int out_of_descriptors(chat_server *s, int err)
{
    if (!lsn.starved) {
        lsn.starved = 1;
        chat_warn("out of file descriptors (%s) with %zu connections: refusing new ones until "
                  "some close",
                  strerror(err), s->npeers);
    }
    if (lsn.reserve >= 0) {
        close(lsn.reserve);
        lsn.reserve = -1;
        int fd = accept4(lsn.fd, NULL, NULL, SOCK_CLOEXEC);
        int again = fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (fd >= 0) {
            close(fd);
            lsn.refused++;
        }
        lsn.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
        /* (accept4 fails with EMFILE before it looks for a connection, so
         * an empty backlog shows only now, as EAGAIN.) */
        if (lsn.reserve >= 0 && (fd >= 0 || again))
            return fd >= 0; /* go on while connections wait */
    }
    chat_loop_mod(&s->loop, lsn.fd, &lsn.watch, 0);
    chat_timers_set(&s->loop.timers, &lsn.resume, s->loop.now + ACCEPT_PAUSE_MS);
    return 0;
}

static void on_listen(chat_watch *w, uint32_t events)
{
    (void)w;
    (void)events;
    chat_server *s = &srv;
    for (int budget = 256; budget > 0; budget--) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lsn.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (out_of_descriptors(s, errno))
                    continue;
            }
            return;
        }
        if (lsn.starved && lsn.reserve >= 0) {
            lsn.starved = 0;
            chat_warn("accepting connections again (%llu refused meanwhile)",
                      (unsigned long long)lsn.refused);
            lsn.refused = 0;
        }
        new_peer(s, fd, &ss, sl);
    }
}

static void on_listen_resume(chat_timer *t, uint64_t now)
{
    (void)t;
    (void)now;
    if (lsn.reserve < 0)
        lsn.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (!srv.stopping)
        chat_loop_mod(&srv.loop, lsn.fd, &lsn.watch, EPOLLIN);
}

/* ---- signals and shutdown */

static struct {
    int fd;
    chat_watch watch;
    chat_timer begin, end;
} sig;

static void on_signal(chat_watch *w, uint32_t events)
{
    (void)w;
    (void)events;
    struct signalfd_siginfo si;
    while (read(sig.fd, &si, sizeof si) == sizeof si)
        ;
    if (srv.stopping)
        return;
    /* Going away: close 1001 to every chat client, SHUTDOWN_MS for replies.
     * From a timer, after this batch of events (which may name peers). */
    srv.stopping = 1;
    chat_timers_set(&srv.loop.timers, &sig.begin, srv.loop.now);
}

static void on_shutdown_begin(chat_timer *t, uint64_t now)
{
    (void)t;
    chat_loop_del(&srv.loop, lsn.fd);
    for (peer *p = srv.peers, *next; p; p = next) {
        next = p->next;
        if (p->kind == PEER_HTTP)
            chat_peer_free(p, 0);
    }
    chat_ws_going_away(&srv);
    chat_timers_set(&srv.loop.timers, &sig.end, now + SHUTDOWN_MS);
}

static void on_shutdown_end(chat_timer *t, uint64_t now)
{
    (void)t;
    (void)now;
    while (srv.peers)
        chat_peer_free(srv.peers, 0);
}

/* ---- start-up */

static int load_page(chat_server *s)
{
    const char *path = s->opt.page ? s->opt.page : "examples/chat/index.html";
    FILE *f = fopen(path, "rb");
    char alt[4096];
    if (!f && !s->opt.page) {
        /* Not run from the source tree: try next to the binary
         * (build/examples/chat_server -> examples/chat/index.html). */
        char exe[2048];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            snprintf(alt, sizeof alt, "%s/../../examples/chat/index.html", dirname(exe));
            path = alt;
            f = fopen(path, "rb");
        }
    }
    if (!f) {
        chat_warn("cannot open %s: %s (use --page FILE)", path, strerror(errno));
        return -1;
    }
    s->page = malloc(MAX_PAGE);
    s->page_len = s->page ? fread(s->page, 1, MAX_PAGE, f) : 0;
    fclose(f);
    return s->page ? 0 : -1;
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "Chat rooms: the page over HTTP at /, WebSocket at /chat, one port.\n"
            "  --host ADDR          address to listen on (default 127.0.0.1)\n"
            "  --port PORT          port (default 9002; 0 picks a free one)\n"
            "  --page FILE          page served at / (default examples/chat/index.html)\n"
            "  --redis HOST:PORT    share rooms with other chat_server processes through Redis%s\n"
            "  --node-ttl MS        with --redis: a node that stops is dropped after this\n"
            "                       (+ at most 2/3 of it; default %u)\n"
            "  --redis-queue BYTES  with --redis: bytes waiting for Redis before messages for\n"
            "                       other servers are dropped (default %zu)\n"
            "  --close-timeout MS   closing handshake and draining a closed connection, each\n"
            "                       (default 5000)\n"
            "  --ping-interval MS   keepalive ping after this much silence, 0: off (default 30000)\n"
            "  --verbose            log requests, joins, leaves and closes\n",
            argv0,
#ifdef CHAT_WITH_REDIS
            "",
#else
            " (not built in: no hiredis)",
#endif
            10000u, (size_t)8 << 20);
    deflate_opts_usage(f);
    fprintf(f, "                       (off by default: each member's copy of a broadcast is\n"
               "                       then compressed for it, instead of the shared frame)\n"
               "  --help               this text\n");
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

static int parse_args(chat_options *o, int argc, char **argv)
{
    ws6455_config defaults;
    ws6455_config_init(&defaults, WS6455_ROLE_SERVER);
    *o = (chat_options){.host = "127.0.0.1",
                        .port = "9002",
                        .close_timeout_ms = 5000,
                        .ping_interval_ms = 30000,
                        .deflate = defaults.deflate};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        int deflate = deflate_opts_parse(&o->deflate, argc, argv, &i);
        if (deflate < 0)
            return -1;
        if (deflate)
            continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0]);
            exit(0);
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(a, "--host"))
            o->host = v;
        else if (!strcmp(a, "--port"))
            o->port = v;
        else if (!strcmp(a, "--page"))
            o->page = v;
        else if (!strcmp(a, "--redis"))
            o->redis = v;
        else if (!strcmp(a, "--node-ttl") && !parse_u64(v, &n) && n >= 300)
            o->node_ttl_ms = n;
        else if (!strcmp(a, "--redis-queue") && !parse_u64(v, &n) && n >= 4096)
            o->redis_queue = (size_t)n;
        else if (!strcmp(a, "--close-timeout") && !parse_u64(v, &n) && n > 0)
            o->close_timeout_ms = n;
        else if (!strcmp(a, "--ping-interval") && !parse_u64(v, &n))
            o->ping_interval_ms = n;
        else
            return -1;
    }
    return 0;
}

/* --redis HOST:PORT (or [v6]:PORT): the cluster and the hub's view of it. */
static int start_cluster(chat_server *s, chat_cluster_if *ci)
{
#ifdef CHAT_WITH_REDIS
    static char host[256];
    const char *r = s->opt.redis, *colon = strrchr(r, ':');
    uint64_t port;
    if (!colon || colon == r || (size_t)(colon - r) >= sizeof host ||
        parse_u64(colon + 1, &port) || !port || port > 65535) {
        chat_warn("--redis wants HOST:PORT, got %s", r);
        return -1;
    }
    if (r[0] == '[' && colon[-1] == ']')
        snprintf(host, sizeof host, "%.*s", (int)(colon - r - 2), r + 1);
    else
        snprintf(host, sizeof host, "%.*s", (int)(colon - r), r);
    chat_cluster_config cfg = {host, (int)port, s->opt.node_ttl_ms, s->opt.redis_queue, 0};
    s->cluster = chat_cluster_new(&cfg, &s->loop);
    if (!s->cluster) {
        chat_warn("cannot set up the Redis link");
        return -1;
    }
    chat_cluster_get_if(s->cluster, ci);
    return 0;
#else
    (void)s;
    (void)ci;
    chat_warn("--redis: this chat_server was built without hiredis (install libhiredis-dev and "
              "run make examples again)");
    return -1;
#endif
}

int main(int argc, char **argv)
{
    chat_server *s = &srv;
    if (parse_args(&s->opt, argc, argv) < 0) {
        usage(stderr, argv[0]);
        return 2;
    }
    if (deflate_opts_check("chat_server", &s->opt.deflate) < 0)
        return 2;
    chat_log_set_verbose(s->opt.verbose);
    if (load_page(s) < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    if (chat_loop_init(&s->loop) < 0) {
        chat_warn("epoll: %s", strerror(errno));
        return 1;
    }
    uint8_t key[16];
    chat_cluster_if ci;
    if (chat_random(key, sizeof key) < 0 || chat_ws_init(s) < 0 ||
        (s->opt.redis && start_cluster(s, &ci) < 0))
        return 1;
    chat_sink sink;
    chat_ws_sink(s, &sink);
    s->hub = chat_hub_new(&sink, s->opt.redis ? &ci : NULL, key);
    if (!s->hub)
        return 1;

    lsn.fd = net_listen("chat_server", s->opt.host, s->opt.port, 0, 1024);
    if (lsn.fd < 0)
        return 1;
    lsn.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    lsn.watch.on_event = on_listen;
    chat_timer_init(&lsn.resume, on_listen_resume);
    chat_loop_add(&s->loop, lsn.fd, &lsn.watch, EPOLLIN);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    sig.fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    sig.watch.on_event = on_signal;
    chat_timer_init(&sig.begin, on_shutdown_begin);
    chat_timer_init(&sig.end, on_shutdown_end);
    chat_loop_add(&s->loop, sig.fd, &sig.watch, EPOLLIN);

#ifdef CHAT_WITH_REDIS
    if (s->cluster) {
        chat_cluster_set_hub(s->cluster, s->hub);
        chat_cluster_start(s->cluster);
    }
#endif
    char shown[96];
    net_local_name(lsn.fd, shown, sizeof shown);
    printf("listening on http://%s/ (WebSocket at ws://%s/chat)\n", shown, shown);
    fflush(stdout);

    while (!(s->stopping && !s->peers)) {
        if (chat_loop_run_once(&s->loop, -1) < 0) {
            chat_warn("epoll_wait: %s", strerror(errno));
            break;
        }
        chat_ws_flush(s);
    }

#ifdef CHAT_WITH_REDIS
    if (s->cluster) {
        /* Members have left (their leave events are queued): say goodbye
         * and give Redis a moment to take it all. */
        chat_cluster_goodbye(s->cluster);
        uint64_t end = chat_clock_ms() + 1000;
        while (!chat_cluster_idle(s->cluster) && chat_clock_ms() < end)
            chat_loop_run_once(&s->loop, 50);
        chat_cluster_free(s->cluster);
    }
#endif
    chat_hub_free(s->hub);
    chat_ws_free(s);
    close(lsn.fd);
    if (lsn.reserve >= 0)
        close(lsn.reserve);
    close(sig.fd);
    chat_loop_close(&s->loop);
    free(s->page);
    return 0;
}
