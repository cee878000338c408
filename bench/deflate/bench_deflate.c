/*
 * permessage-deflate codec throughput and ratio (src/deflate.c), per zlib
 * level and context-takeover mode, on two workloads:
 *  - chat:    10,000 JSON chat messages of 100..300 bytes, each one message;
 *  - text64k: 64 KiB messages of English-like text.
 * Modes: "no-takeover" (the default: zlib state created and freed for every
 * message), "shared" (no takeover, one compressor reset between messages,
 * as a context-wide shared compressor would be), "takeover" (state and
 * window kept between messages). Decompression of "shared" output is the
 * same as "no-takeover" and is not repeated.
 *
 * Build and run: make bench-deflate [BENCH_DEFLATE_ARGS='--min-time 1'],
 * options --window 8..15 and --mem-level 1..9 (default 15 and 4, the
 * defaults of the options), --chat-only, --levels 1,6 (default 1,3,6,9),
 * --tsv (one tab-separated line per figure instead of the tables, for
 * bench/deflate/compare.sh), --write-corpus PREFIX (writes PREFIX.chat and
 * PREFIX.text64k: each message as a 4-byte big-endian length and its
 * bytes, so another implementation can be measured on the same corpus:
 * bench/deflate/node_deflate.js).
 * Every run first checks that each message decompresses to its original.
 * Times are
 * process CPU time; MB/s counts uncompressed bytes both ways.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "deflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

/* Process CPU time, not wall time: the bench is single-threaded, and on a
 * shared machine CPU time is what stays comparable between runs. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "FAIL: %s\n", what);
    exit(1);
}

/* xorshift64*, for a deterministic corpus. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static const char *const words[] = {
    "the",     "of",      "and",    "to",      "in",    "is",      "you",   "that",    "it",
    "he",      "was",     "for",    "on",      "are",   "as",      "with",  "his",     "they",
    "at",      "be",      "this",   "have",    "from",  "or",      "one",   "had",     "by",
    "word",    "but",     "not",    "what",    "all",   "were",    "we",    "when",    "your",
    "can",     "said",    "there",  "use",     "an",    "each",    "which", "she",     "do",
    "how",     "their",   "if",     "will",    "up",    "other",   "about", "out",     "many",
    "then",    "them",    "these",  "so",      "some",  "her",     "would", "make",    "like",
    "him",     "into",    "time",   "has",     "look",  "two",     "more",  "write",   "go",
    "see",     "number",  "no",     "way",     "could", "people",  "my",    "than",    "first",
    "water",   "been",    "call",   "who",     "oil",   "its",     "now",   "find",    "long",
    "down",    "day",     "did",    "get",     "come",  "made",    "may",   "part",    "server",
    "socket",  "message", "deploy", "tonight", "lunch", "meeting", "bug",   "release", "coffee",
    "weekend", "review",  "ticket", "build",   "green", "thanks",  "lol"};
#define NWORDS (sizeof words / sizeof words[0])

static size_t put_words(char *p, size_t cap, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const char *w = words[rng() % NWORDS];
        size_t k = strlen(w);
        if (n + k + 2 >= cap)
            break;
        if (i)
            p[n++] = ' ';
        memcpy(p + n, w, k);
        n += k;
    }
    if (rng() % 4 == 0 && n + 1 < cap)
        p[n++] = rng() % 2 ? '?' : '!';
    return n;
}

typedef struct dataset {
    const char *name;
    size_t count;
    uint8_t **msg;
    size_t *len;
    size_t total;
} dataset;

static void dataset_alloc(dataset *d, const char *name, size_t count)
{
    d->name = name;
    d->count = count;
    d->msg = calloc(count, sizeof *d->msg);
    d->len = calloc(count, sizeof *d->len);
    d->total = 0;
    if (!d->msg || !d->len)
        die("out of memory");
}

static void make_chat(dataset *d)
{
    static const char *const users[] = {"alice", "bob",   "carol", "dave", "erin",
                                        "frank", "grace", "heidi", "ivan", "judy"};
    static const char *const rooms[] = {"general", "random", "dev", "ops"};
    dataset_alloc(d, "chat", 10000);
    for (size_t i = 0; i < d->count; i++) {
        char text[256], buf[512];
        size_t tl = put_words(text, sizeof text, 3 + rng() % 28);
        text[tl] = '\0';
        /* In sequence, not as two arguments of one call (unspecified
         * order: gcc and clang would write different corpora). */
        const char *user = users[rng() % 10];
        const char *room = rooms[rng() % 4];
        int n = snprintf(buf, sizeof buf,
                         "{\"type\":\"message\",\"id\":%zu,\"room\":\"%s\",\"user\":\"%s\","
                         "\"text\":\"%s\",\"ts\":%llu}",
                         100000 + i, room, user, text,
                         1700000000000ull + (unsigned long long)(i * 1373));
        d->len[i] = (size_t)n;
        d->msg[i] = malloc((size_t)n);
        if (!d->msg[i])
            die("out of memory");
        memcpy(d->msg[i], buf, (size_t)n);
        d->total += (size_t)n;
    }
}

static void make_text(dataset *d)
{
    dataset_alloc(d, "text64k", 16);
    for (size_t i = 0; i < d->count; i++) {
        size_t n = 64 << 10;
        char *p = malloc(n);
        if (!p)
            die("out of memory");
        size_t off = 0;
        while (off < n) {
            char sentence[400];
            size_t k = put_words(sentence, sizeof sentence - 2, 6 + rng() % 20);
            sentence[0] = (char)(sentence[0] - 'a' + 'A');
            sentence[k++] = '.';
            sentence[k++] = rng() % 6 ? ' ' : '\n';
            if (k > n - off)
                k = n - off;
            memcpy(p + off, sentence, k);
            off += k;
        }
        d->msg[i] = (uint8_t *)p;
        d->len[i] = n;
        d->total += n;
    }
}

enum mode { NO_TAKEOVER, SHARED, TAKEOVER };
static const char *const mode_names[] = {"no-takeover", "shared", "takeover"};

static ws6455_allocator alloc_libc;
static int opt_window = 15, opt_mem_level = 4, opt_tsv = 0;
static int opt_levels[9] = {1, 3, 6, 9};
static size_t opt_nlevels = 4;

static void deflater_for(ws6455__deflater *d, enum mode m, int level)
{
    ws6455__deflate_dir dir = {(uint8_t)opt_window, m != TAKEOVER};
    unsigned flags = m == SHARED ? WS6455__DEFLATER_SHARED : 0;
    if (ws6455__deflater_init(d, &alloc_libc, &dir, level, opt_mem_level, flags) != WS6455_OK)
        die("deflater_init");
}

/* Compresses the whole dataset in order; keeps the output when `keep`. */
static size_t compress_all(const dataset *ds, enum mode m, int level, ws6455__buf *keep)
{
    ws6455__deflater d;
    deflater_for(&d, m, level);
    ws6455__buf out = {0};
    size_t total = 0;
    for (size_t i = 0; i < ds->count; i++) {
        out.len = 0;
        out.off = 0;
        if (ws6455__deflater_write(&d, ds->msg[i], ds->len[i], WS6455__DEFLATE_END, &out) !=
            WS6455_OK)
            die("deflate");
        total += out.len;
        if (keep) {
            keep[i].len = 0;
            keep[i].off = 0;
            if (ws6455__buf_append(&keep[i], &alloc_libc, out.data + out.off, out.len) != WS6455_OK)
                die("out of memory");
        }
    }
    ws6455__buf_free(&out, &alloc_libc);
    ws6455__deflater_free(&d);
    return total;
}

typedef struct check_sink {
    const uint8_t *want;
    size_t off, len;
    int verify;
} check_sink;

static int sink(void *user, const uint8_t *p, size_t n)
{
    check_sink *c = user;
    if (c->verify && (c->off + n > c->len || memcmp(c->want + c->off, p, n) != 0))
        die("decompressed bytes differ");
    c->off += n;
    return WS6455_OK;
}

static void inflate_all(const dataset *ds, enum mode m, const ws6455__buf *in, int verify)
{
    ws6455__inflater f;
    ws6455__deflate_dir dir = {(uint8_t)opt_window, m != TAKEOVER};
    if (ws6455__inflater_init(&f, &alloc_libc, &dir, 0) != WS6455_OK)
        die("inflater_init");
    for (size_t i = 0; i < ds->count; i++) {
        check_sink c = {ds->msg[i], 0, ds->len[i], verify};
        if (ws6455__inflater_write(&f, in[i].data + in[i].off, in[i].len, 1, sink, &c) != WS6455_OK)
            die("inflate");
        if (c.off != ds->len[i])
            die("decompressed length differs");
    }
    ws6455__inflater_free(&f);
}

/* Passes over the dataset until min_time has elapsed; seconds per pass. */
static double time_compress(const dataset *ds, enum mode m, int level, double min_time)
{
    size_t passes = 0;
    double t0 = now_seconds(), t;
    do {
        compress_all(ds, m, level, NULL);
        passes++;
        t = now_seconds() - t0;
    } while (t < min_time);
    return t / (double)passes;
}

static double time_inflate(const dataset *ds, enum mode m, const ws6455__buf *in, double min_time)
{
    size_t passes = 0;
    double t0 = now_seconds(), t;
    do {
        inflate_all(ds, m, in, 0);
        passes++;
        t = now_seconds() - t0;
    } while (t < min_time);
    return t / (double)passes;
}

static void run_dataset(const dataset *ds, double min_time)
{
    ws6455__buf *comp = calloc(ds->count, sizeof *comp);
    if (!comp)
        die("out of memory");
    if (!opt_tsv) {
        printf("\n%s: %zu messages, %.1f bytes on average, %zu bytes in all\n", ds->name,
               ds->count, (double)ds->total / (double)ds->count, ds->total);
        printf("%-12s %5s %7s %12s %10s %12s %10s\n", "mode", "level", "ratio", "deflate MB/s",
               "us/msg", "inflate MB/s", "us/msg");
    }
    for (size_t li = 0; li < opt_nlevels; li++) {
        int level = opt_levels[li];
        for (int m = NO_TAKEOVER; m <= TAKEOVER; m++) {
            size_t csize = compress_all(ds, (enum mode)m, level, comp);
            inflate_all(ds, (enum mode)m, comp, 1); /* verified, untimed */
            double tc = time_compress(ds, (enum mode)m, level, min_time);
            double ti = m != SHARED ? time_inflate(ds, (enum mode)m, comp, min_time) : 0;
            double ratio = (double)csize / (double)ds->total;
            if (opt_tsv) {
                /* dataset mode level ratio deflate-us/msg inflate-us/msg
                 * (0: not measured) */
                printf("%s\t%s\t%d\t%.4f\t%.3f\t%.3f\n", ds->name, mode_names[m], level, ratio,
                       tc / (double)ds->count * 1e6, ti / (double)ds->count * 1e6);
                fflush(stdout);
                continue;
            }
            printf("%-12s %5d %7.3f %12.1f %10.2f", mode_names[m], level, ratio,
                   (double)ds->total / tc / 1e6, tc / (double)ds->count * 1e6);
            if (m != SHARED)
                printf(" %12.1f %10.2f\n", (double)ds->total / ti / 1e6,
                       ti / (double)ds->count * 1e6);
            else
                printf(" %12s %10s\n", "-", "-");
        }
    }
    for (size_t i = 0; i < ds->count; i++)
        ws6455__buf_free(&comp[i], &alloc_libc);
    free(comp);
}

/* PREFIX.NAME: every message as a 4-byte big-endian length and its bytes. */
static void write_corpus(const dataset *ds, const char *prefix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.%s", prefix, ds->name);
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot write the corpus");
    for (size_t i = 0; i < ds->count; i++) {
        uint8_t h[4] = {(uint8_t)(ds->len[i] >> 24), (uint8_t)(ds->len[i] >> 16),
                        (uint8_t)(ds->len[i] >> 8), (uint8_t)ds->len[i]};
        if (fwrite(h, 1, 4, f) != 4 || fwrite(ds->msg[i], 1, ds->len[i], f) != ds->len[i])
            die("cannot write the corpus");
    }
    if (fclose(f) != 0)
        die("cannot write the corpus");
}

/* "1,6" into opt_levels; -1 when malformed. */
static int parse_levels(const char *s)
{
    opt_nlevels = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > 9 || opt_nlevels == sizeof opt_levels / sizeof opt_levels[0])
            return -1;
        opt_levels[opt_nlevels++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return opt_nlevels ? 0 : -1;
}

int main(int argc, char **argv)
{
    double min_time = 0.3;
    int chat_only = 0;
    const char *corpus = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--min-time") == 0 && i + 1 < argc)
            min_time = atof(argv[++i]);
        else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc)
            opt_window = atoi(argv[++i]);
        else if (strcmp(argv[i], "--mem-level") == 0 && i + 1 < argc)
            opt_mem_level = atoi(argv[++i]);
        else if (strcmp(argv[i], "--chat-only") == 0)
            chat_only = 1;
        else if (strcmp(argv[i], "--tsv") == 0)
            opt_tsv = 1;
        else if (strcmp(argv[i], "--write-corpus") == 0 && i + 1 < argc)
            corpus = argv[++i];
        else if (strcmp(argv[i], "--levels") == 0 && i + 1 < argc && parse_levels(argv[i + 1]) == 0)
            i++;
        else {
            fprintf(stderr,
                    "usage: %s [--min-time CPU-SECONDS] [--window 8..15] "
                    "[--mem-level 1..9] [--chat-only] [--levels 1,6] [--tsv] "
                    "[--write-corpus PREFIX]\n",
                    argv[0]);
            return 2;
        }
    }
    ws6455__allocator_resolve(&alloc_libc, NULL);
    dataset chat, text;
    make_chat(&chat);
    make_text(&text);
    if (opt_window < 8 || opt_window > 15 || opt_mem_level < 1 || opt_mem_level > 9)
        die("window 8..15, memLevel 1..9");
    if (corpus) {
        write_corpus(&chat, corpus);
        write_corpus(&text, corpus);
    }
    if (opt_tsv)
        printf("# ws6455\tzlib %s\twindow %d\tmemLevel %d\n", zlibVersion(), opt_window,
               opt_mem_level);
    else
        printf("ws6455 permessage-deflate codec, zlib %s, window %d, memLevel %d, "
               "min %.2f CPU s per figure\n",
               zlibVersion(), opt_window, opt_mem_level, min_time);
    run_dataset(&chat, min_time);
    if (!chat_only)
        run_dataset(&text, min_time);
    return 0;
}
