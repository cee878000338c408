#!/bin/sh
# Builds small projects against an installed ws6455, the way users consume it:
#  - CMake: find_package(ws6455 VERSION CONFIG) from a DESTDIR install that
#    was then moved elsewhere (the package is relocatable): ws6455::ws6455
#    (shared by default; static with -DWS6455_USE_STATIC_LIBS=ON),
#    ws6455::ws6455_static and ws6455::ws6455_shared; each program runs and
#    links the library it should (checked with readelf); a request for the
#    next 0.MINOR is refused (0.x minors are incompatible, docs/abi.md);
#  - Meson: dependency('ws6455') through pkg-config, shared and static, from
#    a PREFIX install; `meson test` runs both.
# Needs cmake, meson, ninja-build, pkg-config.
set -eu
cd "$(dirname "$0")/.."
for t in cmake meson ninja pkg-config; do
    command -v $t >/dev/null || { echo "check-consumers: $t missing (apt-get install cmake meson ninja-build pkg-config)"; exit 2; }
done
tmp=$(mktemp -d /tmp/ws6455-consumers.XXXXXX); trap 'rm -rf "$tmp"' EXIT
B=${B:-build}
version=$(sed -n 's/^#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)
major=${version%%.*}
minor=$(echo "$version" | cut -d. -f2)
soname=libws6455.so.$([ "$major" = 0 ] && echo "0.$minor" || echo "$major")
fail() { echo "check-consumers: FAIL: $*"; exit 1; }
needed() { readelf -d "$1" | grep -q "NEEDED.*\[$soname\]"; }

# ---- CMake, from a moved DESTDIR install
make -s B="$B" install PREFIX=/opt/ws6455 DESTDIR="$tmp/stage" >/dev/null
mv "$tmp/stage/opt/ws6455" "$tmp/moved"
prefix="$tmp/moved"
cmake_build() { # DIR EXTRA-ARGS...
    d=$1; shift
    cmake -S tests/consumers/cmake -B "$d" -DCMAKE_PREFIX_PATH="$prefix" -DWS6455_WANT="$version" "$@" \
        >"$d.log" 2>&1 && cmake --build "$d" >>"$d.log" 2>&1 || { cat "$d.log"; return 1; }
}
cmake_build "$tmp/cmake" || fail "CMake project did not build"
for p in consumer_default consumer_shared consumer_static; do
    [ "$(LD_LIBRARY_PATH="$prefix/lib" "$tmp/cmake/$p")" = "$version" ] || fail "CMake $p did not print $version"
done
needed "$tmp/cmake/consumer_default" || fail "ws6455::ws6455 did not link $soname"
needed "$tmp/cmake/consumer_shared" || fail "ws6455::ws6455_shared did not link $soname"
needed "$tmp/cmake/consumer_static" && fail "ws6455::ws6455_static linked $soname"
cmake_build "$tmp/cmake-static" -DWS6455_USE_STATIC_LIBS=ON || fail "CMake project with WS6455_USE_STATIC_LIBS did not build"
needed "$tmp/cmake-static/consumer_default" && fail "ws6455::ws6455 with WS6455_USE_STATIC_LIBS=ON linked $soname"
"$tmp/cmake-static/consumer_default" >/dev/null || fail "static consumer_default did not run"
if [ "$major" = 0 ]; then next="0.$((minor + 1))"; else next="$((major + 1)).0"; fi
cmake -S tests/consumers/cmake -B "$tmp/cmake-next" -DCMAKE_PREFIX_PATH="$prefix" -DWS6455_WANT="$next" \
    >"$tmp/next.log" 2>&1 && fail "find_package(ws6455 $next) accepted $version"
grep -q "ws6455-config.cmake, version: $version" "$tmp/next.log" ||
    fail "find_package(ws6455 $next) failed for another reason: $(cat "$tmp/next.log")"
echo "check-consumers: CMake ok (relocated install; ws6455::ws6455 shared by default, static on request; $next refused)"

# ---- Meson through pkg-config, from a PREFIX install
make -s B="$B" install PREFIX="$tmp/prefix" >/dev/null
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" meson setup "$tmp/meson" tests/consumers/meson -Dwant="$version" \
    >"$tmp/meson.log" 2>&1 || { cat "$tmp/meson.log"; fail "meson setup"; }
LD_LIBRARY_PATH="$tmp/prefix/lib" meson test -C "$tmp/meson" >>"$tmp/meson.log" 2>&1 || { cat "$tmp/meson.log"; fail "meson test"; }
needed "$tmp/meson/consumer_shared" || fail "Meson dependency('ws6455') did not link $soname"
needed "$tmp/meson/consumer_static" && fail "Meson dependency('ws6455', static: true) linked $soname"
echo "check-consumers: Meson ok (dependency('ws6455') shared and static: true, meson test passed)"
