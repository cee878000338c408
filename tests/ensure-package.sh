#!/bin/sh
# Makes sure a C library's headers and library are present:
#   sh tests/ensure-package.sh NAME DEBIAN_PACKAGE LINK_FLAG PROBE_PROGRAM
# PROBE_PROGRAM is C source (\n escapes allowed) that must compile and
# link with LINK_FLAG. As
# root on Debian a missing package is installed with apt-get, unless
# NO_AUTO_INSTALL=1 (packagers); otherwise the script stops with a one-line
# message naming the package.
[ $# -eq 4 ] || { echo "usage: $0 NAME PACKAGE LINK_FLAG PROBE_PROGRAM" >&2; exit 2; }
name=$1 pkg=$2 flag=$3 program=$4
probe() { printf '%b\n' "$program" | ${CC:-cc} -x c - -o /dev/null "$flag" >/dev/null 2>&1; }
probe && exit 0
if [ "${NO_AUTO_INSTALL:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "$name missing: installing $pkg with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$pkg" >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$pkg" >/dev/null 2>&1; }
    probe && exit 0
fi
echo "error: $name not found; install the package $pkg (apt-get install $pkg)" >&2
exit 1
