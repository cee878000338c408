/* ASCII character classes shared by the HTTP head parser (handshake.c) and
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

static inline char ws6455__ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

#endif
