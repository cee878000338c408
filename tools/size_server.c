/* The smallest useful embedded server: what tools/size-cortex-m4.sh links
 * to measure "a server-only core with handshake". It feeds received bytes
 * in, echoes every message, hands output to the transport and ticks the
 * clock: the whole sans-I/O server API an embedded program needs, and
 * nothing else (no client, no callback I/O, no shared messages). */
#include <ws6455.h>

/* The board's transport and clock, provided elsewhere on real hardware;
 * volatile stand-ins here so nothing is optimised away. */
static volatile unsigned char rx_byte;
static volatile unsigned long long clock_ms;

static void on_message(ws6455_conn *c, int opcode, const uint8_t *p, size_t n, void *user)
{
    (void)user;
    if (opcode == WS6455_OP_TEXT)
        ws6455_send_text(c, (const char *)p, n);
    else
        ws6455_send_binary(c, p, n);
}

int main(void)
{
    ws6455_config cfg;
    ws6455_config_init(&cfg, WS6455_ROLE_SERVER);
    ws6455_callbacks cb;
    ws6455_callbacks_init(&cb);
    cb.on_message = on_message;
    ws6455_conn *c = ws6455_conn_new(&cfg, &cb, 0);
    while (c && !ws6455_conn_should_close_socket(c)) {
        uint8_t in = rx_byte;
        size_t used = 0;
        ws6455_conn_recv(c, &in, 1, &used);
        const uint8_t *out;
        size_t n = ws6455_conn_pending(c, &out);
        while (n--)
            rx_byte = *out++;
        ws6455_conn_consume(c, ws6455_conn_pending(c, &out));
        if (clock_ms >= ws6455_conn_deadline(c))
            ws6455_conn_tick(c, clock_ms);
        if (rx_byte == 0xff)
            ws6455_close(c, 1000, "bye", 3);
    }
    ws6455_conn_free(c);
    return 0;
}
