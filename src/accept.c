/* Sec-WebSocket-Accept (RFC 6455 section 4.2.2, step 5.4 of the server's
 * response): base64(SHA-1(key || GUID)), computed on the key exactly as the
 * client sent it, not on the decoded nonce. */
#include "ws6455.h"

#include "base64.h"

/* A 16-byte nonce always encodes to 24 characters. */
#define KEY_CHARS 24
#define SHA1_BYTES 20
#define ACCEPT_CHARS 28

/* RFC 6455 section 4.1: the key is a randomly selected 16-byte value that
 * has been base64-encoded. Only the one canonical spelling of a nonce is
 * accepted (as ws6455_base64_decode would decode it, without linking the
 * decoder into every server): 16 bytes are five full groups and a group of
 * one byte, so 22 alphabet characters, the last of which carries 4 unused
 * bits that must be zero, and "==". */
static int key_is_valid(const char *key, size_t key_len)
{
    if (key_len != KEY_CHARS || key[22] != '=' || key[23] != '=')
        return 0;
    int s = 0;
    for (size_t i = 0; i < 22 && s >= 0; i++)
        s = ws6455__base64_sextet((unsigned char)key[i]);
    return s >= 0 && (s & 0x0F) == 0; /* s: the last character's */
}

int ws6455_accept_key(const char *key, size_t key_len, char out[29])
{
    if (key == NULL || out == NULL)
        return WS6455_ERR_INVALID_ARGUMENT;
    if (!key_is_valid(key, key_len)) {
        out[0] = '\0';
        return WS6455_ERR_BAD_KEY;
    }

    ws6455_sha1 sha;
    uint8_t digest[SHA1_BYTES];
    ws6455_sha1_init(&sha);
    ws6455_sha1_update(&sha, key, key_len);
    ws6455_sha1_update(&sha, WS6455_GUID, sizeof WS6455_GUID - 1);
    ws6455_sha1_final(&sha, digest);

    /* Cannot fail: 20 bytes always encode to 28 characters plus the NUL. */
    (void)ws6455_base64_encode(digest, sizeof digest, out, ACCEPT_CHARS + 1);
    return WS6455_OK;
}
