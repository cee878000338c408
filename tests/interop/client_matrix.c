/*
 * client_matrix — ws6455's client role against a real server (Node ws,
 * Python websockets) running tests/interop/{node_echo_server.js,
 * py_echo_server.py}: echoes plus the "cmd:" commands those servers know.
 *
 *   client_matrix ws://127.0.0.1:PORT/
 *
 * Prints "ok"/"FAIL" per check; exit status 0 only when every check passed.
 * Checks content: text and binary echoes of 0, 125, 126, 65535, 65536 and
 * 1 MiB bytes; fragmented sends (a character split across fragments);
 * fragmented receives; ping/pong both ways with payloads; subprotocol and
 * extra header negotiation; close with code and reason both ways.
 */
#define _POSIX_C_SOURCE 200809L
#include "net.h" /* examples/net.h */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

static void check(const char *name, int ok, const char *detail)
{
    if (ok) {
        passed++;
        printf("ok   %s\n", name);
    } else {
        failed++;
        printf("FAIL %s%s%s\n", name, detail ? ": " : "", detail ? detail : "");
    }
    fflush(stdout);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct client {
    int fd;
    ws6455_conn *conn;
    /* the last event of each kind */
    int got_message, msg_opcode;
    uint8_t *msg;
    size_t msg_len;
    int got_ping, got_pong, got_close, close_code;
    char ping[126], pong[126], reason[124];
    char subprotocol[64];
} client;

static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    return net_recv(((client *)user)->fd, buf, cap);
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    return net_send(((client *)user)->fd, buf, len);
}

static void copy_str(char *dst, size_t cap, const void *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void on_open(ws6455_conn *c, const char *sp, void *user)
{
    (void)c;
    client *cl = user;
    copy_str(cl->subprotocol, sizeof cl->subprotocol, sp ? sp : "", sp ? strlen(sp) : 0);
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    (void)c;
    client *cl = user;
    free(cl->msg);
    cl->msg = malloc(len + 1);
    if (!cl->msg)
        abort();
    if (len)
        memcpy(cl->msg, data, len);
    cl->msg[len] = 0;
    cl->msg_len = len;
    cl->msg_opcode = opcode;
    cl->got_message = 1;
}

static void on_ping(ws6455_conn *c, const uint8_t *p, size_t n, void *user)
{
    (void)c;
    client *cl = user;
    copy_str(cl->ping, sizeof cl->ping, p, n);
    cl->got_ping = 1;
}

static void on_pong(ws6455_conn *c, const uint8_t *p, size_t n, void *user)
{
    (void)c;
    client *cl = user;
    copy_str(cl->pong, sizeof cl->pong, p, n);
    cl->got_pong = 1;
}

static void on_close(ws6455_conn *c, int code, const char *reason, size_t n, void *user)
{
    (void)c;
    client *cl = user;
    cl->close_code = code;
    copy_str(cl->reason, sizeof cl->reason, reason, n);
    cl->got_close = 1;
}

/* Runs the loop until *flag is set or 10 s pass. Returns *flag. */
static int pump(client *cl, const int *flag)
{
    uint64_t until = now_ms() + 10000;
    while (!*flag) {
        uint64_t now = now_ms();
        if (now >= until)
            return 0;
        ws6455_conn_tick(cl->conn, now);
        struct pollfd pf = {cl->fd, POLLIN, 0};
        if (ws6455_conn_wants_write(cl->conn))
            pf.events |= POLLOUT;
        if (poll(&pf, 1, (int)(until - now)) < 0 && errno != EINTR)
            return 0;
        if (pf.revents & (POLLOUT | POLLERR | POLLHUP))
            ws6455_conn_on_writable(cl->conn);
        if (pf.revents & (POLLIN | POLLERR | POLLHUP)) {
            if (!ws6455_conn_wants_read(cl->conn))
                return *flag;
            ws6455_conn_on_readable(cl->conn);
        }
    }
    return 1;
}

static int client_open(client *cl, const char *url_str)
{
    memset(cl, 0, sizeof *cl);
    ws6455_url url;
    char host[256];
    if (ws6455_url_parse(url_str, strlen(url_str), &url) < 0 ||
        net_url_host(&url, host, sizeof host) < 0)
        return -1;
    cl->fd = net_connect("client_matrix", host, url.port, 10000);
    if (cl->fd < 0 || net_set_nonblocking(cl->fd) < 0)
        return -1;

    static const char *const protocols[] = {"x-unknown", "chat"};
    static const ws6455_header headers[] = {{"X-Matrix", 8, "42", 2}};
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    char hs[300], target[1024];
    ws6455_config_set_url(&cfg, &url, hs, sizeof hs, target, sizeof target);
    cfg.subprotocols = protocols;
    cfg.subprotocol_count = 2;
    cfg.headers = headers;
    cfg.header_count = 1;
    ws6455_callbacks cb = {.read = io_read,
                           .write = io_write,
                           .on_open = on_open,
                           .on_message = on_message,
                           .on_ping = on_ping,
                           .on_pong = on_pong,
                           .on_close = on_close};
    cl->conn = ws6455_conn_new(&cfg, &cb, cl);
    if (!cl->conn)
        return -1;
    ws6455_conn_tick(cl->conn, now_ms());
    int opened = 0;
    uint64_t until = now_ms() + 10000;
    while (now_ms() < until && !cl->got_close) {
        if (ws6455_conn_state(cl->conn) == WS6455_STATE_OPEN) {
            opened = 1;
            break;
        }
        struct pollfd pf = {cl->fd, POLLIN, 0};
        if (ws6455_conn_wants_write(cl->conn))
            pf.events |= POLLOUT;
        poll(&pf, 1, 100);
        if (pf.revents & POLLOUT)
            ws6455_conn_on_writable(cl->conn);
        if (pf.revents & (POLLIN | POLLHUP | POLLERR))
            ws6455_conn_on_readable(cl->conn);
    }
    return opened ? 0 : -1;
}

static void client_close(client *cl)
{
    ws6455_conn_free(cl->conn);
    close(cl->fd);
    free(cl->msg);
    cl->msg = NULL;
}

static void expect_message(client *cl, const char *name, int opcode, const void *p, size_t n)
{
    char label[160], detail[160];
    int ok = pump(cl, &cl->got_message);
    snprintf(label, sizeof label, "%s: %s %zu bytes", name,
             opcode == WS6455_OP_TEXT ? "text" : "binary", n);
    snprintf(detail, sizeof detail, "got %s opcode %d, %zu bytes", ok ? "message" : "nothing",
             cl->msg_opcode, cl->msg_len);
    check(label,
          ok && cl->msg_opcode == opcode && cl->msg_len == n && (n == 0 || !memcmp(cl->msg, p, n)),
          detail);
    cl->got_message = 0;
}

static void echo(client *cl, const char *name, int opcode, const void *p, size_t n)
{
    int rc = opcode == WS6455_OP_TEXT ? ws6455_send_text(cl->conn, p, n)
                                      : ws6455_send_binary(cl->conn, p, n);
    if (rc < 0) {
        check(name, 0, ws6455_strerror(rc));
        return;
    }
    ws6455_conn_on_writable(cl->conn);
    expect_message(cl, name, opcode, p, n);
}

static void command(client *cl, const char *cmd)
{
    ws6455_send_text(cl->conn, cmd, strlen(cmd));
    ws6455_conn_on_writable(cl->conn);
}

int main(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: %s ws://127.0.0.1:PORT/\n", argv[0]);
        return argc == 2 ? 0 : 2;
    }
    signal(SIGPIPE, SIG_IGN);
    client cl;
    if (client_open(&cl, argv[1]) < 0) {
        printf("FAIL cannot open %s\n", argv[1]);
        return 1;
    }
    check("subprotocol chat negotiated", !strcmp(cl.subprotocol, "chat"), cl.subprotocol);

    const char *hello = "hello from ws6455 — ünïcödé ✓ 𝄞";
    echo(&cl, "echo", WS6455_OP_TEXT, hello, strlen(hello));
    uint8_t bin[256];
    for (int i = 0; i < 256; i++)
        bin[i] = (uint8_t)i;
    echo(&cl, "echo", WS6455_OP_BINARY, bin, sizeof bin);

    static const size_t sizes[] = {0, 125, 126, 65535, 65536, 1u << 20};
    uint8_t *big = malloc(1u << 20);
    char *text = malloc(1u << 20);
    if (!big || !text)
        return 1;
    for (size_t i = 0; i < (1u << 20); i++) {
        big[i] = (uint8_t)(i * 2654435761u >> 13);
        text[i] = (char)('a' + i % 26);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        echo(&cl, "size", WS6455_OP_BINARY, big, sizes[i]);
        echo(&cl, "size", WS6455_OP_TEXT, text, sizes[i]);
    }

    /* Fragmented send, the euro sign (E2 82 AC) split across fragments. */
    ws6455_send_fragment(cl.conn, WS6455_OP_TEXT, "frag-\xe2", 6, 0);
    ws6455_send_fragment(cl.conn, WS6455_OP_CONTINUATION, "\x82\xac", 2, 0);
    int rc = ws6455_send_fragment(cl.conn, WS6455_OP_CONTINUATION, "-end", 4, 1);
    check("fragmented text send accepted", rc == WS6455_OK, ws6455_strerror(rc));
    ws6455_conn_on_writable(cl.conn);
    expect_message(&cl, "fragmented send", WS6455_OP_TEXT, "frag-\xe2\x82\xac-end", 12);
    ws6455_send_fragment(cl.conn, WS6455_OP_BINARY, big, 70000, 0);
    ws6455_ping(cl.conn, "between", 7); /* a control frame inside a fragmented message */
    ws6455_send_fragment(cl.conn, WS6455_OP_CONTINUATION, big + 70000, 0, 0);
    ws6455_send_fragment(cl.conn, WS6455_OP_CONTINUATION, big + 70000, 1000, 1);
    ws6455_conn_on_writable(cl.conn);
    expect_message(&cl, "fragmented send", WS6455_OP_BINARY, big, 71000);
    check("pong for the ping between fragments", pump(&cl, &cl.got_pong) && !strcmp(cl.pong, "between"),
          cl.pong);
    cl.got_pong = 0;

    /* Ping from us: the pong carries the payload. */
    ws6455_ping(cl.conn, "matrix-ping", 11);
    ws6455_conn_on_writable(cl.conn);
    check("client ping answered with its payload", pump(&cl, &cl.got_pong) && !strcmp(cl.pong, "matrix-ping"),
          cl.pong);

    /* Ping from the server: answered automatically, the server says so. */
    command(&cl, "cmd:ping server-ping");
    expect_message(&cl, "server ping, pong seen by server", WS6455_OP_TEXT, "pong:server-ping", 16);
    check("server ping delivered to on_ping", cl.got_ping && !strcmp(cl.ping, "server-ping"), cl.ping);

    command(&cl, "cmd:fragments");
    expect_message(&cl, "fragmented receive", WS6455_OP_TEXT, "frag-\xe2\x82\xac-end", 12);
    command(&cl, "cmd:protocol");
    expect_message(&cl, "server sees subprotocol", WS6455_OP_TEXT, "protocol:chat", 13);
    command(&cl, "cmd:header X-Matrix");
    expect_message(&cl, "server sees extra header", WS6455_OP_TEXT, "header:42", 9);

    /* We close with a code and reason; the server answers the close. */
    ws6455_close(cl.conn, 4001, "matrix bye", 10);
    ws6455_conn_on_writable(cl.conn);
    int closed = pump(&cl, &cl.got_close);
    char detail[200];
    snprintf(detail, sizeof detail, "code %d reason \"%s\"", cl.close_code, cl.reason);
    check("client close: server echoed code 4001", closed && cl.close_code == 4001, detail);
    client_close(&cl);

    /* The server closes with a code and reason. */
    if (client_open(&cl, argv[1]) < 0) {
        check("second connection", 0, "cannot open");
    } else {
        command(&cl, "cmd:close 4002 server bye");
        closed = pump(&cl, &cl.got_close);
        snprintf(detail, sizeof detail, "code %d reason \"%s\"", cl.close_code, cl.reason);
        check("server close: code 4002 and reason", closed && cl.close_code == 4002 &&
                                                         !strcmp(cl.reason, "server bye"),
              detail);
        /* The server closes TCP first: wait for its end of stream. */
        uint64_t until = now_ms() + 3000;
        int eof = 0;
        while (!eof && now_ms() < until) {
            struct pollfd pf = {cl.fd, POLLIN, 0};
            if (ws6455_conn_wants_write(cl.conn))
                pf.events |= POLLOUT;
            poll(&pf, 1, 100);
            if (pf.revents & POLLOUT)
                ws6455_conn_on_writable(cl.conn);
            if (pf.revents & (POLLIN | POLLHUP))
                eof = net_discard_input(cl.fd);
        }
        check("server closed the TCP connection after the close handshake", eof, NULL);
        client_close(&cl);
    }
    free(big);
    free(text);
    printf("client_matrix %s: %d passed, %d failed\n", argv[1], passed, failed);
    return failed ? 1 : 0;
}
