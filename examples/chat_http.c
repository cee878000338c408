/*
 * chat_server's own HTTP: reads a request head (bounded: 8 KiB, 64
 * headers, 10 s), serves the page at /, and hands GET /chat to chat_ws.c
 * with the request line, the headers and whatever bytes followed the head.
 * Ordinary responses close the connection after a short lingering close.
 */
#define _GNU_SOURCE
#include "chat_server.h"

#include "chat_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct chat_http {
    char req[CHAT_MAX_REQUEST];
    size_t req_len;
    char *resp;
    size_t resp_len, resp_off;
    int lingering;
};

void chat_http_start(peer *p)
{
    p->kind = PEER_HTTP;
    p->http = calloc(1, sizeof *p->http);
    if (!p->http) {
        chat_peer_free(p, 1);
        return;
    }
    chat_timers_set(&p->srv->loop.timers, &p->timer, p->srv->loop.now + CHAT_REQUEST_TIMEOUT_MS);
}

void chat_http_free(peer *p)
{
    if (p->http)
        free(p->http->resp);
    free(p->http);
    p->http = NULL;
}

/* After the response: our side is done; wait a moment for the client to
 * close its side, so that unread request bytes do not turn our close into a
 * reset that could destroy the response in flight. */
static void start_linger(peer *p)
{
    shutdown(p->fd, SHUT_WR);
    p->http->lingering = 1;
    chat_timers_set(&p->srv->loop.timers, &p->timer, p->srv->loop.now + CHAT_HTTP_LINGER_MS);
    chat_peer_watch(p, EPOLLIN);
}

static void respond(peer *p, int status, const char *reason, const char *type, const char *body,
                    size_t body_len, int head_only, const char *extra)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                     status, reason, type, body_len, extra ? extra : "");
    size_t blen = head_only ? 0 : body_len;
    chat_http *h = p->http;
    h->resp = malloc((size_t)n + blen);
    if (!h->resp) {
        start_linger(p);
        return;
    }
    memcpy(h->resp, head, (size_t)n);
    if (blen)
        memcpy(h->resp + n, body, blen);
    h->resp_len = (size_t)n + blen;
    h->resp_off = 0;
    chat_peer_watch(p, EPOLLOUT);
    chat_logv("http %s %d", p->addr, status);
}

static void error_response(peer *p, int status, const char *reason)
{
    char body[128];
    int n = snprintf(body, sizeof body, "%d %s\n", status, reason);
    respond(p, status, reason, "text/plain; charset=utf-8", body, (size_t)n, 0,
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

/* "HTTP/" DIGIT "." DIGIT (RFC 7230 2.6). */
static int version_ok(const char *v, size_t n)
{
    return n == 8 && !memcmp(v, "HTTP/", 5) && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
           v[7] >= '0' && v[7] <= '9';
}

/* A complete request head is in req[0..head_len); the rest follows it. */
static void on_request(peer *p, size_t head_len)
{
    chat_http *h = p->http;
    char *s = h->req, *end = h->req + head_len - 4; /* without the blank line */
    char *eol = memchr(s, '\r', (size_t)(end - s));
    if (!eol)
        eol = end;
    /* request line: METHOD SP TARGET SP VERSION */
    char *sp1 = memchr(s, ' ', (size_t)(eol - s));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == s || sp2 == sp1 + 1 || sp2 + 1 == eol ||
        memchr(sp2 + 1, ' ', (size_t)(eol - sp2 - 1))) {
        error_response(p, 400, "Bad Request");
        return;
    }
    ws6455_header hdr[CHAT_MAX_HEADERS];
    size_t nh = 0;
    for (char *line = eol + 2; line < end;) {
        char *le = memchr(line, '\r', (size_t)(end - line));
        if (!le)
            le = end;
        if (le < end && le[1] != '\n') {
            error_response(p, 400, "Bad Request");
            return;
        }
        char *colon = memchr(line, ':', (size_t)(le - line));
        if (nh == CHAT_MAX_HEADERS) {
            error_response(p, 431, "Request Header Fields Too Large");
            return;
        }
        if (!colon || colon == line) {
            error_response(p, 400, "Bad Request");
            return;
        }
        char *vend, *v = trim(colon + 1, le, &vend);
        hdr[nh++] = (ws6455_header){line, (size_t)(colon - line), v, (size_t)(vend - v)};
        line = le + 2;
    }
    ws6455_http_request req = {s,        (size_t)(sp1 - s),   sp1 + 1, (size_t)(sp2 - sp1 - 1),
                               sp2 + 1,  (size_t)(eol - sp2 - 1), hdr, nh};
    size_t plen = req.target_len;
    const char *q = memchr(req.target, '?', req.target_len);
    if (q)
        plen = (size_t)(q - req.target);
    int is_get = req.method_len == 3 && !memcmp(req.method, "GET", 3);
    int is_head = req.method_len == 4 && !memcmp(req.method, "HEAD", 4);
    if (plen == 5 && !memcmp(req.target, "/chat", 5)) {
        /* Everything else (version, method, Host, Upgrade, key, WebSocket
         * version) the library checks, answering 400/405/426 itself. */
        chat_ws_upgrade(p, &req, (uint8_t *)h->req + head_len, h->req_len - head_len);
        return;
    }
    if (!version_ok(req.version, req.version_len)) {
        error_response(p, 400, "Bad Request");
    } else if (req.version[5] != '1') {
        error_response(p, 505, "HTTP Version Not Supported");
    } else if ((plen == 1 && req.target[0] == '/') ||
               (plen == 11 && !memcmp(req.target, "/index.html", 11))) {
        if (is_get || is_head)
            respond(p, 200, "OK", "text/html; charset=utf-8", p->srv->page, p->srv->page_len,
                    is_head, NULL);
        else
            error_response(p, 405, "Method Not Allowed");
    } else {
        error_response(p, 404, "Not Found");
    }
}

static void on_readable(peer *p)
{
    chat_http *h = p->http;
    if (h->lingering) {
        char buf[4096];
        ssize_t n = recv(p->fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            chat_peer_free(p, 0);
        return;
    }
    if (h->resp)
        return; /* answering already; what follows is ignored */
    ssize_t n = recv(p->fd, h->req + h->req_len, sizeof h->req - h->req_len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        chat_peer_free(p, 0);
        return;
    }
    if (n < 0)
        return;
    size_t from = h->req_len > 3 ? h->req_len - 3 : 0;
    h->req_len += (size_t)n;
    for (size_t i = from; i + 4 <= h->req_len; i++)
        if (!memcmp(h->req + i, "\r\n\r\n", 4)) {
            on_request(p, i + 4);
            return;
        }
    if (h->req_len == sizeof h->req)
        error_response(p, 431, "Request Header Fields Too Large");
}

static void on_writable(peer *p)
{
    chat_http *h = p->http;
    while (h->resp_off < h->resp_len) {
        ssize_t n = send(p->fd, h->resp + h->resp_off, h->resp_len - h->resp_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                chat_peer_free(p, 1);
            return;
        }
        h->resp_off += (size_t)n;
    }
    start_linger(p);
}

void chat_http_event(peer *p, uint32_t events)
{
    if (p->http->resp && !p->http->lingering && events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        on_writable(p);
    else if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(p);
}

void chat_http_timer(peer *p)
{
    chat_http *h = p->http;
    if (!h->resp && !h->lingering) {
        error_response(p, 408, "Request Timeout");
        /* the response gets as long as a linger to go out */
        chat_timers_set(&p->srv->loop.timers, &p->timer, p->srv->loop.now + CHAT_HTTP_LINGER_MS);
    } else {
        chat_peer_free(p, h->lingering ? 0 : 1);
    }
}
