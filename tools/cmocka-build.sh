#!/bin/sh
# Builds cmocka, the unit-test framework, for one compiler into a private
# prefix: OUTDIR/include/cmocka.h and OUTDIR/lib/libcmocka.a. For test builds
# the distribution's libcmocka does not fit: -m32, cross compilers (s390x,
# aarch64, run under qemu-user) and musl. No foreign-architecture packages
# are installed (multiarch -dev installs can remove native packages).
#   sh tools/cmocka-build.sh OUTDIR CC [CFLAGS...]
# The source is Debian's cmocka source package, fetched once with
# `apt-get source --download-only` into build/cmocka-src/ through a private
# deb-src list derived from the system's Debian entries (the system's apt
# configuration is not changed). CMOCKA_SRC=DIR uses an unpacked source
# tree instead.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUTDIR CC [CFLAGS...]" >&2; exit 2; }
out=$1 cc=$2
shift 2
cd "$(dirname "$0")/.."
srcroot=build/cmocka-src

fetch() {
    command -v apt-get >/dev/null || { echo "cmocka-build: no apt-get to fetch cmocka's source; set CMOCKA_SRC" >&2; return 1; }
    apt=$PWD/$srcroot/apt
    rm -rf "$apt"
    mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
    # deb-src twins of the system's Debian entries (deb822 stanzas signed by
    # the Debian archive keyring, and one-line "deb" entries of Debian hosts).
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             /Types:[^\n]*deb/ && /debian-archive-keyring/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f"
    done >"$apt/sources.list.d/src.sources"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[ \t]*deb[ \t]\(.*debian.*\)/deb-src \1/p' "$f"
    done >"$apt/sources.list.d/src.list"
    opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt/sources.list.d
          -o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache -o APT::Sandbox::User=root"
    # shellcheck disable=SC2086
    apt-get $opts -qq update >"$apt/update.log" 2>&1 || true
    # shellcheck disable=SC2086
    (cd "$srcroot" && apt-get $opts -qq source --download-only cmocka >"$apt/source.log" 2>&1) || {
        cat "$apt/update.log" "$apt/source.log" >&2
        echo "cmocka-build: could not fetch Debian's cmocka source package (no deb-src reachable?)" >&2
        return 1
    }
    tarball=$(ls "$srcroot"/cmocka_*.orig.tar.* | head -n 1)
    tar -xf "$tarball" -C "$srcroot"
}

if [ -n "${CMOCKA_SRC:-}" ]; then
    src=$CMOCKA_SRC
else
    src=$(ls -d "$srcroot"/cmocka-*/ 2>/dev/null | head -n 1)
    if [ -z "$src" ]; then
        mkdir -p "$srcroot"
        fetch
        src=$(ls -d "$srcroot"/cmocka-*/ | head -n 1)
    fi
fi
[ -f "$src/src/cmocka.c" ] || { echo "cmocka-build: no src/cmocka.c in $src" >&2; exit 1; }

# What cmocka's CMake configure step would find on a Linux/POSIX libc,
# plus the target's byte order and pointer size.
macros=$($cc "$@" -dM -E -x c /dev/null)
ptr=$(echo "$macros" | sed -n 's/^#define __SIZEOF_POINTER__ //p')
be=""
echo "$macros" | grep -q '^#define __BYTE_ORDER__ __ORDER_BIG_ENDIAN__' && be="-DWORDS_BIGENDIAN=1"
mkdir -p "$out/include" "$out/lib" "$out/obj"
# shellcheck disable=SC2086
$cc "$@" -std=gnu99 -O1 -g -w -D_GNU_SOURCE -DHAVE_SIGNAL_H -DHAVE_STRINGS_H -DHAVE_INTTYPES_H \
    -DHAVE_STRUCT_TIMESPEC -DHAVE_CLOCK_GETTIME -DHAVE_CLOCK_REALTIME -DHAVE_SIGLONGJMP \
    -DHAVE_STRSIGNAL -DHAVE_GCC_THREAD_LOCAL_STORAGE -DWORDS_SIZEOF_VOID_P="${ptr:-8}" $be \
    -I"$src/include" -c "$src/src/cmocka.c" -o "$out/obj/cmocka.o"
rm -f "$out/lib/libcmocka.a"
ar=${AR:-$($cc -print-prog-name=ar)}
$ar rcs "$out/lib/libcmocka.a" "$out/obj/cmocka.o"
cp "$src"/include/cmocka.h "$src"/include/cmocka_pbc.h "$out/include/" 2>/dev/null || cp "$src/include/cmocka.h" "$out/include/"
echo "cmocka-build: $out/lib/libcmocka.a for $cc $* (from $(basename "$src"))"
