/* chat_server's log lines; see chat_log.h. */
#define _POSIX_C_SOURCE 200809L
#include "chat_log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int verbose; /* set once from the command line, before the loop */

void chat_log_set_verbose(int on)
{
    verbose = on;
}

int chat_log_verbose(void)
{
    return verbose;
}

void chat_logv(const char *fmt, ...)
{
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void chat_warn(const char *fmt, ...)
{
    va_list ap;
    struct timeval tv;
    struct tm tm;
    char stamp[32] = "";
    gettimeofday(&tv, NULL);
    if (localtime_r(&tv.tv_sec, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(stderr, "%s.%03d chat_server: ", stamp, (int)(tv.tv_usec / 1000));
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Length of the valid UTF-8 sequence at p[0..n) (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

const char *chat_log_escape(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    if (cap < 4) { /* not even room for "..." */
        if (cap)
            out[0] = '\0';
        return out;
    }
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = 1;
        int keep = c >= 0x20 && c < 0x7f && c != '\\';
        if (c >= 0x80) {
            len = utf8_seq(p + i, n - i);
            /* U+0080..U+009F are C2 80..C2 9F: C1 controls (CSI is one). */
            keep = len > 0 && !(c == 0xC2 && p[i + 1] < 0xA0);
            if (!len)
                len = 1;
        }
        size_t need = keep ? len : 4 * len;
        if (cap - o < need + 4) { /* room for "..." and the NUL */
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (keep) {
            memcpy(out + o, p + i, len);
            o += len;
        } else {
            for (size_t k = 0; k < len; k++) {
                out[o++] = '\\';
                out[o++] = 'x';
                out[o++] = hex[p[i + k] >> 4];
                out[o++] = hex[p[i + k] & 15];
            }
        }
        i += len;
    }
    out[o] = '\0';
    return out;
}
