/*
 * idle_clients — opens N WebSocket connections to 127.0.0.1:PORT, completes
 * each opening handshake, and then keeps them all open and silent, for
 * measuring what an idle connection costs a server (bench/idle_rss.sh).
 *
 *   idle_clients PORT N [HOLD_SECONDS]
 *
 * Prints "ready N" once every handshake is done, then holds the connections
 * until killed or HOLD_SECONDS (default 60) pass. Exit status
 * 1 when a connection or handshake failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int handshake(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        send(fd, req, sizeof req - 1, 0) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return -1;
    }
    char head[512];
    size_t n = 0;
    while (n < sizeof head - 1) {
        ssize_t r = recv(fd, head + n, sizeof head - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        head[n] = '\0';
        if (strstr(head, "\r\n\r\n"))
            break;
    }
    head[n] = '\0';
    if (strncmp(head, "HTTP/1.1 101", 12) != 0 || !strstr(head, "\r\n\r\n")) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: idle_clients PORT N [HOLD_SECONDS]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long n = atol(argv[2]), hold = argc > 3 ? atol(argv[3]) : 60;
    int *fds = calloc((size_t)n, sizeof *fds);
    if (!fds || port <= 0 || n < 1)
        return 2;
    for (long i = 0; i < n; i++) {
        fds[i] = handshake(port);
        if (fds[i] < 0) {
            fprintf(stderr, "idle_clients: connection %ld failed\n", i);
            return 1;
        }
    }
    printf("ready %ld\n", n);
    fflush(stdout);
    if (hold > 0)
        poll(NULL, 0, (int)(hold * 1000));
    for (long i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return 0;
}
