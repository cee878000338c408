/* Internal: the base64 alphabet (RFC 4648 table 1), shared by the decoder
 * (src/base64.c) and the Sec-WebSocket-Key check (src/accept.c), which
 * validates a key without decoding it. */
#ifndef WS6455_BASE64_H
#define WS6455_BASE64_H

/* The 6-bit value of an alphabet character, or -1 for anything else,
 * including '=' (padding is the caller's to handle). */
static inline int ws6455__base64_sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

#endif
