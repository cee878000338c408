/*
 * echo_uring — echo_server's io_uring loop (--io-uring), on liburing. Built
 * with ECHO_HAVE_URING when pkg-config finds liburing; without it the probe
 * says so and echo_server uses epoll.
 */
#ifndef WS6455_EXAMPLES_ECHO_URING_H
#define WS6455_EXAMPLES_ECHO_URING_H

#include "echo_common.h"

#include <stddef.h>

/* 1 when io_uring can run the echo here (built in, the kernel allows it,
 * and has what the loop uses); else 0 with the reason in why[cap]. */
int echo_uring_probe(char *why, size_t cap);

/* One io_uring loop per listening socket, each in its own thread (the
 * first in the caller's), until SIGINT/SIGTERM (signal_fd, read by loop 0)
 * or stop_fd becomes readable. Returns the exit status. */
int echo_uring_run(const echo_options *o, const int *listen_fds, int n, int stop_fd,
                   int signal_fd);

#endif
