#!/bin/sh
# The shared library exports exactly the functions the public header
# declares with WS6455_API (tools/symbols.sh), each with a symbol version of
# the WS6455_ family, and nothing else; its SONAME follows docs/abi.md
# (libws6455.so.0.MINOR while the version is 0.x, libws6455.so.MAJOR after).
set -eu
B=${B:-build}
so=$B/libws6455.so
[ -f "$so" ] || { echo "missing $so"; exit 1; }
version=$(sed -n 's/^#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)
major=${version%%.*}
minor=$(echo "$version" | cut -d. -f2)
if [ "$major" = 0 ]; then want="libws6455.so.0.$minor"; else want="libws6455.so.$major"; fi
readelf -d "$so" | grep -q "SONAME.*\[$want\]" ||
    { echo "SONAME is not $want: $(readelf -d "$so" | grep SONAME)"; exit 1; }

# name@@VERSION for every defined dynamic symbol except the version nodes (A)
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDRBWV]$/ {print $3}' | sort)
[ -n "$exported" ] || { echo "no exported symbols"; exit 1; }
bad=$(echo "$exported" | grep -v '^ws6455_[A-Za-z0-9_]*@@WS6455_[0-9.]*$' || true)
[ -z "$bad" ] || { echo "exports outside ws6455_*@@WS6455_*: $bad"; exit 1; }
names=$(echo "$exported" | sed 's/@.*//' | sort)
declared=$(sh tools/symbols.sh | sort)
extra=$(echo "$names" | comm -23 - "$(printf '%s\n' "$declared" > "$B/.declared"; echo "$B/.declared")")
missing=$(echo "$names" | comm -13 - "$B/.declared")
rm -f "$B/.declared"
[ -z "$extra" ] || { echo "exported but not declared WS6455_API in include/ws6455.h: $extra"; exit 1; }
[ -z "$missing" ] || { echo "declared WS6455_API but not exported: $missing"; exit 1; }
echo "exports ok: $(echo "$names" | wc -l) symbols, SONAME $want"
