/* Socket helpers for the examples and interop tools; see net.h. */
#define _DEFAULT_SOURCE
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int net_url_host(const ws6455_url *u, char *host, size_t cap)
{
    if (u->host_len >= cap)
        return -1;
    memcpy(host, u->host, u->host_len);
    host[u->host_len] = '\0';
    return 0;
}

/* The TCP addresses for host and port; NULL (reported) when there are none. */
static struct addrinfo *resolve(const char *prog, const char *host, const char *port, int flags)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", prog, host, gai_strerror(rc));
        return NULL;
    }
    return res;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* connect() that gives up at deadline (a CLOCK_MONOTONIC time in ms; 0: no
 * limit): the socket is non-blocking for the attempt, then blocking again.
 * 0, or an errno value. */
static int connect_until(int fd, const struct sockaddr *sa, socklen_t len, uint64_t deadline)
{
    if (!deadline)
        return connect(fd, sa, len) < 0 ? errno : 0;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return errno;
    int err = connect(fd, sa, len) < 0 ? errno : 0;
    while (err == EINPROGRESS || err == EINTR) {
        uint64_t now = now_ms();
        if (now >= deadline) {
            err = ETIMEDOUT;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        uint64_t left = deadline - now;
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n < 0 && errno != EINTR)
            return errno;
        if (n > 0) {
            socklen_t sl = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
                err = errno;
            break;
        }
        err = EINPROGRESS;
    }
    if (!err && fcntl(fd, F_SETFL, flags) < 0)
        err = errno;
    return err;
}

int net_connect(const char *prog, const char *host, uint16_t port, uint64_t timeout_ms)
{
    char serv[8];
    snprintf(serv, sizeof serv, "%u", (unsigned)port);
    struct addrinfo *res = resolve(prog, host, serv, 0);
    if (!res)
        return -1;
    uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
        } else if ((err = connect_until(fd, ai->ai_addr, ai->ai_addrlen, deadline)) != 0) {
            close(fd);
            fd = -1;
            if (err == ETIMEDOUT && deadline && now_ms() >= deadline)
                break; /* the time is up for the other addresses too */
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (err == ETIMEDOUT && deadline)
            fprintf(stderr, "%s: cannot connect to %s port %s: timed out after %llu ms\n", prog,
                    host, serv, (unsigned long long)timeout_ms);
        else
            fprintf(stderr, "%s: cannot connect to %s port %s: %s\n", prog, host, serv,
                    strerror(err));
        return -1;
    }
    net_set_nodelay(fd);
    return fd;
}

int net_listen(const char *prog, const char *host, const char *port, int reuseport, int backlog)
{
    struct addrinfo *res = resolve(prog, host, port, AI_PASSIVE | AI_NUMERICSERV);
    if (!res)
        return -1;
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        /* A restarted server can take its port back while old connections
         * are still in TIME_WAIT. */
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuseport)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        fprintf(stderr, "%s: cannot listen on %s port %s: %s\n", prog, host, port, strerror(err));
    return fd;
}

/* "host:port" of one end of a socket: ours (getsockname) or the peer's. */
static void socket_name(int fd, int peer, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?", serv[8] = "?";
    ss.ss_family = AF_UNSPEC;
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
                  : getsockname(fd, (struct sockaddr *)&ss, &sl);
    if (rc == 0)
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    /* Brackets keep an IPv6 address apart from the port, as in a URL. */
    snprintf(out, cap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

void net_local_name(int fd, char *out, size_t cap)
{
    socket_name(fd, 0, out, cap);
}

void net_peer_name(int fd, char *out, size_t cap)
{
    socket_name(fd, 1, out, cap);
}

int net_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void net_set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* What a failed recv() or send() means to the engine. */
static ptrdiff_t io_failure(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK ? WS6455_IO_WOULD_BLOCK : WS6455_IO_ERROR;
}

ptrdiff_t net_recv(int fd, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return io_failure();
    }
}

ptrdiff_t net_send(int fd, const uint8_t *buf, size_t len)
{
    for (;;) {
        /* MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE. */
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return io_failure();
    }
}

ptrdiff_t net_sendv(int fd, const ws6455_iovec *iov, size_t count)
{
    /* Copied member by member: ws6455_iovec is not struct iovec. */
    struct iovec v[NET_MAX_IOV];
    if (count > NET_MAX_IOV)
        count = NET_MAX_IOV;
    for (size_t i = 0; i < count; i++) {
        v[i].iov_base = (void *)iov[i].base;
        v[i].iov_len = iov[i].len;
    }
    struct msghdr m = {.msg_iov = v, .msg_iovlen = count};
    for (;;) {
        ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return io_failure();
    }
}

/* What net_discard_input reads per call at most: enough to see a FIN
 * behind a little late data, too little for a flood to hold anyone. */
#define DISCARD_BUDGET ((size_t)64 << 10)

int net_discard_input(int fd)
{
    uint8_t sink[16384];
    for (size_t done = 0; done < DISCARD_BUDGET;) {
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
    return 0; /* budget spent: still open, more may be waiting */
}
