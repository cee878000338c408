#!/bin/sh
# Makes sure wslay's header and library are present for `make bench`. As
# root on Debian it installs libwslay-dev; otherwise it stops with a
# one-line message naming the package.
probe() { printf '#include <wslay/wslay.h>\nint main(void){return wslay_event_want_read(0) * 0;}\n' |
          ${CC:-cc} -D_DEFAULT_SOURCE -x c - -o /dev/null -lwslay >/dev/null 2>&1; }
probe && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "wslay missing: installing libwslay-dev with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq libwslay-dev >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libwslay-dev >/dev/null 2>&1; }
    probe && exit 0
fi
echo "error: wslay not found; install the package libwslay-dev (apt-get install libwslay-dev)" >&2
exit 1
