/*
 * chat_hub — rooms, members and the events between them, with no sockets
 * and no Redis in sight: what a member said goes to a sink (chat_ws.c puts
 * it on WebSocket connections as prepared messages), what the other nodes
 * must know goes to a cluster interface (chat_cluster.c talks to Redis),
 * and what they report comes back through the chat_hub_remote_* calls.
 *
 * Costs. A room keeps its members in a list and its names in a hash
 * table, so a message costs one JSON event built, one prepared message and
 * one send per member of its room; a join or leave one hash lookup plus
 * one event to the room. Nothing walks all connections.
 *
 * The user list a member sees is its room's names: the local members that
 * have joined plus the names the cluster reports for other nodes. Every
 * change to that set is announced to the room's members as a join or leave
 * event, and a member that joins gets the whole set in a users event, so
 * users + later events always describe the set (see docs/examples.md for
 * why this stays exact while joins race across nodes).
 */
#ifndef CHAT_HUB_H
#define CHAT_HUB_H

#include <stddef.h>
#include <stdint.h>

#define CHAT_MAX_NAME 32   /* bytes of UTF-8 */
#define CHAT_MAX_ROOM 64
#define CHAT_MAX_TEXT 4096
#define CHAT_MAX_NODE_ID 32
/* Names shown in one room, cluster-wide: keeps a users event well under a
 * connection's 1 MiB output limit. */
#define CHAT_MAX_ROOM_NAMES ((size_t)4096)

/* A byte string that need not be NUL-terminated. */
typedef struct chat_str {
    const char *p;
    size_t len;
} chat_str;

struct chat_room;
struct chat_name;
struct chat_join;

enum chat_member_state { CHAT_OUTSIDE = 0, CHAT_JOINING = 1, CHAT_JOINED = 2 };

/* A chat client, embedded in whatever holds its connection. */
typedef struct chat_member {
    int state;               /* enum chat_member_state */
    int join_ok;             /* JOINING: the cluster accepted the name */
    struct chat_room *room;  /* NULL when OUTSIDE */
    struct chat_name *entry; /* this member's name in its room */
    struct chat_join *join;  /* the cluster's answer we wait for, or NULL */
    struct chat_member *prev, *next; /* the room's joined members */
    void *user;              /* handed to the sink */
    const char *label;       /* for log lines (peer address), may be NULL */
} chat_member;

/* Where events for members go. A prepared event is sent to any number of
 * members and then released. send must not call back into the hub (a
 * member that cannot keep up is closed by the sink, and leaves later). */
typedef struct chat_sink {
    void *(*prepare)(void *ctx, const char *json, size_t len); /* NULL: drop */
    void (*send)(void *ctx, void *member_user, void *prepared);
    void (*release)(void *ctx, void *prepared);
    void *ctx;
} chat_sink;

/* What publish answers. */
#define CHAT_SENT 0
#define CHAT_DROPPED_DOWN (-1) /* no link to the other nodes right now */
#define CHAT_DROPPED_FULL (-2) /* the outgoing queue is over its limit */

/* What a join answered (chat_hub_join_done). */
#define CHAT_JOIN_OK 0
#define CHAT_JOIN_TAKEN 1 /* a member of another node has the name */
#define CHAT_JOIN_LOST 2  /* no answer: the link went down */

/* The rest of the cluster. Every call may be made at any time; the cluster
 * decides what it can do. */
typedef struct chat_cluster_if {
    /* 1 when the link is up and events flow both ways. */
    int (*ready)(void *cl);
    /* A message for the other nodes: CHAT_SENT or CHAT_DROPPED_*. */
    int (*publish)(void *cl, chat_str room, chat_str name, chat_str text);
    /* Claims `name` in `room` for this node; 0 when asked (exactly one
     * chat_hub_join_done with `cookie` follows), < 0 when it could not be
     * asked (nothing follows). */
    int (*join)(void *cl, chat_str room, chat_str name, void *cookie);
    /* Gives the name up; `last`: no member of this node is left in the room. */
    void (*leave)(void *cl, chat_str room, chat_str name, int last);
    /* Registers the given names of this node in the room (and drops the
     * node's other names there), then reports the room's names with
     * chat_hub_remote_snapshot(token) and conflicts with
     * chat_hub_remote_conflict(). */
    void (*sync)(void *cl, chat_str room, const chat_str *names, size_t n, uint64_t token);
    void *cl;
} chat_cluster_if;

typedef struct chat_hub chat_hub;

/* `cluster` may be NULL (one node on its own). `hash_key` seeds the hash
 * tables. NULL on allocation failure. */
chat_hub *chat_hub_new(const chat_sink *sink, const chat_cluster_if *cluster,
                       const uint8_t hash_key[16]);
/* Every member must have left. */
void chat_hub_free(chat_hub *h);

void chat_member_init(chat_member *m, void *user, const char *label);

/* A member's requests. Errors go back to the member as error events. */
void chat_hub_join(chat_hub *h, chat_member *m, chat_str room, chat_str name);
void chat_hub_say(chat_hub *h, chat_member *m, chat_str text);
/* The member leaves its room (no-op when OUTSIDE). */
void chat_hub_leave(chat_hub *h, chat_member *m);
/* {"type":"error","error":what} to one member. */
void chat_hub_error(chat_hub *h, chat_member *m, const char *what);

/* Counters for logs and tests. */
size_t chat_hub_room_count(const chat_hub *h);

/* ---- from the cluster */

void chat_hub_join_done(chat_hub *h, void *cookie, int result);
/* The link came up (resynchronise every room, adding names only) or went
 * down. */
void chat_hub_link(chat_hub *h, int up);
/* Resynchronise every room again. `additive`: names missing from the
 * answer stay (after a Redis restart the other nodes register their users
 * again one by one, and a name must not flap out and back in); the cluster
 * asks for a full sync one TTL after the link came up, when every live
 * node has had time to come back. */
void chat_hub_resync(chat_hub *h, int additive);
/* Another node's events. kind: 'J' join, 'L' leave, 'M' message. */
void chat_hub_remote_event(chat_hub *h, int kind, chat_str origin, chat_str room, chat_str name,
                           chat_str text);
/* A room's names with their nodes, this node's left out, as of the moment
 * the sync with `token` ran. */
typedef struct chat_remote_name {
    chat_str name, node;
} chat_remote_name;
void chat_hub_remote_snapshot(chat_hub *h, chat_str room, uint64_t token,
                              const chat_remote_name *names, size_t n);
/* The sync found `name` held by another node: this node's member with it
 * is told and leaves the room. */
void chat_hub_remote_conflict(chat_hub *h, chat_str room, chat_str name);

#endif
