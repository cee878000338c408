/*
 * chat_cluster — chat_server nodes joined through Redis (hiredis, async, on
 * chat_server's own epoll loop). It implements the hub's chat_cluster_if:
 * room events go out as PUBLISHes on one channel, names are claimed in one
 * hash per room by small Lua scripts (atomic on the Redis side), and every
 * node keeps a heartbeat key whose expiry lets the others drop its users
 * when it dies. docs/examples.md describes the data model, the delivery
 * guarantees and what happens while Redis is away.
 */
#ifndef CHAT_CLUSTER_H
#define CHAT_CLUSTER_H

#include "chat_hub.h"
#include "chat_loop.h"

#include <stddef.h>
#include <stdint.h>

typedef struct chat_cluster_config {
    const char *host;      /* Redis address (numeric: a name is resolved,
                              blocking, at every connection attempt) */
    int port;
    uint64_t node_ttl_ms;  /* a silent node's users go after this (+ one sweep) */
    size_t max_queue;      /* bytes of commands handed to hiredis and not yet
                              answered before messages are dropped */
    uint64_t retry_max_ms; /* longest wait between reconnection attempts */
} chat_cluster_config;

#define CHAT_CLUSTER_DEFAULT_TTL_MS 10000u
#define CHAT_CLUSTER_DEFAULT_MAX_QUEUE ((size_t)8 << 20)
#define CHAT_CLUSTER_DEFAULT_RETRY_MAX_MS 5000u

typedef struct chat_cluster chat_cluster;

/* NULL on allocation failure or when the OS has no random bytes for the
 * node id. Nothing happens until chat_cluster_start(). */
chat_cluster *chat_cluster_new(const chat_cluster_config *cfg, chat_loop *loop);
/* Where remote events go; set before starting. */
void chat_cluster_set_hub(chat_cluster *cl, chat_hub *hub);
/* The interface for chat_hub_new(). */
void chat_cluster_get_if(chat_cluster *cl, chat_cluster_if *out);
void chat_cluster_start(chat_cluster *cl);
/* This node's id: 16 hex digits, new at every start. */
const char *chat_cluster_node_id(const chat_cluster *cl);
int chat_cluster_is_up(const chat_cluster *cl);

/* Leaving on purpose: the heartbeat key and the node's entries go at once
 * (members should have left first, so their leave events are out). Then
 * run the loop until chat_cluster_idle() or a short deadline. */
void chat_cluster_goodbye(chat_cluster *cl);
int chat_cluster_idle(const chat_cluster *cl);

/* Drops the links without a goodbye (joins still waiting are answered
 * CHAT_JOIN_LOST) and frees everything. */
void chat_cluster_free(chat_cluster *cl);

/* Counters, for logs and tests. */
typedef struct chat_cluster_stats {
    uint64_t published, dropped_down, dropped_full, received, links_up, links_lost;
    size_t queued; /* bytes waiting for replies right now */
} chat_cluster_stats;
void chat_cluster_get_stats(const chat_cluster *cl, chat_cluster_stats *out);

#endif
