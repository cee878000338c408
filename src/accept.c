/* Sec-WebSocket-Accept (RFC 6455 section 4.2.2, step 5.4 of the server's
 * response): base64(SHA-1(key || GUID)), computed on the key exactly as the
 * client sent it, not on the decoded nonce. */
#include "ws6455.h"

/* A 16-byte nonce always encodes to 24 characters; anything else cannot be
 * a valid key, so the length is checked before decoding anything. */
#define KEY_CHARS 24
#define KEY_BYTES 16
#define SHA1_BYTES 20
#define ACCEPT_CHARS 28

/* RFC 6455 section 4.1: the key is a randomly selected 16-byte value that
 * has been base64-encoded. Strict decoding makes every accepted key the one
 * canonical spelling of its nonce. */
static int key_is_valid(const char *key, size_t key_len)
{
    if (key_len != KEY_CHARS)
        return 0;
    /* 18 bytes of room: a 24-character input without padding decodes to 18,
     * and such a key must be reported as a bad key, not a short buffer. */
    uint8_t nonce[18];
    size_t n;
    if (ws6455_base64_decode(key, key_len, nonce, sizeof nonce, &n) != WS6455_OK)
        return 0;
    return n == KEY_BYTES;
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
