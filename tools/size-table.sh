#!/bin/sh
# The code-size table of docs/embedded.md: for x86-64 (the host compiler)
# and a Cortex-M4 (arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb, newlib-nano),
# at -Os, for each build switch (include/ws6455.h), two figures in bytes of
# flash (.text + .rodata + .data):
#   library  every object of the static library (what `size -t` adds up);
#   server   what the smallest useful server (tools/size_server.c: sans-I/O
#            echo with handshake, ticks and close) takes from the library when
#            linked with -ffunction-sections -Wl,--gc-sections, read from the
#            linker map (tools/map_sizes.py), newlib and libc not counted.
# Usage: sh tools/size-table.sh [host|m4]... (default: both). B_SIZE is the
# build directory (default build/size). Writes the table to stdout, then
# checks the one-unit Cortex-M4 server against SIZE_BUDGET (default 12000).
set -eu
cd "$(dirname "$0")/.."
B=${B_SIZE:-build/size}
targets=${*:-host m4}
rm -rf "$B/dist" # the amalgamation of the sources as they are now

# name|switches|extra: flags for the library and the link (not for the
# server's own object, so the figure stays the library's alone), or
# "amalgamation": the library is dist/ws6455.c compiled as one object, or
# "one unit": dist/ws6455.c compiled into the server's own translation unit
# with WS6455_API defined as static, so the compiler sees the whole program.
# The library's bytes cannot be told apart from the server's there (its
# calls are inlined into main): that row counts the whole unit, server
# included, so it overstates the library's share.
three="-DWS6455_NO_CLIENT -DWS6455_NO_OS_RANDOM -DWS6455_NO_ERROR_STRINGS"
four="$three -DWS6455_NO_REQUEST_HEADERS"
five="$four -DWS6455_NO_RESPONSE_EXTRAS"
six="$five -DWS6455_NO_CALLBACK_IO"
configs="full|
NO_ERROR_STRINGS|-DWS6455_NO_ERROR_STRINGS
NO_OS_RANDOM|-DWS6455_NO_OS_RANDOM
NO_CLIENT|-DWS6455_NO_CLIENT
NO_REQUEST_HEADERS|-DWS6455_NO_REQUEST_HEADERS
NO_RESPONSE_EXTRAS|-DWS6455_NO_RESPONSE_EXTRAS
NO_CALLBACK_IO|-DWS6455_NO_CALLBACK_IO
first three|$three
first four|$four
first five|$five
all six|$six
all six, amalgamation|$six|amalgamation
all six, -flto|$six|-flto
all six, one unit|$six|one unit"

measure() { # measure TARGET NAME SWITCHES EXTRA -> "library server"
    target=$1 name=$2 switches=$3 extra=$4
    dir="$B/$target-$(echo "$name" | tr -c 'A-Za-z0-9_\n-' '_')"
    case $target in
    host) cc=${CC:-cc}; arch="-Os"; libs=""; size=size; size_ar=ar ;;
    m4) cc=arm-none-eabi-gcc; arch="-mcpu=cortex-m4 -mthumb -Os"
        libs="--specs=nano.specs --specs=nosys.specs"; size=arm-none-eabi-size; size_ar=arm-none-eabi-ar ;;
    esac
    flags="$arch -ffunction-sections -fdata-sections"
    # With -flto the archive holds GCC's IR, which gcc-ar indexes.
    ar=""
    case $extra in *-flto*) case $cc in *-gcc) ar="AR=${cc%gcc}gcc-ar" ;; *) ar="AR=gcc-ar" ;; esac ;; esac
    rm -rf "$dir" # make does not track CPPFLAGS or CFLAGS changes
    if [ "$extra" = "one unit" ]; then
        mkdir -p "$dir"
        [ -f "$B/dist/ws6455.c" ] || WITH_ZLIB= sh tools/amalgamate.sh "$B/dist" >/dev/null
        # shellcheck disable=SC2086 # flag lists
        $cc $flags $switches -std=c11 -Wall -Werror -DWS6455_API=static -I"$B/dist" \
            -include "$B/dist/ws6455.c" -c tools/size_server.c -o "$dir/server.o"
        # shellcheck disable=SC2086 # flag lists
        $cc $flags "$dir/server.o" $libs -Wl,--gc-sections -Wl,-Map="$dir/server.map" -o "$dir/server.elf"
        echo "- $(python3 tools/map_sizes.py "$dir/server.map" --total --object server.o)"
        return
    fi
    if [ "$extra" = amalgamation ]; then
        mkdir -p "$dir"
        [ -f "$B/dist/ws6455.c" ] || WITH_ZLIB= sh tools/amalgamate.sh "$B/dist" >/dev/null
        # shellcheck disable=SC2086 # flag lists
        $cc $flags $switches -std=c11 -Wall -Werror -I"$B/dist" -c "$B/dist/ws6455.c" -o "$dir/ws6455.o"
        $size_ar rcs "$dir/libws6455.a" "$dir/ws6455.o"
        extra=""
    else
        # shellcheck disable=SC2086 # $ar: one assignment or none
        ${MAKE:-make} --no-print-directory -s B="$dir" CC="$cc" $ar CFLAGS="$flags $extra" \
            CPPFLAGS="$switches" WITH_ZLIB= SHARED=0 static >/dev/null
    fi
    case $extra in
    *-flto*) library=- ;; # IR objects: only the link knows their size
    *) library=$($size -t "$dir/libws6455.a" | awk '/\(TOTALS\)/ {print $1 + $2}') ;;
    esac
    # The server's own object is compiled without $extra: with -flto the
    # link-time objects (*.ltrans.o) then hold the library's code alone.
    # shellcheck disable=SC2086 # flag lists
    $cc $flags -std=c11 -Wall -Werror -Iinclude -c tools/size_server.c -o "$dir/size_server.o"
    # shellcheck disable=SC2086 # flag lists
    $cc $flags $extra "$dir/size_server.o" "$dir/libws6455.a" $libs \
        -Wl,--gc-sections -Wl,-Map="$dir/server.map" -o "$dir/server.elf"
    server=$(python3 tools/map_sizes.py "$dir/server.map" --total)
    echo "$library $server"
}

[ -z "${targets##*m4*}" ] && sh tools/ensure-debs.sh gcc-arm-none-eabi libnewlib-arm-none-eabi

printf '| switches | x86-64 library | x86-64 server | Cortex-M4 library | Cortex-M4 server |\n'
printf '|---|---:|---:|---:|---:|\n'
mkdir -p "$B"
rows="$B/rows"
: >"$rows"
echo "$configs" | while IFS='|' read -r name switches extra; do
    host="- -" m4="- -"
    [ -z "${targets##*host*}" ] && host=$(measure host "$name" "$switches" "$extra")
    [ -z "${targets##*m4*}" ] && m4=$(measure m4 "$name" "$switches" "$extra")
    # shellcheck disable=SC2086 # two numbers each
    printf '| %s | %s | %s | %s | %s |\n' "$name" $host $m4 | tee -a "$rows"
done

# The target of docs/embedded.md: the Cortex-M4 server with all six
# switches, built as one unit, within 12 KB (12,000 bytes) in all. A change
# that breaks it fails here, so that the docs' claim stays true.
budget=${SIZE_BUDGET:-12000}
if [ -z "${targets##*m4*}" ]; then
    one_unit=$(awk -F'|' '$2 ~ /all six, one unit/ { gsub(/ /, "", $6); print $6 }' "$rows")
    if [ -z "$one_unit" ] || [ "$one_unit" -gt "$budget" ]; then
        echo "size-table: the Cortex-M4 one-unit server is ${one_unit:-unmeasured} bytes, over the budget of $budget (docs/embedded.md)" >&2
        exit 1
    fi
    echo "size-table: the Cortex-M4 one-unit server, $one_unit bytes, is within the budget of $budget"
fi
