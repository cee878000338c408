/*
 * wss_client — ws_client over TLS: WebSocket through OpenSSL, plugged into
 * ws6455's read/write callbacks.
 *
 *   wss_client [--cafile FILE | --insecure] [options] wss://host[:port]/path
 *
 * Each line of standard input is sent as a text message (--binary: binary),
 * each message received is printed on its own line; at the end of input it
 * sends close 1000 and waits for the reply. Exit status: 0 after close
 * 1000/1001, 1 after another ending, 2 when no connection was made.
 *
 * The TLS part is all in tls_handshake/tls_read/tls_write: SSL_connect,
 * SSL_read and SSL_write on a non-blocking socket, SSL_ERROR_WANT_READ /
 * SSL_ERROR_WANT_WRITE mapped to "wait for the socket" (the handshake) or
 * WS6455_IO_WOULD_BLOCK (the engine's callbacks), the peer's TLS
 * close_notify mapped to end of stream. The TLS handshake runs in the
 * poll() loop under the engine's handshake timeout (--handshake-timeout,
 * default 10 s), so a server that accepts and never answers the
 * ClientHello cannot hang the client. The engine neither knows nor cares
 * that the bytes are encrypted.
 * Certificates are checked against the system store (or --cafile),
 * including the host name or IP address; --insecure skips that. Everything
 * else — options, stdin lines, the poll() loop — it shares with ws_client
 * through client_common.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "client_common.h"
#include "net.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
    client_options common;
    const char *cafile;
    int insecure;
} options;

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options] wss://host[:port]/path\n"
            "ws_client over TLS (OpenSSL): lines of standard input out as messages,\n"
            "messages in printed one per line; close 1000 at end of input.\n"
            "  --cafile FILE        trust the certificates in FILE (PEM)\n"
            "  --insecure           do not verify the server's certificate\n",
            argv0);
    client_usage_common(f);
    fprintf(f, "  --help               this text\n");
}

/* Reads the command line; --help and mistakes end the program here. */
static void parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    client_options_init(&o->common, "wss_client");
    int ok = 1;
    for (int i = 1; i < argc && ok; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0]);
            exit(0);
        } else if (!strcmp(a, "--insecure") || !strcmp(a, "-k")) {
            o->insecure = 1;
        } else if (!strcmp(a, "--cafile") && i + 1 < argc) {
            o->cafile = argv[++i];
        } else {
            ok = client_parse_option(&o->common, argc, argv, &i) > 0;
        }
    }
    if (!ok || !o->common.url) {
        usage(stderr, argv[0]);
        exit(2);
    }
    if (client_options_check(&o->common) < 0)
        exit(2);
}

static void tls_errors(const char *what)
{
    fprintf(stderr, "wss_client: %s", what);
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        fprintf(stderr, ": %s", buf);
    }
    fputc('\n', stderr);
}

/* ------------------------------------------------------------ session */

typedef struct session {
    client_session base; /* first: the shared callbacks take the session as one */
    SSL *ssl;
} session;

/* The TLS transport: what the engine's callbacks see as a byte stream. */
static ptrdiff_t tls_read(void *user, uint8_t *buf, size_t cap)
{
    session *s = user;
    ERR_clear_error();
    int n = SSL_read(s->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    if (n > 0)
        return n;
    switch (SSL_get_error(s->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* renegotiation or key update in progress */
        return WS6455_IO_WOULD_BLOCK;
    case SSL_ERROR_ZERO_RETURN: /* the server's close_notify: end of stream */
        return 0;
    default:
        return WS6455_IO_ERROR;
    }
}

/*
 * OpenSSL's retry rule: an SSL_write that returned WANT_WRITE (or WANT_READ)
 * must be called again with the same buffer address and at least the same
 * length, or it fails with "bad write retry". SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
 * relaxes the address part; it is not needed here, because the engine's
 * output never moves: ws6455_conn_pending() hands out the same bytes at the
 * same address until they are consumed, and what is queued later only
 * lengthens the run. So the retry the engine makes (when the socket is
 * writable again) passes the same pointer and the same length or more —
 * exactly what OpenSSL asks. (A caller that copied the output elsewhere
 * between retries would need the mode again.)
 */
static ptrdiff_t tls_write(void *user, const uint8_t *buf, size_t len)
{
    session *s = user;
    ERR_clear_error();
    int n = SSL_write(s->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(s->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return WS6455_IO_WOULD_BLOCK;
    default:
        return WS6455_IO_ERROR;
    }
}

/* One step of the TLS handshake (client_common's transport handshake):
 * 1 done, 0 waiting for *events on the socket, -1 failed (reported). */
static int tls_handshake(client_session *cs, short *events)
{
    session *s = (session *)cs;
    ERR_clear_error();
    int rc = SSL_connect(s->ssl);
    if (rc == 1)
        return 1;
    switch (SSL_get_error(s->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        *events = POLLIN;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        *events = POLLOUT;
        return 0;
    default:
        break;
    }
    long v = SSL_get_verify_result(s->ssl);
    if (v != X509_V_OK)
        fprintf(stderr, "wss_client: certificate not trusted: %s (--cafile FILE or --insecure)\n",
                X509_verify_cert_error_string(v));
    else
        tls_errors("TLS handshake failed");
    return -1;
}

/* Decrypted bytes may wait inside OpenSSL with the socket empty. */
static int tls_pending(client_session *cs)
{
    return SSL_pending(((session *)cs)->ssl) > 0;
}

static void on_open(ws6455_conn *c, const char *subprotocol, void *user)
{
    (void)c;
    session *s = user;
    if (s->base.opt->verbose)
        client_report_open(&s->base, SSL_get_version(s->ssl), subprotocol);
}

/* TCP connect (bounded by the handshake timeout), then the TLS session set up with the
 * certificate checks and the socket made non-blocking: the handshake itself
 * runs in client_run's poll() loop (tls_handshake). */
static int tls_connect(session *s, SSL_CTX *ctx, const ws6455_url *u, const options *o)
{
    if (client_connect(&s->base, u) < 0)
        return -1;
    const char *host = s->base.host_name;
    s->ssl = SSL_new(ctx);
    if (!s->ssl || !SSL_set_fd(s->ssl, s->base.fd))
        return -1;
    /* SNI for names, and the name or address the certificate must carry. */
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(s->ssl, host);
    if (!o->insecure) {
        X509_VERIFY_PARAM *param = SSL_get0_param(s->ssl);
        if (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(param, host)
                  : !X509_VERIFY_PARAM_set1_host(param, host, 0))
            return -1;
    }
    SSL_set_connect_state(s->ssl);
    return net_set_nonblocking(s->base.fd);
}

/* The TLS settings: TLS 1.2 or newer, certificates checked unless
 * --insecure. NULL (reported) when the trusted certificates do not load. */
static SSL_CTX *tls_context(const options *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* The engine takes partial writes in stride. No
     * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: its output does not move (see
     * tls_write). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (o->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (o->cafile ? SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1
                      : SSL_CTX_set_default_verify_paths(ctx) != 1) {
            tls_errors("cannot load trusted certificates");
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

/* The exit status: 0 clean close (1000/1001), 1 other ending, 2 no
 * connection. */
static int run(session *s, const options *o)
{
    memset(s, 0, sizeof *s);
    client_session *cs = &s->base;
    client_session_init(cs, &o->common);
    cs->buffered_input = tls_pending;
    cs->handshake = tls_handshake;
    ws6455_url url;
    if (client_parse_url(cs, o->common.url, &url) < 0)
        return 2;
    if (!url.secure) {
        fprintf(stderr, "wss_client: %s: not a wss:// URL (ws_client speaks plain ws://)\n",
                o->common.url);
        return 2;
    }
    SSL_CTX *ctx = tls_context(o);
    if (!ctx)
        return 2;
    ws6455_callbacks cb = {.read = tls_read,
                           .write = tls_write,
                           .on_open = on_open,
                           .on_message = client_print_message};
    int status = 2;
    if (tls_connect(s, ctx, &url, o) == 0 && client_start(cs, &url, &cb, 0) == 0) {
        status = client_run(cs, 1);
        if (cs->transport_up)
            SSL_shutdown(s->ssl); /* our close_notify; best effort */
    }
    client_session_end(cs);
    SSL_free(s->ssl);
    SSL_CTX_free(ctx);
    return status;
}

int main(int argc, char **argv)
{
    options o;
    parse_options(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    session s;
    int status = run(&s, &o);
    if (status != 2)
        client_report_close(&s.base);
    return status;
}
