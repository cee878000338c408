/* Error names and messages, generated from WS6455_ERROR_LIST so that the
 * enum, the names and the messages cannot drift apart. WS6455_NO_ERROR_STRINGS
 * leaves both tables out (about 3 KB of a microcontroller's flash). */
#include "ws6455.h"

#if defined(WS6455_NO_ERROR_STRINGS)

const char *ws6455_strerror(int err)
{
    return err == WS6455_OK ? "success" : "error";
}

const char *ws6455_errname(int err)
{
    return err == WS6455_OK ? "OK" : "ERR";
}

#else

const char *ws6455_strerror(int err)
{
    switch (err) {
    case WS6455_OK:
        return "success";
#define WS6455__ERROR_MSG(name, num, close, msg)                                                   \
    case num:                                                                                      \
        return msg;
        WS6455_ERROR_LIST(WS6455__ERROR_MSG)
#undef WS6455__ERROR_MSG
    default:
        return "unknown error";
    }
}

const char *ws6455_errname(int err)
{
    switch (err) {
    case WS6455_OK:
        return "OK";
#define WS6455__ERROR_NAME(name, num, close, msg)                                                  \
    case num:                                                                                      \
        return #name;
        WS6455_ERROR_LIST(WS6455__ERROR_NAME)
#undef WS6455__ERROR_NAME
    default:
        return "UNKNOWN";
    }
}

#endif

/* Every close code of the list is 0 (none) or 1000 + a number below 256,
 * so that ws6455_error_close_code's switch is a table of bytes instead of
 * 16-bit words (1000 itself would read as "none"). */
#define WS6455__CLOSE_ABOVE_1000(name, num, close, msg)                                            \
    _Static_assert((close) == 0 || ((close) > 1000 && (close) < 1256), #name " close code");
WS6455_ERROR_LIST(WS6455__CLOSE_ABOVE_1000)
#undef WS6455__CLOSE_ABOVE_1000

/* Many errors share a close code, so the generated cases repeat their
 * bodies: that is the table, not a copy-paste slip (hence the NOLINT). */
int ws6455_error_close_code(int err)
{
    unsigned above_1000; /* a byte: see the assertions above */
    switch (err) {
#define WS6455__ERROR_CLOSE(name, num, close, msg)                                                 \
    case num:                                                                                      \
        above_1000 = (close) ? (close) - 1000u : 0u;                                               \
        break;
        WS6455_ERROR_LIST(WS6455__ERROR_CLOSE) /* NOLINT(bugprone-branch-clone) */
#undef WS6455__ERROR_CLOSE
    default:
        above_1000 = 0;
        break;
    }
    return above_1000 ? 1000 + (int)above_1000 : 0;
}
