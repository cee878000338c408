/* The chat protocol's JSON; see chat_json.h. */
#include "chat_json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

void chat_jb_init(chat_jbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->len = 0;
    b->cap = cap;
    b->ok = 1;
}

void chat_jb_raw(chat_jbuf *b, const char *s, size_t n)
{
    if (!b->ok || b->cap - b->len < n) {
        b->ok = 0;
        return;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
}

void chat_jb_lit(chat_jbuf *b, const char *s)
{
    chat_jb_raw(b, s, strlen(s));
}

void chat_jb_str(chat_jbuf *b, const char *s, size_t n)
{
    chat_jb_raw(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, flushed in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f) {
            run++;
            continue;
        }
        chat_jb_raw(b, s + i - run, run);
        run = 0;
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            chat_jb_raw(b, esc, 2);
        } else if (ch == '\n') {
            chat_jb_raw(b, "\\n", 2);
        } else {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            chat_jb_raw(b, esc, 6);
        }
    }
    chat_jb_raw(b, s + n - run, run);
    chat_jb_raw(b, "\"", 1);
}

/* ---- reader */

typedef struct jparser {
    const char *p, *end;
} jparser;

static void skip_ws(jparser *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One escape after the backslash (j->p at the escape letter) into tmp.
 * Returns its decoded length, or 0 when malformed. */
static size_t unescape(jparser *j, char tmp[4], unsigned *cp_out)
{
    if (j->p >= j->end)
        return 0;
    char e = *j->p++;
    unsigned cp;
    switch (e) {
    case '"': case '\\': case '/': cp = (unsigned char)e; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u':
        if (j->end - j->p < 4 || hex4(j->p, &cp) < 0)
            return 0;
        j->p += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return 0; /* lone low surrogate */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                hex4(j->p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                return 0;
            j->p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        break;
    default:
        return 0;
    }
    *cp_out = cp;
    return utf8_put(tmp, cp);
}

/* A string at j->p (the opening quote). Decoded into out[0..cap) plus a NUL
 * when out is not NULL; *fits turns 0 when it did not fit or held U+0000
 * (the parse goes on, so the caller can tell "too long" from "malformed").
 * Returns the decoded length, or -1 when malformed. */
static long parse_string(jparser *j, char *out, size_t cap, int *fits)
{
    if (j->p >= j->end || *j->p != '"')
        return -1;
    j->p++;
    size_t n = 0;
    *fits = 1;
    for (;;) {
        if (j->p >= j->end)
            return -1;
        unsigned char c = (unsigned char)*j->p++;
        char tmp[4];
        size_t tn = 1;
        unsigned cp = c;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1; /* raw control characters, NUL included */
        tmp[0] = (char)c;
        if (c == '\\' && (tn = unescape(j, tmp, &cp)) == 0)
            return -1;
        if (cp == 0)
            *fits = 0; /* no NUL inside names, rooms and texts */
        if (out && *fits && cap - n >= tn)
            memcpy(out + n, tmp, tn);
        else
            *fits = 0;
        n += tn;
    }
    if (out && *fits)
        out[n] = '\0';
    return (long)n;
}

static int digits(jparser *j)
{
    const char *start = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (RFC 8259 section 6). */
static int parse_number(jparser *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!(j->p < j->end && *j->p >= '1' && *j->p <= '9') || !digits(j))
        return -1;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!digits(j))
            return -1;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!digits(j))
            return -1;
    }
    return 0;
}

static int parse_literal(jparser *j)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, words[i], n)) {
            j->p += n;
            return 0;
        }
    }
    return -1;
}

/* A value that nobody asked for: string, number or literal. */
static int skip_value(jparser *j)
{
    int fits;
    if (j->p >= j->end)
        return -1;
    if (*j->p == '"')
        return parse_string(j, NULL, 0, &fits) < 0 ? -1 : 0;
    if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
        return parse_number(j);
    return parse_literal(j);
}

/* After a value: the next byte must end it ("}", "," or whitespace), so
 * "falsey" or "1x" is not a literal followed by garbage. */
static int value_ends(const jparser *j)
{
    if (j->p >= j->end)
        return 1;
    char c = *j->p;
    return c == ',' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static chat_jfield *find_field(chat_jfield *fields, size_t nf, const char *key, size_t len)
{
    for (size_t i = 0; i < nf; i++)
        if (strlen(fields[i].key) == len && !memcmp(fields[i].key, key, len))
            return &fields[i];
    return NULL;
}

static int parse_member(jparser *j, chat_jfield *fields, size_t nf)
{
    char key[64];
    int fits;
    long klen = parse_string(j, key, sizeof key - 1, &fits);
    if (klen < 0)
        return -1;
    chat_jfield *f = fits ? find_field(fields, nf, key, (size_t)klen) : NULL;
    skip_ws(j);
    if (j->p >= j->end || *j->p++ != ':')
        return -1;
    skip_ws(j);
    if (!f)
        return skip_value(j) < 0 || !value_ends(j) ? -1 : 0;
    if (f->found || j->p >= j->end || *j->p != '"')
        return -1;
    long len = parse_string(j, f->out, f->cap, &fits);
    if (len < 0 || !fits)
        return -1;
    f->len = (size_t)len;
    f->found = 1;
    return 0;
}

int chat_json_parse(const char *s, size_t n, chat_jfield *fields, size_t nf)
{
    for (size_t i = 0; i < nf; i++) {
        fields[i].found = 0;
        fields[i].len = 0;
    }
    jparser j = {s, s + n};
    skip_ws(&j);
    if (j.p >= j.end || *j.p++ != '{')
        return -1;
    skip_ws(&j);
    if (j.p < j.end && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            skip_ws(&j);
            if (parse_member(&j, fields, nf) < 0)
                return -1;
            skip_ws(&j);
            if (j.p >= j.end)
                return -1;
            char c = *j.p++;
            if (c == '}')
                break;
            if (c != ',')
                return -1;
        }
    }
    skip_ws(&j);
    return j.p == j.end ? 0 : -1;
}
