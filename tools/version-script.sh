#!/bin/sh
# Writes the linker version script of the shared library to stdout.
#   sh tools/version-script.sh SOVERSION [VERSION]
# Node names (docs/abi.md): a symbol first released under the current SONAME
# keeps the node it was released with, read from the newest ABI baseline in
# abi/ that has this SONAME; every other symbol goes in the node of this
# release, WS6455_MAJOR.MINOR. Each node inherits the one before it. While
# the version is 0.x every MINOR has its own SONAME, so all symbols sit in one
# node, WS6455_0.MINOR; from 1.0 on, 1.N adds a node WS6455_1.N for what it
# adds and the 1.0 symbols stay WS6455_1.0.
set -eu
soversion=$1
version=${2:-$(sed -n 's/^#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)}
node_now="WS6455_$(echo "$version" | cut -d. -f1-2)"
soname="libws6455.so.$soversion"

# Newest baseline with the same SONAME (abidw XML: <abi-corpus ... soname='...'>).
base=""
for f in $(ls abi/libws6455-*.abi 2>/dev/null | sort -V); do
    grep -q "soname='$soname'" "$f" && base=$f
done

tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
sh tools/symbols.sh | while read -r sym; do
    node=""
    if [ -n "$base" ]; then
        node=$(sed -n "s/.*<elf-symbol name='$sym' version='\([^']*\)'.*/\1/p" "$base" | head -n 1)
    fi
    echo "${node:-$node_now} $sym"
done > "$tmp"

prev=""
for node in $(cut -d' ' -f1 "$tmp" | sort -u -V); do
    echo "$node {"
    echo "  global:"
    awk -v n="$node" '$1 == n { print "    " $2 ";" }' "$tmp"
    if [ -z "$prev" ]; then
        echo "  local:"
        echo "    *;"
        echo "};"
    else
        echo "} $prev;"
    fi
    prev=$node
done
