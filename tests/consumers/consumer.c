/* A program built against an installed ws6455 by the CMake and Meson
 * consumer projects (tools/check-consumers.sh): prints the linked version. */
#include <ws6455.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    char accept[29];
    if (ws6455_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, accept) != WS6455_OK ||
        strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0)
        return 1;
    if (strcmp(ws6455_version(), WS6455_VERSION) != 0)
        return 2;
    printf("%s\n", ws6455_version());
    return 0;
}
