/* chat_hub: rooms, names and events, with a recording sink and a scripted
 * cluster in place of WebSocket connections and Redis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chat_hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what members received: "who|json" lines */

static char got[64][4096];
static int ngot;
static int prepared_live;

static void *sink_prepare(void *ctx, const char *json, size_t len)
{
    (void)ctx;
    char *p = malloc(len + 1);
    memcpy(p, json, len);
    p[len] = '\0';
    prepared_live++;
    return p;
}

static void sink_send(void *ctx, void *user, void *prepared)
{
    (void)ctx;
    assert_true(ngot < 64);
    snprintf(got[ngot++], sizeof got[0], "%s|%s", (const char *)user, (const char *)prepared);
}

static void sink_release(void *ctx, void *prepared)
{
    (void)ctx;
    free(prepared);
    prepared_live--;
}

static const chat_sink sink = {sink_prepare, sink_send, sink_release, NULL};

/* Takes the received events in order, as one string. */
static const char *events(void)
{
    static char all[16384];
    all[0] = '\0';
    for (int i = 0; i < ngot; i++) {
        strcat(all, got[i]);
        strcat(all, "\n");
    }
    ngot = 0;
    return all;
}

/* ---- the scripted cluster */

static int up, publish_rc;
static char calls[64][512];
static int ncalls;
static void *last_cookie;
static uint64_t last_token;

static void call(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(calls[ncalls++], sizeof calls[0], fmt, ap);
    va_end(ap);
}

static const char *cluster_calls(void)
{
    static char all[16384];
    all[0] = '\0';
    for (int i = 0; i < ncalls; i++) {
        strcat(all, calls[i]);
        strcat(all, "\n");
    }
    ncalls = 0;
    return all;
}

static int cl_ready(void *cl)
{
    (void)cl;
    return up;
}

static int cl_publish(void *cl, chat_str room, chat_str name, chat_str text)
{
    (void)cl;
    call("publish %.*s %.*s %.*s", (int)room.len, room.p, (int)name.len, name.p, (int)text.len,
         text.p);
    return publish_rc;
}

static int cl_join(void *cl, chat_str room, chat_str name, void *cookie)
{
    (void)cl;
    call("join %.*s %.*s", (int)room.len, room.p, (int)name.len, name.p);
    last_cookie = cookie;
    return 0;
}

static void cl_leave(void *cl, chat_str room, chat_str name, int last)
{
    (void)cl;
    call("leave %.*s %.*s last=%d", (int)room.len, room.p, (int)name.len, name.p, last);
}

static void cl_sync(void *cl, chat_str room, const chat_str *names, size_t n, uint64_t token)
{
    (void)cl;
    char list[256] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(list, " ", sizeof list - strlen(list) - 1);
        strncat(list, names[i].p, names[i].len);
    }
    call("sync %.*s%s", (int)room.len, room.p, list);
    last_token = token;
}

static const chat_cluster_if cluster = {cl_ready, cl_publish, cl_join, cl_leave, cl_sync, NULL};

static const uint8_t key[16] = {9};

static chat_str S(const char *s)
{
    chat_str x = {s, strlen(s)};
    return x;
}

static void reset(void)
{
    ngot = ncalls = 0;
    up = 0;
    publish_rc = CHAT_SENT;
}

/* ---- one node on its own */

static void test_local_rooms(void **state)
{
    (void)state;
    reset();
    chat_hub *h = chat_hub_new(&sink, NULL, key);
    chat_member a, b, c, a2;
    chat_member_init(&a, "A", NULL);
    chat_member_init(&b, "B", NULL);
    chat_member_init(&c, "C", NULL);
    chat_member_init(&a2, "A2", NULL);

    chat_hub_join(h, &a, S("r1"), S("alice"));
    assert_string_equal(events(), "A|{\"type\":\"users\",\"room\":\"r1\",\"users\":[\"alice\"]}\n");
    chat_hub_join(h, &b, S("r1"), S("bob"));
    const char *ev = events();
    assert_true(strstr(ev, "B|{\"type\":\"users\",\"room\":\"r1\",\"users\":[") == ev);
    assert_non_null(strstr(ev, "\"alice\""));
    assert_non_null(strstr(ev, "\"bob\""));
    assert_non_null(strstr(ev, "\nA|{\"type\":\"join\",\"room\":\"r1\",\"name\":\"bob\"}\n"));
    chat_hub_join(h, &c, S("r2"), S("alice")); /* same name, other room: fine */
    assert_string_equal(events(), "C|{\"type\":\"users\",\"room\":\"r2\",\"users\":[\"alice\"]}\n");

    /* names are unique within a room */
    chat_hub_join(h, &a2, S("r1"), S("alice"));
    assert_string_equal(events(), "A2|{\"type\":\"error\",\"error\":\"name taken in this room\"}\n");
    assert_int_equal(a2.state, CHAT_OUTSIDE);

    /* a message reaches everyone else in the room, not the sender, not r2 */
    chat_hub_say(h, &a, S("hi \"there\"\n"));
    assert_string_equal(events(), "B|{\"type\":\"message\",\"room\":\"r1\",\"name\":\"alice\","
                                  "\"text\":\"hi \\\"there\\\"\\n\"}\n");
    chat_hub_say(h, &a2, S("x"));
    assert_string_equal(events(), "A2|{\"type\":\"error\",\"error\":\"join a room first\"}\n");

    /* joining another room leaves the first */
    chat_hub_join(h, &b, S("r2"), S("bob"));
    ev = events();
    const char *u1 = "A|{\"type\":\"leave\",\"room\":\"r1\",\"name\":\"bob\"}\n"
                     "B|{\"type\":\"users\",\"room\":\"r2\",\"users\":[\"bob\",\"alice\"]}\n"
                     "C|{\"type\":\"join\",\"room\":\"r2\",\"name\":\"bob\"}\n";
    const char *u2 = "A|{\"type\":\"leave\",\"room\":\"r1\",\"name\":\"bob\"}\n"
                     "B|{\"type\":\"users\",\"room\":\"r2\",\"users\":[\"alice\",\"bob\"]}\n"
                     "C|{\"type\":\"join\",\"room\":\"r2\",\"name\":\"bob\"}\n";
    assert_true(!strcmp(ev, u1) || !strcmp(ev, u2));
    /* the name is free again once its holder left */
    chat_hub_leave(h, &a);
    assert_string_equal(events(), "");
    assert_int_equal(chat_hub_room_count(h), 1);
    chat_hub_join(h, &a2, S("r2"), S("bob"));
    assert_non_null(strstr(events(), "name taken"));
    chat_hub_leave(h, &b);
    assert_string_equal(events(), "C|{\"type\":\"leave\",\"room\":\"r2\",\"name\":\"bob\"}\n");
    chat_hub_join(h, &a2, S("r2"), S("bob"));
    events();
    chat_hub_leave(h, &a2);
    chat_hub_leave(h, &c);
    assert_int_equal(chat_hub_room_count(h), 0);
    assert_int_equal(prepared_live, 0);
    assert_string_equal(cluster_calls(), "");
    chat_hub_free(h);
}

static void test_limits(void **state)
{
    (void)state;
    reset();
    chat_hub *h = chat_hub_new(&sink, NULL, key);
    chat_member a;
    chat_member_init(&a, "A", NULL);
    chat_hub_join(h, &a, S(""), S("x"));
    assert_non_null(strstr(events(), "join needs a room"));
    chat_hub_join(h, &a, S("r"), S("123456789012345678901234567890123"));
    assert_non_null(strstr(events(), "join needs a room"));
    assert_int_equal(chat_hub_room_count(h), 0);
    chat_hub_free(h);
}

/* ---- with a cluster */

static void test_cluster_join_waits_for_names(void **state)
{
    (void)state;
    reset();
    up = 1;
    chat_cluster_if ci = cluster;
    chat_hub *h = chat_hub_new(&sink, &ci, key);
    chat_member a;
    chat_member_init(&a, "A", NULL);

    chat_hub_join(h, &a, S("r"), S("alice"));
    assert_string_equal(cluster_calls(), "sync r\njoin r alice\n");
    uint64_t token = last_token;
    assert_int_equal(a.state, CHAT_JOINING);
    chat_hub_say(h, &a, S("too early"));
    assert_non_null(strstr(events(), "wait for the users event"));

    /* the claim is answered before the room's names: still waiting */
    chat_hub_join_done(h, last_cookie, CHAT_JOIN_OK);
    assert_int_equal(a.state, CHAT_JOINING);
    /* events for the room before the snapshot are in it already: ignored */
    chat_hub_remote_event(h, 'J', S("nodeB"), S("r"), S("early"), S(""));
    assert_string_equal(events(), "");
    /* an old snapshot is ignored, the right one lets alice in */
    chat_remote_name names[] = {{S("carol"), S("nodeB")}, {S("dave"), S("nodeC")}};
    chat_hub_remote_snapshot(h, S("r"), token - 1, names, 2);
    assert_int_equal(a.state, CHAT_JOINING);
    chat_hub_remote_snapshot(h, S("r"), token, names, 2);
    assert_int_equal(a.state, CHAT_JOINED);
    const char *ev = events();
    assert_non_null(strstr(ev, "A|{\"type\":\"users\""));
    assert_non_null(strstr(ev, "\"carol\""));
    assert_non_null(strstr(ev, "\"dave\""));
    assert_non_null(strstr(ev, "\"alice\""));
    assert_null(strstr(ev, "\"early\""));

    /* remote events now count: join, duplicate join, leave by the wrong
     * node, leave, message */
    chat_hub_remote_event(h, 'J', S("nodeB"), S("r"), S("erin"), S(""));
    chat_hub_remote_event(h, 'J', S("nodeB"), S("r"), S("erin"), S(""));
    chat_hub_remote_event(h, 'L', S("nodeC"), S("r"), S("erin"), S(""));
    chat_hub_remote_event(h, 'L', S("nodeB"), S("r"), S("erin"), S(""));
    chat_hub_remote_event(h, 'M', S("nodeB"), S("r"), S("carol"), S("hello"));
    chat_hub_remote_event(h, 'M', S("nodeB"), S("elsewhere"), S("carol"), S("hello"));
    assert_string_equal(events(), "A|{\"type\":\"join\",\"room\":\"r\",\"name\":\"erin\"}\n"
                                  "A|{\"type\":\"leave\",\"room\":\"r\",\"name\":\"erin\"}\n"
                                  "A|{\"type\":\"message\",\"room\":\"r\",\"name\":\"carol\","
                                  "\"text\":\"hello\"}\n");

    /* a name the cluster lists is taken without asking Redis */
    chat_member b;
    chat_member_init(&b, "B", NULL);
    chat_hub_join(h, &b, S("r"), S("carol"));
    assert_non_null(strstr(events(), "B|{\"type\":\"error\",\"error\":\"name taken in this room\"}"));
    assert_string_equal(cluster_calls(), "");

    /* messages go to Redis; a dropped one is reported to its sender */
    chat_hub_say(h, &a, S("one"));
    assert_string_equal(cluster_calls(), "publish r alice one\n");
    assert_string_equal(events(), "");
    publish_rc = CHAT_DROPPED_DOWN;
    chat_hub_say(h, &a, S("two"));
    assert_non_null(strstr(events(), "A|{\"type\":\"error\",\"error\":\"not delivered to other servers"));
    cluster_calls();

    chat_hub_leave(h, &a);
    assert_string_equal(cluster_calls(), "leave r alice last=1\n");
    assert_int_equal(chat_hub_room_count(h), 0);
    chat_hub_free(h);
}

static void test_cluster_taken_and_orphans(void **state)
{
    (void)state;
    reset();
    up = 1;
    chat_cluster_if ci = cluster;
    chat_hub *h = chat_hub_new(&sink, &ci, key);
    chat_member a, b;
    chat_member_init(&a, "A", NULL);
    chat_member_init(&b, "B", NULL);

    chat_hub_join(h, &a, S("r"), S("alice"));
    uint64_t token = last_token;
    chat_hub_remote_snapshot(h, S("r"), token, NULL, 0);
    chat_hub_join_done(h, last_cookie, CHAT_JOIN_TAKEN); /* another node was faster */
    assert_string_equal(events(), "A|{\"type\":\"error\",\"error\":\"name taken in this room\"}\n");
    assert_int_equal(a.state, CHAT_OUTSIDE);
    assert_int_equal(chat_hub_room_count(h), 0);
    cluster_calls();

    /* a sync while a claim is out names the claimed name too (Redis may
     * have granted it already: the sync must not drop it as stale) */
    chat_hub_join(h, &b, S("r"), S("bea"));
    void *cookie_bea = last_cookie;
    cluster_calls();
    chat_hub_resync(h, 0);
    assert_string_equal(cluster_calls(), "sync r bea\n");
    chat_hub_remote_snapshot(h, S("r"), last_token, NULL, 0);
    chat_hub_join_done(h, cookie_bea, CHAT_JOIN_OK);
    assert_int_equal(b.state, CHAT_JOINED);
    chat_hub_leave(h, &b);
    events();
    cluster_calls();

    /* leaving before the answer: the claim is given back when it succeeds */
    chat_hub_join(h, &a, S("r"), S("alice"));
    void *cookie = last_cookie;
    chat_hub_leave(h, &a);
    cluster_calls();
    chat_hub_join_done(h, cookie, CHAT_JOIN_OK);
    assert_string_equal(cluster_calls(), "leave r alice last=1\n");

    /* ... unless a new member of this node claimed it meanwhile */
    chat_hub_join(h, &a, S("r"), S("alice"));
    cookie = last_cookie;
    chat_hub_leave(h, &a);
    chat_hub_join(h, &b, S("r"), S("alice"));
    void *cookie_b = last_cookie;
    cluster_calls();
    chat_hub_join_done(h, cookie, CHAT_JOIN_OK);
    assert_string_equal(cluster_calls(), "");
    chat_hub_remote_snapshot(h, S("r"), last_token, NULL, 0);
    chat_hub_join_done(h, cookie_b, CHAT_JOIN_OK);
    assert_int_equal(b.state, CHAT_JOINED);
    events();

    /* link lost while a claim is out: the member joins with local names */
    chat_hub_join(h, &a, S("r"), S("ann"));
    cookie = last_cookie;
    up = 0;
    chat_hub_link(h, 0);
    chat_hub_join_done(h, cookie, CHAT_JOIN_LOST);
    assert_int_equal(a.state, CHAT_JOINED);
    events();
    chat_hub_leave(h, &a);
    chat_hub_leave(h, &b);
    chat_hub_free(h);
}

static void test_cluster_resync(void **state)
{
    (void)state;
    reset();
    chat_cluster_if ci = cluster;
    chat_hub *h = chat_hub_new(&sink, &ci, key);
    chat_member a, b;
    chat_member_init(&a, "A", NULL);
    chat_member_init(&b, "B", NULL);
    /* Redis away: joins are local and immediate */
    chat_hub_join(h, &a, S("r"), S("alice"));
    chat_hub_join(h, &b, S("r"), S("bob"));
    events();
    assert_string_equal(cluster_calls(), "");
    chat_hub_say(h, &a, S("hi"));
    assert_string_equal(cluster_calls(), "publish r alice hi\n");
    ngot = 0;

    /* the link comes up: the room is registered, its names differ by
     * carol (new) and nothing else; alice is also claimed elsewhere */
    up = 1;
    chat_hub_link(h, 1);
    const char *c = cluster_calls(), *ev;
    assert_true(!strcmp(c, "sync r bob alice\n") || !strcmp(c, "sync r alice bob\n"));
    chat_remote_name names[] = {{S("carol"), S("nodeB")}, {S("alice"), S("nodeC")}};
    chat_hub_remote_snapshot(h, S("r"), last_token, names, 2);
    assert_string_equal(events(), "B|{\"type\":\"join\",\"room\":\"r\",\"name\":\"carol\"}\n"
                                  "A|{\"type\":\"join\",\"room\":\"r\",\"name\":\"carol\"}\n");
    /* the conflict: our alice goes, the list keeps the other alice */
    chat_hub_remote_conflict(h, S("r"), S("alice"));
    assert_string_equal(events(), "A|{\"type\":\"error\",\"error\":\"name taken in this room\"}\n");
    assert_int_equal(a.state, CHAT_OUTSIDE);
    assert_string_equal(cluster_calls(), "");

    /* a second link-up where carol is gone: the first sync only adds (her
     * node may be reconnecting too), the full one later drops her */
    chat_hub_link(h, 0);
    chat_hub_link(h, 1);
    assert_string_equal(cluster_calls(), "sync r bob\n");
    chat_remote_name names2[] = {{S("alice"), S("nodeC")}, {S("frank"), S("nodeC")}};
    chat_hub_remote_snapshot(h, S("r"), last_token, names2, 2);
    assert_string_equal(events(), "B|{\"type\":\"join\",\"room\":\"r\",\"name\":\"frank\"}\n");
    chat_hub_resync(h, 0);
    assert_string_equal(cluster_calls(), "sync r bob\n");
    chat_hub_remote_snapshot(h, S("r"), last_token, names2, 1);
    ev = events(); /* hash order */
    assert_int_equal(strlen(ev), 2 * strlen("B|{\"type\":\"leave\",\"room\":\"r\",\"name\":\"carol\"}\n"));
    assert_non_null(strstr(ev, "B|{\"type\":\"leave\",\"room\":\"r\",\"name\":\"carol\"}\n"));
    assert_non_null(strstr(ev, "B|{\"type\":\"leave\",\"room\":\"r\",\"name\":\"frank\"}\n"));
    chat_hub_leave(h, &b);
    assert_string_equal(cluster_calls(), "leave r bob last=1\n");
    assert_int_equal(chat_hub_room_count(h), 0);
    assert_int_equal(prepared_live, 0);
    chat_hub_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_rooms),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_cluster_join_waits_for_names),
        cmocka_unit_test(test_cluster_taken_and_orphans),
        cmocka_unit_test(test_cluster_resync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
