/*
 * chat_cluster against a real Redis: three nodes (hub + cluster, recording
 * what their members receive) in one process and one loop, and a
 * redis-server this test starts, kills and restarts itself.
 *
 *   test_chat_cluster /usr/bin/redis-server
 *
 * Exit status 0 when every check passed. Bounded: every wait has a
 * deadline, the whole run takes about 10 s.
 */
#define _GNU_SOURCE
#include "chat_cluster.h"
#include "chat_hub.h"
#include "chat_log.h"
#include "chat_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static chat_loop loop;
static int failures;
static const char *redis_bin;
static int redis_port;
static pid_t redis_pid;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok   ");                                                                       \
        } else {                                                                                   \
            printf("FAIL ");                                                                       \
            failures++;                                                                            \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        putchar('\n');                                                                             \
        fflush(stdout);                                                                            \
    } while (0)

/* ---- members that remember what they got */

#define MAX_EVENTS 4096
typedef struct member {
    chat_member m;
    char who[32];
    char *ev[MAX_EVENTS];
    int nev, taken;
} member;

static void *prepare(void *ctx, const char *json, size_t len)
{
    (void)ctx;
    return strndup(json, len);
}

static void send_ev(void *ctx, void *user, void *prepared)
{
    (void)ctx;
    member *m = user;
    if (m->nev < MAX_EVENTS)
        m->ev[m->nev++] = strdup(prepared);
}

static void release(void *ctx, void *prepared)
{
    (void)ctx;
    free(prepared);
}

static const chat_sink sink = {prepare, send_ev, release, NULL};

typedef struct node {
    chat_cluster *cl;
    chat_hub *hub;
} node;

static void node_start(node *n, uint64_t ttl)
{
    chat_cluster_config cfg = {"127.0.0.1", redis_port, ttl, 0, 400};
    n->cl = chat_cluster_new(&cfg, &loop);
    chat_cluster_if ci;
    chat_cluster_get_if(n->cl, &ci);
    uint8_t key[16] = {0};
    n->hub = chat_hub_new(&sink, &ci, key);
    chat_cluster_set_hub(n->cl, n->hub);
    chat_cluster_start(n->cl);
}

static void member_init(member *m, const char *who)
{
    memset(m, 0, sizeof *m);
    snprintf(m->who, sizeof m->who, "%s", who);
    chat_member_init(&m->m, m, m->who);
}

static chat_str S(const char *s)
{
    chat_str x = {s, strlen(s)};
    return x;
}

/* Runs the loop until cond() or the deadline; returns cond(). */
typedef int (*cond_fn)(void *arg);
static int run_until(cond_fn cond, void *arg, uint64_t ms)
{
    uint64_t end = chat_clock_ms() + ms;
    while (!cond(arg) && chat_clock_ms() < end)
        chat_loop_run_once(&loop, 20);
    return cond(arg);
}

static void run_for(uint64_t ms)
{
    uint64_t end = chat_clock_ms() + ms;
    while (chat_clock_ms() < end)
        chat_loop_run_once(&loop, 20);
}

static int is_up(void *arg)
{
    return chat_cluster_is_up(((node *)arg)->cl);
}

static int all_up(void *arg)
{
    node *n = arg;
    return chat_cluster_is_up(n[0].cl) && chat_cluster_is_up(n[1].cl) && chat_cluster_is_up(n[2].cl);
}

/* Waiting for an event that contains a string, from where the member's
 * log was last taken. */
typedef struct want {
    member *m;
    const char *needle;
} want;

static int has_event(void *arg)
{
    want *w = arg;
    for (int i = w->m->taken; i < w->m->nev; i++)
        if (strstr(w->m->ev[i], w->needle))
            return 1;
    return 0;
}

static int wait_event(member *m, const char *needle, uint64_t ms)
{
    want w = {m, needle};
    return run_until(has_event, &w, ms);
}

/* Everything the member received since the last call, one per line. */
static const char *take(member *m)
{
    static char buf[1 << 16];
    buf[0] = '\0';
    for (; m->taken < m->nev; m->taken++) {
        strncat(buf, m->ev[m->taken], sizeof buf - strlen(buf) - 2);
        strcat(buf, "\n");
    }
    return buf;
}

static void member_free(member *m)
{
    for (int i = 0; i < m->nev; i++)
        free(m->ev[i]);
    m->nev = m->taken = 0;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- the Redis server */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static int redis_accepts(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)redis_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void redis_start(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    redis_pid = fork();
    if (redis_pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(redis_bin, redis_bin, "--port", port, "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no", "--protected-mode", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !redis_accepts(); i++)
        usleep(50000);
}

static void redis_kill(void)
{
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, NULL, 0);
    redis_pid = 0;
}

static void on_exit_kill(void)
{
    if (redis_pid > 0)
        redis_kill();
}

/* ---- the checks */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s /path/to/redis-server\n", argv[0]);
        return 2;
    }
    redis_bin = argv[1];
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    chat_log_set_verbose(getenv("VERBOSE") != NULL);
    redis_port = free_port();
    atexit(on_exit_kill);
    redis_start();
    if (!redis_accepts()) {
        printf("FAIL redis-server did not start on port %d\n", redis_port);
        return 1;
    }
    chat_loop_init(&loop);
    node n[3];
    const uint64_t ttl = 1000;
    for (int i = 0; i < 3; i++)
        node_start(&n[i], ttl);
    CHECK(run_until(all_up, n, 3000), "three nodes linked to Redis");

    member alice, bob, carol, zed_a, zed_b;
    member_init(&alice, "alice@A");
    member_init(&bob, "bob@B");
    member_init(&carol, "carol@B");
    chat_hub_join(n[0].hub, &alice.m, S("r"), S("alice"));
    CHECK(wait_event(&alice, "\"users\"", 2000), "alice gets users on A");
    take(&alice);
    chat_hub_join(n[1].hub, &bob.m, S("r"), S("bob"));
    CHECK(wait_event(&bob, "\"users\"", 2000) && strstr(bob.ev[0], "\"alice\"") &&
              strstr(bob.ev[0], "\"bob\""),
          "bob on B lists alice on A: %s", bob.nev ? bob.ev[0] : "-");
    CHECK(wait_event(&alice, "\"join\",\"room\":\"r\",\"name\":\"bob\"", 2000),
          "alice on A is told bob joined on B");
    take(&alice);
    take(&bob);

    /* names are unique across nodes: on the spot when the list shows it, and
     * by Redis when two nodes race for the same name */
    member alice2;
    member_init(&alice2, "alice@C");
    chat_hub_join(n[2].hub, &alice2.m, S("r"), S("alice"));
    CHECK(wait_event(&alice2, "name taken", 2000), "a second alice (on C) is refused");
    member_init(&zed_a, "zed@A");
    member_init(&zed_b, "zed@B");
    chat_hub_join(n[0].hub, &zed_a.m, S("r"), S("zed"));
    chat_hub_join(n[1].hub, &zed_b.m, S("r"), S("zed"));
    run_for(300);
    int ok_a = zed_a.nev && strstr(zed_a.ev[0], "\"users\""),
        ok_b = zed_b.nev && strstr(zed_b.ev[0], "\"users\"");
    CHECK(ok_a + ok_b == 1 && (ok_a ? zed_b.m.state : zed_a.m.state) == CHAT_OUTSIDE,
          "two nodes race for zed: exactly one wins (A %d, B %d)", ok_a, ok_b);
    chat_hub_leave(ok_a ? n[0].hub : n[1].hub, ok_a ? &zed_a.m : &zed_b.m);
    run_for(200);
    take(&alice);
    take(&bob);

    /* 50 messages in order across nodes; none back to the sender; room isolation */
    chat_hub_join(n[1].hub, &carol.m, S("other"), S("carol"));
    wait_event(&carol, "\"users\"", 2000);
    take(&carol);
    for (int i = 0; i < 50; i++) {
        char text[32];
        snprintf(text, sizeof text, "m%02d", i);
        chat_hub_say(n[0].hub, &alice.m, S(text));
    }
    CHECK(wait_event(&bob, "m49", 2000), "bob gets alice's 50th message");
    const char *got = take(&bob);
    int in_order = count(got, "\"type\":\"message\"") == 50;
    const char *p = got;
    for (int i = 0; i < 50 && in_order; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\"name\":\"alice\",\"text\":\"m%02d\"", i);
        p = strstr(p, needle);
        in_order = p != NULL;
    }
    CHECK(in_order, "50 messages across nodes, each once, in order");
    CHECK(!strstr(take(&alice), "message"), "the sender gets nothing back");
    CHECK(!strstr(take(&carol), "message"), "a member of another room gets nothing");

    /* leave across nodes */
    member dave;
    member_init(&dave, "dave@C");
    chat_hub_join(n[2].hub, &dave.m, S("r"), S("dave"));
    CHECK(wait_event(&bob, "\"join\",\"room\":\"r\",\"name\":\"dave\"", 2000), "bob sees dave join on C");
    chat_hub_leave(n[2].hub, &dave.m);
    CHECK(wait_event(&bob, "\"leave\",\"room\":\"r\",\"name\":\"dave\"", 2000), "bob sees dave leave");
    take(&alice);
    take(&bob);

    /* a node that dies without goodbye: its users go within the bounded time */
    member erin;
    member_init(&erin, "erin@C");
    chat_hub_join(n[2].hub, &erin.m, S("r"), S("erin"));
    wait_event(&bob, "\"name\":\"erin\"", 2000);
    take(&bob);
    uint64_t t0 = chat_clock_ms();
    chat_cluster_free(n[2].cl); /* no goodbye: as if killed */
    chat_hub_free(n[2].hub);
    int gone = wait_event(&bob, "\"leave\",\"room\":\"r\",\"name\":\"erin\"", 4 * ttl);
    uint64_t dt = chat_clock_ms() - t0;
    CHECK(gone && dt <= 2 * ttl, "a dead node's user is dropped after %llu ms (TTL %llu ms)",
          (unsigned long long)dt, (unsigned long long)ttl);
    CHECK(wait_event(&alice, "\"leave\",\"room\":\"r\",\"name\":\"erin\"", 1000), "alice is told too");
    take(&alice);
    take(&bob);

    /* Redis killed: local delivery goes on, senders are told, then the link
     * comes back by itself and cross-node delivery resumes */
    member ann;
    member_init(&ann, "ann@A");
    chat_hub_join(n[0].hub, &ann.m, S("r"), S("ann"));
    wait_event(&bob, "\"name\":\"ann\"", 2000);
    take(&alice);
    take(&ann);
    take(&bob);
    redis_kill();
    run_for(300);
    CHECK(!chat_cluster_is_up(n[0].cl) && !chat_cluster_is_up(n[1].cl), "both nodes see Redis gone");
    chat_hub_say(n[0].hub, &alice.m, S("while away"));
    run_for(50);
    CHECK(strstr(take(&ann), "while away") != NULL, "local delivery goes on without Redis");
    CHECK(strstr(take(&alice), "not delivered to other servers") != NULL,
          "the sender is told what did not go out");
    /* two users take the same name on both sides while they cannot see each other */
    member zoe_a, zoe_b;
    member_init(&zoe_a, "zoe@A");
    member_init(&zoe_b, "zoe@B");
    chat_hub_join(n[0].hub, &zoe_a.m, S("r"), S("zoe"));
    chat_hub_join(n[1].hub, &zoe_b.m, S("r"), S("zoe"));
    take(&alice);
    take(&bob);
    run_for(500);
    redis_start();
    CHECK(run_until(is_up, &n[0], 5000) && run_until(is_up, &n[1], 5000), "both nodes reconnect by themselves");
    run_for(300);
    chat_hub_say(n[0].hub, &alice.m, S("after restart"));
    CHECK(wait_event(&bob, "after restart", 2000), "cross-node delivery resumes");
    run_for(ttl + 300); /* past the full sync that follows the first, additive one */
    int kicked = (zoe_a.m.state == CHAT_OUTSIDE) + (zoe_b.m.state == CHAT_OUTSIDE);
    CHECK(kicked == 1, "the name taken twice during the outage is given to one zoe (%d refused)", kicked);
    const char *b_got = take(&bob);
    CHECK(count(b_got, "\"join\",\"room\":\"r\",\"name\":\"alice\"") == 0 &&
              count(b_got, "\"leave\",\"room\":\"r\",\"name\":\"alice\"") == 0,
          "no duplicate join/leave for users that were there all along");

    /* after the restart the lists are whole again: a newcomer on B sees A's users */
    member fred;
    member_init(&fred, "fred@B");
    chat_hub_join(n[1].hub, &fred.m, S("r"), S("fred"));
    CHECK(wait_event(&fred, "\"users\"", 2000) && strstr(fred.ev[0], "\"alice\"") &&
              strstr(fred.ev[0], "\"ann\"") && strstr(fred.ev[0], "\"bob\"") &&
              count(fred.ev[0], "\"zoe\"") == 1,
          "a newcomer's list after the restart: %s", fred.nev ? fred.ev[0] : "-");

    chat_cluster_stats st;
    chat_cluster_get_stats(n[0].cl, &st);
    CHECK(st.links_lost == 1 && st.links_up == 2, "node A: link up twice, lost once");

    /* goodbye: leaving on purpose removes the node at once */
    chat_hub_leave(n[0].hub, &alice.m);
    chat_hub_leave(n[0].hub, &ann.m);
    chat_hub_leave(n[0].hub, &zoe_a.m);
    chat_cluster_goodbye(n[0].cl);
    run_for(300);
    CHECK(wait_event(&bob, "\"leave\",\"room\":\"r\",\"name\":\"ann\"", 1000), "members leaving a node are announced");

    for (int i = 0; i < 2; i++) {
        chat_cluster_free(n[i].cl);
        chat_hub_free(n[i].hub);
    }
    chat_loop_close(&loop);
    member *all[] = {&alice, &bob, &carol, &zed_a, &zed_b, &alice2, &dave, &erin, &ann, &zoe_a, &zoe_b, &fred};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        member_free(all[i]);
    printf("chat_cluster: %s\n", failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
