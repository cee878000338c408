/* Whole client-role connections (masks from a deterministic random
 * callback); see fuzz/conn_driver.h for the input layout. */
#include "conn_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_conn_run(data, size, WS6455_ROLE_CLIENT);
}
