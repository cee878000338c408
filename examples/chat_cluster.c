/* chat_server nodes joined through Redis; see chat_cluster.h and the data
 * model in docs/examples.md. */
#include "chat_cluster.h"

#include "chat_log.h"
#include "chat_redis_ev.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <ws6455.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "chat:"
#define EVENTS_CHANNEL PREFIX "events"
static const char EVENTS[] = EVENTS_CHANNEL; /* (an array: keeps argv lists plain) */
#define RETRY_FIRST_MS 100u

/* ---- the Lua scripts. Redis runs each one atomically, so a name is
 * claimed, a snapshot taken or a dead node swept with nothing in between.
 * Events are "fields": each is its length in decimal, ':', the bytes. */

/* KEYS[1] the room's hash (name -> node), KEYS[2] the node's set of rooms.
 * ARGV: node, room, name, events channel, join event. 1: claimed; 0: the
 * name belongs to another node. */
static const char JOIN_LUA[] =
    "local owner = redis.call('HGET', KEYS[1], ARGV[3])\n"
    "if owner and owner ~= ARGV[1] then return 0 end\n"
    "redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])\n"
    "redis.call('SADD', KEYS[2], ARGV[2])\n"
    "redis.call('PUBLISH', ARGV[4], ARGV[5])\n"
    "return 1\n";

/* Same keys. ARGV: node, room, name, events channel, leave event, "1" when
 * the node's last member of the room left. */
static const char LEAVE_LUA[] =
    "if redis.call('HGET', KEYS[1], ARGV[3]) == ARGV[1] then\n"
    "  redis.call('HDEL', KEYS[1], ARGV[3])\n"
    "  redis.call('PUBLISH', ARGV[4], ARGV[5])\n"
    "end\n"
    "if ARGV[6] == '1' then redis.call('SREM', KEYS[2], ARGV[2]) end\n"
    "return 1\n";

/* Same keys. ARGV: node, room, events channel, the node's own channel,
 * token, then the node's names in the room. Drops the node's other names
 * and claims these (announcing both), then publishes the room's whole hash
 * to the node's channel; returns the names another node holds. */
static const char SYNC_LUA[] =
    "local function f(s) return #s .. ':' .. s end\n"
    "local node, room = ARGV[1], ARGV[2]\n"
    "local mine = {}\n"
    "for i = 6, #ARGV do mine[ARGV[i]] = true end\n"
    "local h = redis.call('HGETALL', KEYS[1])\n"
    "for i = 1, #h, 2 do\n"
    "  if h[i + 1] == node and not mine[h[i]] then\n"
    "    redis.call('HDEL', KEYS[1], h[i])\n"
    "    redis.call('PUBLISH', ARGV[3], f('c1') .. f('L') .. f(node) .. f('0') .. f(room) .. "
    "f(h[i]) .. f(''))\n"
    "  end\n"
    "end\n"
    "local conflicts = {}\n"
    "for i = 6, #ARGV do\n"
    "  local owner = redis.call('HGET', KEYS[1], ARGV[i])\n"
    "  if not owner then\n"
    "    redis.call('HSET', KEYS[1], ARGV[i], node)\n"
    "    redis.call('PUBLISH', ARGV[3], f('c1') .. f('J') .. f(node) .. f('0') .. f(room) .. "
    "f(ARGV[i]) .. f(''))\n"
    "  elseif owner ~= node then\n"
    "    conflicts[#conflicts + 1] = ARGV[i]\n"
    "  end\n"
    "end\n"
    "if #ARGV >= 6 then redis.call('SADD', KEYS[2], room) end\n"
    "h = redis.call('HGETALL', KEYS[1])\n"
    "local parts = {}\n"
    "for i = 1, #h do parts[i] = f(h[i]) end\n"
    "redis.call('PUBLISH', ARGV[4], f('c1') .. f('S') .. f(node) .. f(ARGV[5]) .. f(room) .. "
    "f('') .. f(table.concat(parts)))\n"
    "return conflicts\n";

/* ARGV: this node, key prefix, events channel. Every other node whose
 * heartbeat key expired loses its names, each announced with a leave event
 * in the dead node's name; returns how many nodes were swept. */
static const char SWEEP_LUA[] =
    "local p = ARGV[2]\n"
    "local function f(s) return #s .. ':' .. s end\n"
    "local dead = 0\n"
    "for _, n in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do\n"
    "  if n ~= ARGV[1] and redis.call('EXISTS', p .. 'alive:' .. n) == 0 then\n"
    "    for _, room in ipairs(redis.call('SMEMBERS', p .. 'rooms:' .. n)) do\n"
    "      local key = p .. 'room:' .. room\n"
    "      local h = redis.call('HGETALL', key)\n"
    "      for i = 1, #h, 2 do\n"
    "        if h[i + 1] == n then\n"
    "          redis.call('HDEL', key, h[i])\n"
    "          redis.call('PUBLISH', ARGV[3], f('c1') .. f('L') .. f(n) .. f('0') .. f(room) .. "
    "f(h[i]) .. f(''))\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "    redis.call('DEL', p .. 'rooms:' .. n)\n"
    "    redis.call('SREM', p .. 'nodes', n)\n"
    "    dead = dead + 1\n"
    "  end\n"
    "end\n"
    "return dead\n";

/* The scripts are loaded once per connection (SCRIPT LOAD) and run by
 * their SHA-1 (EVALSHA), so each call carries 40 bytes instead of the
 * script. The digest is computed here, with the library's SHA-1. */
enum { SCRIPT_JOIN, SCRIPT_LEAVE, SCRIPT_SYNC, SCRIPT_SWEEP, SCRIPT_COUNT };
static const char *const script_text[SCRIPT_COUNT] = {JOIN_LUA, LEAVE_LUA, SYNC_LUA, SWEEP_LUA};

/* ---- state */

enum link_state {
    LINK_IDLE,       /* not started */
    LINK_CONNECTING, /* connecting and subscribing */
    LINK_UP,         /* subscribed: events flow both ways */
    LINK_BROKEN,     /* a failure was seen; the reset timer tears down */
    LINK_WAITING,    /* torn down, waiting to retry */
    LINK_CLOSED      /* being freed */
};

enum cmd_kind { CMD_PLAIN, CMD_JOIN, CMD_SYNC, CMD_REGISTER, CMD_SWEEP };

typedef struct rlink {
    chat_redis_ev ev;
    chat_cluster *cl;
} rlink;

/* A command handed to hiredis, until its reply (or NULL, when the context
 * is freed) comes back. */
typedef struct pending_cmd {
    chat_cluster *cl;
    size_t bytes;
    int kind;
    void *cookie;
    size_t room_len;
    char room[CHAT_MAX_ROOM];
} pending_cmd;

struct chat_cluster {
    chat_cluster_config cfg;
    chat_loop *loop;
    chat_hub *hub;
    char node[17];
    char node_channel[64], alive_key[64], rooms_key[64];
    char sha[SCRIPT_COUNT][41];
    rlink cmd, sub;
    int state;
    int subscribed;   /* subscription confirmations this session */
    int registered;   /* the first SADD of this session was answered */
    int hub_up;       /* the hub was told the link is up */
    size_t queued;    /* bytes of commands waiting for replies */
    size_t pending;   /* commands waiting for replies */
    uint64_t last_reply;
    uint64_t backoff;
    unsigned attempts;
    uint64_t down_since;
    int outage_logged, congested;
    uint64_t last_error_log;
    uint64_t dropped_at_outage;
    char reason[160];
    chat_timer retry, heartbeat, sweep, reset, connect_deadline, confirm;
    chat_cluster_stats stats;
};

#define CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static void break_link(chat_cluster *cl, const char *why);

static uint64_t jitter(uint64_t ms)
{
    /* 75% .. 125%: nodes restarted together do not retry in step. */
    uint32_t r = 0;
    chat_random(&r, sizeof r);
    return ms * 3 / 4 + (ms / 2 ? r % (ms / 2 + 1) : 0);
}

static void arm(chat_cluster *cl, chat_timer *t, uint64_t in_ms)
{
    chat_timers_set(&cl->loop->timers, t, cl->loop->now + in_ms);
}

static chat_str str_of(const char *p, size_t len)
{
    chat_str s = {p, len};
    return s;
}

static int str_eq(chat_str a, const char *b)
{
    return a.len == strlen(b) && !memcmp(a.p, b, a.len);
}

/* ---- events on the wire */

typedef struct wbuf {
    char *p;
    size_t len, cap;
    int ok;
} wbuf;

static void put_field(wbuf *w, const char *s, size_t n)
{
    char head[24];
    int h = snprintf(head, sizeof head, "%zu:", n);
    if (!w->ok || w->cap - w->len < (size_t)h + n) {
        w->ok = 0;
        return;
    }
    memcpy(w->p + w->len, head, (size_t)h);
    if (n)
        memcpy(w->p + w->len + h, s, n);
    w->len += (size_t)h + n;
}

/* c1 KIND ORIGIN TOKEN ROOM NAME BODY */
static size_t encode_event(char *buf, size_t cap, char kind, const char *origin, chat_str room,
                           chat_str name, chat_str body)
{
    wbuf w = {buf, 0, cap, 1};
    put_field(&w, "c1", 2);
    put_field(&w, &kind, 1);
    put_field(&w, origin, strlen(origin));
    put_field(&w, "0", 1);
    put_field(&w, room.p, room.len);
    put_field(&w, name.p, name.len);
    put_field(&w, body.p, body.len);
    return w.ok ? w.len : 0;
}

static int take_field(const char **p, const char *end, chat_str *out)
{
    size_t n = 0;
    int digits = 0;
    while (*p < end && **p >= '0' && **p <= '9') {
        if (++digits > 8)
            return -1;
        n = n * 10 + (size_t)(**p - '0');
        (*p)++;
    }
    if (!digits || *p >= end || **p != ':')
        return -1;
    (*p)++;
    if ((size_t)(end - *p) < n)
        return -1;
    *out = str_of(*p, n);
    *p += n;
    return 0;
}

/* Room names, user names and texts from the channel: anyone with access to
 * Redis can publish there, so they are checked like client input. */
static int text_ok(chat_str s, size_t max, int may_be_empty)
{
    return (may_be_empty || s.len) && s.len <= max && !memchr(s.p, 0, s.len) &&
           ws6455_utf8_valid((const uint8_t *)s.p, s.len);
}

static void on_snapshot(chat_cluster *cl, chat_str token_s, chat_str room, chat_str body)
{
    uint64_t token = 0;
    if (!token_s.len || token_s.len > 19)
        return;
    for (size_t i = 0; i < token_s.len; i++) {
        if (token_s.p[i] < '0' || token_s.p[i] > '9')
            return;
        token = token * 10 + (uint64_t)(token_s.p[i] - '0');
    }
    size_t cap = 2 * CHAT_MAX_ROOM_NAMES, n = 0;
    chat_remote_name *names = malloc(cap * sizeof *names);
    if (!names)
        return;
    const char *p = body.p, *end = body.p + body.len;
    while (p < end && n < cap) {
        chat_str name, node;
        if (take_field(&p, end, &name) < 0 || take_field(&p, end, &node) < 0)
            break;
        if (str_eq(node, cl->node) || !text_ok(name, CHAT_MAX_NAME, 0) ||
            !text_ok(node, CHAT_MAX_NODE_ID, 0))
            continue;
        names[n].name = name;
        names[n].node = node;
        n++;
    }
    chat_hub_remote_snapshot(cl->hub, room, token, names, n);
    free(names);
}

static void on_channel_message(chat_cluster *cl, chat_str channel, chat_str payload)
{
    const char *p = payload.p, *end = payload.p + payload.len;
    chat_str f[7];
    for (int i = 0; i < 7; i++)
        if (take_field(&p, end, &f[i]) < 0)
            return;
    if (p != end || !str_eq(f[0], "c1") || f[1].len != 1 || !text_ok(f[4], CHAT_MAX_ROOM, 0) ||
        !text_ok(f[2], CHAT_MAX_NODE_ID, 0))
        return;
    cl->stats.received++;
    char kind = f[1].p[0];
    if (kind == 'S') {
        if (str_eq(channel, cl->node_channel) && str_eq(f[2], cl->node))
            on_snapshot(cl, f[3], f[4], f[6]);
        return;
    }
    if (!str_eq(channel, EVENTS) || str_eq(f[2], cl->node))
        return; /* our own events come back too: our members have them */
    if ((kind != 'J' && kind != 'L' && kind != 'M') || !text_ok(f[5], CHAT_MAX_NAME, 0) ||
        !text_ok(f[6], CHAT_MAX_TEXT, 1))
        return;
    chat_hub_remote_event(cl->hub, kind, f[2], f[4], f[5], f[6]);
}

/* ---- commands */

static void link_up(chat_cluster *cl);

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    (void)ac;
    pending_cmd *pc = privdata;
    chat_cluster *cl = pc->cl;
    redisReply *reply = r;
    cl->queued -= pc->bytes;
    cl->pending--;
    if (reply)
        cl->last_reply = cl->loop->now;
    if (cl->congested && cl->queued < cl->cfg.max_queue / 2) {
        cl->congested = 0;
        chat_warn("redis: outgoing queue back under %zu bytes", cl->cfg.max_queue / 2);
    }
    if (reply && reply->type == REDIS_REPLY_ERROR && !strncmp(reply->str, "NOSCRIPT", 8))
        break_link(cl, "the scripts were flushed from Redis"); /* reconnecting loads them */
    else if (reply && reply->type == REDIS_REPLY_ERROR &&
             cl->loop->now - cl->last_error_log >= 1000) {
        cl->last_error_log = cl->loop->now; /* at most one a second */
        chat_warn("redis: command failed: %.*s", (int)(reply->len > 200 ? 200 : reply->len),
                  reply->str);
    }
    switch (pc->kind) {
    case CMD_JOIN: {
        int result = CHAT_JOIN_LOST;
        if (reply && reply->type == REDIS_REPLY_INTEGER)
            result = reply->integer == 1 ? CHAT_JOIN_OK : CHAT_JOIN_TAKEN;
        chat_hub_join_done(cl->hub, pc->cookie, result);
        break;
    }
    case CMD_SYNC:
        if (reply && reply->type == REDIS_REPLY_ARRAY)
            for (size_t i = 0; i < reply->elements; i++) {
                redisReply *e = reply->element[i];
                if (e->type == REDIS_REPLY_STRING)
                    chat_hub_remote_conflict(cl->hub, str_of(pc->room, pc->room_len),
                                             str_of(e->str, e->len));
            }
        break;
    case CMD_REGISTER:
        if (reply && reply->type == REDIS_REPLY_INTEGER) {
            /* SADD answers 1 when the node was not listed: the first time,
             * or after another node swept it as dead (it was cut off for
             * longer than the TTL): then claim everything again. */
            if (cl->registered && reply->integer == 1 && cl->state == LINK_UP) {
                chat_warn("redis: this node was taken for dead; registering its users again");
                chat_hub_link(cl->hub, 1);
                arm(cl, &cl->confirm, cl->cfg.node_ttl_ms);
            }
            cl->registered = 1;
        }
        break;
    case CMD_SWEEP:
        if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
            chat_logv("redis: dropped the users of %lld node(s) that stopped", reply->integer);
        break;
    default:
        break;
    }
    free(pc);
}

/* Hands a command to hiredis unless that would put more than `limit`
 * bytes in flight. 0, CHAT_DROPPED_FULL, or -1 (no link, no memory). */
static int send_cmd(chat_cluster *cl, int kind, void *cookie, chat_str room, int argc,
                    const char **argv, const size_t *lens, size_t limit)
{
    redisAsyncContext *ac = cl->cmd.ev.ac;
    if (!ac || (cl->state != LINK_UP && cl->state != LINK_CONNECTING))
        return -1;
    char *buf;
    int len = redisFormatCommandArgv(&buf, argc, argv, lens);
    if (len < 0)
        return -1;
    if (cl->queued + (size_t)len > limit) {
        redisFreeCommand(buf);
        return CHAT_DROPPED_FULL;
    }
    pending_cmd *pc = malloc(sizeof *pc);
    if (!pc) {
        redisFreeCommand(buf);
        return -1;
    }
    pc->cl = cl;
    pc->bytes = (size_t)len;
    pc->kind = kind;
    pc->cookie = cookie;
    pc->room_len = room.len <= CHAT_MAX_ROOM ? room.len : 0;
    if (pc->room_len)
        memcpy(pc->room, room.p, pc->room_len);
    if (redisAsyncFormattedCommand(ac, on_reply, pc, buf, (size_t)len) != REDIS_OK) {
        redisFreeCommand(buf);
        free(pc);
        return -1;
    }
    redisFreeCommand(buf);
    if (!cl->pending)
        cl->last_reply = cl->loop->now; /* the reply clock starts now */
    cl->queued += (size_t)len;
    cl->pending++;
    return 0;
}

/* Control commands (claims, leaves, syncs) may use twice the message
 * budget; past that Redis is not keeping up, and the link is reset (the
 * resynchronisation afterwards repairs whatever was not sent). */
static void send_control(chat_cluster *cl, int kind, chat_str room, int argc, const char **argv,
                         const size_t *lens)
{
    int rc = send_cmd(cl, kind, NULL, room, argc, argv, lens, 2 * cl->cfg.max_queue);
    if (rc == CHAT_DROPPED_FULL)
        break_link(cl, "outgoing queue full (Redis is not keeping up)");
}

/* "chat:room:" + the room's bytes: a binary key with its length, no NUL. */
static void room_key(char out[16 + CHAT_MAX_ROOM], chat_str room, size_t *len)
{
    static const char head[] = PREFIX "room:";
    size_t h = sizeof head - 1;
    memcpy(out, head, h); /* NOLINT(bugprone-not-null-terminated-result): length-counted */
    memcpy(out + h, room.p, room.len);
    *len = h + room.len;
}

static void send_heartbeat(chat_cluster *cl)
{
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%" PRIu64, cl->cfg.node_ttl_ms);
    const char *set[] = {"SET", cl->alive_key, "1", "PX", ttl};
    size_t set_len[] = {3, strlen(cl->alive_key), 1, 2, strlen(ttl)};
    send_control(cl, CMD_PLAIN, str_of(NULL, 0), 5, set, set_len);
    const char *sadd[] = {"SADD", PREFIX "nodes", cl->node};
    size_t sadd_len[] = {4, strlen(PREFIX "nodes"), strlen(cl->node)};
    send_control(cl, CMD_REGISTER, str_of(NULL, 0), 3, sadd, sadd_len);
}

/* ---- the chat_cluster_if */

static int cl_ready(void *p)
{
    return ((chat_cluster *)p)->state == LINK_UP;
}

static int cl_publish(void *p, chat_str room, chat_str name, chat_str text)
{
    chat_cluster *cl = p;
    if (cl->state != LINK_UP) {
        cl->stats.dropped_down++;
        return CHAT_DROPPED_DOWN;
    }
    char buf[256 + CHAT_MAX_ROOM + CHAT_MAX_NAME + CHAT_MAX_TEXT];
    size_t len = encode_event(buf, sizeof buf, 'M', cl->node, room, name, text);
    const char *argv[] = {"PUBLISH", EVENTS, buf};
    size_t lens[] = {7, strlen(EVENTS), len};
    int rc = len ? send_cmd(cl, CMD_PLAIN, NULL, str_of(NULL, 0), 3, argv, lens,
                            cl->cfg.max_queue)
                 : -1;
    if (rc == 0) {
        cl->stats.published++;
        return CHAT_SENT;
    }
    if (rc == CHAT_DROPPED_FULL) {
        cl->stats.dropped_full++;
        if (!cl->congested) {
            cl->congested = 1;
            chat_warn("redis: more than %zu bytes wait for Redis: messages for other servers "
                      "are dropped (their senders are told)",
                      cl->cfg.max_queue);
        }
        return CHAT_DROPPED_FULL;
    }
    cl->stats.dropped_down++;
    return CHAT_DROPPED_DOWN;
}

static int cl_join(void *p, chat_str room, chat_str name, void *cookie)
{
    chat_cluster *cl = p;
    if (cl->state != LINK_UP)
        return -1;
    char key[16 + CHAT_MAX_ROOM], event[256 + CHAT_MAX_ROOM + CHAT_MAX_NAME];
    size_t key_len, ev_len = encode_event(event, sizeof event, 'J', cl->node, room, name,
                                          str_of("", 0));
    room_key(key, room, &key_len);
    const char *argv[] = {"EVALSHA", cl->sha[SCRIPT_JOIN], "2", key, cl->rooms_key, cl->node,
                          room.p, name.p, EVENTS, event};
    size_t lens[] = {7, 40, 1, key_len, strlen(cl->rooms_key), strlen(cl->node),
                     room.len, name.len, strlen(EVENTS), ev_len};
    return send_cmd(cl, CMD_JOIN, cookie, room, 10, argv, lens, 2 * cl->cfg.max_queue) == 0
               ? 0
               : -1;
}

static void cl_leave(void *p, chat_str room, chat_str name, int last)
{
    chat_cluster *cl = p;
    if (cl->state != LINK_UP)
        return; /* the next sync drops the name */
    char key[16 + CHAT_MAX_ROOM], event[256 + CHAT_MAX_ROOM + CHAT_MAX_NAME];
    size_t key_len, ev_len = encode_event(event, sizeof event, 'L', cl->node, room, name,
                                          str_of("", 0));
    room_key(key, room, &key_len);
    const char *argv[] = {"EVALSHA", cl->sha[SCRIPT_LEAVE], "2", key, cl->rooms_key, cl->node,
                          room.p, name.p, EVENTS, event, last ? "1" : "0"};
    size_t lens[] = {7, 40, 1, key_len, strlen(cl->rooms_key), strlen(cl->node),
                     room.len, name.len, strlen(EVENTS), ev_len, 1};
    send_control(cl, CMD_PLAIN, room, 11, argv, lens);
}

static void cl_sync(void *p, chat_str room, const chat_str *names, size_t n, uint64_t token)
{
    chat_cluster *cl = p;
    if (cl->state != LINK_UP)
        return;
    enum { FIXED = 10 };
    size_t argc = FIXED + n;
    const char **argv = malloc(argc * sizeof *argv);
    size_t *lens = malloc(argc * sizeof *lens);
    if (!argv || !lens) {
        free(argv);
        free(lens);
        break_link(cl, "out of memory");
        return;
    }
    char key[16 + CHAT_MAX_ROOM], tok[24];
    size_t key_len;
    room_key(key, room, &key_len);
    snprintf(tok, sizeof tok, "%" PRIu64, token);
    const char *fixed[FIXED] = {"EVALSHA", cl->sha[SCRIPT_SYNC], "2", key, cl->rooms_key,
                                cl->node, room.p, EVENTS, cl->node_channel, tok};
    size_t fixed_len[FIXED] = {7, 40, 1, key_len, strlen(cl->rooms_key),
                               strlen(cl->node), room.len, strlen(EVENTS),
                               strlen(cl->node_channel), strlen(tok)};
    memcpy(argv, fixed, sizeof fixed);
    memcpy(lens, fixed_len, sizeof fixed_len);
    for (size_t i = 0; i < n; i++) {
        argv[FIXED + i] = names[i].p;
        lens[FIXED + i] = names[i].len;
    }
    send_control(cl, CMD_SYNC, room, (int)argc, argv, lens);
    free(argv);
    free(lens);
}

void chat_cluster_get_if(chat_cluster *cl, chat_cluster_if *out)
{
    out->ready = cl_ready;
    out->publish = cl_publish;
    out->join = cl_join;
    out->leave = cl_leave;
    out->sync = cl_sync;
    out->cl = cl;
}

/* ---- the link's life */

static void on_subscription(redisAsyncContext *ac, void *r, void *privdata)
{
    (void)ac;
    chat_cluster *cl = privdata;
    redisReply *reply = r;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
        return;
    redisReply *kind = reply->element[0], *chan = reply->element[1], *data = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING || chan->type != REDIS_REPLY_STRING)
        return;
    if (!strcmp(kind->str, "subscribe")) {
        if (++cl->subscribed == 2 && cl->state == LINK_CONNECTING)
            link_up(cl);
    } else if (!strcmp(kind->str, "message") && data->type == REDIS_REPLY_STRING &&
               cl->state == LINK_UP) {
        on_channel_message(cl, str_of(chan->str, chan->len), str_of(data->str, data->len));
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    rlink *lk = ac->data;
    if (status != REDIS_OK)
        break_link(lk->cl, ac->errstr[0] ? ac->errstr : "connection failed");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    rlink *lk = ac->data;
    break_link(lk->cl, status == REDIS_OK ? "connection closed" : ac->errstr);
}

static void link_up(chat_cluster *cl)
{
    cl->state = LINK_UP;
    chat_timers_cancel(&cl->loop->timers, &cl->connect_deadline);
    cl->backoff = RETRY_FIRST_MS;
    cl->stats.links_up++;
    if (cl->outage_logged) {
        uint64_t dropped = cl->stats.dropped_down - cl->dropped_at_outage;
        chat_warn("redis %s:%d: link up again after %.1f s and %u attempt(s); rooms "
                  "resynchronised (%" PRIu64 " message(s) reached this server only)",
                  cl->cfg.host, cl->cfg.port, (double)(cl->loop->now - cl->down_since) / 1000.0,
                  cl->attempts, dropped);
    } else {
        chat_logv("redis %s:%d: link up, node %s", cl->cfg.host, cl->cfg.port, cl->node);
    }
    cl->outage_logged = 0;
    cl->attempts = 0;
    arm(cl, &cl->heartbeat, cl->cfg.node_ttl_ms / 3);
    arm(cl, &cl->sweep, jitter(cl->cfg.node_ttl_ms / 2));
    cl->hub_up = 1;
    chat_hub_link(cl->hub, 1);
    /* The first syncs only add names: after a Redis restart the other nodes
     * are reconnecting too. One TTL later every live node is back, and a
     * full sync drops whoever did not return. */
    arm(cl, &cl->confirm, cl->cfg.node_ttl_ms);
}

/* Starts one connection: 0, or -1 with cl->reason set. */
static int open_link(chat_cluster *cl, rlink *lk)
{
    redisAsyncContext *ac = redisAsyncConnect(cl->cfg.host, cl->cfg.port);
    if (!ac || ac->err) {
        snprintf(cl->reason, sizeof cl->reason, "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        return -1;
    }
    ac->data = lk;
    if (chat_redis_ev_attach(&lk->ev, cl->loop, ac) < 0) {
        snprintf(cl->reason, sizeof cl->reason, "epoll refused the socket");
        redisAsyncFree(ac);
        return -1;
    }
    redisEnableKeepAlive(&ac->c);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return 0;
}

static void connect_now(chat_cluster *cl)
{
    cl->state = LINK_CONNECTING;
    cl->subscribed = 0;
    cl->registered = 0;
    cl->attempts++;
    if (open_link(cl, &cl->cmd) < 0 || open_link(cl, &cl->sub) < 0) {
        break_link(cl, cl->reason);
        return;
    }
    if (redisAsyncCommand(cl->sub.ev.ac, on_subscription, cl, "SUBSCRIBE %s %s", EVENTS_CHANNEL,
                          cl->node_channel) != REDIS_OK) {
        break_link(cl, "cannot subscribe");
        return;
    }
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        const char *argv[] = {"SCRIPT", "LOAD", script_text[i]};
        size_t lens[] = {6, 4, strlen(script_text[i])};
        send_control(cl, CMD_PLAIN, str_of(NULL, 0), 3, argv, lens);
    }
    send_heartbeat(cl);
    uint64_t limit = cl->cfg.node_ttl_ms < 5000 ? cl->cfg.node_ttl_ms : 5000;
    arm(cl, &cl->connect_deadline, limit);
}

/* A failure: hiredis may be inside a callback of the very context that
 * failed, so the teardown happens from a timer. */
static void break_link(chat_cluster *cl, const char *why)
{
    if (cl->state != LINK_UP && cl->state != LINK_CONNECTING)
        return;
    if (why != cl->reason)
        snprintf(cl->reason, sizeof cl->reason, "%s", why);
    cl->state = LINK_BROKEN;
    arm(cl, &cl->reset, 0);
}

static void free_links(chat_cluster *cl)
{
    /* Freeing a context answers its waiting callbacks with NULL (joins
     * become CHAT_JOIN_LOST) and runs cleanup, which clears ev.ac. */
    if (cl->cmd.ev.ac)
        redisAsyncFree(cl->cmd.ev.ac);
    if (cl->sub.ev.ac)
        redisAsyncFree(cl->sub.ev.ac);
    cl->queued = 0;
    cl->pending = 0;
}

static void on_reset(chat_timer *t, uint64_t now)
{
    chat_cluster *cl = CONTAINER(t, chat_cluster, reset);
    free_links(cl);
    chat_timers_cancel(&cl->loop->timers, &cl->heartbeat);
    chat_timers_cancel(&cl->loop->timers, &cl->sweep);
    chat_timers_cancel(&cl->loop->timers, &cl->connect_deadline);
    chat_timers_cancel(&cl->loop->timers, &cl->confirm);
    cl->state = LINK_WAITING;
    if (cl->hub_up) {
        cl->hub_up = 0;
        cl->stats.links_lost++;
        chat_hub_link(cl->hub, 0);
    }
    if (!cl->outage_logged) {
        cl->outage_logged = 1;
        cl->down_since = now;
        cl->dropped_at_outage = cl->stats.dropped_down;
        chat_warn("redis %s:%d: %s; local rooms keep working, reconnecting in the background",
                  cl->cfg.host, cl->cfg.port, cl->reason);
    }
    arm(cl, &cl->retry, jitter(cl->backoff));
    cl->backoff = 2 * cl->backoff > cl->cfg.retry_max_ms ? cl->cfg.retry_max_ms : 2 * cl->backoff;
}

static void on_confirm(chat_timer *t, uint64_t now)
{
    (void)now;
    chat_cluster *cl = CONTAINER(t, chat_cluster, confirm);
    if (cl->state == LINK_UP)
        chat_hub_resync(cl->hub, 0);
}

static void on_retry(chat_timer *t, uint64_t now)
{
    (void)now;
    connect_now(CONTAINER(t, chat_cluster, retry));
}

static void on_connect_deadline(chat_timer *t, uint64_t now)
{
    (void)now;
    break_link(CONTAINER(t, chat_cluster, connect_deadline), "no answer from Redis");
}

static void on_heartbeat(chat_timer *t, uint64_t now)
{
    chat_cluster *cl = CONTAINER(t, chat_cluster, heartbeat);
    if (cl->state != LINK_UP)
        return;
    /* Nothing back for two TTLs while commands wait: Redis hangs (a busy
     * machine can delay a reply by a TTL without anything being wrong). */
    if (cl->pending && now - cl->last_reply > 2 * cl->cfg.node_ttl_ms) {
        break_link(cl, "Redis stopped answering");
        return;
    }
    send_heartbeat(cl);
    arm(cl, t, cl->cfg.node_ttl_ms / 3);
}

static void on_sweep(chat_timer *t, uint64_t now)
{
    (void)now;
    chat_cluster *cl = CONTAINER(t, chat_cluster, sweep);
    if (cl->state != LINK_UP)
        return;
    static const char prefix[] = PREFIX;
    const char *argv[] = {"EVALSHA", cl->sha[SCRIPT_SWEEP], "0", cl->node, prefix, EVENTS};
    size_t lens[] = {7, 40, 1, strlen(cl->node), strlen(prefix), strlen(EVENTS)};
    send_control(cl, CMD_SWEEP, str_of(NULL, 0), 6, argv, lens);
    arm(cl, t, jitter(cl->cfg.node_ttl_ms / 2));
}

/* ---- public */

chat_cluster *chat_cluster_new(const chat_cluster_config *cfg, chat_loop *loop)
{
    chat_cluster *cl = calloc(1, sizeof *cl);
    uint8_t id[8];
    if (!cl || chat_random(id, sizeof id) < 0) {
        free(cl);
        return NULL;
    }
    cl->cfg = *cfg;
    if (!cl->cfg.node_ttl_ms)
        cl->cfg.node_ttl_ms = CHAT_CLUSTER_DEFAULT_TTL_MS;
    if (cl->cfg.node_ttl_ms < 300)
        cl->cfg.node_ttl_ms = 300;
    if (!cl->cfg.max_queue)
        cl->cfg.max_queue = CHAT_CLUSTER_DEFAULT_MAX_QUEUE;
    if (!cl->cfg.retry_max_ms)
        cl->cfg.retry_max_ms = CHAT_CLUSTER_DEFAULT_RETRY_MAX_MS;
    cl->loop = loop;
    for (size_t i = 0; i < 8; i++)
        snprintf(cl->node + 2 * i, 3, "%02x", id[i]);
    snprintf(cl->node_channel, sizeof cl->node_channel, PREFIX "node:%s", cl->node);
    snprintf(cl->alive_key, sizeof cl->alive_key, PREFIX "alive:%s", cl->node);
    snprintf(cl->rooms_key, sizeof cl->rooms_key, PREFIX "rooms:%s", cl->node);
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        ws6455_sha1 sha;
        uint8_t digest[20];
        ws6455_sha1_init(&sha);
        ws6455_sha1_update(&sha, script_text[i], strlen(script_text[i]));
        ws6455_sha1_final(&sha, digest);
        for (size_t k = 0; k < 20; k++)
            snprintf(cl->sha[i] + 2 * k, 3, "%02x", digest[k]);
    }
    cl->cmd.cl = cl->sub.cl = cl;
    cl->backoff = RETRY_FIRST_MS;
    chat_timer_init(&cl->retry, on_retry);
    chat_timer_init(&cl->heartbeat, on_heartbeat);
    chat_timer_init(&cl->sweep, on_sweep);
    chat_timer_init(&cl->reset, on_reset);
    chat_timer_init(&cl->connect_deadline, on_connect_deadline);
    chat_timer_init(&cl->confirm, on_confirm);
    return cl;
}

void chat_cluster_set_hub(chat_cluster *cl, chat_hub *hub)
{
    cl->hub = hub;
}

void chat_cluster_start(chat_cluster *cl)
{
    if (cl->state == LINK_IDLE)
        connect_now(cl);
}

const char *chat_cluster_node_id(const chat_cluster *cl)
{
    return cl->node;
}

int chat_cluster_is_up(const chat_cluster *cl)
{
    return cl->state == LINK_UP;
}

void chat_cluster_goodbye(chat_cluster *cl)
{
    if (cl->state != LINK_UP)
        return;
    const char *del[] = {"DEL", cl->alive_key, cl->rooms_key};
    size_t del_len[] = {3, strlen(cl->alive_key), strlen(cl->rooms_key)};
    send_control(cl, CMD_PLAIN, str_of(NULL, 0), 3, del, del_len);
    const char *srem[] = {"SREM", PREFIX "nodes", cl->node};
    size_t srem_len[] = {4, strlen(PREFIX "nodes"), strlen(cl->node)};
    send_control(cl, CMD_PLAIN, str_of(NULL, 0), 3, srem, srem_len);
    chat_timers_cancel(&cl->loop->timers, &cl->heartbeat);
    chat_timers_cancel(&cl->loop->timers, &cl->sweep);
}

int chat_cluster_idle(const chat_cluster *cl)
{
    return cl->state != LINK_UP || cl->pending == 0;
}

void chat_cluster_free(chat_cluster *cl)
{
    if (!cl)
        return;
    cl->state = LINK_CLOSED;
    free_links(cl);
    chat_timers *t = &cl->loop->timers;
    chat_timers_cancel(t, &cl->retry);
    chat_timers_cancel(t, &cl->heartbeat);
    chat_timers_cancel(t, &cl->sweep);
    chat_timers_cancel(t, &cl->reset);
    chat_timers_cancel(t, &cl->connect_deadline);
    chat_timers_cancel(t, &cl->confirm);
    free(cl);
}

void chat_cluster_get_stats(const chat_cluster *cl, chat_cluster_stats *out)
{
    *out = cl->stats;
    out->queued = cl->queued;
}
