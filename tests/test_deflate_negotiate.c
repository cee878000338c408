/* permessage-deflate negotiation (src/deflate_negotiate.c): the grammar of
 * Sec-WebSocket-Extensions, the server's choice among offers, the client's
 * offer and its validation of the response, every rule of RFC 7692 7.1 with
 * the exact strings, the offers real clients sent (tests/fixtures/), and
 * every pair of option sets run client -> server -> client. */
#include "testutil.h"

#include "deflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ws6455__deflate_options enabled_defaults(void)
{
    ws6455__deflate_options o;
    ws6455__deflate_options_init(&o);
    o.enabled = 1;
    return o;
}

static void assert_params(const ws6455__deflate_params *p, int snct, int cnct, int smwb, int cmwb)
{
    assert_int_equal(p->server_no_context_takeover, snct);
    assert_int_equal(p->client_no_context_takeover, cnct);
    assert_int_equal(p->server_max_window_bits, smwb);
    assert_int_equal(p->client_max_window_bits, cmwb);
}

/* ------------------------------------------------------------ options */

static void test_options_defaults_and_ranges(void **state)
{
    (void)state;
    ws6455__deflate_options o;
    ws6455__deflate_options_init(&o);
    assert_int_equal(o.enabled, 0);
    assert_int_equal(o.server_no_context_takeover, 1);
    assert_int_equal(o.client_no_context_takeover, 1);
    assert_int_equal(o.server_max_window_bits, 15);
    assert_int_equal(o.client_max_window_bits, 15);
    assert_int_equal(o.level, -1);
    assert_int_equal(o.mem_level, 4);
    assert_int_equal(o.min_size, 64);
    assert_int_equal(ws6455__deflate_options_check(&o), WS6455_OK);
    assert_int_equal(ws6455__deflate_options_check(NULL), WS6455_ERR_INVALID_ARGUMENT);
    const struct {
        int field, value, ok;
    } cases[] = {{0, 7, 0},  {0, 8, 1},  {0, 15, 1}, {0, 16, 0}, {1, 7, 0}, {1, 8, 1},
                 {1, 16, 0}, {2, -2, 0}, {2, -1, 1}, {2, 0, 1},  {2, 9, 1}, {2, 10, 0},
                 {3, 0, 0},  {3, 1, 1},  {3, 9, 1},  {3, 10, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ws6455__deflate_options t = o;
        int *f[] = {&t.server_max_window_bits, &t.client_max_window_bits, &t.level, &t.mem_level};
        *f[cases[i].field] = cases[i].value;
        assert_int_equal(ws6455__deflate_options_check(&t),
                         cases[i].ok ? WS6455_OK : WS6455_ERR_INVALID_ARGUMENT);
    }
}

/* ------------------------------------------------------------ grammar */

static int parse(const char *s, int response, ws6455__deflate_offer *o)
{
    memset(o, 0xAA, sizeof *o);
    /* Exact-size copy at a guard page: the parser must not read past n. */
    size_t n = strlen(s);
    uint8_t *g = tu_guard_copy(s, n);
    int rc = ws6455__deflate_parse((const char *)g, n, response, o);
    tu_guard_free(g, n);
    return rc;
}

static void test_parse_valid_forms(void **state)
{
    (void)state;
    const struct {
        const char *s;
        int snct, cnct, smwb, cmwb;
    } cases[] = {
        {"permessage-deflate", 0, 0, 0, 0},
        {"permessage-deflate; client_max_window_bits", 0, 0, 0, WS6455__DEFLATE_BITS_NO_VALUE},
        {"  permessage-deflate  ", 0, 0, 0, 0},
        {"permessage-deflate;server_no_context_takeover", 1, 0, 0, 0},
        {"permessage-deflate ;\tclient_no_context_takeover ", 0, 1, 0, 0},
        {"permessage-deflate; server_max_window_bits=8", 0, 0, 8, 0},
        {"permessage-deflate; server_max_window_bits = 15", 0, 0, 15, 0},
        {"permessage-deflate; client_max_window_bits=\"10\"", 0, 0, 0, 10},
        {"permessage-deflate; client_max_window_bits=\"1\\2\"", 0, 0, 0, 12},
        {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=9; client_max_window_bits=11",
         1, 1, 9, 11},
        {"permessage-deflate; client_max_window_bits; server_max_window_bits=10", 0, 0, 10,
         WS6455__DEFLATE_BITS_NO_VALUE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ws6455__deflate_offer o;
        assert_int_equal(parse(cases[i].s, 0, &o), 1);
        assert_int_equal(o.server_no_context_takeover, cases[i].snct);
        assert_int_equal(o.client_no_context_takeover, cases[i].cnct);
        assert_int_equal(o.server_max_window_bits, cases[i].smwb);
        assert_int_equal(o.client_max_window_bits, cases[i].cmwb);
    }
}

static void test_parse_rejects_what_7_1_declines(void **state)
{
    (void)state;
    const char *bad[] = {
        "permessage-deflate; foo",                        /* unknown */
        "permessage-deflate; Server_No_Context_Takeover", /* names are exact */
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_no_context_takeover=1", /* no value allowed */
        "permessage-deflate; client_no_context_takeover=\"x\"",
        "permessage-deflate; server_max_window_bits", /* value required */
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; server_max_window_bits=9a",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=\"\"",
        "permessage-deflate; client_max_window_bits=\"1 0\"",
        "permessage-deflate; client_max_window_bits=",
        "permessage-deflate;", /* grammar */
        "permessage-deflate; ;client_max_window_bits",
        "permessage-deflate client_max_window_bits",
        "permessage-deflate; client_max_window_bits=\"10",
        "permessage-deflate; client_max_window_bits=\"10\\",
        "permessage-deflate; =10",
        "permessage-deflate, x",
        "; permessage-deflate",
        "",
        "   ",
        "\"permessage-deflate\"",
        "permessage-deflate; server_max_window_bits=1\x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ws6455__deflate_offer o;
        int rc = parse(bad[i], 0, &o);
        if (rc != WS6455_ERR_HS_EXTENSION)
            fail_msg("accepted: '%s' (%d)", bad[i], rc);
    }
    /* A response must give client_max_window_bits a value (7.1.2.2). */
    ws6455__deflate_offer o;
    assert_int_equal(parse("permessage-deflate; client_max_window_bits", 1, &o),
                     WS6455_ERR_HS_EXTENSION);
    assert_int_equal(parse("permessage-deflate; client_max_window_bits=9", 1, &o), 1);
    assert_int_equal(o.client_max_window_bits, 9);
}

static void test_parse_other_extensions(void **state)
{
    (void)state;
    const char *other[] = {"x-webkit-deflate-frame", "permessage-deflate2",
                           "Permessage-Deflate; client_max_window_bits",
                           "deflate-frame; max_window_bits=10", "foo; bar=\"a\\b\"; baz"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        ws6455__deflate_offer o;
        assert_int_equal(parse(other[i], 0, &o), 0);
    }
    ws6455__deflate_offer o;
    /* Malformed is malformed whatever the name. */
    assert_int_equal(parse("foo; bar=\"unterminated", 0, &o), WS6455_ERR_HS_EXTENSION);
    /* A quoted value unescapes to a token: never empty (RFC 6455 9.1). */
    assert_int_equal(parse("foo; bar=\"\"", 0, &o), WS6455_ERR_HS_EXTENSION);
    assert_int_equal(parse("foo; bar=\"b\"", 0, &o), 0);
    /* Every window value 8..15 and nothing else of 0..99. */
    for (int v = 0; v < 100; v++) {
        char s[64];
        snprintf(s, sizeof s, "permessage-deflate; server_max_window_bits=%d", v);
        int rc = parse(s, 1, &o);
        if (v >= 8 && v <= 15) {
            assert_int_equal(rc, 1);
            assert_int_equal(o.server_max_window_bits, v);
        } else {
            assert_int_equal(rc, WS6455_ERR_HS_EXTENSION);
        }
    }
}

/* ------------------------------------------------------------ server */

static int select_str(const ws6455__deflate_options *o, const char *offer,
                      ws6455__deflate_params *p, char *resp)
{
    size_t len = 999;
    int rc = ws6455__deflate_server_select(o, offer, offer ? strlen(offer) : 0, p, resp,
                                           WS6455__DEFLATE_HEADER_MAX, &len);
    if (rc == 1)
        assert_int_equal(len, strlen(resp));
    return rc;
}

typedef struct server_case {
    const char *offer;
    int snct, cnct, smwb, cmwb; /* options (smwb/cmwb 0: 15) */
    const char *resp;           /* NULL: declined */
    int a_snct, a_cnct, a_smwb, a_cmwb;
} server_case;

static void run_server_cases(const server_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const server_case *c = &cases[i];
        ws6455__deflate_options o = enabled_defaults();
        o.server_no_context_takeover = c->snct;
        o.client_no_context_takeover = c->cnct;
        o.server_max_window_bits = c->smwb ? c->smwb : 15;
        o.client_max_window_bits = c->cmwb ? c->cmwb : 15;
        ws6455__deflate_params p;
        char resp[WS6455__DEFLATE_HEADER_MAX];
        int rc = select_str(&o, c->offer, &p, resp);
        if (!c->resp) {
            if (rc != 0)
                fail_msg("case %zu '%s': accepted as '%s'", i, c->offer, resp);
            continue;
        }
        if (rc != 1)
            fail_msg("case %zu '%s': declined (%d)", i, c->offer, rc);
        if (strcmp(resp, c->resp) != 0)
            fail_msg("case %zu '%s': answered '%s', want '%s'", i, c->offer, resp, c->resp);
        assert_params(&p, c->a_snct, c->a_cnct, c->a_smwb, c->a_cmwb);
        /* The answer is a valid response for the client. */
        ws6455__deflate_offer back;
        assert_int_equal(ws6455__deflate_parse(resp, strlen(resp), 1, &back), 1);
    }
}

#define CHROMIUM "permessage-deflate; client_max_window_bits"
#define FIREFOX "permessage-deflate"

static void test_server_browser_offers(void **state)
{
    (void)state;
    static const server_case cases[] = {
        /* Defaults: no context takeover either way. */
        {CHROMIUM, 1, 1, 0, 0,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover", 1, 1, 15,
         15},
        {FIREFOX, 1, 1, 0, 0,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover", 1, 1, 15,
         15},
        /* Context takeover allowed both ways: the bare answer. */
        {CHROMIUM, 0, 0, 0, 0, "permessage-deflate", 0, 0, 15, 15},
        {FIREFOX, 0, 0, 0, 0, "permessage-deflate", 0, 0, 15, 15},
        {CHROMIUM, 1, 0, 0, 0, "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15},
        {CHROMIUM, 0, 1, 0, 0, "permessage-deflate; client_no_context_takeover", 0, 1, 15, 15},
        /* Our window named unasked (7.1.2.1 allows it). */
        {CHROMIUM, 0, 0, 10, 0, "permessage-deflate; server_max_window_bits=10", 0, 0, 10, 15},
        {FIREFOX, 0, 0, 8, 0, "permessage-deflate; server_max_window_bits=8", 0, 0, 8, 15},
        /* Bounding the client's window needs client_max_window_bits in the
         * offer: Chromium's is accepted, Firefox's declined. */
        {CHROMIUM, 0, 0, 0, 10, "permessage-deflate; client_max_window_bits=10", 0, 0, 15, 10},
        {FIREFOX, 0, 0, 0, 10, NULL, 0, 0, 0, 0},
        /* We never ask a peer's compressor for 8 (zlib-based peers fail on
         * it): a configured 8 is asked as 9... */
        {CHROMIUM, 1, 1, 9, 8,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=9; client_max_window_bits=9",
         1, 1, 9, 9},
        /* ...unless the client offered 8 itself; our own compressor at 8 is fine. */
        {"permessage-deflate; client_max_window_bits=8", 0, 0, 8, 8,
         "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8", 0, 0, 8, 8},
        {"permessage-deflate; client_max_window_bits=10", 0, 0, 0, 8,
         "permessage-deflate; client_max_window_bits=9", 0, 0, 15, 9},
    };
    run_server_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_server_offer_parameters(void **state)
{
    (void)state;
    static const server_case cases[] = {
        /* The client asks for our reset: always granted and announced. */
        {"permessage-deflate; server_no_context_takeover", 0, 0, 0, 0,
         "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15},
        /* The client's hint of no takeover is echoed (we may free between messages). */
        {"permessage-deflate; client_no_context_takeover", 0, 0, 0, 0,
         "permessage-deflate; client_no_context_takeover", 0, 1, 15, 15},
        /* server_max_window_bits: same or smaller, always present when asked. */
        {"permessage-deflate; server_max_window_bits=12", 0, 0, 0, 0,
         "permessage-deflate; server_max_window_bits=12", 0, 0, 12, 15},
        {"permessage-deflate; server_max_window_bits=12", 0, 0, 10, 0,
         "permessage-deflate; server_max_window_bits=10", 0, 0, 10, 15},
        {"permessage-deflate; server_max_window_bits=15", 0, 0, 0, 0,
         "permessage-deflate; server_max_window_bits=15", 0, 0, 15, 15},
        {"permessage-deflate; server_max_window_bits=8", 0, 0, 0, 0,
         "permessage-deflate; server_max_window_bits=8", 0, 0, 8, 15},
        /* client_max_window_bits with a value: a hint we take. */
        {"permessage-deflate; client_max_window_bits=9", 0, 0, 0, 0,
         "permessage-deflate; client_max_window_bits=9", 0, 0, 15, 9},
        {"permessage-deflate; client_max_window_bits=9", 0, 0, 0, 12,
         "permessage-deflate; client_max_window_bits=9", 0, 0, 15, 9},
        {"permessage-deflate; client_max_window_bits=13", 0, 0, 0, 12,
         "permessage-deflate; client_max_window_bits=12", 0, 0, 15, 12},
        {"permessage-deflate; client_max_window_bits=15", 0, 0, 0, 0, "permessage-deflate", 0, 0,
         15, 15},
        /* RFC 7692 7.1.3's example: two offers, the first acceptable one wins. */
        {"permessage-deflate; client_max_window_bits; server_max_window_bits=10, "
         "permessage-deflate; client_max_window_bits",
         0, 0, 0, 0, "permessage-deflate; server_max_window_bits=10", 0, 0, 10, 15},
        /* Declined offers are skipped, never fatal. */
        {"permessage-deflate; server_max_window_bits=10; foo, permessage-deflate", 0, 0, 0, 0,
         "permessage-deflate", 0, 0, 15, 15},
        {"permessage-deflate; server_no_context_takeover; server_no_context_takeover, "
         "permessage-deflate; client_max_window_bits=7, permessage-deflate; x=\"1\", "
         "permessage-deflate; server_max_window_bits=11",
         0, 0, 0, 0, "permessage-deflate; server_max_window_bits=11", 0, 0, 11, 15},
        {"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits", 0, 0, 0, 0,
         "permessage-deflate", 0, 0, 15, 15},
        {" , ,permessage-deflate ,", 0, 0, 0, 0, "permessage-deflate", 0, 0, 15, 15},
        /* A comma inside a quoted-string does not start an offer. */
        {"foo; x=\", permessage-deflate, \"", 0, 0, 0, 0, NULL, 0, 0, 0, 0},
        {"foo; x=\"\\\", permessage-deflate, \\\"\", permessage-deflate; server_max_window_bits=9",
         0, 0, 0, 0, "permessage-deflate; server_max_window_bits=9", 0, 0, 9, 15},
        /* Nothing acceptable. */
        {"permessage-deflate; foo", 0, 0, 0, 0, NULL, 0, 0, 0, 0},
        {"x-webkit-deflate-frame", 0, 0, 0, 0, NULL, 0, 0, 0, 0},
        {"", 0, 0, 0, 0, NULL, 0, 0, 0, 0},
        {",,,", 0, 0, 0, 0, NULL, 0, 0, 0, 0},
    };
    run_server_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_server_arguments_and_buffer(void **state)
{
    (void)state;
    ws6455__deflate_options o = enabled_defaults();
    ws6455__deflate_params p;
    char resp[WS6455__DEFLATE_HEADER_MAX];
    size_t len;
    /* Disabled: every offer declined. */
    o.enabled = 0;
    assert_int_equal(select_str(&o, CHROMIUM, &p, resp), 0);
    o.enabled = 1;
    assert_int_equal(ws6455__deflate_server_select(NULL, CHROMIUM, 10, &p, resp, sizeof resp, &len),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflate_server_select(&o, NULL, 10, &p, resp, sizeof resp, &len),
                     WS6455_ERR_INVALID_ARGUMENT);
    assert_int_equal(ws6455__deflate_server_select(&o, NULL, 0, &p, resp, sizeof resp, &len), 0);
    o.level = 12;
    assert_int_equal(select_str(&o, CHROMIUM, &p, resp), WS6455_ERR_INVALID_ARGUMENT);
    /* The longest answer fits WS6455__DEFLATE_HEADER_MAX exactly. */
    o = enabled_defaults();
    o.server_max_window_bits = 10;
    o.client_max_window_bits = 12;
    const char *offer = "permessage-deflate; client_max_window_bits";
    assert_int_equal(ws6455__deflate_server_select(&o, offer, strlen(offer), &p, resp,
                                                   WS6455__DEFLATE_HEADER_MAX, &len),
                     1);
    assert_int_equal(len, WS6455__DEFLATE_HEADER_MAX - 1);
    char small[WS6455__DEFLATE_HEADER_MAX - 1];
    assert_int_equal(
        ws6455__deflate_server_select(&o, offer, strlen(offer), &p, small, sizeof small, &len),
        WS6455_ERR_BUFFER_TOO_SMALL);
}

/* The offers recorded from real clients, answered with the defaults. */
static char *fixture_extensions(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (tests run from the project root)", path);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *key = "\r\nSec-WebSocket-Extensions: ";
    char *v = strstr(buf, key);
    assert_non_null(v);
    v += strlen(key);
    char *end = strstr(v, "\r\n");
    assert_non_null(end);
    *end = '\0';
    return v;
}

static void test_server_recorded_offers(void **state)
{
    (void)state;
    const struct {
        const char *file, *offer;
    } rec[] = {{"chromium.txt", CHROMIUM},
               {"node-ws.txt", CHROMIUM},
               {"python-websockets.txt", CHROMIUM},
               {"firefox.txt", FIREFOX}};
    for (size_t i = 0; i < sizeof rec / sizeof rec[0]; i++) {
        char *v = fixture_extensions(rec[i].file);
        assert_string_equal(v, rec[i].offer);
        ws6455__deflate_options o = enabled_defaults();
        ws6455__deflate_params p;
        char resp[WS6455__DEFLATE_HEADER_MAX];
        assert_int_equal(select_str(&o, v, &p, resp), 1);
        assert_string_equal(
            resp, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
        assert_params(&p, 1, 1, 15, 15);
    }
}

/* ------------------------------------------------------------ client */

static void test_client_offer_strings(void **state)
{
    (void)state;
    const struct {
        int snct, cnct, smwb, cmwb;
        const char *want;
    } cases[] = {
        {1, 1, 15, 15,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "client_max_window_bits"},
        /* With takeover allowed we send what Chromium, ws and websockets send. */
        {0, 0, 15, 15, CHROMIUM},
        {0, 0, 10, 15, "permessage-deflate; server_max_window_bits=10; client_max_window_bits"},
        {0, 0, 15, 9, "permessage-deflate; client_max_window_bits=9"},
        /* Asking the server for 8 would break zlib-based servers: 9. */
        {1, 1, 8, 12,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=9; client_max_window_bits=12"},
        {0, 0, 9, 8, "permessage-deflate; server_max_window_bits=9; client_max_window_bits=8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ws6455__deflate_options o = enabled_defaults();
        o.server_no_context_takeover = cases[i].snct;
        o.client_no_context_takeover = cases[i].cnct;
        o.server_max_window_bits = cases[i].smwb;
        o.client_max_window_bits = cases[i].cmwb;
        char out[WS6455__DEFLATE_HEADER_MAX];
        size_t len = 0;
        assert_int_equal(ws6455__deflate_client_offer(&o, out, sizeof out, &len), WS6455_OK);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(len, strlen(out));
        ws6455__deflate_offer parsed, sent;
        assert_int_equal(ws6455__deflate_parse(out, len, 0, &parsed), 1);
        ws6455__deflate_client_offer_params(&o, &sent);
        assert_memory_equal(&parsed, &sent, sizeof sent);
    }
    ws6455__deflate_options o = enabled_defaults();
    o.server_max_window_bits = 10;
    o.client_max_window_bits = 10;
    char out[WS6455__DEFLATE_HEADER_MAX];
    size_t len;
    assert_int_equal(ws6455__deflate_client_offer(&o, out, sizeof out, &len), WS6455_OK);
    assert_int_equal(len, WS6455__DEFLATE_HEADER_MAX - 1);
    assert_int_equal(ws6455__deflate_client_offer(&o, out, sizeof out - 1, &len),
                     WS6455_ERR_BUFFER_TOO_SMALL);
    o.enabled = 0;
    assert_int_equal(ws6455__deflate_client_offer(&o, out, sizeof out, &len),
                     WS6455_ERR_INVALID_ARGUMENT);
}

typedef struct client_case {
    const char *resp;
    int rc; /* 1 agreed, 0 declined, -1 fail */
    int snct, cnct, smwb, cmwb;
} client_case;

static void run_client_cases(const ws6455__deflate_offer *sent, const client_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const client_case *c = &cases[i];
        ws6455__deflate_params p;
        size_t len = c->resp ? strlen(c->resp) : 0;
        uint8_t *g = c->resp ? tu_guard_copy(c->resp, len) : NULL;
        int rc = ws6455__deflate_client_check(sent, (const char *)g, len, &p);
        if (g)
            tu_guard_free(g, len);
        int want = c->rc < 0 ? WS6455_ERR_HS_EXTENSION : c->rc;
        if (rc != want)
            fail_msg("case %zu '%s': %d, want %d", i, c->resp ? c->resp : "(none)", rc, want);
        if (rc == 1)
            assert_params(&p, c->snct, c->cnct, c->smwb, c->cmwb);
    }
}

static void test_client_validates_response(void **state)
{
    (void)state;
    /* What browsers offer: "permessage-deflate; client_max_window_bits". */
    ws6455__deflate_offer browser = {0, 0, 0, WS6455__DEFLATE_BITS_NO_VALUE};
    static const client_case cases[] = {
        {NULL, 0, 0, 0, 0, 0},
        {"", 0, 0, 0, 0, 0},
        {" , ", 0, 0, 0, 0, 0},
        {"permessage-deflate", 1, 0, 0, 15, 15},
        {"permessage-deflate; server_no_context_takeover", 1, 1, 0, 15, 15},
        {"permessage-deflate; client_no_context_takeover", 1, 0, 1, 15, 15},
        {"permessage-deflate; client_max_window_bits=10", 1, 0, 0, 15, 10},
        {"permessage-deflate; client_max_window_bits=\"8\"", 1, 0, 0, 15, 8},
        {"permessage-deflate; server_max_window_bits=9", 1, 0, 0, 9, 15},
        {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=12; client_max_window_bits=13",
         1, 1, 1, 12, 13},
        {"permessage-deflate; client_max_window_bits", -1, 0, 0, 0, 0},
        {"permessage-deflate; server_max_window_bits", -1, 0, 0, 0, 0},
        {"permessage-deflate; server_max_window_bits=16", -1, 0, 0, 0, 0},
        {"permessage-deflate; client_max_window_bits=7", -1, 0, 0, 0, 0},
        {"permessage-deflate; foo", -1, 0, 0, 0, 0},
        {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", -1, 0, 0, 0,
         0},
        {"permessage-deflate; client_max_window_bits=9; client_max_window_bits=9", -1, 0, 0, 0, 0},
        {"permessage-deflate, permessage-deflate", -1, 0, 0, 0, 0},
        {"permessage-deflate; server_max_window_bits=10, permessage-deflate", -1, 0, 0, 0, 0},
        {"x-webkit-deflate-frame", -1, 0, 0, 0, 0},
        {"permessage-deflate, x-webkit-deflate-frame", -1, 0, 0, 0, 0},
        {"permessage-deflate;", -1, 0, 0, 0, 0},
        {"permessage-deflate; client_max_window_bits=\"10", -1, 0, 0, 0, 0},
    };
    run_client_cases(&browser, cases, sizeof cases / sizeof cases[0]);
}

static void test_client_holds_server_to_its_asks(void **state)
{
    (void)state;
    /* We asked server_max_window_bits=10 and server_no_context_takeover. */
    ws6455__deflate_offer sent = {1, 0, 10, WS6455__DEFLATE_BITS_NO_VALUE};
    static const client_case cases[] = {
        {"permessage-deflate; server_no_context_takeover; server_max_window_bits=10", 1, 1, 0, 10,
         15},
        {"permessage-deflate; server_no_context_takeover; server_max_window_bits=8", 1, 1, 0, 8,
         15},
        {"permessage-deflate; server_no_context_takeover; server_max_window_bits=11", -1, 0, 0, 0,
         0},
        {"permessage-deflate; server_no_context_takeover", -1, 0, 0, 0, 0},
        {"permessage-deflate; server_max_window_bits=10", -1, 0, 0, 0, 0},
        {"", 0, 0, 0, 0, 0},
    };
    run_client_cases(&sent, cases, sizeof cases / sizeof cases[0]);

    /* We did not offer client_max_window_bits: the server may not name it. */
    ws6455__deflate_offer bare = {0, 0, 0, 0};
    static const client_case bare_cases[] = {
        {"permessage-deflate", 1, 0, 0, 15, 15},
        {"permessage-deflate; client_max_window_bits=15", -1, 0, 0, 0, 0},
    };
    run_client_cases(&bare, bare_cases, sizeof bare_cases / sizeof bare_cases[0]);

    /* We offered client_max_window_bits=10 and client_no_context_takeover:
     * our compressor keeps both even if the server names larger. */
    ws6455__deflate_offer hinted = {0, 1, 0, 10};
    static const client_case hinted_cases[] = {
        {"permessage-deflate", 1, 0, 1, 15, 10},
        {"permessage-deflate; client_max_window_bits=12", 1, 0, 1, 15, 10},
        {"permessage-deflate; client_max_window_bits=9", 1, 0, 1, 15, 9},
    };
    run_client_cases(&hinted, hinted_cases, sizeof hinted_cases / sizeof hinted_cases[0]);
}

static void test_client_accept_with_options(void **state)
{
    (void)state;
    ws6455__deflate_options o = enabled_defaults();
    ws6455__deflate_params p;
    const char *r = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    assert_int_equal(ws6455__deflate_client_accept(&o, r, strlen(r), &p), 1);
    assert_params(&p, 1, 1, 15, 15);
    /* Defaults ask for server_no_context_takeover: its absence fails. */
    r = "permessage-deflate";
    assert_int_equal(ws6455__deflate_client_accept(&o, r, strlen(r), &p), WS6455_ERR_HS_EXTENSION);
    /* Offering nothing, any extension in the response fails. */
    o.enabled = 0;
    assert_int_equal(ws6455__deflate_client_accept(&o, r, strlen(r), &p), WS6455_ERR_HS_EXTENSION);
    assert_int_equal(ws6455__deflate_client_accept(&o, NULL, 0, &p), 0);
    o.mem_level = 0;
    assert_int_equal(ws6455__deflate_client_accept(&o, NULL, 0, &p), WS6455_ERR_INVALID_ARGUMENT);
}

static int ask(int bits)
{
    return bits < 9 ? 9 : bits;
}

/* Every pair of option sets: our client's offer, our server's answer, our
 * client's check. Both ends must agree on what each compressor does (the
 * client may be stricter with its own compressor, never looser). */
static void test_every_option_pair_round_trips(void **state)
{
    (void)state;
    size_t pairs = 0;
    for (unsigned c = 0; c < 256; c++) {
        ws6455__deflate_options co = enabled_defaults();
        co.server_no_context_takeover = c & 1;
        co.client_no_context_takeover = (c >> 1) & 1;
        co.server_max_window_bits = 8 + (int)((c >> 2) & 7);
        co.client_max_window_bits = 8 + (int)((c >> 5) & 7);
        char offer[WS6455__DEFLATE_HEADER_MAX];
        size_t olen;
        assert_int_equal(ws6455__deflate_client_offer(&co, offer, sizeof offer, &olen), WS6455_OK);
        for (unsigned s = 0; s < 256; s++) {
            ws6455__deflate_options so = enabled_defaults();
            so.server_no_context_takeover = s & 1;
            so.client_no_context_takeover = (s >> 1) & 1;
            so.server_max_window_bits = 8 + (int)((s >> 2) & 7);
            so.client_max_window_bits = 8 + (int)((s >> 5) & 7);
            ws6455__deflate_params sp, cp;
            char resp[WS6455__DEFLATE_HEADER_MAX];
            size_t rlen;
            /* Our client always advertises client_max_window_bits, so our
             * server always accepts. */
            assert_int_equal(
                ws6455__deflate_server_select(&so, offer, olen, &sp, resp, sizeof resp, &rlen), 1);
            assert_int_equal(ws6455__deflate_client_accept(&co, resp, rlen, &cp), 1);
            assert_int_equal(cp.server_no_context_takeover, sp.server_no_context_takeover);
            assert_int_equal(cp.server_max_window_bits, sp.server_max_window_bits);
            assert_true(cp.client_max_window_bits <= sp.client_max_window_bits);
            assert_true(cp.client_no_context_takeover >= sp.client_no_context_takeover);
            /* Each side got at most what it asked for (8 being asked as 9). */
            assert_true(sp.server_max_window_bits <= so.server_max_window_bits);
            assert_true(sp.server_max_window_bits <= ask(co.server_max_window_bits));
            assert_true(sp.client_max_window_bits <= ask(so.client_max_window_bits));
            assert_true(cp.client_max_window_bits <= co.client_max_window_bits);
            assert_true(sp.server_no_context_takeover >= (uint8_t)co.server_no_context_takeover);
            assert_true(sp.client_no_context_takeover >= (uint8_t)so.client_no_context_takeover);
            pairs++;
        }
    }
    assert_int_equal(pairs, 65536);
}

static void test_directions_by_role(void **state)
{
    (void)state;
    ws6455__deflate_params p = {1, 0, 9, 12};
    ws6455__deflate_dir send, recv;
    ws6455__deflate_directions(&p, 1, &send, &recv);
    assert_int_equal(send.window_bits, 9);
    assert_int_equal(send.no_context_takeover, 1);
    assert_int_equal(recv.window_bits, 12);
    assert_int_equal(recv.no_context_takeover, 0);
    ws6455__deflate_directions(&p, 0, &send, &recv);
    assert_int_equal(send.window_bits, 12);
    assert_int_equal(send.no_context_takeover, 0);
    assert_int_equal(recv.window_bits, 9);
    assert_int_equal(recv.no_context_takeover, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_defaults_and_ranges),
        cmocka_unit_test(test_parse_valid_forms),
        cmocka_unit_test(test_parse_rejects_what_7_1_declines),
        cmocka_unit_test(test_parse_other_extensions),
        cmocka_unit_test(test_server_browser_offers),
        cmocka_unit_test(test_server_offer_parameters),
        cmocka_unit_test(test_server_arguments_and_buffer),
        cmocka_unit_test(test_server_recorded_offers),
        cmocka_unit_test(test_client_offer_strings),
        cmocka_unit_test(test_client_validates_response),
        cmocka_unit_test(test_client_holds_server_to_its_asks),
        cmocka_unit_test(test_client_accept_with_options),
        cmocka_unit_test(test_every_option_pair_round_trips),
        cmocka_unit_test(test_directions_by_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
