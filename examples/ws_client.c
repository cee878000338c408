/*
 * ws_client — a websocat-style command-line WebSocket client.
 *
 *   ws_client [options] ws://host[:port]/path
 *   ws_client --autobahn ws://127.0.0.1:9001 --agent ws6455
 *
 * Each line of standard input is sent as one text message (--binary: one
 * binary message); each message received is printed on its own line. At
 * the end of input it sends close 1000 and waits for the server's reply.
 * The exit status says how the connection ended: 0 after a close with
 * 1000 or 1001, 1 after any other close or a broken connection, 2 when it
 * could not connect at all. The close code is printed on standard error.
 *
 * What it demonstrates: the client role driven by callback I/O over a
 * non-blocking TCP socket in a poll() loop with standard input, URL parsing
 * (ws6455_url_parse, ws6455_config_set_url), subprotocols and extra request
 * headers, keepalive pings, the close handshake from the client's side,
 * and backpressure (standard input is not read while output is queued).
 * The poll() loop, the options and the callbacks it shares with wss_client
 * are in client_common.c; the socket calls are in net.c.
 *
 * With --autobahn it is a client for the Autobahn|Testsuite fuzzing server:
 * it asks /getCaseCount, echoes every message of /runCase?case=N for each
 * case, then asks for /updateReports.
 */
#define _POSIX_C_SOURCE 200809L
#include "client_common.h"
#include "net.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
    client_options common;
    const char *autobahn_url;
    const char *agent;
} options;

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options] ws://host[:port]/path\n"
            "       %s --autobahn ws://host:port [--agent NAME] [--deflate...]\n"
            "Sends each line of standard input as a message and prints each message\n"
            "received on its own line. At end of input: close 1000, wait for the reply.\n"
            "Exit status: 0 after close 1000/1001, 1 after another close, 2 when the\n"
            "connection could not be made.\n",
            argv0, argv0);
    client_usage_common(f);
    fprintf(f,
            "  --autobahn URL       run the Autobahn|Testsuite fuzzing-server cases\n"
            "  --agent NAME         agent name for --autobahn (default ws6455)\n"
            "  --help               this text\n"
            "wss:// URLs need TLS: use wss_client.\n");
}

/* Reads the command line; --help and mistakes end the program here. */
static void parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    client_options_init(&o->common, "ws_client");
    o->agent = "ws6455";
    int ok = 1;
    for (int i = 1; i < argc && ok; i++) {
        const char *a = argv[i];
        int has_arg = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0]);
            exit(0);
        } else if (!strcmp(a, "--autobahn") && has_arg) {
            o->autobahn_url = argv[++i];
        } else if (!strcmp(a, "--agent") && has_arg) {
            o->agent = argv[++i];
        } else {
            ok = client_parse_option(&o->common, argc, argv, &i) > 0;
        }
    }
    /* Either a URL for standard input or --autobahn, not both. */
    if (!ok || (o->common.url != NULL) == (o->autobahn_url != NULL)) {
        usage(stderr, argv[0]);
        exit(2);
    }
    if (client_options_check(&o->common) < 0)
        exit(2);
}

/* ------------------------------------------------------------ session */

enum mode {
    MODE_STDIN,   /* lines of stdin out, messages to stdout */
    MODE_ECHO,    /* send every message back (Autobahn cases) */
    MODE_CAPTURE  /* keep the first text message, then close (getCaseCount) */
};

typedef struct session {
    client_session base; /* first: the shared callbacks take the session as one */
    enum mode mode;
    char captured[64];
    int have_capture;
} session;

/* The transport: the plain TCP socket. */
static ptrdiff_t io_read(void *user, uint8_t *buf, size_t cap)
{
    return net_recv(((session *)user)->base.fd, buf, cap);
}

static ptrdiff_t io_write(void *user, const uint8_t *buf, size_t len)
{
    return net_send(((session *)user)->base.fd, buf, len);
}

static void on_open(ws6455_conn *c, const char *subprotocol, void *user)
{
    (void)c;
    session *s = user;
    if (s->base.opt->verbose)
        client_report_open(&s->base, NULL, subprotocol);
}

static void on_message(ws6455_conn *c, int opcode, const uint8_t *data, size_t len, void *user)
{
    session *s = user;
    switch (s->mode) {
    case MODE_STDIN:
        client_print_message(c, opcode, data, len, user);
        break;
    case MODE_ECHO: {
        int rc = opcode == WS6455_OP_TEXT ? ws6455_send_text(c, (const char *)data, len)
                                          : ws6455_send_binary(c, data, len);
        if (rc < 0 && rc != WS6455_ERR_INVALID_STATE)
            ws6455_close(c, 1011, "echo failed", 11);
        break;
    }
    case MODE_CAPTURE:
        if (!s->have_capture && opcode == WS6455_OP_TEXT) {
            size_t n = len < sizeof s->captured - 1 ? len : sizeof s->captured - 1;
            memcpy(s->captured, data, n);
            s->captured[n] = '\0';
            s->have_capture = 1;
            ws6455_close(c, 1000, NULL, 0);
        }
        break;
    }
}

/* One connection from handshake to closed socket. Returns the exit status:
 * 0 clean close (1000/1001), 1 other ending, 2 could not connect. */
static int run_session(const char *url_str, enum mode mode, const options *o, session *s)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    client_session *cs = &s->base;
    client_session_init(cs, &o->common);
    cs->wait_for_eof = 1; /* the server closes TCP first (RFC 6455 7.1.1) */
    ws6455_url url;
    if (client_parse_url(cs, url_str, &url) < 0)
        return 2;
    if (url.secure) {
        fprintf(stderr, "ws_client: %s: wss:// needs TLS; use wss_client (built with OpenSSL)\n",
                url_str);
        return 2;
    }
    ws6455_callbacks cb = {
        .read = io_read, .write = io_write, .on_open = on_open, .on_message = on_message};
    int status = 2;
    /* Autobahn echoes messages up to 16 MiB: room for a few in the queue. */
    if (client_connect(cs, &url) == 0 && net_set_nonblocking(cs->fd) == 0 &&
        client_start(cs, &url, &cb, (size_t)64 << 20) == 0)
        status = client_run(cs, mode == MODE_STDIN);
    client_session_end(cs);
    return status;
}

/* ------------------------------------------------------------ Autobahn */

/* base + path + percent-encoded agent name. */
static void autobahn_url(char *out, size_t cap, const char *base, const char *path,
                         const char *agent)
{
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    int k = snprintf(out, cap, "%.*s%s", (int)bl, base, path);
    for (const unsigned char *p = (const unsigned char *)agent; *p && k + 4 < (int)cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_')
            out[k++] = (char)*p;
        else
            k += snprintf(out + k, cap - (size_t)k, "%%%02X", *p);
    }
    out[k] = '\0';
}

static int run_autobahn(const options *o)
{
    char url[1024];
    session s;
    autobahn_url(url, sizeof url, o->autobahn_url, "/getCaseCount", "");
    run_session(url, MODE_CAPTURE, o, &s);
    if (!s.have_capture) {
        fprintf(stderr, "ws_client: no case count from %s\n", url);
        return 2;
    }
    int count = atoi(s.captured);
    fprintf(stderr, "autobahn: %d cases\n", count);
    for (int i = 1; i <= count; i++) {
        char path[64];
        snprintf(path, sizeof path, "/runCase?case=%d&agent=", i);
        autobahn_url(url, sizeof url, o->autobahn_url, path, o->agent);
        run_session(url, MODE_ECHO, o, &s);
        if (o->common.verbose)
            fprintf(stderr, "autobahn: case %d/%d closed with %d\n", i, count, s.base.close_code);
    }
    autobahn_url(url, sizeof url, o->autobahn_url, "/updateReports?agent=", o->agent);
    int st = run_session(url, MODE_ECHO, o, &s);
    fprintf(stderr, "autobahn: reports updated for agent %s\n", o->agent);
    return st;
}

int main(int argc, char **argv)
{
    options o;
    parse_options(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    if (o.autobahn_url)
        return run_autobahn(&o);
    session s;
    int status = run_session(o.common.url, MODE_STDIN, &o, &s);
    if (status != 2)
        client_report_close(&s.base);
    return status;
}
