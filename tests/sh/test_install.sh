#!/bin/sh
# make install into a temporary prefix (with DESTDIR): the files, their
# modes (the .so 0755), the SONAME link, a relocatable ws6455.pc (paths under
# ${prefix}, no Libs.private without zlib); a program built against it
# through pkg-config, static and shared, runs, also after the tree was moved
# (pkg-config --define-prefix); then make uninstall removes every file.
set -eu
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
prefix=/opt/ws6455-test
B=${B:-build}
make -s install B="$B" PREFIX=$prefix DESTDIR="$tmp" >/dev/null
root="$tmp$prefix"
version=$(sed -n 's/^#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)
soname=$(readelf -d "$B/libws6455.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
for f in include/ws6455.h lib/libws6455.a lib/libws6455.so "lib/$soname" "lib/libws6455.so.$version" \
         lib/pkgconfig/ws6455.pc lib/cmake/ws6455/ws6455-config.cmake lib/cmake/ws6455/ws6455-config-version.cmake; do
    [ -e "$root/$f" ] || { echo "not installed: $f"; exit 1; }
done
mode() { stat -c %a "$1"; }
[ "$(mode "$root/lib/libws6455.so.$version")" = 755 ] || { echo "libws6455.so.$version is $(mode "$root/lib/libws6455.so.$version"), not 755"; exit 1; }
for f in include/ws6455.h lib/libws6455.a lib/pkgconfig/ws6455.pc; do
    [ "$(mode "$root/$f")" = 644 ] || { echo "$f is $(mode "$root/$f"), not 644"; exit 1; }
done
[ "$(readlink "$root/lib/$soname")" = "libws6455.so.$version" ] || { echo "lib/$soname does not point at libws6455.so.$version"; exit 1; }
pc="$root/lib/pkgconfig/ws6455.pc"
grep -qx "prefix=$prefix" "$pc" && grep -qx 'libdir=${prefix}/lib' "$pc" && grep -qx 'includedir=${prefix}/include' "$pc" ||
    { echo "ws6455.pc is not relocatable:"; cat "$pc"; exit 1; }
# Libs.private: -lz exactly when the library was built with zlib (WITH_ZLIB=1).
if ar t "$B/libws6455.a" | grep -q '^deflate\.o$'; then
    grep -qx 'Libs.private: -lz' "$pc" || { echo "no Libs.private: -lz with WITH_ZLIB=1:"; cat "$pc"; exit 1; }
elif grep -q '^Libs.private' "$pc"; then
    echo "Libs.private without WITH_ZLIB=1:"; cat "$pc"; exit 1
fi

cat > "$tmp/prog.c" <<'C'
#include <ws6455.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    char out[29];
    if (ws6455_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out) != 0) return 1;
    if (strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0) return 2;
    if (!ws6455_utf8_valid((const unsigned char *)"h\xc3\xa9", 3)) return 3;
    printf("%s\n", ws6455_version());
    return 0;
}
C
build_and_run() { # $1: root of the installed tree; pkg-config from its .pc
    export PKG_CONFIG_LIBDIR="$1/lib/pkgconfig"
    [ "$(pkg-config --define-prefix --modversion ws6455)" = "$version" ]
    flags=$(pkg-config --define-prefix --cflags --libs ws6455)
    case "$flags" in *"$1/include"*"$1/lib"*|*"$1/lib"*"$1/include"*) ;; *) echo "pkg-config gave $flags for $1"; exit 1 ;; esac
    # shellcheck disable=SC2086
    ${CC:-cc} -std=c11 -Wall -Werror "$tmp/prog.c" $flags -o "$tmp/prog_shared"
    [ "$(LD_LIBRARY_PATH="$1/lib" "$tmp/prog_shared")" = "$version" ]
    # shellcheck disable=SC2046
    ${CC:-cc} -std=c11 -Wall -Werror "$tmp/prog.c" $(pkg-config --define-prefix --cflags ws6455) "$1/lib/libws6455.a" -o "$tmp/prog_static"
    [ "$("$tmp/prog_static")" = "$version" ]
}
build_and_run "$root"
mv "$root" "$tmp/moved"
build_and_run "$tmp/moved"
mv "$tmp/moved" "$root"

make -s uninstall B="$B" PREFIX=$prefix DESTDIR="$tmp" >/dev/null
left=$(find "$root" -type f -o -type l)
[ -z "$left" ] || { echo "left after uninstall: $left"; exit 1; }
echo "install ok"
