/* Every 4-byte input (all 2^32) against a reference, which the cmocka test
 * cannot afford under the sanitizers. For each input it checks
 *  - a one-shot update (fail offset) plus finish, and ws6455_utf8_valid;
 *  - the same 4 bytes inside ASCII, placed across the first two 16-byte
 *    blocks, so that the vector path (when built with it) sees every input
 *    too, both with and without bytes before it in its block.
 * Plain C, no cmocka; two threads. Exit status 0 when everything agrees.
 *
 * Build and run (optimised, no sanitizers):
 *   cc -std=c11 -O2 -pthread -Iinclude -Itests/support tests/exhaustive_utf8.c src/utf8.c \
 *      -o build/exhaustive_utf8 && build/exhaustive_utf8
 */
#define _POSIX_C_SOURCE 200809L

#include "ws6455.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "utf8_ref.h" /* the same reference as tests/test_utf8.c */

/* The 4 bytes sit at EMBED_AT in EMBED_LEN bytes of 'a': the first 16-byte
 * block holds the first two, the next block the last two. */
#define EMBED_AT 14
#define EMBED_LEN 40

typedef struct {
    unsigned first, step; /* this thread's first bytes: first, first + step, ... */
    unsigned long long checked, valid;
    int failed;
    uint8_t bad[4];
    char what[32];
} job;

static int differ(verdict a, verdict b)
{
    return a.fail != b.fail || a.complete != b.complete;
}

static void *run(void *arg)
{
    job *j = arg;
    uint8_t s[4], emb[EMBED_LEN];
    memset(emb, 'a', sizeof emb);
    for (unsigned x = j->first; x < 256; x += j->step) {
        s[0] = (uint8_t)x;
        for (unsigned y = 0; y < 256; y++) {
            s[1] = (uint8_t)y;
            for (unsigned z = 0; z < 256; z++) {
                s[2] = (uint8_t)z;
                for (unsigned w = 0; w < 256; w++) {
                    s[3] = (uint8_t)w;
                    verdict want = ref_scan(s, 4);
                    const char *what = NULL;
                    if (differ(want, lib_oneshot(s, 4)))
                        what = "one-shot";
                    else if (ws6455_utf8_valid(s, 4) != want.complete)
                        what = "ws6455_utf8_valid";
                    if (!what) {
                        /* Inside ASCII: a failure moves by EMBED_AT; a cut-off
                         * sequence now fails at the 'a' after it. */
                        verdict in = want;
                        if (want.fail != NO_FAIL)
                            in.fail = EMBED_AT + want.fail;
                        else if (!want.complete)
                            in.fail = EMBED_AT + 4;
                        memcpy(emb + EMBED_AT, s, 4);
                        if (differ(in, lib_oneshot(emb, sizeof emb)))
                            what = "inside ASCII";
                    }
                    if (what) {
                        j->failed = 1;
                        memcpy(j->bad, s, 4);
                        snprintf(j->what, sizeof j->what, "%s", what);
                        return NULL;
                    }
                    j->checked++;
                    j->valid += (unsigned long long)want.complete;
                }
            }
        }
    }
    return NULL;
}

int main(void)
{
    enum { THREADS = 2 };
    job jobs[THREADS];
    pthread_t tid[THREADS];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned t = 0; t < THREADS; t++) {
        jobs[t] = (job){.first = t, .step = THREADS};
        if (pthread_create(&tid[t], NULL, run, &jobs[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    unsigned long long checked = 0, valid = 0;
    int failed = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        pthread_join(tid[t], NULL);
        checked += jobs[t].checked;
        valid += jobs[t].valid;
        if (jobs[t].failed) {
            const uint8_t *b = jobs[t].bad;
            fprintf(stderr, "MISMATCH (%s) on %02X %02X %02X %02X\n", jobs[t].what, b[0], b[1],
                    b[2], b[3]);
            failed = 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("exhaustive_utf8: %llu of 4294967296 4-byte inputs checked, %llu valid, %.1f s: %s\n",
           checked, valid, secs, failed ? "FAILED" : "ok");
    /* Independent count of the valid ones: strings of 1- to 4-byte
     * characters totalling 4 bytes, from the number of code points of each
     * length (128; 1920; 63488 - 2048 surrogates; 1048576):
     * f(n) = 128 f(n-1) + 1920 f(n-2) + 61440 f(n-3) + 1048576 f(n-4). */
    unsigned long long f[5] = {1};
    for (int n = 1; n <= 4; n++)
        f[n] = 128 * f[n - 1] + (n >= 2 ? 1920 * f[n - 2] : 0) + (n >= 3 ? 61440 * f[n - 3] : 0) +
               (n >= 4 ? 1048576 * f[n - 4] : 0);
    if (!failed && valid != f[4]) {
        fprintf(stderr, "expected %llu valid inputs\n", f[4]);
        failed = 1;
    }
    return failed || checked != 4294967296ull;
}
