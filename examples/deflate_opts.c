/* The examples' permessage-deflate options; see deflate_opts.h. */
#include "deflate_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A decimal integer in [lo, hi]; -1 when malformed or out of range. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int deflate_opts_parse(ws6455_deflate_options *d, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *arg = *i + 1 < argc ? argv[*i + 1] : NULL;
    /* The options with a number, the field each sets and its range. */
    const struct {
        const char *name;
        int *field;
        long lo, hi;
    } numeric[] = {
        {"--deflate-server-window", &d->server_max_window_bits, 8, 15},
        {"--deflate-client-window", &d->client_max_window_bits, 8, 15},
        {"--deflate-level", &d->level, -1, 9},
        {"--deflate-mem-level", &d->mem_level, 1, 9},
    };
    long v;
    if (!strcmp(a, "--deflate")) {
        /* just enabled, below */
    } else if (!strcmp(a, "--deflate-server-takeover")) {
        d->server_no_context_takeover = 0;
    } else if (!strcmp(a, "--deflate-client-takeover")) {
        d->client_no_context_takeover = 0;
    } else if (!strcmp(a, "--deflate-min-size")) {
        if (!arg || parse_int(arg, 0, 1L << 30, &v) < 0)
            return -1;
        d->min_size = (size_t)v;
        ++*i;
    } else {
        size_t k = 0, n = sizeof numeric / sizeof numeric[0];
        while (k < n && strcmp(a, numeric[k].name) != 0)
            k++;
        if (k == n)
            return 0; /* not ours */
        if (!arg || parse_int(arg, numeric[k].lo, numeric[k].hi, &v) < 0)
            return -1;
        *numeric[k].field = (int)v;
        ++*i;
    }
    d->enabled = 1;
    return 1;
}

void deflate_opts_usage(FILE *f)
{
    fprintf(f,
            "  --deflate            permessage-deflate (RFC 7692): a server accepts it, a\n"
            "                       client offers it%s\n"
            "  --deflate-server-takeover  the server's compressor keeps its window between\n"
            "                       messages (default: reset per message)\n"
            "  --deflate-client-takeover  the client's compressor may keep its window\n"
            "                       (default: reset per message)\n"
            "  --deflate-server-window BITS  server_max_window_bits 8..15 (default 15)\n"
            "  --deflate-client-window BITS  client_max_window_bits 8..15 (default 15)\n"
            "  --deflate-level N    zlib level -1..9 (default -1: zlib's 6)\n"
            "  --deflate-mem-level N  zlib memLevel 1..9 (default 4)\n"
            "  --deflate-min-size BYTES  send shorter messages uncompressed (default 64)\n"
            "                       (every --deflate-* option implies --deflate)\n",
            ws6455_deflate_available() ? "" : " (unavailable: built without zlib)");
}

int deflate_opts_check(const char *prog, const ws6455_deflate_options *d)
{
    if (!d->enabled || ws6455_deflate_available())
        return 0;
    fprintf(stderr,
            "%s: --deflate: built without zlib, so permessage-deflate is unavailable "
            "(install zlib1g-dev and build with make WITH_ZLIB=1)\n",
            prog);
    return -1;
}

const char *deflate_opts_describe(const ws6455_conn *c, char *out, size_t cap)
{
    ws6455_deflate_params p;
    if (!ws6455_conn_deflate(c, &p)) {
        snprintf(out, cap, "no compression");
        return out;
    }
    snprintf(out, cap, "permessage-deflate server_max_window_bits=%d client_max_window_bits=%d%s%s",
             p.server_max_window_bits, p.client_max_window_bits,
             p.server_no_context_takeover ? " server_no_context_takeover" : "",
             p.client_no_context_takeover ? " client_no_context_takeover" : "");
    return out;
}
