/*
 * chat_server's WebSocket side: everything that touches ws6455.
 *
 *  - One ws6455_context for all connections: configuration, callbacks and
 *    the read buffer are shared, so an idle connection is small.
 *  - Broadcast of one frame: the hub builds each event once, it becomes one
 *    ws6455_message, and every member of the room gets that frame
 *    (ws6455_send_message: a reference over 512 bytes, a copy of the ready
 *    bytes under); nothing is encoded or validated per recipient.
 *  - Output is written once per loop iteration: on_output puts a
 *    connection that got output on the dirty list, and chat_ws_flush()
 *    writes exactly those (a writev of everything queued), so a broadcast
 *    costs one write per member that got something, and nothing for the
 *    rest.
 *  - Time: each connection's timer in the heap follows
 *    ws6455_conn_deadline(); when it fires, ws6455_conn_tick(). The engine
 *    promises that a connection that stops reading (or a close nobody
 *    answers) ends by the deadline it announces: should_close_socket() then
 *    says 1 and the socket goes.
 */
#define _GNU_SOURCE
#include "chat_server.h"

#include "chat_json.h"
#include "chat_log.h"
#include "deflate_opts.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define MAX_OUTPUT ((size_t)1 << 20) /* per connection; past it: close 1013 */
#define MAX_MESSAGE ((size_t)64 << 10)

/* ---- I/O callbacks */

static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    return net_recv(((peer *)user)->fd, buf, cap);
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    return net_send(((peer *)user)->fd, buf, len);
}

/* Everything queued in one system call: after a broadcast a connection
 * holds several messages, each a piece of its own. */
static ptrdiff_t io_writev(void *user, const ws6455_iovec *iov, size_t count)
{
    return net_sendv(((peer *)user)->fd, iov, count);
}

/* ---- events */

/* p goes on the dirty list: written and settled at the end of this loop
 * iteration. */
static void mark(peer *p)
{
    chat_server *s = p->srv;
    if (p->dirty)
        return;
    p->dirty = 1;
    p->dirty_prev = NULL;
    p->dirty_next = s->dirty;
    if (s->dirty)
        s->dirty->dirty_prev = p;
    s->dirty = p;
}

static void on_output(ws6455_conn *c, void *user)
{
    (void)c;
    mark(user);
}

static void undirty(peer *p)
{
    if (!p->dirty)
        return;
    if (p->dirty_prev)
        p->dirty_prev->dirty_next = p->dirty_next;
    else
        p->srv->dirty = p->dirty_next;
    if (p->dirty_next)
        p->dirty_next->dirty_prev = p->dirty_prev;
    p->dirty = 0;
    p->dirty_prev = p->dirty_next = NULL;
}

static chat_str str_of(const char *p, size_t len)
{
    chat_str x = {p, len};
    return x;
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    peer *p = user;
    chat_hub *hub = p->srv->hub;
    if (opcode != WS6455_OP_TEXT) {
        ws6455_close(c, 1003, "text only", 9);
        return;
    }
    char type[16], room[CHAT_MAX_ROOM + 1], name[CHAT_MAX_NAME + 1], text[CHAT_MAX_TEXT + 1];
    chat_jfield f[] = {{"type", type, sizeof type - 1, 0, 0},
                       {"room", room, CHAT_MAX_ROOM, 0, 0},
                       {"name", name, CHAT_MAX_NAME, 0, 0},
                       {"text", text, CHAT_MAX_TEXT, 0, 0}};
    if (chat_json_parse((const char *)data, len, f, 4) < 0 || !f[0].found) {
        chat_hub_error(hub, &p->member,
                       "expected a JSON object with a type (names up to 32 bytes, rooms up to "
                       "64, texts up to 4096)");
        return;
    }
    if (!strcmp(type, "join")) {
        if (!f[1].found || !f[2].found || !f[1].len || !f[2].len)
            chat_hub_error(hub, &p->member, "join needs a room and a name");
        else
            chat_hub_join(hub, &p->member, str_of(room, f[1].len), str_of(name, f[2].len));
    } else if (!strcmp(type, "message")) {
        if (!f[3].found)
            chat_hub_error(hub, &p->member, "message needs a text");
        else
            chat_hub_say(hub, &p->member, str_of(text, f[3].len));
    } else {
        chat_hub_error(hub, &p->member, "unknown type");
    }
}

static void on_close(ws6455_conn *c, int code, const char *reason, size_t len, void *user)
{
    peer *p = user;
    if (chat_log_verbose()) {
        char esc[CHAT_ESC_SIZE(123)];
        chat_logv("close %s code=%d reason=\"%s\" clean=%d", p->addr, code,
                  chat_log_escape(esc, sizeof esc, reason, len), ws6455_conn_was_clean(c));
    }
    chat_hub_leave(p->srv->hub, &p->member);
}

/* Refuses a page from another origin (cross-site WebSocket hijacking): an
 * Origin, when there is one, must name this Host. */
static int on_request(ws6455_conn *c, const ws6455_request *req, ws6455_handshake_reply *reply,
                      void *user)
{
    (void)c;
    peer *p = user;
    size_t olen, hlen;
    const char *origin = ws6455_request_header(req, "Origin", &olen);
    const char *host = ws6455_request_header(req, "Host", &hlen);
    if (!origin)
        return 0;
    const char *rest = NULL;
    if (olen > 7 && strncasecmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else if (olen > 8 && strncasecmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    size_t rlen = rest ? olen - (size_t)(rest - origin) : 0;
    if (!rest || !host || rlen != hlen || strncasecmp(rest, host, hlen) != 0) {
        char eo[CHAT_ESC_SIZE(100)], eh[CHAT_ESC_SIZE(100)];
        chat_logv("refused %s: Origin %s for Host %s", p->addr,
                  chat_log_escape(eo, sizeof eo, origin, olen),
                  host ? chat_log_escape(eh, sizeof eh, host, hlen) : "(none)");
        reply->status = 403;
        reply->body = "cross-origin WebSocket refused";
    }
    return 0;
}

/* ---- the hub's sink: prepared messages */

static void *sink_prepare(void *ctx, const char *json, size_t len)
{
    (void)ctx;
    return ws6455_message_new(NULL, WS6455_OP_TEXT, json, len);
}

static void sink_send(void *ctx, void *user, void *prepared)
{
    (void)ctx;
    peer *p = user;
    int rc = ws6455_send_message(p->conn, prepared);
    if (rc == WS6455_ERR_WOULD_EXCEED_LIMIT || rc == WS6455_ERR_TOO_BIG_TO_SEND) {
        /* A member that does not read: it goes, and the engine sees to it
         * that its socket is closed by the close timeout at the latest. */
        chat_logv("too slow %s: %zu bytes queued, close 1013", p->addr,
                  ws6455_conn_buffered_amount(p->conn));
        ws6455_close(p->conn, 1013, "too slow", 8);
        /* Its queue was not empty, so on_output does not fire: settle it
         * anyway, for the close deadline and to take it out of its room. */
        mark(p);
    }
}

static void sink_release(void *ctx, void *prepared)
{
    (void)ctx;
    ws6455_message_free(prepared);
}

void chat_ws_sink(chat_server *s, chat_sink *out)
{
    out->prepare = sink_prepare;
    out->send = sink_send;
    out->release = sink_release;
    out->ctx = s;
}

/* ---- the context */

int chat_ws_init(chat_server *s)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.flags |= WS6455_SHORT_READ_DRAINED; /* plain TCP */
    cfg.max_frame_size = cfg.max_message_size = MAX_MESSAGE;
    cfg.max_output_buffer = MAX_OUTPUT;
    cfg.close_timeout_ms = s->opt.close_timeout_ms;
    cfg.ping_interval_ms = s->opt.ping_interval_ms; /* find vanished browsers */
    cfg.ping_timeout_ms = s->opt.ping_interval_ms;
    /* --deflate: broadcasts still build one ws6455_message, but each member
     * whose connection negotiated compression gets its own compressed
     * frame (ws6455_send_message compresses per connection); members that
     * did not, and events below deflate.min_size, still share it. */
    cfg.deflate = s->opt.deflate;
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.read = io_read;
    cb.write = io_write;
    cb.writev = io_writev;
    cb.on_request = on_request;
    cb.on_message = on_message;
    cb.on_close = on_close;
    cb.on_output = on_output;
    int err;
    const char *bad;
    s->ctx = ws6455_context_new_err(&cfg, &cb, &err, &bad);
    if (!s->ctx) {
        chat_warn("cannot create the WebSocket context: %s%s%s", ws6455_strerror(err),
                  bad ? " in " : "", bad ? bad : "");
        return -1;
    }
    return 0;
}

void chat_ws_free(chat_server *s)
{
    ws6455_context_free(s->ctx);
    s->ctx = NULL;
}

/* ---- driving a connection */

/* After anything happened to p: close it, or watch what it needs and
 * follow its deadline. */
static void settle(peer *p)
{
    ws6455_conn *c = p->conn;
    if (p->member.room && ws6455_conn_state(c) != WS6455_STATE_OPEN)
        chat_hub_leave(p->srv->hub, &p->member); /* closing: gone from the room now */
    if (ws6455_conn_should_close_socket(c)) {
        /* After a timeout the engine dropped output the peer never read:
         * reset, so the kernel does not keep retrying it either. */
        chat_peer_free(p, ws6455_conn_error(c) == WS6455_ERR_TIMEOUT);
        return;
    }
    uint32_t ev = 0;
    if (ws6455_conn_wants_read(c))
        ev |= EPOLLIN;
    /* On the dirty list, it is written at the end of this iteration anyway:
     * write interest only for what that write leaves behind. */
    if (ws6455_conn_wants_write(c) && !p->dirty)
        ev |= EPOLLOUT;
    chat_peer_watch(p, ev);
    /* Lazily: a deadline that moved later lets the timer fire early, tick,
     * and be set again; only an earlier one moves it now. */
    uint64_t d = ws6455_conn_deadline(c);
    if (d != WS6455_NO_DEADLINE && (!chat_timer_armed(&p->timer) || d < p->timer.at))
        chat_timers_set(&p->srv->loop.timers, &p->timer, d);
}

void chat_ws_upgrade(peer *p, const ws6455_http_request *req, uint8_t *head, size_t head_len)
{
    chat_server *s = p->srv;
    int err;
    ws6455_conn *c = ws6455_conn_new_in_err(s->ctx, p, &err);
    if (!c) {
        chat_warn("cannot create a connection: %s", ws6455_strerror(err));
        chat_peer_free(p, 1);
        return;
    }
    p->conn = c;
    p->kind = PEER_WS;
    chat_member_init(&p->member, p, p->addr);
    chat_timers_cancel(&s->loop.timers, &p->timer);
    ws6455_conn_tick(c, s->loop.now);
    int rc = ws6455_conn_accept_upgrade(c, req, head, head_len);
    if (chat_log_verbose()) {
        char t[CHAT_ESC_SIZE(128)];
        chat_log_escape(t, sizeof t, req->target, req->target_len);
        char pmd[128];
        if (rc == WS6455_OK && ws6455_conn_deflate(c, NULL))
            chat_logv("upgrade %s %s %s", p->addr, t, deflate_opts_describe(c, pmd, sizeof pmd));
        else if (rc == WS6455_OK)
            chat_logv("upgrade %s %s", p->addr, t);
        else
            chat_logv("upgrade refused %s %s: %s", p->addr, t, ws6455_strerror(rc));
    }
    chat_http_free(p); /* the request (and head) are no longer needed */
    if (rc == WS6455_ERR_CLOSED)
        return; /* cannot happen here: no callback frees */
    settle(p); /* the 101 or the error response goes out with the flush */
}

void chat_ws_event(peer *p, uint32_t events)
{
    ws6455_conn *c = p->conn;
    ws6455_conn_tick(c, p->srv->loop.now);
    int rc = WS6455_OK;
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        rc = ws6455_conn_on_writable(c);
    /* WS6455_MORE (the read budget was spent) needs nothing: epoll is
     * level-triggered and reports the socket again next time round, after
     * the other connections had their turn. */
    if (rc != WS6455_ERR_IO && events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        rc = ws6455_conn_on_readable(c);
    /* The socket is dead (an error, or a hang-up: no more I/O either way):
     * on_close(1006) if it had not ended, and close it. */
    if (rc == WS6455_ERR_IO || events & (EPOLLERR | EPOLLHUP))
        ws6455_conn_abort(c);
    settle(p);
}

void chat_ws_timer(peer *p)
{
    ws6455_conn_tick(p->conn, p->srv->loop.now);
    settle(p);
}

void chat_ws_flush(chat_server *s)
{
    while (s->dirty) {
        peer *p = s->dirty;
        undirty(p);
        if (ws6455_conn_wants_write(p->conn) && ws6455_conn_on_writable(p->conn) == WS6455_ERR_IO)
            ws6455_conn_abort(p->conn);
        settle(p);
    }
}

void chat_ws_going_away(chat_server *s)
{
    for (peer *p = s->peers; p; p = p->next)
        if (p->kind == PEER_WS && ws6455_conn_state(p->conn) == WS6455_STATE_OPEN) {
            ws6455_close(p->conn, 1001, "server shutting down", 20);
            mark(p);
        }
}

void chat_ws_peer_free(peer *p)
{
    undirty(p);
    if (p->conn) {
        ws6455_conn_free(p->conn); /* on_close(1006) if it had not ended */
        p->conn = NULL;
    }
    chat_hub_leave(p->srv->hub, &p->member);
}
