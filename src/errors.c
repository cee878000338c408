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

/* Many errors share a close code, so the generated cases repeat their
 * bodies: that is the table, not a copy-paste slip (hence the NOLINT). */
int ws6455_error_close_code(int err)
{
    switch (err) {
#define WS6455__ERROR_CLOSE(name, num, close, msg)                                                 \
    case num:                                                                                      \
        return close;
        WS6455_ERROR_LIST(WS6455__ERROR_CLOSE) /* NOLINT(bugprone-branch-clone) */
#undef WS6455__ERROR_CLOSE
    default:
        return 0;
    }
}
