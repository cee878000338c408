#!/bin/sh
# Makes sure cmocka's headers and library are present. As root on Debian it
# installs libcmocka-dev; otherwise it stops with a one-line message.
probe() { printf '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <cmocka.h>\nint main(void){return 0;}\n' |
          ${CC:-cc} -x c - -o /dev/null -lcmocka >/dev/null 2>&1; }
probe && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "cmocka missing: installing libcmocka-dev with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq libcmocka-dev >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libcmocka-dev >/dev/null 2>&1; }
    probe && exit 0
fi
echo "error: cmocka not found; install the package libcmocka-dev (apt-get install libcmocka-dev)" >&2
exit 1
