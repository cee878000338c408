/* Rooms, members and their events; see chat_hub.h. */
#include "chat_hub.h"

#include "chat_json.h"
#include "chat_log.h"
#include "chat_map.h"

#include <stdlib.h>
#include <string.h>

/* One name in one room: held by a local member, reported for another
 * node, or (after a split) both. */
typedef struct chat_name {
    chat_map_node node;
    chat_member *local;                 /* JOINING or JOINED here, or NULL */
    char owner[CHAT_MAX_NODE_ID + 1];   /* the other node holding it, or "" */
    int seen;                           /* scratch for snapshots */
    char name[CHAT_MAX_NAME + 1];
} chat_name;

typedef struct chat_room {
    chat_map_node node;
    chat_map names;
    chat_member *joined; /* JOINED members, a list */
    size_t members;      /* JOINING and JOINED members */
    size_t shown;        /* names in the user list */
    int synced;          /* the cluster's names are known (snapshot applied) */
    int additive;        /* the sync we wait for only adds names */
    uint64_t token;      /* of the sync we wait for */
    char name[CHAT_MAX_ROOM + 1];
} chat_room;

/* A join the cluster has not answered yet. */
typedef struct chat_join {
    chat_member *member; /* NULL once the member went away */
    size_t room_len, name_len;
    char room[CHAT_MAX_ROOM + 1], name[CHAT_MAX_NAME + 1];
} chat_join;

struct chat_hub {
    chat_sink sink;
    chat_cluster_if cl;
    int clustered;
    chat_map rooms;
    uint8_t key[16];
    uint64_t tokens;
};

/* Largest single-person event: type, room, name and text, all escaped. */
#define EVENT_MAX (64 + 6 * (CHAT_MAX_ROOM + CHAT_MAX_NAME + CHAT_MAX_TEXT))

static chat_str str_of(const char *p, size_t len)
{
    chat_str s = {p, len};
    return s;
}

static chat_str room_str(const chat_room *r)
{
    return str_of(r->name, r->node.len);
}

static chat_str name_str(const chat_name *e)
{
    return str_of(e->name, e->node.len);
}

static int shown(const chat_name *e)
{
    return (e->local && e->local->state == CHAT_JOINED) || e->owner[0];
}

static int cluster_ready(const chat_hub *h)
{
    return h->clustered && h->cl.ready(h->cl.cl);
}

/* ---- sending */

static void deliver(chat_hub *h, chat_room *r, const chat_member *skip, const char *json,
                    size_t len)
{
    if (!r->joined || (r->joined == skip && !skip->next))
        return;
    void *msg = h->sink.prepare(h->sink.ctx, json, len);
    if (!msg)
        return;
    for (chat_member *m = r->joined; m; m = m->next)
        if (m != skip)
            h->sink.send(h->sink.ctx, m->user, msg);
    h->sink.release(h->sink.ctx, msg);
}

static void send_one(chat_hub *h, chat_member *m, const char *json, size_t len)
{
    void *msg = h->sink.prepare(h->sink.ctx, json, len);
    if (!msg)
        return;
    h->sink.send(h->sink.ctx, m->user, msg);
    h->sink.release(h->sink.ctx, msg);
}

void chat_hub_error(chat_hub *h, chat_member *m, const char *what)
{
    char buf[512];
    chat_jbuf b;
    chat_jb_init(&b, buf, sizeof buf);
    chat_jb_lit(&b, "{\"type\":\"error\",\"error\":");
    chat_jb_str(&b, what, strlen(what));
    chat_jb_lit(&b, "}");
    if (b.ok)
        send_one(h, m, b.p, b.len);
}

/* {"type":TYPE,"room":..,"name":..[,"text":..]} */
static size_t person_event(char *buf, size_t cap, const char *type, chat_str room, chat_str name,
                           const chat_str *text)
{
    chat_jbuf b;
    chat_jb_init(&b, buf, cap);
    chat_jb_lit(&b, "{\"type\":\"");
    chat_jb_lit(&b, type);
    chat_jb_lit(&b, "\",\"room\":");
    chat_jb_str(&b, room.p, room.len);
    chat_jb_lit(&b, ",\"name\":");
    chat_jb_str(&b, name.p, name.len);
    if (text) {
        chat_jb_lit(&b, ",\"text\":");
        chat_jb_str(&b, text->p, text->len);
    }
    chat_jb_lit(&b, "}");
    return b.ok ? b.len : 0;
}

static void send_users(chat_hub *h, chat_room *r, chat_member *to)
{
    size_t cap = 64 + 6 * CHAT_MAX_ROOM + r->shown * (6 * CHAT_MAX_NAME + 3);
    chat_jbuf b;
    chat_jb_init(&b, malloc(cap), cap);
    if (!b.p) {
        chat_hub_error(h, to, "out of memory");
        return;
    }
    chat_jb_lit(&b, "{\"type\":\"users\",\"room\":");
    chat_jb_str(&b, r->name, r->node.len);
    chat_jb_lit(&b, ",\"users\":[");
    int first = 1;
    chat_map_iter it;
    chat_map_iter_init(&it);
    for (chat_map_node *n; (n = chat_map_iter_next(&r->names, &it));) {
        chat_name *e = (chat_name *)n;
        if (!shown(e))
            continue;
        if (!first)
            chat_jb_lit(&b, ",");
        first = 0;
        chat_jb_str(&b, e->name, e->node.len);
    }
    chat_jb_lit(&b, "]}");
    if (b.ok)
        send_one(h, to, b.p, b.len);
    free(b.p);
}

/* ---- rooms and names */

static chat_room *room_get(chat_hub *h, chat_str room)
{
    return (chat_room *)chat_map_get(&h->rooms, room.p, room.len);
}

/* Asks the cluster for the room's names. The names this node holds go
 * along, JOINING ones included: a claim Redis has granted but whose answer
 * is still on its way must not be dropped as stale by the sync. */
static void request_sync(chat_hub *h, chat_room *r, int additive)
{
    r->additive = additive;
    r->token = ++h->tokens;
    chat_str stack[16] = {{NULL, 0}}, *names = stack;
    if (r->members > 16 && !(names = malloc(r->members * sizeof *names))) {
        chat_warn("out of memory: room not synchronised");
        return;
    }
    size_t n = 0;
    chat_map_iter it;
    chat_map_iter_init(&it);
    for (chat_map_node *mn; (mn = chat_map_iter_next(&r->names, &it));) {
        chat_name *e = (chat_name *)mn;
        if (e->local && n < r->members)
            names[n++] = name_str(e);
    }
    h->cl.sync(h->cl.cl, room_str(r), names, n, r->token);
    if (names != stack)
        free(names);
}

static chat_room *room_create(chat_hub *h, chat_str room)
{
    chat_room *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    memcpy(r->name, room.p, room.len);
    r->node.key = r->name;
    r->node.len = room.len;
    chat_map_init(&r->names, h->key);
    if (chat_map_put(&h->rooms, &r->node) < 0) {
        free(r);
        return NULL;
    }
    if (cluster_ready(h))
        request_sync(h, r, 0);
    return r;
}

static void room_maybe_free(chat_hub *h, chat_room *r)
{
    if (r->members)
        return;
    chat_map_iter it;
    chat_map_iter_init(&it);
    for (chat_map_node *n; (n = chat_map_iter_next(&r->names, &it));)
        free(n);
    chat_map_free(&r->names);
    chat_map_del(&h->rooms, &r->node);
    free(r);
}

static chat_name *name_get(chat_room *r, chat_str name)
{
    return (chat_name *)chat_map_get(&r->names, name.p, name.len);
}

static chat_name *name_create(chat_room *r, chat_str name)
{
    chat_name *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    memcpy(e->name, name.p, name.len);
    e->node.key = e->name;
    e->node.len = name.len;
    if (chat_map_put(&r->names, &e->node) < 0) {
        free(e);
        return NULL;
    }
    return e;
}

/* After e changed: announce it when it entered or left the user list
 * (to everyone joined but `skip`), and forget it when nobody holds it. */
static void name_changed(chat_hub *h, chat_room *r, chat_name *e, int was_shown,
                         const chat_member *skip)
{
    int now = shown(e);
    if (now != was_shown) {
        if (now)
            r->shown++;
        else
            r->shown--;
        char buf[EVENT_MAX];
        size_t len = person_event(buf, sizeof buf, now ? "join" : "leave", room_str(r),
                                  name_str(e), NULL);
        if (len)
            deliver(h, r, skip, buf, len);
    }
    if (!e->local && !e->owner[0]) {
        chat_map_del(&r->names, &e->node);
        free(e);
    }
}

static void log_member(const char *what, const chat_room *r, const chat_name *e,
                       const chat_member *m, const char *extra)
{
    if (!chat_log_verbose())
        return;
    char room[CHAT_ESC_SIZE(CHAT_MAX_ROOM)], name[CHAT_ESC_SIZE(CHAT_MAX_NAME)];
    chat_logv("%s room=%s name=%s%s%s%s", what,
              chat_log_escape(room, sizeof room, r->name, r->node.len),
              chat_log_escape(name, sizeof name, e->name, e->node.len), m && m->label ? " " : "",
              m && m->label ? m->label : "", extra ? extra : "");
}

/* ---- members */

void chat_member_init(chat_member *m, void *user, const char *label)
{
    memset(m, 0, sizeof *m);
    m->user = user;
    m->label = label;
}

static void activate(chat_hub *h, chat_member *m)
{
    chat_room *r = m->room;
    chat_name *e = m->entry;
    int was = shown(e);
    m->state = CHAT_JOINED;
    m->join_ok = 0;
    m->prev = NULL;
    m->next = r->joined;
    if (r->joined)
        r->joined->prev = m;
    r->joined = m;
    log_member("join", r, e, m, NULL);
    send_users(h, r, m);
    name_changed(h, r, e, was, m);
}

/* Takes m out of its room. `registered`: tell the cluster the name is
 * free (not when the cluster said it belongs to someone else). */
static void release(chat_hub *h, chat_member *m, int registered)
{
    chat_room *r = m->room;
    chat_name *e = m->entry;
    if (!r)
        return;
    if (m->join) {
        m->join->member = NULL; /* the answer comes later, for nobody */
        m->join = NULL;
    }
    int was_joined = m->state == CHAT_JOINED, held = was_joined || m->join_ok;
    if (was_joined) {
        if (m->prev)
            m->prev->next = m->next;
        else
            r->joined = m->next;
        if (m->next)
            m->next->prev = m->prev;
        m->prev = m->next = NULL;
    }
    char name[CHAT_MAX_NAME + 1];
    size_t name_len = e->node.len;
    memcpy(name, e->name, name_len);
    int was = shown(e);
    e->local = NULL;
    m->state = CHAT_OUTSIDE;
    m->join_ok = 0;
    m->room = NULL;
    m->entry = NULL;
    r->members--;
    name_changed(h, r, e, was, NULL);
    if (registered && held && cluster_ready(h))
        h->cl.leave(h->cl.cl, room_str(r), str_of(name, name_len), r->members == 0);
    room_maybe_free(h, r);
}

void chat_hub_leave(chat_hub *h, chat_member *m)
{
    if (!m->room)
        return;
    if (m->state == CHAT_JOINED)
        log_member("leave", m->room, m->entry, m, NULL);
    release(h, m, 1);
}

void chat_hub_join(chat_hub *h, chat_member *m, chat_str room, chat_str name)
{
    if (!room.len || room.len > CHAT_MAX_ROOM || !name.len || name.len > CHAT_MAX_NAME) {
        chat_hub_error(h, m, "join needs a room (up to 64 bytes) and a name (up to 32 bytes)");
        return;
    }
    chat_hub_leave(h, m);
    chat_room *r = room_get(h, room);
    if (!r && !(r = room_create(h, room))) {
        chat_hub_error(h, m, "out of memory");
        return;
    }
    chat_name *e = name_get(r, name);
    if (e && (e->local || e->owner[0])) {
        chat_hub_error(h, m, "name taken in this room");
        room_maybe_free(h, r);
        return;
    }
    if (r->shown >= CHAT_MAX_ROOM_NAMES) {
        chat_hub_error(h, m, "room is full");
        room_maybe_free(h, r);
        return;
    }
    if (!e && !(e = name_create(r, name))) {
        chat_hub_error(h, m, "out of memory");
        room_maybe_free(h, r);
        return;
    }
    e->local = m;
    m->entry = e;
    m->room = r;
    m->state = CHAT_JOINING;
    m->join_ok = 0;
    r->members++;
    if (!cluster_ready(h)) {
        activate(h, m); /* one node, or the cluster is away: local names only */
        return;
    }
    chat_join *j = calloc(1, sizeof *j);
    if (j) {
        j->member = m;
        j->room_len = room.len;
        j->name_len = name.len;
        memcpy(j->room, room.p, room.len);
        memcpy(j->name, name.p, name.len);
    }
    if (!j || h->cl.join(h->cl.cl, room, name, j) < 0) {
        free(j);
        chat_hub_error(h, m, "server busy: try again");
        release(h, m, 0);
        return;
    }
    m->join = j;
}

void chat_hub_say(chat_hub *h, chat_member *m, chat_str text)
{
    if (m->state != CHAT_JOINED) {
        chat_hub_error(h, m, m->state == CHAT_JOINING ? "wait for the users event before sending"
                                                      : "join a room first");
        return;
    }
    chat_room *r = m->room;
    char buf[EVENT_MAX];
    size_t len = person_event(buf, sizeof buf, "message", room_str(r), name_str(m->entry), &text);
    if (!len) {
        chat_hub_error(h, m, "message too long");
        return;
    }
    deliver(h, r, m, buf, len);
    if (!h->clustered)
        return;
    int rc = h->cl.publish(h->cl.cl, room_str(r), name_str(m->entry), text);
    if (rc == CHAT_DROPPED_DOWN)
        chat_hub_error(h, m, "not delivered to other servers: no link to Redis");
    else if (rc == CHAT_DROPPED_FULL)
        chat_hub_error(h, m, "not delivered to other servers: link to Redis congested");
}

/* ---- hub */

chat_hub *chat_hub_new(const chat_sink *sink, const chat_cluster_if *cluster,
                       const uint8_t hash_key[16])
{
    chat_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->sink = *sink;
    if (cluster) {
        h->cl = *cluster;
        h->clustered = 1;
    }
    memcpy(h->key, hash_key, 16);
    chat_map_init(&h->rooms, h->key);
    return h;
}

void chat_hub_free(chat_hub *h)
{
    if (!h)
        return;
    chat_map_iter it;
    chat_map_iter_init(&it);
    for (chat_map_node *n; (n = chat_map_iter_next(&h->rooms, &it));) {
        chat_room *r = (chat_room *)n;
        r->members = 0;
        room_maybe_free(h, r);
    }
    chat_map_free(&h->rooms);
    free(h);
}

size_t chat_hub_room_count(const chat_hub *h)
{
    return h->rooms.count;
}

/* ---- from the cluster */

void chat_hub_join_done(chat_hub *h, void *cookie, int result)
{
    chat_join *j = cookie;
    chat_member *m = j->member;
    if (!m) {
        /* The member left before the answer: give the name back, unless a
         * new member of this node holds it by now. */
        chat_str room = str_of(j->room, j->room_len), name = str_of(j->name, j->name_len);
        chat_room *r = room_get(h, room);
        chat_name *e = r ? name_get(r, name) : NULL;
        if (result == CHAT_JOIN_OK && !(e && e->local) && cluster_ready(h))
            h->cl.leave(h->cl.cl, room, name, r == NULL);
        free(j);
        return;
    }
    free(j);
    m->join = NULL;
    if (result == CHAT_JOIN_TAKEN) {
        log_member("refused", m->room, m->entry, m, " (name taken on another server)");
        chat_hub_error(h, m, "name taken in this room");
        release(h, m, 0);
    } else if (result == CHAT_JOIN_OK && !m->room->synced) {
        m->join_ok = 1; /* joins when the room's names arrive */
    } else {
        activate(h, m);
    }
}

/* Members whose names the cluster accepted, waiting for the room's names. */
static void activate_waiting(chat_hub *h, chat_room *r)
{
    chat_map_iter it;
    chat_map_iter_init(&it);
    for (chat_map_node *n; (n = chat_map_iter_next(&r->names, &it));) {
        chat_name *e = (chat_name *)n;
        if (e->local && e->local->state == CHAT_JOINING && e->local->join_ok)
            activate(h, e->local);
    }
}

void chat_hub_link(chat_hub *h, int up)
{
    chat_map_iter it;
    chat_map_iter_init(&it);
    for (chat_map_node *n; (n = chat_map_iter_next(&h->rooms, &it));) {
        chat_room *r = (chat_room *)n;
        r->synced = 0;
        if (up)
            request_sync(h, r, 1);
        else
            activate_waiting(h, r);
    }
}

void chat_hub_resync(chat_hub *h, int additive)
{
    if (!cluster_ready(h))
        return;
    chat_map_iter it;
    chat_map_iter_init(&it);
    for (chat_map_node *n; (n = chat_map_iter_next(&h->rooms, &it));)
        request_sync(h, (chat_room *)n, additive);
}

static void set_owner(chat_name *e, chat_str node)
{
    memcpy(e->owner, node.p, node.len);
    e->owner[node.len] = '\0';
}

static int owner_is(const chat_name *e, chat_str node)
{
    return strlen(e->owner) == node.len && !memcmp(e->owner, node.p, node.len);
}

void chat_hub_remote_event(chat_hub *h, int kind, chat_str origin, chat_str room, chat_str name,
                           chat_str text)
{
    chat_room *r = room_get(h, room);
    if (!r || !origin.len || origin.len > CHAT_MAX_NODE_ID || !name.len ||
        name.len > CHAT_MAX_NAME)
        return;
    if (kind == 'M') {
        char buf[EVENT_MAX];
        size_t len = text.len <= CHAT_MAX_TEXT
                         ? person_event(buf, sizeof buf, "message", room, name, &text)
                         : 0;
        if (len)
            deliver(h, r, NULL, buf, len);
        return;
    }
    if (!r->synced)
        return; /* the snapshot we wait for already counts it */
    chat_name *e = name_get(r, name);
    if (kind == 'J') {
        if (!e && (r->names.count >= 2 * CHAT_MAX_ROOM_NAMES || !(e = name_create(r, name))))
            return;
        int was = shown(e);
        set_owner(e, origin);
        name_changed(h, r, e, was, NULL);
    } else if (kind == 'L' && e && owner_is(e, origin)) {
        int was = shown(e);
        e->owner[0] = '\0';
        name_changed(h, r, e, was, NULL);
    }
}

void chat_hub_remote_snapshot(chat_hub *h, chat_str room, uint64_t token,
                              const chat_remote_name *names, size_t n)
{
    chat_room *r = room_get(h, room);
    if (!r || token != r->token)
        return; /* an answer to an older sync */
    chat_map_iter it;
    chat_map_iter_init(&it);
    for (chat_map_node *mn; (mn = chat_map_iter_next(&r->names, &it));)
        ((chat_name *)mn)->seen = 0;
    for (size_t i = 0; i < n; i++) {
        chat_str name = names[i].name, node = names[i].node;
        if (!name.len || name.len > CHAT_MAX_NAME || !node.len || node.len > CHAT_MAX_NODE_ID)
            continue;
        chat_name *e = name_get(r, name);
        if (!e && (r->names.count >= 2 * CHAT_MAX_ROOM_NAMES || !(e = name_create(r, name))))
            continue;
        e->seen = 1;
        if (!owner_is(e, node)) {
            int was = shown(e);
            set_owner(e, node);
            name_changed(h, r, e, was, NULL);
        }
    }
    chat_map_iter_init(&it);
    for (chat_map_node *mn; !r->additive && (mn = chat_map_iter_next(&r->names, &it));) {
        chat_name *e = (chat_name *)mn;
        if (!e->seen && e->owner[0]) {
            int was = shown(e);
            e->owner[0] = '\0';
            name_changed(h, r, e, was, NULL); /* may free e: the iterator moved on */
        }
    }
    r->synced = 1;
    activate_waiting(h, r);
}

void chat_hub_remote_conflict(chat_hub *h, chat_str room, chat_str name)
{
    chat_room *r = room_get(h, room);
    chat_name *e = r ? name_get(r, name) : NULL;
    if (!e || !e->local || e->local->state != CHAT_JOINED)
        return;
    chat_member *m = e->local;
    log_member("refused", r, e, m, " (name taken on another server while Redis was away)");
    chat_hub_error(h, m, "name taken in this room");
    release(h, m, 0);
}
