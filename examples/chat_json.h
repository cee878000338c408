/*
 * chat_json — the little JSON chat_server speaks: a bounded writer with
 * escaping, and a strict reader for flat objects whose interesting values
 * are strings. No allocation; every length is checked.
 */
#ifndef CHAT_JSON_H
#define CHAT_JSON_H

#include <stddef.h>

/* Appends to a caller-owned buffer; `ok` turns 0 (and stays 0) when
 * something did not fit, so a sequence of appends is checked once. */
typedef struct chat_jbuf {
    char *p;
    size_t len, cap;
    int ok;
} chat_jbuf;

void chat_jb_init(chat_jbuf *b, char *p, size_t cap);
void chat_jb_raw(chat_jbuf *b, const char *s, size_t n);
void chat_jb_lit(chat_jbuf *b, const char *s);
/* A JSON string of valid UTF-8 s[0..n): quotes, backslash, control
 * characters and DEL escaped, everything else kept as is. At most 6n + 2
 * bytes. */
void chat_jb_str(chat_jbuf *b, const char *s, size_t n);

/* A key the reader looks for; its value must be a string, decoded into
 * out[0..cap) with a NUL added (so out has cap + 1 bytes). */
typedef struct chat_jfield {
    const char *key;
    char *out;
    size_t cap;
    size_t len;  /* set when found */
    int found;
} chat_jfield;

/*
 * Parses s[0..n) (valid UTF-8, as a text message is) as one JSON object
 * with no nesting. Wanted keys must have string values that fit and contain
 * no U+0000; other keys may have a string, a number (RFC 8259 grammar),
 * true, false or null. Refused (-1): anything else, nested objects and
 * arrays, a wanted key given twice, raw control characters in strings
 * (NUL included), lone surrogates, bytes after the object. 0 on success.
 */
int chat_json_parse(const char *s, size_t n, chat_jfield *fields, size_t nf);

#endif
