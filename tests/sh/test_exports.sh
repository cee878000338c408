#!/bin/sh
# The shared library exports only ws6455_ symbols, and every one of them is
# declared in the public header.
set -eu
so=build/libws6455.so
[ -f "$so" ] || { echo "missing $so"; exit 1; }
syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDRBW]$/ {print $3}' | sort)
[ -n "$syms" ] || { echo "no exported symbols"; exit 1; }
bad=$(echo "$syms" | grep -v '^ws6455_' || true)
[ -z "$bad" ] || { echo "non-ws6455_ exports: $bad"; exit 1; }
for s in $syms; do
    grep -q "WS6455_API.*\b$s(" include/ws6455.h ||
        grep -A2 "WS6455_API" include/ws6455.h | grep -q "\b$s(" ||
        { echo "exported but not declared in include/ws6455.h: $s"; exit 1; }
done
readelf -d "$so" | grep -q 'SONAME.*\[libws6455.so.0\]' || { echo "SONAME is not libws6455.so.0"; exit 1; }
echo "exports ok: $(echo "$syms" | wc -l) symbols"
