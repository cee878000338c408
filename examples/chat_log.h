/*
 * chat_log — chat_server's log lines. Whatever a client chose (names, rooms,
 * close reasons, request targets) goes through chat_log_escape first, so a
 * name cannot end a line early, forge the next one or send terminal
 * control sequences.
 */
#ifndef CHAT_LOG_H
#define CHAT_LOG_H

#include <stddef.h>

/* Logging on (--verbose) or off; errors and warnings always go out. */
void chat_log_set_verbose(int on);
int chat_log_verbose(void);

/* A line on standard output when verbose; a newline is added. */
void chat_logv(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line on standard error, always, with the local time in front. */
void chat_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Bytes that always hold n escaped bytes (worst case, with the NUL). */
#define CHAT_ESC_SIZE(n) (4 * (n) + 4)

/*
 * Writes s[0..n) into out (cap bytes, NUL-terminated, cut short with "..."
 * when it does not fit) with every byte that could disturb a log line
 * escaped as \xNN: C0 controls (CR, LF, ESC...), DEL, the C1 controls
 * U+0080..U+009F, bytes that are not valid UTF-8, and the backslash itself
 * (so an escape in the log always means an escaped byte). Printable ASCII
 * and other valid UTF-8 are kept. Returns out.
 */
const char *chat_log_escape(char *out, size_t cap, const char *s, size_t n);

#endif
