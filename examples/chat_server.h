/*
 * chat_server's shared state: the server (loop, ws6455 context, hub,
 * cluster, listening socket) and its peers (one per TCP connection: first
 * an HTTP request, then, for GET /chat, a WebSocket connection). The
 * modules: chat_server.c (options, accept, signals, the loop), chat_http.c
 * (requests and the page), chat_ws.c (everything that touches ws6455),
 * chat_hub.c (rooms), chat_cluster.c (Redis).
 */
#ifndef CHAT_SERVER_H
#define CHAT_SERVER_H

#include "chat_hub.h"
#include "chat_loop.h"

#include <ws6455.h>

#include <stddef.h>
#include <stdint.h>

#define CHAT_MAX_REQUEST 8192 /* HTTP request head */
#define CHAT_MAX_HEADERS 64
#define CHAT_REQUEST_TIMEOUT_MS 10000u
#define CHAT_HTTP_LINGER_MS 1000u

typedef struct chat_options {
    const char *host, *port, *page, *redis;
    int verbose;
    uint64_t close_timeout_ms, ping_interval_ms, node_ttl_ms;
    size_t redis_queue;
    ws6455_deflate_options deflate; /* --deflate... (deflate_opts.h) */
} chat_options;

struct chat_cluster;
typedef struct chat_http chat_http;

typedef struct chat_server {
    chat_options opt;
    chat_loop loop;
    ws6455_context *ctx;
    chat_hub *hub;
    struct chat_cluster *cluster;
    char *page;
    size_t page_len;
    struct peer *peers;       /* every peer, for shutdown */
    size_t npeers;
    struct peer *dirty;       /* WebSocket peers that got output this iteration */
    int stopping;
} chat_server;

enum peer_kind { PEER_HTTP, PEER_WS };

typedef struct peer {
    chat_watch watch; /* first: the loop dispatches on it */
    chat_server *srv;
    int fd;
    int kind;
    uint32_t events;  /* what epoll watches */
    chat_timer timer; /* HTTP: request timeout or linger end; WebSocket: the
                         engine's deadline */
    char addr[64];
    chat_http *http;  /* while it is an HTTP request */
    ws6455_conn *conn;
    chat_member member;
    int dirty;
    struct peer *dirty_prev, *dirty_next;
    struct peer *prev, *next;
} peer;

/* chat_server.c */
void chat_peer_watch(peer *p, uint32_t events);
/* Closes the socket and frees the peer. `reset`: abortive close (RST), for
 * a peer whose unsent output was given up. */
void chat_peer_free(peer *p, int reset);

/* chat_http.c */
void chat_http_start(peer *p);     /* a new connection */
void chat_http_event(peer *p, uint32_t events);
void chat_http_timer(peer *p);
void chat_http_free(peer *p);

/* chat_ws.c */
int chat_ws_init(chat_server *s);  /* the context and the hub's sink */
void chat_ws_sink(chat_server *s, chat_sink *out);
void chat_ws_free(chat_server *s);
/* GET /chat: the parsed request and the bytes that came after it. */
void chat_ws_upgrade(peer *p, const ws6455_http_request *req, uint8_t *head, size_t head_len);
void chat_ws_event(peer *p, uint32_t events);
void chat_ws_timer(peer *p);
/* Writes what this loop iteration queued, connection by connection. */
void chat_ws_flush(chat_server *s);
/* Close 1001 to every WebSocket peer. */
void chat_ws_going_away(chat_server *s);
void chat_ws_peer_free(peer *p);

#endif
