/* WebSocket URLs (RFC 6455 section 3, syntax from RFC 3986):
 *   ("ws" | "wss") "://" host [ ":" port ] [ path ] [ "?" query ]
 * Strict on purpose: a URL that needs interpretation (spaces, non-ASCII,
 * userinfo, fragments) is refused rather than guessed at, because what is
 * parsed here ends up in a request line and a Host header. */
#include "ws6455.h"

#include "ascii.h"

#include <string.h>

#if !defined(WS6455_NO_CLIENT)

static int is_unreserved(char c)
{
    return ws6455__is_alpha(c) || ws6455__is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int is_sub_delim(char c)
{
    return c != 0 && strchr("!$&'()*+,;=", c) != NULL;
}

/* Visible ASCII only: spaces, controls and non-ASCII bytes (an IRI that
 * was not converted to a URI) are malformed. */
static int all_visible_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* "ws" or "wss", case-insensitively (RFC 3986 3.1), followed by "://". */
static int parse_scheme(const char *s, size_t n, int *secure, size_t *after)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return WS6455_ERR_URL_SCHEME;
    size_t len = (size_t)(colon - s);
    if (len < 2 || len > 3 || ws6455__ascii_lower(s[0]) != 'w' || ws6455__ascii_lower(s[1]) != 's' ||
        (len == 3 && ws6455__ascii_lower(s[2]) != 's'))
        return WS6455_ERR_URL_SCHEME;
    if (n - len < 3 || colon[1] != '/' || colon[2] != '/')
        return WS6455_ERR_URL_MALFORMED;
    *secure = len == 3;
    *after = len + 3;
    return WS6455_OK;
}

/* Percent-encoded octets must be "%" HEXDIG HEXDIG. `extra` lists the
 * characters allowed besides unreserved, sub-delims and pct-encoded. */
static int chars_allowed(const char *s, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3 || !ws6455__is_hex(s[i + 1]) || !ws6455__is_hex(s[i + 2]))
                return 0;
            i += 2;
        } else if (!is_unreserved(c) && !is_sub_delim(c) && !strchr(extra, c)) {
            return 0;
        }
    }
    return 1;
}

/* One group of an IPv6 address: 1 to 4 hex digits. */
static int ipv6_group(const char *s, size_t n)
{
    if (n < 1 || n > 4)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ws6455__is_hex(s[i]))
            return 0;
    return 1;
}

/* Dotted-quad IPv4 with values 0..255 (RFC 3986 IPv4address). */
static int is_ipv4(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && ws6455__is_digit(s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
            return 0;
    }
    return i == n;
}

/* RFC 4291 2.2 text form: eight groups, or fewer with exactly one "::",
 * optionally ending in an embedded IPv4 address (two groups' worth).
 * Zone identifiers (RFC 6874, "%25eth0") and IPvFuture are not accepted. */
static int is_ipv6(const char *s, size_t n)
{
    size_t groups = 0, i = 0;
    int elided = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        elided = 1;
        i = 2;
    } else if (n >= 1 && s[0] == ':') {
        return 0;
    }
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != ':')
            i++;
        size_t len = i - start;
        if (i == n && memchr(s + start, '.', len)) {
            if (!is_ipv4(s + start, len))
                return 0;
            groups += 2;
            break;
        }
        if (!ipv6_group(s + start, len))
            return 0;
        groups++;
        if (i == n)
            break;
        i++; /* the ':' */
        if (i < n && s[i] == ':') {
            if (elided)
                return 0;
            elided = 1;
            i++;
        } else if (i == n) {
            return 0; /* a single trailing ':' */
        }
    }
    return elided ? groups <= 7 : groups == 8;
}

/* "[" IPv6 "]", then the rest of the authority must be empty or ":port". */
static int parse_ipv6_host(const char *a, size_t n, ws6455_url *out, size_t *after)
{
    const char *close = memchr(a, ']', n);
    if (!close)
        return WS6455_ERR_URL_HOST;
    size_t len = (size_t)(close - a) - 1;
    if (!is_ipv6(a + 1, len))
        return WS6455_ERR_URL_HOST;
    *after = len + 2;
    if (*after < n && a[*after] != ':')
        return WS6455_ERR_URL_HOST;
    out->host = a + 1;
    out->host_len = len;
    out->host_is_ipv6 = 1;
    return WS6455_OK;
}

/* A registered name or an IPv4 literal (both reg-name by syntax). */
static int parse_name_host(const char *a, size_t n, ws6455_url *out, size_t *after)
{
    const char *colon = memchr(a, ':', n);
    size_t len = colon ? (size_t)(colon - a) : n;
    if (len == 0 || !chars_allowed(a, len, ""))
        return WS6455_ERR_URL_HOST;
    out->host = a;
    out->host_len = len;
    *after = len;
    return WS6455_OK;
}

/* Port 1..65535. An empty port ("ws://h:/") is allowed by RFC 3986 3.2.3
 * and means the scheme's default, as browsers also read it. */
static int parse_port(const char *p, size_t n, ws6455_url *out)
{
    if (n == 0)
        return WS6455_OK;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ws6455__is_digit(p[i]))
            return WS6455_ERR_URL_PORT;
        v = v * 10 + (unsigned long)(p[i] - '0');
        if (v > 65535)
            return WS6455_ERR_URL_PORT;
    }
    if (v == 0)
        return WS6455_ERR_URL_PORT;
    out->port = (uint16_t)v;
    out->port_explicit = 1;
    return WS6455_OK;
}

static int parse_authority(const char *a, size_t n, ws6455_url *out)
{
    if (memchr(a, '@', n))
        return WS6455_ERR_URL_USERINFO;
    if (n == 0)
        return WS6455_ERR_URL_HOST;
    size_t after;
    int rc = a[0] == '[' ? parse_ipv6_host(a, n, out, &after) : parse_name_host(a, n, out, &after);
    if (rc < 0)
        return rc;
    if (after == n)
        return WS6455_OK;
    return parse_port(a + after + 1, n - after - 1, out); /* a[after] is ':' */
}

/* Path and query: pchar, "/" and (in the query) "?" (RFC 3986 3.3, 3.4). */
static int parse_target(const char *t, size_t n, ws6455_url *out)
{
    if (!chars_allowed(t, n, ":@/?"))
        return WS6455_ERR_URL_MALFORMED;
    if (n == 0) {
        out->target = "/";
        out->target_len = 1;
    } else {
        /* "?x" when there is a query but no path: see ws6455_url.target. */
        out->target = t;
        out->target_len = n;
    }
    return WS6455_OK;
}

int ws6455_url_parse(const char *url, size_t len, ws6455_url *out)
{
    if (!url || !out)
        return WS6455_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    /* Parse into a local so a failure leaves *out all zero. */
    ws6455_url u;
    memset(&u, 0, sizeof u);
    if (!all_visible_ascii(url, len))
        return WS6455_ERR_URL_MALFORMED;
    size_t pos;
    int rc = parse_scheme(url, len, &u.secure, &pos);
    if (rc < 0)
        return rc;
    if (memchr(url, '#', len))
        return WS6455_ERR_URL_FRAGMENT;
    u.port = u.secure ? 443 : 80;
    size_t end = pos;
    while (end < len && url[end] != '/' && url[end] != '?')
        end++;
    if ((rc = parse_authority(url + pos, end - pos, &u)) < 0)
        return rc;
    if ((rc = parse_target(url + end, len - end, &u)) < 0)
        return rc;
    *out = u;
    return WS6455_OK;
}

/* The Host header value and the request target a client connects with. */
int ws6455_config_set_url(ws6455_config *cfg, const ws6455_url *url, char *storage,
                          size_t storage_cap, char *target_storage, size_t target_cap)
{
    if (!cfg || !url || !storage || !target_storage)
        return WS6455_ERR_INVALID_ARGUMENT;
    size_t need = url->host_len + (url->host_is_ipv6 ? 2 : 0) + 7 + 1;
    if (storage_cap < need || target_cap < url->target_len + 1)
        return WS6455_ERR_BUFFER_TOO_SMALL;
    size_t k = 0;
    if (url->host_is_ipv6)
        storage[k++] = '[';
    memcpy(storage + k, url->host, url->host_len);
    k += url->host_len;
    if (url->host_is_ipv6)
        storage[k++] = ']';
    uint16_t default_port = url->secure ? 443 : 80;
    if (url->port != default_port) {
        char digits[6];
        int d = 0;
        for (unsigned v = url->port; v; v /= 10)
            digits[d++] = (char)('0' + v % 10);
        storage[k++] = ':';
        while (d)
            storage[k++] = digits[--d];
    }
    storage[k] = '\0';
    memcpy(target_storage, url->target, url->target_len);
    target_storage[url->target_len] = '\0';
    cfg->host = storage;
    cfg->target = target_storage;
    return WS6455_OK;
}

#else

/* WS6455_NO_CLIENT: URLs, which only the client role uses, are left out. ISO C wants a
 * declaration in every translation unit. */
typedef int ws6455__no_client_build;

#endif
