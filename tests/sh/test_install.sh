#!/bin/sh
# make install into a temporary prefix (with DESTDIR), build a program
# against it through pkg-config, static and shared, run both; then
# make uninstall removes every installed file.
set -eu
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
prefix=/opt/ws6455-test
make -s install PREFIX=$prefix DESTDIR="$tmp" >/dev/null
root="$tmp$prefix"
for f in include/ws6455.h lib/libws6455.a lib/libws6455.so lib/libws6455.so.0 lib/pkgconfig/ws6455.pc; do
    [ -e "$root/$f" ] || { echo "not installed: $f"; exit 1; }
done
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
export PKG_CONFIG_SYSROOT_DIR="$tmp" PKG_CONFIG_LIBDIR="$root/lib/pkgconfig"
[ "$(pkg-config --modversion ws6455)" = "$(sed -n 's/^#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)" ]
${CC:-cc} -std=c11 -Wall -Werror "$tmp/prog.c" $(pkg-config --cflags --libs ws6455) -o "$tmp/prog_shared"
LD_LIBRARY_PATH="$root/lib" "$tmp/prog_shared" >/dev/null
${CC:-cc} -std=c11 -Wall -Werror "$tmp/prog.c" $(pkg-config --cflags ws6455) "$root/lib/libws6455.a" -o "$tmp/prog_static"
"$tmp/prog_static" >/dev/null
make -s uninstall PREFIX=$prefix DESTDIR="$tmp" >/dev/null
left=$(find "$root" -type f -o -type l)
[ -z "$left" ] || { echo "left after uninstall: $left"; exit 1; }
echo "install ok"
