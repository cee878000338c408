/* Whole server-role connections; see fuzz/conn_driver.h for the input
 * layout (configuration, script of splits and API calls, peer bytes). */
#include "conn_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_conn_run(data, size, WS6455_ROLE_SERVER);
}
