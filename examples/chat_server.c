/*
 * chat_server — a chat room server: one port serves the browser page over
 * plain HTTP at / and WebSocket at /chat.
 *
 *   chat_server [--host 127.0.0.1] [--port 9002] [--page FILE] [--verbose]
 *
 * What it demonstrates: embedding ws6455 in an HTTP server of your own. The
 * server reads and parses the HTTP request itself (bounded: 8 KiB, 64
 * headers), answers ordinary requests itself, and for GET /chat hands the
 * parsed request line, the headers and any bytes that followed the request
 * to ws6455_conn_accept_upgrade() — the library checks the RFC 6455 rules,
 * calls on_request (used here to refuse foreign Origins: cross-site
 * WebSocket hijacking), answers 101 and carries on with frames.
 *
 * The protocol is JSON text messages (hand-written, bounded parser and
 * writer with escaping):
 *   client: {"type":"join","room":"r","name":"n"}   {"type":"message","text":"..."}
 *   server: {"type":"users","room":"r","users":["a","b"]} to who joined;
 *           {"type":"join","room":"r","name":"n"}, {"type":"message","room":"r",
 *           "name":"n","text":"..."}, {"type":"leave","room":"r","name":"n"}
 *           to everyone else in the room; {"type":"error","error":"..."}.
 */
#define _GNU_SOURCE
#include "net.h"

#include <errno.h>
#include <libgen.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST 8192    /* HTTP request head */
#define MAX_HEADERS 64
#define MAX_PAGE (1u << 20) /* the page served at / */
#define MAX_NAME 32         /* bytes of UTF-8 */
#define MAX_ROOM 64
#define MAX_TEXT 4096
#define REQUEST_TIMEOUT_MS 10000u
#define LINGER_MS 1000u

typedef struct options {
    const char *host, *port, *page;
    int verbose;
} options;

static options opt = {"127.0.0.1", "9002", NULL, 0};
static char *page;
static size_t page_len;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void logf_(const char *fmt, ...)
{
    if (!opt.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* ------------------------------------------------------------ JSON */

/* Appends to a bounded buffer; `ok` turns 0 when something did not fit. */
typedef struct jbuf {
    char *p;
    size_t len, cap;
    int ok;
} jbuf;

static void jb_raw(jbuf *b, const char *s, size_t n)
{
    if (!b->ok || b->cap - b->len < n) {
        b->ok = 0;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void jb_lit(jbuf *b, const char *s)
{
    jb_raw(b, s, strlen(s));
}

/* A JSON string: quotes, backslash and control characters escaped; the
 * input is valid UTF-8 (it came from a text message) and is kept as is. */
static void jb_str(jbuf *b, const char *s, size_t n)
{
    jb_raw(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            jb_raw(b, esc, 2);
        } else if (ch == '\n') {
            jb_raw(b, "\\n", 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            jb_raw(b, esc, 6);
        } else {
            jb_raw(b, s + i, 1);
        }
    }
    jb_raw(b, "\"", 1);
}

/* A field the parser looks for: a string value, decoded into out. */
typedef struct jfield {
    const char *key;
    char *out;
    size_t cap; /* bytes available, not counting the NUL added */
    size_t len;
    int found;
} jfield;

typedef struct jparser {
    const char *p, *end;
} jparser;

static void jp_ws(jparser *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Parses a string at j->p (at the opening quote) into out (cap bytes, NUL
 * added; out may be NULL to skip). Returns the decoded length or -1. */
static long jp_string(jparser *j, char *out, size_t cap)
{
    if (j->p >= j->end || *j->p != '"')
        return -1;
    j->p++;
    size_t n = 0;
    for (;;) {
        if (j->p >= j->end)
            return -1;
        unsigned char c = (unsigned char)*j->p++;
        char tmp[4];
        size_t tn = 1;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;
        tmp[0] = (char)c;
        if (c == '\\') {
            if (j->p >= j->end)
                return -1;
            char e = *j->p++;
            unsigned cp;
            switch (e) {
            case '"': case '\\': case '/': tmp[0] = e; break;
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case 'n': tmp[0] = '\n'; break;
            case 'r': tmp[0] = '\r'; break;
            case 't': tmp[0] = '\t'; break;
            case 'u':
                if (j->end - j->p < 4 || hex4(j->p, &cp) < 0)
                    return -1;
                j->p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return -1; /* lone low surrogate */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                        hex4(j->p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                        return -1;
                    j->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (cp < 0x80) {
                    tmp[0] = (char)cp;
                } else if (cp < 0x800) {
                    tmp[0] = (char)(0xC0 | cp >> 6);
                    tmp[1] = (char)(0x80 | (cp & 0x3F));
                    tn = 2;
                } else if (cp < 0x10000) {
                    tmp[0] = (char)(0xE0 | cp >> 12);
                    tmp[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                    tmp[2] = (char)(0x80 | (cp & 0x3F));
                    tn = 3;
                } else {
                    tmp[0] = (char)(0xF0 | cp >> 18);
                    tmp[1] = (char)(0x80 | (cp >> 12 & 0x3F));
                    tmp[2] = (char)(0x80 | (cp >> 6 & 0x3F));
                    tmp[3] = (char)(0x80 | (cp & 0x3F));
                    tn = 4;
                }
                if (cp == 0)
                    return -1; /* no NUL inside names and texts */
                break;
            default:
                return -1;
            }
        }
        if (out) {
            if (cap - n < tn)
                return -1;
            memcpy(out + n, tmp, tn);
        }
        n += tn;
    }
    if (out)
        out[n] = '\0';
    return (long)n;
}

/* Parses a flat object whose interesting values are strings. Other values
 * (numbers, true, false, null) are skipped; nested objects and arrays,
 * duplicate wanted keys and trailing bytes are refused. Returns 0 or -1. */
static int json_parse(const char *s, size_t n, jfield *fields, size_t nf)
{
    jparser j = {s, s + n};
    jp_ws(&j);
    if (j.p >= j.end || *j.p++ != '{')
        return -1;
    jp_ws(&j);
    if (j.p < j.end && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            char key[32];
            jp_ws(&j);
            if (jp_string(&j, key, sizeof key - 1) < 0)
                return -1;
            jp_ws(&j);
            if (j.p >= j.end || *j.p++ != ':')
                return -1;
            jp_ws(&j);
            jfield *f = NULL;
            for (size_t i = 0; i < nf; i++)
                if (!strcmp(key, fields[i].key))
                    f = &fields[i];
            if (j.p < j.end && *j.p == '"') {
                if (f && f->found)
                    return -1;
                long len = jp_string(&j, f ? f->out : NULL, f ? f->cap : 0);
                if (len < 0)
                    return -1;
                if (f) {
                    f->len = (size_t)len;
                    f->found = 1;
                }
            } else {
                const char *start = j.p;
                while (j.p < j.end && strchr("-+.0123456789eEtruefalsn", *j.p))
                    j.p++;
                if (j.p == start || f)
                    return -1;
            }
            jp_ws(&j);
            if (j.p >= j.end)
                return -1;
            if (*j.p == ',') {
                j.p++;
                continue;
            }
            if (*j.p++ != '}')
                return -1;
            break;
        }
    }
    jp_ws(&j);
    return j.p == j.end ? 0 : -1;
}

/* ------------------------------------------------------------ peers */

enum peer_kind { PEER_HTTP, PEER_WS };

typedef struct peer {
    int fd;
    enum peer_kind kind;
    uint32_t events;
    uint64_t deadline;  /* HTTP request timeout or linger end; 0: none */
    int lingering;
    /* HTTP: the request head as it arrives, then the response */
    char req[MAX_REQUEST];
    size_t req_len;
    char *resp;
    size_t resp_len, resp_off;
    /* WebSocket */
    ws6455_conn *conn;
    int joined;
    char room[MAX_ROOM + 1], name[MAX_NAME + 1];
    char addr[64];
    struct peer *prev, *next;
} peer;

static int epfd;
static peer *peers;
static uint64_t now;

static void watch(peer *p, uint32_t ev)
{
    if (ev == p->events)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = p};
    epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &e);
    p->events = ev;
}

static void peer_free(peer *p)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    if (p->prev)
        p->prev->next = p->next;
    else
        peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    ws6455_conn_free(p->conn);
    free(p->resp);
    free(p);
}

static void start_linger(peer *p)
{
    shutdown(p->fd, SHUT_WR);
    p->lingering = 1;
    p->deadline = now + LINGER_MS;
    watch(p, EPOLLIN);
}

/* Chooses what to watch for a WebSocket peer after anything happened. */
static void ws_settle(peer *p)
{
    if (p->lingering)
        return;
    if (ws6455_conn_should_close_socket(p->conn)) {
        start_linger(p);
        return;
    }
    uint32_t ev = 0;
    if (ws6455_conn_wants_read(p->conn))
        ev |= EPOLLIN;
    if (ws6455_conn_wants_write(p->conn))
        ev |= EPOLLOUT;
    watch(p, ev);
}

/* Queues a text message for a peer; a peer too slow to take it is closed. */
static void send_json(peer *to, const jbuf *b)
{
    int rc = ws6455_send_text(to->conn, b->p, b->len);
    if (rc == WS6455_ERR_WOULD_EXCEED_LIMIT)
        ws6455_close(to->conn, 1013, "too slow", 8);
    ws_settle(to);
}

static void send_error(peer *to, const char *what)
{
    char buf[256];
    jbuf b = {buf, 0, sizeof buf, 1};
    jb_lit(&b, "{\"type\":\"error\",\"error\":");
    jb_str(&b, what, strlen(what));
    jb_lit(&b, "}");
    send_json(to, &b);
}

/* {"type":TYPE,"room":..,"name":..[,"text":..]} to everyone else in the room. */
static void broadcast(peer *from, const char *type, const char *text, size_t text_len)
{
    char buf[MAX_TEXT * 6 + MAX_NAME * 6 + MAX_ROOM * 6 + 128];
    jbuf b = {buf, 0, sizeof buf, 1};
    jb_lit(&b, "{\"type\":\"");
    jb_lit(&b, type);
    jb_lit(&b, "\",\"room\":");
    jb_str(&b, from->room, strlen(from->room));
    jb_lit(&b, ",\"name\":");
    jb_str(&b, from->name, strlen(from->name));
    if (text) {
        jb_lit(&b, ",\"text\":");
        jb_str(&b, text, text_len);
    }
    jb_lit(&b, "}");
    if (!b.ok)
        return;
    for (peer *p = peers; p; p = p->next)
        if (p != from && p->kind == PEER_WS && p->joined && !p->lingering &&
            ws6455_conn_state(p->conn) == WS6455_STATE_OPEN && !strcmp(p->room, from->room))
            send_json(p, &b);
}

static void leave(peer *p)
{
    if (!p->joined)
        return;
    broadcast(p, "leave", NULL, 0);
    logf_("leave room=%s name=%s", p->room, p->name);
    p->joined = 0;
}

static void send_users(peer *to)
{
    size_t count = 0;
    for (peer *p = peers; p; p = p->next)
        if (p->kind == PEER_WS && p->joined && !strcmp(p->room, to->room))
            count++;
    size_t cap = 64 + MAX_ROOM * 6 + count * (MAX_NAME * 6 + 3);
    jbuf b = {malloc(cap), 0, cap, 1};
    if (!b.p)
        return;
    jb_lit(&b, "{\"type\":\"users\",\"room\":");
    jb_str(&b, to->room, strlen(to->room));
    jb_lit(&b, ",\"users\":[");
    int first = 1;
    for (peer *p = peers; p; p = p->next) {
        if (p->kind != PEER_WS || !p->joined || strcmp(p->room, to->room))
            continue;
        if (!first)
            jb_lit(&b, ",");
        first = 0;
        jb_str(&b, p->name, strlen(p->name));
    }
    jb_lit(&b, "]}");
    if (b.ok)
        send_json(to, &b);
    free(b.p);
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    peer *p = user;
    if (opcode != WS6455_OP_TEXT) {
        ws6455_close(c, 1003, "text only", 9);
        return;
    }
    char type[16], room[MAX_ROOM + 1], name[MAX_NAME + 1], text[MAX_TEXT + 1];
    jfield f[] = {{"type", type, sizeof type - 1, 0, 0},
                  {"room", room, MAX_ROOM, 0, 0},
                  {"name", name, MAX_NAME, 0, 0},
                  {"text", text, MAX_TEXT, 0, 0}};
    if (json_parse((const char *)data, len, f, 4) < 0 || !f[0].found) {
        send_error(p, "expected a JSON object with a type (names up to 32 bytes, rooms up to "
                      "64, texts up to 4096)");
        return;
    }
    if (!strcmp(type, "join")) {
        if (!f[1].found || !f[2].found || !f[1].len || !f[2].len) {
            send_error(p, "join needs a room and a name");
            return;
        }
        leave(p);
        memcpy(p->room, room, f[1].len + 1);
        memcpy(p->name, name, f[2].len + 1);
        p->joined = 1;
        logf_("join room=%s name=%s", p->room, p->name);
        send_users(p);
        broadcast(p, "join", NULL, 0);
    } else if (!strcmp(type, "message")) {
        if (!p->joined || !f[3].found) {
            send_error(p, p->joined ? "message needs a text" : "join a room first");
            return;
        }
        broadcast(p, "message", text, f[3].len);
    } else {
        send_error(p, "unknown type");
    }
}

static void on_close(ws6455_conn *c, int code, const char *reason, size_t len, void *user)
{
    (void)c;
    peer *p = user;
    logf_("close %s code=%d reason=\"%.*s\"", p->addr, code, (int)(len > 100 ? 100 : len),
          reason);
    leave(p);
}

/* Refuses a browser page from another origin (cross-site WebSocket
 * hijacking): the Origin, when there is one, must name this Host. */
static int on_request(ws6455_conn *c, const ws6455_request *req, ws6455_handshake_reply *reply,
                      void *user)
{
    (void)c;
    (void)user;
    size_t olen, hlen;
    const char *origin = ws6455_request_header(req, "Origin", &olen);
    const char *host = ws6455_request_header(req, "Host", &hlen);
    if (!origin)
        return 0;
    const char *rest = NULL;
    if (olen > 7 && !strncasecmp(origin, "http://", 7))
        rest = origin + 7;
    else if (olen > 8 && !strncasecmp(origin, "https://", 8))
        rest = origin + 8;
    size_t rlen = rest ? olen - (size_t)(rest - origin) : 0;
    if (!rest || !host || rlen != hlen || strncasecmp(rest, host, hlen)) {
        logf_("refused Origin %s for Host %s", origin, host ? host : "(none)");
        reply->status = 403;
        reply->body = "cross-origin WebSocket refused";
    }
    return 0;
}

static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    return net_recv(((peer *)user)->fd, buf, cap);
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    return net_send(((peer *)user)->fd, buf, len);
}

/* ------------------------------------------------------------ HTTP */

static void http_respond(peer *p, int status, const char *reason, const char *type,
                         const char *body, size_t body_len, int head_only, const char *extra)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                     status, reason, type, body_len, extra ? extra : "");
    size_t blen = head_only ? 0 : body_len;
    p->resp = malloc((size_t)n + blen);
    if (!p->resp) {
        start_linger(p);
        return;
    }
    memcpy(p->resp, head, (size_t)n);
    if (blen)
        memcpy(p->resp + n, body, blen);
    p->resp_len = (size_t)n + blen;
    p->resp_off = 0;
    watch(p, EPOLLOUT);
    logf_("http %s %d", p->addr, status);
}

static void http_error(peer *p, int status, const char *reason)
{
    char body[128];
    int n = snprintf(body, sizeof body, "%d %s\n", status, reason);
    http_respond(p, status, reason, "text/plain; charset=utf-8", body, (size_t)n, 0,
                 status == 405 ? "Allow: GET, HEAD\r\n" : NULL);
}

static char *trim(char *s, char *end, char **out_end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *out_end = end;
    return s;
}

/* Hands a parsed GET /chat to the engine. */
static void upgrade(peer *p, const ws6455_http_request *req, uint8_t *rest, size_t rest_len)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    cfg.max_frame_size = cfg.max_message_size = 64 * 1024;
    cfg.max_output_buffer = 1u << 20;
    cfg.ping_interval_ms = 30000; /* find vanished browsers */
    cfg.ping_timeout_ms = 30000;
    ws6455_callbacks cb = {.read = io_read,
                           .write = io_write,
                           .on_request = on_request,
                           .on_message = on_message,
                           .on_close = on_close};
    p->conn = ws6455_conn_new(&cfg, &cb, p);
    if (!p->conn) {
        http_error(p, 500, "Internal Server Error");
        return;
    }
    p->kind = PEER_WS;
    p->deadline = 0;
    ws6455_conn_tick(p->conn, now);
    int rc = ws6455_conn_accept_upgrade(p->conn, req, rest, rest_len);
    if (rc == WS6455_OK)
        logf_("upgrade %s %.*s", p->addr, (int)req->target_len, req->target);
    else
        logf_("upgrade refused %s: %s", p->addr, ws6455_strerror(rc));
    ws6455_conn_on_writable(p->conn);
    ws_settle(p);
}

/* A complete request head is in p->req[0..head_len); the rest follows. */
static void http_request(peer *p, size_t head_len)
{
    char *s = p->req, *end = p->req + head_len - 4; /* without the blank line */
    char *eol = memchr(s, '\r', (size_t)(end - s));
    if (!eol)
        eol = end;
    /* request line: METHOD SP TARGET SP HTTP/1.x */
    char *sp1 = memchr(s, ' ', (size_t)(eol - s));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == s || sp2 == sp1 + 1) {
        http_error(p, 400, "Bad Request");
        return;
    }
    ws6455_header h[MAX_HEADERS];
    size_t nh = 0;
    for (char *line = eol + 2; line < end;) {
        char *le = memchr(line, '\r', (size_t)(end - line));
        if (!le)
            le = end;
        if (le[0] == '\r' && le + 1 < end + 2 && le[1] != '\n') {
            http_error(p, 400, "Bad Request");
            return;
        }
        char *colon = memchr(line, ':', (size_t)(le - line));
        if (!colon || colon == line || nh == MAX_HEADERS) {
            if (nh == MAX_HEADERS)
                http_error(p, 431, "Request Header Fields Too Large");
            else
                http_error(p, 400, "Bad Request");
            return;
        }
        char *vend, *v = trim(colon + 1, le, &vend);
        h[nh++] = (ws6455_header){line, (size_t)(colon - line), v, (size_t)(vend - v)};
        line = le + 2;
    }
    const char *method = s, *target = sp1 + 1;
    size_t mlen = (size_t)(sp1 - s), tlen = (size_t)(sp2 - sp1 - 1);
    size_t plen = tlen;
    const char *q = memchr(target, '?', tlen);
    if (q)
        plen = (size_t)(q - target);
    int is_get = mlen == 3 && !memcmp(method, "GET", 3);
    int is_head = mlen == 4 && !memcmp(method, "HEAD", 4);
    if (plen == 5 && !memcmp(target, "/chat", 5)) {
        /* Everything else — method, Upgrade, key, version — the library
         * checks, and answers 400/405/426 itself. */
        /* The request line's version goes along: the library refuses
         * anything older than HTTP/1.1 (RFC 6455 4.1). */
        ws6455_http_request req = {method, mlen, target, tlen, sp2 + 1,
                                   (size_t)(eol - sp2 - 1), h, nh};
        upgrade(p, &req, (uint8_t *)p->req + head_len, p->req_len - head_len);
    } else if ((plen == 1 && target[0] == '/') || (plen == 11 && !memcmp(target, "/index.html", 11))) {
        if (is_get || is_head)
            http_respond(p, 200, "OK", "text/html; charset=utf-8", page, page_len, is_head, NULL);
        else
            http_error(p, 405, "Method Not Allowed");
    } else {
        http_error(p, 404, "Not Found");
    }
}

static void http_readable(peer *p)
{
    if (p->resp)
        return; /* answering already; ignore what follows */
    ssize_t n = recv(p->fd, p->req + p->req_len, sizeof p->req - p->req_len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        peer_free(p);
        return;
    }
    if (n < 0)
        return;
    size_t from = p->req_len > 3 ? p->req_len - 3 : 0;
    p->req_len += (size_t)n;
    for (size_t i = from; i + 4 <= p->req_len; i++)
        if (!memcmp(p->req + i, "\r\n\r\n", 4)) {
            http_request(p, i + 4);
            return;
        }
    if (p->req_len == sizeof p->req)
        http_error(p, 431, "Request Header Fields Too Large");
}

static void http_writable(peer *p)
{
    while (p->resp_off < p->resp_len) {
        ssize_t n = send(p->fd, p->resp + p->resp_off, p->resp_len - p->resp_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            peer_free(p);
            return;
        }
        p->resp_off += (size_t)n;
    }
    start_linger(p);
}

/* ------------------------------------------------------------ loop */

static void peer_event(peer *p, uint32_t ev)
{
    if (p->lingering) {
        if (net_discard_input(p->fd))
            peer_free(p);
        return;
    }
    if (p->kind == PEER_HTTP) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP) && p->resp)
            http_writable(p);
        else if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
            http_readable(p);
        return;
    }
    ws6455_conn_tick(p->conn, now);
    int rc = WS6455_OK;
    if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        rc = ws6455_conn_on_writable(p->conn);
    if (rc != WS6455_ERR_IO && ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
        rc = ws6455_conn_on_readable(p->conn);
    if (rc == WS6455_ERR_IO) {
        ws6455_conn_recv_eof(p->conn); /* on_close: leave the room */
        peer_free(p);
        return;
    }
    ws_settle(p);
}

static void accept_peers(int lfd)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        peer *p = calloc(1, sizeof *p);
        if (!p) {
            close(fd);
            continue;
        }
        net_set_nodelay(fd);
        char host[64] = "?", serv[8] = "?";
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(p->addr, sizeof p->addr, "%s:%s", host, serv);
        p->fd = fd;
        p->kind = PEER_HTTP;
        p->deadline = now + REQUEST_TIMEOUT_MS;
        p->events = EPOLLIN;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = p};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
            close(fd);
            free(p);
            continue;
        }
        p->next = peers;
        if (peers)
            peers->prev = p;
        peers = p;
    }
}

/* Timers: a linear walk, fine for a chat room (echo_server uses a heap). */
static int run_timers(void)
{
    uint64_t next = UINT64_MAX;
    for (peer *p = peers, *nx; p; p = nx) {
        nx = p->next;
        if (p->deadline && p->deadline <= now) {
            if (!p->lingering && p->kind == PEER_HTTP && !p->resp) {
                http_error(p, 408, "Request Timeout");
                p->deadline = now + LINGER_MS;
            } else {
                peer_free(p);
                continue;
            }
        }
        if (p->kind == PEER_WS && !p->lingering) {
            uint64_t d = ws6455_conn_deadline(p->conn);
            if (d <= now) {
                ws6455_conn_tick(p->conn, now);
                ws6455_conn_on_writable(p->conn);
                ws_settle(p);
                d = p->lingering ? p->deadline : ws6455_conn_deadline(p->conn);
            }
            if (d < next)
                next = d;
        }
        if (p->deadline && p->deadline < next)
            next = p->deadline;
    }
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

static int load_page(const char *argv0)
{
    const char *path = opt.page ? opt.page : "examples/chat/index.html";
    FILE *f = fopen(path, "rb");
    char alt[4096];
    if (!f && !opt.page) {
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
    (void)argv0;
    if (!f) {
        fprintf(stderr, "chat_server: cannot open %s: %s (use --page FILE)\n", path,
                strerror(errno));
        return -1;
    }
    page = malloc(MAX_PAGE);
    page_len = page ? fread(page, 1, MAX_PAGE, f) : 0;
    fclose(f);
    return page ? 0 : -1;
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "Chat rooms: the page over HTTP at /, WebSocket at /chat, one port.\n"
            "  --host ADDR   address to listen on (default 127.0.0.1)\n"
            "  --port PORT   port (default 9002; 0 picks a free one)\n"
            "  --page FILE   page served at / (default examples/chat/index.html)\n"
            "  --verbose     log requests, joins, leaves and closes\n"
            "  --help        this text\n",
            argv0);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int has = i + 1 < argc;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout, argv[0]);
            return 0;
        } else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
            opt.verbose = 1;
        } else if (!strcmp(argv[i], "--host") && has) {
            opt.host = argv[++i];
        } else if (!strcmp(argv[i], "--port") && has) {
            opt.port = argv[++i];
        } else if (!strcmp(argv[i], "--page") && has) {
            opt.page = argv[++i];
        } else {
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (load_page(argv[0]) < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);

    int lfd = net_listen("chat_server", opt.host, opt.port, 0, 1024);
    if (lfd < 0)
        return 1;
    char shown[96];
    net_local_name(lfd, shown, sizeof shown);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    static char tag_listen, tag_signal;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &tag_listen};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e);
    e.data.ptr = &tag_signal;
    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &e);
    printf("listening on http://%s/ (WebSocket at ws://%s/chat)\n", shown, shown);
    fflush(stdout);

    int stopping = 0;
    uint64_t stop_at = 0;
    for (;;) {
        now = now_ms();
        int timeout = run_timers();
        if (stopping) {
            if (!peers || now >= stop_at)
                break;
            if (timeout < 0 || timeout > (int)(stop_at - now))
                timeout = (int)(stop_at - now);
        }
        struct epoll_event evs[128];
        int n = epoll_wait(epfd, evs, 128, timeout);
        now = now_ms();
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &tag_listen) {
                accept_peers(lfd);
            } else if (evs[i].data.ptr == &tag_signal) {
                /* Going away: close 1001 to every chat client, 2 s for replies. */
                stopping = 1;
                stop_at = now + 2000;
                epoll_ctl(epfd, EPOLL_CTL_DEL, lfd, NULL);
                epoll_ctl(epfd, EPOLL_CTL_DEL, sfd, NULL);
                for (peer *p = peers, *nx; p; p = nx) {
                    nx = p->next;
                    if (p->kind == PEER_WS && !p->lingering &&
                        ws6455_conn_state(p->conn) == WS6455_STATE_OPEN) {
                        ws6455_close(p->conn, 1001, "server shutting down", 20);
                        ws6455_conn_on_writable(p->conn);
                        ws_settle(p);
                    } else if (p->kind == PEER_HTTP) {
                        peer_free(p);
                    }
                }
            } else {
                /* A peer freed earlier in this batch is never reported again:
                 * only its own event can free it. */
                peer_event(evs[i].data.ptr, evs[i].events);
            }
        }
    }
    while (peers)
        peer_free(peers);
    close(lfd);
    close(sfd);
    close(epfd);
    free(page);
    return 0;
}
