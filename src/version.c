/* The version of the library that is actually linked. */
#include "ws6455.h"

const char *ws6455_version(void)
{
    return WS6455_VERSION;
}
