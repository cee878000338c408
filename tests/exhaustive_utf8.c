/* Every 4-byte input (all 2^32) against a reference, which the cmocka test
 * cannot afford under the sanitizers. For each input it checks
 *  - a one-shot update (fail offset) plus finish through the scalar
 *    variant, and ws6455_utf8_valid (4 bytes are too few for any vector
 *    kernel: this is the DFA, whatever the variant);
 *  - for every vector variant of the validator this machine can run (SSE2,
 *    SSSE3, AVX2 on x86-64; NEON on AArch64), the same 4 bytes inside ASCII
 *    (utf8_ref.h: lib_embedded), where the kernels see them twice: in the
 *    first vector, whose context is shifted in, and in the last,
 *    overlapping one, whose context is read from memory.
 * Plain C, no cmocka; two threads. Exit status 0 when everything agrees.
 *
 *   exhaustive_utf8 [FIRST LAST]   only inputs whose first byte is in
 *                                  FIRST..LAST (hex; default 00 FF), e.g.
 *                                  for a slow emulator
 *
 * Build and run (optimised, no sanitizers): make test-exhaustive
 * The NEON kernel under an emulator, e.g. the inputs led by C0..FF:
 *   aarch64-linux-gnu-gcc -std=c11 -O2 -pthread -static -Iinclude -Isrc -Itests/support \
 *       tests/exhaustive_utf8.c src/utf8.c src/utf8_x86.c src/utf8_neon.c -o build/exh_a64
 *   qemu-aarch64 build/exh_a64 C0 FF
 */
#define _POSIX_C_SOURCE 200809L

#include "ws6455.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8_ref.h" /* the same reference as tests/test_utf8.c */

/* The variants to check, and how many. */
static int variants[WS6455__UTF8_VARIANTS], nvariants;

typedef struct {
    unsigned first, last, step; /* this thread's first bytes: first, first + step, ... */
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
    for (unsigned x = j->first; x <= j->last; x += j->step) {
        s[0] = (uint8_t)x;
        for (unsigned y = 0; y < 256; y++) {
            s[1] = (uint8_t)y;
            for (unsigned z = 0; z < 256; z++) {
                s[2] = (uint8_t)z;
                for (unsigned w = 0; w < 256; w++) {
                    s[3] = (uint8_t)w;
                    verdict want = ref_scan(s, 4);
                    const char *what = NULL;
                    if (differ(want, lib_oneshot(WS6455__UTF8_SCALAR_ONLY, s, 4)))
                        what = "one-shot";
                    else if (ws6455_utf8_valid(s, 4) != want.complete)
                        what = "ws6455_utf8_valid";
                    verdict in = embedded_verdict(want, 4);
                    for (int k = 0; !what && k < nvariants; k++)
                        if (differ(in, lib_embedded(variants[k], emb, s, 4)))
                            what = ws6455__utf8_variant_name(variants[k]);
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

int main(int argc, char **argv)
{
    enum { THREADS = 2 };
    unsigned first = 0, last = 255;
    if (argc == 3) {
        first = (unsigned)strtoul(argv[1], NULL, 16);
        last = (unsigned)strtoul(argv[2], NULL, 16);
    }
    if (argc != 1 && (argc != 3 || first > last || last > 255)) {
        fprintf(stderr, "usage: %s [FIRST LAST]  (first bytes, hex 00..FF)\n", argv[0]);
        return 2;
    }
    printf("exhaustive_utf8: one-shot (scalar) and inside ASCII with:");
    for (int v = 0; v < WS6455__UTF8_VARIANTS; v++)
        if (v != WS6455__UTF8_SCALAR_ONLY && ws6455__utf8_variant_available(v)) {
            variants[nvariants++] = v;
            printf(" %s", ws6455__utf8_variant_name(v));
        }
    printf("\n");
    fflush(stdout);
    job jobs[THREADS];
    pthread_t tid[THREADS];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned t = 0; t < THREADS; t++) {
        jobs[t] = (job){.first = first + t, .last = last, .step = THREADS};
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
    unsigned long long total = (unsigned long long)(last - first + 1) << 24;
    printf("exhaustive_utf8: %llu of %llu 4-byte inputs checked, %llu valid, %.1f s: %s\n",
           checked, total, valid, secs, failed ? "FAILED" : "ok");
    /* Independent count of the valid ones: strings of 1- to 4-byte
     * characters totalling 4 bytes, from the number of code points of each
     * length (128; 1920; 63488 - 2048 surrogates; 1048576):
     * f(n) = 128 f(n-1) + 1920 f(n-2) + 61440 f(n-3) + 1048576 f(n-4). */
    unsigned long long f[5] = {1};
    for (int n = 1; n <= 4; n++)
        f[n] = 128 * f[n - 1] + (n >= 2 ? 1920 * f[n - 2] : 0) + (n >= 3 ? 61440 * f[n - 3] : 0) +
               (n >= 4 ? 1048576 * f[n - 4] : 0);
    if (!failed && total == 4294967296ull && valid != f[4]) {
        fprintf(stderr, "expected %llu valid inputs\n", f[4]);
        failed = 1;
    }
    return failed || checked != total;
}
