#!/bin/sh
# Every library source compiles on its own as plain C11: -std=c11 -pedantic
# -Werror with no -D from outside, so each file must define the feature-test
# macros it needs (_POSIX_C_SOURCE, _DEFAULT_SOURCE) before any include.
# Runs each compiler given (default: gcc, clang, and musl-gcc and
# arm-none-eabi-gcc when installed: musl and newlib hide more behind the
# feature macros than glibc does). Works for whatever src/*.c exist. Each
# compiler also runs once more with the build switches of include/ws6455.h
# (WS6455_NO_CLIENT, WS6455_NO_OS_RANDOM, WS6455_NO_ERROR_STRINGS,
# WS6455_NO_REQUEST_HEADERS, WS6455_NO_RESPONSE_EXTRAS,
# WS6455_NO_CALLBACK_IO) at -Os,
# where files that the switches empty must still be valid C.
#   sh tools/check-c11.sh [CC...]
set -u
cd "$(dirname "$0")/.." || exit 2
if [ $# = 0 ]; then
    set -- gcc clang
    command -v musl-gcc >/dev/null 2>&1 && set -- "$@" musl-gcc
    command -v arm-none-eabi-gcc >/dev/null 2>&1 && set -- "$@" "arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb"
fi
SWITCHES="-DWS6455_NO_CLIENT -DWS6455_NO_OS_RANDOM -DWS6455_NO_ERROR_STRINGS -DWS6455_NO_REQUEST_HEADERS \
          -DWS6455_NO_RESPONSE_EXTRAS -DWS6455_NO_CALLBACK_IO -Os"
# One compile per (compiler, file), two at a time.
for cc in "$@"; do
    for f in src/*.c; do
        printf '%s\t%s\n' "$cc" "$f"
        printf '%s %s\t%s\n' "$cc" "$SWITCHES" "$f"
    done
done | xargs -P "${JOBS:-2}" -d '\n' -n 1 sh -c '
    cc=${1%%	*} f=${1#*	}
    # src/deflate.c needs zlib (WITH_ZLIB=1): only where the compiler has it.
    if [ "$f" = src/deflate.c ] && ! echo "#include <zlib.h>" | $cc -E -x c - >/dev/null 2>&1; then
        exit 0
    fi
    # shellcheck disable=SC2086 # cc may carry flags
    if ! out=$($cc -std=c11 -pedantic -Wall -Wextra -Werror -Iinclude -Isrc -c "$f" -o /dev/null 2>&1); then
        echo "check-c11: FAIL $cc -std=c11 -pedantic -Werror -c $f"
        echo "$out" | head -n 20
        exit 1
    fi' sh
status=$?
[ $status = 0 ] && echo "check-c11: $(ls src/*.c | wc -l) sources x $# compilers ($*), without and with the build switches, compile alone as -std=c11 -pedantic -Werror"
[ $status = 0 ]
