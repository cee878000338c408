/* URLs: ws6455_url_parse over arbitrary bytes. On success: the host lies
 * within the input and is not empty, the port is not 0 and is the scheme's
 * default unless explicit, the target starts with "/" or is a query and
 * lies within the input (or is the static "/"); ws6455_config_set_url
 * builds a Host value that, parsed back as "ws[s]://" Host target, gives
 * the same host, port and target. On failure: *out is all zero. */
#include "fuzz.h"

static int within(const char *p, size_t n, const char *base, size_t bn)
{
    return p >= base && n <= bn && p - base <= (ptrdiff_t)(bn - n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: the parser gets a length, not a NUL. */
    char *s = malloc(size ? size : 1);
    FZ_CHECK(s != NULL);
    if (size)
        memcpy(s, data, size);
    ws6455_url u;
    memset(&u, 0xA5, sizeof u);
    int rc = ws6455_url_parse(s, size, &u);
    if (rc != WS6455_OK) {
        FZ_CHECK(rc <= WS6455_ERR_URL_SCHEME && rc >= WS6455_ERR_URL_MALFORMED);
        static const ws6455_url zero;
        FZ_CHECK(memcmp(&u, &zero, sizeof u) == 0);
        free(s);
        return 0;
    }
    FZ_CHECK(u.host_len > 0 && within(u.host, u.host_len, s, size));
    FZ_CHECK(u.port != 0);
    if (!u.port_explicit)
        FZ_CHECK(u.port == (u.secure ? 443 : 80));
    FZ_CHECK(u.target != NULL && u.target_len > 0);
    FZ_CHECK(u.target[0] == '/' || u.target[0] == '?');
    FZ_CHECK(within(u.target, u.target_len, s, size) ||
             (u.target_len == 1 && u.target[0] == '/'));
    for (size_t i = 0; i < u.host_len; i++)
        FZ_CHECK(u.host[i] > 0x20 && u.host[i] < 0x7F && u.host[i] != '/' && u.host[i] != '@');

    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_CLIENT);
    size_t hcap = u.host_len + 11, tcap = u.target_len + 1;
    char *host = malloc(hcap), *target = malloc(tcap);
    FZ_CHECK(host && target);
    FZ_CHECK(ws6455_config_set_url(&cfg, &u, host, hcap, target, tcap) == WS6455_OK);
    FZ_CHECK(cfg.host == host && cfg.target == target);
    FZ_CHECK(strlen(target) == u.target_len && memcmp(target, u.target, u.target_len) == 0);

    size_t rlen = 6 + strlen(host) + u.target_len;
    char *again = malloc(rlen + 1);
    FZ_CHECK(again != NULL);
    int k = snprintf(again, rlen + 1, "%s://%s%s", u.secure ? "wss" : "ws", host, target);
    FZ_CHECK(k > 0 && (size_t)k <= rlen);
    ws6455_url v;
    FZ_CHECK(ws6455_url_parse(again, (size_t)k, &v) == WS6455_OK);
    FZ_CHECK(v.secure == u.secure && v.port == u.port && v.host_is_ipv6 == u.host_is_ipv6);
    FZ_CHECK(v.host_len == u.host_len && memcmp(v.host, u.host, u.host_len) == 0);
    FZ_CHECK(v.target_len == u.target_len && memcmp(v.target, u.target, u.target_len) == 0);
    free(again);
    free(host);
    free(target);
    free(s);
    return 0;
}
