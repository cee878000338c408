/* ASCII character classes shared by the HTTP head parser (http_head.c) and
 * the URL parser (url.c): locale-independent, unlike <ctype.h>, and taking
 * char (no cast to unsigned char needed). */
#ifndef WS6455_ASCII_H
#define WS6455_ASCII_H

static inline int ws6455__is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline int ws6455__is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int ws6455__is_hex(char c)
{
    return ws6455__is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Optional whitespace of RFC 7230 3.2.3. */
static inline int ws6455__is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* tchar of RFC 7230 3.2.6: the characters of a token. */
static inline int ws6455__is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}

static inline char ws6455__ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

#endif
